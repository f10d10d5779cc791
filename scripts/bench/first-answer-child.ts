/**
 * Child process of the benchmark's P5 (time to first answer): a fresh Node process whose main
 * thread plays the extension host on a folder it has never indexed. It starts the inference worker
 * and the indexing thread (`indexWorkspaceInThread` with dist/indexer.js, lexical first, as the
 * editor does). At the keyword pass's first commit it asks a question on this thread from what is
 * committed then (the editor's "answered from what is ready", with the coverage it reports); the
 * moment the indexer reports every file searchable by keywords it asks again (the official P5
 * answer; the editor's path: hybrid where embedded, BM25 elsewhere). Its event
 * loop is watched from the start. It then lets the dense pass run a while (its rate) and cancels.
 * Prints one JSON line (FirstAnswerReport).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { searchChunks } from '../../src/core/answer/search';
import { DenseTracker } from '../../src/core/indexing/denseProgress';
import type { IndexEvent } from '../../src/core/indexing/indexer';
import { indexWorkspaceInThread } from '../../src/core/indexing/thread';
import { IndexStore } from '../../src/core/store/store';
import { InferenceClient } from '../../src/core/worker/client';
import { isAbortError } from '../../src/core/util/errors';
import type { FirstAnswerArgs, FirstAnswerReport } from './firstAnswer';

type Phase = keyof FirstAnswerReport['pauses'];

const loopMs = (h: ReturnType<typeof monitorEventLoopDelay>) => ({ max: h.max / 1e6, p99: h.percentile(99) / 1e6, mean: h.mean / 1e6 });

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as FirstAnswerArgs;
  (globalThis as { gc?: () => void }).gc?.();
  const t0 = performance.now();
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  // Which work the host thread's pauses come from: a 5 ms timer's lateness, by what ran meanwhile.
  let phase: Phase = 'indexing';
  const pauses: Record<Phase, number> = { indexing: 0, 'ready-question': 0, question: 0 };
  let tick = performance.now();
  const watch = setInterval(() => {
    const now = performance.now();
    pauses[phase] = Math.max(pauses[phase], now - tick - 5);
    tick = now;
  }, 5);
  const client = new InferenceClient(args.worker);
  await client.call('configure', { cacheDir: args.cacheDir, allowRemote: false, threads: args.threads });
  const abort = new AbortController();
  const run = indexWorkspaceInThread({ root: args.root, indexDir: args.indexDir, embedding: { model: args.model, dtype: args.dtype }, client, signal: abort.signal, lexicalFirst: true }, args.indexer);
  const tracker = new DenseTracker();
  const report: Partial<FirstAnswerReport> = {};
  let denseUntil = Infinity;
  let denseLoop: ReturnType<typeof monitorEventLoopDelay> | undefined;
  try {
    for (let r = await run.next(); !r.done; r = await run.next()) {
      const e: IndexEvent = r.value;
      tracker.observe(e);
      if (process.env.P5_DEBUG) process.stderr.write(`${Math.round(performance.now() - t0)} ${e.type}\n`);
      if (e.type === 'model') report.modelMs = performance.now() - t0;
      else if (e.type === 'plan') report.files = e.toProcess;
      else if (e.type === 'commit' && e.files && !report.ready) {
        // Answered from what is ready: the first commit's files (the pass goes on on its thread).
        const committedMs = performance.now() - t0;
        phase = 'ready-question';
        const { store, problem } = await IndexStore.openForRead(args.indexDir, { files: false });
        if (!store) throw new Error(`P5: the index cannot be read after the first commit: ${problem}`);
        try {
          const result = await searchChunks({ store, embedder: client, settings: { redactSecrets: true } }, args.question, { limit: 10, rerank: false });
          report.ready = { committedMs, answerMs: performance.now() - t0, hits: result.hits.length, files: e.files, chunks: store.chunkCount };
        } finally {
          await store.close();
          phase = 'indexing';
        }
      }
      else if (e.type === 'lexical-ready') {
        report.lexicalReadyMs = performance.now() - t0;
        report.chunks = e.chunks;
        // What indexing alone cost the host thread, before the question runs on it.
        report.loopBeforeQuestion = h.max / 1e6;
        phase = 'question';
        // The question, as the panel asks it once every folder is keyword-searchable.
        const { store, problem } = await IndexStore.openForRead(args.indexDir, { files: false });
        if (!store) throw new Error(`P5: the index cannot be read after lexical-ready: ${problem}`);
        try {
          const result = await searchChunks({ store, embedder: client, settings: { redactSecrets: true } }, args.question, { limit: 10, rerank: false });
          report.answerMs = performance.now() - t0;
          report.hits = result.hits.length;
          report.retrieval = result.retrieval;
          if (process.env.P5_DEBUG) process.stderr.write(`${Math.round(performance.now() - t0)} answered\n`);
        } finally {
          await store.close();
        }
        h.disable();
        clearInterval(watch);
        report.loop = loopMs(h);
        // Then the dense pass for a while, its own event-loop record.
        denseLoop = monitorEventLoopDelay({ resolution: 10 });
        denseLoop.enable();
        denseUntil = performance.now() + args.denseSeconds * 1000;
      } else if (e.type === 'dense' && performance.now() >= denseUntil) {
        abort.abort();
      }
    }
  } catch (err) {
    if (process.env.P5_DEBUG) process.stderr.write(`${Math.round(performance.now() - t0)} caught ${String(err)}\n`);
    if (!isAbortError(err)) throw err;
  }
  if (process.env.P5_DEBUG) process.stderr.write(`${Math.round(performance.now() - t0)} loop done\n`);
  denseLoop?.disable();
  clearInterval(watch);
  const d = tracker.status();
  const out: FirstAnswerReport = {
    files: report.files ?? 0,
    chunks: report.chunks ?? 0,
    modelMs: report.modelMs ?? 0,
    lexicalReadyMs: report.lexicalReadyMs ?? -1,
    answerMs: report.answerMs ?? -1,
    hits: report.hits ?? 0,
    ...(report.ready ? { ready: report.ready } : {}),
    retrieval: report.retrieval ?? 'none',
    loop: report.loop ?? loopMs(h),
    loopBeforeQuestion: report.loopBeforeQuestion ?? h.max / 1e6,
    pauses,
    denseLoop: denseLoop ? loopMs(denseLoop) : undefined,
    dense: { embedded: d.embedded, chunks: d.chunks, rate: d.rate },
  };
  // The worker may still be running an embedding batch of the cancelled pass (cancelling rejects the
  // call, the model run goes on): terminating the worker mid-run aborts the whole process inside
  // onnxruntime ("terminate called after throwing an instance of 'Napi::Error'"). One more embed
  // request waits its turn for the model, so the worker is idle when it is terminated.
  await client.call('embed', { texts: ['idle'] }).catch(() => undefined);
  if (process.env.P5_DEBUG) process.stderr.write(`${Math.round(performance.now() - t0)} worker idle\n`);
  await client.dispose();
  if (process.env.P5_DEBUG) process.stderr.write(`${Math.round(performance.now() - t0)} disposed\n`);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
