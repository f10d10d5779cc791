import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable, Transform } from 'node:stream';
import * as zlib from 'node:zlib';

/**
 * The HTTP client shared by the model servers Sift talks to (rerank, embeddings): one JSON POST with a
 * timeout that covers reading the body, a cap on the response size, redirects never followed (the key
 * and the code must not go to another origin), the key sent only to the endpoint's own origin, and
 * 429 (Retry-After honoured up to a cap) and 5xx retried with exponential backoff.
 */
export interface JsonPostOptions {
  /** Where to POST; the key is only ever sent to it. */
  endpoint: URL;
  /** Names the server in messages ("the rerank server"); the origin and path are appended. */
  what: string;
  /** Builds the error thrown (so each caller keeps its own error class); a refused request's error also gets `status`. */
  makeError: (message: string) => Error;
  /** Sent as `Authorization: Bearer …`. */
  apiKey?: string;
  /** Per request, including reading the body (default 30 s). */
  timeoutMs?: number;
  /** Attempts after the first (default 3). */
  retries?: number;
  /** The longest Retry-After honoured, and the backoff cap (default 10 s). */
  maxRetryDelayMs?: number;
  /** The largest response body read (default 4 MiB). */
  maxResponseBytes?: number;
  /**
   * Also retry what may be transient without an HTTP status: the server unreachable or reset, no
   * answer within the timeout, a body that does not parse (default false: only 429 and 5xx).
   */
  retryTransient?: boolean;
  /** Called before each retry (for logs and counters). */
  onRetry?: (info: { attempt: number; reason: string; delayMs: number }) => void;
}

/** A failure that a retry may cure (network, timeout, unparsable body), as opposed to a wrong answer. */
export class TransientHttpError extends Error {
  override readonly name = 'TransientHttpError';
}

/** `{baseUrl}/{suffix}` without query or fragment; a clear error for a URL that is not http(s). */
export function serviceEndpoint(baseUrl: string, suffix: string, what: string, makeError: (m: string) => Error): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw makeError(`the ${what} base URL is not a URL: ${JSON.stringify(baseUrl.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw makeError(`the ${what} base URL must be http or https, not ${url.protocol}`);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${suffix}`;
  url.search = '';
  url.hash = '';
  return url;
}

/** The server, for messages: its origin and path, never a key or query string. */
export function serverLabel(endpoint: URL): string {
  return `${endpoint.origin}${endpoint.pathname}`;
}

/**
 * POSTs `body` as JSON and returns `parse(text)` of the 2xx answer, retrying as the options say. `parse`
 * may throw TransientHttpError for a body that a retry may cure (e.g. cut off); other errors pass through.
 */
export async function postJson<T>(opts: JsonPostOptions, body: unknown, parse: (text: string) => T, signal?: AbortSignal): Promise<{ value: T; attempts: number }> {
  const retries = opts.retries ?? 3;
  const server = `${opts.what} ${serverLabel(opts.endpoint)}`;
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  for (let attempt = 0; ; attempt++) {
    let reason: string;
    let answer: Answer | undefined;
    try {
      answer = await exchange(opts, server, payload, signal);
      if (answer.status >= 200 && answer.status < 300) return { value: parse(answer.text), attempts: attempt + 1 };
      reason = `HTTP ${answer.status}`;
      if (answer.status !== 429 && answer.status < 500) throw Object.assign(opts.makeError(`the ${server} answered HTTP ${answer.status}`), { status: answer.status });
    } catch (err) {
      if (!(err instanceof TransientHttpError) || !opts.retryTransient || signal?.aborted) throw unwrap(err, opts);
      reason = err.message;
      if (attempt >= retries) throw opts.makeError(`${err.message} (after ${attempt + 1} attempts)`);
    }
    if (attempt >= retries) throw opts.makeError(`the ${server} answered ${reason} after ${attempt + 1} attempts`);
    const delayMs = retryDelay(opts, answer?.retryAfter, attempt);
    opts.onRetry?.({ attempt: attempt + 1, reason, delayMs });
    await delay(delayMs, signal);
  }
}

function unwrap(err: unknown, opts: JsonPostOptions): unknown {
  return err instanceof TransientHttpError ? opts.makeError(err.message) : err;
}

/** A server's answer: its status, Retry-After, and (2xx only) its body as text. */
interface Answer {
  status: number;
  retryAfter?: string;
  text: string;
}

/**
 * Connections kept alive per origin, shared by every client on this thread, as fetch keeps them: an
 * idle one is closed after 4 s, or sooner when the server's Keep-Alive header says so (before common
 * servers' 5 s), and never keeps the process alive. node:http rather than fetch: a fraction of the CPU
 * per request, which an embedding pass of thousands of requests on the indexing thread feels.
 */
const KEEP_ALIVE = { keepAlive: true, timeout: 4000 };
const agents = { 'http:': new http.Agent(KEEP_ALIVE), 'https:': new https.Agent(KEEP_ALIVE) };

/** Bodies in these codings are decoded (Sift asks for none, but a server may send one anyway). */
const DECODERS: Record<string, () => Transform> = { gzip: zlib.createGunzip, 'x-gzip': zlib.createGunzip, deflate: zlib.createInflate, br: zlib.createBrotliDecompress };

/** One POST and its answer. */
function exchange(opts: JsonPostOptions, server: string, payload: Buffer, signal?: AbortSignal): Promise<Answer> {
  const url = opts.endpoint;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const cap = opts.maxResponseBytes ?? 4 * 1024 * 1024;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', 'content-length': String(payload.length) };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
  return new Promise<Answer>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    let settled = false;
    const settle = (err: unknown, answer?: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve(answer!);
      else {
        req.destroy();
        reject(err);
      }
    };
    const unreachable = (err: unknown) => settle(new TransientHttpError(`the ${server} could not be reached: ${err instanceof Error ? err.message : String(err)}`));
    const onAbort = () => settle(signal!.reason ?? new Error('aborted'));
    // One deadline for the whole exchange: connecting, the answer's head and its body.
    const timer = setTimeout(() => settle(new TransientHttpError(`the ${server} did not answer within ${timeoutMs} ms`)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    // Never follow a redirect (node:http does not): the key (and the code) must not go to another origin.
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: 'POST', headers, agent: agents[url.protocol as 'http:' | 'https:'] }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        res.destroy();
        return settle(opts.makeError(`the ${server} answered with a redirect (HTTP ${status}), which Sift does not follow`));
      }
      if (status < 200 || status >= 300) {
        res.resume(); // drained, so the connection is reused
        const retryAfter = res.headers['retry-after'];
        return settle(undefined, { status, text: '', ...(retryAfter ? { retryAfter } : {}) });
      }
      const coding = String(res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      const decoder = coding === 'identity' ? undefined : DECODERS[coding]?.();
      if (coding !== 'identity' && !decoder) {
        res.destroy();
        return settle(opts.makeError(`the ${server} sent its answer in an unknown encoding (${coding.slice(0, 40)})`));
      }
      const parts: Buffer[] = [];
      let total = 0;
      const body: Readable = decoder ? res.pipe(decoder) : res;
      body.on('data', (piece: Buffer) => {
        total += piece.length;
        if (total > cap) return settle(opts.makeError(`the ${server} sent more than ${cap} bytes`));
        parts.push(piece);
      });
      body.on('end', () => settle(undefined, { status, text: Buffer.concat(parts, total).toString('utf8') }));
      // Cut off (the connection closed before the whole body came) or undecodable: worth another try.
      const cut = (err?: unknown) => settle(new TransientHttpError(`the ${server} could not be reached: the answer was cut off${err instanceof Error ? ` (${err.message})` : ''}`));
      body.on('error', cut);
      res.on('error', cut);
      res.on('close', () => {
        if (!res.complete) cut();
      });
    });
    req.on('error', unreachable);
    req.end(payload);
  });
}

function retryDelay(opts: JsonPostOptions, header: string | undefined, attempt: number): number {
  const cap = opts.maxRetryDelayMs ?? 10_000;
  if (header) {
    const secs = Number(header);
    const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(header) - Date.now();
    if (Number.isFinite(ms)) return Math.min(cap, Math.max(0, ms));
  }
  return Math.min(cap, 250 * 2 ** attempt);
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
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
