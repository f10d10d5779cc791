import OpenAI from 'openai';
import { errorMessage } from '../util/errors';
import { CallGuard, type LimitHit, type LimitKind, type LimitSettings, type Limits, resolveLimits, retryWait } from './limits';
import type { ChatMessage } from './prompt';
import { formatCount } from '../util/format';

export { LIMIT_DEFAULTS } from './limits';

export interface LlmConfig extends LimitSettings {
  /** OpenAI-compatible base URL, e.g. http://localhost:11434/v1 (Ollama). Default: OpenAI. */
  baseURL?: string;
  /** Not needed by most local servers. Never logged. */
  apiKey?: string;
  model: string;
  temperature?: number;
  maxTokens?: number;
  /**
   * How long to wait for the answer to start (default 60 s): each attempt's response headers,
   * then the first text. Once text flows, idleTimeoutMs and deadlineMs apply (see limits.ts).
   */
  timeoutMs?: number;
  /** Retries for 429/5xx/connection errors, with backoff honouring Retry-After up to 30 s (default 2, at most 5). */
  maxRetries?: number;
}

export type LlmErrorKind = 'auth' | 'model-not-found' | 'rate-limit' | 'server' | 'timeout' | 'connection' | 'bad-request' | 'stream-cut' | 'empty' | 'aborted' | 'other' | LimitKind;

export class LlmError extends Error {
  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'LlmError';
  }
}

/** True when enough is configured to call an LLM. */
export function llmConfigured(cfg: Partial<LlmConfig> | undefined): cfg is LlmConfig {
  return Boolean(cfg?.model && (cfg.baseURL || cfg.apiKey));
}

export interface StreamHandlers {
  onToken(text: string): void;
}

/**
 * Streams a chat completion. Resolves with the full text; on failure throws an LlmError whose
 * message says what to check. Text received before a failure is passed to onToken first, so the
 * caller keeps it. The call is bounded (limits.ts): time to the first text, pauses between text,
 * the whole call, answer size, bytes read, retries and redirects.
 */
export async function streamChat(cfg: LlmConfig, messages: ChatMessage[], handlers: StreamHandlers, signal?: AbortSignal): Promise<string> {
  const where = displayUrl(cfg.baseURL ?? 'https://api.openai.com/v1');
  const limits = resolveLimits(cfg);
  const guard = new CallGuard(limits, signal);
  const client = new OpenAI({
    baseURL: cfg.baseURL,
    // Local servers ignore the key, but the client insists on one.
    apiKey: cfg.apiKey || 'sk-no-key-required',
    timeout: limits.firstTextMs,
    // Retries are made here, inside the deadline (the client's own wait is not abortable).
    maxRetries: 0,
    fetch: guard.fetch,
    // The client would print unparsable server data to the console.
    logLevel: 'off',
  });
  let text = '';
  let attempts = 0;
  let retryAfterTooLong: number | undefined;
  try {
    let stream;
    for (;;) {
      attempts++;
      try {
        stream = await client.chat.completions.create(
          {
            model: cfg.model,
            messages,
            stream: true,
            temperature: cfg.temperature ?? 0.1,
            max_tokens: cfg.maxTokens ?? 1024,
          },
          { signal: guard.signal, timeout: Math.max(1, Math.ceil(Math.min(limits.firstTextMs, guard.remainingMs()))) },
        );
        break;
      } catch (err) {
        guard.stopIdle();
        if (guard.hit || signal?.aborted || attempts > limits.maxRetries) throw err;
        // Retried: no connection, or an HTTP status that may pass (408, 409, 429, 5xx); never after text arrived.
        if (!(err instanceof OpenAI.APIConnectionError || (err instanceof OpenAI.APIError && err.status !== undefined))) throw err;
        const wait = retryWait(err.status, err.headers, attempts - 1);
        retryAfterTooLong = wait.tooLongMs;
        if (wait.ms === undefined || wait.ms >= guard.remainingMs()) throw err;
        await guard.sleep(wait.ms);
      }
    }
    let finished = false;
    let extra = 0;
    for await (const chunk of stream) {
      const choice = chunk.choices?.[0];
      const delta = choice?.delta;
      const content = delta?.content;
      if (content) {
        const room = limits.maxAnswerChars - text.length;
        const kept = content.length > room ? cutAt(content, room) : content;
        if (kept) {
          text += kept;
          handlers.onToken(kept);
        }
        if (kept.length < content.length) {
          guard.trip({ kind: 'llm-answer-too-large' });
          break;
        }
      }
      // Reasoning, refusal and tool-call text is not kept, but it is progress and is capped too.
      const other = sideText(delta);
      extra += other;
      if (extra > limits.maxAnswerChars) {
        guard.trip({ kind: 'llm-answer-too-large', detail: 'reasoning or tool-call text' });
        break;
      }
      if (content || other) guard.progress();
      // The answer is complete: a server that keeps the stream open after this is not waited for.
      if (choice?.finish_reason) {
        finished = true;
        break;
      }
    }
    if (guard.hit) throw guard.error;
    if (!text.trim()) throw new LlmError('empty', `The model ${cfg.model} at ${where} returned an empty answer. Check that the model is loaded and supports chat completions.`);
    if (!finished) throw new LlmError('stream-cut', `The answer stream from ${where} ended early (no finish reason); the text so far is kept. Retry, or check the server's logs.`);
    return text;
  } catch (err) {
    throw classify(err, cfg, where, signal, { hit: guard.hit, limits, attempts, retryAfterTooLong });
  } finally {
    guard.dispose();
  }
}

/** The first `n` characters, not splitting a surrogate pair. */
function cutAt(s: string, n: number): string {
  if (n <= 0) return '';
  const code = s.charCodeAt(n - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}

/** Characters of non-answer text in a delta (reasoning, refusal, tool calls). */
function sideText(delta: unknown): number {
  if (!delta || typeof delta !== 'object') return 0;
  const d = delta as Record<string, unknown>;
  let n = 0;
  for (const k of ['reasoning_content', 'reasoning', 'refusal']) if (typeof d[k] === 'string') n += (d[k] as string).length;
  if (Array.isArray(d.tool_calls)) {
    for (const call of d.tool_calls as { function?: { name?: unknown; arguments?: unknown } }[]) {
      const f = call?.function;
      if (typeof f?.name === 'string') n += f.name.length;
      if (typeof f?.arguments === 'string') n += f.arguments.length;
    }
  }
  return n;
}

interface CallFacts {
  hit: LimitHit | undefined;
  limits: Limits;
  attempts: number;
  retryAfterTooLong: number | undefined;
}

function classify(err: unknown, cfg: LlmConfig, where: string, signal: AbortSignal | undefined, facts: CallFacts): LlmError {
  const e = facts.hit && !signal?.aborted ? limitError(facts.hit, facts.limits, where) : classifyRaw(err, cfg, where, signal, facts);
  // Error bodies sometimes echo the key ("Incorrect API key provided: sk-…"): never pass it on.
  const clean = redactSecrets(e.message, cfg.apiKey);
  return clean === e.message ? e : new LlmError(e.kind, clean, e.status);
}

/** The base URL for messages: credentials in it (user:password@, ?key=…) are never shown. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    for (const k of [...u.searchParams.keys()]) u.searchParams.set(k, '[redacted]');
    return u.toString().replace(/%5Bredacted%5D/g, '[redacted]').replace(/\/$/, url.endsWith('/') ? '/' : '');
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, '//').replace(/\?.*$/, '');
  }
}

/** Removes an API key, and anything shaped like one, from a message. */
export function redactSecrets(message: string, apiKey?: string): string {
  let out = message;
  if (apiKey && apiKey.length >= 4) out = out.split(apiKey).join('[redacted]');
  return out
    .replace(/\b(sk|pk|rk)-[A-Za-z0-9*_-]{6,}/g, '$1-[redacted]')
    .replace(/\bBearer\s+\S+/gi, 'Bearer [redacted]')
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1[redacted]@');
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** The message for a limit hit: which limit, its setting and CLI flag, and that the text so far is kept. */
export function limitError(hit: LimitHit, limits: Limits, where: string): LlmError {
  const kept = 'The text so far is kept.';
  switch (hit.kind) {
    case 'llm-idle-timeout':
      return hit.afterText
        ? new LlmError(hit.kind, `The answer from ${where} stalled: no new text for ${seconds(limits.idleMs)} (limit: setting sift.llm.idleTimeoutSeconds, CLI --llm-idle-timeout). ${kept} Retry, or check the server.`)
        : new LlmError(hit.kind, `The LLM at ${where} started a response but sent no answer text within ${seconds(limits.firstTextMs)} (limit: setting sift.llm.timeoutSeconds, CLI --llm-timeout). Check that the server is not overloaded, or raise the limit.`);
    case 'llm-deadline':
      return new LlmError(hit.kind, `The answer from ${where} took longer than ${seconds(limits.deadlineMs)} in all (limit: setting sift.llm.deadlineSeconds, CLI --llm-deadline). ${kept}`);
    case 'llm-answer-too-large':
      return new LlmError(hit.kind, `The ${hit.detail ?? 'answer'} from ${where} passed ${formatCount(limits.maxAnswerChars)} characters; Sift stopped reading there (limit: setting sift.llm.maxAnswerChars, CLI --llm-max-answer-chars). ${kept}`);
    case 'llm-response-too-large':
      return new LlmError(hit.kind, `The LLM at ${where} sent more data than an answer needs (${hit.detail ?? 'too many bytes'}); Sift stopped reading. ${kept}`);
    case 'llm-redirect':
      return new LlmError(hit.kind, `The LLM at ${where} redirected the request (${hit.detail ?? 'redirect'}). Sift does not follow redirects to another address, so neither the API key nor the sources were sent there. If you trust that address, set it as the base URL.`);
  }
}

function classifyRaw(err: unknown, cfg: LlmConfig, where: string, signal: AbortSignal | undefined, facts: CallFacts): LlmError {
  if (signal?.aborted || err instanceof OpenAI.APIUserAbortError) return new LlmError('aborted', 'Stopped.');
  if (err instanceof LlmError) return err;
  if (err instanceof OpenAI.APIConnectionTimeoutError) {
    return new LlmError('timeout', `The LLM at ${where} did not answer within ${seconds(facts.limits.firstTextMs)}${facts.attempts > 1 ? ` (${facts.attempts} attempts)` : ''}. Check that the server is running and not overloaded, or raise the timeout.`);
  }
  if (err instanceof OpenAI.APIConnectionError) {
    return new LlmError('connection', `Could not reach the LLM at ${where} (${causeOf(err)}). Check the base URL and that the server is running.`);
  }
  if (err instanceof OpenAI.APIError) {
    const status = err.status;
    const detail = shortDetail(err);
    if (status === 401 || status === 403) return new LlmError('auth', `The LLM at ${where} rejected the API key (HTTP ${status}). Check the API key${detail}.`, status);
    if (status === 404) return new LlmError('model-not-found', `The LLM at ${where} does not know the model "${cfg.model}" (HTTP 404). Check the model name and the base URL${detail}.`, status);
    if (status === 429) {
      const tried = facts.retryAfterTooLong !== undefined ? `; it asks to wait ${seconds(facts.retryAfterTooLong)}, longer than Sift waits (30 s)` : facts.attempts > 1 ? `, still after retrying (${facts.attempts} attempts)` : '';
      return new LlmError('rate-limit', `The LLM at ${where} is rate-limiting requests (HTTP 429)${tried}. Wait a moment and retry, or check your plan's limits${detail}.`, status);
    }
    if (status !== undefined && status >= 500) return new LlmError('server', `The LLM at ${where} failed with HTTP ${status}. Retry, or check the server's logs${detail}.`, status);
    if (status === 400 || status === 422) return new LlmError('bad-request', `The LLM at ${where} refused the request (HTTP ${status})${detail}. The context may be too long for the model: lower the token budget.`, status);
    if (status === undefined) return new LlmError('stream-cut', `The answer stream from ${where} broke off (${detail.replace(/^: /, '') || errorMessage(err)}). The text so far is kept; retry.`);
    return new LlmError('other', `The LLM at ${where} answered HTTP ${status}${detail}.`, status);
  }
  const message = errorMessage(err);
  if (/terminated|socket|ECONNRESET|aborted|premature|JSON/i.test(message)) {
    return new LlmError('stream-cut', `The answer stream from ${where} broke off (${message}). The text so far is kept; retry.`);
  }
  return new LlmError('other', `The LLM call to ${where} failed: ${message}`);
}

function causeOf(err: Error): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? err.message;
}

function shortDetail(err: InstanceType<typeof OpenAI.APIError>): string {
  const body = err.error as { message?: string } | undefined;
  const msg = body?.message ?? '';
  return msg ? `: ${msg.slice(0, 200)}` : '';
}
