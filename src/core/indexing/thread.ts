import { Worker } from 'node:worker_threads';
import { IndexStore } from '../store/store';
import { SiftError, type SiftErrorCode, throwIfAborted } from '../util/errors';
import type { IndexEvent, IndexOptions, IndexSummary } from './indexer';

/** Messages from the indexing thread (src/core/indexing/indexerWorker.ts). */
export type IndexThreadMessage =
  | { type: 'event'; event: IndexEvent }
  | { type: 'done'; summary: IndexSummary }
  | { type: 'error'; message: string; name: string; code?: string };

/** What the indexing thread is started with: the options minus the parts that cannot cross threads. */
export type IndexThreadOptions = Omit<IndexOptions, 'client' | 'signal'>;

const SIFT_CODES: readonly SiftErrorCode[] = ['general', 'bad-input', 'index-corrupt', 'index-locked', 'index-changed', 'io', 'model-unavailable', 'aborted'];

/**
 * `indexWorkspace` on its own thread: discovery, reading, the index writes (BM25 build, vector
 * encoding, compression) and their garbage all stay off the calling thread — in the editor, the
 * extension host's — which only receives the events. The indexing thread talks to the inference
 * worker of `opts.client` directly (chunking, embedding), not through the caller.
 *
 * Same contract as `indexWorkspace`: events, then the summary; `opts.signal` cancels (what was
 * committed is kept); errors arrive with their message, name and Sift error code. Leaving the
 * loop early cancels the run and waits for the thread to release the index.
 *
 * @param script absolute path of the bundled indexing thread (dist/indexer.js)
 */
export async function* indexWorkspaceInThread(opts: IndexOptions, script: string): AsyncGenerator<IndexEvent, IndexSummary> {
  const { client, signal, ...options } = opts;
  throwIfAborted(signal);
  const port = client.connect();
  const workerData: { options: IndexThreadOptions; port: typeof port } = { options, port };
  const worker = new Worker(script, { workerData, transferList: [port] });

  const queue: (IndexThreadMessage | { type: 'crash'; message: string })[] = [];
  let wake: (() => void) | undefined;
  const push = (m: (typeof queue)[number]) => {
    queue.push(m);
    wake?.();
  };
  worker.on('message', (m: IndexThreadMessage) => push(m));
  // A thread that dies (crash, out of memory, terminate) cannot release its index lock: it is
  // released here once the thread is gone, so the next run of this process is not blocked.
  const thread = worker.threadId;
  let released: Promise<void> | undefined;
  const releaseLock = () => (released ??= IndexStore.releaseExitedWriter(options.indexDir, thread));
  worker.on('error', (err) => push({ type: 'crash', message: `The indexing thread crashed: ${err.message}` }));
  worker.on('exit', (code) => {
    void releaseLock().then(() => push({ type: 'crash', message: `The indexing thread stopped unexpectedly (exit code ${code}).` }));
  });
  const next = async () => {
    while (!queue.length) await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
    return queue.shift()!;
  };

  const abort = () => worker.postMessage({ type: 'abort' });
  signal?.addEventListener('abort', abort, { once: true });
  let settled = false;
  try {
    for (;;) {
      const m = await next();
      if (m.type === 'event') {
        yield m.event;
        continue;
      }
      settled = true;
      if (m.type === 'done') return m.summary;
      if (m.type === 'crash') throw new SiftError(m.message);
      throw rebuildError(m);
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    if (!settled) {
      // Left early (or the caller's loop threw): cancel, and let the thread close the store (its
      // write lock) before it is stopped.
      abort();
      for (let m = await next(); m.type === 'event'; m = await next());
    }
    await worker.terminate();
    await releaseLock();
  }
}

function rebuildError(m: { message: string; name: string; code?: string }): Error {
  const known = SIFT_CODES.find((c) => c === m.code);
  const err: Error & { code?: string } = known ? new SiftError(m.message, known) : new Error(m.message);
  err.name = m.name;
  if (!known && m.code) err.code = m.code;
  return err;
}
