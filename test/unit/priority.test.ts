import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { BACKGROUND_NICE, runInBackground } from '../../src/core/util/priority';

/** The nice value of the calling thread, from /proc (Linux). */
function ownNice(): number {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

describe('runInBackground', () => {
  it('lowers only the calling thread and the threads it starts afterwards (Linux; elsewhere it reports doing nothing)', async () => {
    if (process.platform !== 'linux') {
      assert.equal(runInBackground(), false);
      return;
    }
    const before = ownNice();
    // A worker lowers itself, then starts a worker of its own, which inherits the nice value.
    const code = `
      const { parentPort, Worker } = require('node:worker_threads');
      const { readFileSync } = require('node:fs');
      require(${JSON.stringify(require.resolve('tsx/cjs'))});
      const { runInBackground } = require(${JSON.stringify(require.resolve('../../src/core/util/priority'))});
      const nice = () => { const s = readFileSync('/proc/thread-self/stat', 'utf8'); return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]); };
      const applied = runInBackground();
      const child = new Worker("const { readFileSync } = require('node:fs'); const s = readFileSync('/proc/thread-self/stat', 'utf8'); require('node:worker_threads').parentPort.postMessage(Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]));", { eval: true });
      child.once('message', (childNice) => { parentPort.postMessage({ applied, own: nice(), childNice }); child.terminate(); });
    `;
    const worker = new Worker(code, { eval: true });
    const result = await new Promise<{ applied: boolean; own: number; childNice: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.deepEqual(result, { applied: true, own: BACKGROUND_NICE, childNice: BACKGROUND_NICE });
    assert.equal(ownNice(), before, 'the calling thread (the extension host) keeps its priority');
  });
});
