import { constants, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';

/**
 * An exclusive writer lock: a file created with O_EXCL holding the owner's pid and host.
 * Unlike mtime-based locks (proper-lockfile), a lock left by a process killed with SIGKILL is
 * recognised as stale at once, because its pid is no longer alive — so a user who kills Sift can
 * re-run it immediately. A lock from another host (shared network folder) is never broken.
 */
export class LockedError extends Error {
  constructor(readonly owner: LockOwner) {
    super(`locked by pid ${owner.pid} on ${owner.host}`);
    this.name = 'LockedError';
  }
}

export interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

export async function acquireLock(file: string): Promise<() => Promise<void>> {
  const me: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
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
      return async () => {
        // Only remove the lock if it is still ours.
        const current = await readOwner(file);
        if (current?.pid === me.pid && current.host === me.host) await fsp.rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(file);
    if (owner && (owner.host !== me.host || isAlive(owner.pid))) throw new LockedError(owner);
    // Stale (dead owner or unreadable lock): move it aside atomically, so only one taker wins.
    await fsp.rename(file, `${file}.stale-${process.pid}`).then(
      () => fsp.rm(`${file}.stale-${process.pid}`, { force: true }),
      () => undefined,
    );
  }
  throw new Error(`could not acquire ${path.basename(file)}`);
}

/** A lock holds a few dozen bytes; anything larger is not a lock Sift wrote. */
const MAX_LOCK_BYTES = 4096;
const ownerSchema = z.object({
  // Positive: process.kill(0 or -n, 0) would ask about a whole process group.
  pid: z.number().int().min(1).max(2 ** 31 - 1),
  host: z.string().min(1).max(255),
  since: z.string().max(64),
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
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
