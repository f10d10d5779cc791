/**
 * Child process of worker-shutdown.test.ts: starts the inference worker with the tiny embedder,
 * starts a long embedding run (`SHUTDOWN_MODE=dispose`: disposes while the model runs;
 * `cancel`: cancels the run, then a short embed must be answered promptly, then disposes) and
 * prints one JSON line. Before the graceful close, disposing mid-run aborted this process inside
 * onnxruntime ("terminate called after throwing an instance of 'Napi::Error'").
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
  // Many small batches of long texts: the run lasts seconds, so the shutdown lands mid-run.
  const texts = Array.from({ length: 4000 }, (_, i) => `function handler${i}(request, response) { return retry(upload, queue, backoff, ${i}); } `.repeat(6));
  const controller = new AbortController();
  const long = client.call('embed', { texts, batchSize: 2 }, controller.signal).then(
    () => 'finished',
    (err: Error) => err.message,
  );
  // The first batches have run: the model is busy now.
  await new Promise((resolve) => setTimeout(resolve, 300));
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
