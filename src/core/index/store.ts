import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { LocalIndex } from 'vectra/lib/LocalIndex';
import { buildLexicalIndex, loadLexicalIndex, serializeLexicalIndex } from '../retrieval/lexical';
import type { Chunk } from '../types';
import { SiftError, errorMessage } from '../util/errors';
import { directorySize, fsyncDir, writeFileAtomic } from '../util/fs';
import { LockedError, acquireLock } from '../util/lock';
import {
  type ChunkerInfo,
  type EmbeddingInfo,
  type FileEntry,
  type Manifest,
  type ShardEntry,
  MANIFEST_FILE,
  emptyManifest,
  incompatibility,
  readManifest,
} from './manifest';

/**
 * The on-disk index of one workspace folder.
 *
 * Layout (all under `indexDir`, never inside the user's repository):
 *   manifest.json            the only mutable file; replaced atomically (temp + rename)
 *   shards/<name>.g<gen>/    immutable shard versions: chunks.json (+ vectra's index.json when embedded)
 *
 * vectra keeps a whole index in one JSON string and scans all ids on insert, so it cannot hold
 * 100k items. Chunks are therefore spread over bounded shards (one vectra index each), all chunks
 * of one file in the same shard. A commit writes new versions of the shards it touches into fresh
 * directories, then swaps the manifest; old versions are deleted only after the swap. A process
 * killed at any moment leaves the previous manifest pointing at intact shard directories.
 */
export const SHARD_CAPACITY = 4000;
const SHARDS_DIR = 'shards';
const CHUNKS_FILE = 'chunks.json';
const LOCK_FILE = 'writer.lock';
const LEXICAL_FILE = 'lexical.json';

export type LexicalIndex = ReturnType<typeof loadLexicalIndex>;

export interface ShardData {
  chunks: Chunk[];
  /** chunk id → vector (absent in lexical-only indexes). */
  vectors: Map<string, number[]>;
}

export interface FileUpdate {
  path: string;
  entry: Omit<FileEntry, 'shard' | 'chunkIds'>;
  chunks: Chunk[];
  /** One vector per chunk (same order) when the index has embeddings. */
  vectors?: number[][];
}

export interface OpenOptions {
  root: string;
  embedding: EmbeddingInfo | null;
  chunker: ChunkerInfo;
  /** Hold an exclusive lock (for writers). Readers do not need it. */
  lock?: boolean;
  shardCapacity?: number;
}

export interface OpenResult {
  store: IndexStore;
  /** Set when an existing index could not be reused and a rebuild starts: says why. */
  rebuildReason?: string;
}

export class IndexStore {
  private shardCache = new Map<string, ShardData>();
  private vectraCache = new Map<string, LocalIndex>();
  private lexicalCache = new Map<string, LexicalIndex>();
  private releaseLock?: () => Promise<void>;

  private constructor(
    readonly indexDir: string,
    private manifestData: Manifest,
    private readonly capacity: number,
  ) {}

  /**
   * Opens (or starts) the index in `indexDir`. A missing, corrupt, version-mismatched or
   * incompatible (other model / chunker) index is not an error: an empty manifest is used and
   * `rebuildReason` says why. Nothing on disk changes until the first commit.
   */
  static async open(indexDir: string, opts: OpenOptions): Promise<OpenResult> {
    await fsp.mkdir(path.join(indexDir, SHARDS_DIR), { recursive: true });
    let release: (() => Promise<void>) | undefined;
    if (opts.lock) {
      try {
        release = await acquireLock(path.join(indexDir, LOCK_FILE));
      } catch (err) {
        if (err instanceof LockedError) {
          throw new SiftError(
            `Another Sift process (pid ${err.owner.pid}) is updating the index in ${indexDir}. Wait for it to finish (or close the other window) and retry.`,
            'index-locked',
          );
        }
        throw new SiftError(`Cannot lock the index directory ${indexDir}: ${errorMessage(err)}`, 'io', { cause: err });
      }
    }
    const loaded = await readManifest(indexDir);
    let manifest: Manifest;
    let rebuildReason: string | undefined;
    if (loaded.kind === 'ok') {
      const why = incompatibility(loaded.manifest, opts.embedding, opts.chunker);
      if (why) {
        rebuildReason = `Rebuilding the index: ${why}.`;
        manifest = emptyManifest(opts.root, opts.embedding, opts.chunker);
        manifest.generation = loaded.manifest.generation;
      } else {
        manifest = loaded.manifest;
      }
    } else {
      if (loaded.kind === 'invalid') rebuildReason = `Rebuilding the index: the existing one is unusable (${loaded.reason}).`;
      manifest = emptyManifest(opts.root, opts.embedding, opts.chunker);
    }
    const store = new IndexStore(indexDir, manifest, opts.shardCapacity ?? SHARD_CAPACITY);
    store.releaseLock = release;
    if (release && !rebuildReason) await store.collectGarbage();
    return { store, rebuildReason };
  }

  /** Opens an existing index read-only, or returns the reason it cannot be used. */
  static async openForRead(indexDir: string): Promise<{ store?: IndexStore; problem?: string }> {
    const loaded = await readManifest(indexDir);
    if (loaded.kind === 'missing') return { problem: 'no index yet' };
    if (loaded.kind === 'invalid') return { problem: loaded.reason };
    return { store: new IndexStore(indexDir, loaded.manifest, SHARD_CAPACITY) };
  }

  get manifest(): Readonly<Manifest> {
    return this.manifestData;
  }

  get chunkCount(): number {
    return this.manifestData.shards.reduce((n, s) => n + s.chunks, 0);
  }

  file(relPath: string): FileEntry | undefined {
    return this.manifestData.files[relPath];
  }

  async close(): Promise<void> {
    this.shardCache.clear();
    this.vectraCache.clear();
    this.lexicalCache.clear();
    const release = this.releaseLock;
    this.releaseLock = undefined;
    if (release) await release().catch(() => undefined);
  }

  async diskSize(): Promise<number> {
    return directorySize(this.indexDir);
  }

  async loadShard(shard: ShardEntry): Promise<ShardData> {
    const cached = this.shardCache.get(shard.dir);
    if (cached) return cached;
    const dir = path.join(this.indexDir, SHARDS_DIR, shard.dir);
    const chunks = JSON.parse(await fsp.readFile(path.join(dir, CHUNKS_FILE), 'utf8')) as Chunk[];
    const vectors = new Map<string, number[]>();
    if (this.manifestData.embedding) {
      const items = await this.vectraIndex(shard).listItems();
      for (const item of items) vectors.set(item.id, item.vector);
    }
    const data = { chunks, vectors };
    this.shardCache.set(shard.dir, data);
    return data;
  }

  /** All chunks of the index (loads every shard). */
  async *allChunks(): AsyncGenerator<Chunk> {
    for (const shard of this.manifestData.shards) {
      for (const chunk of (await this.loadShard(shard)).chunks) yield chunk;
    }
  }

  /** The vectra index of a shard (for dense queries). */
  vectraIndex(shard: ShardEntry): LocalIndex {
    let index = this.vectraCache.get(shard.dir);
    if (!index) {
      index = new LocalIndex(path.join(this.indexDir, SHARDS_DIR, shard.dir));
      this.vectraCache.set(shard.dir, index);
    }
    return index;
  }

  /** The BM25 index of a shard. */
  async lexicalIndex(shard: ShardEntry): Promise<LexicalIndex> {
    let index = this.lexicalCache.get(shard.dir);
    if (!index) {
      index = loadLexicalIndex(await fsp.readFile(path.join(this.indexDir, SHARDS_DIR, shard.dir, LEXICAL_FILE), 'utf8'));
      this.lexicalCache.set(shard.dir, index);
    }
    return index;
  }

  /** Vectors already stored for the chunks of a file, by chunk id (to reuse unchanged chunks). */
  async vectorsOfFile(relPath: string): Promise<Map<string, number[]>> {
    const entry = this.manifestData.files[relPath];
    const result = new Map<string, number[]>();
    if (!entry || !this.manifestData.embedding) return result;
    const shard = this.manifestData.shards.find((s) => s.name === entry.shard);
    if (!shard) return result;
    const data = await this.loadShard(shard);
    for (const id of entry.chunkIds) {
      const v = data.vectors.get(id);
      if (v) result.set(id, v);
    }
    return result;
  }

  /**
   * Applies removals and upserts in one atomic step: new versions of the touched shards are
   * written to fresh directories, then the manifest is swapped. Returns the new generation.
   */
  async commit(change: {
    removed: string[];
    upserted: FileUpdate[];
    /** Files whose content hash is unchanged but whose size/mtime moved: manifest-only update. */
    restat?: { path: string; size: number; mtimeMs: number }[];
  }): Promise<number> {
    const next: Manifest = structuredClone(this.manifestData);
    next.generation += 1;
    next.updatedAt = new Date().toISOString();
    for (const r of change.restat ?? []) {
      const entry = next.files[r.path];
      if (entry) Object.assign(entry, { size: r.size, mtimeMs: r.mtimeMs });
    }
    const touched = new Map<string, { removeFiles: Set<string>; add: FileUpdate[] }>();
    const touch = (name: string) => {
      let t = touched.get(name);
      if (!t) touched.set(name, (t = { removeFiles: new Set(), add: [] }));
      return t;
    };
    const counts = new Map(next.shards.map((s) => [s.name, s.chunks]));
    const dropFile = (rel: string) => {
      const old = next.files[rel];
      if (!old) return;
      delete next.files[rel];
      if (!old.shard) return;
      touch(old.shard).removeFiles.add(rel);
      counts.set(old.shard, (counts.get(old.shard) ?? 0) - old.chunkIds.length);
    };
    for (const rel of change.removed) dropFile(rel);
    for (const update of change.upserted) {
      if (this.manifestData.embedding && (!update.vectors || update.vectors.length !== update.chunks.length)) {
        throw new SiftError(`internal: ${update.path} has ${update.chunks.length} chunks but no matching vectors`);
      }
      const previous = next.files[update.path]?.shard;
      dropFile(update.path);
      if (update.chunks.length === 0) {
        // Empty files are remembered (so they are not re-read) but live in no shard.
        next.files[update.path] = { ...update.entry, shard: '', chunkIds: [] };
        continue;
      }
      // Keep a file in its shard when it still fits, so an edit rewrites one shard only.
      let shard = previous && (counts.get(previous) ?? 0) + update.chunks.length <= this.capacity ? previous : undefined;
      shard ??= [...counts.entries()].find(([, n]) => n + update.chunks.length <= this.capacity)?.[0];
      if (!shard) {
        shard = nextShardName(counts.keys());
        counts.set(shard, 0);
      }
      counts.set(shard, (counts.get(shard) ?? 0) + update.chunks.length);
      touch(shard).add.push(update);
      next.files[update.path] = {
        ...update.entry,
        shard,
        chunkIds: update.chunks.map((c) => c.id),
      };
    }

    const written: string[] = [];
    try {
      for (const [name, t] of touched) {
        const old = next.shards.find((s) => s.name === name);
        const chunks: Chunk[] = [];
        const vectors = new Map<string, number[]>();
        if (old) {
          const data = await this.loadShard(old);
          for (const c of data.chunks) {
            if (t.removeFiles.has(c.path)) continue;
            chunks.push(c);
            const v = data.vectors.get(c.id);
            if (v) vectors.set(c.id, v);
          }
        }
        for (const u of t.add) {
          u.chunks.forEach((c, i) => {
            chunks.push(c);
            if (u.vectors) vectors.set(c.id, u.vectors[i]!);
          });
        }
        const dir = `${name}.g${next.generation}`;
        written.push(dir);
        await this.writeShard(dir, chunks, vectors);
        const entry: ShardEntry = { name, dir, chunks: chunks.length };
        if (old) Object.assign(old, entry);
        else next.shards.push(entry);
      }
      next.shards = next.shards.filter((s) => s.chunks > 0);
      // Files whose shard became empty were removed above, so no file points at a dropped shard.
      await writeFileAtomic(path.join(this.indexDir, MANIFEST_FILE), JSON.stringify(next));
    } catch (err) {
      for (const dir of written) await fsp.rm(path.join(this.indexDir, SHARDS_DIR, dir), { recursive: true, force: true }).catch(() => undefined);
      throw new SiftError(
        `Could not write the index in ${this.indexDir} (${errorMessage(err)}). The previous index is intact.`,
        'io',
        { cause: err },
      );
    }
    this.manifestData = next;
    await this.collectGarbage();
    return next.generation;
  }

  private async writeShard(dir: string, chunks: Chunk[], vectors: Map<string, number[]>): Promise<void> {
    const full = path.join(this.indexDir, SHARDS_DIR, dir);
    await fsp.rm(full, { recursive: true, force: true });
    await fsp.mkdir(full, { recursive: true });
    const chunksFile = path.join(full, CHUNKS_FILE);
    await fsp.writeFile(chunksFile, JSON.stringify(chunks));
    await syncFile(chunksFile);
    const lexical = buildLexicalIndex(chunks);
    const lexicalFile = path.join(full, LEXICAL_FILE);
    await fsp.writeFile(lexicalFile, serializeLexicalIndex(lexical));
    await syncFile(lexicalFile);
    this.lexicalCache.set(dir, lexical);
    if (this.manifestData.embedding) {
      const index = new LocalIndex(full);
      await index.createIndex({ version: 1 });
      await index.beginUpdate();
      for (const c of chunks) {
        const exact = vectors.get(c.id);
        if (!exact) throw new SiftError(`internal: no vector for chunk ${c.id} of ${c.path}`);
        const vector = roundVector(exact);
        vectors.set(c.id, vector);
        await index.insertItem({ id: c.id, vector, metadata: {} });
      }
      await index.endUpdate();
      await syncFile(path.join(full, 'index.json'));
    }
    await fsyncDir(full);
    this.shardCache.set(dir, { chunks, vectors });
  }

  /** Deletes shard directories the manifest does not reference (left by older commits or crashes). */
  private async collectGarbage(): Promise<void> {
    const live = new Set(this.manifestData.shards.map((s) => s.dir));
    const shardsDir = path.join(this.indexDir, SHARDS_DIR);
    const entries = await fsp.readdir(shardsDir).catch(() => [] as string[]);
    for (const name of entries) {
      if (live.has(name)) continue;
      await fsp.rm(path.join(shardsDir, name), { recursive: true, force: true }).catch(() => undefined);
      this.shardCache.delete(name);
      this.vectraCache.delete(name);
      this.lexicalCache.delete(name);
    }
    for (const name of await fsp.readdir(this.indexDir).catch(() => [] as string[])) {
      if (name.endsWith('.tmp') && name.startsWith('.')) await fsp.rm(path.join(this.indexDir, name), { force: true }).catch(() => undefined);
    }
  }
}

/**
 * vectra stores vectors as JSON text: a float64 printed in full takes ~20 bytes, so a 384-dim
 * vector is ~8 KB on disk and parsed back slowly. Components of a unit vector rounded to
 * `VECTOR_DECIMALS` places (|error| ≤ 5e-5 each, cosine error ~1e-5 at 384 dims: far below the
 * gaps between neighbours' scores) print in ~7 bytes. Already-rounded vectors are unchanged, so
 * vectors reused from an older shard version round-trip exactly.
 */
export const VECTOR_DECIMALS = 4;
const VECTOR_SCALE = 10 ** VECTOR_DECIMALS;

export function roundVector(v: readonly number[]): number[] {
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Math.round(v[i]! * VECTOR_SCALE) / VECTOR_SCALE;
  return out;
}

function nextShardName(existing: Iterable<string>): string {
  let max = -1;
  for (const name of existing) max = Math.max(max, Number.parseInt(name.slice(1), 10));
  return `s${String(max + 1).padStart(4, '0')}`;
}

async function syncFile(file: string): Promise<void> {
  const handle = await fsp.open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
