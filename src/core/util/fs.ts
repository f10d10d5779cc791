import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, type Dirent, fstatSync, promises as fsp, openSync, readSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a file so that readers see either the old or the new content, never a torn one:
 * write to a temp file in the same directory, fsync it, rename over the target, fsync the directory.
 * A crash at any point leaves the previous file (or no file) in place plus at most a stray temp file.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fsp.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dir);
}

/** fsync a directory so a rename in it is durable. Not supported everywhere (Windows): best effort. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    /* best effort */
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export function sha256Hex(data: string | Uint8Array, length = 64): string {
  return createHash('sha256').update(data).digest('hex').slice(0, length);
}

/** Total size in bytes of all files under a directory (0 if it does not exist). */
export async function directorySize(dir: string): Promise<number> {
  let total = 0;
  let entries: Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await directorySize(full);
    else if (entry.isFile()) total += (await fsp.stat(full).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/**
 * Open flags for every file Sift reads: never block (a FIFO without a writer, a device) and, with
 * `noFollow`, never follow a final symlink (e.g. one to `/dev/zero`).
 */
export function safeOpenFlags(noFollow: boolean): number {
  return fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0) | (noFollow ? (fsConstants.O_NOFOLLOW ?? 0) : 0);
}

/** Why `readRegularFile` refused a file (`code`: `not-a-file` or `too-large`; else the errno code). */
export class UnsafeFileError extends Error {
  constructor(
    message: string,
    readonly code: 'not-a-file' | 'too-large',
  ) {
    super(message);
  }
}

export interface ReadRegularOptions {
  /** Refuse files larger than this (checked with `fstat` on the open descriptor, and while reading). */
  maxBytes: number;
  /** Do not follow a final symlink (ELOOP). Default false. */
  noFollow?: boolean;
}

/**
 * Reads a file only if it is a regular file no larger than `maxBytes`, without ever blocking:
 * opened with O_NONBLOCK (a FIFO, socket or device cannot hang the open), then `fstat` on the OPEN
 * descriptor (no check-then-open race) must say "regular file" within the size cap, and at most
 * `maxBytes + 1` bytes are read (a file growing meanwhile, or a huge sparse one, is refused without
 * reading it whole). Throws `UnsafeFileError` for those refusals, the errno error otherwise.
 */
export async function readRegularFile(file: string, opts: ReadRegularOptions): Promise<Buffer> {
  const fh = await fsp.open(file, safeOpenFlags(opts.noFollow ?? false));
  try {
    const st = await fh.stat();
    checkRegular(file, st, opts.maxBytes);
    const buf = Buffer.allocUnsafe(Math.min(st.size, opts.maxBytes) + 1);
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await fh.read(buf, done, buf.length - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done > opts.maxBytes) throw new UnsafeFileError(`${file}: over ${opts.maxBytes} bytes (grew while read)`, 'too-large');
    return buf.subarray(0, done);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** `readRegularFile`, synchronously (for callers that cannot await; same checks). */
export function readRegularFileSync(file: string, opts: ReadRegularOptions): Buffer {
  const fd = openSync(file, safeOpenFlags(opts.noFollow ?? false));
  try {
    const st = fstatSync(fd);
    checkRegular(file, st, opts.maxBytes);
    const buf = Buffer.allocUnsafe(Math.min(st.size, opts.maxBytes) + 1);
    let done = 0;
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, done);
      if (n === 0) break;
      done += n;
    }
    if (done > opts.maxBytes) throw new UnsafeFileError(`${file}: over ${opts.maxBytes} bytes (grew while read)`, 'too-large');
    return buf.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

function checkRegular(file: string, st: { isFile(): boolean; size: number }, maxBytes: number): void {
  if (!st.isFile()) throw new UnsafeFileError(`${file} is not a regular file`, 'not-a-file');
  if (st.size > maxBytes) throw new UnsafeFileError(`${file}: ${st.size} bytes (limit ${maxBytes})`, 'too-large');
}

/**
 * Reads a whole file with one read into a buffer of its size (fs.promises.readFile reads in
 * 512 KB steps through the thread pool: ~2× slower for the multi-megabyte files of an index).
 * Opened non-blocking and refused unless the open descriptor is a regular file.
 */
export async function readWhole(file: string): Promise<Buffer> {
  const fh = await fsp.open(file, safeOpenFlags(false));
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new UnsafeFileError(`${file} is not a regular file`, 'not-a-file');
    const { size } = st;
    const buf = Buffer.allocUnsafeSlow(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await fh.read(buf, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === size ? buf : buf.subarray(0, done);
  } finally {
    await fh.close();
  }
}
