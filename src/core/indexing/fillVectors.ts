import type { IndexStore } from '../store/store';
import type { EmbeddingInfo } from '../store/manifest';
import { denseCoverage } from '../store/manifest';
import { embeddingText } from '../models/text';
import type { Embedder } from '../worker/embedder';
import type { HttpEmbedderStats } from '../models/httpEmbedder';
import { SiftError, isAbortError, throwIfAborted } from '../util/errors';

/** Chunks embedded between two commits of the dense pass (each commit writes the vectors of the shards it touches). */
export const DEFAULT_EMBED_COMMIT_CHUNKS = 1024;
/**
 * And at most one commit per this many ms: a commit writes the vectors file of every shard it
 * touches, so an embedding server answering thousands of chunks a second would otherwise spend its
 * time waiting for commits. The local model never reaches it (1 024 chunks take it longer).
 */
export const DEFAULT_EMBED_COMMIT_MS = 3000;

export interface FillOptions {
  /** Who embeds: the local model (texts tokenised on this thread) or an embedding server. */
  embedder: Embedder;
  embedding: EmbeddingInfo;
  signal?: AbortSignal;
  /** Files (relative, '/'-separated) whose chunks are embedded first, in this order (open, recently edited). */
  priority?: readonly string[];
  /** Texts per embedding request. */
  embedBatch?: number;
  commitEveryChunks?: number;
  /** The shortest time between two commits (default DEFAULT_EMBED_COMMIT_MS; 0 when `commitEveryChunks` is given). */
  commitEveryMs?: number;
}

/** Dense-pass progress: `done` of `total` chunks missing at the start are embedded; `coverage` is of the whole index. */
export interface DenseProgress {
  type: 'dense';
  done: number;
  total: number;
  embedded: number;
  chunks: number;
  /** An embedding server's name, requests, retries and latency so far. */
  provider?: { name: string } & HttpEmbedderStats;
}

/**
 * The dense pass of a lexical-first index: embeds every chunk that has no vector yet (the keyword
 * pass committed it without one, or an earlier run was interrupted), priority files first, and
 * commits as it goes, so a question at any moment searches what is embedded and an interrupted
 * run resumes with only what is still missing. Returns the number of chunks embedded.
 */
export async function* fillVectors(store: IndexStore, opts: FillOptions): AsyncGenerator<DenseProgress, number> {
  const missing = await store.unembedded();
  if (!missing.length) return 0;
  const pathOf = new Map<string, string>();
  for (const [rel, entry] of Object.entries(store.manifest.files)) for (const id of entry.chunkIds) pathOf.set(id, rel);
  const rankOf = new Map((opts.priority ?? []).map((p, i) => [p.replace(/\\/g, '/'), i]));
  const rank = (id: string) => rankOf.get(pathOf.get(id) ?? '') ?? Number.MAX_SAFE_INTEGER;
  // Stable: priority files first (in the given order), the rest in shard order.
  const order = missing.map((m, i) => ({ ...m, rank: rank(m.id), i })).sort((a, b) => a.rank - b.rank || a.i - b.i);

  const { embedder, embedding, signal } = opts;
  const batch = Math.max(1, opts.embedBatch ?? embedder.batchSize);
  // Requests kept queued beyond the one being awaited: one for the local worker (it runs one at a
  // time), the server's concurrency for an embedding server (its batches run side by side).
  const depth = Math.max(1, embedder.inFlight);
  const commitEvery = Math.max(batch, opts.commitEveryChunks ?? DEFAULT_EMBED_COMMIT_CHUNKS);
  // A cadence in chunks given explicitly is kept exactly (tests, callers that want every commit).
  const commitMs = opts.commitEveryMs ?? (opts.commitEveryChunks === undefined ? DEFAULT_EMBED_COMMIT_MS : 0);
  let lastCommit = performance.now();
  const progress = (done: number): DenseProgress => {
    const stats = embedder.stats();
    return { type: 'dense', done, total: order.length, ...denseCoverage(store.manifest), ...(stats ? { provider: { name: embedder.provider, ...stats } } : {}) };
  };

  /** Reads one slice's chunk texts (grouped by shard) and sends it to the worker. */
  const send = async (slice: typeof order) => {
    const byShard = new Map<string, typeof order>();
    for (const m of slice) {
      let g = byShard.get(m.shard);
      if (!g) byShard.set(m.shard, (g = []));
      g.push(m);
    }
    const texts: { id: string; text: string }[] = [];
    const moved = new Set<string>();
    const read = async (groups: Map<string, { row: number; id: string }[]>) => {
      for (const [name, items] of groups) {
        const chunks = await store.chunksOfShard(name, items.map((m) => m.row));
        items.forEach((m, k) => {
          const c = chunks[k];
          if (c?.id === m.id) texts.push({ id: c.id, text: embeddingText(c) });
          else moved.add(m.id);
        });
      }
    };
    await read(byShard);
    // A commit since the start compacted a shard (or moved a file's chunks): found again by id.
    if (moved.size) {
      const again = new Map<string, { row: number; id: string }[]>();
      for (const m of await store.locate(moved)) {
        let g = again.get(m.shard);
        if (!g) again.set(m.shard, (g = []));
        g.push(m);
      }
      moved.clear();
      await read(again);
    }
    const flat = await embedder.embedDocuments(texts.map((t) => t.text), signal);
    if (flat.length !== texts.length * embedding.dim) {
      throw new SiftError(
        `The embedder returned ${flat.length} values for ${texts.length} texts; the index has ${embedding.dim} dimensions per vector. Nothing from this batch was written.`,
        'bad-input',
      );
    }
    return texts.map((t, j) => [t.id, flat.slice(j * embedding.dim, (j + 1) * embedding.dim)] as const);
  };

  let done = 0;
  let pending = new Map<string, Float32Array>();
  let committing: Promise<void> | undefined;
  // `depth` requests ahead: the next slices are read and queued while this one embeds.
  let failed = false;
  const ahead: Promise<Awaited<ReturnType<typeof send>>>[] = [];
  let queued = 0;
  const refill = () => {
    while (ahead.length < depth && queued < order.length) {
      const p = send(order.slice(queued, queued + batch));
      p.catch(() => undefined); // awaited in turn below
      ahead.push(p);
      queued += batch;
    }
  };
  refill();
  try {
    for (let m = 0; m < order.length; m += batch) {
      const current = ahead.shift()!;
      refill();
      for (const [id, v] of await current) pending.set(id, v);
      done += Math.min(batch, order.length - m);
      throwIfAborted(signal);
      if (pending.size >= commitEvery && performance.now() - lastCommit >= commitMs) {
        // The commit runs while the next batches embed (one commit at a time: the previous is awaited first).
        if (committing) await committing;
        const batchToCommit = pending;
        pending = new Map();
        committing = store.commitVectors(batchToCommit).then(
          () => {
            committing = undefined;
            lastCommit = performance.now();
          },
          (err: unknown) => {
            // Not written: kept for the commit in `finally` (or the next run).
            for (const [id, v] of batchToCommit) if (!pending.has(id)) pending.set(id, v);
            throw err;
          },
        );
        committing.catch(() => undefined); // awaited below
        lastCommit = performance.now();
        // A cadence given in chunks reports each commit done (the progress shows its coverage).
        if (!commitMs) await committing;
        yield progress(done);
      }
    }
    if (committing) await committing;
    if (pending.size) await store.commitVectors(pending);
    pending = new Map();
  } catch (err) {
    failed = !isAbortError(err);
    throw err;
  } finally {
    // A commit still running finishes first (its batch is kept; a failed one is reported above or lost with the run).
    if (committing) await (committing as Promise<void>).catch(() => undefined);
    // Cancelled or failed: what was embedded is kept (committed now), the rest is embedded next time.
    // Slices the server already answered when an earlier one failed are kept too (on a cancel they are dropped).
    for (const r of await Promise.allSettled(ahead)) if (failed && r.status === 'fulfilled') for (const [id, v] of r.value) pending.set(id, v);
    if (pending.size) await store.commitVectors(pending).catch(() => undefined);
  }
  yield progress(done);
  return done;
}
