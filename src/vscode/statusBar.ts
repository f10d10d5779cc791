import * as vscode from 'vscode';
import type { IndexStatus } from '../protocol/messages';

/** One status bar item: indexing n/N %, ready with chunk count, paused, error. Click: logs. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('sift.status', vscode.StatusBarAlignment.Left, 50);

  constructor() {
    this.item.name = 'Sift';
    this.item.command = 'sift.showLogs';
    this.item.text = '$(search) Sift';
    this.item.tooltip = 'Sift: not indexed yet. Open the Sift view to start.';
    this.item.show();
  }

  update(status: IndexStatus): void {
    const chunks = status.folders.reduce((n, f) => n + (f.chunks ?? 0), 0);
    const done = status.folders.reduce((n, f) => n + (f.filesDone ?? 0), 0);
    const total = status.folders.reduce((n, f) => n + (f.filesTotal ?? 0), 0);
    this.item.backgroundColor = undefined;
    switch (status.state) {
      case 'indexing': {
        const pct = total ? Math.floor((100 * done) / total) : 0;
        this.item.text = `$(sync~spin) Sift: indexing ${done}/${total} (${pct}%)`;
        this.item.tooltip = 'Sift is indexing the workspace. Click for logs.';
        break;
      }
      case 'ready':
        this.item.text = `$(check) Sift: ${chunks.toLocaleString('en-US')} chunks`;
        this.item.tooltip = `Sift index ready (${status.retrieval === 'lexical-only' ? 'keyword search only: an embedding model is missing' : 'semantic + keyword search'}). Click for logs.`;
        break;
      case 'paused':
        this.item.text = '$(debug-pause) Sift: paused';
        this.item.tooltip = 'Sift indexing is paused (Sift: Resume Indexing). Click for logs.';
        break;
      case 'error':
        this.item.text = '$(error) Sift: error';
        this.item.tooltip = `Sift: ${status.message ?? 'indexing failed'}. Click for logs.`;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        break;
      case 'untrusted':
        this.item.text = '$(shield) Sift: untrusted';
        this.item.tooltip = 'This workspace is not trusted, so Sift indexes nothing.';
        break;
      default:
        this.item.text = '$(search) Sift';
        this.item.tooltip = status.message ?? 'Sift: not indexed yet.';
    }
  }

  dispose(): void {
    this.item.dispose();
  }
}
