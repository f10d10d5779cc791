import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { AnswerResult, AskEvent } from '../core/answer/ask';
import { errorMessage } from '../core/util/errors';
import { fitToSchema } from '../protocol/fit';
import { type Answer, type FromWebview, type LlmInfo, type ToWebview, type Turn, Turn as TurnSchema, fitToWebview, parseFromWebview, parseToWebview, parseTurns } from '../protocol/messages';
import { jumpHighlight, openAtRange, resolveInside } from './jump';
import { DisposableStore } from './lifecycle';
import type { SiftService } from './service';
import { readSettings } from './settings';

const HISTORY_KEY = 'sift.history';
const MAX_TURNS = 50;
const MAX_SOURCE_CHARS = 6000;
export const VIEW_ID = 'sift.chat';
export const PANEL_TYPE = 'sift.chatPanel';

/**
 * The chat: one controller behind the sidebar view and any editor-tab panels. It validates every
 * message from a webview, runs questions through the service, streams events back, and keeps the
 * history in workspace state so it survives a window reload.
 */
export class ChatController implements vscode.WebviewViewProvider, vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly disposables = new DisposableStore();
  private readonly webviews = new Set<vscode.Webview>();
  private readonly ready = new WeakSet<vscode.Webview>();
  private readonly running = new Map<string, AbortController>();
  private history: Turn[];
  private rerank: boolean;
  private view: vscode.WebviewView | undefined;
  private pendingForView: ToWebview[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly service: SiftService,
    private readonly log: vscode.LogOutputChannel,
  ) {
    // Parsed, not cast: a turn that does not fit the protocol is dropped (with a log line), the rest kept.
    const { items, dropped } = parseTurns(context.workspaceState.get<unknown>(HISTORY_KEY) ?? []);
    for (const d of dropped) log.warn(`Chat history: ${d}`);
    this.history = items.map((t) => (t.status === 'running' ? { ...t, status: 'stopped' as const } : t));
    this.rerank = readSettings()['rerank.enabled'];
    this.disposables.add(service.onDidChangeStatus((status) => this.broadcast({ type: 'status', status })));
    this.disposables.add({ dispose: () => this.running.forEach((c) => c.abort()) });
  }

  dispose(): void {
    this.disposables.dispose();
  }

  // ------------------------------------------------------------ hosting

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.attach(view.webview, view);
    view.onDidDispose(() => {
      if (this.view === view) this.view = undefined;
    });
  }

  /** Restores a chat editor tab after a window reload. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    this.attach(panel.webview, panel);
  }

  openInEditor(): void {
    const panel = vscode.window.createWebviewPanel(PANEL_TYPE, 'Sift Chat', vscode.ViewColumn.Beside, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'media')],
    });
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'sift.svg');
    this.attach(panel.webview, panel);
  }

  private attach(webview: vscode.Webview, owner: vscode.WebviewView | vscode.WebviewPanel): void {
    webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'media')] };
    webview.html = this.html(webview);
    this.webviews.add(webview);
    const sub = webview.onDidReceiveMessage((data: unknown) => void this.onMessage(webview, data));
    owner.onDidDispose(() => {
      sub.dispose();
      this.webviews.delete(webview);
    });
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomUUID().replace(/-/g, '');
    const media = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'media', file)).toString();
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `img-src ${webview.cspSource} data:`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${media('codicons/codicon.css')}">
<link rel="stylesheet" href="${media('chat.css')}">
<title>Sift</title>
</head>
<body>
<div id="app" role="application" aria-label="Sift chat"></div>
<script nonce="${nonce}" src="${media('webview.js')}"></script>
</body>
</html>`;
  }

  // ------------------------------------------------------------ messaging

  /** Sends only what fits the protocol: long names and texts are cut with an ellipsis (src/protocol/fit.ts). */
  private post(webview: vscode.Webview, message: ToWebview): void {
    const fitted = fitToWebview(message);
    const check = parseToWebview(fitted);
    if (!check.ok) this.log.warn(`A ${message.type} message for the chat view does not fit the protocol (${check.error}); the view drops what it cannot show.`);
    void webview.postMessage(fitted);
  }

  private broadcast(message: ToWebview): void {
    for (const w of this.webviews) if (this.ready.has(w)) this.post(w, message);
  }

  private async llmInfo(): Promise<LlmInfo> {
    const cfg = await this.service.llmConfig();
    const s = readSettings();
    return {
      configured: Boolean(cfg?.model && (cfg.baseURL || cfg.apiKey)),
      model: s['llm.model'] || undefined,
      baseURL: s['llm.baseUrl'] || undefined,
      hasApiKey: await this.service.hasApiKey(),
    };
  }

  async refreshLlm(): Promise<void> {
    this.broadcast({ type: 'llm', llm: await this.llmInfo() });
  }

  private async onMessage(webview: vscode.Webview, data: unknown): Promise<void> {
    const parsed = parseFromWebview(data);
    if (!parsed.ok) {
      this.log.warn(`Ignored a malformed message from the chat view: ${parsed.error}`);
      return;
    }
    const msg: FromWebview = parsed.message;
    switch (msg.type) {
      case 'ready': {
        this.ready.add(webview);
        this.post(webview, { type: 'init', history: this.history, rerank: this.rerank, status: this.service.status(), llm: await this.llmInfo() });
        if (webview === this.view?.webview) for (const m of this.pendingForView.splice(0)) this.post(webview, m);
        // First use: start indexing in the background so the first question is fast.
        void this.service.ensureIndexed();
        return;
      }
      case 'ask':
        return this.runTurn(msg.question, msg.rerank, msg.compare);
      case 'stop':
        this.running.get(msg.id)?.abort();
        return;
      case 'retry': {
        const turn = this.history.find((t) => t.id === msg.id);
        if (turn) return this.runTurn(turn.question, turn.rerank, turn.compare);
        return;
      }
      case 'openSource':
        if ((await this.openSource(msg.folder, msg.path, msg.startLine, msg.endLine)) && msg.turn && msg.variant && msg.n) await this.service.noteOpened(msg.turn, msg.variant, msg.n);
        return;
      case 'setRerank':
        this.setRerank(msg.enabled);
        return;
      case 'clearHistory':
        return this.clearHistory();
      case 'command': {
        const commands: Record<typeof msg.command, string> = {
          setApiKey: 'sift.setApiKey',
          openSettings: 'sift.openSettings',
          reindex: 'sift.reindex',
          showLogs: 'sift.showLogs',
          resume: 'sift.resumeIndexing',
        };
        await vscode.commands.executeCommand(commands[msg.command]);
        return;
      }
    }
  }

  setRerank(enabled: boolean): void {
    this.rerank = enabled;
    this.broadcast({ type: 'setRerank', enabled });
  }

  get rerankEnabled(): boolean {
    return this.rerank;
  }

  /** Shows the chat view and puts a question in it (submitting it when asked). */
  async prefill(question: string, submit: boolean, compare = false): Promise<void> {
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
    const message: ToWebview = { type: 'prefill', question, submit, compare };
    if (this.view && this.ready.has(this.view.webview)) this.post(this.view.webview, message);
    else this.pendingForView.push(message);
  }

  async clearHistory(): Promise<void> {
    this.history = [];
    await this.saveHistory();
    this.broadcast({ type: 'history', history: [] });
  }

  /** Opens a source; true when it was opened (then it counts as a judgement for ranking feedback). */
  private async openSource(folderName: string | undefined, relPath: string, startLine: number, endLine: number): Promise<boolean> {
    const folder = this.service.folderFor(folderName);
    if (!folder) {
      void vscode.window.showWarningMessage(`Sift: no workspace folder named "${folderName ?? ''}" is open.`);
      return false;
    }
    const resolved = await resolveInside(folder, relPath);
    if ('error' in resolved) {
      this.log.warn(resolved.error);
      void vscode.window.showWarningMessage(`Sift: ${resolved.error}`);
      return false;
    }
    await openAtRange(resolved.uri, startLine, endLine);
    return true;
  }

  // ------------------------------------------------------------ turns

  private async runTurn(question: string, rerank: boolean, compare: boolean): Promise<void> {
    const id = randomUUID();
    const turn: Turn = { id, question, compare, rerank, askedAt: new Date().toISOString(), status: 'running', answers: [] };
    this.history.push(turn);
    if (this.history.length > MAX_TURNS) this.history.splice(0, this.history.length - MAX_TURNS);
    this.broadcast({ type: 'turn', turn });
    const controller = new AbortController();
    this.running.set(id, controller);
    const answerFor = (variant: Answer['variant']): Answer => {
      let a = turn.answers.find((x) => x.variant === variant);
      if (!a) {
        a = { variant, retrieval: 'hybrid', reranked: variant === 'reranked', answerKind: 'pending', answer: '', citations: [], sources: [], ranking: [], notices: [] };
        turn.answers.push(a);
        turn.answers.sort((x, y) => (x.variant === 'notReranked' ? -1 : 1) - (y.variant === 'notReranked' ? -1 : 1));
      }
      return a;
    };
    const onEvent = (e: AskEvent) => {
      if (e.type === 'ranked') {
        answerFor(e.variant).ranking = e.ranking;
      } else if (e.type === 'sources') {
        answerFor(e.variant).sources = e.sources.map(trimSource);
        this.broadcast({ type: 'turn', turn });
      } else if (e.type === 'token') {
        answerFor(e.variant).answer += e.text;
        this.broadcast({ type: 'token', id, variant: e.variant, text: e.text });
      } else if (e.type === 'retrieved') {
        for (const a of turn.answers) a.retrieval = e.mode;
      }
    };
    try {
      const result = await this.service.ask(question, { id, rerank, compare, signal: controller.signal, onEvent });
      const answers = result.compare ? [result.compare.notReranked, result.compare.reranked] : [result.single!];
      turn.answers = answers.map((r) => toAnswer(r, result.compare ? (r === result.compare.reranked ? 'reranked' : 'notReranked') : r.reranked ? 'reranked' : 'notReranked'));
      const stopped = answers.some((a) => a.error?.kind === 'aborted');
      turn.status = stopped ? 'stopped' : answers.some((a) => a.answerKind === 'error') ? 'error' : 'done';
      for (const r of answers) this.logTimings(question, r);
    } catch (err) {
      turn.status = controller.signal.aborted ? 'stopped' : 'error';
      turn.failure = controller.signal.aborted ? undefined : errorMessage(err);
      if (turn.failure) this.log.error(`Question failed: ${turn.failure}`);
    } finally {
      this.running.delete(id);
    }
    this.broadcast({ type: 'turn', turn });
    await this.saveHistory();
  }

  private logTimings(question: string, r: AnswerResult): void {
    const t = r.timings;
    this.log.info(
      `Q "${question.slice(0, 80)}" [${r.retrieval}${r.reranked ? ', reranked' : ''}] ${r.ranking.length} candidates → ${r.sources.length} sources; ` +
        `embed ${t.embed} ms, dense ${t.dense} ms, lexical ${t.lexical} ms, fuse ${t.fuse} ms, rerank ${t.rerank} ms, first token ${t.firstToken ?? '-'} ms, total ${t.total} ms; ` +
        `${r.answerKind}${r.error ? ` (${r.error.kind})` : ''}, ${r.citations.filter((c) => c.verified).length}/${r.citations.length} citations verified`,
    );
  }

  private async saveHistory(): Promise<void> {
    await this.context.workspaceState.update(HISTORY_KEY, this.history.map((t) => fitToSchema(TurnSchema, t)));
  }
}

function trimSource<T extends { text: string }>(s: T): T {
  return s.text.length > MAX_SOURCE_CHARS ? { ...s, text: `${s.text.slice(0, MAX_SOURCE_CHARS)}\n…` } : s;
}

function toAnswer(r: AnswerResult, variant: Answer['variant']): Answer {
  return {
    variant,
    retrieval: r.retrieval,
    reranked: r.reranked,
    answerKind: r.answerKind,
    answer: r.answer,
    error: r.error,
    citations: r.citations,
    sources: r.sources.map(trimSource),
    ranking: r.ranking,
    timings: r.timings,
    notices: r.notices,
  };
}

export { jumpHighlight };
