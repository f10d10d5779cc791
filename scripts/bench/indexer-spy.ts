/**
 * The indexing thread as the extension runs it, plus a record of every `embed` call's texts (for
 * P1's raw onnxruntime baseline on the same batches), written to $SIFT_BENCH_EMBED_LOG when the
 * run ends. Loaded through tsx (the bench runs with `--import tsx`; workers inherit it).
 */
import { writeFileSync } from 'node:fs';
import type { InferenceClient } from '../../src/core/embedding/client';
import { serveIndexThread } from '../../src/core/index/threadRunner';

const calls: string[][] = [];
let embedMs = 0;
void serveIndexThread({
  wrapClient(client) {
    const spy = Object.create(client) as InferenceClient;
    spy.call = ((method: string, params: { texts?: string[] }, signal?: AbortSignal) => {
      if (method !== 'embed') return client.call(method as never, params as never, signal);
      calls.push(params.texts!);
      const t = performance.now();
      return client.call('embed', params as { texts: string[] }, signal).finally(() => (embedMs += performance.now() - t));
    }) as InferenceClient['call'];
    return spy;
  },
  onFinish() {
    if (process.env.SIFT_BENCH_EMBED_LOG) writeFileSync(process.env.SIFT_BENCH_EMBED_LOG, JSON.stringify({ calls, embedMs }));
  },
});
