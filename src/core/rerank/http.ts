import { redactSecretsInText } from '../discovery/redact';
import { CachingReranker, type RerankOptions } from './reranker';
import { postJson, serverLabel, serviceEndpoint } from '../util/http';

export interface HttpRerankerOptions {
  /** The server's base URL; requests go to `{baseUrl}/rerank`. */
  baseUrl: string;
  model: string;
  /** Sent as `Authorization: Bearer …`, only to the base URL's origin. */
  apiKey?: string;
  /** Per request, including reading the body (default 30 s). */
  timeoutMs?: number;
  /** Passages per request (default 32). */
  batchSize?: number;
  /** Attempts after the first on 429 and 5xx (default 3). */
  retries?: number;
  /** The longest Retry-After honoured, and the backoff cap (default 10 s). */
  maxRetryDelayMs?: number;
  /** The largest response body read (default 4 MiB). */
  maxResponseBytes?: number;
}

/** A rerank server failed; the message names the server and what went wrong. */
export class RerankHttpError extends Error {
  override readonly name = 'RerankHttpError';
}

/** Characters sent per passage for each token the local cross-encoder would read (a bound: the server truncates to its own limit). */
const CHARS_PER_TOKEN = 8;
const DEFAULT_MAX_TOKENS = 256;

/**
 * Scores (question, passage) pairs with the common rerank API (`POST {baseUrl}/rerank` with
 * `{model, query, documents, top_n}` → `{results: [{index, relevance_score | score}]}`) as served by
 * text-embeddings-inference, vLLM, llama.cpp server, Jina, Cohere and Voyage. Passages are the text the
 * local cross-encoder reads (already redacted at index time; redacted again here like LLM context), cut to a
 * bound. 429 (honouring Retry-After up to a cap) and 5xx are retried; redirects are never followed.
 */
export class HttpReranker extends CachingReranker {
  readonly provider = 'http';
  private readonly endpoint: URL;

  constructor(private readonly opts: HttpRerankerOptions) {
    // Shown in the compare view and `sift eval` rows; the server's own default when no model is named.
    const endpoint = rerankEndpoint(opts.baseUrl);
    super(opts.model || endpoint.host);
    this.endpoint = endpoint;
  }

  /** The server, for messages: its origin and path, never a key or query string. */
  get server(): string {
    return serverLabel(this.endpoint);
  }

  protected async score(query: string, passages: string[], opts: RerankOptions): Promise<number[]> {
    const limit = (opts.maxLength ?? DEFAULT_MAX_TOKENS) * CHARS_PER_TOKEN;
    const documents = passages.map((p) => redactSecretsInText(p.length > limit ? p.slice(0, limit) : p).text);
    const size = Math.max(1, this.opts.batchSize ?? 32);
    const scores: number[] = [];
    for (let start = 0; start < documents.length; start += size) {
      scores.push(...(await this.batch(query, documents.slice(start, start + size), opts.signal)));
    }
    return scores;
  }

  private async batch(query: string, documents: string[], signal?: AbortSignal): Promise<number[]> {
    const body = { ...(this.opts.model ? { model: this.opts.model } : {}), query, documents, top_n: documents.length };
    const post = {
      ...this.opts,
      endpoint: this.endpoint,
      what: 'rerank server',
      makeError: (m: string) => new RerankHttpError(m),
    };
    return (await postJson(post, body, (text) => parseScores(text, documents.length, this.server), signal)).value;
  }
}

/** `{baseUrl}/rerank`; a clear error for a URL that is not http(s). */
export function rerankEndpoint(baseUrl: string): URL {
  return serviceEndpoint(baseUrl, 'rerank', 'rerank', (m) => new RerankHttpError(m));
}

/**
 * One score per document from `{results: [{index, relevance_score | score}]}` (or `data` as some servers name
 * it). A document the server left out scores below every scored one, so it keeps its fused order at the end.
 */
export function parseScores(body: string, count: number, server: string): number[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new RerankHttpError(`the rerank server ${server} sent a response that is not JSON (${body.length} bytes)`);
  }
  const list = (json as { results?: unknown; data?: unknown } | null)?.results ?? (json as { data?: unknown } | null)?.data;
  if (!Array.isArray(list)) throw new RerankHttpError(`the rerank server ${server} sent no "results" list`);
  const scores: (number | undefined)[] = new Array<number | undefined>(count).fill(undefined);
  for (const r of list as { index?: unknown; relevance_score?: unknown; score?: unknown }[]) {
    const index = r?.index;
    const score = typeof r?.relevance_score === 'number' ? r.relevance_score : r?.score;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count) {
      throw new RerankHttpError(`the rerank server ${server} sent a result for document ${JSON.stringify(index)}, but only ${count} were sent`);
    }
    if (typeof score !== 'number' || !Number.isFinite(score)) throw new RerankHttpError(`the rerank server ${server} sent no numeric score for document ${index}`);
    scores[index] = score;
  }
  if (scores.every((s) => s === undefined) && count > 0) throw new RerankHttpError(`the rerank server ${server} scored none of the ${count} documents`);
  const floor = Math.min(...scores.filter((s): s is number => s !== undefined)) - 1;
  return scores.map((s) => s ?? floor);
}
