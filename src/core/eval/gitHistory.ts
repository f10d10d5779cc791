import { constants as fsc, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { SiftError } from '../util/errors';
import { type TreeEntry, git, listTree, readObjects } from '../util/git';
import { type FileRole, fileRole } from '../query/roles';
import type { EvalQuestion, GoldFile } from './questions';

/**
 * Questions mined from a repository's history: a commit's subject and body is the question, the
 * files it modified or deleted (as they were at its parent) are the gold, with the changed line
 * ranges (old side of the diff) as the gold lines and the functions named in the hunk headers as
 * gold symbols. The question is evaluated at the parent commit: "where would I make this change?".
 */
export interface MineOptions {
  /** Questions to return at most. */
  max: number;
  /** Revision to walk back from (default HEAD). */
  rev?: string;
  /** Commits touching more files than this are skipped (default 8). */
  maxFiles?: number;
  /** Commits to look at, at most (default 40 × max). */
  scanLimit?: number;
  /** Only count files with these extensions as gold (default: any text file the diff shows as text). */
  extensions?: readonly string[];
  /**
   * Only count files of these roles (src/core/query/roles.ts) as gold — `['source']` for
   * issue-style questions, whose answer is the implementation to change (a commit's tests, docs and
   * changelog are not what a bug report asks for). Default: every role.
   */
  goldRoles?: readonly FileRole[];
}

export type SkipReason = 'merge' | 'revert' | 'rename' | 'formatting' | 'version-bump' | 'too-many-files' | 'no-gold' | 'short-message' | 'root-commit';

export interface MinedQuestion extends EvalQuestion {
  commit: string;
  parent: string;
  /** The mined commit (the question is about its parent, `commit`). */
  source: string;
}

export interface MineResult {
  questions: MinedQuestion[];
  skipped: Record<SkipReason, number>;
  scanned: number;
}

const SEP = '\u001e';
const FIELD = '\u001f';

const REVERT = /^revert\b|this reverts commit [0-9a-f]{7,}/i;
const VERSION_BUMP = /^(bump|release|prepare (for )?release|version|update version|set version|changelog|tag)\b|\bbump(ed|s)? (the )?(version|dependenc|deps|[\w@/.-]+ from )|\brelease (v?\d+\.\d+|notes)|^v?\d+\.\d+(\.\d+)?([-.\w]*)?$|\[(release|bump)\]|^(chore|build)\((deps|release)\)/i;
/** "start version 8.0", "update dev dependencies", "Upgrade requirements": release and dependency housekeeping. */
const DEPENDENCY_UPDATE = /^(start|begin|open) (version|v?\d+\.\d)|^(update|upgrade|pin|unpin|refresh)( (the|all|dev|development|test|build|ci|python|js|npm|pip))* (dependencies|deps|requirements|lock ?files?|lockfile)\b/i;
/**
 * A subject without the gitmoji or emoji it opens with ("🔖 Release version 0.7.0", ":bookmark: Release …"):
 * the filters read the words.
 */
export function withoutLeadingEmoji(subject: string): string {
  return subject.trim().replace(/^(?:(?::[a-z0-9_+-]+:|\p{Extended_Pictographic}|[\u{1F1E6}-\u{1F1FF}]|\uFE0F|\u200D)\s*)+/u, '');
}
const FORMATTING = /^(style|format|reformat|lint|black|isort|prettier|ruff|flake8|autopep8|pre-commit|whitespace|typo|fix typos?|trailing whitespace)\b|\btypos?\b|\b(run|apply|applied|ran) (black|isort|prettier|ruff|pre-commit|autopep8|clang-format|gofmt|rustfmt)\b|\b(reformat|formatting only|code style|fix (the )?formatting|whitespace only)\b/i;
const TRAILER = /^(signed-off-by|co-authored-by|reviewed-by|acked-by|cc|change-id|reported-by|tested-by|suggested-by|helped-by):/i;

/** The question text of a commit message: subject + body without trailers, PR numbers and long noise. */
export function commitQuestion(subject: string, body: string): string {
  const clean = (s: string) => s.replace(/\s*\(#\d+\)\s*$/, '').replace(/\s+/g, ' ').trim();
  const bodyLines = body
    .split('\n')
    .filter((l) => !TRAILER.test(l.trim()))
    .filter((l) => !/^\s*(\* )?(closes|fixes|fixed|resolves|refs?|see)\s+#?\d+\s*\.?$/i.test(l.trim()));
  const text = [clean(subject), clean(bodyLines.join(' '))].filter(Boolean).join('. ');
  return text.length > 1200 ? `${text.slice(0, 1200)}…` : text;
}

/** Which filter a commit falls under (undefined: keep). Exposed for tests. */
export function classifyCommit(c: { parents: string[]; subject: string; body: string; status: { code: string; path: string }[] }, maxFiles: number): SkipReason | undefined {
  if (c.parents.length === 0) return 'root-commit';
  if (c.parents.length > 1) return 'merge';
  if (REVERT.test(c.subject) || REVERT.test(c.body)) return 'revert';
  const subject = withoutLeadingEmoji(c.subject);
  if (VERSION_BUMP.test(subject) || DEPENDENCY_UPDATE.test(subject)) return 'version-bump';
  if (FORMATTING.test(subject)) return 'formatting';
  const renames = c.status.filter((s) => s.code.startsWith('R') || s.code.startsWith('C')).length;
  if (renames >= 3 || (renames > 0 && renames * 2 >= c.status.length)) return 'rename';
  if (c.status.length > maxFiles) return 'too-many-files';
  const words = c.subject.trim().split(/\s+/).filter(Boolean);
  if (words.length < 3) return 'short-message';
  return undefined;
}

/** Old-side line ranges of a unified diff with zero context, by file, plus hunk-header symbols. */
export function parseOldRanges(diff: string): Map<string, { ranges: [number, number][]; symbols: Set<string> }> {
  const out = new Map<string, { ranges: [number, number][]; symbols: Set<string> }>();
  let current: { ranges: [number, number][]; symbols: Set<string> } | undefined;
  for (const line of diff.split('\n')) {
    if (line.startsWith('--- ')) {
      const p = line.slice(4).trim();
      if (p === '/dev/null') current = undefined;
      else {
        const rel = p.replace(/^"?a\//, '').replace(/"$/, '');
        current = out.get(rel) ?? { ranges: [], symbols: new Set() };
        out.set(rel, current);
      }
      continue;
    }
    const m = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@ ?(.*)$/.exec(line);
    if (m && current) {
      const start = Number(m[1]);
      const count = m[2] === undefined ? 1 : Number(m[2]);
      // count 0: a pure insertion after line `start` — the neighbouring lines are the place to change.
      current.ranges.push(count === 0 ? [Math.max(1, start), start + 1] : [start, start + count - 1]);
      const sym = /(?:def|class|function|func|fn|interface|struct|impl|public|private|protected|static)\s+([A-Za-z_$][\w$]*)/.exec(m[3] ?? '');
      if (sym) current.symbols.add(sym[1]!);
    }
  }
  return out;
}

/** Mines up to `max` questions from the history of `repo` (a work tree or bare repository). */
export async function mineGitHistory(repo: string, opts: MineOptions): Promise<MineResult> {
  const maxFiles = opts.maxFiles ?? 8;
  const scanLimit = opts.scanLimit ?? Math.max(200, opts.max * 40);
  const skipped: Record<SkipReason, number> = { merge: 0, revert: 0, rename: 0, formatting: 0, 'version-bump': 0, 'too-many-files': 0, 'no-gold': 0, 'short-message': 0, 'root-commit': 0 };
  // rev-list + diff-tree (plumbing: no textconv, no external diff, no signature display) give what
  // `git log --first-parent -M --name-status` gave; merges get no file list (they are skipped anyway).
  const commits = await git(repo, ['rev-list', `-n${scanLimit}`, '--first-parent', '--end-of-options', opts.rev ?? 'HEAD', '--']);
  const log = await git(repo, ['diff-tree', '--stdin', '--always', '--root', '-r', '-M', '--name-status', `--format=${SEP}%H${FIELD}%P${FIELD}%s${FIELD}%b${FIELD}`], { input: commits });
  const questions: MinedQuestion[] = [];
  let scanned = 0;
  for (const record of log.split(SEP).slice(1)) {
    if (questions.length >= opts.max) break;
    scanned++;
    const [hash, parentsText, subject, body, statusText] = record.split(FIELD) as [string, string, string, string, string];
    const parents = parentsText.trim() ? parentsText.trim().split(' ') : [];
    const status = (statusText ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => {
        const parts = l.split('\t');
        return { code: parts[0]!, path: parts[1]! };
      });
    const reason = classifyCommit({ parents, subject, body, status }, maxFiles);
    if (reason) {
      skipped[reason]++;
      continue;
    }
    const parent = parents[0]!;
    const candidates = status.filter(
      (s) => (s.code === 'M' || s.code === 'D') && (!opts.extensions || opts.extensions.some((e) => s.path.endsWith(e))) && (!opts.goldRoles || opts.goldRoles.includes(fileRole(s.path))),
    );
    if (!candidates.length) {
      skipped['no-gold']++;
      continue;
    }
    // Formatting-only: nothing left once whitespace changes are ignored.
    const diff = await git(repo, ['diff-tree', '-p', '-U0', '-w', '--ignore-blank-lines', '--no-color', parent, hash, '--', ...candidates.map((c) => c.path)]);
    if (!diff.trim()) {
      skipped.formatting++;
      continue;
    }
    const ranges = parseOldRanges(diff);
    const gold: GoldFile[] = [];
    for (const c of candidates) {
      const r = ranges.get(c.path);
      if (!r) continue; // binary, or whitespace-only in this file
      gold.push({ path: c.path, lineRanges: r.ranges, ...(r.symbols.size ? { symbols: [...r.symbols] } : {}) });
    }
    if (!gold.length) {
      skipped['no-gold']++;
      continue;
    }
    questions.push({ id: `git-${hash.slice(0, 10)}`, question: commitQuestion(subject, body), gold, commit: parent, parent, source: hash });
  }
  return { questions, skipped, scanned };
}


/** Marks a folder as an evaluation work tree Sift made (and may empty). Also stops discovery's walk up to enclosing repositories. */
const MARKER_DIR = '.git';
const MARKER_FILE = 'sift-eval-worktree';

/** Why an entry of a commit's tree is not written (undefined: written). */
export function unsafeTreePath(rel: string): string | undefined {
  if (!rel || rel.startsWith('/') || rel.includes('\0')) return 'absolute or empty path';
  for (const part of rel.split('/')) {
    if (part === '' || part === '.' || part === '..') return `"${part}" component`;
    // `.git` in any case, and the names Windows/macOS file systems fold onto it (".git.", ".git ", "git~1").
    if (/^\.git[. ]*$/i.test(part) || /^git~\d+$/i.test(part)) return '.git component';
    if (process.platform === 'win32' && /[\\:]/.test(part)) return 'backslash or colon';
  }
  return undefined;
}

interface Written {
  oid: string;
}

/**
 * The files of one commit at a time, in a folder Sift owns, to evaluate at each parent commit.
 * Files are read from the object database (`ls-tree` + `cat-file --batch`) and written by Sift:
 * git's checkout machinery (filters, attributes, hooks, fsmonitor, submodules) never runs on the
 * untrusted repository. Only regular files are written, with plain 0644 permissions; symlinks and
 * gitlinks (submodules) are skipped, and so is any path with `..`, an absolute path or a `.git`
 * component. Moving from commit to commit rewrites only the files whose contents changed, so the
 * incremental indexer re-reads only those (and reuses the vectors of unchanged chunks).
 */
export class EvalWorktree {
  private current = new Map<string, Written>();
  /** Entries of the last commit that were not written, by reason (symlink, gitlink, unsafe path). */
  skipped: Record<string, number> = {};

  private constructor(
    private readonly repo: string,
    readonly dir: string,
    private readonly created: boolean,
  ) {}

  static async create(repo: string, dir: string, commit: string): Promise<EvalWorktree> {
    const created = await prepareDir(repo, dir);
    const tree = new EvalWorktree(repo, dir, created);
    await tree.checkout(commit);
    return tree;
  }

  async checkout(commit: string): Promise<void> {
    const wanted = new Map<string, TreeEntry>();
    const skipped: Record<string, number> = {};
    for (const e of await listTree(this.repo, commit)) {
      const reason = e.mode === '120000' ? 'symlink' : e.mode === '160000' || e.type === 'commit' ? 'submodule' : e.type !== 'blob' ? 'not a file' : unsafeTreePath(e.path);
      if (reason) skipped[reason] = (skipped[reason] ?? 0) + 1;
      else wanted.set(e.path, e);
    }
    this.skipped = skipped;
    // Remove what the new commit does not have (deepest first, then empty folders), then write
    // what is new or changed: a path that was a file and is now a folder (or back) is free by then.
    const removed = [...this.current.keys()].filter((p) => !wanted.has(p));
    for (const rel of removed) {
      await fsp.rm(path.join(this.dir, rel), { force: true });
      this.current.delete(rel);
    }
    await this.pruneEmptyDirs(removed);
    const changed = [...wanted.values()].filter((e) => this.current.get(e.path)?.oid !== e.oid);
    const made = new Set<string>();
    await readObjects(this.repo, changed.map((e) => e.oid), async (i, data) => {
      const e = changed[i]!;
      if (!data) throw new SiftError(`git cat-file: object ${e.oid} (${e.path}) is missing from the repository at commit ${commit.slice(0, 10)}`);
      await this.writeFile(e.path, data, made);
      this.current.set(e.path, { oid: e.oid });
    });
  }

  async remove(): Promise<void> {
    if (this.created) await fsp.rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
    else await emptyDir(this.dir).catch(() => undefined);
  }

  private async writeFile(rel: string, data: Buffer, made: Set<string>): Promise<void> {
    const abs = path.join(this.dir, rel);
    const parent = path.dirname(rel);
    if (parent !== '.' && !made.has(parent)) {
      await this.ensureDir(parent);
      made.add(parent);
    }
    // O_NOFOLLOW: never write through a symlink, even one that appeared after we made the folder.
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(abs, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW, 0o644);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EISDIR' && code !== 'ENAMETOOLONG' && code !== 'EILSEQ' && code !== 'EINVAL') throw err;
      this.skipped[`cannot be written (${code})`] = (this.skipped[`cannot be written (${code})`] ?? 0) + 1;
      return;
    }
    try {
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
  }

  /** Makes `rel` (a folder inside the work tree) one component at a time, refusing anything but real folders. */
  private async ensureDir(rel: string): Promise<void> {
    let cur = this.dir;
    for (const part of rel.split('/')) {
      cur = path.join(cur, part);
      const st = await fsp.lstat(cur).catch(() => undefined);
      if (st?.isDirectory()) continue;
      if (st) await fsp.rm(cur, { force: true }); // a file or symlink Sift did not leave there for this commit
      await fsp.mkdir(cur);
    }
  }

  private async pruneEmptyDirs(removed: string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const rel of removed) for (let d = path.dirname(rel); d !== '.'; d = path.dirname(d)) dirs.add(d);
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) await fsp.rmdir(path.join(this.dir, d)).catch(() => undefined);
  }
}

/** Creates `dir`, or empties it when Sift made it before; refuses a folder with anything else in it. True when created now. */
async function prepareDir(repo: string, dir: string): Promise<boolean> {
  const entries = await fsp.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new SiftError(`The evaluation work tree ${dir} cannot be used: ${err.message}`, 'io', { cause: err });
  });
  let created = false;
  if (!entries) {
    // Owner-only, like the index: the work tree holds the repository's source.
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    created = true;
  } else if (entries.length) {
    if (!(await isOurs(repo, dir))) throw new SiftError(`The evaluation work tree ${dir} is not empty and was not made by sift eval: give an empty or new folder (--worktree).`, 'bad-input');
    await emptyDir(dir);
  }
  await fsp.mkdir(path.join(dir, MARKER_DIR), { recursive: true });
  await fsp.writeFile(path.join(dir, MARKER_DIR, MARKER_FILE), 'A work tree of sift eval --from-git-history (not a git repository). Sift empties it on each run.\n');
  return created;
}

/** Sift's marker, or a linked git worktree of `repo` left by an earlier version of sift eval. */
async function isOurs(repo: string, dir: string): Promise<boolean> {
  const dotGit = path.join(dir, MARKER_DIR);
  const st = await fsp.lstat(dotGit).catch(() => undefined);
  if (st?.isDirectory()) return Boolean(await fsp.lstat(path.join(dotGit, MARKER_FILE)).catch(() => undefined));
  if (!st?.isFile()) return false;
  const m = /^gitdir:\s*(.+?)\s*$/m.exec(await fsp.readFile(dotGit, 'utf8').catch(() => ''));
  if (!m) return false;
  const common = path.resolve(repo, (await git(repo, ['rev-parse', '--git-common-dir']).catch(() => '.git')).trim());
  return path.resolve(dir, m[1]!).startsWith(path.join(common, 'worktrees') + path.sep);
}

async function emptyDir(dir: string): Promise<void> {
  for (const name of await fsp.readdir(dir)) await fsp.rm(path.join(dir, name), { recursive: true, force: true });
}

/** Commit time (seconds) of each commit, for a stable chronological order. */
export async function commitTimes(repo: string, commits: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!commits.length) return out;
  const text = await git(repo, ['rev-list', '--no-walk=unsorted', '--format=%H %ct', ...commits, '--']);
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{40,64}) (\d+)$/.exec(line.trim());
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/**
 * Splits a questions file's questions by where to ask them: `here` (no "commit", or the checkout's
 * own HEAD: SWE-QA's questions name the commit the folder is already at) and the rest by their
 * commit, resolved to a full id. A folder that is not the top of a git repository (a `git archive`
 * export) answers every question as it is, with a notice when some name a commit. A commit the repository
 * does not have is an error naming it and the questions that carry it, before anything is indexed.
 */
export async function groupQuestionsByCommit(root: string, questions: EvalQuestion[], notice: (m: string) => void): Promise<{ here: EvalQuestion[]; byCommit: Map<string, EvalQuestion[]> }> {
  const byCommit = new Map<string, EvalQuestion[]>();
  const named = [...new Set(questions.map((q) => q.commit).filter((c): c is string => Boolean(c)))];
  if (!named.length) return { here: questions, byCommit };
  const top = await git(root, ['rev-parse', '--show-toplevel']).then((t) => t.trim(), () => '');
  const real = await fsp.realpath(root).catch(() => root);
  if (!top || (await fsp.realpath(top).catch(() => top)) !== real) {
    notice(`${root} is not the top folder of a git repository: the ${named.length} commit(s) named in the questions file are not checked out; every question is asked at the folder as it is.`);
    return { here: questions, byCommit };
  }
  const head = await git(root, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']).then((t) => t.trim(), () => undefined);
  const resolved = new Map<string, string>();
  const unknown: string[] = [];
  for (const c of named) {
    const full = /^[0-9a-f]{4,64}$/i.test(c) ? await git(root, ['rev-parse', '--verify', '--quiet', `${c}^{commit}`]).then((t) => t.trim(), () => '') : '';
    if (full) resolved.set(c, full);
    else unknown.push(c);
  }
  if (unknown.length) {
    const ids = (c: string) => questions.filter((q) => q.commit === c).map((q) => q.id);
    const list = unknown.map((c) => `${c} (${ids(c).slice(0, 5).join(', ')}${ids(c).length > 5 ? ', …' : ''})`).join('; ');
    throw new SiftError(`${unknown.length} commit(s) named in the questions file are not in the repository at ${root}: ${list}. Fetch them (a shallow or single-branch clone lacks older commits) or fix the questions; nothing was evaluated.`, 'bad-input');
  }
  const here: EvalQuestion[] = [];
  for (const q of questions) {
    const full = q.commit ? resolved.get(q.commit)! : undefined;
    if (!full || full === head) here.push(q);
    else byCommit.set(full, [...(byCommit.get(full) ?? []), q]);
  }
  return { here, byCommit };
}
