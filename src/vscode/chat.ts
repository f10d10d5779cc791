import * as vscode from 'vscode';
import { type FromWebview, type Pin, parseFromWebview } from '../protocol/messages';
import type { AskService } from './askService';
import { ChatHistory } from './chatHistory';
import { ChatMentions } from './chatMentions';
import { SELECTION_TAG, currentSelectionPin } from './chatPins';
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
  private readonly mentions: ChatMentions;
  private rerank: boolean;

  constructor(private readonly deps: ChatDeps) {
    this.views = new ChatViews(deps.extensionUri, deps.log, (webview, data) => this.onMessage(webview, data));
    this.history = new ChatHistory(deps.workspaceState, deps.log);
    this.turns = this.disposables.add(new TurnRunner(this.history, deps.asker, (m) => this.views.broadcast(m), deps.log));
    this.turns.onListChanged = () => this.broadcastConversations();
    this.mentions = new ChatMentions(() => deps.asker.indexes(), deps.log);
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
      case 'ready': {
        // Everything the init carries is read after the await, so a conversation opened meanwhile
        // is shown with its own turns (not the turns of the one current before it).
        const llm = await this.deps.llm.info();
        this.views.markReady(webview, {
          type: 'init',
          history: this.history.shown(),
          rerank: this.rerank,
          status: indexer.status(),
          llm,
          conversations: this.history.summaries(),
          conversationId: this.history.conversationId,
        });
        // First use: start indexing in the background so the first question is fast.
        void indexer.ensureIndexed();
        return;
      }
      case 'ask': {
        const pins = [...(msg.pins ?? [])];
        // `#selection` pins the editor's selected lines now (shown as a chip from then on).
        const selected = SELECTION_TAG.test(msg.question) ? currentSelectionPin(indexer) : undefined;
        if (selected && !pins.some((p) => samePin(p, selected))) {
          pins.push(selected);
          this.views.postTo(webview, { type: 'pin', pin: selected });
        } else if (!selected && SELECTION_TAG.test(msg.question)) this.deps.log.warn('#selection: no text is selected in an editor of the workspace; asked without it.');
        return this.turns.run(msg.question, msg.rerank, msg.compare, { paths: msg.paths, pins });
      }
      case 'stop':
        return this.turns.stop(msg.id);
      case 'retry': {
        const turn = this.history.find(msg.id);
        if (turn) return this.turns.run(turn.question, turn.rerank, turn.compare, turn.scope ?? {});
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
        return this.showCurrent();
      case 'openConversation':
        if (this.history.open(msg.id)) return this.showCurrent();
        return this.deps.log.warn(`The chat view asked for a conversation that is not stored (${msg.id}).`);
      case 'deleteConversation':
        await this.history.delete(msg.id);
        return this.showCurrent();
      case 'complete': {
        const { items, notice } = await this.mentions.complete(msg.prefix);
        this.views.postTo(webview, { type: 'completions', requestId: msg.requestId, items, ...(notice ? { notice } : {}) });
        return;
      }
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
    this.showCurrent();
  }

  /** Puts an editor range in the chat as a source of the next question (Ask About Selection). */
  async pin(pin: Pin): Promise<void> {
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
    this.views.postToView({ type: 'pin', pin });
  }

  /** Every view shows the current conversation and the list. */
  private showCurrent(): void {
    this.views.broadcast({ type: 'history', history: this.history.shown(), conversationId: this.history.conversationId });
    this.broadcastConversations();
  }

  private broadcastConversations(): void {
    this.views.broadcast({ type: 'conversations', items: this.history.summaries(), current: this.history.conversationId });
  }
}

const samePin = (a: Pin, b: Pin) => a.folder === b.folder && a.path === b.path && a.startLine === b.startLine && a.endLine === b.endLine;
