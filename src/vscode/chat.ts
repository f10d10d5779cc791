import * as vscode from 'vscode';
import { type FromWebview, parseFromWebview } from '../protocol/messages';
import type { AskService } from './askService';
import { ChatHistory } from './chatHistory';
import { TurnRunner } from './chatTurns';
import { ChatViews, VIEW_ID } from './chatViews';
import type { CommandId } from './commandIds';
import type { FolderIndexer } from './folderIndexer';
import { openSource } from './jump';
import { DisposableStore } from './lifecycle';
import type { LlmSettings } from './llmSettings';
import type { Log } from './ports';

export interface ChatDeps {
  extensionUri: vscode.Uri;
  workspaceState: vscode.Memento;
  asker: AskService;
  indexer: FolderIndexer;
  llm: LlmSettings;
  /** Whether questions are reranked when the view opens (`sift.rerank.enabled`). */
  rerankByDefault: boolean;
  log: Log;
}

/** The chat view's buttons that run a command. */
const HOST_COMMANDS: Record<Extract<FromWebview, { type: 'command' }>['command'], CommandId> = {
  setApiKey: 'sift.setApiKey',
  openSettings: 'sift.openSettings',
  reindex: 'sift.reindex',
  showLogs: 'sift.showLogs',
  resume: 'sift.resumeIndexing',
};

/**
 * The chat: validates every message from a webview, runs questions (TurnRunner), streams them to
 * the views (ChatViews) and keeps the history (ChatHistory) in workspace state.
 */
export class ChatController implements vscode.Disposable {
  private readonly disposables = new DisposableStore();
  readonly views: ChatViews;
  private readonly history: ChatHistory;
  private readonly turns: TurnRunner;
  private rerank: boolean;

  constructor(private readonly deps: ChatDeps) {
    this.views = new ChatViews(deps.extensionUri, deps.log, (webview, data) => this.onMessage(webview, data));
    this.history = new ChatHistory(deps.workspaceState, deps.log);
    this.turns = this.disposables.add(new TurnRunner(this.history, deps.asker, (m) => this.views.broadcast(m), deps.log));
    this.rerank = deps.rerankByDefault;
    this.disposables.add(deps.indexer.onDidChangeStatus((status) => this.views.broadcast({ type: 'status', status })));
  }

  dispose(): void {
    this.disposables.dispose();
  }

  async refreshLlm(): Promise<void> {
    this.views.broadcast({ type: 'llm', llm: await this.deps.llm.info() });
  }

  private async onMessage(webview: vscode.Webview, data: unknown): Promise<void> {
    const parsed = parseFromWebview(data);
    if (!parsed.ok) return this.deps.log.warn(`Ignored a malformed message from the chat view: ${parsed.error}`);
    const msg = parsed.message;
    const { indexer, asker } = this.deps;
    switch (msg.type) {
      case 'ready':
        this.views.markReady(webview, { type: 'init', history: this.history.all(), rerank: this.rerank, status: indexer.status(), llm: await this.deps.llm.info() });
        // First use: start indexing in the background so the first question is fast.
        void indexer.ensureIndexed();
        return;
      case 'ask':
        return this.turns.run(msg.question, msg.rerank, msg.compare);
      case 'stop':
        return this.turns.stop(msg.id);
      case 'retry': {
        const turn = this.history.find(msg.id);
        if (turn) return this.turns.run(turn.question, turn.rerank, turn.compare);
        return;
      }
      case 'openSource':
        if ((await openSource(indexer.folders.named(msg.folder), msg.folder, msg.path, msg.startLine, msg.endLine, this.deps.log)) && msg.turn && msg.variant && msg.n) await asker.noteOpened(msg.turn, msg.variant, msg.n);
        return;
      case 'setRerank':
        return this.setRerank(msg.enabled);
      case 'clearHistory':
        return this.clearHistory();
      case 'newConversation':
        this.history.newConversation();
        return;
      case 'command':
        await vscode.commands.executeCommand(HOST_COMMANDS[msg.command]);
        return;
    }
  }

  setRerank(enabled: boolean): void {
    this.rerank = enabled;
    this.views.broadcast({ type: 'setRerank', enabled });
  }

  get rerankEnabled(): boolean {
    return this.rerank;
  }

  /** Shows the chat view and puts a question in it (submitting it when asked). */
  async prefill(question: string, submit: boolean, compare = false): Promise<void> {
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
    this.views.postToView({ type: 'prefill', question, submit, compare });
  }

  async clearHistory(): Promise<void> {
    await this.history.clear();
    this.views.broadcast({ type: 'history', history: [] });
  }
}
