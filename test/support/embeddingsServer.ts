import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InferenceClient } from '../../src/core/worker/client';
import { TINY_EMBEDDER } from '../helpers';
import { LoopbackHttp, workerWithModel } from './loopback';

/**
 * A real HTTP server speaking the OpenAI embeddings wire format (`POST /v1/embeddings` with
 * `{model, input, dimensions?, encoding_format}` → `{object: 'list', data: [{object: 'embedding', index,
 * embedding}], model, usage}`, as OpenAI, Ollama, LM Studio, vLLM, llama.cpp and text-embeddings-inference
 * serve it), on loopback. Vectors come from the tiny test embedder in the project's own inference worker, so
 * retrieval through it equals the local model's. Vectors go back as JSON numbers, or as base64
 * little-endian float32 when the request asks `encoding_format: 'base64'` (as OpenAI, vLLM and
 * text-embeddings-inference answer); `encodings` makes it a server that ignores the field (Ollama) or
 * refuses base64. Every request is recorded; replies can be scripted with
 * faults, and `embedded` counts how many times each text was answered with a vector.
 */
export type EmbeddingsFault =
  /** 429 with a Retry-After header (seconds). */
  | { kind: 'rate-limited'; retryAfter: string }
  | { kind: 'status'; status: number }
  /** A 200 whose JSON body is cut off. */
  | { kind: 'truncated-json' }
  /** Vectors one component longer than the model's. */
  | { kind: 'wrong-dimensions' }
  /** One vector fewer than texts. */
  | { kind: 'wrong-count' }
  /** Never answers. */
  | { kind: 'hang' }
  /** The connection is dropped without an answer. */
  | { kind: 'reset' }
  /** A redirect to `location`. */
  | { kind: 'redirect'; location: string }
  /** Base64 vectors two bytes short (not a whole number of float32). */
  | { kind: 'bad-base64' };

export interface EmbeddingsRequestRecord {
  url: string;
  headers: IncomingMessage['headers'];
  body: { model?: string; input: string | string[]; dimensions?: number; encoding_format?: string };
}

export class EmbeddingsTestServer {
  /** Replies for the next requests, in order; then real vectors. */
  faults: EmbeddingsFault[] = [];
  /** A fault for request n (1-based, counted over the server's life), consulted when `faults` is empty. */
  faultFor?: (n: number) => EmbeddingsFault | undefined;
  /** Called as each request arrives (before it is answered). */
  onRequest?: (n: number) => void;
  /** Answer this much later (ms), for timeouts and capacity. */
  delayMs = 0;
  /**
   * How `encoding_format` is treated: 'both' (base64 when asked), 'float-only' (the field ignored: always
   * numbers), 'refuse-base64' (HTTP 422 when base64 is asked, as a server that validates the field strictly).
   */
  encodings: 'both' | 'float-only' | 'refuse-base64' = 'both';
  /** Per request (n is 1-based over the server's life): the delay instead of `delayMs`, e.g. a server that slows down. */
  delayFor?: (n: number, input: readonly string[]) => number;
  /**
   * Per request: a promise the answer waits for (a server busy for as long as a test wants); an answer
   * whose client went away meanwhile (an aborted request) is not sent and not counted in `embedded`.
   * `gone` resolves when the client goes away: `(n, input, gone) => gone` holds a request until its client aborts it.
   */
  hold?: (n: number, input: readonly string[], gone: Promise<void>) => Promise<void> | undefined;
  readonly requests: EmbeddingsRequestRecord[] = [];
  /** Texts answered with a vector, and how many times each. */
  readonly embedded = new Map<string, number>();
  private readonly http = new LoopbackHttp((req, res) => void this.handle(req, res));
  private client?: InferenceClient;
  private cleanup?: () => void;
  baseURL = '';

  async start(): Promise<void> {
    ({ client: this.client, cleanup: this.cleanup } = await workerWithModel('loadEmbedder', TINY_EMBEDDER));
    await this.listen(0);
  }

  /** Listens again (after `kill`) on the same port. */
  async listen(port = Number(new URL(this.baseURL || 'http://x:0').port)): Promise<void> {
    this.baseURL = `http://127.0.0.1:${await this.http.listen(port)}/v1`;
  }

  /** Stops listening and drops every connection at once, as a server that crashed. */
  kill(): Promise<void> {
    return this.http.close();
  }

  async stop(): Promise<void> {
    await this.kill();
    await this.client?.dispose();
    this.cleanup?.();
  }

  /** Texts answered more than once. */
  duplicates(): string[] {
    return [...this.embedded].filter(([, n]) => n > 1).map(([t]) => t);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The connection closed before the answer was sent: the client aborted (or the server was killed).
    const gone = new Promise<void>((resolve) => res.once('close', () => resolve()));
    let raw = '';
    for await (const piece of req) raw += String(piece);
    if (req.method !== 'POST' || !req.url?.endsWith('/embeddings')) {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(raw) as EmbeddingsRequestRecord['body'];
    this.requests.push({ url: req.url, headers: req.headers, body });
    const n = this.requests.length;
    this.onRequest?.(n);
    const fault = this.faults.shift() ?? this.faultFor?.(n);
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'reset') return void req.socket.destroy();
    if (fault?.kind === 'rate-limited') return void res.writeHead(429, { 'retry-after': fault.retryAfter }).end('slow down');
    if (fault?.kind === 'status') return void res.writeHead(fault.status).end('server error');
    if (fault?.kind === 'redirect') return void res.writeHead(307, { location: fault.location }).end();
    const base64 = body.encoding_format === 'base64' && this.encodings !== 'float-only';
    if (base64 && this.encodings === 'refuse-base64') {
      return void res.writeHead(422, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: "encoding_format: input should be 'float'" } }));
    }
    const input = Array.isArray(body.input) ? body.input : [body.input];
    const flat = input.length ? await this.client!.call('embed', { texts: input }) : new Float32Array(0);
    const delay = this.delayFor ? this.delayFor(n, input) : this.delayMs;
    if (delay) await new Promise((r) => setTimeout(r, delay));
    await this.hold?.(n, input, gone);
    if (res.destroyed || req.socket.destroyed) return;
    const dim = input.length ? flat.length / input.length : 0;
    const vectors = input.map((_, index) => Array.from(flat.subarray(index * dim, (index + 1) * dim)));
    if (fault?.kind === 'wrong-dimensions') for (const v of vectors) v.push(0.5);
    const encode = (v: number[]) => {
      if (!base64) return v;
      const bytes = Buffer.from(Float32Array.from(v).buffer);
      return (fault?.kind === 'bad-base64' ? bytes.subarray(2) : bytes).toString('base64');
    };
    let data = vectors.map((v, index) => ({ object: 'embedding', index, embedding: encode(v) }));
    if (fault?.kind === 'wrong-count') data = data.slice(1);
    const json = JSON.stringify({ object: 'list', data, model: body.model ?? 'tiny-embedder', usage: { prompt_tokens: 0, total_tokens: 0 } });
    const truncated = fault?.kind === 'truncated-json';
    if (!truncated && fault?.kind !== 'wrong-dimensions' && fault?.kind !== 'wrong-count' && fault?.kind !== 'bad-base64') for (const t of input) this.embedded.set(t, (this.embedded.get(t) ?? 0) + 1);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(truncated ? json.slice(0, Math.floor(json.length / 2)) : json);
  }
}
