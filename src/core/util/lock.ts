import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

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
      await fsp.writeFile(file, JSON.stringify(me), { flag: 'wx' });
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

async function readOwner(file: string): Promise<LockOwner | undefined> {
  try {
    const data = JSON.parse(await fsp.readFile(file, 'utf8')) as LockOwner;
    return typeof data.pid === 'number' ? data : undefined;
  } catch {
    return undefined;
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
