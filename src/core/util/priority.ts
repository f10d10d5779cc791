import { readlinkSync } from 'node:fs';
import * as os from 'node:os';

/** The nice value Sift's background threads run at (0 = normal, 19 = lowest). */
export const BACKGROUND_NICE = 10;

/**
 * Lowers the CPU priority of the calling thread (and of the threads it creates afterwards, such as
 * onnxruntime's intra-op pool, which inherit it), so that indexing and inference never take the
 * CPU from the editor's own threads. Linux only, where the nice value is per thread
 * (setpriority with a thread id, found through /proc/thread-self); elsewhere, or when it fails,
 * nothing changes. Returns whether it was applied.
 */
export function runInBackground(nice = BACKGROUND_NICE): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    if (os.getPriority(tid) >= nice) return true;
    os.setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
