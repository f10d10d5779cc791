import { TransientHttpError, postJson, serverLabel, serviceEndpoint } from '../util/http';

/** What an OpenAI-compatible embedding server needs (JSON-able: it crosses to the indexing thread). */
export interface HttpEmbedderOptions {
  /** The server's base URL; requests go to `{baseUrl}/embeddings` (e.g. `http://localhost:11434/v1`). */
  baseUrl: string;
  /** Sent as `model`; the server's default when empty. */
  model: string;
  /** Sent as `Authorization: Bearer …`, only to the base URL's origin. */
  apiKey?: string;
  /** Asked of the server (`dimensions`, for models that can shorten their vectors). */
  dimensions?: number;
  /** Texts per request (default 64). */
  batchSize?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Put before each question (e.g. `search_query: `) and each chunk (e.g. `search_document: `). */
  queryPrefix?: string;
  documentPrefix?: string;
  /** Per request, including reading the body (default 60 s). */
  timeoutMs?: number;
  /** Attempts after the first on 429, 5xx, a timeout, a dropped connection or a cut-off body (default 5). */
  retries?: number;
  /** The longest Retry-After honoured, and the backoff cap (default 30 s). */
  maxRetryDelayMs?: number;
  /** The largest response body read (default 64 MiB). */
  maxResponseBytes?: number;
}

/** An embedding server failed or answered wrongly; the message names the server and what went wrong. */
export class EmbeddingHttpError extends Error {
  override readonly name = 'EmbeddingHttpError';
}

/** Counters for status and logs. */
export interface HttpEmbedderStats {
  requests: number;
  retries: number;
  texts: number;
  /** Wall time of the last request (retries included), and the mean over all. */
  lastBatchMs: number;
  meanBatchMs: number;
}

/**
 * The `/v1/embeddings` API as served by OpenAI, Azure OpenAI, Ollama, LM Studio, vLLM, llama.cpp server and
 * text-embeddings-inference: `POST {baseUrl}/embeddings` `{model, input: string[], dimensions?,
 * encoding_format: 'float'}` → `{data: [{index, embedding}]}`. Texts are sent in batches, at most
 * `concurrency` requests at once (shared by every caller of this instance). Each answer is checked before it
 * is used — one finite vector per text, every one of the same dimension — and normalised (dense search
 * takes dot products), so a wrong answer is an error and never a stored vector.
 */
export class HttpEmbedder {
  readonly endpoint: URL;
  readonly batchSize: number;
  readonly concurrency: number;
  /** Learnt from the first answer (or `dimensions`); every later answer must match it. */
  dim: number | undefined;
  readonly stats: HttpEmbedderStats = { requests: 0, retries: 0, texts: 0, lastBatchMs: 0, meanBatchMs: 0 };
  /** Called after each request: its latency and retries (for logs). */
  onBatch?: (info: { texts: number; ms: number; attempts: number }) => void;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly opts: HttpEmbedderOptions) {
    this.endpoint = serviceEndpoint(opts.baseUrl, 'embeddings', 'embedding', (m) => new EmbeddingHttpError(m));
    this.batchSize = Math.max(1, Math.floor(opts.batchSize ?? 64));
    this.concurrency = Math.max(1, Math.floor(opts.concurrency ?? 4));
    this.dim = opts.dimensions;
  }

  /** The server, for messages: origin and path, never a key. */
  get server(): string {
    return serverLabel(this.endpoint);
  }

  /** The model as recorded in the index (the server's default has no name of its own). */
  get model(): string {
    return this.opts.model || `default@${this.endpoint.host}`;
  }

  get documentPrefix(): string {
    return this.opts.documentPrefix ?? '';
  }

  /** Asks for one vector to learn the dimension (and to fail early when the server is wrong or away). */
  async probe(signal?: AbortSignal): Promise<number> {
    await this.embed(['probe'], 'query', signal);
    return this.dim!;
  }

  /** One normalised vector per text, concatenated. */
  async embed(texts: string[], kind: 'document' | 'query', signal?: AbortSignal): Promise<Float32Array> {
    const prefix = (kind === 'query' ? this.opts.queryPrefix : this.opts.documentPrefix) ?? '';
    const input = texts.map((t) => prefix + t);
    const parts: Promise<Float32Array[]>[] = [];
    for (let start = 0; start < input.length; start += this.batchSize) parts.push(this.limited(() => this.request(input.slice(start, start + this.batchSize), signal)));
    const vectors = (await Promise.all(parts)).flat();
    const out = new Float32Array(vectors.length * (this.dim ?? 0));
    vectors.forEach((v, i) => out.set(v, i * v.length));
    return out;
  }

  private async limited<T>(run: () => Promise<T>): Promise<T> {
    while (this.active >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await run();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private async request(input: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const started = performance.now();
    const body = {
      ...(this.opts.model ? { model: this.opts.model } : {}),
      input,
      ...(this.opts.dimensions ? { dimensions: this.opts.dimensions } : {}),
      encoding_format: 'float',
    };
    const post = {
      endpoint: this.endpoint,
      what: 'embedding server',
      makeError: (m: string) => new EmbeddingHttpError(m),
      apiKey: this.opts.apiKey,
      timeoutMs: this.opts.timeoutMs ?? 60_000,
      retries: this.opts.retries ?? 5,
      maxRetryDelayMs: this.opts.maxRetryDelayMs ?? 30_000,
      maxResponseBytes: this.opts.maxResponseBytes ?? 64 * 1024 * 1024,
      retryTransient: true,
      onRetry: () => void this.stats.retries++,
    };
    const { value, attempts } = await postJson(post, body, (text) => this.parse(text, input.length), signal);
    const ms = performance.now() - started;
    const s = this.stats;
    s.meanBatchMs = (s.meanBatchMs * s.requests + ms) / (s.requests + 1);
    s.requests++;
    s.texts += input.length;
    s.lastBatchMs = ms;
    this.onBatch?.({ texts: input.length, ms, attempts });
    return value;
  }

  /** Checks an answer: `count` finite, non-zero vectors of one dimension, each index once. */
  private parse(text: string, count: number): Float32Array[] {
    const fail = (what: string) => new EmbeddingHttpError(`the embedding server ${this.server} ${what}; nothing from this batch was written`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // Most often a body cut off in transit: worth another try.
      throw new TransientHttpError(`the embedding server ${this.server} sent a response that is not JSON (${text.length} bytes)`);
    }
    const data = (json as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw fail('sent no "data" list');
    if (data.length !== count) throw fail(`sent ${data.length} vectors for ${count} texts`);
    const out: (Float32Array | undefined)[] = new Array<Float32Array | undefined>(count).fill(undefined);
    data.forEach((item: unknown, k) => {
      const raw = item as { index?: unknown; embedding?: unknown } | null;
      const index = raw?.index ?? k;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count || out[index]) {
        throw fail(`sent a vector for text ${JSON.stringify(index)} of ${count}`);
      }
      const v = toVector(raw?.embedding);
      if (!v) throw fail(`sent no list of numbers as the vector of text ${index}`);
      this.dim ??= v.length;
      if (v.length !== this.dim) {
        throw fail(`sent a vector of ${v.length} dimensions, but ${this.opts.dimensions ? 'were asked for' : 'its earlier vectors had'} ${this.dim} (is it serving another model?)`);
      }
      let norm = 0;
      for (let i = 0; i < v.length; i++) {
        if (!Number.isFinite(v[i]!)) throw fail(`sent a vector with a value that is not a finite number (text ${index})`);
        norm += v[i]! * v[i]!;
      }
      if (!(norm > 0) || !Number.isFinite(norm)) throw fail(`sent a vector of zeros or out of range (text ${index})`);
      const scale = 1 / Math.sqrt(norm);
      for (let i = 0; i < v.length; i++) v[i]! *= scale;
      out[index] = v;
    });
    return out as Float32Array[];
  }
}

/** A vector as JSON numbers, or as base64 little-endian float32 (what `encoding_format: base64` returns). */
function toVector(x: unknown): Float32Array | undefined {
  if (Array.isArray(x)) {
    if (x.length === 0 || x.length > 65_536 || !x.every((n) => typeof n === 'number')) return undefined;
    return Float32Array.from(x as number[]);
  }
  if (typeof x === 'string' && x.length > 0 && x.length < 1 << 20) {
    const bytes = Buffer.from(x, 'base64');
    if (bytes.length === 0 || bytes.length % 4) return undefined;
    const v = new Float32Array(bytes.length / 4);
    for (let i = 0; i < v.length; i++) v[i] = bytes.readFloatLE(i * 4);
    return v;
  }
  return undefined;
}
