import { constants as fsConstants, promises as fsp } from 'node:fs';
import { sniffBinary } from '../discovery/content';
import type { SkipReason } from '../discovery/types';
import { isInsideRealRoot } from '../util/containment';

/** Never follow a final symlink, never block on a FIFO swapped in after discovery. */
const READ_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0) | (fsConstants.O_NOFOLLOW ?? 0);

export type ReadResult = { ok: true; buf: Buffer } | { ok: false; reason: SkipReason; detail: string };

/**
 * Reads a file discovery accepted, re-checking what discovery checked, because the file may have
 * changed in between (time-of-check to time-of-use): a file swapped for a symlink (not followed),
 * a FIFO or device (not read, never blocks), a file that grew past `maxBytes` (never read whole),
 * a parent directory swapped for a symlink leading out of `realRoot` (refused), or content that
 * became binary. Never throws: failures are skip reasons with details (the error code first).
 */
export async function readIndexableFile(absPath: string, realRoot: string, maxBytes: number): Promise<ReadResult> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(absPath, READ_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    if (code === 'ELOOP') return { ok: false, reason: 'not-a-file', detail: 'symlink (changed during indexing)' };
    return { ok: false, reason: 'unreadable', detail: code };
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) return { ok: false, reason: 'not-a-file', detail: 'not a regular file (changed during indexing)' };
    if (st.size > maxBytes) return { ok: false, reason: 'too-large', detail: `${st.size} bytes (limit ${maxBytes})` };
    // An ancestor directory may have been replaced by a symlink: check where the open file really is.
    const real = await openedPath(handle, absPath);
    if (real !== undefined && !isInsideRealRoot(realRoot, real)) return { ok: false, reason: 'symlink-outside', detail: `resolves to ${real} (changed during indexing)` };
    // Read at most maxBytes + 1: a file growing while we read is caught without reading it whole.
    const buf = Buffer.allocUnsafe(Math.min(st.size, maxBytes) + 1);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got > maxBytes) return { ok: false, reason: 'too-large', detail: `over ${maxBytes} bytes (grew during indexing)` };
    const content = buf.subarray(0, got);
    const binary = sniffBinary(content);
    if (binary) return { ok: false, reason: binary.reason, detail: binary.detail };
    return { ok: true, buf: content };
  } catch (err) {
    return { ok: false, reason: 'unreadable', detail: (err as NodeJS.ErrnoException).code ?? String(err) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The real path of an open file: exact on Linux (/proc), otherwise the path resolved again. */
async function openedPath(handle: fsp.FileHandle, absPath: string): Promise<string | undefined> {
  if (process.platform === 'linux') {
    const viaProc = await fsp.readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (viaProc !== undefined && viaProc.startsWith('/') && !viaProc.endsWith(' (deleted)')) return viaProc;
  }
  return fsp.realpath(absPath).catch(() => undefined);
}
