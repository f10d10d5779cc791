/**
 * Bounds on what an LLM server can make Sift do: how long it may keep a call open, how much text
 * and how many bytes it may send, how often it may ask for a retry, and where it may redirect the
 * request. A server that never finishes, floods keep-alives, trickles bytes or sends a gigabyte
 * ends the call with a code saying which limit was hit; the text received so far is kept.
 *
 * The byte-level limits sit in a `fetch` wrapper given to the OpenAI client, below its SSE parser,
 * so memory stays bounded however the client buffers.
 */

export type LimitKind = 'llm-idle-timeout' | 'llm-deadline' | 'llm-answer-too-large' | 'llm-response-too-large' | 'llm-redirect';

export interface LimitSettings {
  /** How long to wait for the answer to start: each attempt's response headers, then its first text. */
  timeoutMs?: number;
  /** Longest pause between pieces of text once the answer has started. */
  idleTimeoutMs?: number;
  /** The whole call, retries and their waits included. */
  deadlineMs?: number;
  /** Characters of answer text; reasoning and tool-call text have the same cap. */
  maxAnswerChars?: number;
  /** Retries for 429/5xx/connection errors before any text arrived. */
  maxRetries?: number;
}

export const LIMIT_DEFAULTS = {
  timeoutMs: 60_000,
  idleTimeoutMs: 30_000,
  deadlineMs: 300_000,
  maxAnswerChars: 200_000,
  maxRetries: 2,
} as const;

/** Retries beyond this are not made, whatever the configuration says. */
const MAX_RETRIES = 5;
/** A server's Retry-After longer than this is not waited for (the error is reported instead). */
const MAX_RETRY_WAIT_MS = 30_000;
/** Same-origin 307/308 redirects followed before giving up. */
const MAX_REDIRECTS = 3;
/** Error bodies are read up to this size and cut there (the status says what happened). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface Limits {
  firstTextMs: number;
  idleMs: number;
  deadlineMs: number;
  maxAnswerChars: number;
  maxRetries: number;
  /** Bytes of one response body (SSE framing included). */
  maxResponseBytes: number;
  /** Bytes of one SSE event (between blank lines): bounds the client's line/event buffers. */
  maxEventBytes: number;
}

/**
 * Ceilings whatever the configuration says (settings are not range-checked when read, and a timer
 * over 2^31 ms would fire at once): the settings schema's maxima.
 */
const MAX_TIMEOUT_MS = 600_000;
const MAX_DEADLINE_MS = 3_600_000;
const MAX_ANSWER_CHARS = 5_000_000;

const within = (v: number | undefined, fallback: number, max: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.min(v, max) : fallback);

export function resolveLimits(s: LimitSettings): Limits {
  const maxAnswerChars = Math.floor(within(s.maxAnswerChars, LIMIT_DEFAULTS.maxAnswerChars, MAX_ANSWER_CHARS));
  const retries = s.maxRetries ?? LIMIT_DEFAULTS.maxRetries;
  return {
    firstTextMs: within(s.timeoutMs, LIMIT_DEFAULTS.timeoutMs, MAX_TIMEOUT_MS),
    idleMs: within(s.idleTimeoutMs, LIMIT_DEFAULTS.idleTimeoutMs, MAX_TIMEOUT_MS),
    deadlineMs: within(s.deadlineMs, LIMIT_DEFAULTS.deadlineMs, MAX_DEADLINE_MS),
    maxAnswerChars,
    maxRetries: Number.isFinite(retries) ? Math.max(0, Math.min(MAX_RETRIES, Math.floor(retries))) : LIMIT_DEFAULTS.maxRetries,
    // Streaming frames cost ~100–300 bytes per token of a few characters; answer and reasoning
    // may each reach the character cap. 512 bytes per character leaves room for both.
    maxResponseBytes: Math.max(4 * 1024 * 1024, maxAnswerChars * 512),
    // One event carries one delta; a whole non-streamed answer would be ~6 bytes per character.
    maxEventBytes: Math.max(256 * 1024, maxAnswerChars * 8),
  };
}

export interface LimitHit {
  kind: LimitKind;
  /** For idle timeouts: whether any text had arrived (the first-text wait vs the pause limit). */
  afterText?: boolean;
  /** What passed the limit, for the message. */
  detail?: string;
}

/** Thrown (and used as the abort reason) when a limit is hit. */
export class LimitError extends Error {
  constructor(readonly hit: LimitHit) {
    super(`LLM limit: ${hit.kind}`);
    this.name = 'LimitError';
  }
}

/**
 * One LLM call's limits: timers, counters and the `fetch` that enforces byte limits and refuses
 * cross-origin redirects. `signal` aborts when the caller aborts or a limit is hit; dispose() ends
 * every timer (nothing keeps the process alive afterwards).
 */
export class CallGuard {
  readonly signal: AbortSignal;
  hit: LimitHit | undefined;
  private readonly ctl = new AbortController();
  private readonly deadline: NodeJS.Timeout;
  private idle: NodeJS.Timeout | undefined;
  private readonly start = Date.now();
  private textSeen = false;
  private disposed = false;

  constructor(
    readonly limits: Limits,
    private readonly outer?: AbortSignal,
  ) {
    this.signal = outer ? AbortSignal.any([outer, this.ctl.signal]) : this.ctl.signal;
    this.deadline = setTimeout(() => this.trip({ kind: 'llm-deadline' }), limits.deadlineMs);
  }

  get error(): LimitError | undefined {
    return this.hit ? new LimitError(this.hit) : undefined;
  }

  remainingMs(): number {
    return this.limits.deadlineMs - (Date.now() - this.start);
  }

  /** Ends the call for `hit` (the first limit hit wins; a caller's abort wins over all). */
  trip(hit: LimitHit): void {
    if (this.hit || this.disposed || this.outer?.aborted) return;
    this.hit = hit;
    this.clearTimers();
    this.ctl.abort(new LimitError(hit));
  }

  /** Answer, reasoning or tool-call text arrived: the pause timer starts again. */
  progress(): void {
    this.textSeen = true;
    this.armIdle();
  }

  /** A response is being waited for: the first-text wait (or, after text, the pause limit) runs. */
  waiting(): void {
    this.armIdle();
  }

  /** No response is being read (between attempts): no pause timer. */
  stopIdle(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.clearTimers();
  }

  /** Abortable wait between attempts. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.signal.aborted) return reject(this.signal.reason);
      const onAbort = () => {
        clearTimeout(t);
        reject(this.signal.reason);
      };
      const t = setTimeout(() => {
        this.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The `fetch` for the OpenAI client. */
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    let url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    for (let hop = 0; ; hop++) {
      const res = await globalThis.fetch(url, { ...init, redirect: 'manual' });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel().catch(() => undefined);
        const next = resolveLocation(res.headers.get('location'), url);
        // The same server under another path keeps the key and the sources where they were meant
        // to go; anywhere else (another host, port or scheme) is refused.
        if (next && next.origin === new URL(url).origin && (res.status === 307 || res.status === 308) && hop < MAX_REDIRECTS) {
          url = next.href;
          continue;
        }
        this.trip({ kind: 'llm-redirect', detail: `HTTP ${res.status} to ${next ? next.origin : 'an unreadable address'}` });
        throw this.error ?? new LimitError({ kind: 'llm-redirect' });
      }
      this.armIdle();
      return this.bounded(res);
    }
  };

  private armIdle(): void {
    if (this.hit || this.disposed) return;
    if (this.idle) clearTimeout(this.idle);
    const afterText = this.textSeen;
    this.idle = setTimeout(() => this.trip({ kind: 'llm-idle-timeout', afterText }), afterText ? this.limits.idleMs : this.limits.firstTextMs);
  }

  private clearTimers(): void {
    clearTimeout(this.deadline);
    this.stopIdle();
  }

  /** The response with its body counted: success bodies are capped (error), error bodies cut. */
  private bounded(res: Response): Response {
    if (!res.body) return res;
    const ok = res.ok;
    const { maxResponseBytes, maxEventBytes } = this.limits;
    let total = 0;
    let line = 0;
    let event = 0;
    let cr = false;
    const body = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, ctl) => {
          if (this.hit) return ctl.error(this.error);
          if (!ok) {
            const room = MAX_ERROR_BODY_BYTES - total;
            total += chunk.length;
            if (chunk.length < room) return ctl.enqueue(chunk);
            ctl.enqueue(chunk.subarray(0, room));
            return ctl.terminate();
          }
          total += chunk.length;
          if (total > maxResponseBytes) {
            this.trip({ kind: 'llm-response-too-large', detail: `over ${mb(maxResponseBytes)} in one response` });
            return ctl.error(this.error);
          }
          // Bytes since the last blank line (the end of an SSE event): what the client's parser
          // holds in memory. CR, LF and CRLF end lines, as in the SSE specification.
          for (let i = 0; i < chunk.length; i++) {
            const b = chunk[i];
            if (b === 10 || b === 13) {
              if (b === 10 && cr) {
                cr = false;
                continue;
              }
              cr = b === 13;
              if (line === 0) event = 0;
              line = 0;
            } else {
              cr = false;
              line++;
              event++;
            }
          }
          if (event > maxEventBytes) {
            this.trip({ kind: 'llm-response-too-large', detail: `one streamed event over ${mb(maxEventBytes)}` });
            return ctl.error(this.error);
          }
          ctl.enqueue(chunk);
        },
      }),
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  }
}

function resolveLocation(location: string | null, base: string): URL | undefined {
  if (!location) return undefined;
  try {
    return new URL(location, base);
  } catch {
    return undefined;
  }
}

function mb(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB` : `${Math.round(bytes / 1024)} KB`;
}

/**
 * How long to wait before retrying a failed attempt, or undefined when it must not be retried.
 * `tooLong` is set when the server asked for a wait longer than Sift makes.
 */
export function retryWait(status: number | undefined, headers: Headers | undefined, attempt: number): { ms?: number; tooLongMs?: number } {
  const should = headers?.get('x-should-retry');
  if (should === 'false') return {};
  const retryable = status === undefined || status === 408 || status === 409 || status === 429 || status >= 500 || should === 'true';
  if (!retryable) return {};
  let asked: number | undefined;
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) asked = ms;
  const after = headers?.get('retry-after');
  if (asked === undefined && after) {
    const s = Number.parseFloat(after);
    asked = Number.isFinite(s) ? s * 1000 : Date.parse(after) - Date.now();
    if (!Number.isFinite(asked)) asked = undefined;
  }
  if (asked !== undefined) {
    if (asked > MAX_RETRY_WAIT_MS) return { tooLongMs: asked };
    return { ms: Math.max(0, asked) };
  }
  // Exponential backoff from 0.5 s, at most 8 s, with up to 25 % jitter.
  return { ms: Math.min(500 * 2 ** attempt, 8000) * (1 - Math.random() * 0.25) };
}
