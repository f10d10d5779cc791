import { errorMessage } from '../util/errors';
import { CallGuard, type LimitSettings, resolveLimits } from './limits';
import { type LlmConfig, LlmError, type StreamHandlers, limitError, streamChat } from './llm';
import type { ChatMessage } from './prompt';

/**
 * A chat model that writes Sift's answers. `ask` takes any implementation: the OpenAI-compatible
 * client (below) or the editor's models (src/vscode/editorModels.ts). Every implementation is
 * bounded by the same limits (limits.ts): first-text wait, pauses, overall deadline, answer size.
 */
export interface ChatModel {
  /** Names the model in messages, e.g. "gpt-4o-mini at http://localhost:11434/v1". */
  readonly label: string;
  /** Streams the answer to `onToken`; resolves with the full text; throws an LlmError (text so far already passed on). */
  answer(messages: ChatMessage[], handlers: StreamHandlers, signal?: AbortSignal): Promise<string>;
}

/** The OpenAI-compatible endpoint as a ChatModel (its limits, retries and redirects are streamChat's). */
export function openAiChatModel(cfg: LlmConfig): ChatModel {
  return { label: cfg.model, answer: (messages, handlers, signal) => streamChat(cfg, messages, handlers, signal) };
}

/** Text chunks from a model that streams on its own (the editor's models): what `boundedChatModel` wraps. */
export type TextStream = (messages: ChatMessage[], signal: AbortSignal) => AsyncIterable<string>;

/**
 * A model that streams text, under Sift's limits: the first text must come within the first-text
 * wait, then no pause longer than the idle timeout, the whole answer within the deadline, and at
 * most maxAnswerChars characters. A source that ignores the abort signal is not waited for. Errors
 * the source throws as LlmError pass through; others become kind 'other' with `where` named.
 */
export function boundedChatModel(label: string, stream: TextStream, settings: LimitSettings): ChatModel {
  return {
    label,
    async answer(messages, handlers, signal) {
      const limits = resolveLimits(settings);
      const guard = new CallGuard(limits, signal);
      const stopped = new Promise<never>((_, reject) => {
        const fail = () => reject(guard.signal.reason);
        if (guard.signal.aborted) fail();
        else guard.signal.addEventListener('abort', fail, { once: true });
      });
      stopped.catch(() => undefined);
      let text = '';
      let it: AsyncIterator<string> | undefined;
      try {
        guard.waiting();
        it = stream(messages, guard.signal)[Symbol.asyncIterator]();
        for (;;) {
          const next = await Promise.race([it.next(), stopped]);
          if (next.done) break;
          const chunk = typeof next.value === 'string' ? next.value : '';
          if (!chunk) continue;
          const room = limits.maxAnswerChars - text.length;
          const kept = chunk.length > room ? cutAt(chunk, room) : chunk;
          if (kept) {
            text += kept;
            handlers.onToken(kept);
          }
          if (kept.length < chunk.length) {
            guard.trip({ kind: 'llm-answer-too-large' });
            break;
          }
          guard.progress();
        }
        if (guard.hit) throw guard.error;
        if (!text.trim()) throw new LlmError('empty', `${label} returned an empty answer.`);
        return text;
      } catch (err) {
        if (signal?.aborted) throw new LlmError('aborted', 'Stopped.');
        if (guard.hit) throw limitError(guard.hit, limits, label);
        if (err instanceof LlmError) throw err;
        throw new LlmError('other', `The call to ${label} failed: ${errorMessage(err)}`);
      } finally {
        guard.dispose();
        // Ends the source's request (it may still be streaming after a limit or a stop).
        void Promise.resolve(it?.return?.()).catch(() => undefined);
      }
    },
  };
}

function cutAt(s: string, n: number): string {
  if (n <= 0) return '';
  const code = s.charCodeAt(n - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}
