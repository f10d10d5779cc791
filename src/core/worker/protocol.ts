/**
 * Messages between the other threads and the inference worker. The worker owns the models
 * (bi-encoder, cross-encoder and their tokenizers), so the extension host's thread never runs
 * inference. While the model runs, onnxruntime blocks the worker's thread, so indexing does its
 * chunking and tokenising elsewhere (the indexing thread) and sends token ids.
 */
import type { MessagePort } from 'node:worker_threads';
import type { LexicalStatsParams, SearchShardsParams, ShardSearchResult } from '../search/shardSearch';
import type { Bm25Stats } from '../lexical/bm25';

export type { SearchShardsParams };
import type { TokenBatch, TokenizerSpec } from '../models/tokens';

/** Where models come from. */
export interface ModelEnvironment {
  /** Where downloaded models are cached. */
  cacheDir: string;
  /** When false, only local folders and the cache are used (no network). */
  allowRemote: boolean;
  /** Hub mirror (default https://huggingface.co/). Tests point this at a local server. */
  remoteHost?: string;
  /** onnxruntime intra-op threads (default 2). */
  threads?: number;
}

/** A model to load: a hub id ("Xenova/all-MiniLM-L6-v2") or an absolute path to a local folder. */
export interface ModelRequest {
  model: string;
  /** "q8" (int8, default), "fp32", "fp16", … */
  dtype?: string;
}

export interface LoadedModel {
  model: string;
  dtype: string;
  /** Embedding dimension (bi-encoder only). */
  dim?: number;
}

/**
 * Why a model did not load, for callers to switch on (the message is for people):
 * `folder-invalid` a local model folder lacks files or does not load; `not-cached` not in the cache
 * and downloads are off; `download-failed` not cached and the download failed.
 */
export type ModelLoadFailure = 'folder-invalid' | 'not-cached' | 'download-failed';

export type LoadResult = { ok: true; info: LoadedModel } | { ok: false; code: ModelLoadFailure; message: string };

export interface RerankParams {
  query: string;
  passages: string[];
  /** Max tokens of question + passage + special tokens (default 256). */
  maxLength?: number;
  batchSize?: number;
}

/** method → [params, result] */
export interface WorkerMethods {
  configure: [ModelEnvironment, void];
  loadEmbedder: [ModelRequest, LoadResult];
  loadReranker: [ModelRequest, LoadResult];
  /** Which token counter chunk sizes are measured with ("model:<id>" or "heuristic"). */
  tokenizerName: [Record<string, never>, string];
  /** The loaded embedder's tokenizer files, for chunking and tokenising in another thread. */
  tokenizerSpec: [Record<string, never>, TokenizerSpec];
  /**
   * Embeds texts, or texts already tokenised with `tokenizerSpec` (mean pooled, normalised).
   * Result: one flat Float32Array, `dim` values per text.
   */
  embed: [{ texts?: string[]; tokens?: TokenBatch; batchSize?: number }, Float32Array];
  /** Cross-encoder scores (logits), one per passage. */
  rerank: [RerankParams, number[]];
  /**
   * Searches some shards of an index (the caller searches the others at the same time). The
   * worker keeps the shards it searched loaded; `live` lists every shard of the index, so it
   * drops the ones a commit replaced.
   */
  searchShards: [SearchShardsParams, ShardSearchResult];
  /** BM25 statistics of some shards for a query's terms (summed with the caller's before searching). */
  lexicalStats: [LexicalStatsParams, Bm25Stats];
}


export type MethodName = keyof WorkerMethods;

export interface WorkerRequest<M extends MethodName = MethodName> {
  id: number;
  method: M;
  params: WorkerMethods[M][0];
}

/**
 * Control messages to the worker (besides requests): `connect` hands it a port another thread talks
 * on; `cancel` stops request `id` of that channel between batches (it answers with an error);
 * `close` (on the owner's channel) shuts the worker down gracefully: it takes no more work, cancels
 * what runs between batches, lets the running onnxruntime call finish, releases its sessions and
 * exits. Terminating a worker inside an onnxruntime call aborts the whole process.
 */
export type WorkerControl = { connect: MessagePort } | { cancel: number } | { close: true };

export type WorkerResponse =
  | { kind: 'result'; id: number; result: unknown }
  | { kind: 'error'; id: number; message: string; name?: string }
  | { kind: 'progress'; progress: DownloadProgress };

/** Model download progress, forwarded from transformers.js. */
export interface DownloadProgress {
  model: string;
  file: string;
  status: 'initiate' | 'download' | 'progress' | 'done' | 'ready';
  loaded?: number;
  total?: number;
  /** 0–100 */
  percent?: number;
}
