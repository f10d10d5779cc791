import * as vscode from 'vscode';
import { errorMessage } from '../core/util/errors';
import { ChatController, PANEL_TYPE, VIEW_ID, jumpHighlight } from './chat';
import { evaluateWorkspace } from './evaluate';
import { DisposableStore } from './lifecycle';
import { SiftService } from './service';
import { effectOf, reportRefusedSettings } from './settings';
import { StatusBar } from './statusBar';

/**
 * Activation is thin and lazy: it wires commands, the chat view and the status bar. The worker,
 * the models and the index load on first use (opening the view or asking).
 */
export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Sift', { log: true });
  context.subscriptions.push(log);
  try {
    const root = new DisposableStore();
    context.subscriptions.push(root);
    wire(context, root, log);
    log.info(`Sift ${String(context.extension.packageJSON.version)} activated (${vscode.env.appName} ${vscode.version}). Models and the index load on first use.`);
  } catch (err) {
    // Explain a failed activation instead of leaving commands that do nothing.
    log.error(`Activation failed: ${errorMessage(err)}\n${(err as Error)?.stack ?? ''}`);
    void vscode.window.showErrorMessage(`Sift could not start: ${errorMessage(err)}`, 'Show Logs').then((choice) => {
      if (choice) log.show();
    });
  }
}

function wire(context: vscode.ExtensionContext, root: DisposableStore, log: vscode.LogOutputChannel): void {
  root.add(jumpHighlight);
  // Refused workspace values of user-only settings are logged and shown (read before anything else).
  root.add(reportRefusedSettings(log));
  const service = root.add(new SiftService(context, log));
  const chat = root.add(new ChatController(context, service, log));
  const status = root.add(new StatusBar());
  status.update(service.status());
  root.add(service.onDidChangeStatus((s) => status.update(s)));

  root.add(vscode.window.registerWebviewViewProvider(VIEW_ID, chat, { webviewOptions: { retainContextWhenHidden: true } }));
  root.add(vscode.window.registerWebviewPanelSerializer(PANEL_TYPE, chat));

  const command = (id: string, fn: (...args: unknown[]) => unknown) =>
    root.add(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          await fn(...args);
        } catch (err) {
          log.error(`${id} failed: ${errorMessage(err)}`);
          void vscode.window.showErrorMessage(`Sift: ${errorMessage(err)}`);
        }
      }),
    );

  command('sift.ask', async (question?: unknown) => {
    if (typeof question === 'string' && question.trim()) return chat.prefill(question, true);
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
    return chat.prefill('', false);
  });
  command('sift.askSelection', async () => {
    const editor = vscode.window.activeTextEditor;
    const text = editor?.document.getText(editor.selection).trim();
    if (!editor || !text) {
      void vscode.window.showInformationMessage('Sift: select some code first, then ask about it.');
      return;
    }
    const rel = vscode.workspace.asRelativePath(editor.document.uri);
    const snippet = text.length > 1500 ? `${text.slice(0, 1500)}…` : text;
    return chat.prefill(`What does this code in ${rel} do, and where is it used?\n\n${snippet}`, false);
  });
  command('sift.compare', async (question?: unknown) => chat.prefill(typeof question === 'string' ? question : '', typeof question === 'string' && question.trim().length > 0, true));
  command('sift.openChatInEditor', () => chat.openInEditor());
  command('sift.reindex', () => service.reindex());
  command('sift.pauseIndexing', () => service.pause());
  command('sift.resumeIndexing', () => service.resume());
  command('sift.toggleRerank', () => {
    chat.setRerank(!chat.rerankEnabled);
    void vscode.window.setStatusBarMessage(`Sift: reranking ${chat.rerankEnabled ? 'on' : 'off'}`, 3000);
  });
  command('sift.setApiKey', async () => {
    // The key is bound to the endpoint's origin: Sift never sends it anywhere else.
    const { endpoint, storedFor } = await service.apiKeyTarget();
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
        await service.rebindApiKey(endpoint);
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
    await service.setApiKey(key.trim(), endpoint);
    log.info(`API key stored in secret storage for ${endpoint}.`);
    await chat.refreshLlm();
  });
  command('sift.clearApiKey', async () => {
    await service.setApiKey(undefined);
    log.info('API key removed from secret storage.');
    await chat.refreshLlm();
  });
  command('sift.clearLtrFeedback', async () => {
    await service.clearFeedback();
    void vscode.window.setStatusBarMessage('Sift: learned ranking feedback cleared', 3000);
  });
  command('sift.showLogs', () => log.show());
  command('sift.clearHistory', () => chat.clearHistory());
  command('sift.evaluate', async () => {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Sift: evaluation runs git in this repository; trust the workspace first.');
      return;
    }
    const folders = vscode.workspace.workspaceFolders ?? [];
    const folder = folders.length > 1 ? await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Evaluate retrieval on which folder?' }) : folders[0];
    if (!folder) return;
    await evaluateWorkspace(context, log, folder);
  });
  command('sift.openSettings', () => vscode.commands.executeCommand('workbench.action.openSettings', '@ext:sift-dev.sift-codebase-qa'));

  root.add(
    vscode.workspace.onDidChangeConfiguration((e) => {
      const effect = effectOf(e);
      if (!effect) return;
      log.info(`Settings changed (${effect}).`);
      if (effect === 'reindex' || effect === 'reload-models') service.settingsChanged(effect);
      void chat.refreshLlm();
    }),
  );
}

export function deactivate(): void {
  // Everything hangs off context.subscriptions.
}
