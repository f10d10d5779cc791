import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type AnswerResult, type AskContext, type AskEvent, type CompareResult, ask, askCompare } from '../core/answer/ask';
import { InferenceClient } from '../core/embedding/client';
import type { DownloadProgress, LoadResult } from '../core/embedding/protocol';
import type { IndexSummary } from '../core/index/indexer';
import { indexWorkspaceInThread } from '../core/index/thread';
import { MANIFEST_FILE } from '../core/index/manifest';
import { IndexStore } from '../core/index/store';
import type { LlmConfig } from '../core/llm/llm';
import type { WorkspaceRoot } from '../core/ltr/editor';
import { FeedbackLearner, OpenRecorder } from '../core/ltr/feedback';
import { shippedLtrModel } from '../core/ltr/model';
import { Reranker } from '../core/rerank/reranker';
import type { NamedStore } from '../core/retrieval/retriever';
import type { Candidate } from '../core/retrieval/types';
import { errorMessage, isAbortError } from '../core/util/errors';
import type { IndexStatus } from '../protocol/messages';
import { EditorContext } from './editorContext';
import { DisposableStore, toDisposable } from './lifecycle';
import { filesExcludeGlobs, readSettings } from './settings';
import type { SiftSettings } from './settingsSchema';
import { DEFAULT_LLM_BASE_URL, type StoredKey, keyForEndpoint, keyRefusedMessage, modelFromSettings, originOf, parseStoredKey, serializeStoredKey } from './trust';

type FolderState = IndexStatus['folders'][number]['state'];

interface FolderIndex {
  folder: vscode.WorkspaceFolder;
  indexDir: string;
  state: FolderState;
  filesDone?: number;
  filesTotal?: number;
  chunks?: number;
  message?: string;
  /** Paths (relative) reported by the watcher since the last update. */
  pending: Set<string>;
  /** A full walk is needed (first run, settings change, reindex command). */
  needsFull: boolean;
  embedded: boolean;
}

const API_KEY_SECRET = 'sift.llm.apiKey';
/** Learned ranking feedback: per workspace, in VS Code's workspace storage on this machine only. */
const FEEDBACK_KEY = 'sift.ltrFeedback';
const WATCH_DEBOUNCE_MS = 1500;

/**
 * The workspace side of Sift: one index per workspace folder (in the extension's storage), the
 * inference worker (created on first use), the file watcher and the models. The engine itself is
 * src/core; this class only maps it onto VS Code.
 */
export class SiftService implements vscode.Disposable {
  private readonly disposables = new DisposableStore();
  private readonly folders = new Map<string, FolderIndex>();
  private client: InferenceClient | undefined;
  private reranker: Reranker | undefined;
  private rerankerTried = false;
  private missingModels: IndexStatus['missingModels'] = [];
  private paused = false;
  private queue: Promise<void> = Promise.resolve();
  private indexAbort: AbortController | undefined;
  private firstBuildDone = false;
  private watchTimer: NodeJS.Timeout | undefined;
  /** Read-only stores kept across questions (loaded shards stay in memory), per index folder. */
  private readonly readers = new Map<string, { store: IndexStore; stamp: string }>();
  private readonly editorContext = this.disposables.add(new EditorContext());
  private recorder: OpenRecorder | undefined;
  private readonly statusEmitter = this.disposables.add(new vscode.EventEmitter<IndexStatus>());
  readonly onDidChangeStatus = this.statusEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.syncFolders();
    this.disposables.add(vscode.workspace.onDidChangeWorkspaceFolders(() => {
      this.syncFolders();
      void this.scheduleIndex();
    }));
    this.disposables.add(vscode.workspace.onDidGrantWorkspaceTrust(() => {
      this.log.info('Workspace trusted: indexing can start.');
      for (const f of this.folders.values()) f.state = 'idle';
      this.emitStatus();
      void this.scheduleIndex();
    }));
    this.disposables.add(toDisposable(() => {
      this.indexAbort?.abort();
      if (this.watchTimer) clearTimeout(this.watchTimer);
      void this.client?.dispose();
      this.client = undefined;
      for (const r of this.readers.values()) void r.store.close();
      this.readers.clear();
    }));
  }

  /**
   * The read-only store of an index folder, reused while its manifest is unchanged (so a second
   * question does not load the shards again), reopened after the indexer committed.
   */
  private async readerFor(indexDir: string): Promise<{ store?: IndexStore; problem?: string }> {
    const st = await fsp.stat(path.join(indexDir, MANIFEST_FILE)).catch(() => undefined);
    const stamp = st ? `${st.mtimeMs}:${st.size}:${st.ino}` : '';
    const cached = this.readers.get(indexDir);
    if (cached && stamp && cached.stamp === stamp) return { store: cached.store };
    if (cached) {
      this.readers.delete(indexDir);
      void cached.store.close();
    }
    const opened = await IndexStore.openForRead(indexDir, { files: false });
    if (opened.store && stamp) this.readers.set(indexDir, { store: opened.store, stamp });
    return opened;
  }

  dispose(): void {
    this.disposables.dispose();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  // ------------------------------------------------------------------ status

  status(): IndexStatus {
    const folders = [...this.folders.values()].map((f) => ({
      name: f.folder.name,
      state: f.state,
      filesDone: f.filesDone,
      filesTotal: f.filesTotal,
      chunks: f.chunks,
      message: f.message,
    }));
    let state: IndexStatus['state'];
    if (!folders.length) state = 'no-folder';
    else if (!vscode.workspace.isTrusted) state = 'untrusted';
    else if (this.paused) state = 'paused';
    else if (folders.some((f) => f.state === 'indexing')) state = 'indexing';
    else if (folders.some((f) => f.state === 'error')) state = 'error';
    else if (folders.every((f) => f.state === 'ready')) state = 'ready';
    else state = 'idle';
    const known = [...this.folders.values()].filter((f) => f.state === 'ready');
    const retrieval = known.length === 0 ? 'unknown' : known.every((f) => f.embedded) ? 'hybrid' : 'lexical-only';
    const message =
      state === 'untrusted'
        ? 'This workspace is not trusted, so Sift indexes nothing. Trust the workspace to use Sift.'
        : state === 'no-folder'
          ? 'Open a folder to ask Sift about it.'
          : folders.find((f) => f.message)?.message;
    return { state, folders, retrieval, missingModels: this.missingModels, message };
  }

  private emitStatus(): void {
    this.statusEmitter.fire(this.status());
  }

  // ------------------------------------------------------------------ folders & watcher

  private syncFolders(): void {
    const current = new Set((vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.toString()));
    for (const key of [...this.folders.keys()]) if (!current.has(key)) this.folders.delete(key);
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const key = folder.uri.toString();
      if (this.folders.has(key) || folder.uri.scheme !== 'file') continue;
      this.folders.set(key, {
        folder,
        indexDir: this.indexDirFor(folder),
        state: vscode.workspace.isTrusted ? 'idle' : 'untrusted',
        pending: new Set(),
        needsFull: true,
        embedded: false,
      });
    }
    this.emitStatus();
  }

  /** Index data lives in the extension's storage, never in the user's repository. */
  private indexDirFor(folder: vscode.WorkspaceFolder): string {
    const base = (this.context.storageUri ?? this.context.globalStorageUri).fsPath;
    const hash = createHash('sha256').update(folder.uri.toString()).digest('hex').slice(0, 12);
    return path.join(base, 'indexes', `${folder.name.replace(/[^A-Za-z0-9._-]/g, '_')}-${hash}`);
  }

  private startWatcher(): void {
    if (this.watchTimer !== undefined || this.watching) return;
    this.watching = true;
    const watcher = this.disposables.add(vscode.workspace.createFileSystemWatcher('**/*'));
    const note = (uri: vscode.Uri) => {
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      const state = folder && this.folders.get(folder.uri.toString());
      if (!state) return;
      const rel = path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/');
      if (!rel || rel.startsWith('..')) return;
      state.pending.add(rel);
      if (this.watchTimer) clearTimeout(this.watchTimer);
      // Debounced: a burst of saves (format-on-save, git checkout) becomes one update.
      this.watchTimer = setTimeout(() => {
        this.watchTimer = undefined;
        void this.scheduleIndex();
      }, WATCH_DEBOUNCE_MS);
    };
    this.disposables.add(watcher.onDidCreate(note));
    this.disposables.add(watcher.onDidChange(note));
    this.disposables.add(watcher.onDidDelete(note));
  }
  private watching = false;

  // ------------------------------------------------------------------ indexing

  /** Index every folder that needs it (first use, watcher changes, settings). Resolves when done. */
  ensureIndexed(): Promise<void> {
    return this.scheduleIndex();
  }

  /** Rebuilds from a full walk (the Reindex command); unchanged files are still recognised. */
  reindex(): Promise<void> {
    for (const f of this.folders.values()) f.needsFull = true;
    return this.scheduleIndex();
  }

  /** A setting changed that affects what or how is indexed. */
  settingsChanged(effect: 'reindex' | 'reload-models'): void {
    this.missingModels = [];
    this.reranker = undefined;
    this.rerankerTried = false;
    if (effect === 'reload-models' || effect === 'reindex') {
      // The worker reads its environment (cache, downloads) once: restart it.
      void this.client?.dispose();
      this.client = undefined;
    }
    if (effect === 'reindex') void this.reindex();
    else this.emitStatus();
  }

  pause(): void {
    this.paused = true;
    this.indexAbort?.abort();
    this.emitStatus();
  }

  resume(): void {
    this.paused = false;
    this.emitStatus();
    void this.scheduleIndex();
  }

  private scheduleIndex(): Promise<void> {
    this.queue = this.queue.then(() => this.runIndexPass()).catch((err) => this.log.error(`Indexing failed: ${errorMessage(err)}`));
    return this.queue;
  }

  private async runIndexPass(): Promise<void> {
    if (this.paused || !vscode.workspace.isTrusted) {
      this.emitStatus();
      return;
    }
    const work = [...this.folders.values()].filter((f) => f.needsFull || f.pending.size > 0);
    if (!work.length) return;
    this.startWatcher();
    const run = async (token?: vscode.CancellationToken, progress?: vscode.Progress<{ message?: string; increment?: number }>) => {
      for (const f of work) {
        if (this.paused || token?.isCancellationRequested) break;
        await this.indexFolder(f, token, progress);
      }
    };
    if (!this.firstBuildDone) {
      // The first build is visible and cancellable; later updates only show in the status bar.
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Sift: indexing', cancellable: true },
        (progress, token) => run(token, progress),
      );
      this.firstBuildDone = true;
    } else {
      await run();
    }
  }

  private async indexFolder(f: FolderIndex, token?: vscode.CancellationToken, progress?: vscode.Progress<{ message?: string; increment?: number }>): Promise<void> {
    const settings = readSettings(f.folder.uri);
    const changedPaths = f.needsFull ? undefined : [...f.pending];
    f.pending.clear();
    f.needsFull = false;
    f.state = 'indexing';
    f.message = undefined;
    this.emitStatus();
    const controller = new AbortController();
    this.indexAbort = controller;
    const cancel = token?.onCancellationRequested(() => controller.abort());
    const started = Date.now();
    let lastPct = 0;
    try {
      const client = await this.getClient();
      // On its own thread: reading, chunk bookkeeping and index writes never block the extension host.
      const run = indexWorkspaceInThread({
        root: f.folder.uri.fsPath,
        indexDir: f.indexDir,
        embedding: { model: this.resolveModel(settings['models.embedding'], settings) },
        client,
        signal: controller.signal,
        changedPaths,
        discovery: {
          include: settings['index.include'],
          exclude: [...settings['index.exclude'], ...(settings['index.useFilesExclude'] ? filesExcludeGlobs(f.folder) : [])],
          maxFileBytes: settings['index.maxFileSize'],
          extraSecretPatterns: settings['index.secretPatterns'],
        },
      }, vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'indexer.js').fsPath);
      let r = await run.next();
      while (!r.done) {
        const e = r.value;
        if (e.type === 'notice') {
          this.log.warn(`[${f.folder.name}] ${e.message}`);
          if (/could not be|is not in the model cache|cancelled/i.test(e.message)) this.noteMissing('embedding', settings['models.embedding'], e.message);
        } else if (e.type === 'plan') {
          f.filesDone = 0;
          f.filesTotal = e.toProcess;
          this.log.info(`[${f.folder.name}] ${e.toProcess} files to index, ${e.unchanged} unchanged, ${e.removed} removed, ${e.skipped} skipped`);
          this.emitStatus();
        } else if (e.type === 'progress') {
          f.filesDone = e.filesDone;
          f.filesTotal = e.filesTotal;
          const pct = e.filesTotal ? Math.floor((100 * e.filesDone) / e.filesTotal) : 100;
          progress?.report({ message: `${f.folder.name}: ${e.filesDone}/${e.filesTotal} files (${pct}%)`, increment: pct - lastPct });
          lastPct = pct;
          this.emitStatus();
        }
        r = await run.next();
      }
      this.finishDownloads();
      const summary: IndexSummary = r.value;
      f.state = 'ready';
      f.chunks = summary.chunks;
      f.embedded = summary.embedding !== null;
      if (f.embedded) this.missingModels = this.missingModels.filter((m) => m.role !== 'embedding');
      const reasons = Object.entries(summary.skippedByReason).map(([k, n]) => `${k} ${n}`).join(', ');
      this.log.info(
        `[${f.folder.name}] index ready: ${summary.files.indexed.length} files, ${summary.chunks} chunks; changed ${summary.files.changed.length}, removed ${summary.files.removed.length}, embedded ${summary.embedded}, skipped ${summary.files.skipped.length}${reasons ? ` (${reasons})` : ''} in ${Date.now() - started} ms`,
      );
    } catch (err) {
      if (isAbortError(err)) {
        f.state = this.paused ? 'paused' : 'idle';
        f.needsFull = true;
        this.log.info(`[${f.folder.name}] indexing stopped; what was indexed so far is kept.`);
      } else {
        f.state = 'error';
        f.message = errorMessage(err);
        this.log.error(`[${f.folder.name}] indexing failed: ${f.message}`);
      }
    } finally {
      cancel?.dispose();
      if (this.indexAbort === controller) this.indexAbort = undefined;
      this.emitStatus();
    }
  }

  private noteMissing(role: 'embedding' | 'reranker', model: string, message: string): void {
    this.missingModels = [...this.missingModels.filter((m) => m.role !== role), { role, model, message }];
    this.emitStatus();
  }

  // ------------------------------------------------------------------ models

  /** A model setting as the worker needs it (see modelFromSettings). */
  private resolveModel(model: string, settings: SiftSettings): string {
    return modelFromSettings(model, settings);
  }

  private async getClient(): Promise<InferenceClient> {
    if (this.client) return this.client;
    const settings = readSettings();
    const client = new InferenceClient(vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'worker.js').fsPath);
    await client.call('configure', {
      cacheDir: vscode.Uri.joinPath(this.context.globalStorageUri, 'models').fsPath,
      allowRemote: settings['models.allowDownloads'],
      remoteHost: settings['models.hubUrl'] || undefined,
      threads: 2,
    });
    client.onProgress((p) => this.onDownloadProgress(p));
    this.client = client;
    return client;
  }

  private readonly downloads = new Map<string, { progress?: vscode.Progress<{ message?: string }>; last?: string; done: () => void }>();

  /** Model downloads show as a cancellable notification with bytes and percent. */
  private onDownloadProgress(p: DownloadProgress): void {
    if (p.status === 'ready') return this.finishDownloads(p.model);
    if (p.status !== 'progress' || !p.total) return;
    let entry = this.downloads.get(p.model);
    if (!entry) {
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const created: { progress?: vscode.Progress<{ message?: string }>; last?: string; done: () => void } = { done };
      entry = created;
      this.downloads.set(p.model, created);
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Sift: downloading ${p.model}`, cancellable: true },
        (progress, token) => {
          created.progress = progress;
          if (created.last) progress.report({ message: created.last });
          token.onCancellationRequested(() => {
            this.log.warn(`Download of ${p.model} cancelled; Sift continues without it (keyword search).`);
            // A download cannot be aborted inside the worker: stop the worker instead.
            void this.client?.dispose();
            this.client = undefined;
            this.finishDownloads(p.model);
          });
          return finished;
        },
      );
    }
    entry.last = `${p.file}: ${formatBytes(p.loaded ?? 0)} of ${formatBytes(p.total)} (${Math.floor(p.percent ?? 0)}%)`;
    entry.progress?.report({ message: entry.last });
  }

  private finishDownloads(model?: string): void {
    for (const [key, entry] of this.downloads) {
      if (model && key !== model) continue;
      entry.done();
      this.downloads.delete(key);
    }
  }

  private async getReranker(): Promise<Reranker | undefined> {
    if (this.reranker || this.rerankerTried) return this.reranker;
    this.rerankerTried = true;
    const settings = readSettings();
    const client = await this.getClient();
    const model = this.resolveModel(settings['models.reranker'], settings);
    const loaded: LoadResult = await client.call('loadReranker', { model }).finally(() => this.finishDownloads());
    if (loaded.ok) {
      this.reranker = new Reranker(client, loaded.info.model);
      this.missingModels = this.missingModels.filter((m) => m.role !== 'reranker');
      this.log.info(`Reranker loaded: ${loaded.info.model} (${loaded.info.dtype})`);
    } else {
      this.log.warn(loaded.message);
      this.noteMissing('reranker', settings['models.reranker'], loaded.message);
    }
    return this.reranker;
  }

  // ------------------------------------------------------------------ asking

  /**
   * The LLM settings with the stored API key, which goes only to the origin it was stored for
   * (src/vscode/trust.ts). The endpoint itself comes from user settings only.
   */
  async llmConfig(): Promise<Partial<LlmConfig> | undefined> {
    const s = readSettings();
    const decision = keyForEndpoint(await this.storedKey(), s['llm.baseUrl']);
    const refused = keyRefusedMessage(decision);
    if (refused) this.noticeKeyRefused(refused);
    const apiKey = decision.send ? decision.apiKey : undefined;
    if (!s['llm.baseUrl'] && !apiKey) return undefined;
    return {
      // Explicit, so the key goes exactly where it was bound (the client would otherwise read OPENAI_BASE_URL).
      baseURL: s['llm.baseUrl'] || DEFAULT_LLM_BASE_URL,
      apiKey,
      model: s['llm.model'] || undefined,
      temperature: s['llm.temperature'],
      maxTokens: s['llm.maxTokens'],
      timeoutMs: s['llm.timeoutSeconds'] * 1000,
    };
  }

  private readonly keyNotices = new Set<string>();

  private noticeKeyRefused(message: string): void {
    if (this.keyNotices.has(message)) return;
    this.keyNotices.add(message);
    this.log.warn(message);
    void vscode.window.showWarningMessage(message, 'Set API Key').then((choice) => {
      if (choice) void vscode.commands.executeCommand('sift.setApiKey');
    });
  }

  /**
   * The stored key and the origin it belongs to. A key stored before keys carried an origin is
   * bound once to the endpoint in the user's settings (which a workspace can no longer change).
   */
  private async storedKey(): Promise<StoredKey | undefined> {
    const stored = parseStoredKey(await this.context.secrets.get(API_KEY_SECRET));
    if (!stored || stored.origin) return stored;
    const origin = originOf(readSettings()['llm.baseUrl']);
    if (!origin) return stored;
    await this.context.secrets.store(API_KEY_SECRET, serializeStoredKey({ key: stored.key, origin }));
    this.log.info(`The stored API key is now bound to ${origin}: Sift sends it to no other endpoint.`);
    return { key: stored.key, origin };
  }

  /** The endpoint a key entered now would belong to, and the origin of the key already stored. */
  async apiKeyTarget(): Promise<{ endpoint?: string; storedFor?: string }> {
    const stored = await this.storedKey();
    return { endpoint: originOf(readSettings()['llm.baseUrl']), storedFor: stored?.origin };
  }

  /** Stores a key for `origin` (the endpoint it may be sent to), or removes the key. */
  async setApiKey(key: string | undefined, origin?: string): Promise<void> {
    if (!key) {
      await this.context.secrets.delete(API_KEY_SECRET);
      return;
    }
    const bound = origin ?? originOf(readSettings()['llm.baseUrl']);
    if (!bound) throw new Error('sift.llm.baseUrl is not an http(s) URL: fix it in your user settings before storing a key for it.');
    await this.context.secrets.store(API_KEY_SECRET, serializeStoredKey({ key, origin: bound }));
    this.keyNotices.clear();
  }

  /** After the user confirmed: the stored key may go to `origin` from now on (and only there). */
  async rebindApiKey(origin: string): Promise<void> {
    const stored = await this.storedKey();
    if (stored) await this.setApiKey(stored.key, origin);
  }

  async hasApiKey(): Promise<boolean> {
    return Boolean(await this.storedKey());
  }

  /** The learning-to-rank model's companion that learns from opened sources (created on first use). */
  private feedback(): OpenRecorder {
    if (!this.recorder) {
      const model = shippedLtrModel();
      this.recorder = new OpenRecorder(new FeedbackLearner(model, this.context.workspaceState.get(FEEDBACK_KEY)), model);
    }
    return this.recorder;
  }

  /** Folders as the index names them: by name in multi-root, '' for a single folder. */
  private roots(): WorkspaceRoot[] {
    const multi = this.folders.size > 1;
    return [...this.folders.values()].map((f) => ({ name: multi ? f.folder.name : '', root: f.folder.uri.fsPath }));
  }

  /**
   * Answers a question over every ready folder; `compare` ranks and answers both ways. `id`
   * names the answer for `noteOpened`.
   */
  async ask(
    question: string,
    opts: { id?: string; rerank: boolean; compare: boolean; signal: AbortSignal; onEvent: (e: AskEvent) => void },
  ): Promise<{ single?: AnswerResult; compare?: CompareResult }> {
    if (!vscode.workspace.isTrusted) throw new Error('This workspace is not trusted, so Sift has not indexed it. Trust the workspace to ask questions.');
    if (!this.folders.size) throw new Error('Open a folder first: Sift answers questions about the folders in your workspace.');
    await this.ensureIndexed();
    const stores: NamedStore[] = [];
    for (const f of this.folders.values()) {
      const { store, problem } = await this.readerFor(f.indexDir);
      if (store) stores.push({ name: this.folders.size > 1 ? f.folder.name : '', store });
      else this.log.warn(`[${f.folder.name}] no usable index (${problem})`);
    }
    if (!stores.length) throw new Error(this.paused ? 'Indexing is paused and no index exists yet. Resume indexing (Sift: Resume Indexing) to ask.' : 'No index is available yet. See Sift: Show Logs for why.');
    const client = await this.getClient();
    const embedded = stores.every((s) => s.store.manifest.embedding);
    const reranker = opts.rerank || opts.compare ? await this.getReranker() : undefined;
    const s = readSettings();
    // Learning-to-rank: the shipped model with the editor's context and, when allowed, what was
    // learned from the sources opened after earlier answers in this workspace.
    const ltr = s['ltr.enabled'] ? shippedLtrModel() : undefined;
    const learn = Boolean(ltr && s['ltr.learnFromOpens']);
    const recorder = learn ? this.feedback() : undefined;
    const editor = ltr ? { ...this.editorContext.signals(this.roots()), ...(recorder ? { openedBefore: recorder.learner.openedBefore() } : {}) } : undefined;
    const ranked = new Map<string, readonly Candidate[]>();
    const ctx: AskContext = {
      store: stores,
      embedder: embedded ? client : undefined,
      reranker,
      ltr,
      editor,
      ltrResidual: recorder?.learner.residual(),
      onCandidates: (variant, candidates) => ranked.set(variant, candidates),
      signal: opts.signal,
      settings: {
        candidates: s['retrieval.candidates'],
        topN: s['retrieval.topN'],
        tokenBudget: s['retrieval.tokenBudget'],
        rerankMaxLength: s['rerank.maxTokens'],
        redactSecrets: s['llm.redactSecrets'],
        llm: await this.llmConfig(),
      },
    };
    if (editor) this.log.info(`Editor context: ${editor.openFiles?.length ?? 0} open, ${editor.recentFiles?.length ?? 0} recently edited, cursor ${editor.cursor ? `${editor.cursor.path}:${editor.cursor.line}` : 'none'}`);
    const result = opts.compare ? { compare: await askCompare(ctx, question, { onEvent: opts.onEvent }) } : { single: await ask(ctx, question, { rerank: opts.rerank, onEvent: opts.onEvent }) };
    // Remember the learning-to-rank answer's sources, to learn from the ones the user opens.
    const answer = result.compare ? result.compare.reranked : result.single;
    const candidates = ranked.get('reranked');
    if (recorder && opts.id && answer?.reranked && candidates) recorder.remember(`${opts.id}|reranked`, question, candidates, answer.sources, editor);
    return result;
  }

  /**
   * The user opened source `n` of an answer: a relevance judgement for the ranking feedback
   * (when learning is on and the answer was ranked by the learning-to-rank stage).
   */
  async noteOpened(id: string, variant: 'reranked' | 'notReranked', n: number): Promise<void> {
    const s = readSettings();
    if (!s['ltr.enabled'] || !s['ltr.learnFromOpens'] || variant !== 'reranked' || !this.recorder) return;
    const added = this.recorder.opened(`${id}|${variant}`, n);
    if (!added && !this.recorder.learner.openedBefore().length) return;
    await this.context.workspaceState.update(FEEDBACK_KEY, this.recorder.learner.toJSON());
    const top = this.recorder.learner.topWeights(4).map((w) => `${w.feature} ${w.weight}`).join(', ');
    this.log.info(`Ranking feedback: source ${n} opened (${added} pairs; ${this.recorder.learner.pairCount} stored from ${this.recorder.learner.opens} opens)${top ? `; learned ${top}` : ''}`);
  }

  /** Forgets everything learned from opened sources in this workspace. */
  async clearFeedback(): Promise<void> {
    this.recorder?.learner.clear();
    this.recorder?.forget();
    await this.context.workspaceState.update(FEEDBACK_KEY, undefined);
    this.log.info('Learned ranking feedback cleared.');
  }

  /** Workspace folder by name (multi-root) or the only folder. */
  folderFor(name: string | undefined): vscode.WorkspaceFolder | undefined {
    const all = [...this.folders.values()].map((f) => f.folder);
    if (name) return all.find((f) => f.name === name);
    return all.length === 1 ? all[0] : undefined;
  }
}

function formatBytes(n: number): string {
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}
