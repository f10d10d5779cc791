import { hostFlavor, relativeInside } from '../core/util/pathFlavor';
import type { WorkspaceFolders } from './folderSet';
import { type Disposable, DisposableStore, toDisposable } from './lifecycle';
import type { FolderRef, Timers, WorkspacePort } from './ports';

export const WATCH_DEBOUNCE_MS = 1500;
/** Recently changed files remembered per folder (for the dense pass's priority order). */
export const RECENT_FILES = 200;

/**
 * Notes changed files on their folder's entry and calls `onSettled` once a burst of changes is
 * over (format-on-save, git checkout): debounced, with injectable timers.
 */
export class FolderWatcher implements Disposable {
  private readonly disposables = new DisposableStore();
  private timer: unknown;
  private started = false;
  /** Per folder key: changed files (relative), most recent last. */
  private readonly recent = new Map<string, string[]>();

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
    const recent = (this.recent.get(folder.key) ?? []).filter((p) => p !== rel);
    recent.push(rel);
    this.recent.set(folder.key, recent.slice(-RECENT_FILES));
    this.cancel();
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.onSettled();
    }, this.debounceMs);
  }

  /** Whether a burst of changes is still settling (the debounce timer runs): `onSettled` follows. */
  get settling(): boolean {
    return this.timer !== undefined;
  }

  /** The folder's files the watcher saw change, most recent first (relative, '/'-separated). */
  recentlyChanged(folder: FolderRef): string[] {
    return [...(this.recent.get(folder.key) ?? [])].reverse();
  }

  private cancel(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.disposables.dispose();
  }
}

/**
 * The files a folder's dense pass embeds first, in this order: the files open in the editor (in
 * the order the editor gives them: the active one first), then the ones recently changed on disk
 * (most recent first). Relative to the folder, '/'-separated, each once; files outside it are left out.
 */
export function priorityFiles(folder: FolderRef, openFiles: readonly string[], recentlyChanged: readonly string[]): string[] {
  const out = new Set<string>();
  for (const abs of openFiles) {
    const rel = relativeInside(folder.fsPath, abs, hostFlavor());
    if (rel) out.add(rel);
  }
  for (const rel of recentlyChanged) out.add(rel);
  return [...out];
}
