import OpenAI from 'openai';
import { errorMessage } from '../util/errors';
import type { ChatMessage } from './prompt';

export interface LlmConfig {
  /** OpenAI-compatible base URL, e.g. http://localhost:11434/v1 (Ollama). Default: OpenAI. */
  baseURL?: string;
  /** Not needed by most local servers. Never logged. */
  apiKey?: string;
  model: string;
  temperature?: number;
  maxTokens?: number;
  /** Per-request timeout in ms (default 60 s). */
  timeoutMs?: number;
  /** Retries for 429/5xx/connection errors, with backoff honouring Retry-After (default 2). */
  maxRetries?: number;
}

export type LlmErrorKind = 'auth' | 'model-not-found' | 'rate-limit' | 'server' | 'timeout' | 'connection' | 'bad-request' | 'stream-cut' | 'empty' | 'aborted' | 'other';

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
 * caller keeps it.
 */
export async function streamChat(cfg: LlmConfig, messages: ChatMessage[], handlers: StreamHandlers, signal?: AbortSignal): Promise<string> {
  const where = displayUrl(cfg.baseURL ?? 'https://api.openai.com/v1');
  const client = new OpenAI({
    baseURL: cfg.baseURL,
    // Local servers ignore the key, but the client insists on one.
    apiKey: cfg.apiKey || 'sk-no-key-required',
    timeout: cfg.timeoutMs ?? 60_000,
    maxRetries: cfg.maxRetries ?? 2,
  });
  let text = '';
  try {
    const stream = await client.chat.completions.create(
      {
        model: cfg.model,
        messages,
        stream: true,
        temperature: cfg.temperature ?? 0.1,
        max_tokens: cfg.maxTokens ?? 1024,
      },
      { signal },
    );
    let finished = false;
    for await (const chunk of stream) {
      const choice = chunk.choices?.[0];
      const delta = choice?.delta?.content;
      if (delta) {
        text += delta;
        handlers.onToken(delta);
      }
      if (choice?.finish_reason) finished = true;
    }
    if (!text.trim()) throw new LlmError('empty', `The model ${cfg.model} at ${where} returned an empty answer. Check that the model is loaded and supports chat completions.`);
    if (!finished) throw new LlmError('stream-cut', `The answer stream from ${where} ended early (no finish reason); the text so far is kept. Retry, or check the server's logs.`);
    return text;
  } catch (err) {
    throw classify(err, cfg, where, signal);
  }
}

function classify(err: unknown, cfg: LlmConfig, where: string, signal?: AbortSignal): LlmError {
  const e = classifyRaw(err, cfg, where, signal);
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

function classifyRaw(err: unknown, cfg: LlmConfig, where: string, signal?: AbortSignal): LlmError {
  if (signal?.aborted || err instanceof OpenAI.APIUserAbortError) return new LlmError('aborted', 'Stopped.');
  if (err instanceof LlmError) return err;
  if (err instanceof OpenAI.APIConnectionTimeoutError) {
    return new LlmError('timeout', `The LLM at ${where} did not answer within ${Math.round((cfg.timeoutMs ?? 60_000) / 1000)} s. Check that the server is running and not overloaded, or raise the timeout.`);
  }
  if (err instanceof OpenAI.APIConnectionError) {
    return new LlmError('connection', `Could not reach the LLM at ${where} (${causeOf(err)}). Check the base URL and that the server is running.`);
  }
  if (err instanceof OpenAI.APIError) {
    const status = err.status;
    const detail = shortDetail(err);
    if (status === 401 || status === 403) return new LlmError('auth', `The LLM at ${where} rejected the API key (HTTP ${status}). Check the API key${detail}.`, status);
    if (status === 404) return new LlmError('model-not-found', `The LLM at ${where} does not know the model "${cfg.model}" (HTTP 404). Check the model name and the base URL${detail}.`, status);
    if (status === 429) return new LlmError('rate-limit', `The LLM at ${where} is rate-limiting requests (HTTP 429), still after retrying. Wait a moment and retry, or check your plan's limits${detail}.`, status);
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
