import { Worker } from 'node:worker_threads';
import { IndexStore } from '../store/store';
import type { InferenceClient } from '../worker/client';
import { SiftError, type SiftErrorCode, throwIfAborted } from '../util/errors';
import type { IndexEvent, IndexOptions, IndexSummary } from './indexer';

/** Messages from the indexing thread (src/core/indexing/indexerWorker.ts). */
export type IndexThreadMessage =
  | { type: 'event'; event: IndexEvent }
  | { type: 'done'; summary: IndexSummary }
  | { type: 'error'; message: string; name: string; code?: string };

/** What the indexing thread is started with: the options minus the parts that cannot cross threads. */
export type IndexThreadOptions = Omit<IndexOptions, 'client' | 'signal'>;

/**
 * Indexing threads kept between runs, one per inference client and script: a small edit then
 * starts with the thread's modules, parsers and tokenizer loaded (a new thread spent ~200 ms
 * there, more than the update itself). An idle thread does not keep the process alive, ends
 * after `IDLE_MS` unused, and ends by itself when its client's inference worker stops.
 */
const idleThreads = new WeakMap<InferenceClient, Map<string, { worker: Worker; timer: NodeJS.Timeout }>>();
const IDLE_MS = 120_000;

function takeIdle(client: InferenceClient, script: string): Worker | undefined {
  const idle = idleThreads.get(client)?.get(script);
  if (!idle) return undefined;
  idleThreads.get(client)!.delete(script);
  clearTimeout(idle.timer);
  idle.worker.ref();
  return idle.worker;
}

function putIdle(client: InferenceClient, script: string, worker: Worker): void {
  let byScript = idleThreads.get(client);
  if (!byScript) idleThreads.set(client, (byScript = new Map()));
  if (byScript.has(script)) {
    void worker.terminate();
    return;
  }
  const timer = setTimeout(() => {
    if (byScript.get(script)?.worker === worker) byScript.delete(script);
    void worker.terminate();
  }, IDLE_MS);
  timer.unref();
  worker.unref();
  byScript.set(script, { worker, timer });
  worker.once('exit', () => {
    if (byScript.get(script)?.worker !== worker) return;
    clearTimeout(byScript.get(script)!.timer);
    byScript.delete(script);
  });
}

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
  let worker = takeIdle(client, script);
  if (worker) {
    worker.postMessage({ type: 'run', options });
  } else {
    const port = client.connect();
    const workerData: { options: IndexThreadOptions; port: typeof port } = { options, port };
    worker = new Worker(script, { workerData, transferList: [port] });
  }
  const thread = worker.threadId;

  const queue: (IndexThreadMessage | { type: 'crash'; message: string })[] = [];
  let wake: (() => void) | undefined;
  const push = (m: (typeof queue)[number]) => {
    queue.push(m);
    wake?.();
  };
  const onMessage = (m: IndexThreadMessage) => push(m);
  worker.on('message', onMessage);
  // A thread that dies (crash, out of memory, terminate) cannot release its index lock: it is
  // released here once the thread is gone, so the next run of this process is not blocked.
  let released: Promise<void> | undefined;
  const releaseLock = () => (released ??= IndexStore.releaseExitedWriter(options.indexDir, thread));
  let exited = false;
  const onError = (err: Error) => push({ type: 'crash', message: `The indexing thread crashed: ${err.message}` });
  const onExit = (code: number) => {
    exited = true;
    void releaseLock().then(() => push({ type: 'crash', message: `The indexing thread stopped unexpectedly (exit code ${code}).` }));
  };
  worker.on('error', onError);
  worker.on('exit', onExit);
  const next = async () => {
    while (!queue.length) await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
    return queue.shift()!;
  };

  const abort = () => worker.postMessage({ type: 'abort' });
  signal?.addEventListener('abort', abort, { once: true });
  let settled = false;
  /** The thread answered this run (done or error) and is alive: it can serve the next one. */
  let reusable = false;
  try {
    for (;;) {
      const m = await next();
      if (m.type === 'event') {
        yield m.event;
        continue;
      }
      settled = true;
      reusable = m.type !== 'crash';
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
      let m = await next();
      while (m.type === 'event') m = await next();
      reusable = m.type !== 'crash';
    }
    worker.off('message', onMessage);
    worker.off('error', onError);
    worker.off('exit', onExit);
    if (reusable && !exited) {
      // The run closed its store (and released the lock) before it answered.
      putIdle(client, script, worker);
    } else {
      await worker.terminate();
      await releaseLock();
    }
  }
}

function rebuildError(m: { message: string; name: string; code?: string }): Error {
  const known = SIFT_CODES.find((c) => c === m.code);
  const err: Error & { code?: string } = known ? new SiftError(m.message, known) : new Error(m.message);
  err.name = m.name;
  if (!known && m.code) err.code = m.code;
  return err;
}
