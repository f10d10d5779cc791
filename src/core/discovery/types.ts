import type { PathFlavor } from '../util/pathFlavor';

/** A file discovery accepted for indexing. */
export interface DiscoveredFile {
  /** Path relative to the discovery root, `/`-separated, no leading `./`. */
  path: string;
  /** Absolute path (the root as given, joined with `path`; symlinks in the root path are not resolved). */
  absPath: string;
  /** Size in bytes at discovery time. */
  size: number;
  /** Modification time at discovery time. */
  mtimeMs: number;
}

/**
 * Why a path was not indexed.
 *
 * - `ignored`: matched by `.gitignore` / `.siftignore` (any level), `.git/info/exclude`, or `extraIgnorePatterns`.
 * - `excluded`: matched a user `exclude` glob, or did not match any of the user `include` globs.
 * - `default-excluded`: a dependency / build output / VCS / tool-cache directory (see `DEFAULT_EXCLUDED_DIRS`).
 * - `secret`: may hold credentials (see `DEFAULT_SECRET_PATTERNS`); never opened.
 * - `binary`: binary by extension (not opened) or by content (NUL byte, many control bytes, UTF-16/32 BOM).
 * - `too-large`: larger than `maxFileBytes` (decided from `stat`, not opened).
 * - `minified`: minified by name (`*.min.js`, `*.map`, …) or by content (over-long lines).
 * - `generated`: machine-written file by name, e.g. lockfiles (see `DEFAULT_GENERATED_PATTERNS`).
 * - `unreadable`: an I/O error (EACCES, ENOENT because it vanished mid-walk, a dangling symlink, …);
 *   `detail` starts with the error code.
 * - `symlink-outside`: a symlink resolving outside the root (never followed).
 * - `symlink-loop`: a symlink cycle, a directory symlink to one of its own ancestors, or a directory
 *   reached twice (bind mounts).
 * - `not-a-file`: FIFO, socket, device, or a symlink whose target lies inside the root (symlinks are
 *   never followed: the target is indexed, or not, at its real path).
 */
export type SkipReason =
  | 'ignored'
  | 'excluded'
  | 'default-excluded'
  | 'secret'
  | 'binary'
  | 'too-large'
  | 'minified'
  | 'generated'
  | 'unreadable'
  | 'symlink-outside'
  | 'symlink-loop'
  | 'not-a-file';

/** Every skip reason, in a stable order (for summaries and UIs). */
export const SKIP_REASONS: readonly SkipReason[] = [
  'ignored',
  'excluded',
  'default-excluded',
  'secret',
  'binary',
  'too-large',
  'minified',
  'generated',
  'unreadable',
  'symlink-outside',
  'symlink-loop',
  'not-a-file',
];

/**
 * A path discovery did not index. When a whole directory is skipped (ignored, excluded,
 * default-excluded, secret, unreadable, symlink), there is ONE entry for the directory path
 * (no trailing slash) and nothing is reported for its contents, which are never listed.
 */
export interface SkippedFile {
  /** Relative, `/`-separated; a directory path when a whole directory was skipped. */
  path: string;
  reason: SkipReason;
  /** Human-readable specifics: the error code for `unreadable`, the matched rule, the size, … */
  detail?: string;
}

export type DiscoveryEvent = { type: 'file'; file: DiscoveredFile } | { type: 'skip'; skip: SkippedFile };

export interface DiscoveryResult {
  /** Sorted by path (UTF-16 code unit order). */
  files: DiscoveredFile[];
  /** Sorted by path (UTF-16 code unit order). */
  skipped: SkippedFile[];
}

/** Result of checking a path against the path-based rules (no file content involved). */
export type MatchResult =
  | { ok: true }
  | {
      ok: false;
      reason: SkipReason;
      /** The path the rule applied to: the checked path itself, or the ancestor directory that is skipped. */
      path: string;
      detail?: string;
    };

export interface DiscoveryOptions {
  /**
   * Globs in VS Code's syntax (`*`, `?`, `**`, `[…]`, `{a,b}`; dots are ordinary characters), matched
   * against the relative path in linear time (see `GlobSet`). If non-empty, only matching files are
   * indexed. At most 1000 globs of 1024 characters; more is a `bad-input` error.
   */
  include?: string[];
  /**
   * Globs never to index. A directory matching one is skipped whole. Glob conventions for `include`
   * and `exclude`: a pattern without `/` matches the name at any depth (`*.ts`, `fixtures`); a leading
   * `/` anchors to the root; a trailing `/` means "this folder and everything in it"; a leading `./` is dropped.
   */
  exclude?: string[];
  /**
   * Extra rules in `.gitignore` syntax, relative to the root (e.g. translated from VS Code's
   * `files.exclude`). They take precedence over every ignore file, so `!pattern` can re-include a
   * gitignored path (unless its parent directory is ignored).
   */
  extraIgnorePatterns?: string[];
  /**
   * Extra secret rules, `.gitignore` syntax, appended after `DEFAULT_SECRET_PATTERNS` (last match wins,
   * so `!test/fixtures/*.pem` can allow files the defaults would block). The defaults cannot be removed.
   */
  extraSecretPatterns?: string[];
  /** Directory names skipped at any depth. Replaces `DEFAULT_EXCLUDED_DIRS`; `[]` disables it. */
  defaultExcludedDirs?: readonly string[];
  /** `.gitignore`-syntax rules for lockfiles & co. Replaces `DEFAULT_GENERATED_PATTERNS`. */
  generatedPatterns?: readonly string[];
  /** `.gitignore`-syntax rules for minified files by name. Replaces `DEFAULT_MINIFIED_PATTERNS`. */
  minifiedPatterns?: readonly string[];
  /** Lower-case extensions (no dot) skipped as binary without reading. Replaces `DEFAULT_BINARY_EXTENSIONS`. */
  binaryExtensions?: readonly string[];
  /** Honour `.gitignore` files and `.git/info/exclude` (default true). `.siftignore` files are always honoured. */
  useGitignore?: boolean;
  /**
   * Also honour the `.gitignore` files of the enclosing git repository above the root, and that
   * repository's `info/exclude`, like git does when the root is a sub-folder of a repository.
   * Default false (like VS Code's `search.useParentIgnoreFiles`).
   */
  useParentIgnoreFiles?: boolean;
  /** Case-insensitive ignore-file and glob matching. Default: true on macOS and Windows, false elsewhere. Secret, generated and minified-name rules are always case-insensitive. */
  ignoreCase?: boolean;
  /**
   * The OS rules for names and case (default: the running OS). With Windows rules, reserved device
   * names (`CON`, `nul.txt`, `COM1`…) and names Windows cannot hold are skipped as `not-a-file`, never
   * opened; on a case-insensitive file system a watcher's path in another case resolves to the
   * on-disk spelling, so a rename that only changes case neither duplicates nor loses the file.
   */
  pathFlavor?: PathFlavor;
  /** Files larger than this are skipped as `too-large`. Default `DEFAULT_MAX_FILE_BYTES` (1 MiB). */
  maxFileBytes?: number;
  /** A line longer than this (in the first 64 KiB) marks a file `minified`. Default 1000. */
  maxLineLength?: number;
  /** The same limit for prose files (`.md`, `.txt`, …) whose paragraphs are often single lines. Default 10 000. */
  maxProseLineLength?: number;
  /**
   * Optional fast path for re-runs: return true when this exact file (same path, size and mtime)
   * was accepted by an earlier discovery; its content is then not sniffed again.
   */
  isKnownFile?: (file: DiscoveredFile) => boolean;
}
