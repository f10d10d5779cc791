import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { DiscoveryMatcher, type DiscoveryOptions, type SkippedFile, discoverFiles } from '../discovery';
import { hostFlavor, pathKey } from '../util/pathFlavor';
import { DEFAULT_MAX_TOKENS, HeuristicTokenCounter } from '../chunking';
import { DEFAULT_MAX_FILE_BYTES } from '../discovery/defaults';
import type { InferenceClient } from '../worker/client';
import type { ModelLoadFailure, ModelRequest } from '../worker/protocol';
import { RemoteEmbedder, type RemoteEmbeddingOptions, createEmbedder } from '../worker/embedder';
import type { HttpEmbedderStats } from '../models/httpEmbedder';
import { embeddingText } from '../models/text';
import type { ModelTokenizer } from '../models/tokens';
import { SiftError, throwIfAborted } from '../util/errors';
import { type ChunkerInfo, type EmbeddingInfo, type HeldFileTable, describeEmbedding, readManifest } from '../store/manifest';
import { type FileUpdate, IndexStore } from '../store/store';
import { denseCoverage } from '../store/manifest';
import { type DenseProgress, fillVectors } from './fillVectors';
import { type FileToPrepare, type PrepareContext, type PreparedBatch, prepareFiles } from './prepare';
import { CHUNK_THREADS_MIN_FILES, ChunkThreads, chunkThreadCount } from './chunkThreads';

/**
 * Bump when chunk boundaries, chunk fields or the index-time secret redaction (src/core/discovery/redact.ts)
 * change: older indexes are rebuilt.
 */
export const CHUNKER_VERSION = 2;
/**
 * With the local model embedding inline, the longest time between two commits of a build: what a run
 * killed outright (SIGKILL, out of memory) can lose. A run stopped any other way commits what it finished.
 */
export const INLINE_COMMIT_MS = 30_000;
/** The chunker's default chunk size, in tokens (one constant, declared by the chunker). */
export { DEFAULT_MAX_TOKENS };

export interface IndexOptions {
  root: string;
  indexDir: string;
  discovery?: DiscoveryOptions;
  /** null: build a lexical-only index on purpose. */
  embedding: ModelRequest | null;
  /**
   * Embed with an OpenAI-compatible server instead of the local model (used when `embedding` is not
   * null): its batches run `concurrency` at a time in the dense pass, which commits as it goes.
   */
  remoteEmbedding?: RemoteEmbeddingOptions;
  maxTokens?: number;
  client: InferenceClient;
  signal?: AbortSignal;
  /**
   * Commit after this many changed files (bounds the work lost to a crash). By default a commit is
   * made when the pending chunks fill a shard, so a first build writes each shard about once
   * (commits of a fixed number of files rewrote each shard about twice as they filled it).
   */
  commitEveryFiles?: number;
  /**
   * With the local model embedding inline (not lexical first), also commit once this long has passed
   * since the last commit (default INLINE_COMMIT_MS): a shard's worth of chunks is minutes of model time.
   * A run cancelled, failed or left by its caller commits the files it finished whatever this is.
   */
  inlineCommitMs?: number;
  /** Texts per embedding request. */
  embedBatch?: number;
  /**
   * Only look at these paths (relative, '/'-separated): files or folders that a watcher saw change.
   * Everything else in the index is kept as is. A changed ignore file (.gitignore, .siftignore)
   * triggers a full walk, since it can change what is indexed anywhere below it.
   */
  changedPaths?: string[];
  /**
   * Lexical first: the first pass commits every changed file's chunks and BM25 documents without
   * embedding them (no model time), so the whole folder is searchable by keywords at once
   * (`lexical-ready`); the dense pass then embeds what is missing, `priority` files first,
   * committing as it goes. Without it each batch is embedded before it is committed (and chunks
   * an earlier lexical-first run left without vectors are embedded at the end).
   */
  lexicalFirst?: boolean;
  /** Files (relative, '/'-separated) embedded first in the dense pass: open and recently edited ones. */
  priority?: string[];
  /** Chunks embedded between two commits of the dense pass. */
  embedCommitChunks?: number;
  /**
   * The indexing thread's script (dist/indexer.js): a pass of many files reads and chunks them on
   * threads started from it (`chunkThreads.ts`), one per core, instead of on this thread alone.
   */
  chunkThreadScript?: string;
}

/**
 * What a notice is about, for callers to switch on (the message is for people):
 * `embedding-unavailable` the embedding model did not load (`reason` says why), so the index is
 * lexical-only; `index-rebuilt` the index on disk could not be used as it was and is rebuilt.
 */
export type IndexNotice =
  | { code: 'embedding-unavailable'; reason: ModelLoadFailure; message: string }
  | { code: 'index-rebuilt'; message: string };

export type IndexEvent =
  | ({ type: 'notice' } & IndexNotice)
  | { type: 'model'; embedding: EmbeddingInfo | null }
  | { type: 'discovering'; seen: number }
  | { type: 'plan'; toProcess: number; unchanged: number; removed: number; skipped: number }
  | { type: 'progress'; filesDone: number; filesTotal: number; chunks: number; embedded: number }
  /**
   * A commit; `files` (the keyword pass's commits) counts the folder's files searchable by keywords
   * in their current version (`searchable`: unchanged ones and this run's committed so far) of those
   * it will have when the pass ends (`total`), so a front end can answer from what is committed.
   */
  | { type: 'commit'; generation: number; files?: { searchable: number; total: number } }
  /** Every file is committed and searchable by keywords; `embedded` of `chunks` have vectors so far. */
  | { type: 'lexical-ready'; generation: number; embedded: number; chunks: number }
  | DenseProgress;

export interface IndexSummary {
  root: string;
  indexDir: string;
  files: {
    /** Every file in the index after this run (relative, '/'-separated, sorted). */
    indexed: string[];
    skipped: SkippedFile[];
    /** Files (re)chunked in this run. */
    changed: string[];
    removed: string[];
    unchanged: number;
  };
  /** Chunks in the index after this run. */
  chunks: number;
  /** Chunks embedded in this run (0 when nothing changed, or for a lexical-only index). */
  embedded: number;
  /** Chunks of changed files whose vectors were reused because their content did not change. */
  reused: number;
  embedding: EmbeddingInfo | null;
  /** An embedding server's requests, retries and mean latency in this run. */
  embeddingServer?: { provider: string; server: string } & HttpEmbedderStats;
  tokenizer: string;
  /** Threads that read and chunked this run's files besides the indexing thread (0: it did alone). */
  chunkThreads: number;
  skippedByReason: Record<string, number>;
  notices: string[];
  indexBytes: number;
  ms: number;
}

/**
 * Brings the index of `root` up to date. A generator so callers can show progress and cancel
 * (via `signal`); the return value is the summary. Re-runs only read files whose size or mtime
 * changed, and re-chunk/re-embed only those whose content hash changed.
 */
export async function* indexWorkspace(opts: IndexOptions): AsyncGenerator<IndexEvent, IndexSummary> {
  try {
    return yield* indexOnce(opts);
  } catch (err) {
    // A shard found damaged while building on it (damage the checks on opening cannot see, such as
    // chunk text or a crafted file): the store recorded it, so opening again rebuilds the index.
    if (!(err instanceof SiftError && err.code === 'index-corrupt')) throw err;
    return yield* indexOnce(opts);
  }
}

async function* indexOnce(opts: IndexOptions): AsyncGenerator<IndexEvent, IndexSummary> {
  const started = performance.now();
  const { client, signal } = opts;
  const maxTokens = opts.maxTokens ?? DEFAULT_MAX_TOKENS;
  const notices: string[] = [];
  const notice = (n: IndexNotice): IndexEvent => {
    notices.push(n.message);
    return { type: 'notice', ...n };
  };

  let embedding: EmbeddingInfo | null = null;
  const embedder = opts.embedding ? createEmbedder(client, opts.embedding, opts.remoteEmbedding, opts.embedBatch) : null;
  // A lexical-only index is chunked with the heuristic counter, whatever model the worker holds
  // (a worker shared with a hybrid index has one loaded): record what really measured the chunks.
  // The local model's own tokenizer works on this thread (LocalEmbedder): onnxruntime blocks the
  // inference worker's thread while the model runs, so work done there would not overlap it.
  let tokenizer = 'heuristic';
  let modelTokens: ModelTokenizer | undefined;
  // A full walk needs no model: it runs while the model loads (a second or more on a fresh start).
  // Files the index on disk already holds with the same size and mtime are not opened again; the
  // plan below compares with the store opened for writing, which is the one that counts.
  const loading = embedder?.load(signal);
  loading?.catch(() => undefined); // awaited below; a walk that fails first leaves it unobserved
  const skipped: SkippedFile[] = [];
  const seen = new Map<string, { size: number; mtimeMs: number; absPath: string }>();
  const walk = async function* (isKnownFile: (f: { path: string; size: number; mtimeMs: number }) => boolean) {
    let count = 0;
    for await (const event of discoverFiles(opts.root, { ...opts.discovery, isKnownFile }, signal)) {
      if (event.type === 'file') seen.set(event.file.path, event.file);
      else skipped.push(event.skip);
      if (++count % 500 === 0) yield { type: 'discovering', seen: count } as IndexEvent;
    }
  };
  let held: HeldFileTable | undefined;
  if (!opts.changedPaths) {
    const onDisk = await readManifest(opts.indexDir).catch(() => undefined);
    const known = onDisk?.kind === 'ok' ? onDisk.manifest.files : {};
    // Opening the store for writing below reuses this table rather than parsing it again.
    if (onDisk?.kind === 'ok' && onDisk.fileTable) held = { createdAt: onDisk.manifest.createdAt, state: onDisk.fileTable, files: onDisk.manifest.files };
    yield* walk((f) => {
      const e = Object.hasOwn(known, f.path) ? known[f.path] : undefined;
      return Boolean(e && e.size === f.size && e.mtimeMs === f.mtimeMs);
    });
  }
  if (embedder) {
    const loaded = await loading!;
    if (loaded.ok) ({ info: embedding, tokenizer, modelTokens } = loaded);
    else yield notice({ code: 'embedding-unavailable', reason: loaded.code, message: `${loaded.message.replace(/\.+$/, '')}. Continuing with a lexical-only index (keyword search, no semantic search).` });
    if (embedding && opts.remoteEmbedding && !opts.remoteEmbedding.dimensions) await checkServerDimension(opts.indexDir, embedding);
  }
  yield { type: 'model', embedding };
  const tokenCounter = modelTokens?.counter ?? new HeuristicTokenCounter();
  const chunker: ChunkerInfo = { version: CHUNKER_VERSION, maxTokens, tokenizer };

  const { store, rebuildReason } = await IndexStore.open(opts.indexDir, {
    root: opts.root,
    embedding,
    chunker,
    lock: true,
    // Watcher updates check shard sizes; full walks (startup, reindex, CLI) also checksums.
    verify: opts.changedPaths ? 'sizes' : 'full',
    held,
  });
  let threads: ChunkThreads | undefined;
  try {
    if (rebuildReason) yield notice({ code: 'index-rebuilt', message: rebuildReason });

    // 1. Discover: the whole tree (walked above while the model loaded, unless only watcher paths
    //    were asked for and they cannot be taken alone), or only the paths a watcher reported.
    let removed: string[];
    let unchanged = 0;
    const partial = opts.changedPaths && !rebuildReason ? await partialScope(opts, store) : undefined;
    if (partial) {
      for (const rel of partial.paths) {
        const event = await partial.matcher.inspect(rel);
        if (event.type === 'file') seen.set(event.file.path, event.file);
        else if (!isGone(event.skip)) skipped.push(event.skip);
      }
      const indexed = Object.keys(store.manifest.files);
      // Where the file system ignores case, `foo.ts` reported after a rename from `Foo.ts` touches `Foo.ts` too.
      const flavor = opts.discovery?.pathFlavor ?? hostFlavor();
      const keys = partial.paths.map((p) => pathKey(p, flavor));
      const touched = (f: string) => {
        const k = pathKey(f, flavor);
        return keys.some((p) => k === p || k.startsWith(`${p}/`));
      };
      removed = indexed.filter((f) => touched(f) && !seen.has(f));
      unchanged = indexed.filter((f) => !touched(f)).length;
    } else {
      // Watcher paths that cannot be taken alone: the whole tree now. Files already indexed with
      // the same size and mtime are not opened again.
      if (opts.changedPaths) {
        yield* walk((f) => {
          const e = store.file(f.path);
          return Boolean(e && e.size === f.size && e.mtimeMs === f.mtimeMs);
        });
      }
      removed = Object.keys(store.manifest.files).filter((rel) => !seen.has(rel));
    }

    // 2. Plan: unchanged by stat, candidates to read, removals.
    const candidates: string[] = [];
    for (const [rel, st] of seen) {
      const entry = store.file(rel);
      if (entry && entry.size === st.size && entry.mtimeMs === st.mtimeMs) unchanged++;
      else candidates.push(rel);
    }
    yield { type: 'plan', toProcess: candidates.length, unchanged, removed: removed.length, skipped: skipped.length };
    // The keyword pass reads the priority files (open and recently edited ones) first, and commits
    // them on their own: a question asked meanwhile finds them before the rest of the folder.
    const priorityCount = opts.priority?.length ? prioritise(candidates, opts.priority) : 0;
    // Files searchable by keywords in their current version (`files` of the commit events): the
    // unchanged ones, plus this run's as they are committed; skipped ones leave the total.
    const unchangedAtPlan = unchanged;
    let filesCommitted = 0;
    let filesPending = 0;
    let filesSkipped = 0;

    // 3. Read, chunk, embed in batches; commit periodically so a crash loses little work.
    const commitEvery = opts.commitEveryFiles;
    const maxFileBytes = opts.discovery?.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    const realRoot = await fsp.realpath(opts.root).catch(() => path.resolve(opts.root));
    const batchSize = 32;
    let pending: FileUpdate[] = [];
    let pendingChunks = 0;
    let pendingRemoved = [...removed];
    let pendingRestat: { path: string; size: number; mtimeMs: number }[] = [];
    const changed: string[] = [];
    let embedded = 0;
    let reused = 0;
    let filesDone = 0;
    let chunksMade = 0;
    let chunkThreads = 0;

    // Embedding inline (not lexical first), a shard's worth of chunks is minutes of model time: commit
    // at least this often then, so a run killed outright keeps its recent work (a stopped one commits
    // what it finished: keepFinished below).
    const inlineEmbedding = Boolean(embedding) && !opts.lexicalFirst && embedder?.provider === 'local';
    let lastCommit = performance.now();
    const commit = async function* () {
      lastCommit = performance.now();
      if (!pending.length && !pendingRemoved.length && !pendingRestat.length) return;
      const generation = await store.commit({ removed: pendingRemoved, upserted: pending, restat: pendingRestat });
      pending = [];
      pendingChunks = 0;
      pendingRemoved = [];
      pendingRestat = [];
      filesCommitted += filesPending;
      filesPending = 0;
      yield { type: 'commit', generation, files: { searchable: unchangedAtPlan + filesCommitted, total: unchangedAtPlan + candidates.length - filesSkipped } } as IndexEvent;
    };

    // Reading and chunking (`prepareFiles`): on chunking threads for a large pass (a fresh folder's
    // keyword pass: every core chunks while this thread builds and writes shards), else here.
    const context: PrepareContext = { realRoot, maxFileBytes, maxTokens, tokenCounter, signal };
    const local = (files: FileToPrepare[]) => prepareFiles(files, context);
    if (opts.chunkThreadScript && candidates.length >= CHUNK_THREADS_MIN_FILES) {
      chunkThreads = chunkThreadCount();
      threads = new ChunkThreads(opts.chunkThreadScript, { tokenizer: modelTokens?.spec ?? null, realRoot, maxFileBytes, maxTokens }, chunkThreads, local);
    }
    const prepare = async (batch: string[]): Promise<PreparedBatch> => {
      throwIfAborted(signal);
      const files = batch.map((rel) => {
        const st = seen.get(rel)!;
        return { path: rel, absPath: st.absPath, mtimeMs: st.mtimeMs, knownHash: store.file(rel)?.hash };
      });
      return threads ? threads.prepare(files) : local(files);
    };
    const batches = fileBatches(candidates, batchSize);
    const fileUpdate = ({ file, chunks, docs, vectors }: PreparedBatch['updates'][number]): FileUpdate => ({
      path: file.path,
      entry: { hash: file.hash, size: file.size, mtimeMs: file.mtimeMs },
      chunks,
      vectors,
      docs,
    });
    /** The batch being embedded inline (its files are not in `pending` yet). */
    let beingEmbedded: PreparedBatch['updates'] | undefined;
    /**
     * A pass that stops early while embedding inline — cancelled, failed, or left by its caller —
     * commits what it finished: the files in `pending` and those of the batch being embedded whose
     * every chunk has its vector (a file's chunks and vectors always go together); the batches still
     * being read are dropped. Model time is the dear part: the next run embeds only the rest, as the
     * dense pass's stop does (fillVectors). A commit that fails here leaves the index as it was.
     */
    const keepFinished = async () => {
      const finished = (beingEmbedded ?? []).filter((u) => u.vectors?.every(Boolean)).map(fileUpdate);
      const upserted = [...pending, ...finished];
      if (!upserted.length && !pendingRemoved.length && !pendingRestat.length) return;
      await store.commit({ removed: pendingRemoved, upserted, restat: pendingRestat }).catch(() => undefined);
    };
    // Pipelined: the next batches are read and chunked while batch n is embedded (the worker chunks
    // while onnxruntime's threads run the model) or committed; their results are applied in order.
    const ahead = threads ? 2 * chunkThreads : 1;
    const inFlight: Promise<PreparedBatch>[] = [];
    let queued = 0;
    const fill = () => {
      while (queued < batches.length && inFlight.length < ahead) {
        const p = prepare(batches[queued++]!);
        p.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
        inFlight.push(p);
      }
    };
    fill();
    for (let n = 0; n < batches.length; n++) {
      let finished = false;
      let failure: { err: unknown } | undefined;
      try {
        const prepared = await inFlight.shift()!;
        fill();
        for (const skip of prepared.skips) {
          skipped.push(skip);
          seen.delete(skip.path);
        }
        pendingRemoved.push(...prepared.removals);
        pendingRestat.push(...prepared.restat);
        unchanged += prepared.restat.length;
        const updates = prepared.updates;
        if (inlineEmbedding) beingEmbedded = updates;
        if (embedding) {
          const missing: { u: number; c: number; text: string }[] = [];
          // Lexical first, or an embedding server (several requests at once, and a failure keeps what
          // was answered): the dense pass embeds them.
          const deferred = Boolean(opts.lexicalFirst) || embedder!.provider !== 'local';
          for (let u = 0; u < updates.length; u++) {
            const update = updates[u]!;
            const old = await store.vectorsOfFile(update.file.path);
            update.vectors = update.chunks.map((chunk, c) => {
              const v = old.get(chunk.id);
              if (v) reused++;
              else if (!deferred) missing.push({ u, c, text: embeddingText(chunk) });
              return v;
            });
          }
          // One request ahead: the next slice is tokenised here and queued while the worker runs this one.
          const embedBatch = opts.embedBatch ?? 64;
          const send = (m: number) => {
            const slice = missing.slice(m, m + embedBatch);
            const result = embedder!.embedDocuments(slice.map((x) => x.text), signal);
            result.catch(() => undefined); // awaited below
            return { slice, result };
          };
          let ahead = missing.length ? send(0) : undefined;
          for (let m = 0; m < missing.length; m += embedBatch) {
            const { slice, result } = ahead!;
            ahead = m + embedBatch < missing.length ? send(m + embedBatch) : undefined;
            const flat = await result;
            if (flat.length !== slice.length * embedding.dim) throw new SiftError(`The embedder returned ${flat.length} values for ${slice.length} texts; the index has ${embedding.dim} dimensions per vector. Nothing from this batch was written.`, 'bad-input');
            slice.forEach((x, j) => {
              updates[x.u]!.vectors![x.c] = flat.subarray(j * embedding!.dim, (j + 1) * embedding!.dim);
            });
            embedded += slice.length;
            yield { type: 'progress', filesDone, filesTotal: candidates.length, chunks: chunksMade, embedded };
          }
        }
        beingEmbedded = undefined;
        for (const update of updates) {
          changed.push(update.file.path);
          chunksMade += update.chunks.length;
          pendingChunks += update.chunks.length;
          pending.push(fileUpdate(update));
        }
        filesDone += prepared.batch.length;
        filesSkipped += prepared.skips.length;
        filesPending += prepared.batch.length - prepared.skips.length;
        yield { type: 'progress', filesDone, filesTotal: candidates.length, chunks: chunksMade, embedded };
        const priorityDone = opts.lexicalFirst && priorityCount > 0 && filesDone >= priorityCount && filesDone - prepared.batch.length < priorityCount;
        const due =
          priorityDone ||
          (commitEvery ? pending.length >= commitEvery : pendingChunks >= store.shardCapacity || (inlineEmbedding && performance.now() - lastCommit >= (opts.inlineCommitMs ?? INLINE_COMMIT_MS)));
        if (due) yield* commit();
        finished = true;
      } catch (err) {
        failure = { err };
        throw err;
      } finally {
        // On an error or a cancelled run (or its caller leaving), let the batch being prepared settle
        // before the store closes (its result is dropped); embedding inline, keep what was finished
        // (not after a damaged shard: the index is rebuilt then).
        if (!finished) {
          await Promise.allSettled(inFlight);
          if (inlineEmbedding && !(failure?.err instanceof SiftError && failure.err.code === 'index-corrupt')) await keepFinished();
        }
      }
    }
    await threads?.close();
    threads = undefined;
    yield* commit();
    if (opts.lexicalFirst) yield { type: 'lexical-ready', generation: store.manifest.generation, ...denseCoverage(store.manifest) };
    if (embedding) {
      embedded += yield* fillVectors(store, {
        embedder: embedder!,
        embedding,
        signal,
        priority: opts.priority,
        embedBatch: opts.embedBatch,
        commitEveryChunks: opts.embedCommitChunks,
      });
    }

    const skippedByReason: Record<string, number> = {};
    for (const s of skipped) skippedByReason[s.reason] = (skippedByReason[s.reason] ?? 0) + 1;
    skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return {
      root: opts.root,
      indexDir: opts.indexDir,
      files: {
        indexed: Object.keys(store.manifest.files).sort(),
        skipped,
        changed: changed.sort(),
        removed: removed.sort(),
        unchanged,
      },
      chunks: store.chunkCount,
      embedded,
      reused,
      embedding,
      ...(embedder instanceof RemoteEmbedder ? { embeddingServer: { provider: embedder.provider, server: embedder.http.server, ...embedder.stats() } } : {}),
      tokenizer,
      chunkThreads,
      skippedByReason,
      notices,
      indexBytes: await store.diskSize(),
      ms: Math.round(performance.now() - started),
    };
  } finally {
    await threads?.close();
    await store.close();
  }
}

/**
 * Files in the batches they are read, chunked and embedded in: `size` files each, after a short
 * ramp (2, then 8 files) so that the inference worker gets its first chunks after two files are
 * chunked rather than a whole batch — the next batch is chunked while those embed, so the worker
 * is never idle waiting for the first one.
 */
export function fileBatches<T>(files: readonly T[], size = 32, ramp: readonly number[] = [2, 8]): T[][] {
  const batches: T[][] = [];
  let i = 0;
  for (const n of ramp.filter((r) => r < size)) {
    if (i >= files.length) break;
    batches.push(files.slice(i, (i += n)));
  }
  while (i < files.length) batches.push(files.slice(i, (i += size)));
  return batches;
}

/**
 * Moves the candidates named in `priority` to the front, in `priority`'s order (the rest keep theirs);
 * returns how many moved.
 */
export function prioritise(candidates: string[], priority: readonly string[]): number {
  const wanted = new Set(candidates);
  const first = [...new Set(priority)].filter((p) => wanted.has(p));
  if (!first.length) return 0;
  const moved = new Set(first);
  const rest = candidates.filter((c) => !moved.has(c));
  candidates.splice(0, candidates.length, ...first, ...rest);
  return first.length;
}

/** The matcher for a watcher-driven update, or undefined when a full walk is needed. */
async function partialScope(opts: IndexOptions, store: IndexStore): Promise<{ matcher: DiscoveryMatcher; paths: string[] } | undefined> {
  const matcher = await DiscoveryMatcher.create(opts.root, opts.discovery ?? {});
  const paths = [...new Set(opts.changedPaths!.map((p) => p.replace(/\\/g, '/').replace(/\/+$/, '')))].filter(Boolean);
  // An ignore-file change can re-include or exclude anything below it; an empty index has nothing to keep.
  if (paths.some((p) => matcher.isRuleFile(p)) || Object.keys(store.manifest.files).length === 0) return undefined;
  // A new or moved folder: walk everything (cheap: unchanged files are recognised by size and mtime).
  for (const p of paths) if ((await fsp.stat(path.join(opts.root, p)).catch(() => undefined))?.isDirectory()) return undefined;
  return { matcher, paths };
}

/** A path that no longer exists (deleted or renamed away) is a removal, not a skip. */
function isGone(skip: SkippedFile): boolean {
  return skip.reason === 'unreadable' && /ENOENT|ENOTDIR/.test(skip.detail ?? '');
}

/**
 * An embedding server that now sends vectors of another dimension for the same model, unasked (no
 * `dimensions` option changed), is serving something else: an error, and nothing is written — not a
 * silent rebuild that would throw the index's vectors away.
 */
async function checkServerDimension(indexDir: string, embedding: EmbeddingInfo): Promise<void> {
  const loaded = await readManifest(indexDir, { files: false }).catch(() => undefined);
  const had = loaded?.kind === 'ok' ? loaded.manifest.embedding : null;
  if (had && describeEmbedding(had) === describeEmbedding(embedding) && had.dim !== embedding.dim) {
    throw new SiftError(
      `The embedding server now sends ${embedding.dim}-dimensional vectors for ${embedding.model}; the index was built with ${had.dim}. Nothing was written. If the server changed models on purpose, pass --embedding-dimensions ${embedding.dim} (or the sift.embedding.dimensions setting) to rebuild.`,
      'bad-input',
    );
  }
}
