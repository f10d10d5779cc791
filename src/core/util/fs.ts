import { createHash, randomBytes } from 'node:crypto';
import { type Dirent, promises as fsp } from 'node:fs';
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

export function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/**
 * Reads a whole file with one read into a buffer of its size (fs.promises.readFile reads in
 * 512 KB steps through the thread pool: ~2× slower for the multi-megabyte files of an index).
 */
export async function readWhole(file: string): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try {
    const { size } = await fh.stat();
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
