import * as vscode from 'vscode';
import type { IndexStatus } from '../protocol/messages';
import { statusView } from './statusText';

/**
 * One status bar item: indexing n/N %, then while vectors are computed the dense coverage with
 * rate and ETA, ready with chunk count, paused, error; a tooltip per folder (provider, model,
 * coverage) and a screen-reader label (statusText.ts). Click: logs.
 */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('sift.status', vscode.StatusBarAlignment.Left, 50);

  constructor() {
    this.item.name = 'Sift';
    this.item.command = 'sift.showLogs';
    this.item.text = '$(search) Sift';
    this.item.tooltip = 'Sift: not indexed yet. Open the Sift view to start.';
    this.item.accessibilityInformation = { label: 'Sift: not indexed yet', role: 'button' };
    this.item.show();
  }

  update(status: IndexStatus): void {
    const view = statusView(status);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.accessibilityInformation = { label: view.ariaLabel, role: 'button' };
    this.item.backgroundColor = view.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
