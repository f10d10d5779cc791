import type { IndexStore } from '../store/store';
import type { EmbeddingInfo } from '../store/manifest';
import { denseCoverage, liveChunks } from '../store/manifest';
import { embeddingText } from '../models/text';
import type { Embedder } from '../worker/embedder';
import type { HttpEmbedderStats } from '../models/httpEmbedder';
import { SiftError, throwIfAborted } from '../util/errors';

/** Chunks embedded between two commits of the dense pass (each commit writes the vectors of the shards it touches). */
export const DEFAULT_EMBED_COMMIT_CHUNKS = 1024;
/**
 * And at most one commit per this many ms: a commit writes the vectors file of every shard it
 * touches, so an embedding server answering thousands of chunks a second would otherwise spend its
 * time waiting for commits. The local model never reaches it (1 024 chunks take it longer).
 */
export const DEFAULT_EMBED_COMMIT_MS = 3000;
/** The longest time without a progress event while batches come in. */
const PROGRESS_EVERY_MS = 1000;

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

/** A chunk without a vector: the shard and row it was listed at, and its id. */
interface Missing {
  shard: string;
  row: number;
  id: string;
}

/** Chunks without a vector by the manifest's counts (each shard's live rows minus its embedded ones). */
function missingCount(store: IndexStore): number {
  if (!store.manifest.embedding) return 0;
  let n = 0;
  for (const s of store.manifest.shards) n += Math.max(0, liveChunks(s) - (s.embedded ?? s.chunks));
  return n;
}

/**
 * The chunks to embed in the order they are sent: the priority files' chunks first (in the given
 * order), then every shard's in shard order. Listed a shard at a time as the pass reaches it, so the
 * first requests leave after one shard's vectors file is read instead of every shard's.
 */
async function* missingInOrder(store: IndexStore, priority: readonly string[]): AsyncGenerator<Missing[]> {
  const { files, shards } = store.manifest;
  const names = shards.map((s) => s.name);
  // Chunk id → its file's place in `priority`; the shards holding those files are listed first.
  const rankOf = new Map<string, number>();
  const lists = new Map<string, Missing[]>();
  priority.forEach((p, rank) => {
    const entry = files[p.replace(/\\/g, '/')];
    if (!entry?.shard) return;
    for (const id of entry.chunkIds) if (!rankOf.has(id)) rankOf.set(id, rank);
    lists.set(entry.shard, []);
  });
  if (rankOf.size) {
    for (const name of lists.keys()) lists.set(name, await store.unembeddedIn(name));
    // Stable: a file's chunks keep their shard order.
    yield names.flatMap((n) => lists.get(n)?.filter((m) => rankOf.has(m.id)) ?? []).sort((a, b) => rankOf.get(a.id)! - rankOf.get(b.id)!);
  }
  for (const name of names) {
    const list = lists.get(name) ?? (await store.unembeddedIn(name));
    lists.delete(name);
    yield rankOf.size ? list.filter((m) => !rankOf.has(m.id)) : list;
  }
}

/**
 * The dense pass of a lexical-first index: embeds every chunk that has no vector yet (the keyword
 * pass committed it without one, or an earlier run was interrupted), priority files first, and
 * commits as it goes, so a question at any moment searches what is embedded and an interrupted
 * run resumes with only what is still missing. Returns the number of chunks embedded.
 *
 * The first requests leave as soon as the first shard is listed; the rest is listed as the pass
 * reaches it. A shard whose chunks have all been answered is committed at once (its vectors file
 * is then final), besides the cadence below, so the commit left at the end is one shard's.
 *
 * A pass that stops early — `signal` aborted (a save the editor's pass makes way for, a cancel, a
 * pause), its caller leaving the loop, a failed request or commit — commits every vector answered
 * before it stopped, answers that came in ahead of the batch it was waiting for included, then ends
 * with its error: the next run embeds only what was not answered. Requests still in flight are
 * aborted at once and dropped (a stop never waits for a slow or dying server); an answer that
 * arrives after the stop is ignored. Vectors are keyed by chunk id, which is derived from the
 * chunk's path and content: a chunk changed since it was read has another id, so a vector is never
 * attached to content it was not computed from (`commitVectors` ignores ids no longer in the index).
 */
export async function* fillVectors(store: IndexStore, opts: FillOptions): AsyncGenerator<DenseProgress, number> {
  // Missing at the start, by the manifest (exact once every shard is listed).
  let total = missingCount(store);
  if (!total) return 0;

  const { embedder, embedding, signal } = opts;
  /**
   * Set when the pass stops (aborted, failed, left by its caller, or done): requests in flight are
   * aborted through `flight`, and answers arriving afterwards are dropped.
   */
  let stopped = false;
  const flight = new AbortController();
  const stop = () => {
    stopped = true;
    // The caller's reason when it aborted (a request it cuts rejects as it would have without `flight`).
    flight.abort(signal?.aborted ? signal.reason : undefined);
  };
  const batch = Math.max(1, opts.embedBatch ?? embedder.batchSize);
  // Requests kept queued beyond the one being awaited: one for the local worker (it runs one at a
  // time), the server's concurrency for an embedding server (its batches run side by side).
  const depth = Math.max(1, embedder.inFlight);
  const commitEvery = Math.max(batch, opts.commitEveryChunks ?? DEFAULT_EMBED_COMMIT_CHUNKS);
  // A cadence in chunks given explicitly is kept exactly (tests, callers that want every commit).
  const commitMs = opts.commitEveryMs ?? (opts.commitEveryChunks === undefined ? DEFAULT_EMBED_COMMIT_MS : 0);
  let lastCommit = performance.now();
  let lastProgress = performance.now();
  const progress = (done: number): DenseProgress => {
    lastProgress = performance.now();
    const stats = embedder.stats();
    return { type: 'dense', done, total: Math.max(total, done), ...denseCoverage(store.manifest), ...(stats ? { provider: { name: embedder.provider, ...stats } } : {}) };
  };

  // The list, taken a slice at a time (one taker at a time, in the order the slices are sent).
  // A chunk is listed once even if a commit during the pass moved it to a shard listed later.
  const source = missingInOrder(store, opts.priority ?? []);
  const seen = new Set<string>();
  let listed = 0;
  let exhausted = false;
  let buffer: Missing[] = [];
  let at = 0;
  /** Chunks listed and not yet answered, per shard: a shard that reaches 0 is committed. */
  const unanswered = new Map<string, number>();
  const take = async (): Promise<Missing[]> => {
    while (buffer.length - at < batch && !exhausted) {
      const next = await source.next();
      if (next.done) {
        exhausted = true;
        total = listed;
        break;
      }
      const fresh = next.value.filter((m) => !seen.has(m.id));
      for (const m of fresh) {
        seen.add(m.id);
        unanswered.set(m.shard, (unanswered.get(m.shard) ?? 0) + 1);
      }
      listed += fresh.length;
      buffer = buffer.slice(at).concat(fresh);
      at = 0;
    }
    const slice = buffer.slice(at, at + batch);
    at += slice.length;
    return slice;
  };
  let taking: Promise<unknown> = Promise.resolve();
  const nextSlice = (): Promise<Missing[]> => {
    const p = taking.then(take);
    taking = p.catch(() => undefined);
    return p;
  };

  /** A slice and its vectors by chunk id, each with the shard the chunk was listed in. */
  type Answer = { slice: Missing[]; vectors: (readonly [string, Float32Array, string])[] };
  /** Answered before the pass stopped and not taken by the loop yet (answers that came in ahead of the one it awaits). */
  const answered = new Set<Answer>();
  /** Reads one slice's chunk texts (grouped by shard) and sends it to the embedder. */
  const send = async (slice: Missing[]): Promise<Answer> => {
    const byShard = new Map<string, Missing[]>();
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
    throwIfAborted(flight.signal);
    const flat = texts.length ? await embedder.embedDocuments(texts.map((t) => t.text), flight.signal) : new Float32Array(0);
    // Came in after the pass stopped (its request was aborted meanwhile): dropped, embedded next time.
    throwIfAborted(flight.signal);
    if (flat.length !== texts.length * embedding.dim) {
      throw new SiftError(
        `The embedder returned ${flat.length} values for ${texts.length} texts; the index has ${embedding.dim} dimensions per vector. Nothing from this batch was written.`,
        'bad-input',
      );
    }
    // Views on the answer (no copy): the commit reads them once. Each with the shard it was listed in.
    const listedIn = new Map(slice.map((m) => [m.id, m.shard]));
    const answer: Answer = { slice, vectors: texts.map((t, j) => [t.id, flat.subarray(j * embedding.dim, (j + 1) * embedding.dim), listedIn.get(t.id)!] as const) };
    answered.add(answer);
    return answer;
  };

  let done = 0;
  /** Answered and not committed yet, by the shard each chunk was listed in; `failedCommit` holds a commit that failed. */
  const pending = new Map<string, Map<string, Float32Array>>();
  let pendingChunks = 0;
  let failedCommit: ReadonlyMap<string, Float32Array> | undefined;
  /** Shards answered in full whose vectors wait for the next commit. */
  const complete = new Set<string>();
  let committing: Promise<void> | undefined;
  /** A commit that failed while the pass went on: the pass stops with its error at the next batch. */
  let commitFailed: { err: unknown } | undefined;
  /** Takes the vectors of `shards` (all when not given) out of `pending`, as one map. */
  const takePending = (shards?: Iterable<string>) => {
    const out = new Map<string, Float32Array>();
    for (const name of shards ?? [...pending.keys()]) {
      const vectors = pending.get(name);
      if (!vectors) continue;
      for (const [id, v] of vectors) out.set(id, v);
      pendingChunks -= vectors.size;
      pending.delete(name);
      complete.delete(name);
    }
    if (!shards) complete.clear();
    return out;
  };
  const startCommit = (vectors: ReadonlyMap<string, Float32Array>) => {
    const started: Promise<void> = store.commitVectors(vectors).then(
      () => {
        if (committing === started) committing = undefined;
        lastCommit = performance.now();
      },
      (err: unknown) => {
        if (committing === started) committing = undefined;
        // Not written: kept for the commit in `finally` (or the next run).
        failedCommit = vectors;
        commitFailed ??= { err };
        throw err;
      },
    );
    started.catch(() => undefined); // awaited below, or its failure found through `commitFailed`
    committing = started;
    lastCommit = performance.now();
    return started;
  };
  // `depth` requests ahead: the next slices are listed, read and queued while this one embeds.
  let ended = false;
  const ahead: Promise<Answer | undefined>[] = [];
  const refill = () => {
    while (!ended && !stopped && ahead.length < depth) {
      const p = nextSlice().then((slice) => {
        if (!slice.length) {
          ended = true;
          return undefined;
        }
        return send(slice);
      });
      p.catch(() => undefined); // awaited in turn below
      ahead.push(p);
    }
  };
  signal?.addEventListener('abort', stop, { once: true });
  if (signal?.aborted) stop();
  try {
    refill();
    while (ahead.length) {
      const current = ahead.shift()!;
      refill();
      const sent = await current;
      if (!sent) continue;
      answered.delete(sent);
      for (const [id, v, shard] of sent.vectors) {
        let vectors = pending.get(shard);
        if (!vectors) pending.set(shard, (vectors = new Map()));
        if (!vectors.has(id)) pendingChunks++;
        vectors.set(id, v);
      }
      for (const m of sent.slice) {
        const left = unanswered.get(m.shard)! - 1;
        unanswered.set(m.shard, left);
        if (!left && pending.has(m.shard)) complete.add(m.shard);
      }
      done += sent.slice.length;
      throwIfAborted(signal);
      if (commitFailed) throw commitFailed.err;
      // Between commits too (at most once a second): the rate and time left show from the first batches,
      // not only after the first commit (~40 s of the local model on 2 cores).
      if (performance.now() - lastProgress >= PROGRESS_EVERY_MS) yield progress(done);
      // One commit at a time, never waited for here (the next batches keep coming in meanwhile): enough
      // chunks and time since the last commit (everything answered), else shards answered in full (only
      // theirs: each shard's vectors file is then written once, and the commit left at the end is small).
      if (committing || !pendingChunks) continue;
      const cadence = pendingChunks >= commitEvery && performance.now() - lastCommit >= commitMs;
      if (!cadence && !complete.size) continue;
      const started = startCommit(takePending(cadence ? undefined : complete));
      // A cadence given in chunks reports each commit done (the progress shows its coverage).
      if (!commitMs) await started;
      yield progress(done);
    }
    // Cancelled before a slice was sent (nothing more is sent then): the pass did not finish.
    throwIfAborted(signal);
    if (committing) await committing;
    if (commitFailed) throw commitFailed.err;
    if (pendingChunks) await startCommit(takePending());
  } finally {
    signal?.removeEventListener('abort', stop);
    // Stopped (or done: then nothing is in flight): requests still in flight are aborted and dropped.
    stop();
    // Slices still being listed or read settle before the store may close (bounded: the index's own
    // files; their requests fail at once now). A commit still running finishes first (its batch is kept;
    // a failed one is retried below).
    await Promise.allSettled(ahead);
    if (committing) await (committing as Promise<void>).catch(() => undefined);
    // Cancelled or failed: everything answered before the stop is committed now — by chunk id, so
    // vectors of chunks no longer in the index are ignored — and the rest is embedded next time.
    const left = new Map([...(failedCommit ?? []), ...takePending()]);
    for (const a of answered) for (const [id, v] of a.vectors) left.set(id, v);
    answered.clear();
    if (left.size) await store.commitVectors(left).catch(() => undefined);
  }
  yield progress(done);
  return done;
}
