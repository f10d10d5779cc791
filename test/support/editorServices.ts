/**
 * The editor's services (src/vscode) wired as the extension wires them, on a fake workspace with
 * real folders, the real inference worker (tiny models) and the real indexing thread. Records what
 * the tests check: workers started, index runs (and whether two ever overlapped).
 */
import * as path from 'node:path';
import { InferenceClient } from '../../src/core/worker/client';
import { type IndexEvent, type IndexOptions, type IndexSummary, indexWorkspace } from '../../src/core/indexing/indexer';
import { indexWorkspaceInThread } from '../../src/core/indexing/thread';
import type { SiftSettings } from '../../src/vscode/settingsSchema';
import { FolderIndexer } from '../../src/vscode/folderIndexer';
import { ModelHost } from '../../src/vscode/modelHost';
import { INDEXER_SCRIPT, TINY_EMBEDDER, TINY_RERANKER, WORKER_SCRIPT, tempDir, writeTree } from '../helpers';
import { FakeWorkspace, ManualTimers, folderRef } from './fakeWorkspace';

export interface IndexRun {
  root: string;
  changedPaths?: string[];
}

export interface Services {
  ws: FakeWorkspace;
  timers: ManualTimers;
  models: ModelHost;
  indexer: FolderIndexer;
  /** Folder paths, in the order given. */
  roots: string[];
  runs: IndexRun[];
  /** Each run's `priority` list (files embedded first), in run order. */
  priorities: (string[] | undefined)[];
  /** Inference workers started so far. */
  workers(): number;
  /** The most index runs that were ever in progress at once. */
  maxConcurrentRuns(): number;
  dispose(): Promise<void>;
}

export function services(opts: {
  folders: Record<string, Record<string, string>>;
  trusted?: boolean;
  settings?: Partial<SiftSettings>;
  /** Sees every index event before the indexer does (e.g. to pause mid-run). */
  onEvent?: (e: IndexEvent, s: Services) => void;
  /**
   * Holds the run after an event the folder indexer has seen, until the promise it returns settles
   * or the run is aborted.
   * With a gate the run is in process (`indexWorkspace`): the indexing thread runs ahead of its
   * events, so only the in-process generator really stops between two of them.
   */
  gate?: (e: IndexEvent, s: Services) => Promise<void> | void;
  /** Options every run gets besides the folder indexer's (e.g. `commitEveryFiles`). */
  indexOptions?: Partial<IndexOptions>;
  /** The clock of the dense pass's rate and ETA (default performance.now). */
  now?: () => number;
}): Services {
  const tmp = tempDir('sift-editor-');
  const roots = Object.entries(opts.folders).map(([name, files]) => {
    const root = path.join(tmp.dir, name);
    writeTree(root, files);
    return root;
  });
  const ws = new FakeWorkspace(roots.map(folderRef), {
    'models.embedding': TINY_EMBEDDER,
    'models.reranker': TINY_RERANKER,
    'models.allowDownloads': false,
    ...opts.settings,
  });
  ws.trusted = opts.trusted ?? true;
  const timers = new ManualTimers();
  const clients: InferenceClient[] = [];
  let active = 0;
  let maxActive = 0;
  const runs: IndexRun[] = [];
  const priorities: (string[] | undefined)[] = [];
  const models = new ModelHost({
    createClient: () => {
      const c = new InferenceClient(WORKER_SCRIPT);
      clients.push(c);
      return c;
    },
    cacheDir: path.join(tmp.dir, 'models'),
    port: ws,
  });
  async function* runIndex(o: IndexOptions): AsyncGenerator<IndexEvent, IndexSummary> {
    active++;
    maxActive = Math.max(maxActive, active);
    runs.push({ root: o.root, changedPaths: o.changedPaths && [...o.changedPaths].sort() });
    priorities.push(o.priority && [...o.priority]);
    try {
      const run = { ...o, ...opts.indexOptions };
      const it = opts.gate ? indexWorkspace(run) : indexWorkspaceInThread(run, INDEXER_SCRIPT);
      let r = await it.next();
      while (!r.done) {
        opts.onEvent?.(r.value, self);
        yield r.value;
        // A held run stops holding when it is aborted (as a real one would stop at its next batch).
        const held = opts.gate?.(r.value, self);
        if (held) await Promise.race([held, aborted(o.signal)]);
        r = await it.next();
      }
      return r.value;
    } finally {
      active--;
    }
  }
  const indexer = new FolderIndexer({ port: ws, models, indexRoot: path.join(tmp.dir, 'storage', 'indexes'), runIndex, timers, now: opts.now });
  const self: Services = {
    ws,
    timers,
    models,
    indexer,
    roots,
    runs,
    priorities,
    workers: () => clients.length,
    maxConcurrentRuns: () => maxActive,
    dispose: async () => {
      indexer.dispose();
      // The aborted pass may still be writing (the background dense pass): let it end before removing its folders.
      await indexer.settled();
      models.dispose();
      await Promise.all(clients.map((c) => c.dispose()));
      tmp.cleanup();
    },
  };
  return self;
}

/** Resolves when `signal` aborts (never without one). */
function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) resolve();
    else signal?.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** A small repository of `n` TypeScript files plus a README. */
export function smallRepo(n: number, prefix = 'mod'): Record<string, string> {
  const files: Record<string, string> = { 'README.md': '# Fixture\n\nUploads are retried with backoff.\n' };
  for (let i = 0; i < n; i++) files[`src/${prefix}${i}.ts`] = `export function ${prefix}Handler${i}(input: number): number {\n  return input * ${i} + retryCount${i % 7};\n}\n`;
  return files;
}
