/**
 * A workspace for the editor services without the editor: real folders on disk, trust, settings
 * per folder, a watcher the test drives, progress notifications the test can cancel, timers the
 * test fires, and a log it reads. Implements src/vscode/ports.ts.
 */
import * as path from 'node:path';
import { type Disposable, Emitter, toDisposable } from '../../src/vscode/lifecycle';
import type { FolderRef, KeyValueStore, Log, ProgressReport, ProgressTask, SecretStore, Timers, WorkspacePort } from '../../src/vscode/ports';
import { SETTINGS, type SiftSettings } from '../../src/vscode/settingsSchema';

export function folderRef(fsPath: string): FolderRef {
  return { key: `file://${fsPath}`, name: path.basename(fsPath), fsPath };
}

export class RecordingLog implements Log {
  readonly lines: string[] = [];
  info(m: string): void {
    this.lines.push(`info ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error ${m}`);
  }
}

export function defaultSettings(overrides: Partial<SiftSettings> = {}): SiftSettings {
  const out = {} as Record<string, unknown>;
  for (const [k, d] of Object.entries(SETTINGS)) out[k] = Array.isArray(d.default) ? [...d.default] : d.default;
  return { ...(out as SiftSettings), ...overrides };
}

export class FakeWorkspace implements WorkspacePort {
  readonly log = new RecordingLog();
  trusted = true;
  current: FolderRef[];
  /** Settings for the window; `folderSettings` overrides per folder key. */
  settings: SiftSettings;
  readonly folderSettings = new Map<string, Partial<SiftSettings>>();
  /** Every readSettings call's scope (folder key, or 'window'). */
  readonly settingsReads: string[] = [];
  /** Progress notifications shown, with a way to cancel each. */
  readonly progress: { title: string; reports: ProgressReport[]; cancel: () => void }[] = [];
  private readonly foldersChanged = new Emitter<void>();
  private readonly trustGranted = new Emitter<void>();
  private readonly watchers = new Set<(folder: FolderRef, fsPath: string) => void>();
  readonly onDidChangeFolders = this.foldersChanged.event;
  readonly onDidGrantTrust = this.trustGranted.event;

  constructor(folders: FolderRef[], settings: Partial<SiftSettings> = {}) {
    this.current = folders;
    this.settings = defaultSettings(settings);
  }

  folders(): readonly FolderRef[] {
    return this.current;
  }

  isTrusted(): boolean {
    return this.trusted;
  }

  grantTrust(): void {
    this.trusted = true;
    this.trustGranted.fire();
  }

  setFolders(folders: FolderRef[]): void {
    this.current = folders;
    this.foldersChanged.fire();
  }

  get watching(): number {
    return this.watchers.size;
  }

  createWatcher(onChange: (folder: FolderRef, fsPath: string) => void): Disposable {
    this.watchers.add(onChange);
    return toDisposable(() => this.watchers.delete(onChange));
  }

  /** A file changed on disk (as the editor's watcher reports it). */
  fileChanged(folder: FolderRef, rel: string): void {
    for (const w of this.watchers) w(folder, path.join(folder.fsPath, ...rel.split('/')));
  }

  withProgress<T>(title: string, task: ProgressTask<T>): Promise<T> {
    const controller = new AbortController();
    const entry = { title, reports: [] as ProgressReport[], cancel: () => controller.abort() };
    this.progress.push(entry);
    return task((p) => entry.reports.push(p), controller.signal);
  }

  readSettings(scope: FolderRef | undefined): SiftSettings {
    this.settingsReads.push(scope ? scope.key : 'window');
    return { ...this.settings, ...(scope ? this.folderSettings.get(scope.key) : {}) };
  }

  filesExclude(): string[] {
    return [];
  }

  /** Files open in the editor (absolute), active first: the test sets them. */
  open: string[] = [];
  openFiles(): readonly string[] {
    return this.open;
  }
}

/** Timers the test fires by hand: `pending` lists what is scheduled. */
export class ManualTimers implements Timers {
  private next = 1;
  readonly pending = new Map<number, { fn: () => void; ms: number }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { fn, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Runs every timer scheduled now. */
  fireAll(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const t of due) t.fn();
  }
}

export class MemoryState implements KeyValueStore {
  readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, value);
  }
}

export class MemorySecrets implements SecretStore {
  readonly values = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
}
