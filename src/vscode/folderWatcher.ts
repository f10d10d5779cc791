import { hostFlavor, relativeInside } from '../core/util/pathFlavor';
import type { WorkspaceFolders } from './folderSet';
import { type Disposable, DisposableStore, toDisposable } from './lifecycle';
import type { FolderRef, Timers, WorkspacePort } from './ports';

export const WATCH_DEBOUNCE_MS = 1500;

/**
 * Notes changed files on their folder's entry and calls `onSettled` once a burst of changes is
 * over (format-on-save, git checkout): debounced, with injectable timers.
 */
export class FolderWatcher implements Disposable {
  private readonly disposables = new DisposableStore();
  private timer: unknown;
  private started = false;

  constructor(
    private readonly port: WorkspacePort,
    private readonly folders: WorkspaceFolders,
    private readonly onSettled: () => void,
    private readonly timers: Timers,
    private readonly debounceMs = WATCH_DEBOUNCE_MS,
  ) {
    this.disposables.add(toDisposable(() => this.cancel()));
  }

  /** Starts watching (once; after the first index run, so the first build is not re-triggered). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.disposables.add(this.port.createWatcher((folder, fsPath) => this.note(folder, fsPath)));
  }

  private note(folder: FolderRef, fsPath: string): void {
    const entry = this.folders.get(folder);
    if (!entry) return;
    // The OS's rules: drive letters and `\\?\` on Windows, case on macOS; `..foo` is a name inside.
    const rel = relativeInside(folder.fsPath, fsPath, hostFlavor());
    if (!rel) return;
    entry.pending.add(rel);
    this.cancel();
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.onSettled();
    }, this.debounceMs);
  }

  private cancel(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.disposables.dispose();
  }
}
