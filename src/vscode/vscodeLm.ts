/**
 * VS Code's language models as Sift sees them: `vscode.LanguageModelChat` adapted to
 * EditorChatModel (messages converted, cancellation, LanguageModelError codes mapped), the model
 * list, and the "Sift: Choose Chat Model" picker. Thin: the decisions are in editorModels.ts.
 */
import * as vscode from 'vscode';
import type { ChatMessage } from '../core/llm/prompt';
import { type EditorChatModel, editorModelError, modelLabel } from './editorModels';

/** A cancellation token that follows `signal`, disposed with the returned function. */
export function tokenFor(signal: AbortSignal): { token: vscode.CancellationToken; dispose: () => void } {
  const source = new vscode.CancellationTokenSource();
  const cancel = () => source.cancel();
  if (signal.aborted) source.cancel();
  else signal.addEventListener('abort', cancel, { once: true });
  return {
    token: source.token,
    dispose: () => {
      signal.removeEventListener('abort', cancel);
      source.dispose();
    },
  };
}

/** An AbortSignal that aborts when `token` is cancelled. */
export function signalFor(token: vscode.CancellationToken): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController();
  if (token.isCancellationRequested) ctl.abort();
  const sub = token.onCancellationRequested(() => ctl.abort());
  return { signal: ctl.signal, dispose: () => sub.dispose() };
}

/** VS Code chat has no system role: the system text goes first, as the user's. */
function toVscodeMessages(messages: ChatMessage[]): vscode.LanguageModelChatMessage[] {
  return messages.map((m) => (m.role === 'assistant' ? vscode.LanguageModelChatMessage.Assistant(m.content) : vscode.LanguageModelChatMessage.User(m.content)));
}

export function fromVscodeModel(m: vscode.LanguageModelChat): EditorChatModel {
  const label = modelLabel(m);
  return {
    id: m.id,
    name: m.name,
    vendor: m.vendor,
    family: m.family,
    async *stream(messages, signal) {
      const { token, dispose } = tokenFor(signal);
      try {
        // The first request asks the user for permission (VS Code's consent dialog).
        const response = await m.sendRequest(toVscodeMessages(messages), { justification: 'Sift answers your question about this codebase from the ranked code sources it found.' }, token);
        for await (const text of response.text) yield text;
      } catch (err) {
        if (signal.aborted) throw err;
        throw editorModelError(err, err instanceof vscode.LanguageModelError ? err.code : undefined, label);
      } finally {
        dispose();
      }
    },
  };
}

export async function listEditorModels(): Promise<EditorChatModel[]> {
  return (await vscode.lm.selectChatModels()).map(fromVscodeModel);
}

/** "Sift: Choose Chat Model": a quick pick over VS Code's models, stored in the user's settings. */
export async function chooseChatModel(): Promise<void> {
  const models = await vscode.lm.selectChatModels();
  if (!models.length) {
    void vscode.window.showInformationMessage('Sift: VS Code has no chat models. Install or sign in to a language-model provider (for example GitHub Copilot Chat), or set an OpenAI-compatible endpoint (sift.llm.baseUrl).');
    return;
  }
  const config = vscode.workspace.getConfiguration('sift');
  const current = config.inspect<string>('llm.vscodeModel')?.globalValue ?? '';
  type Item = vscode.QuickPickItem & { value: string };
  const items: Item[] = [
    { label: 'Automatic', description: 'the first model VS Code offers', value: '', picked: !current },
    ...models.map((m) => ({ label: m.name || m.id, description: `${m.vendor} · ${m.family}`, detail: m.id === current ? 'current' : undefined, value: m.id, picked: m.id === current })),
  ];
  const choice = await vscode.window.showQuickPick(items, { title: 'Sift: chat model for answers', placeHolder: 'Sift uses this VS Code model when sift.llm.provider is "vscode" (or "auto" with no base URL)' });
  if (!choice) return;
  await config.update('llm.vscodeModel', choice.value, vscode.ConfigurationTarget.Global);
  const provider = config.inspect<string>('llm.provider')?.globalValue ?? 'auto';
  if (provider === 'openai-compatible') {
    const use = await vscode.window.showInformationMessage('Sift answers with the OpenAI-compatible endpoint (sift.llm.provider). Use the VS Code model instead?', 'Use VS Code Models');
    if (use) await config.update('llm.provider', 'vscode', vscode.ConfigurationTarget.Global);
  }
}
