import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { indexWorkspace } from '../../src/core/indexing/indexer';
import { indexWorkspaceInThread } from '../../src/core/indexing/thread';
import { LockedError, acquireLock } from '../../src/core/store/lock';
import { SiftError } from '../../src/core/util/errors';
import { InferenceClient } from '../../src/core/worker/client';
import { REPO_ROOT, WORKER_SCRIPT, tempDir, writeTree } from '../helpers';

const HOLDER = path.join(REPO_ROOT, 'test', 'support', 'lockHolderThread.mjs');
const FILES = { 'src/a.ts': 'export const retryCount = 3;\n', 'src/b.ts': 'export function backoff(n: number) { return n * 2; }\n' };

/** The writer lock is a thread of this process's: it must never be reported as another process. */
function lockedByThread(err: unknown): boolean {
  assert.ok(err instanceof SiftError, `a SiftError, got ${String(err)}`);
  assert.equal(err.code, 'index-locked');
  assert.match(err.message, /Another index update in this process \(thread \d+, started [^)]+\)/);
  assert.doesNotMatch(err.message, /Another Sift process/);
  return true;
}

describe('the writer lock and threads of one process (real index, lexical only)', () => {
  let client: InferenceClient;
  let dirs: { dir: string; cleanup: () => void };
  let n = 0;
  const folder = () => {
    const root = path.join(dirs.dir, `repo${++n}`);
    writeTree(root, FILES);
    return { root, indexDir: path.join(dirs.dir, `index${n}`) };
  };
  before(() => {
    dirs = tempDir();
    client = new InferenceClient(WORKER_SCRIPT);
  });
  after(async () => {
    await client.dispose();
    dirs.cleanup();
  });

  it('a live writer thread blocks a second writer with a message naming the thread; once terminated, this process indexes again', async () => {
    const { root, indexDir } = folder();
    const worker = new Worker(HOLDER, { workerData: { options: { indexDir }, then: 'hold' } });
    await once(worker, 'message');
    await assert.rejects(drain(indexWorkspace({ root, indexDir, embedding: null, client })), lockedByThread);

    // Terminated without releasing (nothing runs in the thread, and nobody calls release for it).
    await worker.terminate();
    const summary = await drain(indexWorkspace({ root, indexDir, embedding: null, client }));
    assert.equal(summary.files.indexed.length, 2);
    assert.ok(!existsSync(path.join(indexDir, 'writer.lock')), 'the run released its lock');
  });

  it('an indexing thread that dies holding the lock leaves no lock behind (indexWorkspaceInThread)', async () => {
    const { root, indexDir } = folder();
    const run = indexWorkspaceInThread({ root, indexDir, embedding: null, client }, HOLDER);
    await assert.rejects(drain(run), /The indexing thread stopped unexpectedly \(exit code 3\)/);
    // Released by the code that started the thread, on every platform (not only where /proc tells).
    assert.ok(!existsSync(path.join(indexDir, 'writer.lock')), 'the dead thread\'s lock is gone');
    const summary = await drain(indexWorkspace({ root, indexDir, embedding: null, client }));
    assert.equal(summary.files.indexed.length, 2);
  });

  it('the calling thread holding the lock, or an old lock of this pid from another process', async () => {
    const { indexDir } = folder();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(indexDir, { recursive: true });
    const file = path.join(indexDir, 'writer.lock');
    const release = await acquireLock(file);
    await assert.rejects(acquireLock(file), (err: unknown) => err instanceof LockedError && err.sameProcess && /locked by this thread of this process/.test(err.message));
    await release();
    // A lock naming this pid but written by an older process whose pid was reused (no thread, no token).
    writeFileSync(file, JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), since: '2020-01-01T00:00:00.000Z' }));
    const again = await acquireLock(file);
    await again();
  });
});

async function drain<T, R>(run: AsyncGenerator<T, R>): Promise<R> {
  for (;;) {
    const r = await run.next();
    if (r.done) return r.value;
  }
}
