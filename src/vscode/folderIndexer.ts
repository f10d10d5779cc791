import type { Effect } from './settingsSchema';
import type { IndexStatus } from '../protocol/messages';
import { errorMessage } from '../core/util/errors';
import { WorkspaceFolders } from './folderSet';
import { type RunIndex, indexFolder, moveFolder, stopInterrupted } from './folderRun';
import { FolderWatcher, priorityFiles } from './folderWatcher';
import { type FolderEntry, computeStatus } from './indexStatus';
import { ANSWER_GRACE_MS, type KeywordCoverage } from '../core/indexing/keywordCoverage';
import { type Disposable, DisposableStore, Emitter, toDisposable } from './lifecycle';
import type { ModelHost } from './modelHost';
import { type ProgressReport, type Timers, type WorkspacePort, realTimers } from './ports';

export { ANSWER_GRACE_MS };

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
  /** Folders whose keyword pass runs now (from its start to its lexical-ready or its end). */
  private readonly inKeywordPass = new Set<FolderEntry>();
  /** A folder's keyword pass committed, made it searchable or ended (questions waiting re-check). */
  private readonly keywordChanged = new Emitter<void>();
  private readonly timers: Timers;
  private readonly now: () => number;
  /** When the running pass started (its keyword pass first), by `now`. */
  private passStartedAt: number | undefined;
  private paused = false;
  private disposed = false;
  /** The folder run in progress: whether it is in its dense pass, and whether it was interrupted for saved changes. */
  private running: { entry: FolderEntry; controller: AbortController; dense: boolean; interrupted: boolean } | undefined;
  private readonly statusEmitter = this.disposables.add(new Emitter<IndexStatus>());
  readonly onDidChangeStatus = this.statusEmitter.event;

  constructor(private readonly deps: FolderIndexerDeps) {
    const { port } = deps;
    this.timers = deps.timers ?? realTimers;
    this.now = deps.now ?? (() => performance.now());
    this.folders = new WorkspaceFolders(deps.indexRoot, deps.now);
    this.watcher = this.disposables.add(new FolderWatcher(port, this.folders, () => this.changesSettled(), this.timers, deps.debounceMs));
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
    this.disposables.add(this.keywordChanged);
  }

  dispose(): void {
    this.disposed = true;
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

  /** Whether every file of `f` is keyword-searchable in its current version: no change waits for a pass, and none is in its keyword pass. */
  private isSearchable(f: FolderEntry): boolean {
    return !f.needsFull && f.pending.size === 0 && !this.inKeywordPass.has(f);
  }

  /**
   * Lexical first, answered at once from what is ready. Resolves when every folder is searchable by
   * keywords; or, after `graceMs` (ANSWER_GRACE_MS), with each folder whose keyword pass still runs
   * answered from what that pass has committed — a folder with nothing committed yet (`hasCommitted`
   * says, from the index a question would read) is waited for until its first commit. Every wait ends
   * when the passes queued for it end (paused, failed, cancelled). Returns the folders answered from
   * part of their files, with their keyword coverage then (undefined: changes not indexed yet).
   */
  async whenAnswerable(hasCommitted: (f: FolderEntry) => Promise<boolean>, graceMs = ANSWER_GRACE_MS): Promise<{ entry: FolderEntry; keyword?: KeywordCoverage; unindexedChanges: number }[]> {
    const entries = this.folders.entries();
    if (entries.every((f) => this.isSearchable(f))) return [];
    let ended = false;
    void this.ensureIndexed().then(() => {
      ended = true;
      this.keywordChanged.fire();
    });
    const searchable = (f: FolderEntry) => ended || this.isSearchable(f);
    // The grace is for a pass that may end soon: none when every folder waited for is in a keyword
    // pass that started longer ago than that (a first build: later questions are answered at once).
    const now = this.now();
    const longRunning = entries.every((f) => this.isSearchable(f) || (this.inKeywordPass.has(f) && this.passStartedAt !== undefined && now - this.passStartedAt >= graceMs));
    if (!longRunning) {
      let timer: unknown;
      const grace = new Promise<void>((resolve) => (timer = this.timers.setTimeout(resolve, graceMs)));
      try {
        await Promise.race([this.until(() => entries.every(searchable)), grace]);
      } finally {
        this.timers.clearTimeout(timer);
      }
    }
    await Promise.all(entries.map((f) => this.until(async () => searchable(f) || (await hasCommitted(f)))));
    return entries.filter((f) => !this.isSearchable(f)).map((f) => ({ entry: f, ...(f.keyword ? { keyword: { ...f.keyword } } : {}), unindexedChanges: f.pending.size }));
  }

  /** Resolves once `ready` holds, checked now and whenever a folder's keyword coverage changes (events, not polling). */
  private until(ready: () => boolean | Promise<boolean>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let checking = false;
      let again = false;
      let done = false;
      const check = async (): Promise<void> => {
        if (checking) {
          again = true;
          return;
        }
        checking = true;
        try {
          do {
            again = false;
            if (!done && (await ready())) {
              done = true;
              sub.dispose();
              resolve();
            }
          } while (again && !done);
        } catch (err) {
          done = true;
          sub.dispose();
          reject(err);
        } finally {
          checking = false;
        }
      };
      const sub = this.keywordChanged.event(() => void check());
      void check();
    });
  }

  /**
   * Queues an update of every folder that needs one (first use, watcher changes, settings); `full`
   * rebuilds from a full walk (the Reindex command; unchanged files are still recognised).
   * Resolves when the queued run is done.
   */
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

  /** The watcher's burst of changes is over: a dense pass running now makes way for them; an update is queued. */
  private changesSettled(): void {
    this.interruptDense();
    void this.ensureIndexed();
  }

  /**
   * Saved changes wait (settled, not paused) while a folder's run is in its dense pass, which can take
   * an hour on a large repository: the pass is interrupted (it committed as it went, and commits what
   * is answered when it stops), the changed folders are updated (keyword pass first) and the dense pass
   * then continues in a run of its own. A keyword pass is never interrupted: its changes follow it.
   */
  private interruptDense(): void {
    const r = this.running;
    if (!r?.dense || r.interrupted || this.paused || this.watcher.settling) return;
    const changed = this.folders.entries().filter((f) => f.pending.size > 0);
    if (!changed.length) return;
    r.interrupted = true;
    const n = changed.reduce((k, f) => k + f.pending.size, 0);
    this.deps.port.log.info(`[${r.entry.folder.name}] embedding makes way for ${n} saved change${n === 1 ? '' : 's'}; it continues after them.`);
    r.controller.abort();
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
    for (const f of work) this.inKeywordPass.add(f);
    this.passStartedAt = this.now();
    const keywordDone = (f: FolderEntry) => {
      if (this.inKeywordPass.delete(f)) this.keywordChanged.fire();
    };
    const run = async (report?: (p: ProgressReport) => void, cancelled?: AbortSignal) => {
      const todo = [...work];
      /** Folders whose dense pass made way for saved changes: each continues in a run of its own. */
      const resumes = new Set<FolderEntry>();
      try {
        while (todo.length) {
          if (this.paused || this.disposed || cancelled?.aborted) break;
          const f = todo.shift()!;
          const resumed = resumes.delete(f);
          const controller = new AbortController();
          const running = { entry: f, controller, dense: false, interrupted: false };
          this.current = controller;
          this.running = running;
          const abort = () => controller.abort();
          cancelled?.addEventListener('abort', abort);
          if (f.needsFull || f.pending.size > 0) {
            this.inKeywordPass.add(f);
            // The grace for a quick update counts from this folder's keyword pass (after a dense pass
            // that ran for an hour and made way for a save, the update is a quick one).
            this.passStartedAt = this.now();
          }
          // Embedded first: the files open in the editor, then the ones recently changed on disk.
          const priority = priorityFiles(f.folder, port.openFiles(), this.watcher.recentlyChanged(f.folder));
          try {
            await indexFolder(f, {
              port,
              models: this.deps.models,
              runIndex: this.deps.runIndex,
              signal: controller.signal,
              paused: () => this.paused,
              interrupted: () => running.interrupted,
              resumed,
              report,
              emit: () => this.emitStatus(),
              searchable: () => {
                keywordDone(f);
                running.dense = true;
                // Changes that settled during the keyword pass interrupt the dense pass at once.
                this.interruptDense();
              },
              committed: () => this.keywordChanged.fire(),
              priority,
            });
          } finally {
            cancelled?.removeEventListener('abort', abort);
            if (this.current === controller) this.current = undefined;
            if (this.running === running) this.running = undefined;
            keywordDone(f);
          }
          if (!running.interrupted) continue;
          // The changed folders first (an update each, keyword pass first), then this one's dense pass continues.
          const changed = this.folders.entries().filter((g) => g !== f && g.pending.size > 0);
          for (let i = todo.length - 1; i >= 0; i--) if (todo[i] === f || changed.includes(todo[i]!)) todo.splice(i, 1);
          todo.unshift(...changed, f);
          resumes.add(f);
        }
      } finally {
        // An interrupted dense pass that did not get to continue (paused, cancelled, disposed) stops
        // as a cancelled run does; the next pass resumes it.
        for (const f of resumes) stopInterrupted(f, this.paused, port);
        if (resumes.size) this.emitStatus();
      }
    };
    try {
      if (this.firstBuildDone) return await run();
      // The first build is visible and cancellable; later updates only show in the status bar.
      await port.withProgress('Sift: indexing', (report, signal) => run(report, signal));
      this.firstBuildDone = true;
    } finally {
      // Folders the pass did not reach (paused, cancelled) are no longer in a keyword pass.
      for (const f of work) keywordDone(f);
    }
  }
}
