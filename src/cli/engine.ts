import * as path from 'node:path';
import { InferenceClient } from '../core/worker/client';
import { DEFAULT_EMBEDDING_MODEL, DEFAULT_DTYPE } from '../core/models/models';
import type { ModelRequest } from '../core/worker/protocol';
import type { EmbeddingInfo } from '../core/store/manifest';
import type { SearchWorker } from '../core/search/retriever';
import { EMBEDDING_PROVIDERS, type RemoteEmbeddingOptions, createEmbedder, searchWorkerFor } from '../core/worker/embedder';
import { defaultModelCacheDir } from './paths';

export interface ModelOptions {
  embeddingModel?: string;
  offline?: boolean;
  lexicalOnly?: boolean;
  /** `--embedding-provider local|openai-compatible` and the server's options (index, ask, chat, eval, mcp). */
  embeddingProvider?: string;
  embeddingBaseUrl?: string;
  embeddingDimensions?: number;
  embeddingBatch?: number;
  embeddingConcurrency?: number;
  embeddingQueryPrefix?: string;
  embeddingDocumentPrefix?: string;
}

/** Starts the inference worker (dist/worker.js sits beside dist/cli.js) with the CLI's model settings. */
export async function startWorker(opts: ModelOptions): Promise<InferenceClient> {
  const client = new InferenceClient(path.join(__dirname, 'worker.js'));
  await client.call('configure', {
    cacheDir: process.env.SIFT_MODEL_CACHE ?? defaultModelCacheDir(),
    allowRemote: !opts.offline && process.env.SIFT_OFFLINE !== '1',
    remoteHost: process.env.SIFT_MODEL_HOST,
    threads: 2,
  });
  return client;
}

export function embeddingRequest(opts: ModelOptions): ModelRequest | null {
  if (opts.lexicalOnly) return null;
  const model = opts.embeddingModel ?? process.env.SIFT_EMBEDDING_MODEL ?? DEFAULT_EMBEDDING_MODEL;
  return { model, dtype: process.env.SIFT_DTYPE ?? DEFAULT_DTYPE };
}

/** An AbortSignal tied to Ctrl-C: the first press cancels cleanly, the second exits at once. */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  return controller.signal;
}

/**
 * The embedding server the options (or SIFT_EMBEDDING_PROVIDER / SIFT_EMBEDDING_BASE_URL / …) ask for;
 * undefined for the local model. The key comes from SIFT_EMBEDDING_API_KEY only (never a flag: flags show
 * in process lists) and goes only to the base URL's origin.
 */
export function remoteEmbedding(opts: ModelOptions, env: NodeJS.ProcessEnv = process.env): RemoteEmbeddingOptions | undefined {
  const provider = opts.embeddingProvider ?? env.SIFT_EMBEDDING_PROVIDER ?? 'local';
  if (provider === 'local') return undefined;
  if (provider !== 'openai-compatible') throw new Error(`--embedding-provider must be one of ${EMBEDDING_PROVIDERS.join(', ')}, not ${JSON.stringify(provider)}`);
  const baseUrl = opts.embeddingBaseUrl ?? env.SIFT_EMBEDDING_BASE_URL;
  if (!baseUrl) throw new Error('--embedding-provider openai-compatible needs --embedding-base-url URL (the server that answers POST URL/embeddings, e.g. http://localhost:11434/v1)');
  return {
    provider,
    baseUrl,
    model: opts.embeddingModel ?? env.SIFT_EMBEDDING_MODEL ?? '',
    apiKey: env.SIFT_EMBEDDING_API_KEY || undefined,
    dimensions: opts.embeddingDimensions ?? positive(env.SIFT_EMBEDDING_DIMENSIONS),
    batchSize: opts.embeddingBatch ?? positive(env.SIFT_EMBEDDING_BATCH),
    concurrency: opts.embeddingConcurrency ?? positive(env.SIFT_EMBEDDING_CONCURRENCY),
    queryPrefix: opts.embeddingQueryPrefix ?? env.SIFT_EMBEDDING_QUERY_PREFIX,
    documentPrefix: opts.embeddingDocumentPrefix ?? env.SIFT_EMBEDDING_DOCUMENT_PREFIX,
    timeoutMs: positive(env.SIFT_EMBEDDING_TIMEOUT_MS),
  };
}

/**
 * What search embeds the question with: the provider the index was built with (the indexer just made
 * sure it is the configured one), or undefined for a lexical-only index.
 */
export function queryEmbedder(client: InferenceClient, opts: ModelOptions, embedding: EmbeddingInfo | null): SearchWorker | undefined {
  if (!embedding) return undefined;
  const embedder = createEmbedder(client, embeddingRequest(opts) ?? { model: embedding.model }, remoteEmbedding(opts));
  return embedder ? searchWorkerFor(embedder, client) : undefined;
}

function positive(v: string | undefined): number | undefined {
  const n = Number(v);
  return v && Number.isInteger(n) && n > 0 ? n : undefined;
}
