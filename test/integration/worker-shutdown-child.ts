/**
 * Child process of worker-shutdown.test.ts: starts the inference worker with the tiny embedder,
 * starts a long embedding run (`SHUTDOWN_MODE=dispose`: disposes while the model runs;
 * `cancel`: cancels the run, then a short embed must be answered promptly, then disposes) and
 * prints one JSON line. Before the graceful close, disposing mid-run aborted this process inside
 * onnxruntime ("terminate called after throwing an instance of 'Napi::Error'"). `exit`:
 * process.exit() mid-run, which still aborts (Node stops the worker as terminate() did); not used
 * by the test, kept to show that limit.
 */
import * as path from 'node:path';
import * as os from 'node:os';
import { InferenceClient } from '../../src/core/worker/client';
import { TINY_EMBEDDER, WORKER_SCRIPT } from '../helpers';

async function main(): Promise<void> {
  const mode = process.env.SHUTDOWN_MODE ?? 'dispose';
  const client = new InferenceClient(WORKER_SCRIPT);
  await client.call('configure', { cacheDir: path.join(os.tmpdir(), 'sift-shutdown-models'), allowRemote: false });
  const loaded = await client.call('loadEmbedder', { model: TINY_EMBEDDER, dtype: 'fp32' });
  if (!loaded.ok) throw new Error(loaded.message);
  // Full-length texts in batches of 32: the worker spends nearly all of the run inside onnxruntime calls.
  const texts = Array.from({ length: 2000 }, (_, i) => `function handler${i}(request, response) { return retry(upload, queue, backoff, ${i}); } `.repeat(40));
  const controller = new AbortController();
  const long = client.call('embed', { texts, batchSize: 32 }, controller.signal).then(
    () => 'finished',
    (err: Error) => err.message,
  );
  // Requests run side by side: once a short embed is answered, the long run is in its model calls.
  await client.call('embed', { texts: ['the long run has started'] });
  const out: Record<string, unknown> = { mode };
  if (mode === 'exit') process.exit(0);
  if (mode === 'cancel') {
    controller.abort();
    const t0 = performance.now();
    const short = await client.call('embed', { texts: ['after cancel'] });
    out.shortAfterCancelMs = Math.round(performance.now() - t0);
    out.shortDim = short.length;
  }
  const t0 = performance.now();
  await client.dispose();
  out.disposeMs = Math.round(performance.now() - t0);
  out.long = await long;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exitCode = 1;
});
