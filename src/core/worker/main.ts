/**
 * Inference worker entry (bundled as dist/worker.js). Runs in a worker_threads worker: loads
 * models with transformers.js, embeds, reranks and searches shards (chunking with tree-sitter
 * runs in the indexing thread, dist/indexer.js). Every request
 * answers with a result or an error message; nothing here throws across the thread boundary.
 */
// First: native onnxruntime, or WebAssembly where this platform has none (before transformers.js loads).
import './onnxBackendInit';
import * as os from 'node:os';
import * as path from 'node:path';
import { type MessagePort, parentPort } from 'node:worker_threads';
import {
  AutoModel,
  AutoModelForSequenceClassification,
  AutoTokenizer,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  Tensor,
  env,
} from '@huggingface/transformers';
import { ensurePrivateDir, tightenTree } from '../util/privateFs';
import { IndexStore } from '../store/store';
import { lexicalStats, searchShards } from '../search/shardSearch';
import { errorMessage } from '../util/errors';
import { runInBackground } from '../util/priority';
import { checkLocalModelFolder, DEFAULT_DTYPE, DEFAULT_RERANK_MAX_LENGTH, modelCacheDirFor, normalizeModelHost, onnxFileFor, resolveModel } from '../models/models';
import type {
  LoadResult,
  MethodName,
  ModelEnvironment,
  ModelRequest,
  SearchShardsParams,
  WorkerMethods,
  WorkerControl,
  WorkerRequest,
  WorkerResponse,
} from './protocol';
import { type Job, Jobs, throwIfCancelled } from './jobs';
import { encodePair, lengthSortedBatches, pairTensors } from '../models/pairs';
import { type LoadEvent, NetworkProgress } from './networkProgress';
import { meanPoolNormalized } from '../models/pooling';
import { type TokenizerSpec, paddedInputs } from '../models/tokens';

const port = parentPort;
if (!port) throw new Error('worker.ts must run inside a worker thread');
// Inference at background CPU priority (Linux): this thread and onnxruntime's threads, created
// from it, yield the CPU to the editor's threads when both want it.
runInBackground();

let environment: ModelEnvironment = { cacheDir: '', allowRemote: false, threads: 2 };
let embedder: { tokenizer: PreTrainedTokenizer; model: PreTrainedModel; name: string; dim: number; key: string } | undefined;
let reranker: { tokenizer: PreTrainedTokenizer; model: PreTrainedModel; name: string } | undefined;
/** Shards this worker searches, per index folder (kept loaded between questions). */
const views = new Map<string, IndexStore>();

/** Download progress and replies to the creating thread go to parentPort. */
function post(message: WorkerResponse, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

/** Points transformers.js at the right place for this model; returns the id to load. */
function prepare(request: ModelRequest): { id: string; display: string; problem?: string } {
  const resolved = resolveModel(request.model);
  // One cache folder per model source: a mirror's files never answer for another source's model id.
  env.cacheDir = environment.cacheDir ? modelCacheDirFor(environment.cacheDir, environment.remoteHost) : null;
  env.allowRemoteModels = environment.allowRemote && !resolved.localRoot;
  // Always set: a mirror configured earlier must not stay in effect after it was removed.
  env.remoteHost = normalizeModelHost(environment.remoteHost);
  if (resolved.localRoot) {
    env.allowLocalModels = true;
    env.localModelPath = resolved.localRoot.endsWith('/') ? resolved.localRoot : `${resolved.localRoot}/`;
    const problem = checkLocalModelFolder(resolved.displayName);
    return { id: resolved.id, display: resolved.displayName, problem };
  }
  // Hub ids resolve against the download cache (and the network when allowed), never against a stray
  // local folder: point the local lookup at a folder that holds no models. (Disabling local models
  // outright makes transformers.js refuse to run offline even when the model is cached.)
  env.allowLocalModels = true;
  env.localModelPath = path.join(environment.cacheDir || os.tmpdir(), '.no-local-models') + path.sep;
  return { id: resolved.id, display: resolved.displayName };
}

/**
 * Downloaded model files are executable code for onnxruntime and name what the user works with:
 * the cache is owner-only (0700 / 0600, whatever the umask). Before a load that may download, the
 * cache folder is created (or tightened); after it, what transformers.js wrote (with the umask's
 * modes) is tightened. A cache used offline is left as it is (it may be a folder the user shares).
 */
async function privateCache(request: ModelRequest): Promise<void> {
  if (!environment.cacheDir || !environment.allowRemote || resolveModel(request.model).localRoot) return;
  await ensurePrivateDir(environment.cacheDir);
  await tightenTree(environment.cacheDir, 8);
}

/** Progress events of bytes fetched from the network only (never for a local folder or the cache). */
const network = new NetworkProgress();
env.fetch = network.wrap(env.fetch as Parameters<NetworkProgress['wrap']>[0]) as typeof env.fetch;

function progressCallback(id: string, model: string) {
  return (info: LoadEvent) => {
    const progress = network.filter(id, model, info);
    if (progress) post({ kind: 'progress', progress });
  };
}

function explainLoadFailure(kind: string, request: ModelRequest, display: string, err: unknown): LoadResult & { ok: false } {
  const dtype = request.dtype ?? DEFAULT_DTYPE;
  const cause = errorMessage(err).split('\n')[0]!.replace(/\.+$/, '');
  if (resolveModel(request.model).localRoot) {
    return { ok: false, code: 'folder-invalid', message: `The ${kind} model folder ${display} could not be loaded (it needs config.json, tokenizer.json, tokenizer_config.json and ${onnxFileFor(dtype)}): ${cause}` };
  }
  if (!environment.allowRemote) {
    return { ok: false, code: 'not-cached', message: `The ${kind} model ${display} is not in the model cache (${env.cacheDir}) and downloads are switched off. Allow downloads once with network access, or use a local model folder` };
  }
  const host = normalizeModelHost(environment.remoteHost);
  return { ok: false, code: 'download-failed', message: `The ${kind} model ${display} could not be downloaded from ${host} and is not in the model cache (${env.cacheDir}): ${cause}. Check the network, or use a local model folder` };
}

const handlers: { [M in MethodName]: (params: WorkerMethods[M][0], job: Job) => Promise<WorkerMethods[M][1]> } = {
  async configure(params) {
    environment = { threads: 2, ...params };
  },

  async loadEmbedder(request): Promise<LoadResult> {
    const dtype = request.dtype ?? DEFAULT_DTYPE;
    // Every indexing run (each watcher update too) asks for the model: keep the loaded one.
    const key = JSON.stringify([request.model, dtype, environment]);
    if (embedder?.key === key) return { ok: true, info: { model: embedder.name, dtype, dim: embedder.dim } };
    const { id, display, problem } = prepare(request);
    if (problem) return { ok: false, code: 'folder-invalid', message: `The embedding model folder could not be loaded: ${problem}` };
    try {
      // transformers.js' tokenizer and model, pooled here rather than by its feature-extraction
      // pipeline: the same vectors, without the pipeline's column-order pooling over BigInt masks
      // (a few % of indexing time; see docs/performance.md).
      const progress_callback = progressCallback(id, display);
      await privateCache(request);
      const tokenizer = await AutoTokenizer.from_pretrained(id, { progress_callback });
      const model = await AutoModel.from_pretrained(id, {
        dtype: dtype as 'q8',
        session_options: { intraOpNumThreads: environment.threads ?? 2, interOpNumThreads: 1 },
        progress_callback,
      });
      await privateCache(request);
      const probe = await embedBatch(tokenizer, model, ['dimension probe']);
      await embedder?.model.dispose();
      embedder = { tokenizer, model, name: display, dim: probe.length, key };
      return { ok: true, info: { model: display, dtype, dim: probe.length } };
    } catch (err) {
      return explainLoadFailure('embedding', request, display, err);
    }
  },

  async loadReranker(request): Promise<LoadResult> {
    const dtype = request.dtype ?? DEFAULT_DTYPE;
    const { id, display, problem } = prepare(request);
    if (problem) return { ok: false, code: 'folder-invalid', message: `The reranker model folder could not be loaded: ${problem}` };
    try {
      const progress_callback = progressCallback(id, display);
      await privateCache(request);
      const tokenizer = await AutoTokenizer.from_pretrained(id, { progress_callback });
      const model = await AutoModelForSequenceClassification.from_pretrained(id, {
        dtype: dtype as 'q8',
        // No memory arena: a rerank of 50 pairs grows it by ~150 MB that would stay allocated between questions.
        session_options: { intraOpNumThreads: environment.threads ?? 2, interOpNumThreads: 1, enableCpuMemArena: false },
        progress_callback,
      });
      await privateCache(request);
      await reranker?.model.dispose();
      reranker = { tokenizer, model, name: display };
      return { ok: true, info: { model: display, dtype } };
    } catch (err) {
      return explainLoadFailure('reranker', request, display, err);
    }
  },

  async tokenizerName() {
    return embedder ? `model:${embedder.name}` : 'heuristic';
  },

  async tokenizerSpec() {
    if (!embedder) throw new Error('no embedding model is loaded');
    const t = embedder.tokenizer as unknown as { _tokenizerJSON: object; _tokenizerConfig: TokenizerSpec['config'] };
    return { json: t._tokenizerJSON, config: t._tokenizerConfig };
  },

  async embed({ texts, tokens, batchSize = 32 }, job) {
    if (!embedder) throw new Error('no embedding model is loaded');
    const { tokenizer, model, dim } = embedder;
    const n = tokens ? tokens.offsets.length - 1 : (texts ?? []).length;
    const out = new Float32Array(n * dim);
    for (let i = 0; i < n; i += batchSize) {
      throwIfCancelled(job);
      const end = Math.min(n, i + batchSize);
      let inputs: Record<string, Tensor>;
      if (tokens) {
        const { ids, mask, dims } = paddedInputs(tokens, i, end, tokenizer.pad_token_id ?? 0);
        // The same three inputs the tokenizer gives (token types: all 0 for single texts).
        inputs = { input_ids: new Tensor('int64', ids, dims), attention_mask: new Tensor('int64', mask, dims), token_type_ids: new Tensor('int64', new BigInt64Array(ids.length), dims) };
      } else {
        inputs = tokenizer(texts!.slice(i, end), { padding: true, truncation: true }) as Record<string, Tensor>;
      }
      out.set(await pooledEmbeddings(model, inputs), i * dim);
    }
    return out;
  },

  async rerank({ query, passages, maxLength = DEFAULT_RERANK_MAX_LENGTH, batchSize = 5 }, job) {
    if (!reranker) throw new Error('no reranker model is loaded');
    const encoded = passages.map((p) => encodePair(reranker!.tokenizer, query, p, maxLength));
    const scores = new Array<number>(passages.length);
    for (const rows of lengthSortedBatches(encoded.map((e) => e.ids.length), batchSize)) {
      throwIfCancelled(job);
      const { logits } = await reranker.model(pairTensors(reranker.tokenizer, rows.map((r) => encoded[r]!)));
      const data = logits.data as Float32Array;
      const width = logits.dims[1] as number;
      // One logit per pair (ms-marco style); with two labels use the "relevant" one.
      rows.forEach((row, r) => (scores[row] = data[r * width + (width - 1)]!));
    }
    return scores;
  },

  async searchShards({ indexDir, embedding, shards, live, vector, terms, stats, flagUnembedded, depth }) {
    return searchShards(viewOf(indexDir, embedding, shards, live), shards, { vector, terms, stats, flagUnembedded }, depth);
  },

  async lexicalStats({ indexDir, embedding, shards, live, terms }) {
    return lexicalStats(viewOf(indexDir, embedding, shards, live), shards, terms);
  },
};

/** The worker's read-only view of an index, keeping what it loaded for shards still live. */
function viewOf(indexDir: string, embedding: SearchShardsParams['embedding'], shards: SearchShardsParams['shards'], live: string[]): IndexStore {
  let view = views.get(indexDir);
  if (!view || JSON.stringify(view.manifest.embedding) !== JSON.stringify(embedding)) {
    void view?.close();
    views.set(indexDir, (view = IndexStore.view(indexDir, shards, embedding)));
  }
  // Keep what this worker loaded for shards still in the index; drop the ones a commit replaced.
  const liveSet = new Set(live);
  const kept = new Map([...view.manifest.shards, ...shards].filter((s) => liveSet.has(s.dir)).map((s) => [s.dir, s]));
  view.retain([...kept.values()]);
  return view;
}

/** Mean-pooled (over real tokens), L2-normalised embeddings of `texts`, row after row. */
async function embedBatch(tokenizer: PreTrainedTokenizer, model: PreTrainedModel, texts: string[]): Promise<Float32Array> {
  return pooledEmbeddings(model, tokenizer(texts, { padding: true, truncation: true }) as Record<string, Tensor>);
}

async function pooledEmbeddings(model: PreTrainedModel, inputs: Record<string, Tensor>): Promise<Float32Array> {
  const outputs = (await model(inputs)) as Record<string, Tensor | undefined>;
  const hidden = outputs.last_hidden_state ?? outputs.token_embeddings ?? outputs.logits;
  if (!hidden || hidden.dims.length !== 3) throw new Error('the embedding model has no token-level output (last_hidden_state) to pool');
  try {
    return meanPoolNormalized(hidden.data as Float32Array, hidden.dims as number[], inputs.attention_mask!.data as BigInt64Array);
  } finally {
    for (const t of Object.values(outputs)) t?.dispose();
  }
}

const jobs = new Jobs();
let closing = false;

/**
 * The owner's `close`: no more work; running requests stop at their next batch, the onnxruntime
 * call in progress finishes, the sessions and index views are released, then the thread exits
 * (nothing of onnxruntime runs any more, so exiting cannot abort the process).
 */
async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  await jobs.cancelAll();
  const models = [embedder?.model, reranker?.model];
  embedder = undefined;
  reranker = undefined;
  await Promise.allSettled(models.map((m) => m?.dispose()));
  await Promise.allSettled([...views.values()].map((v) => v.close()));
  views.clear();
  process.exit(0);
}

/**
 * Serves requests arriving on `channel` (parentPort, or a port another thread connected through
 * `{ connect: port }` — the indexing thread talks to this worker directly, not through the
 * extension host). Replies go back on the channel the request came from.
 */
function serve(channel: MessagePort | typeof port): void {
  if (channel !== port) channel!.on('close', () => jobs.cancelChannel(channel!));
  channel!.on('message', (request: WorkerRequest | WorkerControl) => {
    if ('connect' in request) {
      if (closing) request.connect.close();
      else serve(request.connect);
      return;
    }
    if ('cancel' in request) {
      jobs.cancel(channel!, request.cancel);
      return;
    }
    if ('close' in request) {
      if (channel === port) void close();
      return;
    }
    const reply = (message: WorkerResponse, transfer: ArrayBuffer[] = []) => channel!.postMessage(message, transfer);
    const handler = handlers[request.method] as (p: unknown, job: Job) => Promise<unknown>;
    if (!handler) {
      reply({ kind: 'error', id: request.id, message: `unknown method ${String(request.method)}` });
      return;
    }
    if (closing) {
      reply({ kind: 'error', id: request.id, message: 'The inference worker is shutting down.' });
      return;
    }
    jobs.run(channel!, request.id, (job) => handler(request.params, job)).then(
      (result) => {
        const transfer = result instanceof Float32Array ? [result.buffer as ArrayBuffer] : [];
        reply({ kind: 'result', id: request.id, result }, transfer);
      },
      (err: unknown) => reply({ kind: 'error', id: request.id, message: errorMessage(err), name: (err as Error)?.name }),
    );
  });
}

serve(port);
