/**
 * Lifetimes without the editor: the services in src/vscode hold their listeners, timers and the
 * worker in a DisposableStore, and the root store is in `context.subscriptions` (one disposal tree).
 * No vscode import, so the services run under `node --test` with fakes.
 */

/** Anything that releases what it holds (structurally the same as `vscode.Disposable`). */
export interface Disposable {
  dispose(): void;
}

/** Subscribe to an event (the shape of `vscode.Event`). */
export type Event<T> = (listener: (e: T) => void) => Disposable;

/**
 * Owns disposables and disposes them in reverse order. Every listener, watcher, panel and the
 * worker hangs off one of these, and the root store is in `context.subscriptions`.
 */
export class DisposableStore implements Disposable {
  private items: Disposable[] = [];
  private disposed = false;

  add<T extends Disposable>(item: T): T {
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

export function toDisposable(fn: () => void): Disposable {
  return { dispose: fn };
}

/** A typed event source (like `vscode.EventEmitter`, usable without the editor). */
export class Emitter<T> implements Disposable {
  private listeners = new Set<(e: T) => void>();

  readonly event: Event<T> = (listener) => {
    this.listeners.add(listener);
    return toDisposable(() => this.listeners.delete(listener));
  };

  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }

  dispose(): void {
    this.listeners.clear();
  }
}
