/**
 * The editor's chat models as Sift's answer model (`sift.llm.provider`): which one to use, and the
 * messages for VS Code's language-model errors. No vscode import: vscodeLm.ts adapts
 * `vscode.LanguageModelChat` to `EditorChatModel`, the tests use fakes.
 */
import { type ChatModel, boundedChatModel } from '../core/llm/chatModel';
import { LlmError } from '../core/llm/llm';
import type { LimitSettings } from '../core/llm/limits';
import type { ChatMessage } from '../core/llm/prompt';
import type { SiftSettings } from './settingsSchema';

/** One of `vscode.lm.selectChatModels()`'s models, as Sift uses it. */
export interface EditorChatModel {
  readonly id: string;
  readonly name: string;
  readonly vendor: string;
  readonly family: string;
  /** The answer's text fragments; throws what `sendRequest` throws (see `editorModelError`). */
  stream(messages: ChatMessage[], signal: AbortSignal): AsyncIterable<string>;
}

export type LlmProvider = 'auto' | 'openai-compatible' | 'vscode';

/** "name (vendor)" for messages and pickers. */
export function modelLabel(m: Pick<EditorChatModel, 'name' | 'vendor' | 'id'>): string {
  return `${m.name || m.id} (${m.vendor}, VS Code)`;
}

/**
 * The model `selector` names (`sift.llm.vscodeModel`): an id, a family, or `vendor/family`
 * (case-insensitive); the first model when the selector is empty.
 */
export function pickModel<M extends Pick<EditorChatModel, 'id' | 'family' | 'vendor'>>(models: readonly M[], selector: string): M | undefined {
  const want = selector.trim().toLowerCase();
  if (!want) return models[0];
  return (
    models.find((m) => m.id.toLowerCase() === want) ??
    models.find((m) => m.family.toLowerCase() === want) ??
    models.find((m) => `${m.vendor}/${m.family}`.toLowerCase() === want || `${m.vendor}/${m.id}`.toLowerCase() === want)
  );
}

/** Limits from Sift's settings, applied to the editor's models as to any endpoint. */
export function limitsOf(s: SiftSettings): LimitSettings {
  return { idleTimeoutMs: s['llm.idleTimeoutSeconds'] * 1000, deadlineMs: s['llm.deadlineSeconds'] * 1000, maxAnswerChars: s['llm.maxAnswerChars'], timeoutMs: s['llm.timeoutSeconds'] * 1000 };
}

/** An editor model as the core's ChatModel, under Sift's limits. */
export function editorChatModel(m: EditorChatModel, limits: LimitSettings): ChatModel {
  const label = modelLabel(m);
  return boundedChatModel(label, (messages, signal) => m.stream(messages, signal), limits);
}

/**
 * The model that answers in the panel, or undefined for the OpenAI-compatible endpoint (or none).
 * `vscode`: the editor's model (an error when it has none, or none matches); `auto`: the editor's
 * model when no base URL is configured and it has one; `openai-compatible`: never the editor's.
 */
export async function resolveAnswerModel(s: SiftSettings, list: () => Promise<readonly EditorChatModel[]>): Promise<ChatModel | undefined> {
  const provider = s['llm.provider'] as LlmProvider;
  if (provider === 'openai-compatible') return undefined;
  if (provider === 'auto' && s['llm.baseUrl'].trim()) return undefined;
  const models = await list();
  const chosen = pickModel(models, s['llm.vscodeModel']);
  if (chosen) return editorChatModel(chosen, limitsOf(s));
  if (provider === 'auto') return undefined;
  const selector = s['llm.vscodeModel'].trim();
  throw new LlmError(
    'model-not-found',
    models.length
      ? `No chat model in VS Code matches sift.llm.vscodeModel "${selector}" (available: ${models.map((m) => m.id).join(', ')}). Run "Sift: Choose Chat Model".`
      : 'sift.llm.provider is "vscode", but VS Code has no chat model: install or sign in to a language-model provider (for example GitHub Copilot Chat), or set sift.llm.provider to "openai-compatible".',
  );
}

/**
 * The message for an error from the editor's model (`vscode.LanguageModelError` codes), as an
 * LlmError. `code` is the error's code when it is a LanguageModelError.
 */
export function editorModelError(err: unknown, code: string | undefined, label: string): LlmError {
  const detail = err instanceof Error && err.message ? ` (${err.message.slice(0, 200)})` : '';
  switch (code) {
    case 'NoPermissions':
      return new LlmError('auth', `Sift may not use ${label}: the permission request was declined or not answered${detail}. Ask again and allow Sift to use the model, or manage the permission under Accounts > Manage Language Model Access.`);
    case 'Blocked':
      return new LlmError('rate-limit', `${label} refused the request: it is blocked or over its quota for now${detail}. Wait and retry, or choose another model ("Sift: Choose Chat Model").`);
    case 'NotFound':
      return new LlmError('model-not-found', `${label} is no longer available${detail}. Choose another model ("Sift: Choose Chat Model").`);
    default:
      return err instanceof LlmError ? err : new LlmError('other', `${label} failed${detail || `: ${String(err)}`}.`);
  }
}
