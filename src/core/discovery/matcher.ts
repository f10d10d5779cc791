import { close, constants as fsConstants, fstat, open, promises as fsp, read, type Stats } from 'node:fs';
import { promisify } from 'node:util';
import * as path from 'node:path';
import { SiftError } from '../util/errors';
import { readRegularFile, readRegularFileSync, UnsafeFileError } from '../util/fs';
import { hostFlavor, isInside, pathKey, relativeInside, type PathFlavor, windowsNameProblem } from '../util/pathFlavor';
import { sniffBinary, sniffMinified } from './content';
import {
  DEFAULT_BINARY_EXTENSIONS,
  DEFAULT_EXCLUDED_DIRS,
  DEFAULT_GENERATED_PATTERNS,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_LINE_LENGTH,
  DEFAULT_MAX_PROSE_LINE_LENGTH,
  DEFAULT_MINIFIED_PATTERNS,
  DEFAULT_SECRET_PATTERNS,
  GITIGNORE_FILE,
  MINIFIED_SNIFF_BYTES,
  PROSE_EXTENSIONS,
  SIFTIGNORE_FILE,
} from './defaults';
import { GlobError } from './glob';
import { GlobSet, RULE_LIMITS, RuleList } from './patterns';
import type { DiscoveredFile, DiscoveryEvent, DiscoveryOptions, MatchResult, SkippedFile, SkipReason } from './types';

/** The ignore files of one directory (absent when the file does not exist or cannot be read). */
interface DirRules {
  git?: RuleList;
  sift?: RuleList;
  /** Rules held (counted against `RULE_LIMITS.maxTotalRules`). */
  count: number;
}

/**
 * Folders deeper than this below the root are not walked (reported `too-large`). The walk is
 * iterative, so this bounds work and path lengths, not the stack.
 */
export const MAX_DIRECTORY_DEPTH = 64;
/** Root-relative paths longer than this (UTF-16 code units) are not indexed (reported `too-large`). */
export const MAX_PATH_CHARS = 1024;
/** Bytes read at most from a `.git` file (`gitdir: …`) or a `commondir` file. */
const MAX_GIT_POINTER_BYTES = 4096;

/** Ignore rules living above the root (`useParentIgnoreFiles`): paths are tested as `prefix + relPath`. */
interface OuterLayer {
  prefix: string;
  rules: RuleList;
  source: string;
}

/** Entry kinds as seen by `readdir`/`lstat` (symlinks are never followed by the walk). */
export type EntryKind = 'file' | 'directory' | 'symlink' | 'fifo' | 'socket' | 'character device' | 'block device' | 'unknown';

// O_NONBLOCK: opening a FIFO that replaced a file after readdir must not block.
// O_NOFOLLOW: a file that became a symlink after readdir must not be followed (out of the root).
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0) | (fsConstants.O_NOFOLLOW ?? 0);

const fdOpen = promisify(open);
const fdClose = promisify(close);
const fdStat = promisify(fstat);
function fdRead(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

const defaultIgnoreCase = process.platform === 'darwin' || process.platform === 'win32';

/**
 * The path rules of discovery for one root, built once and reusable: the walker uses it, and so can
 * a file watcher for single changed paths (`check` for path rules only, `inspect` for the full
 * verdict including file content).
 *
 * Rule order for a FILE (first hit reports the reason):
 *   default-excluded (only a `.git` file) → secret → ignored → excluded (exclude globs, then include
 *   globs) → generated → minified (name) → binary (extension) → [lstat] symlink handling /
 *   not-a-file → too-large → [first 64 KiB read] binary (content) → minified (content).
 * Everything up to too-large is decided without opening the file.
 * For a DIRECTORY: default-excluded → secret (`…/` patterns) → ignored → excluded (exclude globs, or
 * no include glob can match inside it). A skipped directory is reported once and not walked.
 *
 * Ignore semantics: ripgrep-like precedence between sources, git semantics within each:
 *   1. `extraIgnorePatterns` (root-relative);
 *   2. `.siftignore` files, deepest directory first;
 *   3. `.gitignore` files, deepest directory first, then (with `useParentIgnoreFiles`) those of the
 *      enclosing repository above the root, then the repository's `info/exclude`.
 * Within a source, the deepest file with a matching rule decides, and within a file the last
 * matching rule wins (`!x` re-includes). A path inside an ignored directory is ignored whatever its
 * own rules say: git cannot re-include a file whose parent directory is excluded, and neither can
 * Sift. A `.siftignore` rule (or an `extraIgnorePatterns` rule) with `!` can re-include a path that
 * a `.gitignore` ignores.
 *
 * Ignore files are cached per directory; call `invalidate()` when one changes.
 */
export class DiscoveryMatcher {
  /** Absolute root, as given (resolved). Reported `absPath`s start with it. */
  readonly root: string;
  /** The root with symlinks resolved: symlink targets are compared to it. */
  readonly realRoot: string;

  private readonly opts: {
    maxFileBytes: number;
    maxLineLength: number;
    maxProseLineLength: number;
    useGitignore: boolean;
    ignoreCase: boolean;
    isKnownFile?: (file: DiscoveredFile) => boolean;
    flavor: PathFlavor;
  };
  private readonly excludedDirs: Set<string>;
  private readonly binaryExtensions: Set<string>;
  private readonly proseExtensions = new Set(PROSE_EXTENSIONS);
  private readonly secretFiles: RuleList;
  private readonly secretDirs: RuleList;
  private readonly generated: RuleList;
  private readonly minified: RuleList;
  private readonly extraIgnore: RuleList;
  private readonly include: GlobSet;
  private readonly exclude: GlobSet;
  private readonly dirRules = new Map<string, DirRules>();
  private totalRules = 0;
  private outerLayers: OuterLayer[] = [];
  private infoExclude: { file: string; prefix: string; rules?: RuleList; loaded: boolean } | undefined;
  private readonly outerDirs: { dir: string; prefix: string }[];

  private constructor(
    root: string,
    realRoot: string,
    options: DiscoveryOptions,
    git: { infoExcludeFile?: string; infoExcludePrefix: string; outerDirs: { dir: string; prefix: string }[] },
  ) {
    this.root = root;
    this.realRoot = realRoot;
    const ignoreCase = options.ignoreCase ?? defaultIgnoreCase;
    this.opts = {
      maxFileBytes: limit(options.maxFileBytes, DEFAULT_MAX_FILE_BYTES),
      maxLineLength: limit(options.maxLineLength, DEFAULT_MAX_LINE_LENGTH),
      maxProseLineLength: limit(options.maxProseLineLength, DEFAULT_MAX_PROSE_LINE_LENGTH),
      useGitignore: options.useGitignore ?? true,
      ignoreCase,
      isKnownFile: options.isKnownFile,
      flavor: options.pathFlavor ?? hostFlavor(),
    };
    this.excludedDirs = new Set(options.defaultExcludedDirs ?? DEFAULT_EXCLUDED_DIRS);
    this.binaryExtensions = new Set((options.binaryExtensions ?? DEFAULT_BINARY_EXTENSIONS).map((e) => e.replace(/^\./, '').toLowerCase()));
    const secrets = [...DEFAULT_SECRET_PATTERNS, ...(options.extraSecretPatterns ?? [])];
    // Pattern lists from settings or callers: over a limit they are refused with a clear message
    // (a partial list could index what the user excluded).
    const list = (name: string, rules: readonly string[], ic: boolean) => {
      const r = new RuleList(rules, ic);
      if (r.overLimit) throw new SiftError(`${name}: ${r.overLimit}`, 'bad-input');
      return r;
    };
    const globs = (name: string, g: readonly string[]) => {
      try {
        return new GlobSet(g, ignoreCase);
      } catch (err) {
        if (err instanceof GlobError) throw new SiftError(`${name} globs: ${err.message}`, 'bad-input', { cause: err });
        throw err;
      }
    };
    this.secretFiles = list('secret patterns', secrets, true);
    this.secretDirs = list(
      'secret patterns',
      secrets.filter((p) => p.trimEnd().endsWith('/')),
      true,
    );
    this.generated = list('generated-file patterns', options.generatedPatterns ?? DEFAULT_GENERATED_PATTERNS, true);
    this.minified = list('minified-file patterns', options.minifiedPatterns ?? DEFAULT_MINIFIED_PATTERNS, true);
    this.extraIgnore = list('extra ignore patterns', options.extraIgnorePatterns ?? [], ignoreCase);
    this.include = globs('include', options.include ?? []);
    this.exclude = globs('exclude', options.exclude ?? []);
    this.outerDirs = this.opts.useGitignore ? git.outerDirs : [];
    if (this.opts.useGitignore && git.infoExcludeFile) {
      this.infoExclude = { file: git.infoExcludeFile, prefix: git.infoExcludePrefix, loaded: false };
    }
  }

  /**
   * Builds the matcher for `root`. Throws a `SiftError` (`bad-input`) when `root` is not a readable
   * directory — the only error discovery ever throws besides cancellation.
   */
  static async create(root: string, options: DiscoveryOptions = {}): Promise<DiscoveryMatcher> {
    const abs = path.resolve(root);
    let realRoot: string;
    try {
      realRoot = await fsp.realpath(abs);
      if (!(await fsp.stat(realRoot)).isDirectory()) throw new SiftError(`${root} is not a folder`, 'bad-input');
    } catch (err) {
      if (err instanceof SiftError) throw err;
      throw new SiftError(`${root} is not a readable folder (${errorCode(err)})`, 'bad-input', { cause: err });
    }
    const git = await locateGit(realRoot, options.useParentIgnoreFiles ?? false);
    const matcher = new DiscoveryMatcher(abs, realRoot, options, git);
    await matcher.loadOuterRules();
    return matcher;
  }

  /** Absolute path of a root-relative path. */
  absPath(relPath: string): string {
    return relPath ? path.join(this.root, ...relPath.split('/')) : this.root;
  }

  /**
   * Root-relative `/`-separated path of `p` (absolute, or relative to the root; `\` separators on Windows), or
   * `undefined` when it lies outside the root. The root itself is `''`.
   */
  relative(p: string): string | undefined {
    const abs = path.isAbsolute(p) ? p : path.join(this.root, p);
    // Host rules: drive letters, UNC and `\\?\` prefixes on Windows, case on macOS.
    return relativeInside(this.root, abs, hostFlavor()) ?? relativeInside(this.realRoot, abs, hostFlavor());
  }

  /** True for `.gitignore` / `.siftignore` / `info/exclude` paths: a change to one affects other paths. */
  isRuleFile(relPath: string): boolean {
    const rel = this.relative(relPath);
    if (rel === undefined) return false;
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    return base === GITIGNORE_FILE || base === SIFTIGNORE_FILE || this.isInfoExclude(rel);
  }

  private isInfoExclude(rel: string): boolean {
    return !!this.infoExclude && (path.join(this.realRoot, rel) === this.infoExclude.file || path.join(this.root, rel) === this.infoExclude.file);
  }

  /**
   * Forgets cached ignore files: all of them, or only the one at `relPath` (a `.gitignore`,
   * `.siftignore` or `.git/info/exclude` that changed). They are re-read on next use. Returns true
   * when `relPath` was such a rule file (callers should then re-check other paths, e.g. re-run discovery).
   */
  invalidate(relPath?: string): boolean {
    if (relPath === undefined) {
      this.dirRules.clear();
      this.totalRules = 0;
      if (this.infoExclude) this.infoExclude.loaded = false;
      this.outerLayers = [];
      this.loadOuterRulesSync();
      return true;
    }
    if (!this.isRuleFile(relPath)) return false;
    const rel = this.relative(relPath)!;
    if (this.isInfoExclude(rel)) this.infoExclude!.loaded = false;
    else {
      const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      this.totalRules -= this.dirRules.get(dir)?.count ?? 0;
      this.dirRules.delete(dir);
    }
    return true;
  }

  /**
   * Path rules only (no file system access besides reading ignore files): is `relPath` (a file, or a
   * directory with `isDirectory`) eligible? Every ancestor directory is checked first, so a path
   * inside a skipped directory reports that directory (`result.path`). A file that passes may still
   * be skipped by `inspect` (binary, too large, minified, unreadable, symlink, …).
   */
  check(relPath: string, options: { isDirectory?: boolean } = {}): MatchResult {
    const rel = this.relative(relPath);
    if (rel === undefined) return { ok: false, reason: 'excluded', path: relPath, detail: 'outside the root' };
    if (rel === '') return { ok: true };
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      const r = this.checkDirectory(dir);
      if (!r.ok) return r;
    }
    return options.isDirectory ? this.checkDirectory(rel) : this.checkFile(rel);
  }

  /**
   * The full verdict for one path, as the walk would give it: path rules (ancestors included), then
   * the entry type, symlink handling and content checks. For a watcher's change events. Never throws.
   */
  async inspect(relPath: string): Promise<DiscoveryEvent> {
    const given = this.relative(relPath);
    const rel = given === undefined ? undefined : await this.onDiskSpelling(given);
    if (rel === undefined || rel === '') return skipEvent(relPath, 'not-a-file', rel === '' ? 'the root folder' : 'outside the root');
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      await this.preloadDir(parts.slice(0, i - 1).join('/'));
      const r = this.checkDirectory(dir);
      if (!r.ok) return skipEvent(r.path, r.reason, r.detail);
      let st: Stats;
      try {
        st = await fsp.lstat(this.absPath(dir));
      } catch (err) {
        return skipEvent(dir, 'unreadable', errorCode(err));
      }
      if (st.isSymbolicLink()) return this.inspectEntry(dir, 'symlink');
      if (!st.isDirectory()) return skipEvent(dir, 'not-a-file', `${entryKind(st)} in the path`);
    }
    await this.preloadDir(parts.slice(0, -1).join('/'));
    let st: Stats;
    try {
      st = await fsp.lstat(this.absPath(rel));
    } catch (err) {
      return skipEvent(rel, 'unreadable', errorCode(err));
    }
    if (st.isDirectory()) {
      const r = this.checkDirectory(rel);
      return r.ok ? skipEvent(rel, 'not-a-file', 'directory') : skipEvent(r.path, r.reason, r.detail);
    }
    return this.inspectEntry(rel, entryKind(st));
  }

  // ---------------------------------------------------------------------------------------------
  // Used by the walker: the caller guarantees that every ancestor directory passed `checkDirectory`
  // and that `preloadDir` ran for the entry's directory.

  /**
   * Reads (once) the ignore files of directory `relDir` without blocking the event loop. `names`,
   * the directory's entries when the caller has them, saves trying to open absent files.
   */
  async preloadDir(relDir: string, names?: readonly string[]): Promise<void> {
    if (this.dirRules.has(relDir)) return;
    const dirAbs = this.absPath(relDir);
    const has = (name: string) => !names || names.includes(name);
    const [git, sift] = await Promise.all([
      this.opts.useGitignore && has(GITIGNORE_FILE) ? readRuleFile(path.join(dirAbs, GITIGNORE_FILE), this.opts.ignoreCase) : undefined,
      has(SIFTIGNORE_FILE) ? readRuleFile(path.join(dirAbs, SIFTIGNORE_FILE), this.opts.ignoreCase) : undefined,
    ]);
    if (!this.dirRules.has(relDir)) this.dirRules.set(relDir, this.makeDirRules(relDir, git, sift));
  }

  /** Path rules for a directory whose ancestors all passed. */
  checkDirectory(rel: string): MatchResult {
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    if (this.excludedDirs.has(name)) return { ok: false, reason: 'default-excluded', path: rel };
    const bounds = checkBounds(rel, true) ?? this.windowsName(rel);
    if (bounds) return bounds;
    if (this.secretDirs.match(rel, true) === true) return { ok: false, reason: 'secret', path: rel };
    const ignoredBy = this.ignoredBy(rel, true);
    if (ignoredBy) return { ok: false, reason: ignoredBy.reason, path: rel, detail: ignoredBy.detail };
    if (this.exclude.matches(rel)) return { ok: false, reason: 'excluded', path: rel, detail: 'exclude globs' };
    if (!this.include.isEmpty && !this.include.mayMatchInside(rel)) {
      return { ok: false, reason: 'excluded', path: rel, detail: 'outside the include globs' };
    }
    return { ok: true };
  }

  /** With Windows rules: a name Windows reserves or cannot hold (never opened: `NUL` would open the device). */
  private windowsName(rel: string): MatchResult | undefined {
    if (!this.opts.flavor.windows) return undefined;
    const problem = windowsNameProblem(rel.slice(rel.lastIndexOf('/') + 1));
    return problem ? { ok: false, reason: 'not-a-file', path: rel, detail: `${problem}; never opened` } : undefined;
  }

  /**
   * On a case-insensitive file system, the on-disk spelling of `rel` (each segment as its directory
   * lists it), so that `Foo.ts` reported by a watcher after a rename to `foo.ts` is not indexed as a
   * second file. Exact where the file system is case-sensitive or the path is absent.
   */
  private async onDiskSpelling(rel: string): Promise<string> {
    if (this.opts.flavor.caseSensitive || rel === '') return rel;
    const out: string[] = [];
    for (const seg of rel.split('/')) {
      const names = await fsp.readdir(this.absPath(out.join('/'))).catch(() => undefined);
      if (!names || names.includes(seg)) {
        out.push(seg);
        continue;
      }
      const key = pathKey(seg, this.opts.flavor);
      const match = names.filter((n) => pathKey(n, this.opts.flavor) === key);
      out.push(match.length === 1 ? match[0]! : seg);
    }
    return out.join('/');
  }

  /** Path rules for a file whose ancestors all passed. */
  checkFile(rel: string): MatchResult {
    // A `.git` FILE (worktree / submodule pointer) is VCS metadata like the `.git` directory.
    if (this.excludedDirs.has('.git') && (rel === '.git' || rel.endsWith('/.git'))) return { ok: false, reason: 'default-excluded', path: rel };
    const bounds = checkBounds(rel, false) ?? this.windowsName(rel);
    if (bounds) return bounds;
    if (this.secretFiles.match(rel, false) === true) return { ok: false, reason: 'secret', path: rel };
    const ignoredBy = this.ignoredBy(rel, false);
    if (ignoredBy) return { ok: false, reason: ignoredBy.reason, path: rel, detail: ignoredBy.detail };
    if (this.exclude.matches(rel)) return { ok: false, reason: 'excluded', path: rel, detail: 'exclude globs' };
    if (!this.include.isEmpty && !this.include.matches(rel)) {
      return { ok: false, reason: 'excluded', path: rel, detail: 'not matched by the include globs' };
    }
    if (this.generated.match(rel, false) === true) return { ok: false, reason: 'generated', path: rel, detail: 'lockfile or generated file name' };
    if (this.minified.match(rel, false) === true) return { ok: false, reason: 'minified', path: rel, detail: 'minified file name' };
    const ext = extensionOf(rel);
    if (ext && this.binaryExtensions.has(ext)) return { ok: false, reason: 'binary', path: rel, detail: `extension .${ext}` };
    return { ok: true };
  }

  /**
   * Everything after the directory-level checks for one non-directory entry: path rules, symlink
   * handling, stat and content sniffing. Never throws (errors become `unreadable`).
   */
  async inspectEntry(rel: string, kind: EntryKind): Promise<DiscoveryEvent> {
    try {
      if (kind === 'symlink') return await this.inspectSymlink(rel);
      const r = this.checkFile(rel);
      if (!r.ok) return skipEvent(r.path, r.reason, r.detail);
      if (kind !== 'file' && kind !== 'unknown') return skipEvent(rel, 'not-a-file', kind);
      return await this.inspectContent(rel);
    } catch (err) {
      return skipEvent(rel, 'unreadable', errorCode(err));
    }
  }

  /** True when `realPath` (symlinks resolved) is the root or inside it. */
  isInsideRoot(realPath: string): boolean {
    return isInside(this.realRoot, realPath, hostFlavor());
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Symlinks are never followed. A symlink is checked against the path rules as what it points to
   * (file or directory) and then reported: outside the root → `symlink-outside`; a cycle, or a
   * directory link to an ancestor of itself → `symlink-loop`; dangling → `unreadable` (ENOENT);
   * otherwise (target inside the root) → `not-a-file`: the target is indexed at its real path if
   * eligible, so content is never indexed twice and paths stay canonical.
   */
  private async inspectSymlink(rel: string): Promise<DiscoveryEvent> {
    const abs = this.absPath(rel);
    let real: string;
    try {
      real = await fsp.realpath(abs);
    } catch (err) {
      const r = this.checkFile(rel);
      if (!r.ok) return skipEvent(r.path, r.reason, r.detail);
      const code = errorCode(err);
      if (code === 'ELOOP') return skipEvent(rel, 'symlink-loop', 'ELOOP: the symlink chain loops');
      if (code === 'ENOENT') {
        const target = await fsp.readlink(abs).catch(() => '?');
        return skipEvent(rel, 'unreadable', `ENOENT: dangling symlink to ${target}`);
      }
      return skipEvent(rel, 'unreadable', code);
    }
    const st = await fsp.stat(real);
    const isDir = st.isDirectory();
    const r = isDir ? this.checkDirectory(rel) : this.checkFile(rel);
    if (!r.ok) return skipEvent(r.path, r.reason, r.detail);
    if (!this.isInsideRoot(real)) return skipEvent(rel, 'symlink-outside', `points to ${real}`);
    const target = path.relative(this.realRoot, real).split(path.sep).join('/');
    if (isDir) {
      const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      if (target === '' || parent === target || parent.startsWith(`${target}/`)) {
        return skipEvent(rel, 'symlink-loop', `points to its ancestor ${target || '. (the root)'}`);
      }
      return skipEvent(rel, 'not-a-file', `symlink to directory ${target} (not followed; walked at its real path)`);
    }
    if (!st.isFile()) return skipEvent(rel, 'not-a-file', `symlink to ${entryKind(st)} ${target}`);
    return skipEvent(rel, 'not-a-file', `symlink to ${target} (not followed; indexed at its real path if eligible)`);
  }

  /**
   * `lstat` first: type, size and mtime come from it, so too-large and known files cost one call and
   * are never opened. Then the head of the file is read through a plain fd (cheaper than FileHandle
   * objects for tens of thousands of files) opened with O_NONBLOCK | O_NOFOLLOW, so a path swapped
   * for a FIFO or a symlink after the `lstat` neither blocks nor is followed.
   */
  private async inspectContent(rel: string): Promise<DiscoveryEvent> {
    const absPath = this.absPath(rel);
    let st: Stats;
    try {
      st = await fsp.lstat(absPath);
    } catch (err) {
      return skipEvent(rel, 'unreadable', errorCode(err));
    }
    if (st.isSymbolicLink()) return this.inspectSymlink(rel);
    if (!st.isFile()) return skipEvent(rel, 'not-a-file', entryKind(st));
    if (st.size > this.opts.maxFileBytes) return skipEvent(rel, 'too-large', `${st.size} bytes (limit ${this.opts.maxFileBytes})`);
    const file: DiscoveredFile = { path: rel, absPath, size: st.size, mtimeMs: st.mtimeMs };
    if (this.opts.isKnownFile?.(file)) return { type: 'file', file };

    let fd: number;
    try {
      fd = await fdOpen(absPath, OPEN_FLAGS);
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ELOOP') return skipEvent(rel, 'not-a-file', 'symlink (changed during discovery)');
      return skipEvent(rel, 'unreadable', code);
    }
    let head: Buffer;
    try {
      // Checked on the open descriptor: the path may have been swapped since the lstat.
      const fst = await fdStat(fd);
      if (!fst.isFile()) return skipEvent(rel, 'not-a-file', `${entryKind(fst)} (changed during discovery)`);
      if (fst.size > this.opts.maxFileBytes) return skipEvent(rel, 'too-large', `${fst.size} bytes (limit ${this.opts.maxFileBytes})`);
      const want = Math.min(fst.size, MINIFIED_SNIFF_BYTES);
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const bytesRead = await fdRead(fd, buf, got, want - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      head = buf.subarray(0, got);
    } catch (err) {
      const code = errorCode(err);
      return code === 'EAGAIN' || code === 'EISDIR' ? skipEvent(rel, 'not-a-file', `${code} (changed during discovery)`) : skipEvent(rel, 'unreadable', code);
    } finally {
      await fdClose(fd).catch(() => undefined);
    }
    const binary = sniffBinary(head);
    if (binary) return skipEvent(rel, binary.reason, binary.detail);
    let text = head.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const prose = this.proseExtensions.has(extensionOf(rel));
    const limit = prose ? this.opts.maxProseLineLength : this.opts.maxLineLength;
    const minified = sniffMinified(text, st.size, limit, prose);
    if (minified) return skipEvent(rel, minified.reason, minified.detail);
    return { type: 'file', file };
  }

  /**
   * Which ignore source ignores `rel` (detail e.g. `sub/.gitignore`), or undefined. Ancestors are
   * not consulted for rules — but an ignore file over `RULE_LIMITS` in any folder containing `rel`
   * makes it `too-large` (fail safe: its rules were not loaded, so nothing it governs is indexed).
   */
  private ignoredBy(rel: string, isDir: boolean): { reason: 'ignored' | 'too-large'; detail: string } | undefined {
    const extra = this.extraIgnore.match(rel, isDir);
    if (extra !== undefined) return extra ? { reason: 'ignored', detail: 'extraIgnorePatterns' } : undefined;
    const dirs = ancestorDirs(rel);
    const refused = (source: string, rules: RuleList) => ({
      reason: 'too-large' as const,
      detail: `${source}: ${rules.overLimit}; nothing it governs is indexed (its rules were not loaded)`,
    });
    for (const dir of dirs) {
      const rules = this.rulesOf(dir);
      for (const [kind, file] of [['sift', SIFTIGNORE_FILE], ['git', GITIGNORE_FILE]] as const) {
        const r = rules[kind];
        if (r?.overLimit) return refused(`${dir ? `${dir}/` : ''}${file}`, r);
      }
    }
    for (const kind of ['sift', 'git'] as const) {
      if (kind === 'git' && !this.opts.useGitignore) break;
      for (const dir of dirs) {
        const rules = this.rulesOf(dir)[kind];
        if (!rules) continue;
        const m = rules.match(dir ? rel.slice(dir.length + 1) : rel, isDir);
        if (m !== undefined) return m ? { reason: 'ignored', detail: `${dir ? `${dir}/` : ''}${kind === 'git' ? GITIGNORE_FILE : SIFTIGNORE_FILE}` } : undefined;
      }
    }
    if (!this.opts.useGitignore) return undefined;
    for (const layer of this.outerLayers) {
      if (layer.rules.overLimit) return refused(layer.source, layer.rules);
      const m = layer.rules.match(layer.prefix + rel, isDir);
      if (m !== undefined) return m ? { reason: 'ignored', detail: layer.source } : undefined;
    }
    const info = this.infoExclude;
    if (info) {
      if (!info.loaded) {
        info.rules = readRuleFileSync(info.file, this.opts.ignoreCase);
        info.loaded = true;
      }
      const source = path.relative(this.realRoot, info.file).split(path.sep).join('/');
      if (info.rules?.overLimit) return refused(source, info.rules);
      const m = info.rules?.match(info.prefix + rel, isDir);
      if (m !== undefined) return m ? { reason: 'ignored', detail: source } : undefined;
    }
    return undefined;
  }

  private rulesOf(relDir: string): DirRules {
    let rules = this.dirRules.get(relDir);
    if (!rules) {
      // Not preloaded (check() from a watcher): small files, read synchronously once.
      const dirAbs = this.absPath(relDir);
      rules = this.makeDirRules(
        relDir,
        this.opts.useGitignore ? readRuleFileSync(path.join(dirAbs, GITIGNORE_FILE), this.opts.ignoreCase) : undefined,
        readRuleFileSync(path.join(dirAbs, SIFTIGNORE_FILE), this.opts.ignoreCase),
      );
      this.dirRules.set(relDir, rules);
    }
    return rules;
  }

  /** Keeps the total number of rules held within `RULE_LIMITS.maxTotalRules`. */
  private makeDirRules(relDir: string, git: RuleList | undefined, sift: RuleList | undefined): DirRules {
    const count = (git?.size ?? 0) + (sift?.size ?? 0);
    if (count && this.totalRules + count > RULE_LIMITS.maxTotalRules) {
      const why = `ignore files hold more than ${RULE_LIMITS.maxTotalRules} rules in all (${relDir || 'the root'} would add ${count})`;
      return { git: git && !git.isEmpty ? RuleList.refused(why) : undefined, sift: sift && !sift.isEmpty ? RuleList.refused(why) : undefined, count: 0 };
    }
    this.totalRules += count;
    return { git: git?.isEmpty ? undefined : git, sift: sift?.isEmpty ? undefined : sift, count };
  }

  private async loadOuterRules(): Promise<void> {
    const layers: OuterLayer[] = [];
    for (const { dir, prefix } of this.outerDirs) {
      const rules = await readRuleFile(path.join(dir, GITIGNORE_FILE), this.opts.ignoreCase);
      if (rules && !rules.isEmpty) layers.push({ prefix, rules, source: path.join(dir, GITIGNORE_FILE) });
    }
    this.outerLayers = layers;
    if (this.infoExclude) {
      this.infoExclude.rules = await readRuleFile(this.infoExclude.file, this.opts.ignoreCase);
      this.infoExclude.loaded = true;
    }
  }

  private loadOuterRulesSync(): void {
    const layers: OuterLayer[] = [];
    for (const { dir, prefix } of this.outerDirs) {
      const rules = readRuleFileSync(path.join(dir, GITIGNORE_FILE), this.opts.ignoreCase);
      if (rules && !rules.isEmpty) layers.push({ prefix, rules, source: path.join(dir, GITIGNORE_FILE) });
    }
    this.outerLayers = layers;
  }
}

// -------------------------------------------------------------------------------------------------

function skipEvent(p: string, reason: SkipReason, detail?: string): DiscoveryEvent {
  const skip: SkippedFile = detail === undefined ? { path: p, reason } : { path: p, reason, detail };
  return { type: 'skip', skip };
}

/** `a/b/c` → `['a/b', 'a', '']`: the directories whose ignore files apply to it, deepest first. */
function ancestorDirs(rel: string): string[] {
  const out: string[] = [];
  let i = rel.lastIndexOf('/');
  while (i > 0) {
    out.push(rel.slice(0, i));
    i = rel.lastIndexOf('/', i - 1);
  }
  out.push('');
  return out;
}

/** A usable numeric limit: `undefined`, NaN and negative values fall back to the default. */
function limit(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

function extensionOf(rel: string): string {
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

export function errorCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.message : String(err);
}

export function entryKind(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): EntryKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  return 'unknown';
}

/**
 * Reads an ignore file: never blocks (a FIFO or device named `.gitignore`), never follows a final
 * symlink, reads at most `RULE_LIMITS.maxFileBytes`. Absent, not a regular file, or unreadable →
 * undefined (no rules: such a file holds none). Larger than the cap → a refused list (`overLimit`).
 */
async function readRuleFile(file: string, ignoreCase: boolean): Promise<RuleList | undefined> {
  try {
    return RuleList.fromFile((await readRegularFile(file, { maxBytes: RULE_LIMITS.maxFileBytes, noFollow: true })).toString('utf8'), ignoreCase);
  } catch (err) {
    return refusedRuleFile(err);
  }
}

function readRuleFileSync(file: string, ignoreCase: boolean): RuleList | undefined {
  try {
    return RuleList.fromFile(readRegularFileSync(file, { maxBytes: RULE_LIMITS.maxFileBytes, noFollow: true }).toString('utf8'), ignoreCase);
  } catch (err) {
    return refusedRuleFile(err);
  }
}

function refusedRuleFile(err: unknown): RuleList | undefined {
  if (err instanceof UnsafeFileError && err.code === 'too-large') return RuleList.refused(`larger than ${RULE_LIMITS.maxFileBytes} bytes`);
  return undefined;
}

/** Depth and length bounds of a root-relative path (a folder's depth counts its own segment). */
function checkBounds(rel: string, isDir: boolean): MatchResult | undefined {
  if (rel.length > MAX_PATH_CHARS) return { ok: false, reason: 'too-large', path: rel, detail: `path of ${rel.length} characters (limit ${MAX_PATH_CHARS})` };
  if (isDir) {
    let depth = 1;
    for (let i = rel.indexOf('/'); i !== -1; i = rel.indexOf('/', i + 1)) depth++;
    if (depth > MAX_DIRECTORY_DEPTH) return { ok: false, reason: 'too-large', path: rel, detail: `folder ${depth} levels deep (limit ${MAX_DIRECTORY_DEPTH})` };
  }
  return undefined;
}

/**
 * Finds `info/exclude` for the root and, with `parents`, the directories above the root (up to the
 * enclosing repository's top) whose `.gitignore` files apply.
 */
async function locateGit(
  realRoot: string,
  parents: boolean,
): Promise<{ infoExcludeFile?: string; infoExcludePrefix: string; outerDirs: { dir: string; prefix: string }[] }> {
  const outerDirs: { dir: string; prefix: string }[] = [];
  let dir = realRoot;
  for (;;) {
    const gitDir = await resolveGitDir(dir);
    if (gitDir) {
      const prefix = dir === realRoot ? '' : `${path.relative(dir, realRoot).split(path.sep).join('/')}/`;
      return { infoExcludeFile: path.join(await commonDir(gitDir), 'info', 'exclude'), infoExcludePrefix: prefix, outerDirs };
    }
    const up = path.dirname(dir);
    if (!parents || up === dir) return { infoExcludePrefix: '', outerDirs: [] };
    dir = up;
    outerDirs.push({ dir, prefix: `${path.relative(dir, realRoot).split(path.sep).join('/')}/` });
  }
}

/** `<dir>/.git` as a directory, or the `gitdir:` of a `.git` file (worktrees, submodules). */
async function resolveGitDir(dir: string): Promise<string | undefined> {
  const dotGit = path.join(dir, '.git');
  try {
    const st = await fsp.stat(dotGit);
    if (st.isDirectory()) return dotGit;
    if (!st.isFile()) return undefined;
    const m = /^gitdir:[ \t]*(.+?)[ \t]*$/m.exec((await readRegularFile(dotGit, { maxBytes: MAX_GIT_POINTER_BYTES })).toString('utf8'));
    return m ? path.resolve(dir, m[1]!) : undefined;
  } catch {
    return undefined;
  }
}

/** Linked worktrees keep `info/exclude` in the common git directory. */
async function commonDir(gitDir: string): Promise<string> {
  try {
    const rel = (await readRegularFile(path.join(gitDir, 'commondir'), { maxBytes: MAX_GIT_POINTER_BYTES })).toString('utf8').trim();
    return rel ? path.resolve(gitDir, rel) : gitDir;
  } catch {
    return gitDir;
  }
}
