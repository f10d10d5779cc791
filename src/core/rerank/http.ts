import { redactSecretsInText } from '../discovery/redact';
import { CachingReranker, type RerankOptions } from './reranker';

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
    return `${this.endpoint.origin}${this.endpoint.pathname}`;
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
    const retries = this.opts.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      const res = await this.post(query, documents, signal);
      if (res.ok) return parseScores(await this.readBody(res, signal), documents.length, this.server);
      await res.body?.cancel().catch(() => undefined);
      const retryable = res.status === 429 || res.status >= 500;
      if (!retryable || attempt >= retries) {
        throw new RerankHttpError(`the rerank server ${this.server} answered HTTP ${res.status}${retryable ? ` after ${attempt + 1} attempts` : ''}`);
      }
      await delay(this.retryDelay(res, attempt), signal);
    }
  }

  private async post(query: string, documents: string[], signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 30_000);
    try {
      const res = await fetch(this.endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify({ ...(this.opts.model ? { model: this.opts.model } : {}), query, documents, top_n: documents.length }),
        // Never follow a redirect: the key (and the code) must not go to another origin.
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel().catch(() => undefined);
        throw new RerankHttpError(`the rerank server ${this.server} answered with a redirect (HTTP ${res.status}), which Sift does not follow`);
      }
      return res;
    } catch (err) {
      throw this.explain(err, signal, timeout);
    }
  }

  private async readBody(res: Response, signal?: AbortSignal): Promise<string> {
    const cap = this.opts.maxResponseBytes ?? 4 * 1024 * 1024;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 30_000);
    const reader = res.body?.getReader();
    if (!reader) return '';
    const parts: Uint8Array[] = [];
    let total = 0;
    const stop = () => void reader.cancel().catch(() => undefined);
    timeout.addEventListener('abort', stop, { once: true });
    signal?.addEventListener('abort', stop, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (signal?.aborted || timeout.aborted) throw new Error('aborted');
        if (done) break;
        total += value.byteLength;
        if (total > cap) {
          stop();
          throw new RerankHttpError(`the rerank server ${this.server} sent more than ${cap} bytes`);
        }
        parts.push(value);
      }
    } catch (err) {
      throw this.explain(err, signal, timeout);
    } finally {
      timeout.removeEventListener('abort', stop);
      signal?.removeEventListener('abort', stop);
    }
    return Buffer.concat(parts).toString('utf8');
  }

  private explain(err: unknown, signal: AbortSignal | undefined, timeout: AbortSignal): unknown {
    if (err instanceof RerankHttpError || signal?.aborted) return signal?.aborted ? (signal.reason ?? err) : err;
    if (timeout.aborted) return new RerankHttpError(`the rerank server ${this.server} did not answer within ${this.opts.timeoutMs ?? 30_000} ms`);
    const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    return new RerankHttpError(`the rerank server ${this.server} could not be reached: ${cause}`);
  }

  private retryDelay(res: Response, attempt: number): number {
    const cap = this.opts.maxRetryDelayMs ?? 10_000;
    const header = res.headers.get('retry-after');
    if (header) {
      const secs = Number(header);
      const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(header) - Date.now();
      if (Number.isFinite(ms)) return Math.min(cap, Math.max(0, ms));
    }
    return Math.min(cap, 250 * 2 ** attempt);
  }
}

/** `{baseUrl}/rerank`; a clear error for a URL that is not http(s). */
export function rerankEndpoint(baseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new RerankHttpError(`the rerank base URL is not a URL: ${JSON.stringify(baseUrl.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RerankHttpError(`the rerank base URL must be http or https, not ${url.protocol}`);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/rerank`;
  url.search = '';
  url.hash = '';
  return url;
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

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
