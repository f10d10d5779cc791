import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { type DiscoveryOptions, discoverFiles } from '../../core/discovery';
import type { InferenceClient } from '../../core/worker/client';
import { type RemoteEmbeddingOptions, createEmbedder } from '../../core/worker/embedder';
import type { ModelRequest } from '../../core/worker/protocol';
import { CHUNKER_VERSION, DEFAULT_MAX_TOKENS, type IndexEvent, type IndexOptions, type IndexSummary } from '../../core/indexing/indexer';
import { ANSWER_GRACE_MS, type KeywordCoverage, keywordCoverageNotice, keywordPercent } from '../../core/indexing/keywordCoverage';
import { type EmbeddingInfo, MANIFEST_FILE, type Manifest, denseCoverage, incompatibility, readManifest } from '../../core/store/manifest';
import { type DenseStatus, DenseTracker, describeDense } from '../../core/indexing/denseProgress';
import { IndexStore } from '../../core/store/store';
import { indexWorkspaceInThread } from '../../core/indexing/thread';
import { SiftError, errorMessage, isAbortError } from '../../core/util/errors';

/** Changed files an update brings into the embedded index on the request path; more go to the background. */
export const INLINE_UPDATE_FILES = 64;
/** A failed background build is not retried sooner than this. */
const RETRY_BACKGROUND_MS = 30_000;

export interface FolderOptions {
  /** The model to embed with; null for a keyword-only index (--lexical-only). */
  embedding: ModelRequest | null;
  /** An OpenAI-compatible embedding server instead of the local model (--embedding-provider). */
  remoteEmbedding?: RemoteEmbeddingOptions;
  discovery: DiscoveryOptions;
  maxTokens?: number;
  /** The bundled indexing thread (dist/indexer.js): every index run happens off the server's thread. */
  indexerScript: string;
  log: (message: string) => void;
  /** Runs one index update (default: `indexWorkspaceInThread` with `indexerScript`). */
  runIndex?: (opts: IndexOptions) => AsyncGenerator<IndexEvent, IndexSummary>;
  /** How long a search waits for a keyword pass to finish before it is answered from that pass's commits (default ANSWER_GRACE_MS). */
  graceMs?: number;
}

/** What a search runs on, and how much of it dense (semantic) search covers. Call `release` when the search is done. */
export interface Searchable {
  store: IndexStore;
  release: () => void;
  /** Share of the searched chunks that have embeddings (0 or 1: one index is searched per folder). */
  denseShare: number;
  /** Why dense search does not cover everything yet, for the agent. */
  note?: string;
  /** Set when the search ran before the keyword pass had every file: how many files it covered. */
  keyword?: KeywordCoverage;
}

export interface FolderStatus {
  folder: string;
  root: string;
  indexDir: string;
  /** not-indexed: nothing yet (the first search indexes it); keyword-only: searched by BM25 while embeddings are built; ready: the index is complete. */
  state: 'not-indexed' | 'keyword-only' | 'ready' | 'error';
  files: number;
  chunks: number;
  /** Share of chunks with embeddings. */
  denseShare: number;
  embeddingModel: string | null;
  lastUpdate: string | null;
  /** The background build: files read, then (lexical first) the dense pass's coverage, rate and ETA. */
  background?: { task: 'embedding'; filesDone: number; filesTotal: number; startedAt: string } & Partial<Omit<DenseStatus, 'running'>>;
  /** Who embeds: `local`, or the embedding server's provider. */
  embeddingProvider: string | null;
  /** While a keyword pass runs: files searchable by keywords so far (searches are answered from them), of the folder's total. */
  keyword?: KeywordCoverage & { percent: number };
  lastError?: string;
}

/** A keyword-only index run in progress: searches arriving meanwhile are answered from its commits. */
interface KeywordRun {
  dir: string;
  /** Date.now() at its start: the grace counts from there. */
  startedAt: number;
  /** Files searchable so far, of the total (from the run's plan and commits). */
  coverage?: KeywordCoverage;
  ended: boolean;
  /** The run's note (another process held the lock) or its failure, once ended. */
  stale?: string;
  error?: unknown;
  done: Promise<void>;
  /** Woken at each commit and at the end. */
  listeners: Set<() => void>;
  /** Cancels the run (the server shuts down; what was committed is kept). */
  abort: AbortController;
}

/**
 * One folder the MCP server serves, kept fresh on the request path without ever rebuilding there:
 *
 * - before each search, a stat walk (discovery with its known-file fast path) compares the folder
 *   with the index's file table; the changed paths alone are re-indexed (the indexer's watcher
 *   mode), serialised per index;
 * - a folder without a usable embedded index is first indexed keyword-only (no model: chunking
 *   and BM25 only) into a sibling index, searched at once, while the embedded index is built in
 *   the background; once it is complete it is searched instead and the keyword index is removed.
 *   A large change to an existing embedded index (more than `INLINE_UPDATE_FILES` files) is
 *   handled the same way.
 *
 * Every index run happens on the indexing thread (dist/indexer.js), so the server keeps answering.
 */
export class ServedFolder {
  readonly lexicalDir: string;
  private target?: Promise<{ embedding: EmbeddingInfo | null; tokenizer: string }>;
  private background?: { done: Promise<void>; abort: AbortController; filesDone: number; filesTotal: number; startedAt: Date; dense: DenseTracker };
  private backgroundFailedAt = 0;
  private lastError?: string;
  private refreshing?: Promise<Searchable>;
  private queued?: Promise<Searchable>;
  private readonly readers = new Map<string, Reader>();
  private keywordRun?: KeywordRun;
  /** Readers replaced by a newer index version, closed when their last search releases them. */
  private readonly retired = new Set<Reader>();
  private disposed = false;

  constructor(
    /** Label in results when several folders are served ('' for a single folder). */
    readonly name: string,
    readonly root: string,
    readonly indexDir: string,
    private readonly client: InferenceClient,
    private readonly opts: FolderOptions,
  ) {
    this.lexicalDir = `${indexDir}-keyword`;
  }

  /**
   * The index to search, brought up to date with the folder first. Concurrent callers share a
   * run; a caller arriving during one waits for the next, so it sees every change made before it.
   */
  searchable(): Promise<Searchable> {
    if (!this.refreshing) {
      this.refreshing = this.refresh().finally(() => (this.refreshing = undefined));
      return this.refreshing;
    }
    this.queued ??= this.refreshing
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.searchable();
      });
    return this.queued;
  }

  /** The embedding model and tokenizer an index must have been built with to be reused (loads the model once). */
  private wanted(): Promise<{ embedding: EmbeddingInfo | null; tokenizer: string }> {
    this.target ??= (async () => {
      if (!this.opts.embedding) return { embedding: null, tokenizer: 'heuristic' };
      const loaded = await createEmbedder(this.client, this.opts.embedding, this.opts.remoteEmbedding)!
        .load()
        .catch((err: unknown) => {
          // An embedding server away: keyword search now, and the server is asked again next time.
          this.target = undefined;
          return { ok: false as const, code: 'download-failed' as const, message: errorMessage(err) };
        });
      if (!loaded.ok) {
        this.opts.log(`${loaded.message.replace(/\.+$/, '')}. Serving keyword (BM25) search only.`);
        return { embedding: null, tokenizer: 'heuristic' };
      }
      return { embedding: loaded.info, tokenizer: loaded.tokenizer };
    })();
    return this.target;
  }

  private async refresh(): Promise<Searchable> {
    if (this.disposed) throw new SiftError('The server is shutting down.');
    if (!this.opts.embedding) return this.refreshKeywordOnly(this.indexDir);
    if (this.background) return this.keywordWhileEmbedding();
    const loaded = await readManifest(this.indexDir);
    // Nothing embedded yet: answer from keywords now, embed in the background.
    if (loaded.kind !== 'ok') return this.keywordWhileEmbedding({ start: true });
    const target = await this.wanted();
    if (!target.embedding) return this.refreshKeywordOnly(this.indexDir);
    const chunker = { version: CHUNKER_VERSION, maxTokens: this.opts.maxTokens ?? DEFAULT_MAX_TOKENS, tokenizer: target.tokenizer };
    const why = incompatibility(loaded.manifest, target.embedding, chunker);
    const changed = why ? undefined : await this.changedFiles(loaded.manifest);
    // A build interrupted during its dense pass (lexical first) left chunks without vectors: resume it.
    const coverage = denseCoverage(loaded.manifest);
    if (changed && changed.length <= INLINE_UPDATE_FILES && coverage.embedded < coverage.chunks) {
      this.opts.log(`${this.label()}: ${coverage.chunks - coverage.embedded} of ${coverage.chunks} chunks have no embeddings yet; embedding them in the background, keyword search meanwhile.`);
      return this.keywordWhileEmbedding({ start: true });
    }
    if (!changed || changed.length > INLINE_UPDATE_FILES) {
      if (why) this.opts.log(`${this.label()}: the index must be rebuilt (${why}); keyword search meanwhile.`);
      else this.opts.log(`${this.label()}: ${changed!.length} files changed; updating embeddings in the background, keyword search meanwhile.`);
      return this.keywordWhileEmbedding({ start: true });
    }
    const stale = changed.length ? await this.updateUnlessLocked(this.indexDir, this.opts.embedding, changed) : undefined;
    await this.dropKeywordIndex();
    return { ...(await this.lease(this.indexDir)), denseShare: 1, ...(stale ? { note: stale } : {}) };
  }

  /**
   * Keeps the keyword-only index fresh and searches it while the embedded one is being built;
   * `start` starts that build once the keyword index is ready (so the two do not compete for the
   * CPU before the first answer).
   */
  private async keywordWhileEmbedding(opts: { start?: boolean } = {}): Promise<Searchable> {
    const result = await this.refreshKeywordOnly(this.lexicalDir);
    // The embedded build starts once the keyword pass is over (the two would compete for the CPU).
    const pass = this.keywordRun;
    if (opts.start) {
      if (pass) void pass.done.then(() => this.startBackground());
      else this.startBackground();
    }
    const bg = this.background;
    const dense = bg?.dense.status();
    const progress = dense?.chunks ? ` (${describeDense(dense).replace(/\.$/, '')})` : bg && bg.filesTotal ? ` (${bg.filesDone} of ${bg.filesTotal} files read so far)` : '';
    const note = bg
      ? `Semantic (dense) search is not ready for ${this.label()}: embeddings are being computed in the background${progress}. These results are keyword (BM25) matches; search again later for semantic matches.`
      : this.lastError
        ? `Semantic (dense) search is not available for ${this.label()} (${this.lastError}): keyword (BM25) matches only.`
        : `These results for ${this.label()} are keyword (BM25) matches: its embeddings were completed just now; search again for semantic matches.`;
    return { ...result, note: [note, result.note].filter(Boolean).join(' ') };
  }

  /**
   * Brings the keyword-only index in `dir` up to date and leases it. Answered from what is ready: a
   * run that takes longer than the grace (a first build) is searched as far as it has committed —
   * at its first commit when nothing was committed yet — with its coverage; the run goes on.
   */
  private async refreshKeywordOnly(dir: string): Promise<Searchable> {
    let run = this.keywordRun?.dir === dir ? this.keywordRun : undefined;
    if (!run) {
      const loaded = await readManifest(dir);
      const changed = loaded.kind === 'ok' ? await this.changedFiles(loaded.manifest) : undefined;
      // No index yet (or an unreadable one): a full keyword-only run, which needs no model.
      if (!changed || changed.length) run = this.startKeywordRun(dir, changed, loaded.kind === 'ok');
    }
    if (run) await this.answerable(run);
    if (run?.error) throw run.error;
    const partial = run && !run.ended && run.coverage && run.coverage.searchable < run.coverage.total ? { ...run.coverage } : undefined;
    const note = [run?.ended ? run.stale : undefined, partial ? keywordCoverageNotice([{ name: this.name, ...partial }]) : undefined].filter(Boolean).join(' ');
    return { ...(await this.lease(dir)), denseShare: 0, ...(note ? { note } : {}), ...(partial ? { keyword: partial } : {}) };
  }

  private startKeywordRun(dir: string, changed: string[] | undefined, exists: boolean): KeywordRun {
    const run: KeywordRun = { dir, startedAt: Date.now(), ended: false, done: Promise.resolve(), listeners: new Set(), abort: new AbortController() };
    const wake = () => {
      for (const l of [...run.listeners]) l();
    };
    this.keywordRun = run;
    run.done = this.updateUnlessLocked(dir, null, changed, exists, (e) => {
      if (e.type === 'plan') run.coverage = { searchable: e.unchanged, total: e.unchanged + e.toProcess };
      else if (e.type === 'commit' && e.files) {
        run.coverage = e.files;
        wake();
      }
    }, run.abort.signal).then(
      (stale) => {
        run.stale = stale;
      },
      (err: unknown) => {
        run.error = err;
      },
    );
    void run.done.finally(() => {
      run.ended = true;
      if (this.keywordRun === run) this.keywordRun = undefined;
      wake();
    });
    return run;
  }

  /**
   * Resolves when `run` has ended, or after the grace once it has committed something (what is in
   * its index then: unchanged files and the commits so far). Waits on the run's events and a timer.
   */
  private async answerable(run: KeywordRun): Promise<void> {
    // The grace counts from the run's start: a search arriving well into a first build is answered at once.
    const left = run.startedAt + (this.opts.graceMs ?? ANSWER_GRACE_MS) - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, left))));
    try {
      await Promise.race([run.done, grace]);
    } finally {
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => {
      const check = () => {
        if (!run.ended && !(run.coverage && run.coverage.searchable > 0)) return;
        run.listeners.delete(check);
        resolve();
      };
      run.listeners.add(check);
      check();
    });
    // The run's end is seen once its `done` (and the bookkeeping after it) has settled.
    if (run.ended) await run.done;
  }

  /**
   * Files whose size or mtime differ from the index's file table, plus new and removed ones: one
   * stat walk (discovery's known-file fast path: unchanged files are not opened).
   */
  private async changedFiles(manifest: Manifest): Promise<string[]> {
    const known = manifest.files;
    const seen = new Set<string>();
    const changed: string[] = [];
    const isKnownFile = (f: { path: string; size: number; mtimeMs: number }) => {
      const e = known[f.path];
      return Boolean(e && e.size === f.size && e.mtimeMs === f.mtimeMs);
    };
    for await (const event of discoverFiles(this.root, { ...this.opts.discovery, isKnownFile })) {
      if (event.type !== 'file') continue;
      seen.add(event.file.path);
      if (!isKnownFile(event.file)) changed.push(event.file.path);
    }
    for (const rel of Object.keys(known)) if (!seen.has(rel)) changed.push(rel);
    return changed;
  }

  /**
   * `update`, except that an index another Sift process is writing (its lock is held: `sift index`
   * in a terminal) is searched as it is, with a note, when one exists. Returns that note.
   */
  private async updateUnlessLocked(dir: string, embedding: ModelRequest | null, changedPaths: string[] | undefined, exists = true, onEvent?: (e: IndexEvent) => void, signal?: AbortSignal): Promise<string | undefined> {
    try {
      await this.update(dir, embedding, changedPaths, signal, onEvent);
      return undefined;
    } catch (err) {
      if (!exists || !(err instanceof SiftError && err.code === 'index-locked')) throw err;
      this.opts.log(`${this.label()}: ${err.message}`);
      const what = changedPaths ? `${changedPaths.length} recently changed file${changedPaths.length === 1 ? '' : 's'}` : 'recent changes';
      return `Another Sift process is updating the index of ${this.label()}: these results may miss ${what}.`;
    }
  }

  /** One index run on the indexing thread: the changed paths only, or (without them) a full walk. */
  private async update(dir: string, embedding: ModelRequest | null, changedPaths: string[] | undefined, signal?: AbortSignal, onEvent?: (e: IndexEvent) => void, lexicalFirst = false): Promise<IndexSummary> {
    const started = Date.now();
    const run = (this.opts.runIndex ?? ((o: IndexOptions) => indexWorkspaceInThread(o, this.opts.indexerScript)))(
      {
        root: this.root,
        indexDir: dir,
        embedding,
        ...(embedding && this.opts.remoteEmbedding ? { remoteEmbedding: this.opts.remoteEmbedding } : {}),
        maxTokens: this.opts.maxTokens,
        client: this.client,
        signal,
        discovery: this.opts.discovery,
        ...(changedPaths ? { changedPaths } : {}),
        ...(lexicalFirst ? { lexicalFirst } : {}),
      },
    );
    let r = await run.next();
    while (!r.done) {
      if (r.value.type === 'notice') this.opts.log(`${this.label()}: ${r.value.message}`);
      onEvent?.(r.value);
      r = await run.next();
    }
    const s = r.value;
    const kind = embedding ? 'embedded' : 'keyword';
    this.opts.log(
      `${this.label()}: ${kind} index updated in ${Date.now() - started} ms: ${s.files.indexed.length} files, ${s.chunks} chunks; changed ${s.files.changed.length}, removed ${s.files.removed.length}${embedding ? `, embedded ${s.embedded}` : ''}`,
    );
    return s;
  }

  /** Builds (or brings up to date) the embedded index on the indexing thread while searches use keywords. */
  private startBackground(): void {
    if (this.background || this.disposed || !this.opts.embedding) return;
    if (Date.now() - this.backgroundFailedAt < RETRY_BACKGROUND_MS) return;
    const abort = new AbortController();
    const bg = { abort, filesDone: 0, filesTotal: 0, startedAt: new Date(), done: Promise.resolve(), dense: new DenseTracker() };
    this.background = bg;
    this.opts.log(`${this.label()}: building the embedded index in the background.`);
    bg.done = (async () => {
      try {
        // Lexical first: every file is committed without vectors at once, then the dense pass embeds
        // and commits as it goes (an interrupted build resumes with what is missing); its rate and ETA
        // come from the core's DenseTracker.
        const summary = await this.update(
          this.indexDir,
          this.opts.embedding,
          undefined,
          abort.signal,
          (e) => {
            bg.dense.observe(e);
            if (e.type === 'plan') bg.filesTotal = e.toProcess;
            else if (e.type === 'progress') bg.filesDone = e.filesDone;
          },
          true,
        );
        // The embedding model could not be loaded: the "embedded" index is keyword-only; serve it as such.
        if (!summary.embedding) this.target = Promise.resolve({ embedding: null, tokenizer: 'heuristic' });
        this.lastError = undefined;
      } catch (err) {
        if (!isAbortError(err)) {
          this.lastError = errorMessage(err);
          this.backgroundFailedAt = Date.now();
          this.opts.log(`${this.label()}: building the embedded index failed: ${this.lastError}`);
        }
      } finally {
        this.background = undefined;
      }
    })();
  }

  /**
   * The keyword-only index is not needed once the embedded one is searched. It is removed when no
   * search still reads it (otherwise on a later refresh).
   */
  private async dropKeywordIndex(): Promise<void> {
    const cached = this.readers.get(this.lexicalDir);
    if (!cached && !(await exists(path.join(this.lexicalDir, MANIFEST_FILE)))) return;
    if (cached) {
      if (cached.leases > 0) return;
      this.readers.delete(this.lexicalDir);
      await cached.store.close();
    }
    if ([...this.retired].some((r) => r.dir === this.lexicalDir)) return;
    await fsp.rm(this.lexicalDir, { recursive: true, force: true }).catch((err: unknown) => this.opts.log(`could not remove ${this.lexicalDir}: ${errorMessage(err)}`));
  }

  /**
   * A read-only store of `dir` for one search, reused while the index's manifest is unchanged; a
   * store replaced by a newer version is closed when the searches reading it are done.
   */
  private async lease(dir: string): Promise<{ store: IndexStore; release: () => void }> {
    const st = await fsp.stat(path.join(dir, MANIFEST_FILE)).catch(() => undefined);
    const stamp = st ? `${st.mtimeMs}:${st.size}:${st.ino}` : '';
    let reader = this.readers.get(dir);
    if (!reader || !stamp || reader.stamp !== stamp) {
      // What the previous reader loaded and the new manifest still uses carries over (a commit rewrites a few shards).
      const previous = reader;
      const opened = await IndexStore.openForRead(dir, { files: false, previous: previous?.store });
      const current = this.readers.get(dir);
      if (!opened.store) {
        if (current) this.retire(current);
        throw new SiftError(`The index of ${this.label()} cannot be read (${opened.problem}).`, 'index-corrupt');
      }
      if (stamp && current && current !== previous && current.stamp === stamp) {
        // A concurrent search opened the same version meanwhile: share it.
        void opened.store.close();
        reader = current;
      } else {
        if (current) this.retire(current);
        reader = { dir, store: opened.store, stamp, leases: 0 };
        this.readers.set(dir, reader);
      }
    }
    const held = reader;
    held.leases++;
    let released = false;
    return {
      store: held.store,
      release: () => {
        if (released) return;
        released = true;
        held.leases--;
        if (held.leases === 0 && this.retired.delete(held)) void held.store.close();
      },
    };
  }

  private retire(reader: Reader): void {
    if (this.readers.get(reader.dir) === reader) this.readers.delete(reader.dir);
    if (reader.leases === 0) void reader.store.close();
    else this.retired.add(reader);
  }

  async status(): Promise<FolderStatus> {
    const base = { folder: this.name || path.basename(this.root), root: this.root, indexDir: this.indexDir };
    const bg = this.background;
    const main = await readManifest(this.indexDir);
    const searchedDir = bg || main.kind !== 'ok' ? this.lexicalDir : this.indexDir;
    const m = searchedDir === this.indexDir && main.kind === 'ok' ? main : await readManifest(searchedDir);
    const manifest = m.kind === 'ok' ? m.manifest : undefined;
    const state: FolderStatus['state'] = !manifest ? (this.lastError ? 'error' : 'not-indexed') : searchedDir === this.lexicalDir ? 'keyword-only' : 'ready';
    const chunks = manifest ? manifest.shards.reduce((n, s) => n + s.chunks, 0) : 0;
    const coverage = manifest ? denseCoverage(manifest) : undefined;
    const dense = bg?.dense.status();
    const embedding = main.kind === 'ok' ? main.manifest.embedding : undefined;
    return {
      ...base,
      state,
      files: manifest ? Object.keys(manifest.files).length : 0,
      chunks,
      denseShare: coverage?.chunks ? Math.round((coverage.embedded / coverage.chunks) * 1000) / 1000 : 0,
      embeddingProvider: this.opts.embedding ? (embedding?.provider ?? this.opts.remoteEmbedding?.provider ?? 'local') : null,
      embeddingModel: (main.kind === 'ok' ? main.manifest.embedding?.model : undefined) ?? this.opts.embedding?.model ?? null,
      lastUpdate: manifest?.updatedAt ?? null,
      ...(this.keywordRun?.coverage ? { keyword: { ...this.keywordRun.coverage, percent: keywordPercent(this.keywordRun.coverage) } } : {}),
      ...(bg
        ? {
            background: {
              task: 'embedding' as const,
              filesDone: bg.filesDone,
              filesTotal: bg.filesTotal,
              startedAt: bg.startedAt.toISOString(),
              ...(dense?.chunks ? { embedded: dense.embedded, chunks: dense.chunks, percent: dense.percent, ...(dense.rate !== undefined ? { rate: dense.rate } : {}), ...(dense.etaSeconds !== undefined ? { etaSeconds: dense.etaSeconds } : {}) } : {}),
            },
          }
        : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  private label(): string {
    return this.name || path.basename(this.root);
  }

  /** Cancels a background build (what it committed is kept) and closes the readers. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const bg = this.background;
    bg?.abort.abort();
    await bg?.done;
    // A keyword pass still running (searches were answered from its commits so far) is cancelled too.
    const pass = this.keywordRun;
    pass?.abort.abort();
    await pass?.done;
    await this.refreshing?.catch(() => undefined);
    for (const r of [...this.readers.values(), ...this.retired]) await r.store.close();
    this.readers.clear();
    this.retired.clear();
  }
}

interface Reader {
  dir: string;
  store: IndexStore;
  stamp: string;
  /** Searches reading this store now. */
  leases: number;
}

async function exists(p: string): Promise<boolean> {
  return fsp.stat(p).then(
    () => true,
    () => false,
  );
}
