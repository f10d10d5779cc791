import * as os from 'node:os';
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { HeuristicTokenCounter } from '../chunking';
import { ModelTokenizer, type TokenizerSpec } from '../models/tokens';
import { errorMessage } from '../util/errors';
import { runInBackground } from '../util/priority';
import { type FileToPrepare, type PreparedBatch, prepareFiles } from './prepare';

/**
 * Threads that read and chunk files for the indexing thread, so that a large pass — a fresh
 * folder's keyword pass, where no model runs and the inference worker waits — uses every core:
 * chunking (tree-sitter, token counting) and BM25 documents are most of its work, and the
 * indexing thread then only builds and writes shards. Each thread runs `prepareFiles` with the
 * same tokenizer (the embedding model's, or the heuristic counter), so a batch gives the same
 * chunks and documents whichever thread prepared it, and results are applied in the batches'
 * order: the index does not depend on how many threads there were.
 *
 * The threads are the indexing thread's own script started in the 'chunker' role (see
 * `indexerWorker.ts`). A thread that fails or exits hands its batches back: they are prepared on
 * the calling thread.
 */

/** What a chunking thread is started with. */
export interface ChunkThreadData {
  role: 'chunker';
  tokenizer: TokenizerSpec | null;
  realRoot: string;
  maxFileBytes: number;
  maxTokens: number;
}

type Request = { id: number; files: FileToPrepare[] };
type Reply = { id: number; ok: true; result: PreparedBatch } | { id: number; ok: false; message: string };

/** Files a pass must have before chunking threads are started (each costs ~0.2 s to start). */
export const CHUNK_THREADS_MIN_FILES = 400;

/** How many chunking threads to start: one per core, at least 2 (the indexing thread commits meanwhile), at most 4. */
export function chunkThreadCount(cores = os.availableParallelism()): number {
  return Math.max(2, Math.min(4, cores));
}

interface Slot {
  worker: Worker;
  busy: number;
  alive: boolean;
}

export class ChunkThreads {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, { slot: Slot; files: FileToPrepare[]; resolve: (r: PreparedBatch) => void; reject: (e: unknown) => void }>();
  private nextId = 0;
  private closed = false;

  /**
   * @param script the indexing thread's bundle (dist/indexer.js)
   * @param local prepares a batch on the calling thread (when no chunking thread is left)
   */
  constructor(
    script: string,
    data: Omit<ChunkThreadData, 'role'>,
    count: number,
    private readonly local: (files: FileToPrepare[]) => Promise<PreparedBatch>,
  ) {
    for (let i = 0; i < count; i++) {
      const worker = new Worker(script, { workerData: { role: 'chunker', ...data } satisfies ChunkThreadData });
      const slot: Slot = { worker, busy: 0, alive: true };
      worker.on('message', (m: Reply) => this.settle(m));
      worker.on('error', () => this.lost(slot));
      worker.on('exit', () => this.lost(slot));
      this.slots.push(slot);
    }
  }

  /** Prepares a batch on the least busy chunking thread (on this thread when none is left). */
  prepare(files: FileToPrepare[]): Promise<PreparedBatch> {
    const live = this.slots.filter((s) => s.alive);
    if (this.closed || !live.length) return this.local(files);
    const slot = live.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    return new Promise<PreparedBatch>((resolve, reject) => {
      this.waiting.set(id, { slot, files, resolve, reject });
      slot.worker.postMessage({ id, files } satisfies Request);
    });
  }

  private settle(m: Reply): void {
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    w.slot.busy--;
    if (m.ok) w.resolve(m.result);
    else w.reject(new Error(m.message));
  }

  /** A thread that died: its batches are prepared here instead. */
  private lost(slot: Slot): void {
    if (!slot.alive) return;
    slot.alive = false;
    for (const [id, w] of this.waiting) {
      if (w.slot !== slot) continue;
      this.waiting.delete(id);
      this.local(w.files).then(w.resolve, w.reject);
    }
  }

  /** Stops the threads; batches still waiting are dropped (their promises reject). */
  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots) slot.alive = false;
    for (const w of this.waiting.values()) w.reject(new Error('the chunking threads were stopped'));
    this.waiting.clear();
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }
}

/** The body of a chunking thread: prepares the batches it is sent, one at a time, in order. */
export function serveChunkThread(): void {
  const port = parentPort;
  if (!port) throw new Error('a chunking thread must run inside a worker thread');
  const data = workerData as ChunkThreadData;
  runInBackground();
  const tokenCounter = data.tokenizer ? new ModelTokenizer(data.tokenizer).counter : new HeuristicTokenCounter();
  const ctx = { realRoot: data.realRoot, maxFileBytes: data.maxFileBytes, maxTokens: data.maxTokens, tokenCounter };
  let queue = Promise.resolve();
  port.on('message', (m: Request) => {
    queue = queue.then(async () => {
      try {
        port.postMessage({ id: m.id, ok: true, result: await prepareFiles(m.files, ctx) } satisfies Reply);
      } catch (err) {
        port.postMessage({ id: m.id, ok: false, message: errorMessage(err) } satisfies Reply);
      }
    });
  });
}
