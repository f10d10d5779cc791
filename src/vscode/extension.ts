import * as path from 'node:path';
import * as vscode from 'vscode';
import { InferenceClient } from '../core/worker/client';
import { indexWorkspaceInThread } from '../core/indexing/thread';
import { errorMessage } from '../core/util/errors';
import { AskService } from './askService';
import { ChatController } from './chat';
import { registerChatApi } from './chatApi';
import { PANEL_TYPE, VIEW_ID } from './chatViews';
import { registerCommands } from './commands';
import { EditorContext } from './editorContext';
import { resolveAnswerModel } from './editorModels';
import { RankingFeedback } from './feedback';
import { FolderIndexer } from './folderIndexer';
import { jumpHighlight } from './jump';
import { DisposableStore } from './lifecycle';
import { LlmSettings } from './llmSettings';
import { ModelHost } from './modelHost';
import { effectOf, reportRefusedSettings } from './settings';
import { StatusBar } from './statusBar';
import { TeamIndex } from './teamIndex';
import { listEditorModels } from './vscodeLm';
import { EMBEDDING_KEY, RerankKey } from './rerankKey';
import { VscodeWorkspace, secretStore, showKeyRefused, showTeamIndexWarning, stateStore } from './vscodeWorkspace';

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

/** The composition root: every service is created here, once, and hangs off `root`. */
function wire(context: vscode.ExtensionContext, root: DisposableStore, log: vscode.LogOutputChannel): void {
  root.add(jumpHighlight);
  // Refused workspace values of user-only settings are logged and shown (read before anything else).
  root.add(reportRefusedSettings(log));
  const dist = (file: string) => vscode.Uri.joinPath(context.extensionUri, 'dist', file).fsPath;
  const port = new VscodeWorkspace(log);
  // The rerank server's key: secret storage, bound to sift.rerank.baseUrl's origin (else SIFT_RERANK_API_KEY).
  const rerankKey = new RerankKey({
    secrets: secretStore(context.secrets),
    baseUrl: () => port.readSettings(undefined)['rerank.baseUrl'],
    log,
    envKey: () => process.env.SIFT_RERANK_API_KEY,
    changed: () => models.resetReranker(),
  });
  // The embedding server's key: the same, bound to sift.embedding.baseUrl's origin (else SIFT_EMBEDDING_API_KEY).
  const embeddingKey = new RerankKey({
    kind: EMBEDDING_KEY,
    secrets: secretStore(context.secrets),
    baseUrl: () => port.readSettings(undefined)['embedding.baseUrl'],
    log,
    envKey: () => process.env.SIFT_EMBEDDING_API_KEY,
  });
  const models = root.add(
    new ModelHost({
      createClient: () => new InferenceClient(dist('worker.js')),
      cacheDir: vscode.Uri.joinPath(context.globalStorageUri, 'models').fsPath,
      port,
      rerankApiKey: () => rerankKey.forServer(),
      embeddingApiKey: () => embeddingKey.forServer(),
    }),
  );
  shutdown = async () => {
    root.dispose();
    await models.stopped();
  };
  const indexer = root.add(
    new FolderIndexer({
      port,
      models,
      // Index data lives in the extension's storage, never in the user's repository.
      indexRoot: path.join((context.storageUri ?? context.globalStorageUri).fsPath, 'indexes'),
      runIndex: (opts) => indexWorkspaceInThread(opts, dist('indexer.js')),
    }),
  );
  shutdown = async () => {
    root.dispose();
    // The pass the dispose aborted ends on its indexing thread: a dense pass first commits the vectors
    // it was answered. Waited for (bounded), so the host does not exit in the middle of that commit.
    await Promise.all([models.stopped(), settledWithin(indexer, INDEX_SETTLE_ON_EXIT_MS)]);
  };
  // sift.llm.provider: the editor's chat model (vscode.lm) or the OpenAI-compatible endpoint.
  const answerModel = () => resolveAnswerModel(port.readSettings(undefined), listEditorModels);
  const llm = new LlmSettings({ settings: () => port.readSettings(undefined), secrets: secretStore(context.secrets), log, showKeyRefused, answerModel });
  const feedback = new RankingFeedback(stateStore(context.workspaceState), log);
  const editor = root.add(new EditorContext());
  const team = root.add(new TeamIndex({ settings: () => port.readSettings(undefined), secrets: secretStore(context.secrets), log, warn: showTeamIndexWarning }));
  const asker = root.add(new AskService({ port, indexer, models, llm, feedback, editor, answerModel, team }));
  const chat = root.add(
    new ChatController({ extensionUri: context.extensionUri, workspaceState: context.workspaceState, asker, indexer, llm, rerankByDefault: port.readSettings(undefined)['rerank.enabled'], log }),
  );
  const status = root.add(new StatusBar());
  status.update(indexer.status());
  root.add(indexer.onDidChangeStatus((s) => status.update(s)));

  root.add(vscode.window.registerWebviewViewProvider(VIEW_ID, chat.views, { webviewOptions: { retainContextWhenHidden: true } }));
  root.add(vscode.window.registerWebviewPanelSerializer(PANEL_TYPE, chat.views));
  registerCommands(root, { context, log, chat, indexer, llm, feedback, team, rerankKey, embeddingKey });
  // VS Code's chat: the #sift tool, the @sift participant, and the MCP server (1.101+).
  registerChatApi(root, { asker, port, extensionUri: context.extensionUri, log });
  root.add(vscode.lm.onDidChangeChatModels(() => void chat.refreshLlm()));

  root.add(
    vscode.workspace.onDidChangeConfiguration((e) => {
      const effect = effectOf(e);
      if (!effect) return;
      log.info(`Settings changed (${effect}).`);
      if (effect !== 'none') indexer.settingsChanged(effect);
      void chat.refreshLlm();
    }),
  );
}

/**
 * Everything hangs off context.subscriptions. The inference worker is closed here, and waited for
 * (bounded: InferenceClient.dispose), so the extension host does not exit while it is inside an
 * onnxruntime call, which would abort the whole process.
 */
export function deactivate(): Promise<void> | undefined {
  return shutdown?.();
}

/**
 * How long deactivation waits for an aborted indexing pass to end (a dense pass commits what it was
 * answered). VS Code gives an extension host about 5 s to shut down after deactivate is called
 * (microsoft/vscode#114688): waiting longer would only be cut.
 */
const INDEX_SETTLE_ON_EXIT_MS = 4_000;

function settledWithin(indexer: FolderIndexer, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([indexer.settled(), late]).finally(() => clearTimeout(timer));
}

/** Set by `wire`: disposes the services and waits for the inference worker (and an aborted indexing pass) to end. */
let shutdown: (() => Promise<void>) | undefined;
