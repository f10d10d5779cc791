import * as vscode from 'vscode';
import { errorMessage } from '../core/util/errors';
import type { ChatController } from './chat';
import { editorSelectionPin } from './chatPins';
import { VIEW_ID } from './chatViews';
import { COMMAND_IDS, type CommandId } from './commandIds';
import { evaluateWorkspace } from './evaluate';
import type { RankingFeedback } from './feedback';
import type { FolderIndexer } from './folderIndexer';
import type { DisposableStore } from './lifecycle';
import type { LlmSettings } from './llmSettings';
import type { RerankKey } from './rerankKey';
import type { TeamIndex } from './teamIndex';
import { chooseChatModel } from './vscodeLm';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  chat: ChatController;
  indexer: FolderIndexer;
  llm: LlmSettings;
  feedback: RankingFeedback;
  team: TeamIndex;
  rerankKey: RerankKey;
  /** The embedding server's key (the same class, EMBEDDING_KEY kind). */
  embeddingKey: RerankKey;
}

type Handler = (...args: unknown[]) => unknown;

/** Registers a handler for every id in COMMAND_IDS (the type requires exactly one per id). */
export function registerCommands(root: DisposableStore, deps: CommandDeps): void {
  const handlers = commandHandlers(deps);
  for (const id of COMMAND_IDS) {
    root.add(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          await handlers[id](...args);
        } catch (err) {
          deps.log.error(`${id} failed: ${errorMessage(err)}`);
          void vscode.window.showErrorMessage(`Sift: ${errorMessage(err)}`);
        }
      }),
    );
  }
}

function commandHandlers({ context, log, chat, indexer, llm, feedback, team, rerankKey, embeddingKey }: CommandDeps): Record<CommandId, Handler> {
  return {
    'sift.ask': async (question?: unknown) => {
      if (typeof question === 'string' && question.trim()) return chat.prefill(question, true);
      await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
      return chat.prefill('', false);
    },
    'sift.askSelection': async () => {
      const editor = vscode.window.activeTextEditor;
      const text = editor?.document.getText(editor.selection).trim();
      if (!editor || !text) {
        void vscode.window.showInformationMessage('Sift: select some code first, then ask about it.');
        return;
      }
      // The selected lines, whole, pinned as a source of the next question (always in its context).
      const pin = editorSelectionPin(editor, indexer);
      const rel = vscode.workspace.asRelativePath(editor.document.uri);
      if (!pin) {
        const snippet = text.length > 1500 ? `${text.slice(0, 1500)}…` : text;
        return chat.prefill(`What does this code in ${rel} do, and where is it used?\n\n${snippet}`, false);
      }
      await chat.pin(pin);
      return chat.prefill(`What does this code in ${rel} do, and where is it used?`, false);
    },
    'sift.compare': async (question?: unknown) => chat.prefill(typeof question === 'string' ? question : '', typeof question === 'string' && question.trim().length > 0, true),
    'sift.openChatInEditor': () => chat.views.openInEditor(),
    'sift.reindex': () => indexer.ensureIndexed(true),
    'sift.pauseIndexing': () => indexer.pause(),
    'sift.resumeIndexing': () => indexer.resume(),
    'sift.toggleRerank': () => {
      chat.setRerank(!chat.rerankEnabled);
      void vscode.window.setStatusBarMessage(`Sift: reranking ${chat.rerankEnabled ? 'on' : 'off'}`, 3000);
    },
    'sift.setApiKey': () => setApiKey(log, chat, llm),
    'sift.clearApiKey': async () => {
      await llm.setApiKey(undefined);
      log.info('API key removed from secret storage.');
      await chat.refreshLlm();
    },
    'sift.setRerankApiKey': () => setRerankApiKey(log, rerankKey),
    'sift.setEmbeddingApiKey': () => setRerankApiKey(log, embeddingKey, 'embedding', 'sift.embedding.baseUrl'),
    'sift.clearRerankApiKey': async () => {
      await rerankKey.set(undefined);
      log.info('Rerank API key removed from secret storage.');
    },
    'sift.setTeamIndexPassword': () => setTeamIndexPassword(log, team),
    'sift.clearTeamIndexPassword': async () => {
      await team.setPassword(undefined);
      await team.reset();
      log.info('Team index password removed from secret storage.');
    },
    'sift.clearLtrFeedback': async () => {
      await feedback.clear();
      void vscode.window.setStatusBarMessage('Sift: learned ranking feedback cleared', 3000);
    },
    'sift.showLogs': () => log.show(),
    'sift.clearHistory': () => chat.clearHistory(),
    'sift.evaluate': async () => {
      if (!vscode.workspace.isTrusted) {
        void vscode.window.showWarningMessage('Sift: evaluation runs git in this repository; trust the workspace first.');
        return;
      }
      const folders = vscode.workspace.workspaceFolders ?? [];
      const folder = folders.length > 1 ? await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Evaluate retrieval on which folder?' }) : folders[0];
      if (!folder) return;
      await evaluateWorkspace(context, log, folder);
    },
    'sift.chooseChatModel': async () => {
      await chooseChatModel();
      await chat.refreshLlm();
    },
    'sift.openSettings': () => vscode.commands.executeCommand('workbench.action.openSettings', '@ext:sift-dev.sift-codebase-qa'),
  };
}

/** The key is bound to the endpoint's origin: Sift never sends it anywhere else. */
async function setApiKey(log: vscode.LogOutputChannel, chat: ChatController, llm: LlmSettings): Promise<void> {
  const { endpoint, storedFor } = await llm.apiKeyTarget();
  if (!endpoint) throw new Error('sift.llm.baseUrl in your user settings is not an http(s) URL; fix it first.');
  if (storedFor && storedFor !== endpoint) {
    const send = `Send the Stored Key to ${endpoint}`;
    const choice = await vscode.window.showWarningMessage(
      `Your API key was stored for ${storedFor}; the endpoint in your user settings is now ${endpoint}.`,
      { modal: true, detail: 'Sift sends a key only to the endpoint it was entered for. Enter a new key for this endpoint, or confirm that the stored one may go there from now on.' },
      'Enter a New Key',
      send,
    );
    if (!choice) return;
    if (choice === send) {
      await llm.rebindApiKey(endpoint);
      log.info(`The stored API key is now bound to ${endpoint}.`);
      await chat.refreshLlm();
      return;
    }
  }
  const key = await vscode.window.showInputBox({
    title: `Sift: API key for ${endpoint}`,
    prompt: `Sent only to ${endpoint}. Stored in VS Code's secret storage, never in settings or logs.`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim().length < 4 ? 'That does not look like an API key.' : undefined),
  });
  if (key === undefined) return;
  await llm.setApiKey(key.trim(), endpoint);
  log.info(`API key stored in secret storage for ${endpoint}.`);
  await chat.refreshLlm();
}

/** The key is bound to the rerank server's origin (sift.rerank.baseUrl): Sift never sends it anywhere else. */
async function setRerankApiKey(log: vscode.LogOutputChannel, rerankKey: RerankKey, what = 'rerank', setting = 'sift.rerank.baseUrl'): Promise<void> {
  const { server, storedFor } = await rerankKey.target();
  if (!server) throw new Error(`Set ${setting} in your user settings to the ${what} server (an http(s) URL) first.`);
  const key = await vscode.window.showInputBox({
    title: `Sift: ${what} API key for ${server}`,
    prompt: `Sent only to ${server}.${storedFor && storedFor !== server ? ` Replaces the key stored for ${storedFor}.` : ''} Stored in VS Code's secret storage, never in settings or logs.`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim().length < 4 ? 'That does not look like an API key.' : undefined),
  });
  if (key === undefined) return;
  await rerankKey.set(key.trim());
  log.info(`${what === 'rerank' ? 'Rerank' : 'Embedding'} API key stored in secret storage for ${server}.`);
}

/** The password is bound to the server in sift.index.store: Sift never sends it to another one. */
async function setTeamIndexPassword(log: vscode.LogOutputChannel, team: TeamIndex): Promise<void> {
  const target = team.target();
  if (!target) throw new Error('Set sift.index.store in your user settings first (postgres://user@host:5432/database, without the password).');
  if ('problem' in target) throw new Error(target.problem);
  const password = await vscode.window.showInputBox({
    title: `Sift: team index password for ${target.server}`,
    prompt: `Sent only to ${target.server}. Stored in VS Code's secret storage, never in settings or logs.`,
    password: true,
    ignoreFocusOut: true,
  });
  if (password === undefined) return;
  await team.setPassword(password);
  log.info(`Team index password stored in secret storage for ${target.server}.`);
}
