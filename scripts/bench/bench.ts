/**
 * Sift's performance benchmark (issue 6): every figure beside a baseline or goal measured in the
 * same run. Used by `npm run bench` (scripts/bench/run.ts) and, with tiny models and sizes, by
 * test/integration/bench-smoke.test.ts so these code paths never rot.
 *
 *   P1 indexing chunks/s end to end vs raw onnxruntime on the same token batches; reopen time;
 *      embedding on WebAssembly (the universal package) vs native onnxruntime
 *   P2 rerank 50 candidates through the worker vs raw onnxruntime on the same pairs
 *   P3 dense + lexical + fusion latency, load time and bytes/chunk at several index sizes
 *   P4 main-thread event-loop delay while indexing / reranking; RSS with both models + N chunks
 */
import { createHash } from 'node:crypto';
import { mkdirSync, promises as fsp, readdirSync, readFileSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { AutoTokenizer, env as hfEnv, type PreTrainedTokenizer, type Tensor as HfTensor } from '@huggingface/transformers';
import { InferenceClient } from '../../src/core/worker/client';
import { encodePair, lengthSortedBatches, pairTensors } from '../../src/core/models/pairs';
import { embeddingText } from '../../src/core/models/text';
import { ModelTokenizer, type TokenizerSpec, paddedInputs } from '../../src/core/models/tokens';
import { chunkFile } from '../../src/core/chunking';
import { CHUNKER_VERSION, DEFAULT_MAX_TOKENS, type IndexEvent, type IndexSummary } from '../../src/core/indexing/indexer';
import { type FileUpdate, IndexStore } from '../../src/core/store/store';
import { indexWorkspaceInThread } from '../../src/core/indexing/thread';
import { retrieve } from '../../src/core/search/retriever';
import type { Chunk } from '../../src/core/types';
import { sha256Hex } from '../../src/core/util/fs';
import { queryText, rng, syntheticChunks, unitVector, writeSourceRepo } from './corpus';
import { type PlainFeeds, RawRunner } from './raw-runner';
import { BENCH_BUNDLES, bundleChild, runBundledChild } from './bundleChild';
import { benchBackends } from './backends';

/** P5 (time to first answer, scripts/bench/firstAnswer.ts) is run by run.ts beside runBench. */
export type Section = 'P1' | 'P2' | 'P3' | 'P4' | 'P5' | 'P6' | 'P7';
export const ALL_SECTIONS: Section[] = ['P1', 'P2', 'P3', 'P4'];

export interface BenchConfig {
  /** Absolute model folders (transformers.js layout with onnx/model_quantized.onnx). */
  embedder: string;
  reranker: string;
  workerScript: string;
  /** The bundled indexing thread (dist/indexer.js). */
  indexerScript: string;
  /** Scratch directory (corpora, indexes); the caller deletes it. */
  workDir: string;
  sections: Section[];
  threads: number;
  dtype: 'q8' | 'fp32';
  /** P1: files of the synthetic source repo indexed end to end, in each round. */
  p1Files: number;
  /** P1: rounds of (end to end, raw onnxruntime), alternating. */
  p1Rounds: number;
  /** P1: files of the repo that is indexed, then reopened unchanged. */
  reopenFiles: number;
  /** P2: timed rerank runs (distinct questions), candidates per run, tokens per pair, batch. */
  p2Runs: number;
  p2Candidates: number;
  p2MaxLength: number;
  p2Batch: number;
  /** P2: also time other truncation lengths / batch sizes and the score cache. */
  p2Variants: boolean;
  /** P3: index sizes (chunks) measured; vectors have the embedder's dimension. */
  p3Sizes: number[];
  p3Queries: number;
  /** P4: chunks in the index when RSS is measured with both models loaded. */
  p4Chunks: number;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
}

export interface Row {
  id: string;
  section: Section;
  metric: string;
  value: number;
  unit: string;
  /** What the figure is compared with, measured in the same run (or the goal itself). */
  baseline?: { label: string; value: number; unit: string };
  /** value ÷ baseline, or baseline ÷ value for throughputs (so "≥ goal" reads naturally). */
  ratio?: number;
  goal: string;
  /** undefined: informational row without a goal. */
  met?: boolean;
  note?: string;
}

export interface BenchResult {
  date: string;
  machine: MachineInfo;
  config: Omit<BenchConfig, 'log' | 'workDir'>;
  rows: Row[];
  seconds: number;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  platform: string;
  onnxruntime: string;
  /** 1-minute load average before and after the run (other processes compete for the 2 cores). */
  loadBefore: number;
  loadAfter?: number;
}

export function machineInfo(): MachineInfo {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    /* not Linux */
  }
  const ortPkg = JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string };
  return {
    cpu,
    cores: os.cpus().length,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
    onnxruntime: ortPkg.version,
    loadBefore: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

// ---------------------------------------------------------------------------------------------

export async function runBench(cfg: BenchConfig): Promise<BenchResult> {
  const started = performance.now();
  const machine = machineInfo();
  const rows: Row[] = [];
  const log = cfg.log ?? (() => undefined);
  mkdirSync(cfg.workDir, { recursive: true });
  const want = new Set(cfg.sections);
  hfEnv.allowRemoteModels = false;
  hfEnv.allowLocalModels = true;

  if (want.has('P1') || want.has('P4')) rows.push(...(await benchIndexing(cfg, log, want)));
  // Native vs WebAssembly (the universal package) on the same model and chunks.
  if (want.has('P1')) rows.push(...(await benchBackends(cfg, log, await passagesFor(cfg, 128))));
  if (want.has('P2') || want.has('P4')) rows.push(...(await benchRerank(cfg, log, want)));
  if (want.has('P3') || want.has('P4')) rows.push(...(await benchSearch(cfg, log, want)));

  machine.loadAfter = Math.round(os.loadavg()[0]! * 100) / 100;
  rows.sort((a, b) => ALL_SECTIONS.indexOf(a.section) - ALL_SECTIONS.indexOf(b.section)); // stable: keeps order within a section
  const { log: _log, workDir: _w, ...config } = cfg;
  return { date: new Date().toISOString(), machine, config, rows, seconds: Math.round((performance.now() - started) / 1000) };
}

// ---------------------------------------------------------------------------------------------
// P1 (and P4 indexing): end-to-end indexing vs raw onnxruntime on the same token batches.

async function newClient(cfg: BenchConfig): Promise<InferenceClient> {
  const client = new InferenceClient(cfg.workerScript);
  await client.call('configure', { cacheDir: path.join(cfg.workDir, 'model-cache'), allowRemote: false, threads: cfg.threads });
  return client;
}

async function drain(gen: AsyncGenerator<IndexEvent, IndexSummary>, onEvent?: (e: IndexEvent) => void): Promise<IndexSummary> {
  let r = await gen.next();
  while (!r.done) {
    onEvent?.(r.value);
    r = await gen.next();
  }
  return r.value;
}

function histogram(): IntervalHistogram {
  return monitorEventLoopDelay({ resolution: 10 });
}
const ms = (ns: number) => ns / 1e6;

function onnxFile(folder: string, dtype: string): string {
  return path.join(folder, 'onnx', dtype === 'fp32' ? 'model.onnx' : 'model_quantized.onnx');
}

/** Raw onnxruntime on its own thread at the worker's background priority (see raw-runner.ts). */
async function rawSession(folder: string, cfg: BenchConfig): Promise<RawRunner> {
  // Its thread runs raw-runner.ts bundled to plain JavaScript, as Sift's side runs its bundles (bundleChild.ts).
  const thread = await bundleChild(path.join(__dirname, 'raw-runner.ts'), BENCH_BUNDLES);
  return RawRunner.start(thread, onnxFile(folder, cfg.dtype), { intraOpNumThreads: cfg.threads, interOpNumThreads: 1 });
}

async function tokenizerFor(folder: string): Promise<PreTrainedTokenizer> {
  hfEnv.localModelPath = path.dirname(folder) + path.sep;
  return AutoTokenizer.from_pretrained(path.basename(folder));
}

function toOrt(inputs: Record<string, HfTensor>, names: readonly string[]): PlainFeeds {
  const feeds: PlainFeeds = {};
  for (const name of names) {
    const t = inputs[name];
    if (t) feeds[name] = { data: t.data as BigInt64Array, dims: t.dims as number[] };
    else if (name === 'token_type_ids') {
      const ids = inputs.input_ids!;
      feeds[name] = { data: new BigInt64Array((ids.data as BigInt64Array).length), dims: ids.dims as number[] };
    }
  }
  return feeds;
}

async function benchIndexing(cfg: BenchConfig, log: (l: string) => void, want: Set<Section>): Promise<Row[]> {
  const rows: Row[] = [];
  const repo = path.join(cfg.workDir, 'p1-repo');
  writeSourceRepo(repo, cfg.p1Files, { seed: 11 });
  log(`P1: indexing ${cfg.p1Files} files with ${path.basename(cfg.embedder)} (${cfg.dtype}, ${cfg.threads} threads), ${cfg.p1Rounds} round(s) alternating with raw onnxruntime`);

  // End to end as the extension does it: indexWorkspace on the indexing thread, talking to the
  // inference worker directly. The thread is Sift's own entry wrapped to record every embed call's
  // texts (the raw baseline replays them) — see indexer-spy.ts — bundled to plain JavaScript as
  // dist/indexer.js is (not loaded through tsx: bundleChild.ts).
  const spyEntry = await bundleChild(path.join(__dirname, 'indexer-spy.ts'), BENCH_BUNDLES);
  const embedLog = path.join(cfg.workDir, 'p1-embed-calls.json');
  const tokenizer = await tokenizerFor(cfg.embedder);
  const session = await rawSession(cfg.embedder, cfg);
  const padId = tokenizer.pad_token_id ?? 0;
  {
    // warm-up (the worker's model is warmed by its dimension probe)
    const warm = tokenizer(['warm up'], { padding: true, truncation: true }) as unknown as Record<string, HfTensor>;
    await session.run([toOrt(warm, session.inputNames)]);
  }
  // Rounds alternate end to end and raw, so drifting machine load hits both alike; throughputs are
  // pooled over the rounds. Each end-to-end round runs in a fresh process playing the extension
  // host (index-child.ts), with an event-loop histogram of its own from the start of the run: this
  // process holds the raw baseline's session, tokenizer and token logs, whose garbage collections
  // are not the extension host's (and a raw run blocks this thread).
  const loop = { max: 0, p99: 0, mean: 0 };
  const perRoundLoop: string[] = [];
  const allStalls: Stall[] = [];
  let e2eMs = 0;
  let e2eCpuMs = 0;
  let embedMs = 0;
  let modelMs = 0;
  let chunks = 0;
  let rawMs = 0;
  let rawCount = 0;
  let rawCpuMs = 0;
  const perRound: string[] = [];
  // The time no embed request was queued or running (the worker idle): before the first, between, after the last.
  const idleStarts: number[] = [];
  const idleMid: number[] = [];
  const idleEnds: number[] = [];
  const threadSplits: ThreadSplit[] = [];
  let last: IndexRoundReport | undefined;
  let previous: { key: string; feeds: PlainFeeds[] } | undefined;
  try {
    for (let round = 0; round < cfg.p1Rounds; round++) {
      // The benchmark's own garbage (the previous raw round's token arrays and tensors) is
      // collected first, so this process does not collect it during the round (npm run bench
      // passes --expose-gc).
      (globalThis as { gc?: () => void }).gc?.();
      // Rounds alternate which goes first (end to end, raw; then raw, end to end; ...), so a steady
      // drift in the machine's speed does not always favour the same side. Raw first replays the
      // previous round's batches, checked below to equal this round's (indexing is deterministic).
      const rawFirst = round % 2 === 1 && previous ? await session.run(previous.feeds) : undefined;
      const rep = await runChild<IndexRoundReport>('index-child.ts', {
        worker: cfg.workerScript,
        entry: spyEntry,
        root: repo,
        indexDir: path.join(cfg.workDir, `p1-index-${round}`),
        model: cfg.embedder,
        dtype: cfg.dtype,
        threads: cfg.threads,
        cacheDir: path.join(cfg.workDir, 'model-cache'),
      } satisfies IndexRoundArgs, { SIFT_BENCH_EMBED_LOG: embedLog });
      if (!rep.embedding) throw new Error(`P1: the embedding model did not load: ${rep.notices.join(' ')}`);
      last = rep;
      if (round === 0) modelMs = rep.modelMs;
      const ms1 = rep.wallMs;
      loop.max = Math.max(loop.max, rep.loop.max);
      loop.p99 = Math.max(loop.p99, rep.loop.p99);
      loop.mean = Math.max(loop.mean, rep.loop.mean);
      perRoundLoop.push(rep.loop.max.toFixed(1));
      allStalls.push(...rep.stalls);
      const logged = JSON.parse(readFileSync(embedLog, 'utf8')) as { calls: { ids: number[]; offsets: number[]; sentAt: number; doneAt: number }[]; embedMs: number; tid?: number; cpuMs?: number };
      const split = threadSplit(rep, logged.tid, logged.cpuMs);
      const idle = idleTimes(logged.calls, rep.startedAt, rep.endedAt);
      idleStarts.push(Math.round(idle.before));
      idleMid.push(Math.round(idle.between));
      idleEnds.push(Math.round(idle.after));
      if (split) threadSplits.push(split);
      e2eMs += ms1;
      e2eCpuMs += rep.cpuMs;
      embedMs += logged.embedMs;
      chunks += rep.embedded;

      // Raw: onnxruntime-node directly, same model file, the same token ids in the same batches of
      // 32 (the worker's batch), padded the same way; only session.run is timed.
      let roundRawCount = 0;
      const feeds: PlainFeeds[] = [];
      const key = createHash('sha256');
      for (const call of logged.calls) {
        const batch = { ids: Int32Array.from(call.ids), offsets: Int32Array.from(call.offsets) };
        key.update(new Uint8Array(batch.ids.buffer)).update(new Uint8Array(batch.offsets.buffer));
        const n = batch.offsets.length - 1;
        for (let i = 0; i < n; i += 32) {
          const { ids, mask, dims } = paddedInputs(batch, i, Math.min(n, i + 32), padId);
          feeds.push(toOrt({ input_ids: { data: ids, dims }, attention_mask: { data: mask, dims } } as unknown as Record<string, HfTensor>, session.inputNames));
          roundRawCount += dims[0];
        }
      }
      const batchesKey = key.digest('hex');
      if (rawFirst && batchesKey !== previous!.key) throw new Error('P1: the indexer sent different token batches than in the previous round; the raw run cannot be paired with it');
      previous = { key: batchesKey, feeds };
      const timed = rawFirst ?? (await session.run(feeds));
      const roundRawMs = timed.ms.reduce((a, b) => a + b, 0);
      rawCpuMs += timed.cpuMs;
      rawMs += roundRawMs;
      rawCount += roundRawCount;
      const ratio = rep.embedded / (ms1 / 1000) / (roundRawCount / (roundRawMs / 1000));
      perRound.push(ratio.toFixed(2));
      log(`P1 round ${round + 1}: end to end ${rep.embedded} chunks in ${Math.round(ms1)} ms, raw ${roundRawCount} in ${Math.round(roundRawMs)} ms → ${ratio.toFixed(3)}×${rawFirst ? ' (raw first)' : ''}; worker idle ${idle.before.toFixed(0)} ms before the first embed, ${idle.between.toFixed(0)} ms between, ${idle.after.toFixed(0)} ms after the last; event loop max ${rep.loop.max.toFixed(1)} ms`);
      for (const st of rep.stalls) log(`  stall at ${st.atMs} ms: ${st.lateMs} ms late; over the ${st.windowMs} ms to it steal ${st.stealMs} ms (all CPUs), this thread's CPU ${st.ownCpuMs} ms; its GC ${st.gcMs} ms`);
      if (split) log(`  CPU s: raw ${(timed.cpuMs / 1000).toFixed(1)}; end to end: ${describeSplit(split)}`);
    }
  } finally {
    await session.release();
  }
  const model = last!.embedding!;
  const tokenizerName = last!.tokenizer;
  const e2eRate = chunks / (e2eMs / 1000);
  const rawRate = rawCount / (rawMs / 1000);
  const e2eCpu = { user: e2eCpuMs * 1000, system: 0 };
  if (want.has('P1')) {
    rows.push({
      id: 'P1.index.throughput',
      section: 'P1',
      metric: `indexing end to end (${last!.filesIndexed} files × ${cfg.p1Rounds}, ${chunks} chunks)`,
      value: round(e2eRate, 1),
      unit: 'chunks/s',
      baseline: { label: 'raw onnxruntime, same batches', value: round(rawRate, 1), unit: 'chunks/s' },
      ratio: round(e2eRate / rawRate, 2),
      goal: '≥ 0.9×',
      met: e2eRate / rawRate >= 0.9,
      // CPU time (all threads of the process) is far less sensitive to other load than wall time.
      note: `CPU time: raw ${Math.round(rawCpuMs)} ms vs end to end ${Math.round((e2eCpu.user + e2eCpu.system) / 1000)} ms (${round(rawCpuMs / ((e2eCpu.user + e2eCpu.system) / 1000), 2)}×); embed calls ${Math.round(embedMs)} ms of ${Math.round(e2eMs)} ms wall; model load ${Math.round(modelMs)} ms (not counted); per round ${perRound.join(', ')}×; no embed request queued: ${idleStarts.join('/')} ms before the first, ${idleMid.join('/')} ms between, ${idleEnds.join('/')} ms after the last${threadSplits.length ? `; CPU s per round by thread: ${describeSplit(meanSplit(threadSplits))}` : ''}`,
    });
  }
  if (want.has('P4')) {
    rows.push({
      id: 'P4.eventloop.indexing',
      section: 'P4',
      metric: 'main-thread event-loop delay while indexing (max)',
      value: round(loop.max, 1),
      unit: 'ms',
      baseline: { label: 'p99', value: round(loop.p99, 1), unit: 'ms' },
      goal: '≤ 50 ms',
      met: loop.max <= 50,
      note: `the indexing run's host thread, in a fresh process; worst round of ${cfg.p1Rounds} (${perRoundLoop.join(', ')} ms); mean ${round(loop.mean, 1)} ms${describeStalls(allStalls)}`,
    });
  }

  if (want.has('P1')) rows.push(await benchReopen(cfg, log, { model: model.model, dtype: model.dtype, dim: model.dim }, tokenizerName));
  return rows;
}

/** Builds an index of `reopenFiles` one-chunk files through the store API, then reopens it with the indexer. */
async function benchReopen(cfg: BenchConfig, log: (l: string) => void, embedding: { model: string; dtype: string; dim: number }, tokenizer: string): Promise<Row> {
  const repo = path.join(cfg.workDir, 'reopen-repo');
  const indexDir = path.join(cfg.workDir, 'reopen-index');
  log(`P1: reopening an unchanged repository of ${cfg.reopenFiles} files`);
  const r = rng(5);
  const rels: string[] = [];
  for (let f = 0; f < cfg.reopenFiles; f++) {
    const rel = `pkg${f % 100}/sub${Math.floor(f / 100) % 10}/file${f}.ts`;
    const full = path.join(repo, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    await fsp.writeFile(full, `export const value${f} = ${f};\nexport function f${f}() { return value${f} * 2; }\n`);
    rels.push(rel);
  }
  const { store } = await IndexStore.open(indexDir, {
    root: repo,
    embedding,
    chunker: { version: CHUNKER_VERSION, maxTokens: DEFAULT_MAX_TOKENS, tokenizer },
    lock: true,
  });
  for (let i = 0; i < rels.length; i += 4000) {
    const upserted: FileUpdate[] = [];
    for (const rel of rels.slice(i, i + 4000)) {
      const full = path.join(repo, rel);
      const buf = await fsp.readFile(full);
      const st = statSync(full);
      const [chunk] = syntheticChunks(r, upserted.length + i, 1, 80).map((c) => ({ ...c, path: rel, id: sha256Hex(rel, 16) }));
      upserted.push({ path: rel, entry: { hash: sha256Hex(buf, 16), size: st.size, mtimeMs: st.mtimeMs }, chunks: [chunk!], vectors: [unitVector(r, embedding.dim)] });
    }
    await store.commit({ removed: [], upserted });
  }
  await store.close();

  // Reopen: a new worker, model load, full walk with stat, nothing re-read — what a new editor session does.
  const t = performance.now();
  const client = await newClient(cfg);
  let modelMs = 0;
  const run = indexWorkspaceInThread({ root: repo, indexDir, embedding: { model: cfg.embedder, dtype: cfg.dtype }, client }, cfg.indexerScript);
  const summary = await drain(run, (e) => {
    if (e.type === 'model') modelMs = performance.now() - t;
  });
  const total = performance.now() - t;
  await client.dispose();
  if (summary.embedded !== 0 || summary.files.changed.length !== 0 || summary.notices.length) {
    throw new Error(`P1 reopen: expected an unchanged index, got ${summary.files.changed.length} changed, notices: ${summary.notices.join(' ')}`);
  }
  return {
    id: 'P1.reopen',
    section: 'P1',
    metric: `reopen unchanged repository (${summary.files.indexed.length} files)`,
    value: round(total / 1000, 2),
    unit: 's',
    baseline: { label: 'goal', value: 5, unit: 's' },
    ratio: round(total / 5000, 2),
    goal: '≤ 5 s',
    met: total <= 5000,
    note: `worker start + model load ${Math.round(modelMs)} ms, walk + stat + manifest ${Math.round(total - modelMs)} ms`,
  };
}

// ---------------------------------------------------------------------------------------------
// P2 (and P4 reranking): cross-encoder through the worker vs raw onnxruntime on the same pairs.

async function passagesFor(cfg: BenchConfig, n: number): Promise<string[]> {
  // Real chunks of the P1 corpus when it exists (sizes as the chunker makes them), else synthetic.
  const indexDir = path.join(cfg.workDir, 'p1-index-0');
  const out: string[] = [];
  const { store } = await IndexStore.openForRead(indexDir);
  if (store) {
    const all: Chunk[] = [];
    for await (const c of store.allChunks()) all.push(c);
    all.sort((a, b) => b.text.length - a.text.length);
    for (const c of all.slice(0, n)) out.push(embeddingText(c));
    await store.close();
  }
  const r = rng(3);
  let f = 0;
  while (out.length < n) out.push(...syntheticChunks(r, f++, 1, 1200).map(embeddingText));
  return out.slice(0, n);
}

/**
 * `n` chunks of this repository's TypeScript sources, chunked as the indexer chunks them (the
 * reranker's tokenizer counting), drawn at random: pair lengths as retrieval hands them over.
 */
async function passagesAsChunked(cfg: BenchConfig, n: number): Promise<string[]> {
  const tokens = new ModelTokenizer({
    json: JSON.parse(readFileSync(path.join(cfg.reranker, 'tokenizer.json'), 'utf8')) as object,
    config: JSON.parse(readFileSync(path.join(cfg.reranker, 'tokenizer_config.json'), 'utf8')) as TokenizerSpec['config'],
  });
  const src = path.join(__dirname, '..', '..', 'src');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).sort();
  const chunks: string[] = [];
  for (const f of files) {
    const rel = path.join('src', f).split(path.sep).join('/');
    for (const c of await chunkFile({ path: rel, text: readFileSync(path.join(src, f), 'utf8') }, { maxTokens: DEFAULT_MAX_TOKENS, tokenCounter: tokens.counter })) chunks.push(embeddingText(c));
  }
  const r = rng(5);
  for (let i = chunks.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [chunks[i], chunks[j]] = [chunks[j]!, chunks[i]!];
  }
  return chunks.slice(0, n);
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

async function benchRerank(cfg: BenchConfig, log: (l: string) => void, want: Set<Section>): Promise<Row[]> {
  const rows: Row[] = [];
  const passages = await passagesFor(cfg, cfg.p2Candidates);
  log(`P2: reranking ${passages.length} candidates × ${cfg.p2Runs} runs with ${path.basename(cfg.reranker)} (${cfg.dtype})`);
  const client = await newClient(cfg);
  const loaded = await client.call('loadReranker', { model: cfg.reranker, dtype: cfg.dtype });
  if (!loaded.ok) throw new Error(`P2: ${loaded.message}`);
  const tokenizer = await tokenizerFor(cfg.reranker);
  const session = await rawSession(cfg.reranker, cfg);
  const r = rng(17);

  let rawCpuMs = 0;
  // The same pairs in the same batches as the worker (grouped by length; `inOrder`: batches in the
  // given order instead, as the worker made them before it grouped by length).
  const rawRerank = async (query: string, maxLength: number, batch: number, which = passages, inOrder = false) => {
    const encoded = which.map((p) => encodePair(tokenizer, query, p, maxLength));
    const plan = inOrder ? encoded.map((_, i) => i).reduce<number[][]>((acc, i) => (i % batch ? acc.at(-1)!.push(i) : acc.push([i]), acc), []) : lengthSortedBatches(encoded.map((e) => e.ids.length), batch);
    const timed = await session.run(plan.map((rows) => toOrt(pairTensors(tokenizer, rows.map((r) => encoded[r]!)), session.inputNames)));
    rawCpuMs = timed.cpuMs;
    return timed.ms.reduce((a, b) => a + b, 0);
  };
  const workerRerank = async (query: string, maxLength: number, batch: number, which = passages) => {
    const t = performance.now();
    await client.call('rerank', { query, passages: which, maxLength, batchSize: batch });
    return performance.now() - t;
  };

  // Warm-up both, then alternate worker and raw runs so drifting machine load hits both alike.
  await workerRerank(queryText(r), cfg.p2MaxLength, cfg.p2Batch);
  await rawRerank(queryText(r), cfg.p2MaxLength, cfg.p2Batch);
  const workerTimes: number[] = [];
  const rawTimes: number[] = [];
  const rawCpu: number[] = [];
  for (let i = 0; i < cfg.p2Runs; i++) {
    const q = queryText(r);
    workerTimes.push(await workerRerank(q, cfg.p2MaxLength, cfg.p2Batch));
    rawTimes.push(await rawRerank(q, cfg.p2MaxLength, cfg.p2Batch));
    rawCpu.push(rawCpuMs);
  }
  // CPU time is what the model costs whatever else runs on the machine: on an idle machine with
  // `threads` cores free, the wall time of the raw run approaches cpu / threads.
  const idleEstimate = percentile(rawCpu, 50) / cfg.threads;
  const p50 = percentile(workerTimes, 50);
  const p95 = percentile(workerTimes, 95);
  const raw50 = percentile(rawTimes, 50);
  const raw95 = percentile(rawTimes, 95);
  const label = `${passages.length} pairs × ${cfg.p2MaxLength} tok, batch ${cfg.p2Batch}, ${cfg.dtype}`;
  if (want.has('P2')) {
    rows.push({
      id: 'P2.rerank.p50',
      section: 'P2',
      metric: `rerank p50 (${label})`,
      value: Math.round(p50),
      unit: 'ms',
      baseline: { label: 'raw onnxruntime p50, same pairs', value: Math.round(raw50), unit: 'ms' },
      ratio: round(p50 / raw50, 2),
      goal: '≤ 1.2× and ≤ 1000 ms',
      met: p50 / raw50 <= 1.2 && p50 <= 1000,
      note: `raw onnxruntime CPU time ${Math.round(percentile(rawCpu, 50))} ms per rerank → ≈ ${Math.round(idleEstimate)} ms wall with ${cfg.threads} idle cores`,
    });
    rows.push({
      id: 'P2.rerank.p95',
      section: 'P2',
      metric: `rerank p95 (${label})`,
      value: Math.round(p95),
      unit: 'ms',
      baseline: { label: 'raw onnxruntime p95, same pairs', value: Math.round(raw95), unit: 'ms' },
      ratio: round(p95 / raw95, 2),
      goal: '≤ 1.2×',
      met: p95 / raw95 <= 1.2,
    });
  }
  if (want.has('P4')) {
    // Worker-only reranks, the monitor running throughout (the raw runs above block this thread,
    // and a monitor paused across them reports that gap as delay).
    const h = histogram();
    h.enable();
    const runs = Math.min(cfg.p2Runs, 5);
    for (let i = 0; i < runs; i++) await workerRerank(queryText(r), cfg.p2MaxLength, cfg.p2Batch);
    h.disable();
    rows.push({
      id: 'P4.eventloop.rerank',
      section: 'P4',
      metric: 'main-thread event-loop delay while reranking in the worker (max)',
      value: round(ms(h.max), 1),
      unit: 'ms',
      baseline: { label: 'p99', value: round(ms(h.percentile(99)), 1), unit: 'ms' },
      goal: '≤ 50 ms',
      met: ms(h.max) <= 50,
      note: `${Math.min(cfg.p2Runs, 5)} reranks of ${passages.length} pairs`,
    });
  }

  if (want.has('P2') && cfg.p2Variants) {
    // The levers: truncation length and batch size (each vs raw onnxruntime with the same setting).
    const variants: { maxLength: number; batch: number }[] = [
      { maxLength: 128, batch: cfg.p2Batch },
      { maxLength: 192, batch: cfg.p2Batch },
      { maxLength: cfg.p2MaxLength, batch: 10 },
      { maxLength: cfg.p2MaxLength, batch: 25 },
      { maxLength: cfg.p2MaxLength, batch: passages.length },
    ];
    const runs = Math.max(2, Math.ceil(cfg.p2Runs / 3));
    for (const v of variants) {
      const wt: number[] = [];
      const rt: number[] = [];
      for (let i = 0; i < runs; i++) {
        const q = queryText(r);
        wt.push(await workerRerank(q, v.maxLength, v.batch));
        rt.push(await rawRerank(q, v.maxLength, v.batch));
      }
      const w50 = percentile(wt, 50);
      const r50 = percentile(rt, 50);
      rows.push({
        id: `P2.variant.len${v.maxLength}.batch${v.batch}`,
        section: 'P2',
        metric: `rerank p50, ${v.maxLength} tok, batch ${v.batch}`,
        value: Math.round(w50),
        unit: 'ms',
        baseline: { label: 'raw onnxruntime p50, same setting', value: Math.round(r50), unit: 'ms' },
        ratio: round(w50 / r50, 2),
        goal: 'informational',
        note: `${runs} runs; vs default setting ${Math.round(p50)} ms`,
      });
    }

    // Pairs as long as chunks really are: the rows above read the longest chunks (every pair fills
    // the truncation length, the worst case); retrieved candidates are a mix of short and long
    // chunks. Here: chunks of this repository's own sources, chunked as the indexer does.
    const chunked = await passagesAsChunked(cfg, passages.length);
    const lengths = chunked.map((p) => encodePair(tokenizer, 'where do we retry failed uploads', p, cfg.p2MaxLength).ids.length);
    const meanLen = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    const full = lengths.filter((l) => l >= cfg.p2MaxLength).length;
    const wt: number[] = [];
    const rt: number[] = [];
    const rtInOrder: number[] = [];
    for (let i = 0; i < runs; i++) {
      const q = queryText(r);
      wt.push(await workerRerank(q, cfg.p2MaxLength, cfg.p2Batch, chunked));
      rt.push(await rawRerank(q, cfg.p2MaxLength, cfg.p2Batch, chunked));
      rtInOrder.push(await rawRerank(q, cfg.p2MaxLength, cfg.p2Batch, chunked, true));
    }
    const w50 = percentile(wt, 50);
    const r50 = percentile(rt, 50);
    rows.push({
      id: `P2.variant.chunked.len${cfg.p2MaxLength}.batch${cfg.p2Batch}`,
      section: 'P2',
      metric: `rerank p50, ${chunked.length} chunks of Sift's own sources (mean ${Math.round(meanLen)} tok/pair, ${full} at ${cfg.p2MaxLength}), batch ${cfg.p2Batch}`,
      value: Math.round(w50),
      unit: 'ms',
      baseline: { label: 'raw onnxruntime p50, same batches', value: Math.round(r50), unit: 'ms' },
      ratio: round(w50 / r50, 2),
      goal: 'informational',
      note: `${runs} runs; raw onnxruntime with batches in retrieval order (not grouped by length): ${Math.round(percentile(rtInOrder, 50))} ms`,
    });
  }
  await session.release();
  await client.dispose();
  return rows;
}

// ---------------------------------------------------------------------------------------------
// P3 (and P4 RSS): a synthetic index filled through the store API, searched with retrieve().

export const CHUNKS_PER_FILE = 20;

async function benchSearch(cfg: BenchConfig, log: (l: string) => void, want: Set<Section>): Promise<Row[]> {
  const rows: Row[] = [];
  const dim = await embedderDim(cfg);
  const sizes = [...new Set([...(want.has('P3') ? cfg.p3Sizes : []), ...(want.has('P4') ? [cfg.p4Chunks] : [])])].sort((a, b) => a - b);
  const indexDir = path.join(cfg.workDir, 'p3-index');
  const r = rng(23);
  const openWriter = async () =>
    (
      await IndexStore.open(indexDir, {
        root: path.join(cfg.workDir, 'p3-repo'),
        embedding: { model: 'bench-synthetic', dtype: cfg.dtype, dim },
        chunker: { version: CHUNKER_VERSION, maxTokens: DEFAULT_MAX_TOKENS, tokenizer: 'heuristic' },
        lock: true,
      })
    ).store;
  let count = 0;
  let file = 0;
  let writeMs = 0;
  for (const size of sizes) {
    log(`P3: filling the index to ${size} chunks (${dim}-dim vectors)`);
    // A writer keeps every shard it wrote in memory: reopen it per size so only one index is held.
    const writer = await openWriter();
    while (count < size) {
      // One commit per ~4000 chunks: each fills a fresh shard, as a large first index does.
      const upserted: FileUpdate[] = [];
      let n = 0;
      while (count + n < size && n < 4000) {
        const k = Math.min(CHUNKS_PER_FILE, size - count - n);
        const chunks = syntheticChunks(r, file, k);
        upserted.push({ path: chunks[0]!.path, entry: { hash: sha256Hex(`f${file}`, 16), size: 1, mtimeMs: 1 }, chunks, vectors: chunks.map(() => unitVector(r, dim)) });
        file++;
        n += k;
      }
      const t = performance.now();
      await writer.commit({ removed: [], upserted });
      writeMs += performance.now() - t;
      count += n;
    }
    await writer.close();
    // Readers below open the index afresh, as a new session would.
    if (want.has('P3') && cfg.p3Sizes.includes(size)) rows.push(...(await measureSearch(cfg, indexDir, size, dim)));
    if (want.has('P4') && size === cfg.p4Chunks) rows.push(...(await measureRss(cfg, indexDir, size)));
  }
  log(`P3: wrote ${count} chunks in ${Math.round(writeMs / 1000)} s`);
  return rows;
}

async function embedderDim(cfg: BenchConfig): Promise<number> {
  const config = JSON.parse(await fsp.readFile(path.join(cfg.embedder, 'config.json'), 'utf8')) as { hidden_size?: number };
  return config.hidden_size ?? 384;
}

/** A stand-in for the inference worker that returns a fixed query vector (P3 times search, not the model). */
function vectorEmbedder(vector: number[]): InferenceClient {
  return { call: async () => Float32Array.from(vector) } as unknown as InferenceClient;
}

async function measureSearch(cfg: BenchConfig, indexDir: string, size: number, dim: number): Promise<Row[]> {
  const r = rng(size);
  const bytes = await directoryBytes(indexDir);
  // The inference worker searches half of the shards while this thread searches the others (as
  // in `sift ask` and the editor, where it is already running for the query embedding).
  const searcher = await newClient(cfg);
  // Load: open read-only and answer the first query (loads every shard's vectors and BM25 index).
  const t = performance.now();
  const { store } = await IndexStore.openForRead(indexDir, { files: false });
  if (!store) throw new Error('P3: index did not open');
  await retrieve(store, queryText(r), { embedder: vectorEmbedder(unitVector(r, dim)), searcher });
  const loadMs = performance.now() - t;
  const totals: number[] = [];
  const dense: number[] = [];
  const lexical: number[] = [];
  for (let q = 0; q < cfg.p3Queries; q++) {
    const res = await retrieve(store, queryText(r), { embedder: vectorEmbedder(unitVector(r, dim)), searcher });
    const { dense: d, lexical: l, fuse: f } = res.timings;
    totals.push(d + l + f);
    dense.push(d);
    lexical.push(l);
  }
  await store.close();
  await searcher.dispose();
  const p50 = percentile(totals, 50);
  const perChunk = bytes / size;
  const k = size >= 1000 ? `${size / 1000}k` : String(size);
  return [
    {
      id: `P3.search.${k}`,
      section: 'P3',
      metric: `dense + lexical + fusion p50 at ${k} chunks`,
      value: round(p50, 1),
      unit: 'ms',
      baseline: { label: 'goal', value: 50, unit: 'ms' },
      ratio: round(p50 / 50, 2),
      goal: '≤ 50 ms',
      met: p50 <= 50,
      note: `dense ${round(percentile(dense, 50), 1)} ms, lexical ${round(percentile(lexical, 50), 1)} ms; p95 ${round(percentile(totals, 95), 1)} ms`,
    },
    {
      id: `P3.load.${k}`,
      section: 'P3',
      metric: `index load (open + first query) at ${k} chunks`,
      value: round(loadMs / 1000, 2),
      unit: 's',
      baseline: { label: 'goal', value: 1, unit: 's' },
      ratio: round(loadMs / 1000, 2),
      goal: '≤ 1 s',
      met: loadMs <= 1000,
    },
    {
      id: `P3.bytes.${k}`,
      section: 'P3',
      metric: `bytes per chunk on disk at ${k} chunks`,
      value: Math.round(perChunk),
      unit: 'B',
      baseline: { label: 'goal', value: 2048, unit: 'B' },
      ratio: round(perChunk / 2048, 2),
      goal: '≤ 2 KB',
      met: perChunk <= 2048,
      note: `${round(bytes / 2 ** 20, 1)} MiB total`,
    },
  ];
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) total += await directoryBytes(full);
    else if (e.isFile()) total += (await fsp.stat(full)).size;
  }
  return total;
}

/** A round's CPU time by thread (ms): onnxruntime's two threads (the inference worker's and its pool thread), the indexing thread, the host's main thread, the rest (V8's GC helpers, libuv). */
export type ThreadSplit = { onnxruntime: number; indexing: number; host: number; other: number };

/** Splits a round's per-thread CPU time; the two busiest threads other than the indexing and main ones are onnxruntime's. */
export function threadSplit(rep: Pick<IndexRoundReport, 'pid' | 'threads'>, indexingTid: number | undefined, indexingCpuMs: number | undefined): ThreadSplit | undefined {
  if (indexingTid === undefined || indexingCpuMs === undefined || !Object.keys(rep.threads).length) return undefined;
  // The indexing thread has ended when the round reads its threads: it reports its own CPU time.
  const split: ThreadSplit = { onnxruntime: 0, indexing: indexingCpuMs, host: rep.threads[rep.pid] ?? 0, other: 0 };
  const rest = Object.entries(rep.threads)
    .filter(([tid]) => Number(tid) !== indexingTid && Number(tid) !== rep.pid)
    .map(([, ms]) => ms)
    .sort((a, b) => b - a);
  rest.forEach((ms, i) => (i < 2 ? (split.onnxruntime += ms) : (split.other += ms)));
  return split;
}

/** The late ticks of a 20 ms timer, worst first, with what they coincided with. */
function describeStalls(stalls: Stall[]): string {
  if (!stalls.length) return '; no tick of a 20 ms timer over 15 ms late';
  const worst = [...stalls].sort((a, b) => b.lateMs - a.lateMs).slice(0, 3);
  return `; ticks of a 20 ms timer over 15 ms late (up to 5 kept per round): ${stalls.length}; the worst ${worst.map((s) => `${s.lateMs} ms (over the ${s.windowMs} ms to it: steal ${s.stealMs} ms, own CPU ${s.ownCpuMs} ms; GC ${s.gcMs} ms)`).join(', ')}`;
}

function meanSplit(splits: ThreadSplit[]): ThreadSplit {
  const mean = (k: keyof ThreadSplit) => splits.reduce((a, s) => a + s[k], 0) / splits.length;
  return { onnxruntime: mean('onnxruntime'), indexing: mean('indexing'), host: mean('host'), other: mean('other') };
}

function describeSplit(s: ThreadSplit): string {
  const f = (ms: number) => (ms / 1000).toFixed(1);
  return `onnxruntime ${f(s.onnxruntime)}, indexing thread ${f(s.indexing)}, host main ${f(s.host)}, other ${f(s.other)}`;
}

/** Time in [start, end] with no embed request in flight, split into before the first, between, after the last (ms). */
export function idleTimes(calls: { sentAt: number; doneAt: number }[], start: number, end: number): { before: number; between: number; after: number } {
  if (!calls.length) return { before: end - start, between: 0, after: 0 };
  const sorted = [...calls].sort((a, b) => a.sentAt - b.sentAt);
  let between = 0;
  let busyUntil = sorted[0]!.doneAt;
  for (const c of sorted.slice(1)) {
    if (c.sentAt > busyUntil) between += c.sentAt - busyUntil;
    busyUntil = Math.max(busyUntil, c.doneAt);
  }
  return { before: sorted[0]!.sentAt - start, between, after: end - busyUntil };
}

/**
 * A fresh Node process running one of the benchmark's child scripts; its last stdout line is its JSON report.
 * The child is bundled to plain JavaScript, not run with `--import tsx`: tsx's loader would run in every
 * thread it starts (the indexing thread, the inference worker), as the product's threads never do (bundleChild.ts).
 */
function runChild<T>(script: string, args: object, env: Record<string, string> = {}): Promise<T> {
  return runBundledChild<T>(path.join(__dirname, script), args, { nodeArgs: ['--expose-gc'], env });
}

export interface IndexRoundArgs {
  worker: string;
  /** The indexing thread's entry (the bench's spy around Sift's own). */
  entry: string;
  root: string;
  indexDir: string;
  model: string;
  dtype: 'q8' | 'fp32';
  threads: number;
  cacheDir: string;
}

export interface IndexRoundReport {
  embedded: number;
  filesIndexed: number;
  embedding: IndexSummary['embedding'];
  tokenizer: string;
  notices: string[];
  /** From the model being ready to the end of the run. */
  wallMs: number;
  /** CPU time of the whole process (all its threads) over wallMs. */
  cpuMs: number;
  /** The process id (= its main thread's id) and each thread's CPU time over wallMs (ms, Linux only). */
  pid: number;
  threads: Record<number, number>;
  modelMs: number;
  /** When wallMs starts and ends (epoch ms, comparable with the embed log's times). */
  startedAt: number;
  endedAt: number;
  /** Event-loop delay of the process's main thread, from starting the run (ms). */
  loop: { max: number; p99: number; mean: number };
  /** The worst late ticks (> 15 ms) of a 20 ms timer on that thread, with what they coincided with. */
  stalls: Stall[];
}

/**
 * A late timer tick: when (ms from the start of the run) and how late; the machine's steal time and
 * the thread's own CPU time over a window of `windowMs` (≤ ~200 ms before the tick, to it) and the
 * thread's GC time over the tick (ms).
 */
export interface Stall {
  atMs: number;
  lateMs: number;
  windowMs: number;
  stealMs: number;
  ownCpuMs: number;
  gcMs: number;
}

export interface RssReport {
  baselineMB: number;
  modelsMB: number;
  indexMB: number;
  afterQueryMB: number;
  /** Peak RSS of the whole run (process.resourceUsage().maxRSS). */
  peakMB: number;
  heapUsedMB: number;
}

/**
 * RSS in a fresh process (so nothing this benchmark loaded counts): both models loaded in the
 * worker, the index opened, one question retrieved (loads every shard) and reranked.
 */
async function measureRss(cfg: BenchConfig, indexDir: string, size: number): Promise<Row[]> {
  const args = { worker: cfg.workerScript, embedder: cfg.embedder, reranker: cfg.reranker, indexDir, threads: cfg.threads, dtype: cfg.dtype, cacheDir: path.join(cfg.workDir, 'model-cache') };
  const rep = await runChild<RssReport>('rss-child.ts', args);
  const k = size >= 1000 ? `${size / 1000}k` : String(size);
  return [
    {
      id: 'P4.rss',
      section: 'P4',
      metric: `RSS, both models loaded + ${k} chunks searched and reranked`,
      value: rep.afterQueryMB,
      unit: 'MB',
      baseline: { label: 'same process, models only', value: rep.modelsMB, unit: 'MB' },
      ratio: round(rep.afterQueryMB / 600, 2),
      goal: '≤ 600 MB',
      met: rep.afterQueryMB <= 600,
      note: `bare process ${rep.baselineMB} MB; after retrieval ${rep.indexMB} MB; peak ${rep.peakMB} MB; JS heap ${rep.heapUsedMB} MB`,
    },
  ];
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// ---------------------------------------------------------------------------------------------

export function formatTable(rows: Row[]): string {
  const header = ['id', 'metric', 'value', 'baseline / goal (same run)', 'ratio', 'goal', 'met'];
  const lines = rows.map((r) => [
    r.id,
    r.metric,
    `${r.value} ${r.unit}`,
    r.baseline ? `${r.baseline.label}: ${r.baseline.value} ${r.baseline.unit}` : '',
    r.ratio === undefined ? '' : `${r.ratio}×`,
    r.goal,
    r.met === undefined ? '–' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmt)].join('\n');
}

export function markdownTable(result: BenchResult): string {
  const m = result.machine;
  const out = [
    `Run ${result.date.slice(0, 10)} (${result.seconds} s): ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, Node ${m.node}, ${m.platform}, onnxruntime-node ${m.onnxruntime}; ` +
      `load average ${m.loadBefore} before / ${m.loadAfter ?? '?'} after (other processes shared the cores). ` +
      `Models: ${path.basename(result.config.embedder)} / ${path.basename(result.config.reranker)}, ${result.config.dtype}, ${result.config.threads} threads.`,
    '',
    '| id | metric | value | baseline / goal (same run) | ratio | goal | met | note |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of result.rows) {
    out.push(
      `| ${r.id} | ${r.metric} | ${r.value} ${r.unit} | ${r.baseline ? `${r.baseline.label}: ${r.baseline.value} ${r.baseline.unit}` : ''} | ${r.ratio === undefined ? '' : `${r.ratio}×`} | ${r.goal} | ${r.met === undefined ? '–' : r.met ? 'yes' : '**no**'} | ${r.note ?? ''} |`,
    );
  }
  return out.join('\n');
}
