import type { EmbeddingInfo } from '../store/manifest';
import { MAX_EMBEDDING_DIM } from '../store/manifest';
import { ModelTokenizer } from '../models/tokens';
import { EmbeddingHttpError, HttpEmbedder, type HttpEmbedderOptions, type HttpEmbedderStats } from '../models/httpEmbedder';
import type { SearchWorker } from '../search/retriever';
import type { InferenceClient } from './client';
import type { ModelLoadFailure, ModelRequest } from './protocol';

export const EMBEDDING_PROVIDERS = ['local', 'openai-compatible'] as const;
export type EmbeddingProviderName = (typeof EMBEDDING_PROVIDERS)[number];

/** The remote provider's settings, JSON-able (they cross to the indexing thread). */
export interface RemoteEmbeddingOptions extends HttpEmbedderOptions {
  provider: 'openai-compatible';
}

export type EmbedderLoad =
  | { ok: true; info: EmbeddingInfo; tokenizer: string; modelTokens?: ModelTokenizer }
  | { ok: false; code: ModelLoadFailure; message: string };

/**
 * Who turns text into vectors: the local model in the inference worker, or an OpenAI-compatible server.
 * The indexer embeds chunks with it and search embeds the question with it (the same provider, model and
 * prefixes, or the vectors would not be comparable).
 */
export interface Embedder {
  readonly provider: EmbeddingProviderName;
  /** Batches kept in flight by the dense pass (the server's concurrency; 1 for the local worker, which queues). */
  readonly inFlight: number;
  /** Texts per request. */
  readonly batchSize: number;
  /** Loads the model (local) or asks the server for one vector (remote) to learn the dimension. */
  load(signal?: AbortSignal): Promise<EmbedderLoad>;
  /** One vector per chunk text, concatenated. */
  embedDocuments(texts: string[], signal?: AbortSignal): Promise<Float32Array>;
  /** The question's vector. */
  embedQuery(text: string, signal?: AbortSignal): Promise<Float32Array>;
  /** Requests, retries and latency so far (remote only). */
  stats(): HttpEmbedderStats | undefined;
}

/** The model in the inference worker; chunk texts are tokenised on the caller's thread when it can. */
export class LocalEmbedder implements Embedder {
  readonly provider = 'local';
  readonly inFlight = 1;
  private modelTokens?: ModelTokenizer;

  constructor(
    private readonly client: InferenceClient,
    private readonly request: ModelRequest,
    readonly batchSize = 64,
  ) {}

  async load(signal?: AbortSignal): Promise<EmbedderLoad> {
    const loaded = await this.client.call('loadEmbedder', this.request, signal);
    if (!loaded.ok) return loaded;
    const tokenizer = await this.client.call('tokenizerName', {}, signal);
    // Tokenising happens on this thread with the model's own tokenizer: onnxruntime blocks the worker's
    // thread while the model runs, so work done there would not overlap it.
    this.modelTokens = new ModelTokenizer(await this.client.call('tokenizerSpec', {}, signal));
    return { ok: true, info: { model: loaded.info.model, dtype: loaded.info.dtype, dim: loaded.info.dim ?? 0 }, tokenizer, modelTokens: this.modelTokens };
  }

  embedDocuments(texts: string[], signal?: AbortSignal): Promise<Float32Array> {
    if (!texts.length) return Promise.resolve(new Float32Array(0));
    return this.client.call('embed', this.modelTokens ? { tokens: this.modelTokens.encodeBatch(texts) } : { texts }, signal);
  }

  embedQuery(text: string, signal?: AbortSignal): Promise<Float32Array> {
    return this.client.call('embed', { texts: [text] }, signal);
  }

  stats(): undefined {
    return undefined;
  }
}

/** An OpenAI-compatible `/v1/embeddings` server (src/core/models/httpEmbedder.ts). */
export class RemoteEmbedder implements Embedder {
  readonly provider = 'openai-compatible';
  readonly http: HttpEmbedder;

  constructor(opts: HttpEmbedderOptions) {
    this.http = new HttpEmbedder(opts);
  }

  get inFlight(): number {
    return this.http.concurrency;
  }

  get batchSize(): number {
    return this.http.batchSize;
  }

  async load(signal?: AbortSignal): Promise<EmbedderLoad> {
    const dim = await this.http.probe(signal);
    if (dim > MAX_EMBEDDING_DIM) throw new EmbeddingHttpError(`the embedding server ${this.http.server} sends vectors of ${dim} dimensions; Sift stores at most ${MAX_EMBEDDING_DIM} (ask for fewer with --embedding-dimensions)`);
    return { ok: true, info: remoteEmbeddingInfo(this.http, dim), tokenizer: 'heuristic' };
  }

  embedDocuments(texts: string[], signal?: AbortSignal): Promise<Float32Array> {
    return this.http.embed(texts, 'document', signal);
  }

  embedQuery(text: string, signal?: AbortSignal): Promise<Float32Array> {
    return this.http.embed([text], 'query', signal);
  }

  stats(): HttpEmbedderStats {
    return { ...this.http.stats };
  }
}

/** What the manifest records for a remote provider: a different provider, model, dimension or document prefix means a rebuild. */
export function remoteEmbeddingInfo(http: HttpEmbedder, dim: number): EmbeddingInfo {
  return { provider: 'openai-compatible', model: http.model, dtype: 'float', dim, ...(http.documentPrefix ? { prefix: http.documentPrefix } : {}) };
}

/** The embedder the options ask for: remote when given, else the worker's model; null for a lexical-only index. */
export function createEmbedder(client: InferenceClient, request: ModelRequest | null, remote?: RemoteEmbeddingOptions, batchSize?: number): Embedder | null {
  if (remote) return new RemoteEmbedder(remote);
  return request ? new LocalEmbedder(client, request, batchSize) : null;
}

/**
 * What search needs (src/core/search/retriever.ts): the question embedded by `embedder`, shards searched
 * by the inference worker. With the local embedder that is the worker itself.
 */
export function searchWorkerFor(embedder: Embedder, client: InferenceClient): SearchWorker {
  if (embedder instanceof LocalEmbedder) return client;
  return {
    call: ((method: string, params: unknown, signal?: AbortSignal) => {
      if (method === 'embed') return embedder.embedQuery((params as { texts: string[] }).texts[0] ?? '', signal);
      return (client.call as (m: string, p: unknown, s?: AbortSignal) => Promise<unknown>)(method, params, signal);
    }) as SearchWorker['call'],
  };
}
