import type { Effect } from './settingsSchema';
import type { IndexStatus } from '../protocol/messages';
import { errorMessage } from '../core/util/errors';
import { WorkspaceFolders } from './folderSet';
import { type RunIndex, indexFolder, moveFolder } from './folderRun';
import { FolderWatcher, priorityFiles } from './folderWatcher';
import { computeStatus } from './indexStatus';
import { type Disposable, DisposableStore, Emitter, toDisposable } from './lifecycle';
import type { ModelHost } from './modelHost';
import { type ProgressReport, type Timers, type WorkspacePort, realTimers } from './ports';

export interface FolderIndexerDeps {
  port: WorkspacePort;
  models: ModelHost;
  /** Where index folders go (the extension's storage), never the user's repository. */
  indexRoot: string;
  /** Runs one index update (the extension: `indexWorkspaceInThread` with dist/indexer.js). */
  runIndex: RunIndex;
  timers?: Timers;
  debounceMs?: number;
  /** The clock (ms, monotonic) the dense pass's rate and ETA are measured with; tests inject one. */
  now?: () => number;
}

/**
 * Keeps one index per workspace folder up to date: runs are queued (never two at once), the
 * watcher's changes are debounced into one update, pausing cancels the run in progress, nothing
 * runs until the workspace is trusted, and the status is derived from the folders' state machine.
 */
export class FolderIndexer implements Disposable {
  private readonly disposables = new DisposableStore();
  readonly folders: WorkspaceFolders;
  private readonly watcher: FolderWatcher;
  private queue: Promise<void> = Promise.resolve();
  private current: AbortController | undefined;
  private firstBuildDone = false;
  /** Questions waiting for the current run's folders to be keyword-searchable. */
  private searchableWaiters: (() => void)[] = [];
  /** The running pass has made every folder it updates keyword-searchable (it may still be embedding). */
  private runSearchable = false;
  private paused = false;
  private readonly statusEmitter = this.disposables.add(new Emitter<IndexStatus>());
  readonly onDidChangeStatus = this.statusEmitter.event;

  constructor(private readonly deps: FolderIndexerDeps) {
    const { port } = deps;
    this.folders = new WorkspaceFolders(deps.indexRoot, deps.now);
    this.watcher = this.disposables.add(new FolderWatcher(port, this.folders, () => void this.ensureIndexed(), deps.timers ?? realTimers, deps.debounceMs));
    this.folders.sync(port.folders(), port.isTrusted());
    this.disposables.add(
      port.onDidChangeFolders(() => {
        this.folders.sync(port.folders(), port.isTrusted());
        this.emitStatus();
        void this.ensureIndexed();
      }),
    );
    this.disposables.add(
      port.onDidGrantTrust(() => {
        port.log.info('Workspace trusted: indexing can start.');
        for (const f of this.folders.entries()) moveFolder(f, 'trust-granted', port);
        this.emitStatus();
        void this.ensureIndexed();
      }),
    );
    this.disposables.add(deps.models.onDidChangeMissing(() => this.emitStatus()));
    this.disposables.add(toDisposable(() => this.current?.abort()));
  }

  dispose(): void {
    this.disposables.dispose();
  }

  /** Resolves when the queued and running passes have ended (early after `dispose()`, which aborts them). */
  settled(): Promise<void> {
    return this.queue;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  status(): IndexStatus {
    return computeStatus(this.folders.entries(), { trusted: this.deps.port.isTrusted(), paused: this.paused, missingModels: this.deps.models.missingModels() });
  }

  private emitStatus(): void {
    this.statusEmitter.fire(this.status());
  }

  /**
   * Queues an update of every folder that needs one (first use, watcher changes, settings); `full`
   * rebuilds from a full walk (the Reindex command; unchanged files are still recognised).
   * Resolves when the queued run is done.
   */
  /**
   * Like `ensureIndexed`, but resolves as soon as every folder of the queued run is searchable by
   * keywords (lexical first): questions are answered from what is ready while vectors are computed.
   */
  ensureSearchable(): Promise<void> {
    // The running pass is past its keyword pass and nothing changed since: answer now.
    const unchanged = this.folders.entries().every((f) => !f.needsFull && f.pending.size === 0);
    if (this.runSearchable && unchanged) return Promise.resolve();
    const done = this.ensureIndexed();
    return new Promise<void>((resolve) => {
      this.searchableWaiters.push(resolve);
      void done.then(() => resolve());
    });
  }

  ensureIndexed(full = false): Promise<void> {
    if (full) for (const f of this.folders.entries()) f.needsFull = true;
    this.queue = this.queue.then(() => this.runPass()).catch((err) => this.deps.port.log.error(`Indexing failed: ${errorMessage(err)}`));
    return this.queue;
  }

  /** A setting changed that affects what or how is indexed (`reindex`), or only the models (`reload-models`). */
  settingsChanged(effect: Exclude<Effect, 'none'>): void {
    // Both: the worker reads its environment (cache, downloads) once, so it restarts.
    this.deps.models.reload();
    if (effect === 'reindex') void this.ensureIndexed(true);
    else this.emitStatus();
  }

  pause(): void {
    this.paused = true;
    this.current?.abort();
    this.emitStatus();
  }

  resume(): void {
    this.paused = false;
    this.emitStatus();
    void this.ensureIndexed();
  }

  private async runPass(): Promise<void> {
    const { port } = this.deps;
    if (this.paused || !port.isTrusted()) {
      this.emitStatus();
      return;
    }
    const work = this.folders.entries().filter((f) => f.needsFull || f.pending.size > 0);
    if (!work.length) return;
    this.watcher.start();
    let searchable = 0;
    this.runSearchable = false;
    const onSearchable = () => {
      if (++searchable < work.length) return;
      this.runSearchable = true;
      for (const w of this.searchableWaiters.splice(0)) w();
    };
    const run = async (report?: (p: ProgressReport) => void, cancelled?: AbortSignal) => {
      for (const f of work) {
        if (this.paused || cancelled?.aborted) break;
        const controller = (this.current = new AbortController());
        const abort = () => controller.abort();
        cancelled?.addEventListener('abort', abort);
        // Embedded first: the files open in the editor, then the ones recently changed on disk.
        const priority = priorityFiles(f.folder, port.openFiles(), this.watcher.recentlyChanged(f.folder));
        try {
          await indexFolder(f, { port, models: this.deps.models, runIndex: this.deps.runIndex, signal: controller.signal, paused: () => this.paused, report, emit: () => this.emitStatus(), searchable: onSearchable, priority });
        } finally {
          cancelled?.removeEventListener('abort', abort);
          if (this.current === controller) this.current = undefined;
        }
      }
    };
    if (this.firstBuildDone) return run();
    // The first build is visible and cancellable; later updates only show in the status bar.
    await port.withProgress('Sift: indexing', (report, signal) => run(report, signal));
    this.firstBuildDone = true;
  }
}
