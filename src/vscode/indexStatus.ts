/**
 * The index status as an explicit state machine: each folder moves between states only by the
 * transitions below, and the workspace status is derived from the folders, trust and pause.
 * No vscode import (tested in test/unit/folder-indexer.test.ts).
 */
import type { IndexStatus } from '../protocol/messages';
import { DenseTracker } from '../core/indexing/denseProgress';
import { type KeywordCoverage, keywordPercent } from '../core/indexing/keywordCoverage';
import type { FolderRef } from './ports';

export type FolderState = IndexStatus['folders'][number]['state'];

export type FolderEvent =
  /** The workspace was trusted. */
  | 'trust-granted'
  /** An index run of the folder started. */
  | 'started'
  | 'finished'
  /** The run was cancelled (not paused): what was committed is kept. */
  | 'stopped'
  /** The run was cancelled by pausing. */
  | 'paused'
  | 'failed';

const TRANSITIONS: Record<FolderState, Partial<Record<FolderEvent, FolderState>>> = {
  untrusted: { 'trust-granted': 'idle' },
  idle: { 'trust-granted': 'idle', started: 'indexing' },
  ready: { started: 'indexing' },
  paused: { started: 'indexing' },
  error: { started: 'indexing' },
  indexing: { finished: 'ready', stopped: 'idle', paused: 'paused', failed: 'error' },
};

/** The state after `event`, or undefined when the machine has no such transition. */
export function nextFolderState(from: FolderState, event: FolderEvent): FolderState | undefined {
  return TRANSITIONS[from][event];
}

/** One workspace folder's index and what it needs next. */
export interface FolderEntry {
  readonly folder: FolderRef;
  readonly indexDir: string;
  state: FolderState;
  filesDone?: number;
  filesTotal?: number;
  chunks?: number;
  message?: string;
  /** Paths (relative, '/'-separated) reported by the watcher since the last update. */
  pending: Set<string>;
  /** A full walk is needed (first run, settings change, reindex command, a cancelled run). */
  needsFull: boolean;
  embedded: boolean;
  /** Who embeds this folder's chunks (set by the indexer's model event). */
  embedder?: { provider: string; model: string };
  /** Coverage, rate and ETA of the dense pass, fed with the indexer's events. */
  readonly dense: DenseTracker;
  /** While the keyword pass runs: files searchable by keywords so far, of the folder's total (plan, then each commit). */
  keyword?: KeywordCoverage;
}

export function newFolderEntry(folder: FolderRef, indexDir: string, trusted: boolean, now?: () => number): FolderEntry {
  return { folder, indexDir, state: trusted ? 'idle' : 'untrusted', pending: new Set(), needsFull: true, embedded: false, dense: new DenseTracker({ now }) };
}

/** The workspace's status from its folders. */
export function computeStatus(
  entries: readonly FolderEntry[],
  env: { trusted: boolean; paused: boolean; missingModels: IndexStatus['missingModels'] },
): IndexStatus {
  const folders = entries.map((f) => ({
    name: f.folder.name,
    state: f.state,
    filesDone: f.filesDone,
    filesTotal: f.filesTotal,
    chunks: f.chunks,
    message: f.message,
    ...(f.embedder ? { embedder: f.embedder } : {}),
    ...(f.keyword ? { keyword: { ...f.keyword, percent: keywordPercent(f.keyword) } } : {}),
    ...denseOf(f),
  }));
  let state: IndexStatus['state'];
  if (!folders.length) state = 'no-folder';
  else if (!env.trusted) state = 'untrusted';
  else if (env.paused) state = 'paused';
  else if (folders.some((f) => f.state === 'indexing')) state = 'indexing';
  else if (folders.some((f) => f.state === 'error')) state = 'error';
  else if (folders.every((f) => f.state === 'ready')) state = 'ready';
  else state = 'idle';
  const ready = entries.filter((f) => f.state === 'ready');
  const retrieval = ready.length === 0 ? 'unknown' : ready.every((f) => f.embedded) ? 'hybrid' : 'lexical-only';
  const message =
    state === 'untrusted'
      ? 'This workspace is not trusted, so Sift indexes nothing. Trust the workspace to use Sift.'
      : state === 'no-folder'
        ? 'Open a folder to ask Sift about it.'
        : folders.find((f) => f.message)?.message;
  return { state, folders, retrieval, missingModels: env.missingModels, message };
}

/** The folder's dense coverage, once the indexer has reported one. */
function denseOf(f: FolderEntry): { dense?: NonNullable<IndexStatus['folders'][number]['dense']> } {
  const d = f.dense.status();
  return d.chunks || d.running ? { dense: d } : {};
}
