/**
 * The indexing thread as the extension runs it, plus a record of every `embed` call's token ids
 * (for P1's raw onnxruntime baseline on the same token batches), written to $SIFT_BENCH_EMBED_LOG
 * when the run ends. Bundled to plain JavaScript by the bench (bundleChild.ts), as dist/indexer.js is.
 */
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import type { InferenceClient } from '../../src/core/worker/client';
import type { TokenBatch } from '../../src/core/models/tokens';
import { serveIndexThread } from '../../src/core/indexing/threadRunner';

/** Each call's token ids, and when it was sent and answered (epoch ms, comparable across threads). */
const calls: { ids: number[]; offsets: number[]; sentAt: number; doneAt: number }[] = [];
const epoch = () => performance.timeOrigin + performance.now();
let embedMs = 0;
let cpuAtModel: number | undefined;

/** This thread's id and CPU time so far (Linux; the thread is gone when the round reads its process's threads). */
function threadCpuMs(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}
void serveIndexThread({
  wrapClient(client) {
    const spy = Object.create(client) as InferenceClient;
    spy.call = ((method: string, params: { tokens?: TokenBatch }, signal?: AbortSignal) => {
      if (method === 'tokenizerName') cpuAtModel = threadCpuMs(); // the first call after the 'model' event
      if (method !== 'embed') return client.call(method as never, params as never, signal);
      if (!params.tokens) throw new Error('the indexer no longer sends token ids: update the P1 baseline');
      const call = { ids: Array.from(params.tokens.ids), offsets: Array.from(params.tokens.offsets), sentAt: epoch(), doneAt: 0 };
      calls.push(call);
      const t = performance.now();
      return client.call('embed', params, signal).finally(() => {
        embedMs += performance.now() - t;
        call.doneAt = epoch();
      });
    }) as InferenceClient['call'];
    return spy;
  },
  onFinish() {
    // This thread's id (Linux), so the round can tell its CPU time from the other threads'.
    const tid = process.platform === 'linux' ? Number(readlinkSync('/proc/thread-self').split('/').pop()) : undefined;
    if (process.env.SIFT_BENCH_EMBED_LOG) writeFileSync(process.env.SIFT_BENCH_EMBED_LOG, JSON.stringify({ calls, embedMs, tid, cpuMs: cpuAtModel === undefined ? undefined : threadCpuMs()! - cpuAtModel }));
  },
});
