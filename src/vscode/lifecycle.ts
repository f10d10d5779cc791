import type * as vscode from 'vscode';

/**
 * Owns disposables and disposes them in reverse order. Every listener, watcher, panel and the
 * worker hangs off one of these, and the root store is in `context.subscriptions`.
 */
export class DisposableStore implements vscode.Disposable {
  private items: vscode.Disposable[] = [];
  private disposed = false;

  add<T extends vscode.Disposable>(item: T): T {
    if (this.disposed) {
      void Promise.resolve().then(() => item.dispose());
    } else {
      this.items.push(item);
    }
    return item;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const items = this.items.reverse();
    this.items = [];
    for (const item of items) {
      try {
        item.dispose();
      } catch {
        // one failing disposal must not keep the others alive
      }
    }
  }
}

export function toDisposable(fn: () => void): vscode.Disposable {
  return { dispose: fn };
}
