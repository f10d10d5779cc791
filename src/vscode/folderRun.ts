/**
 * One index update of one workspace folder: reads the folder's settings, runs the indexer, maps
 * its events onto the folder's entry (state machine, progress, missing models) and the log.
 */
import type { IndexEvent, IndexOptions, IndexSummary } from '../core/indexing/indexer';
import { errorMessage, isAbortError } from '../core/util/errors';
import { describeDense } from '../core/indexing/denseProgress';
import { type FolderEntry, type FolderEvent, nextFolderState } from './indexStatus';
import type { ModelHost } from './modelHost';
import type { ProgressReport, WorkspacePort } from './ports';
import { modelFromSettings } from './trust';

export type RunIndex = (opts: IndexOptions) => AsyncGenerator<IndexEvent, IndexSummary>;

export interface FolderRunContext {
  port: WorkspacePort;
  models: ModelHost;
  runIndex: RunIndex;
  /** Aborts the run (pause, a cancelled notification, disposal). */
  signal: AbortSignal;
  /** Whether the indexer is paused now (an aborted run then leaves the folder paused). */
  paused: () => boolean;
  /**
   * Whether the run was aborted in its dense pass to index saved changes first: the folder stays
   * indexing, its dense status running (no "stopped" between the two runs), and a run follows.
   */
  interrupted?: () => boolean;
  /** This run continues a dense pass that made way for saved changes (the folder is indexing already). */
  resumed?: boolean;
  report?: (p: ProgressReport) => void;
  emit: () => void;
  /** Every file of the folder is searchable (by keywords at least): questions need not wait for embedding. */
  searchable?: () => void;
  /** The keyword pass committed more files (`f.keyword` says how many): questions can be answered from them. */
  committed?: () => void;
  /** Files embedded first (open and recently edited ones), relative to the folder. */
  priority?: string[];
}

export function moveFolder(entry: FolderEntry, event: FolderEvent, port: WorkspacePort): void {
  const next = nextFolderState(entry.state, event);
  if (next) entry.state = next;
  else port.log.warn(`[${entry.folder.name}] status: no transition for "${event}" from "${entry.state}"`);
}

export async function indexFolder(f: FolderEntry, ctx: FolderRunContext): Promise<void> {
  const { port, models } = ctx;
  const log = port.log;
  // Per folder: what is indexed (include, exclude, sizes, secret patterns) is the folder's setting.
  const settings = port.readSettings(f.folder);
  const changedPaths = f.needsFull ? undefined : [...f.pending];
  f.pending.clear();
  f.needsFull = false;
  // A dense pass that made way for saved changes continues: the folder was left indexing.
  if (!(ctx.resumed && f.state === 'indexing')) moveFolder(f, 'started', port);
  f.message = undefined;
  ctx.emit();
  const started = Date.now();
  let lastPct = 0;
  let interrupted = false;
  try {
    const client = await models.client();
    const remoteEmbedding = await models.remoteEmbedding();
    const run = ctx.runIndex({
      root: f.folder.fsPath,
      indexDir: f.indexDir,
      embedding: { model: modelFromSettings(settings['models.embedding'], settings) },
      ...(remoteEmbedding ? { remoteEmbedding } : {}),
      client,
      signal: ctx.signal,
      changedPaths,
      // Lexical first: every file keyword-searchable after the first pass; vectors follow, committed as they come.
      lexicalFirst: true,
      ...(ctx.priority?.length ? { priority: ctx.priority } : {}),
      discovery: {
        include: settings['index.include'],
        exclude: [...settings['index.exclude'], ...(settings['index.useFilesExclude'] ? port.filesExclude(f.folder) : [])],
        maxFileBytes: settings['index.maxFileSize'],
        extraSecretPatterns: settings['index.secretPatterns'],
      },
    });
    // Until lexical-ready: commits are the keyword pass's (f.keyword); the dense pass's come after.
    let keywordPass = true;
    let r = await run.next();
    while (!r.done) {
      const e = r.value;
      const denseChanged = f.dense.observe(e);
      if (e.type === 'model') {
        f.embedder = e.embedding ? { provider: providerOf(e.embedding), model: e.embedding.model } : undefined;
      } else if (e.type === 'notice') {
        log.warn(`[${f.folder.name}] ${e.message}`);
        if (e.code === 'embedding-unavailable') models.noteMissing('embedding', settings['models.embedding'], e.message);
      } else if (e.type === 'plan') {
        f.filesDone = 0;
        f.filesTotal = e.toProcess;
        if (keywordPass) f.keyword = { searchable: e.unchanged, total: e.unchanged + e.toProcess };
        log.info(`[${f.folder.name}] ${e.toProcess} files to index, ${e.unchanged} unchanged, ${e.removed} removed, ${e.skipped} skipped`);
        ctx.emit();
      } else if (e.type === 'progress') {
        f.filesDone = e.filesDone;
        f.filesTotal = e.filesTotal;
        const pct = e.filesTotal ? Math.floor((100 * e.filesDone) / e.filesTotal) : 100;
        // A continued dense pass keeps the notification on the embedding, not on the few changed files.
        if (!ctx.resumed) ctx.report?.({ message: `${f.folder.name}: ${e.filesDone}/${e.filesTotal} files (${pct}%)`, increment: pct - lastPct });
        lastPct = pct;
        ctx.emit();
      } else if (e.type === 'commit') {
        if (keywordPass && e.files) {
          f.keyword = e.files;
          ctx.emit();
          ctx.committed?.();
        }
      } else if (e.type === 'lexical-ready') {
        keywordPass = false;
        f.keyword = undefined;
        f.chunks = e.chunks;
        log.info(`[${f.folder.name}] searchable by keywords: ${e.chunks} chunks; dense search covers ${pctOf(e.embedded, e.chunks)} % of chunks${e.embedded < e.chunks ? ', embedding continues' : ''}`);
        ctx.searchable?.();
      } else if (e.type === 'dense') {
        f.chunks = e.chunks;
        log.info(`[${f.folder.name}] ${describeDense(f.dense.status())} (${e.done}/${e.total} embedded in this run)`);
      }
      if (denseChanged) {
        // The first build's notification stays while embedding runs: it says how far that is, not "N/N files".
        const dense = f.dense.status();
        if (dense.running) ctx.report?.({ message: `${f.folder.name}: every file is searchable by keywords. ${describeDense(dense)}` });
        ctx.emit();
      }
      r = await run.next();
    }
    models.downloadsDone();
    const summary = r.value;
    moveFolder(f, 'finished', port);
    f.chunks = summary.chunks;
    f.embedded = summary.embedding !== null;
    f.dense.stop({ embedded: f.embedded ? summary.chunks : 0, chunks: summary.chunks });
    if (f.embedded) models.modelLoaded('embedding');
    const reasons = Object.entries(summary.skippedByReason).map(([k, n]) => `${k} ${n}`).join(', ');
    log.info(
      `[${f.folder.name}] index ready: ${summary.files.indexed.length} files, ${summary.chunks} chunks; changed ${summary.files.changed.length}, removed ${summary.files.removed.length}, embedded ${summary.embedded}, skipped ${summary.files.skipped.length}${reasons ? ` (${reasons})` : ''} in ${Date.now() - started} ms`,
    );
  } catch (err) {
    if (isAbortError(err) && ctx.interrupted?.() && !ctx.paused()) {
      // Past the keyword pass (everything it read is committed): nothing to walk again, the dense
      // status stays as it was (running, its rate) until the next run continues it.
      interrupted = true;
      log.info(`[${f.folder.name}] embedding interrupted for saved changes; what was embedded is kept.`);
    } else if (isAbortError(err)) {
      moveFolder(f, ctx.paused() ? 'paused' : 'stopped', port);
      f.needsFull = true;
      log.info(`[${f.folder.name}] indexing stopped; what was indexed so far is kept.`);
    } else {
      moveFolder(f, 'failed', port);
      f.message = errorMessage(err);
      log.error(`[${f.folder.name}] indexing failed: ${f.message}`);
    }
  } finally {
    if (!interrupted) f.dense.stop();
    f.keyword = undefined;
    ctx.emit();
  }
}

/** A dense pass interrupted for saved changes that did not get to continue (paused, cancelled, disposed): stopped as a cancelled run is. */
export function stopInterrupted(f: FolderEntry, paused: boolean, port: WorkspacePort): void {
  if (f.state !== 'indexing') return;
  moveFolder(f, paused ? 'paused' : 'stopped', port);
  f.needsFull = true;
  f.dense.stop();
}

/** The embedding provider an index was built with ('local' when the model info does not say). */
function providerOf(embedding: object): string {
  const p = (embedding as { provider?: unknown }).provider;
  return typeof p === 'string' && p ? p : 'local';
}

function pctOf(n: number, of: number): number {
  return of ? Math.floor((100 * n) / of) : 100;
}
