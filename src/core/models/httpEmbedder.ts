import { TransientHttpError, postJson, serverLabel, serviceEndpoint } from '../util/http';

/** How vectors travel: base64 little-endian float32 (a quarter of the bytes of JSON numbers, decoded natively) or JSON numbers. */
export type EmbeddingEncoding = 'base64' | 'float';

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
  /**
   * `encoding_format` asked of the server (default base64, as OpenAI's own clients ask: vectors as
   * base64 float32 cost far less to send and to read than JSON numbers). Either form is understood in
   * the answer, so a server that ignores the field and sends numbers works; one that refuses base64
   * (HTTP 400 or 422) before it ever answered in base64 is asked again, and from then on, for numbers.
   */
  encodingFormat?: EmbeddingEncoding;
}

/** An embedding server failed or answered wrongly; the message names the server and what went wrong. */
export class EmbeddingHttpError extends Error {
  override readonly name = 'EmbeddingHttpError';
  /** The HTTP status when the server refused the request (4xx other than 429). */
  status?: number;
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
 * encoding_format: 'base64'}` → `{data: [{index, embedding}]}` (the embedding as base64 float32 or as numbers). Texts are sent in batches, at most
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
  /** What is asked of the server now (falls back to 'float' once when the server refuses base64). */
  encoding: EmbeddingEncoding;
  /** The server has answered a base64 request: a later refusal is about the request, not the format. */
  private base64Answered = false;
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
    this.encoding = opts.encodingFormat ?? 'base64';
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

  /** One normalised vector per text, concatenated (one request's answer is returned as decoded, without a copy). */
  async embed(texts: string[], kind: 'document' | 'query', signal?: AbortSignal): Promise<Float32Array> {
    const prefix = (kind === 'query' ? this.opts.queryPrefix : this.opts.documentPrefix) ?? '';
    const input = prefix ? texts.map((t) => prefix + t) : texts;
    const parts: Promise<Float32Array>[] = [];
    for (let start = 0; start < input.length; start += this.batchSize) parts.push(this.limited(() => this.request(input.slice(start, start + this.batchSize), signal)));
    if (parts.length === 1) return parts[0]!;
    const answers = await Promise.all(parts);
    const out = new Float32Array(answers.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of answers) {
      out.set(a, at);
      at += a.length;
    }
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

  private async request(input: string[], signal?: AbortSignal): Promise<Float32Array> {
    const started = performance.now();
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
    const ask = (encoding: EmbeddingEncoding) => {
      const body = {
        ...(this.opts.model ? { model: this.opts.model } : {}),
        input,
        ...(this.opts.dimensions ? { dimensions: this.opts.dimensions } : {}),
        encoding_format: encoding,
      };
      return postJson(post, body, (text) => this.parse(text, input.length), signal);
    };
    let answer: Awaited<ReturnType<typeof ask>>;
    const encoding = this.encoding;
    try {
      answer = await ask(encoding);
      if (encoding === 'base64') this.base64Answered = true;
    } catch (err) {
      // A server that validates `encoding_format` strictly and knows only numbers refuses its first
      // request (the probe): ask again in numbers, and keep asking so if that works (unless base64
      // was asked for explicitly).
      const refused = err instanceof EmbeddingHttpError && (err.status === 400 || err.status === 422);
      if (encoding !== 'base64' || this.opts.encodingFormat || this.base64Answered || !refused) throw err;
      answer = await ask('float');
      this.encoding = 'float';
    }
    const { value, attempts } = answer;
    const ms = performance.now() - started;
    const s = this.stats;
    s.meanBatchMs = (s.meanBatchMs * s.requests + ms) / (s.requests + 1);
    s.requests++;
    s.texts += input.length;
    s.lastBatchMs = ms;
    this.onBatch?.({ texts: input.length, ms, attempts });
    return value;
  }

  /**
   * Checks an answer — `count` finite, non-zero vectors of one dimension, each index once — and
   * returns them normalised, concatenated in text order. Base64 vectors are decoded straight into
   * the result; JSON numbers are copied into it.
   */
  private parse(text: string, count: number): Float32Array {
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
    const seen = new Uint8Array(count);
    let out: Float32Array | undefined;
    for (let k = 0; k < count; k++) {
      const raw = data[k] as { index?: unknown; embedding?: unknown } | null;
      const index = raw?.index ?? k;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count || seen[index]) {
        throw fail(`sent a vector for text ${JSON.stringify(index)} of ${count}`);
      }
      seen[index] = 1;
      const e = raw?.embedding;
      const length = vectorLength(e);
      if (length === undefined) throw fail(`sent no vector (a list of numbers or base64 float32) for text ${index}`);
      this.dim ??= length;
      const dim = this.dim;
      if (length !== dim) {
        throw fail(`sent a vector of ${length} dimensions, but ${this.opts.dimensions ? 'were asked for' : 'its earlier vectors had'} ${dim} (is it serving another model?)`);
      }
      out ??= new Float32Array(count * dim);
      const v = out.subarray(index * dim, (index + 1) * dim);
      if (!writeVector(e as string | unknown[], v)) throw fail(`sent no vector (a list of numbers or base64 float32) for text ${index}`);
      let norm = 0;
      for (let i = 0; i < dim; i++) {
        const x = v[i]!;
        if (!Number.isFinite(x)) throw fail(`sent a vector with a value that is not a finite number (text ${index})`);
        norm += x * x;
      }
      if (!(norm > 0) || !Number.isFinite(norm)) throw fail(`sent a vector of zeros or out of range (text ${index})`);
      const scale = 1 / Math.sqrt(norm);
      for (let i = 0; i < dim; i++) v[i]! *= scale;
    }
    return out ?? new Float32Array(0);
  }
}

const MAX_VECTOR_LENGTH = 65_536;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The dimension of a vector sent as JSON numbers or as base64 float32; undefined for anything else. */
function vectorLength(x: unknown): number | undefined {
  if (Array.isArray(x)) return x.length > 0 && x.length <= MAX_VECTOR_LENGTH ? x.length : undefined;
  if (typeof x === 'string' && x.length > 0 && x.length <= (MAX_VECTOR_LENGTH * 16) / 3 + 4) {
    const bytes = Buffer.byteLength(x, 'base64');
    return bytes > 0 && bytes % 4 === 0 ? bytes / 4 : undefined;
  }
  return undefined;
}

/**
 * Writes a vector (JSON numbers, or base64 little-endian float32 — what `encoding_format: base64`
 * returns) into `into`, whose length `vectorLength` gave; false when it is not one.
 */
function writeVector(x: string | unknown[], into: Float32Array): boolean {
  if (typeof x === 'string') {
    const bytes = Buffer.from(into.buffer, into.byteOffset, into.byteLength);
    if (LITTLE_ENDIAN) return bytes.write(x, 'base64') === bytes.length;
    const decoded = Buffer.from(x, 'base64');
    if (decoded.length !== bytes.length) return false;
    for (let i = 0; i < into.length; i++) into[i] = decoded.readFloatLE(i * 4);
    return true;
  }
  for (let i = 0; i < into.length; i++) {
    const n = x[i];
    if (typeof n !== 'number') return false;
    into[i] = n;
  }
  return true;
}
