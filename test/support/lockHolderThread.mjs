// A writer thread for test/integration/lock-threads.test.ts: takes the index's writer lock the way
// the indexing thread does (src/core/store/lock.ts, loaded through tsx) and never releases it. workerData: `{ options: { indexDir }, then }`,
// the shape `indexWorkspaceInThread` starts its thread with; `then` is 'hold' (stay alive until
// terminated) or 'crash' (the thread dies at once with the lock held).
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();

const lock = await import('../../src/core/store/lock.ts');
const { acquireLock } = lock.acquireLock ? lock : lock.default; // the package is CommonJS
mkdirSync(workerData.options.indexDir, { recursive: true, mode: 0o700 });
await acquireLock(path.join(workerData.options.indexDir, 'writer.lock'));
parentPort.postMessage({ type: 'event', event: { type: 'discovering', seen: 0 } });
if ((workerData.then ?? 'crash') === 'crash') process.exit(3);
globalThis.setInterval(() => undefined, 1 << 30); // alive until terminated
