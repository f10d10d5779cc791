import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SiftError } from '../util/errors';
import type { EvalQuestion, GoldFile } from './questions';

const run = promisify(execFile);

/**
 * The repository is untrusted input: a hostile .git/config could run commands through hooks,
 * fsmonitor, diff/textconv drivers or filters during checkout and diff. Switch them all off.
 */
const SAFE_GIT = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'diff.external=', '-c', 'core.pager=cat', '-c', 'protocol.allow=never'];
const SAFE_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_ATTR_NOSYSTEM: '1' };

async function git(repo: string, args: string[]): Promise<string> {
  // No textconv/external diff drivers, no filters on checkout (worktrees are read, never built).
  const hardened = args[0] === 'diff' || args[0] === 'log' || args[0] === 'show' ? [args[0], '--no-textconv', '--no-ext-diff', ...args.slice(1)] : args;
  try {
    const { stdout } = await run('git', [...SAFE_GIT, '-C', repo, ...hardened], { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8', env: SAFE_ENV });
    return stdout;
  } catch (err) {
    throw new SiftError(`git ${args[0]} failed in ${repo}: ${(err as Error).message.split('\n')[0]}`, 'general', { cause: err });
  }
}

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
  if (VERSION_BUMP.test(c.subject.trim())) return 'version-bump';
  if (FORMATTING.test(c.subject.trim())) return 'formatting';
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
  const log = await git(repo, ['log', `-n${scanLimit}`, '--first-parent', '-M', '--name-status', `--format=${SEP}%H${FIELD}%P${FIELD}%s${FIELD}%b${FIELD}`, opts.rev ?? 'HEAD', '--']);
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
    const candidates = status.filter((s) => (s.code === 'M' || s.code === 'D') && (!opts.extensions || opts.extensions.some((e) => s.path.endsWith(e))));
    if (!candidates.length) {
      skipped['no-gold']++;
      continue;
    }
    // Formatting-only: nothing left once whitespace changes are ignored.
    const diff = await git(repo, ['diff', '-U0', '-w', '--ignore-blank-lines', '--no-color', '--no-ext-diff', parent, hash, '--', ...candidates.map((c) => c.path)]);
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

/**
 * A detached work tree of `repo` used to evaluate at each parent commit. Checking out commit after
 * commit in one folder rewrites only changed files, so the incremental indexer re-reads only
 * those (and reuses the vectors of unchanged chunks).
 */
export class EvalWorktree {
  private constructor(
    private readonly repo: string,
    readonly dir: string,
  ) {}

  static async create(repo: string, dir: string, commit: string): Promise<EvalWorktree> {
    await git(repo, ['worktree', 'prune']);
    const existing = await git(repo, ['worktree', 'list', '--porcelain']);
    if (!existing.split('\n').some((l) => l === `worktree ${dir}`)) await git(repo, ['worktree', 'add', '--force', '--detach', dir, commit]);
    const tree = new EvalWorktree(repo, dir);
    await tree.checkout(commit);
    return tree;
  }

  async checkout(commit: string): Promise<void> {
    await git(this.dir, ['checkout', '--quiet', '--force', '--detach', commit]);
    await git(this.dir, ['clean', '-fdxq']);
  }

  async remove(): Promise<void> {
    await git(this.repo, ['worktree', 'remove', '--force', this.dir]).catch(() => undefined);
  }
}

/** Commit time (seconds) of each commit, for a stable chronological order. */
export async function commitTimes(repo: string, commits: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!commits.length) return out;
  const text = await git(repo, ['show', '-s', '--format=%H %ct', ...commits]);
  for (const line of text.split('\n')) {
    const [h, t] = line.trim().split(' ');
    if (h && t) out.set(h, Number(t));
  }
  return out;
}
