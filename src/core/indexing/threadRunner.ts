import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { InferenceClient } from '../worker/client';
import { errorMessage } from '../util/errors';
import { runInBackground } from '../util/priority';
import { indexWorkspace } from './indexer';
import type { IndexThreadMessage, IndexThreadOptions } from './thread';

/**
 * The body of the indexing thread (see `indexWorkspaceInThread`): runs `indexWorkspace` with the
 * options it was started with and posts its events, then the summary or the error. `wrapClient`
 * lets a benchmark observe the calls to the inference worker.
 */
export async function serveIndexThread(hooks: { wrapClient?: (client: InferenceClient) => InferenceClient; onFinish?: () => void } = {}): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('the indexing thread must run inside a worker thread');
  const { options, port: inference } = workerData as { options: IndexThreadOptions; port: MessagePort };
  const post = (m: IndexThreadMessage) => port.postMessage(m);
  runInBackground();
  const controller = new AbortController();
  port.on('message', (m: { type?: string }) => {
    if (m?.type === 'abort') controller.abort();
  });
  const client = InferenceClient.overPort(inference);
  try {
    const run = indexWorkspace({ ...options, client: hooks.wrapClient?.(client) ?? client, signal: controller.signal });
    let r = await run.next();
    while (!r.done) {
      post({ type: 'event', event: r.value });
      r = await run.next();
    }
    hooks.onFinish?.();
    post({ type: 'done', summary: r.value });
  } catch (err) {
    const e = err as Error & { code?: unknown };
    post({ type: 'error', message: errorMessage(err), name: e?.name ?? 'Error', code: typeof e?.code === 'string' ? e.code : undefined });
  } finally {
    await client.dispose();
  }
}
