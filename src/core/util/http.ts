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
  /** Builds the error thrown (so each caller keeps its own error class). */
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
  const payload = JSON.stringify(body);
  for (let attempt = 0; ; attempt++) {
    let reason: string;
    let res: Response | undefined;
    try {
      res = await post(opts, server, payload, signal);
      if (res.ok) return { value: parse(await readBody(opts, server, res, signal)), attempts: attempt + 1 };
      await res.body?.cancel().catch(() => undefined);
      reason = `HTTP ${res.status}`;
      if (res.status !== 429 && res.status < 500) throw opts.makeError(`the ${server} answered HTTP ${res.status}`);
    } catch (err) {
      if (!(err instanceof TransientHttpError) || !opts.retryTransient || signal?.aborted) throw unwrap(err, opts);
      reason = err.message;
      if (attempt >= retries) throw opts.makeError(`${err.message} (after ${attempt + 1} attempts)`);
    }
    if (attempt >= retries) throw opts.makeError(`the ${server} answered ${reason} after ${attempt + 1} attempts`);
    const delayMs = retryDelay(opts, res, attempt);
    opts.onRetry?.({ attempt: attempt + 1, reason, delayMs });
    await delay(delayMs, signal);
  }
}

function unwrap(err: unknown, opts: JsonPostOptions): unknown {
  return err instanceof TransientHttpError ? opts.makeError(err.message) : err;
}

async function post(opts: JsonPostOptions, server: string, payload: string, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
  try {
    const res = await fetch(opts.endpoint, {
      method: 'POST',
      headers,
      body: payload,
      // Never follow a redirect: the key (and the code) must not go to another origin.
      redirect: 'manual',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      throw opts.makeError(`the ${server} answered with a redirect (HTTP ${res.status}), which Sift does not follow`);
    }
    return res;
  } catch (err) {
    throw explain(opts, server, err, signal, timeout);
  }
}

async function readBody(opts: JsonPostOptions, server: string, res: Response, signal?: AbortSignal): Promise<string> {
  const cap = opts.maxResponseBytes ?? 4 * 1024 * 1024;
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
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
        throw opts.makeError(`the ${server} sent more than ${cap} bytes`);
      }
      parts.push(value);
    }
  } catch (err) {
    throw explain(opts, server, err, signal, timeout);
  } finally {
    timeout.removeEventListener('abort', stop);
    signal?.removeEventListener('abort', stop);
  }
  return Buffer.concat(parts).toString('utf8');
}

function explain(opts: JsonPostOptions, server: string, err: unknown, signal: AbortSignal | undefined, timeout: AbortSignal): unknown {
  if (signal?.aborted) return signal.reason ?? err;
  if (err instanceof Error && !(err instanceof TypeError) && err.message !== 'aborted' && !timeout.aborted && err.name !== 'AbortError' && err.name !== 'TimeoutError') return err;
  if (timeout.aborted) return new TransientHttpError(`the ${server} did not answer within ${opts.timeoutMs ?? 30_000} ms`);
  const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
  return new TransientHttpError(`the ${server} could not be reached: ${cause}`);
}

function retryDelay(opts: JsonPostOptions, res: Response | undefined, attempt: number): number {
  const cap = opts.maxRetryDelayMs ?? 10_000;
  const header = res?.headers.get('retry-after');
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
