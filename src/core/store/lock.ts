import { randomBytes } from 'node:crypto';
import { constants, promises as fsp, readFileSync, readlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import { z } from 'zod';

/**
 * An exclusive writer lock: a file created with O_EXCL holding the owner's pid, host and thread.
 * Unlike mtime-based locks (proper-lockfile), a lock left by a process killed with SIGKILL is
 * recognised as stale at once, because its pid is no longer alive — so a user who kills Sift can
 * re-run it immediately. A lock from another host (shared network folder) is never broken.
 *
 * Threads: in the editor the writer is a thread of the extension-host process, so "the pid is
 * alive" says nothing when the pid is our own. A lock of this process is judged by its thread:
 * - held by the calling thread: alive when this thread's registry (`held`, keyed by the lock's
 *   real path) has its token, otherwise a leftover of this thread (stale);
 * - held by another thread: alive while that thread runs. On Linux the lock records the OS thread
 *   (`/proc/thread-self`) and its start time, so any thread's death is seen at once; everywhere,
 *   the code that starts a writer thread (`indexing/thread.ts`) calls `releaseThreadLock` when the
 *   thread exits.
 * The message of a live lock says which: another process, or another thread of this one.
 */
export class LockedError extends Error {
  constructor(
    readonly owner: LockOwner,
    /** The owner is a live thread of the calling process (not another process). */
    readonly sameProcess = false,
  ) {
    super(
      sameProcess
        ? `locked by ${owner.thread === threadId ? 'this thread' : `thread ${owner.thread ?? '?'}`} of this process (pid ${owner.pid}) since ${owner.since}`
        : `locked by pid ${owner.pid} on ${owner.host}`,
    );
    this.name = 'LockedError';
  }
}

export interface LockOwner {
  pid: number;
  host: string;
  since: string;
  /** Node thread id of the writer (worker_threads.threadId; 0 = main thread). */
  thread?: number;
  /** Random per acquisition: tells this lock from an older one of the same pid and thread. */
  token?: string;
  /** Linux OS thread id and start time (clock ticks) of the writer thread. */
  tid?: number;
  tidStart?: string;
}

/** This thread's locks: real path of the lock file → token. */
const held = new Map<string, string>();

export async function acquireLock(file: string): Promise<() => Promise<void>> {
  const me: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), thread: threadId, token: randomBytes(12).toString('hex'), ...osThread() };
  const key = await registryKey(file);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      // Owner-only (0600 whatever the umask); O_EXCL never follows a symlink in the way.
      const handle = await fsp.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        if (process.platform !== 'win32') await handle.chmod(0o600);
        await handle.writeFile(JSON.stringify(me));
      } finally {
        await handle.close();
      }
      held.set(key, me.token!);
      return async () => {
        if (held.get(key) === me.token) held.delete(key);
        // Only remove the lock if it is still ours.
        const current = await readOwner(file);
        if (current && current.token === me.token && current.pid === me.pid && current.host === me.host) await fsp.rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(file);
    if (owner && owner.host !== me.host) throw new LockedError(owner);
    if (owner && owner.pid === process.pid) {
      if (ownThreadAlive(owner, key)) throw new LockedError(owner, true);
    } else if (owner && isAlive(owner.pid)) {
      throw new LockedError(owner);
    }
    // Stale (dead owner or unreadable lock): move it aside atomically, so only one taker wins.
    await removeAside(file);
  }
  throw new Error(`could not acquire ${path.basename(file)}`);
}

/**
 * Called by the code that started a writer thread once that thread has exited (it cannot run its
 * own cleanup when terminated or crashed): removes the lock at `file` if that thread of this
 * process holds it. Anything else (another thread's or process's lock, no lock) is left alone.
 */
export async function releaseThreadLock(file: string, exitedThread: number): Promise<boolean> {
  if (exitedThread === threadId) return false;
  const owner = await readOwner(file);
  if (!owner || owner.pid !== process.pid || owner.host !== os.hostname() || owner.thread !== exitedThread) return false;
  await removeAside(file);
  return true;
}

async function removeAside(file: string): Promise<void> {
  const aside = `${file}.stale-${process.pid}-${threadId}`;
  await fsp.rename(file, aside).then(
    () => fsp.rm(aside, { force: true }),
    () => undefined,
  );
}

async function registryKey(file: string): Promise<string> {
  const dir = await fsp.realpath(path.dirname(file)).catch(() => path.resolve(path.dirname(file)));
  return path.join(dir, path.basename(file));
}

/** Is the lock of this process (owner.pid === process.pid) held by a live thread? */
function ownThreadAlive(owner: LockOwner, key: string): boolean {
  // A lock of this pid without a thread or token was written by another process whose pid was reused.
  if (owner.thread === undefined || !owner.token) return false;
  if (owner.thread === threadId) return held.get(key) === owner.token;
  const alive = osThreadAlive(owner);
  return alive ?? true;
}

/** The calling thread's OS thread id and start time (Linux), read synchronously on this thread. */
function osThread(): { tid?: number; tidStart?: string } {
  try {
    const tid = Number(/\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1]);
    const start = Number.isSafeInteger(tid) ? threadStart(tid) : undefined;
    return start ? { tid, tidStart: start } : {};
  } catch {
    return {};
  }
}

/** Whether the OS thread that wrote the lock still runs, or undefined when it cannot be told here. */
function osThreadAlive(owner: LockOwner): boolean | undefined {
  if (owner.tid === undefined || !owner.tidStart) return undefined;
  try {
    readlinkSync('/proc/thread-self');
  } catch {
    return undefined; // no /proc here (macOS, Windows): releaseThreadLock covers the editor's thread
  }
  return threadStart(owner.tid) === owner.tidStart;
}

/** Field 22 (starttime) of /proc/self/task/<tid>/stat; undefined when the thread is gone. */
function threadStart(tid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** A lock holds a few dozen bytes; anything larger is not a lock Sift wrote. */
const MAX_LOCK_BYTES = 4096;
const ownerSchema = z.object({
  // Positive: process.kill(0 or -n, 0) would ask about a whole process group.
  pid: z.number().int().min(1).max(2 ** 31 - 1),
  host: z.string().min(1).max(255),
  since: z.string().max(64),
  thread: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  token: z.string().max(64).optional(),
  tid: z.number().int().min(1).max(2 ** 31 - 1).optional(),
  tidStart: z.string().max(32).optional(),
});

/**
 * The lock's owner, or undefined when the file is not a lock Sift wrote (unreadable, a symlink, a
 * FIFO or device, too large, not JSON, wrong shape): such a lock is treated as stale and replaced.
 */
async function readOwner(file: string): Promise<LockOwner | undefined> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
    const st = await handle.stat();
    if (!st.isFile() || st.size > MAX_LOCK_BYTES) return undefined;
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const parsed = ownerSchema.safeParse(JSON.parse(buf.subarray(0, bytesRead).toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
