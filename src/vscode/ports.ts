/**
 * What the services in src/vscode need from the editor, as small interfaces. One adapter
 * (vscodeWorkspace.ts) implements them with the VS Code API; the unit tests implement them with
 * fakes. Type-only: no vscode import, so the services load under `node --test`.
 */
import type { Disposable, Event } from './lifecycle';
import type { SiftSettings } from './settingsSchema';

export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A local (`file:`) workspace folder. `key` is its URI, which identifies it across renames of nothing else. */
export interface FolderRef {
  readonly key: string;
  readonly name: string;
  readonly fsPath: string;
}

export interface ProgressReport {
  message?: string;
  increment?: number;
}

/** Work shown as a cancellable notification: `signal` aborts when the user cancels it. */
export type ProgressTask<T> = (report: (p: ProgressReport) => void, signal: AbortSignal) => Promise<T>;

/** The workspace as the folder indexer and the model host see it. */
export interface WorkspacePort {
  /** The local folders of the workspace (other schemes are not indexed). */
  folders(): readonly FolderRef[];
  isTrusted(): boolean;
  readonly onDidChangeFolders: Event<void>;
  readonly onDidGrantTrust: Event<void>;
  /** Watches every file of the workspace; reports each created, changed or deleted file with its folder. */
  createWatcher(onChange: (folder: FolderRef, fsPath: string) => void): Disposable;
  withProgress<T>(title: string, task: ProgressTask<T>): Promise<T>;
  /**
   * Sift's settings: for a folder with that folder's scope (what is indexed there), or `undefined`
   * for the window (what is shared: models, the worker, questions over every folder). Callers pass
   * the scope explicitly.
   */
  readSettings(scope: FolderRef | undefined): SiftSettings;
  /** VS Code's `files.exclude` for the folder, as globs. */
  filesExclude(folder: FolderRef): string[];
  /** Local files open in the editor (absolute paths): the active editor's first, then the other tabs. */
  openFiles(): readonly string[];
  readonly log: Log;
}

/** Timers, injectable so debouncing is tested without waiting. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Workspace state (`vscode.Memento`). */
export interface KeyValueStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** `vscode.SecretStorage`. */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}
