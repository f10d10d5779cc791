import { type BigIntStats, type Stats, closeSync, constants, fstatSync, promises as fsp, lstatSync, openSync } from 'node:fs';
import * as path from 'node:path';

/**
 * File access for Sift's own storage (the index folder, the model cache): owner-only modes on
 * everything written, and reads that never leave the folder they are given.
 *
 * Writes: directories 0700, files 0600, whatever the umask (the mode given to open/mkdir is
 * masked by the umask, so it is set again with chmod). Chunk text is source code, and whatever
 * redaction missed: other users of the machine must not read it.
 *
 * Reads: a name read from disk (a shard directory, a file table) is joined to the folder only
 * after it matched a strict pattern (see manifest.ts), and every component below the folder is
 * checked with lstat — a symlink or a non-directory in the way is refused — and the file itself
 * is opened with O_NOFOLLOW | O_NONBLOCK and must be a regular file (a FIFO would block, a device
 * would never end). Sizes are checked against a bound before a buffer is allocated.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;
const READ_FLAGS = constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK;
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | O_NOFOLLOW;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW;
/** chmod is meaningless on Windows (ACLs); skip it there. */
const POSIX = process.platform !== 'win32';

/** A file or folder of the index is not what it should be (symlink, special file, too large…). */
export class UnsafeEntryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeEntryError';
  }
}

/**
 * Creates `dir` (and missing parents) owner-only, and makes `dir` itself 0700 if it exists with
 * looser modes. `dir` may be a symlink the user chose (e.g. --index-dir); it must lead to a directory.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const st = await fsp.stat(dir);
  if (!st.isDirectory()) throw new UnsafeEntryError(`${dir} is not a directory`);
  if (POSIX && (st.mode & 0o777) !== PRIVATE_DIR_MODE) await fsp.chmod(dir, PRIVATE_DIR_MODE);
}

/**
 * Makes `parent/name` a real, owner-only directory: a symlink or a file in its place is removed
 * (only the link itself: nothing it points at is touched). Returns what was wrong, if anything.
 */
export async function ensurePrivateSubdir(parent: string, name: string): Promise<string | undefined> {
  checkName(name);
  const full = path.join(parent, name);
  const st = await fsp.lstat(full).catch(() => undefined);
  if (st?.isDirectory()) {
    if (POSIX && (st.mode & 0o777) !== PRIVATE_DIR_MODE) await fsp.chmod(full, PRIVATE_DIR_MODE);
    return undefined;
  }
  const problem = st ? `${name} is ${describe(st)}, not a folder` : undefined;
  // rm without recursion: unlinks a symlink itself (never what it points at) or a file.
  if (st) await fsp.rm(full, { force: true });
  await fsp.mkdir(full, { mode: PRIVATE_DIR_MODE });
  if (POSIX) await fsp.chmod(full, PRIVATE_DIR_MODE);
  return problem;
}

/** Writes a new file owner-only (never through a symlink), fsyncs it when asked. */
export async function writePrivateFile(file: string, data: string | Uint8Array, opts: { sync?: boolean; exclusive?: boolean } = {}): Promise<void> {
  const handle = await fsp.open(file, opts.exclusive ? CREATE_FLAGS : WRITE_FLAGS, PRIVATE_FILE_MODE);
  try {
    if (POSIX) await handle.chmod(PRIVATE_FILE_MODE);
    await handle.writeFile(data);
    if (opts.sync) await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * `writeFileAtomic` with owner-only modes: a temp file created exclusively (0600) in the same
 * folder, fsynced, renamed over the target (which replaces a symlink there, never its target),
 * then the folder fsynced.
 */
export async function writePrivateFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Math.random().toString(16).slice(2, 10)}.tmp`);
  try {
    await writePrivateFile(tmp, data, { sync: true, exclusive: true });
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dir);
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close().catch(() => undefined);
}

/**
 * Tightens an existing folder written with looser modes (an index from an older Sift, or made
 * under another umask): the folder and everything below it, to `depth` levels, 0700 / 0600.
 * Symlinks are neither followed nor changed (chmod would change their target).
 */
export async function tightenTree(dir: string, depth: number): Promise<void> {
  if (!POSIX) return;
  const walk = async (d: string, left: number) => {
    const entries = await fsp.readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) {
        await chmodIfLoose(full, PRIVATE_DIR_MODE);
        if (left > 0) await walk(full, left - 1);
      } else if (e.isFile()) {
        await chmodIfLoose(full, PRIVATE_FILE_MODE);
      }
    }
  };
  await chmodIfLoose(dir, PRIVATE_DIR_MODE);
  await walk(dir, depth);
}

async function chmodIfLoose(file: string, mode: number): Promise<void> {
  const st = await fsp.lstat(file).catch(() => undefined);
  if (!st || st.isSymbolicLink() || (st.mode & 0o777) === mode) return;
  await fsp.chmod(file, mode).catch(() => undefined);
}

/** A single path component: no separators, no NUL, not "." or "..". */
export function checkName(name: string): void {
  if (!name || name === '.' || name === '..' || /[/\\\0]/.test(name) || name.length > 255) {
    throw new UnsafeEntryError(`refused the name ${JSON.stringify(name.slice(0, 80))}`);
  }
}

function describe(st: Stats | BigIntStats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a folder';
  if (st.isFile()) return 'a file';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'a device or special file';
}

/** Checks that each of `dirs` (names below `root`, in order) is a real directory, not a symlink. */
function checkDirsSync(root: string, dirs: readonly string[]): string {
  let at = root;
  for (const d of dirs) {
    checkName(d);
    at = path.join(at, d);
    const st = lstatSync(at);
    if (st.isSymbolicLink() || !st.isDirectory()) throw new UnsafeEntryError(`${path.relative(root, at)} is ${describe(st)}, not a folder`);
  }
  return at;
}

async function checkDirs(root: string, dirs: readonly string[]): Promise<string> {
  let at = root;
  for (const d of dirs) {
    checkName(d);
    at = path.join(at, d);
    const st = await fsp.lstat(at);
    if (st.isSymbolicLink() || !st.isDirectory()) throw new UnsafeEntryError(`${path.relative(root, at)} is ${describe(st)}, not a folder`);
  }
  return at;
}

function splitParts(parts: readonly string[]): { dirs: readonly string[]; name: string } {
  const name = parts[parts.length - 1];
  if (name === undefined) throw new UnsafeEntryError('no file name');
  checkName(name);
  return { dirs: parts.slice(0, -1), name };
}

/**
 * Opens `root/parts…` for reading, synchronously: every folder below `root` must be a real
 * folder and the file a regular file reached without a symlink. Returns the fd and the size.
 */
export function openInsideSync(root: string, parts: readonly string[]): { fd: number; size: number } {
  const { dirs, name } = splitParts(parts);
  const file = path.join(checkDirsSync(root, dirs), name);
  const fd = openOrExplainSync(file, root);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UnsafeEntryError(`${path.relative(root, file)} is ${describe(st)}, not a file`);
    return { fd, size: st.size };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** `openInsideSync`, asynchronously (a FileHandle). */
export async function openInside(root: string, parts: readonly string[]): Promise<{ handle: fsp.FileHandle; size: number }> {
  const { dirs, name } = splitParts(parts);
  const file = path.join(await checkDirs(root, dirs), name);
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, READ_FLAGS);
  } catch (err) {
    throw explainOpen(err, file, root);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new UnsafeEntryError(`${path.relative(root, file)} is ${describe(st)}, not a file`);
    return { handle, size: st.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

function openOrExplainSync(file: string, root: string): number {
  try {
    return openSync(file, READ_FLAGS);
  } catch (err) {
    throw explainOpen(err, file, root);
  }
}

function explainOpen(err: unknown, file: string, root: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  // O_NOFOLLOW on a symlink fails with ELOOP (EMLINK on some BSDs).
  if (code === 'ELOOP' || code === 'EMLINK') return new UnsafeEntryError(`${path.relative(root, file)} is a symbolic link`);
  return err;
}

/**
 * Reads `root/parts…` whole (see `openInside`), refusing before any allocation a file larger
 * than `maxBytes` or, when given, of another size than `expectedBytes`.
 */
export async function readInside(root: string, parts: readonly string[], limits: { maxBytes: number; expectedBytes?: number }): Promise<Buffer> {
  const { handle, size } = await openInside(root, parts);
  try {
    const rel = parts.join('/');
    if (limits.expectedBytes !== undefined && size !== limits.expectedBytes) throw new UnsafeEntryError(`${rel} has ${size} bytes, expected ${limits.expectedBytes}`);
    if (size > limits.maxBytes) throw new UnsafeEntryError(`${rel} is too large (${size} bytes, at most ${limits.maxBytes} expected)`);
    const buf = Buffer.allocUnsafeSlow(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(buf, done, size - done, done);
      if (bytesRead === 0) throw new UnsafeEntryError(`${rel} ended early`);
      done += bytesRead;
    }
    return buf;
  } finally {
    await handle.close();
  }
}
