import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { z } from 'zod';
import { Bm25Index } from '../lexical/bm25';
import type { Chunk } from '../types';
import { SiftError, errorMessage } from '../util/errors';
import { directorySize } from '../util/fs';
import { LockedError, acquireLock, releaseThreadLock } from './lock';
import { ChunkBlocksReader } from './chunkBlocks';
import {
  type ChunkerInfo,
  type EmbeddingInfo,
  type FileEntry,
  type HeldFileTable,
  type Manifest,
  type ShardEntry,
  liveChunks,
  checkShards,
  emptyManifest,
  incompatibility,
  maxLexicalBytes,
  readManifest,
} from './manifest';
import {
  ensurePrivateDir,
  ensurePrivateSubdir,
  openInsideSync,
  readInside,
  tightenTree,
  writePrivateFileAtomic,
} from '../util/privateFs';
import { ShardVectorIndex, type ShardVectors, VECTORS_FILE } from './shardVectors';
import type { CommitChange } from './commitPlan';
import { type FileTableFiles, CHUNKS_FILE, DAMAGE_FILE, LEXICAL_FILE, SHARDS_DIR, cacheKey, lexicalKey, shardPath } from './layout';
import { StoreWriter } from './storeWriter';
import { checkFile, readVectors, verifyShards } from './verify';

/**
 * The on-disk index of one workspace folder.
 *
 * Layout (all under `indexDir`, never inside the user's repository):
 *   manifest.json            the only mutable file; replaced atomically (temp + rename)
 *   shards/<name>.g<gen>/    immutable shard versions:
 *     chunks.bin             the chunks (text + metadata) in deflate blocks, read per block
 *     lexical.bin            the shard's BM25 index (typed arrays, searched in place)
 *     vectors.bin            the shard's vectra index (int8 directions), when the index is embedded
 *
 * Chunks are spread over bounded shards, all chunks of one file in the same shard, rows in the
 * same order in all three files. A commit writes new versions of the shards it touches into
 * fresh directories, then swaps the manifest; old versions are deleted only after the swap. A
 * process killed at any moment leaves the previous manifest pointing at intact shard directories.
 *
 * Readers load a shard's BM25 and vectors on first use and read chunk text only for the final
 * candidates; nothing else is held in memory.
 *
 * Nothing read from disk is trusted (a crafted index must not reach outside its folder): the
 * manifest and file table are parsed with schemas (manifest.ts), names are single path components
 * matching strict patterns, every folder below `indexDir` is checked with lstat and every file
 * opened without following symlinks (privateFs.ts), and every count, offset and length in the
 * binary files is checked against the file's size before it is used. Damage found by a reader is
 * recorded in `damaged.json`; the next writer rebuilds the index (inside its folder).
 *
 * Everything is written owner-only (folders 0700, files 0600, whatever the umask); a writer
 * tightens an index left with looser modes.
 */
export const SHARD_CAPACITY = 4000;
const LOCK_FILE = 'writer.lock';
const MAX_DAMAGE_BYTES = 64 * 1024;

/** A shard's contents in full (for rewriting it, or for evaluation). */
export interface ShardData {
  chunks: Chunk[];
  /** chunk id → vector (unit length; absent in lexical-only indexes). */
  vectors: Map<string, number[]>;
}

export type { CommitChange, FileUpdate } from './commitPlan';

export interface OpenOptions {
  root: string;
  embedding: EmbeddingInfo | null;
  chunker: ChunkerInfo;
  /** Hold an exclusive lock (for writers). Readers do not need it. */
  lock?: boolean;
  shardCapacity?: number;
  /**
   * How a writer checks the shards it will build on: 'sizes' (stat, cheap: every update) or
   * 'full' (sizes and CRC-32 of every file: a full walk). A damaged shard starts a rebuild.
   */
  verify?: 'sizes' | 'full';
  /** A file table the caller already read from this index (used when the manifest still names it). */
  held?: HeldFileTable;
}

export interface OpenResult {
  store: IndexStore;
  /** Set when an existing index could not be reused and a rebuild starts: says why. */
  rebuildReason?: string;
}

export class IndexStore {
  private readonly lexicalCache = new Map<string, Promise<Bm25Index>>();
  private readonly vectorCache = new Map<string, Promise<ShardVectors | undefined>>();
  private chunkReaders = new Map<string, ChunkBlocksReader>();
  private releaseLock?: () => Promise<void>;
  /** The write path (commits), once this store has written or was opened to write. */
  private writing?: StoreWriter;
  /** The file table's files the manifest names (base '' until the first commit writes one). */
  private fileTable: FileTableFiles = { base: '', delta: new Set() };

  private constructor(
    readonly indexDir: string,
    private manifestData: Manifest,
    private readonly capacity: number,
  ) {}

  /**
   * Opens (or starts) the index in `indexDir`. A missing, corrupt, version-mismatched or
   * incompatible (other model / chunker) index is not an error: an empty manifest is used and
   * `rebuildReason` says why. Until the first commit nothing on disk changes, except that the
   * folder is made owner-only and a `shards` entry that is not a real folder is replaced.
   */
  static async open(indexDir: string, opts: OpenOptions): Promise<OpenResult> {
    try {
      await ensurePrivateDir(indexDir);
    } catch (err) {
      throw new SiftError(`Cannot create the index directory ${indexDir}: ${errorMessage(err)}`, 'io', { cause: err });
    }
    let release: (() => Promise<void>) | undefined;
    if (opts.lock) {
      try {
        release = await acquireLock(path.join(indexDir, LOCK_FILE));
      } catch (err) {
        if (err instanceof LockedError) {
          throw new SiftError(
            err.sameProcess
              ? `Another index update in this process (thread ${err.owner.thread}, started ${err.owner.since}) is updating the index in ${indexDir}. Wait for it to finish and retry.`
              : `Another Sift process (pid ${err.owner.pid}${err.owner.host === os.hostname() ? '' : ` on ${err.owner.host}`}) is updating the index in ${indexDir}. Wait for it to finish (or close the other window) and retry.`,
            'index-locked',
          );
        }
        throw new SiftError(`Cannot lock the index directory ${indexDir}: ${errorMessage(err)}`, 'io', { cause: err });
      }
    }
    let layoutProblem: string | undefined;
    try {
      // An index written before modes were owner-only (or under another umask) is tightened.
      if (release) await tightenTree(indexDir, 2);
      layoutProblem = await ensurePrivateSubdir(indexDir, SHARDS_DIR);
    } catch (err) {
      await release?.().catch(() => undefined);
      throw new SiftError(`Cannot prepare the index directory ${indexDir}: ${errorMessage(err)}`, 'io', { cause: err });
    }
    const loaded = await readManifest(indexDir, { held: opts.held });
    let manifest: Manifest;
    let fileTable: FileTableFiles | undefined;
    let rebuildReason: string | undefined;
    const marker = loaded.kind === 'ok' ? await readDamage(indexDir) : undefined;
    if (layoutProblem && loaded.kind !== 'missing') {
      rebuildReason = `Rebuilding the index: it is damaged (${layoutProblem}).`;
      manifest = emptyManifest(opts.root, opts.embedding, opts.chunker);
      if (loaded.kind === 'ok') manifest.generation = loaded.manifest.generation;
    } else if (loaded.kind === 'ok') {
      const why = incompatibility(loaded.manifest, opts.embedding, opts.chunker);
      if (why) {
        rebuildReason = `Rebuilding the index: ${why}.`;
        manifest = emptyManifest(opts.root, opts.embedding, opts.chunker);
        manifest.generation = loaded.manifest.generation;
      } else {
        manifest = loaded.manifest;
        fileTable = loaded.fileTable;
      }
    } else {
      if (loaded.kind === 'invalid') rebuildReason = `Rebuilding the index: the existing one is unusable (${loaded.reason}).`;
      manifest = emptyManifest(opts.root, opts.embedding, opts.chunker);
    }
    const store = new IndexStore(indexDir, manifest, opts.shardCapacity ?? SHARD_CAPACITY);
    store.releaseLock = release;
    if (fileTable) store.fileTable = fileTable;
    // Damage a reader recorded in a shard still in the index: a full check says what it is, and
    // when the damage is beyond what the check sees (chunk text), the record does.
    const marked = !rebuildReason && marker && manifest.shards.some((s) => s.dir === marker.dir) ? marker.reason : undefined;
    if (release && !rebuildReason && (opts.verify || marked)) {
      const problem = (await store.verify(marked ? 'full' : opts.verify!)) ?? marked;
      if (problem) {
        rebuildReason = `Rebuilding the index: it is damaged (${problem}).`;
        const fresh = emptyManifest(opts.root, opts.embedding, opts.chunker);
        fresh.generation = manifest.generation;
        store.manifestData = fresh;
        store.fileTable = { base: '', delta: new Set() };
      }
    }
    // A damage record is cleared by the rebuild's first commit, or now when it is stale.
    if (release && (await exists(path.join(indexDir, DAMAGE_FILE)))) {
      if (rebuildReason) store.writer().clearDamage = true;
      else await fsp.rm(path.join(indexDir, DAMAGE_FILE), { force: true }).catch(() => undefined);
    }
    if (release && !rebuildReason) await store.writer().collectGarbage();
    return { store, rebuildReason };
  }

  /**
   * Opens an existing index read-only, or returns the reason it cannot be used. With `previous` (a
   * reader of the same folder on an older manifest, e.g. before the indexer's last commit), what it
   * loaded and is still current carries over: the shards' keyword indexes and vectors (a commit
   * rewrites a few shards; the dense pass's commits keep every keyword index) and the file table
   * when the manifest still names the same one. `previous` itself is left as it was.
   */
  static async openForRead(indexDir: string, opts: { files?: boolean; previous?: IndexStore } = {}): Promise<{ store?: IndexStore; problem?: string }> {
    const prev = opts.previous?.indexDir === indexDir && !opts.previous.releaseLock ? opts.previous : undefined;
    const held = prev?.filesLoaded && opts.files !== false ? { createdAt: prev.manifestData.createdAt, state: { ...prev.fileTable, delta: new Set(prev.fileTable.delta) }, files: prev.manifestData.files } : undefined;
    const loaded = await readManifest(indexDir, { files: opts.files, held });
    if (loaded.kind === 'missing') return { problem: 'no index yet' };
    if (loaded.kind === 'invalid') return { problem: loaded.reason };
    const store = new IndexStore(indexDir, loaded.manifest, SHARD_CAPACITY);
    store.filesLoaded = opts.files !== false;
    if (loaded.fileTable) store.fileTable = loaded.fileTable;
    if (prev) store.adoptLoaded(prev);
    return { store };
  }

  /** Takes the loaded keyword indexes and vectors of `other` that this manifest's shards still use (shared, not moved). */
  private adoptLoaded(other: IndexStore): void {
    const sameModel = JSON.stringify(other.manifestData.embedding) === JSON.stringify(this.manifestData.embedding);
    const theirs = new Map(other.manifestData.shards.map((s) => [s.dir, s]));
    for (const shard of this.manifestData.shards) {
      const lexical = other.lexicalCache.get(lexicalKey(shard));
      if (lexical) this.lexicalCache.set(lexicalKey(shard), lexical);
      // Vectors when the other reader's entry for this folder names the same files (sizes and
      // checksums: a folder name repeats in an index deleted and built again) and the same dead rows.
      const was = theirs.get(shard.dir);
      if (!this.manifestData.embedding || !sameModel || !was || !sameShardFiles(was, shard)) continue;
      const vectors = other.vectorCache.get(cacheKey(shard));
      if (vectors) this.vectorCache.set(cacheKey(shard), vectors);
    }
  }

  /** False for a reader opened without the file table (search only). */
  private filesLoaded = true;

  /**
   * A read-only view of some shards of an index, for a thread that searches part of it (the
   * inference worker): it loads and caches those shards like a reader. `retain` updates it.
   */
  static view(indexDir: string, shards: ShardEntry[], embedding: EmbeddingInfo | null): IndexStore {
    checkViewShards(indexDir, shards, embedding);
    const manifest = emptyManifest('', embedding, { version: 0, maxTokens: 0, tokenizer: '' });
    manifest.shards = shards;
    return new IndexStore(indexDir, manifest, SHARD_CAPACITY);
  }

  /** Replaces a view's shard list; shards no longer listed are dropped from memory. */
  retain(shards: ShardEntry[]): void {
    checkViewShards(this.indexDir, shards, this.manifestData.embedding);
    this.manifestData = { ...this.manifestData, shards };
    this.dropCached(shards);
  }

  /** Drops what is loaded for shard versions not in `shards` (or loaded with other dead rows). */
  private dropCached(shards: readonly ShardEntry[]): void {
    const dirs = new Set(shards.map((s) => s.dir));
    const keys = new Set(shards.map(cacheKey));
    for (const key of this.vectorCache.keys()) if (!keys.has(key)) this.vectorCache.delete(key);
    const lexicalKeys = new Set(shards.map(lexicalKey));
    for (const key of this.lexicalCache.keys()) if (!lexicalKeys.has(key)) this.lexicalCache.delete(key);
    for (const [dir, reader] of this.chunkReaders) {
      if (dirs.has(dir)) continue;
      reader.close();
      this.chunkReaders.delete(dir);
    }
  }

  get manifest(): Readonly<Manifest> {
    return this.manifestData;
  }

  /** Rows a shard holds at most. */
  get shardCapacity(): number {
    return this.capacity;
  }

  get chunkCount(): number {
    return this.manifestData.shards.reduce((n, s) => n + liveChunks(s), 0);
  }

  file(relPath: string): FileEntry | undefined {
    if (!this.filesLoaded) throw new Error('internal: this index was opened without its file table');
    return this.manifestData.files[relPath];
  }

  /**
   * After a writer thread of this process has exited (terminated, crashed, out of memory): remove
   * the index lock it may have left. Called by the code that started the thread.
   */
  static async releaseExitedWriter(indexDir: string, exitedThread: number): Promise<void> {
    await releaseThreadLock(path.join(indexDir, LOCK_FILE), exitedThread).catch(() => false);
  }

  async close(): Promise<void> {
    // A writer's last word: the shards kept for readers of the previous manifest go too (a reader
    // still on it gets `index-changed` and reopens).
    if (this.releaseLock) await this.writing?.dropPrevious();
    this.lexicalCache.clear();
    this.vectorCache.clear();
    for (const r of this.chunkReaders.values()) r.close();
    this.chunkReaders.clear();
    if (this.writing) this.writing.hot = undefined;
    const release = this.releaseLock;
    this.releaseLock = undefined;
    if (release) await release().catch(() => undefined);
  }

  async diskSize(): Promise<number> {
    return directorySize(this.indexDir);
  }

  private shardPath(shard: ShardEntry | string, file?: string): string {
    return shardPath(this.indexDir, shard, file);
  }

  /**
   * The error for a damaged shard. It is also recorded in the index folder (best effort), so that
   * the next writer rebuilds the index instead of building on it.
   */
  private async damaged(shard: ShardEntry, what: string, err: unknown): Promise<SiftError> {
    const reason = `${what} of shard ${shard.name}: ${errorMessage(err)}`.slice(0, 2000);
    // A reader whose shard a newer commit replaced (the background dense pass commits while
    // questions are asked) is out of date, not damaged: no rebuild, the caller reopens and retries.
    if ((err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      const now = await readManifest(this.indexDir).catch(() => undefined);
      if (now?.kind === 'ok' && now.manifest.generation !== this.manifestData.generation && !now.manifest.shards.some((s) => s.dir === shard.dir)) {
        return new SiftError(`The index in ${this.indexDir} changed while it was read (${reason}); ask again.`, 'index-changed', { cause: err });
      }
    }
    await writePrivateFileAtomic(path.join(this.indexDir, DAMAGE_FILE), JSON.stringify({ dir: shard.dir, reason })).catch(() => undefined);
    return new SiftError(
      `The index in ${this.indexDir} is damaged (${reason}). Run "Sift: Reindex Workspace" (or \`sift index\`) to repair it.`,
      'index-corrupt',
      { cause: err },
    );
  }

  /** Checks every shard's files against the manifest (`verifyShards`); returns the first problem found. */
  verify(level: 'sizes' | 'full'): Promise<string | undefined> {
    return verifyShards(this.indexDir, this.manifestData, level);
  }

  private readVectors(shard: ShardEntry): Promise<ShardVectors> {
    return readVectors(this.indexDir, shard, this.manifestData.embedding?.dim);
  }

  /** The BM25 index of a shard (loaded once, searched in place). */
  lexical(shard: ShardEntry): Promise<Bm25Index> {
    const key = lexicalKey(shard);
    let p = this.lexicalCache.get(key);
    if (!p) {
      p = readInside(this.indexDir, [SHARDS_DIR, shard.dir, LEXICAL_FILE], { maxBytes: maxLexicalBytes(shard.chunks), expectedBytes: shard.files?.[LEXICAL_FILE]?.bytes }).then(
        (bytes) => {
          checkFile(shard, LEXICAL_FILE, bytes);
          // Dead rows (files changed since this version was written) are left out of every search.
          const index = new Bm25Index(bytes, shard.dead);
          if (index.docs !== shard.chunks) throw new Error(`${index.docs} documents, the manifest says ${shard.chunks}`);
          return index;
        },
      ).catch(async (err: unknown) => {
        this.lexicalCache.delete(key);
        throw await this.damaged(shard, 'the keyword index', err);
      });
      this.lexicalCache.set(key, p);
    }
    return p;
  }

  /** The vectors of a shard as a scan block, or undefined for a lexical-only index. */
  vectors(shard: ShardEntry): Promise<ShardVectors | undefined> {
    if (!this.manifestData.embedding) return Promise.resolve(undefined);
    const key = cacheKey(shard);
    let p = this.vectorCache.get(key);
    if (!p) {
      p = this.readVectors(shard).then((v) => {
        if (v.ids.length !== shard.chunks) throw new Error(`${v.ids.length} vectors, the manifest says ${shard.chunks}`);
        // A dead row scans as a chunk without a vector (scale 0), which dense search leaves out.
        for (const row of shard.dead ?? []) v.block.scales[row] = 0;
        return v;
      }).catch(async (err: unknown) => {
        this.vectorCache.delete(key);
        throw await this.damaged(shard, 'the vectors', err);
      });
      this.vectorCache.set(key, p);
    }
    return p;
  }

  /** The vectra index of a shard (its full API; the query path uses `vectors`). */
  vectraIndex(shard: ShardEntry): ShardVectorIndex {
    return new ShardVectorIndex(this.shardPath(shard));
  }

  private chunkReader(shard: ShardEntry): ChunkBlocksReader {
    let r = this.chunkReaders.get(shard.dir);
    if (!r) {
      const parts = [SHARDS_DIR, shard.dir, CHUNKS_FILE];
      r = new ChunkBlocksReader(this.shardPath(shard, CHUNKS_FILE), 8, { open: () => openInsideSync(this.indexDir, parts), chunks: shard.chunks });
      this.chunkReaders.set(shard.dir, r);
    }
    return r;
  }

  /** The chunks at the given rows of a shard (reads and inflates only their blocks). */
  async chunksAt(shard: ShardEntry, rows: readonly number[]): Promise<Chunk[]> {
    try {
      return await this.chunkReader(shard).rows(rows);
    } catch (err) {
      throw await this.damaged(shard, 'the chunk file', err);
    }
  }

  /**
   * Chunks that have no vector yet (lexical first: the keyword pass committed them without), as
   * shard name, row and chunk id, in shard order. Rows survive `commitVectors` (it keeps the order).
   */
  async unembedded(): Promise<{ shard: string; row: number; id: string }[]> {
    const out: { shard: string; row: number; id: string }[] = [];
    for (const shard of this.manifestData.shards) for (const m of await this.unembeddedIn(shard.name)) out.push(m);
    return out;
  }

  /** `unembedded()` of one shard, by name (none for a shard gone since): the dense pass lists a shard at a time. */
  async unembeddedIn(name: string): Promise<{ shard: string; row: number; id: string }[]> {
    const out: { shard: string; row: number; id: string }[] = [];
    const shard = this.manifestData.shards.find((s) => s.name === name);
    if (!shard || !this.manifestData.embedding || (shard.embedded ?? shard.chunks) >= liveChunks(shard)) return out;
    const block = await this.vectors(shard);
    if (!block) return out;
    const dead = new Set(shard.dead);
    block.ids.forEach((id, row) => {
      if (!block.block.scales[row] && !dead.has(row)) out.push({ shard: shard.name, row, id });
    });
    return out;
  }

  /**
   * Where chunks are now, by id (shard name and row of the current versions): for a caller that
   * recorded rows before a commit compacted a shard. Ids no longer in the index are left out.
   */
  async locate(ids: Iterable<string>): Promise<{ shard: string; row: number; id: string }[]> {
    const want = new Set(ids);
    const shardOf = new Map<string, string>();
    for (const entry of Object.values(this.manifestData.files)) {
      if (entry.shard) for (const id of entry.chunkIds) if (want.has(id)) shardOf.set(id, entry.shard);
    }
    const out: { shard: string; row: number; id: string }[] = [];
    for (const shard of this.manifestData.shards) {
      if (![...shardOf.values()].includes(shard.name)) continue;
      const dead = new Set(shard.dead);
      const rows = this.manifestData.embedding ? (await this.vectors(shard))?.ids : (await this.lexical(shard)).ids();
      rows?.forEach((id, row) => {
        if (shardOf.get(id) === shard.name && !dead.has(row)) out.push({ shard: shard.name, row, id });
      });
    }
    return out;
  }

  /** The chunks at the given rows of the shard's current version, by shard name ([] for a shard gone since). */
  async chunksOfShard(name: string, rows: readonly number[]): Promise<Chunk[]> {
    const shard = this.manifestData.shards.find((s) => s.name === name);
    return shard ? this.chunksAt(shard, rows) : [];
  }

  /** A shard in full: every chunk and (embedded indexes) its vector. */
  async loadShard(shard: ShardEntry): Promise<ShardData> {
    // Its live chunks: dead rows (files changed since this version was written) are left out.
    const dead = new Set(shard.dead);
    const live = (all: Chunk[]) => (dead.size ? all.filter((_, row) => !dead.has(row)) : all);
    const hot = this.writing?.hot;
    if (hot?.dir === shard.dir) {
      const vectors = new Map<string, number[]>();
      const chunks = live(hot.chunks);
      for (const c of chunks) {
        const v = hot.vectorOf(c.id);
        if (v) vectors.set(c.id, Array.from(v));
      }
      return { chunks, vectors };
    }
    let chunks: Chunk[];
    try {
      chunks = live(await this.chunkReader(shard).all());
    } catch (err) {
      throw await this.damaged(shard, 'the chunk file', err);
    }
    const vectors = new Map<string, number[]>();
    const block = await this.vectors(shard);
    if (block) {
      const dim = block.block.dim;
      block.ids.forEach((id, i) => {
        const f = block.block.scales[i]!;
        if (!f) return; // not embedded yet
        const v = new Array<number>(dim);
        for (let j = 0; j < dim; j++) v[j] = block.block.data[i * dim + j]! * f;
        vectors.set(id, v);
      });
    }
    return { chunks, vectors };
  }

  /** All chunks of the index (reads every shard's chunk file, one shard at a time). */
  async *allChunks(): AsyncGenerator<Chunk> {
    for (const shard of this.manifestData.shards) {
      for (const chunk of (await this.loadShard(shard)).chunks) yield chunk;
    }
  }

  /** Vectors already stored for the chunks of a file, by chunk id (to reuse unchanged chunks). */
  async vectorsOfFile(relPath: string): Promise<Map<string, number[]>> {
    const entry = this.manifestData.files[relPath];
    const result = new Map<string, number[]>();
    if (!entry || !this.manifestData.embedding) return result;
    const shard = this.manifestData.shards.find((s) => s.name === entry.shard);
    if (!shard) return result;
    const hot = this.writing?.hot;
    if (hot?.dir === shard.dir) {
      for (const id of entry.chunkIds) {
        const v = hot.vectorOf(id);
        if (v) result.set(id, Array.from(v));
      }
      return result;
    }
    const block = await this.vectors(shard);
    if (!block) return result;
    const want = new Set(entry.chunkIds);
    const dim = block.block.dim;
    block.ids.forEach((id, i) => {
      const f = block.block.scales[i]!;
      if (!want.has(id) || !f) return; // a zero scale: not embedded yet
      const v = new Array<number>(dim);
      for (let j = 0; j < dim; j++) v[j] = block.block.data[i * dim + j]! * f;
      result.set(id, v);
    });
    return result;
  }

  /**
   * Applies removals and upserts in one atomic step (the writer's `commit`: new shard versions,
   * dead rows, then the manifest swap). Returns the new generation.
   */
  commit(change: CommitChange): Promise<number> {
    return this.writer().commit(change);
  }

  /**
   * Adds vectors to chunks already in the index (lexical first; the writer's `commitVectors`:
   * only the touched shards' vectors files are written). Atomic like `commit`.
   */
  commitVectors(vectors: ReadonlyMap<string, ArrayLike<number>>): Promise<number> {
    return this.writer().commitVectors(vectors);
  }

  /** The write path, made on first use (a reader never writes); it shares this store's state through `WriterHost`. */
  private writer(): StoreWriter {
    return (this.writing ??= new StoreWriter({
      indexDir: this.indexDir,
      capacity: this.capacity,
      manifest: () => this.manifestData,
      fileTable: () => this.fileTable,
      published: (manifest, fileTable) => {
        this.manifestData = manifest;
        this.fileTable = fileTable;
      },
      lexicalCache: this.lexicalCache,
      vectorCache: this.vectorCache,
      lexical: (shard) => this.lexical(shard),
      vectors: (shard) => this.vectors(shard),
      readChunks: (shard) => this.chunkReader(shard).all(),
      damaged: (shard, what, err) => this.damaged(shard, what, err),
      dropCached: (shards) => this.dropCached(shards),
    }));
  }
}

/** Whether two entries of a shard folder name the same vectors file (sizes and checksums) and the same dead rows. */
function sameShardFiles(a: ShardEntry, b: ShardEntry): boolean {
  const va = a.files?.[VECTORS_FILE];
  const vb = b.files?.[VECTORS_FILE];
  return a.chunks === b.chunks && Boolean(va && vb && va.crc && va.bytes === vb.bytes && va.crc === vb.crc) && (a.dead ?? []).join(',') === (b.dead ?? []).join(',');
}

async function exists(file: string): Promise<boolean> {
  return (await fsp.lstat(file).catch(() => undefined)) !== undefined;
}

const damageSchema = z.object({ dir: z.string().max(255), reason: z.string().max(4000) });

/** The damage record, if there is a valid one (anything else is ignored, and removed by the writer). */
async function readDamage(indexDir: string): Promise<{ dir: string; reason: string } | undefined> {
  try {
    const raw = await readInside(indexDir, [DAMAGE_FILE], { maxBytes: MAX_DAMAGE_BYTES });
    const parsed = damageSchema.safeParse(JSON.parse(raw.toString('utf8')));
    if (!parsed.success) return undefined;
    // The reason is shown to the user: one line, printable.
    // eslint-disable-next-line no-control-regex -- exactly the C0 and C1 control characters
    return { dir: parsed.data.dir, reason: parsed.data.reason.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').slice(0, 500) };
  } catch {
    return undefined;
  }
}

/** Shard entries handed to a view (from another thread) get the manifest's checks. */
function checkViewShards(indexDir: string, shards: readonly ShardEntry[], embedding: EmbeddingInfo | null): void {
  const problem = checkShards(shards, Number.MAX_SAFE_INTEGER, embedding);
  if (problem) throw new SiftError(`The index in ${indexDir} is damaged (${problem}). Run "Sift: Reindex Workspace" (or \`sift index\`) to repair it.`, 'index-corrupt');
}
