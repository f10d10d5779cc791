import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { InferenceClient } from '../worker/client';
import { errorMessage } from '../util/errors';
import { runInBackground } from '../util/priority';
import { indexWorkspace } from './indexer';
import type { IndexThreadMessage, IndexThreadOptions } from './thread';

/**
 * The body of the indexing thread (see `indexWorkspaceInThread`): runs `indexWorkspace` with the
 * options it was started with and posts its events, then the summary or the error; then waits
 * for the next run (`{ type: 'run', options }`): a thread kept between updates starts the next one
 * with its modules, parsers and tokenizer already loaded. It ends when the inference worker's port
 * closes while it is idle. `wrapClient` lets a benchmark observe the calls to the inference worker;
 * `chunkScript` is this thread's own bundle, which a large pass starts again as chunking threads.
 */
export async function serveIndexThread(hooks: { wrapClient?: (client: InferenceClient) => InferenceClient; onFinish?: () => void; chunkScript?: string } = {}): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('the indexing thread must run inside a worker thread');
  const { options, port: inference } = workerData as { options: IndexThreadOptions; port: MessagePort };
  const post = (m: IndexThreadMessage) => port.postMessage(m);
  runInBackground();
  let controller: AbortController | undefined;
  const client = InferenceClient.overPort(inference);
  let running = false;
  inference.on('close', () => {
    if (!running) process.exit(0);
  });
  const run = async (opts: IndexThreadOptions) => {
    running = true;
    const abort = (controller = new AbortController());
    try {
      const it = indexWorkspace({ chunkThreadScript: hooks.chunkScript, ...opts, client: hooks.wrapClient?.(client) ?? client, signal: abort.signal });
      let r = await it.next();
      while (!r.done) {
        post({ type: 'event', event: r.value });
        r = await it.next();
      }
      hooks.onFinish?.();
      post({ type: 'done', summary: r.value });
    } catch (err) {
      const e = err as Error & { code?: unknown };
      post({ type: 'error', message: errorMessage(err), name: e?.name ?? 'Error', code: typeof e?.code === 'string' ? e.code : undefined });
    } finally {
      running = false;
    }
  };
  port.on('message', (m: { type?: string; options?: IndexThreadOptions }) => {
    if (m?.type === 'abort') controller?.abort();
    else if (m?.type === 'run' && m.options && !running) void run(m.options);
  });
  await run(options);
}
