import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { type ToWebview, fitToWebview, parseToWebview } from '../protocol/messages';
import type { Log } from './ports';

export const VIEW_ID = 'sift.chat';
export const PANEL_TYPE = 'sift.chatPanel';

/**
 * The webviews showing the chat: the sidebar view and any editor-tab panels. Posts only what fits
 * the protocol, to views that said they are ready; messages for the sidebar view wait until it is.
 */
export class ChatViews implements vscode.WebviewViewProvider, vscode.WebviewPanelSerializer {
  private readonly webviews = new Set<vscode.Webview>();
  private readonly ready = new WeakSet<vscode.Webview>();
  private view: vscode.WebviewView | undefined;
  private pendingForView: ToWebview[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
    private readonly onMessage: (webview: vscode.Webview, data: unknown) => Promise<void>,
  ) {}

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
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    const panel = vscode.window.createWebviewPanel(PANEL_TYPE, 'Sift Chat', vscode.ViewColumn.Beside, { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [media] });
    panel.iconPath = vscode.Uri.joinPath(media, 'sift.svg');
    this.attach(panel.webview, panel);
  }

  /** Each webview's listener belongs to its view or panel and goes with it. */
  private attach(webview: vscode.Webview, owner: vscode.WebviewView | vscode.WebviewPanel): void {
    webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'media')] };
    webview.html = chatHtml(webview, this.extensionUri);
    this.webviews.add(webview);
    const sub = webview.onDidReceiveMessage((data: unknown) => void this.onMessage(webview, data));
    owner.onDidDispose(() => {
      sub.dispose();
      this.webviews.delete(webview);
    });
  }

  /** The webview sent `ready`: it gets `init` now, then what waited for it. */
  markReady(webview: vscode.Webview, init: ToWebview): void {
    this.ready.add(webview);
    this.post(webview, init);
    if (webview === this.view?.webview) for (const m of this.pendingForView.splice(0)) this.post(webview, m);
  }

  /** To one view that is ready (the answer to its request). */
  postTo(webview: vscode.Webview, message: ToWebview): void {
    if (this.ready.has(webview)) this.post(webview, message);
  }

  /** Sends only what fits the protocol: long names and texts are cut with an ellipsis (src/protocol/fit.ts). */
  private post(webview: vscode.Webview, message: ToWebview): void {
    const fitted = fitToWebview(message);
    const check = parseToWebview(fitted);
    if (!check.ok) this.log.warn(`A ${message.type} message for the chat view does not fit the protocol (${check.error}); the view drops what it cannot show.`);
    void webview.postMessage(fitted);
  }

  broadcast(message: ToWebview): void {
    for (const w of this.webviews) if (this.ready.has(w)) this.post(w, message);
  }

  /** To the sidebar view, now or once it is ready. */
  postToView(message: ToWebview): void {
    if (this.view && this.ready.has(this.view.webview)) this.post(this.view.webview, message);
    else this.pendingForView.push(message);
  }
}

/** The webview's page: a strict CSP, one nonce'd script from the build folder, no inline data. */
function chatHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomUUID().replace(/-/g, '');
  const media = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', file)).toString();
  const csp = ["default-src 'none'", `style-src ${webview.cspSource}`, `font-src ${webview.cspSource}`, `img-src ${webview.cspSource} data:`, `script-src 'nonce-${nonce}'`].join('; ');
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
