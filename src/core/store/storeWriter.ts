import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { type Bm25Index, type LexicalDoc, buildBm25 } from '../lexical/bm25';
import { lexicalDocs } from '../lexical/lexical';
import type { Chunk } from '../types';
import { SiftError, errorMessage } from '../util/errors';
import { fsyncDir } from '../util/fs';
import { TimeSlicer } from '../util/slice';
import { PRIVATE_DIR_MODE, writePrivateFile, writePrivateFileAtomic } from '../util/privateFs';
import { encodeChunkBlocks } from './chunkBlocks';
import { type CommitChange, nextShardName, planCommit } from './commitPlan';
import { type FileEntry, type Manifest, type ManifestOnDisk, type ShardEntry, MANIFEST_FILE, liveChunks } from './manifest';
import { type ShardVectors, VECTORS_FILE, encodeItems, readShardVectors } from './shardVectors';
import {
  type FileTableFiles,
  type VectorLookup,
  CHUNKS_FILE,
  DAMAGE_FILE,
  LEXICAL_FILE,
  SHARDS_DIR,
  cacheKey,
  crc32,
  lexicalKey,
  shardPath,
  vectorLookup,
} from './layout';

/**
 * What the writer uses of the store it writes for (IndexStore): the manifest and file table it
 * reads now (replaced by `published` after each commit), and its reader — shard loads that record
 * damage, and the caches a commit keeps warm or trims.
 */
export interface WriterHost {
  readonly indexDir: string;
  /** Rows a shard holds at most. */
  readonly capacity: number;
  manifest(): Manifest;
  fileTable(): FileTableFiles;
  /** A commit's manifest is on disk: the store reads it (and its file table) from now on. */
  published(manifest: Manifest, fileTable: FileTableFiles): void;
  /** Loaded keyword indexes and vectors, by `lexicalKey` and `cacheKey`. */
  readonly lexicalCache: Map<string, Promise<Bm25Index>>;
  readonly vectorCache: Map<string, Promise<ShardVectors | undefined>>;
  lexical(shard: ShardEntry): Promise<Bm25Index>;
  vectors(shard: ShardEntry): Promise<ShardVectors | undefined>;
  /** Every chunk of a shard (errors as thrown: the caller says what is damaged). */
  readChunks(shard: ShardEntry): Promise<Chunk[]>;
  damaged(shard: ShardEntry, what: string, err: unknown): Promise<SiftError>;
  /** Drops what is loaded for shard versions not in `shards`. */
  dropCached(shards: readonly ShardEntry[]): void;
}

/** The shard a writer wrote last, as the next commit starts from. */
export interface HotShard {
  dir: string;
  chunks: Chunk[];
  docs: LexicalDoc[];
  vectorOf: VectorLookup;
}

/**
 * The write path of an index (see IndexStore for the layout): commits write new shard versions,
 * then the file table, then the manifest (the atomic swap), then delete what no manifest a reader
 * may hold still names. It lives as long as the store that writes; the store reads.
 */
export class StoreWriter {
  /** The writer's last written shard, kept for the next commit (it usually touches it again). */
  hot?: HotShard;
  /** This writer is rebuilding because of a damage record: the first commit removes it. */
  clearDamage = false;
  /** Shard folders the previous commit referenced (kept one more commit for readers of that manifest). */
  private previousLive: ReadonlySet<string> = new Set();
  /** File-table files the previous commit's manifest named (kept one more commit too, for its readers). */
  private previousTables: ReadonlySet<string> = new Set();

  constructor(private readonly host: WriterHost) {}

  /**
   * The store closes: the shards and file tables kept for readers of the previous manifest go too
   * (a reader still on it gets `index-changed` and reopens).
   */
  async dropPrevious(): Promise<void> {
    if (!this.previousLive.size && !this.previousTables.size) return;
    this.previousLive = new Set();
    this.previousTables = new Set();
    await this.collectGarbage().catch(() => undefined);
  }

  /**
   * Applies removals and upserts in one atomic step: new versions of the shards that get chunks
   * are written to fresh directories, rows of files that left a shard are marked dead in the
   * manifest (see `planCommit`), then the manifest is swapped. Returns the new generation.
   */
  async commit(change: CommitChange): Promise<number> {
    for (const update of change.upserted) {
      if (this.host.manifest().embedding && (!update.vectors || update.vectors.length !== update.chunks.length)) {
        throw new SiftError(`internal: ${update.path} has ${update.chunks.length} chunks but no matching vectors`);
      }
      if (update.docs && update.docs.length !== update.chunks.length) {
        throw new SiftError(`internal: ${update.path} has ${update.chunks.length} chunks but ${update.docs.length} BM25 documents`);
      }
    }
    const next = this.nextManifest();
    const plan = planCommit(next, change, this.host.capacity, () => nextShardName(next.shards.map((s) => s.name)));
    return this.publish(next, plan.paths, async (slicer, write) => {
      for (const [name, ids] of plan.kill) {
        const s = next.shards.find((x) => x.name === name)!;
        Object.assign(s, await this.markDead(s, ids));
      }
      for (const [name, t] of plan.rewrite) {
        const s = next.shards.find((x) => x.name === name)!;
        const chunks: Chunk[] = [];
        const docs: LexicalDoc[] = [];
        const added = new Map<string, ArrayLike<number>>();
        let previousVector: VectorLookup | undefined;
        if (s.dir) {
          const previous = await this.shardForRewrite(s, slicer);
          previousVector = previous.vectorOf;
          previous.chunks.forEach((c, i) => {
            if (previous.dead.has(i) || t.drop.has(c.path)) return;
            chunks.push(c);
            docs.push(previous.docs[i]!);
          });
        }
        for (const u of t.add) {
          const made = u.docs ?? lexicalDocs(u.chunks);
          for (let i = 0; i < u.chunks.length; i++) {
            if (slicer.due()) await slicer.pause();
            const c = u.chunks[i]!;
            chunks.push(c);
            docs.push(made[i]!);
            const v = u.vectors?.[i];
            if (v) added.set(c.id, v);
          }
        }
        await write(s, chunks, docs, (id) => added.get(id) ?? previousVector?.(id));
      }
    });
  }

  /**
   * Adds vectors to chunks already in the index (lexical first: embedding catches up after the
   * keyword pass). Only the shards holding those chunks get a new version, and only its vectors
   * file is written: the chunk and BM25 files are hard links to the previous version's (same rows,
   * same dead rows; rows keep their numbers). Ids no longer in the index (the file changed
   * meanwhile) are ignored. Atomic like `commit`.
   */
  async commitVectors(vectors: ReadonlyMap<string, ArrayLike<number>>): Promise<number> {
    const embedding = this.host.manifest().embedding;
    if (!embedding) throw new SiftError('internal: vectors for a lexical-only index');
    for (const [id, v] of vectors) {
      if (v.length !== embedding.dim) throw new SiftError(`The vector of chunk ${id} has ${v.length} dimensions; the index has ${embedding.dim}. Nothing was written.`, 'bad-input');
    }
    const touched = new Set<string>();
    for (const entry of Object.values(this.host.manifest().files)) {
      if (entry.shard && entry.chunkIds.some((id) => vectors.has(id))) touched.add(entry.shard);
    }
    if (!touched.size) return this.host.manifest().generation;
    const next = this.nextManifest();
    return this.publish(next, new Set(), async (slicer, _write, track) => {
      for (const s of next.shards) {
        if (!touched.has(s.name)) continue;
        // Only vectors changed: the new version links the shard's chunk and keyword files
        // (immutable, same rows, same dead rows) and writes a new vectors file beside them.
        const old = await this.host.vectors(s);
        if (!old) throw await this.host.damaged(s, 'the vectors', new Error('missing'));
        const before = vectorLookup(old);
        const dir = `${s.name}.g${next.generation}`;
        track(dir);
        const full = shardPath(this.host.indexDir, dir);
        await fsp.rm(full, { recursive: true, force: true });
        await fsp.mkdir(full, { mode: PRIVATE_DIR_MODE });
        if (process.platform !== 'win32') await fsp.chmod(full, PRIVATE_DIR_MODE);
        for (const name of [CHUNKS_FILE, LEXICAL_FILE]) await linkOrCopy(shardPath(this.host.indexDir, s, name), path.join(full, name));
        const vectorOf: VectorLookup = (id) => vectors.get(id) ?? before(id);
        // Encoded straight to the vectra file format (no item-by-item update: a shard is thousands of rows).
        const dim = this.host.manifest().embedding!.dim;
        const zero = new Float32Array(dim);
        const items = old.ids.map((id) => ({ id, vector: vectorOf(id) ?? zero }));
        const bytes = await encodeItems(items, async () => {
          if (slicer.due()) await slicer.pause();
        });
        await writePrivateFile(path.join(full, VECTORS_FILE), bytes, { sync: true });
        const written = { bytes: bytes.byteLength, crc: crc32 ? crc32(bytes) : 0 };
        await fsyncDir(full);
        const dead = new Set(s.dead);
        const stored = await readShardVectors(full, undefined, { rows: old.ids.length });
        let embedded = 0;
        old.ids.forEach((_, row) => {
          if (!dead.has(row) && stored.block.scales[row]) embedded++;
        });
        // The keyword index loaded for the old version serves the new one (same bytes, same dead rows).
        const lexical = this.host.lexicalCache.get(lexicalKey(s));
        const hot = this.hot?.dir === s.dir ? this.hot : undefined;
        delete s.embedded;
        Object.assign(s, { dir, files: { ...s.files, [VECTORS_FILE]: { bytes: written.bytes, crc: written.crc } } }, embedded < liveChunks(s) ? { embedded } : {});
        if (lexical) this.host.lexicalCache.set(lexicalKey(s), lexical);
        // And what was just written is what a reader would load (dead rows scan as unembedded).
        for (const row of dead) stored.block.scales[row] = 0;
        this.host.vectorCache.set(cacheKey(s), Promise.resolve(stored));
        if (hot) this.hot = { ...hot, dir, vectorOf: vectorLookup(stored) };
      }
    });
  }

  /** A copy of the manifest for the next commit (entries are replaced, never changed in place). */
  private nextManifest(): Manifest {
    const m = this.host.manifest();
    return { ...m, generation: m.generation + 1, updatedAt: new Date().toISOString(), files: { ...m.files }, shards: m.shards.map((s) => ({ ...s })) };
  }

  /**
   * The one way a commit reaches the disk: `work` writes the new shard versions (through `write`,
   * which updates their entries in `next`), then the file table (only the entries of `paths`, as a
   * delta, while that stays small) and the manifest naming them (the atomic swap). On any failure
   * what was written is removed and the previous index is intact.
   */
  private async publish(
    next: Manifest,
    paths: ReadonlySet<string>,
    work: (
      slicer: TimeSlicer,
      write: (s: ShardEntry, chunks: Chunk[], docs: LexicalDoc[], vectorOf: VectorLookup) => Promise<void>,
      track: (dir: string) => void,
    ) => Promise<void>,
  ): Promise<number> {
    const written: string[] = [];
    const slicer = new TimeSlicer();
    let table = this.host.fileTable();
    try {
      await work(slicer, async (s, chunks, docs, vectorOf) => {
        delete s.dead;
        delete s.embedded;
        if (!chunks.length) {
          Object.assign(s, { chunks: 0 });
          return;
        }
        const dir = `${s.name}.g${next.generation}`;
        written.push(dir);
        const { files, embedded } = await this.writeShard(dir, chunks, docs, vectorOf, slicer);
        Object.assign(s, { dir, chunks: chunks.length, files }, this.host.manifest().embedding && embedded < chunks.length ? { embedded } : {});
      }, (dir) => written.push(dir));
      next.shards = next.shards.filter((s) => liveChunks(s) > 0);
      // Files whose shard became empty were removed, so no file points at a dropped shard.
      // The file table first, under a new name; then the manifest that names it (the atomic swap).
      table = await this.writeFileTable(next, paths);
      const { files: _files, ...head } = next;
      const onDisk: ManifestOnDisk = { ...head, filesFile: table.base, ...(table.delta.size ? { filesDelta: table.deltaFile } : {}) };
      await writePrivateFileAtomic(path.join(this.host.indexDir, MANIFEST_FILE), JSON.stringify(onDisk));
    } catch (err) {
      this.hot = undefined;
      for (const dir of written) await fsp.rm(path.join(this.host.indexDir, SHARDS_DIR, dir), { recursive: true, force: true }).catch(() => undefined);
      // A shard found damaged while building on it: the caller rebuilds (see indexWorkspace).
      if (err instanceof SiftError && err.code === 'index-corrupt') throw err;
      throw new SiftError(`Could not write the index in ${this.host.indexDir} (${errorMessage(err)}). The previous index is intact.`, 'io', { cause: err });
    }
    this.host.published(next, table);
    if (this.clearDamage) {
      await fsp.rm(path.join(this.host.indexDir, DAMAGE_FILE), { force: true }).catch(() => undefined);
      this.clearDamage = false;
    }
    await this.collectGarbage();
    return next.generation;
  }

  /**
   * Writes what the file table needs for `next`: when the entries changed since the full table
   * was written stay few (≤ 1/16 of the files, at least 64), only those, as a delta file; else
   * the whole table. Nothing when no entry changed (the manifest names the same files).
   */
  private async writeFileTable(next: Manifest, paths: ReadonlySet<string>): Promise<FileTableFiles> {
    const current = this.host.fileTable();
    if (current.base && !paths.size) return current;
    const delta = new Set(current.delta);
    for (const p of paths) delta.add(p);
    const fileCount = Object.keys(next.files).length;
    if (current.base && delta.size <= Math.max(64, fileCount / 16)) {
      const entries: Record<string, FileEntry | null> = {};
      for (const p of delta) Object.defineProperty(entries, p, { value: next.files[p] ?? null, enumerable: true });
      const deltaFile = `files.g${next.generation}.delta.json`;
      await writePrivateFileAtomic(path.join(this.host.indexDir, deltaFile), JSON.stringify(entries));
      return { base: current.base, delta, deltaFile };
    }
    const base = `files.g${next.generation}.json`;
    await writePrivateFileAtomic(path.join(this.host.indexDir, base), JSON.stringify(next.files));
    return { base, delta: new Set() };
  }

  /**
   * The entry of a shard kept as written, with the rows of `ids` marked dead (found by id in its
   * BM25 file: no chunk is read). With vectors, `embedded` then counts the live embedded rows.
   */
  private async markDead(s: ShardEntry, ids: ReadonlySet<string>): Promise<Pick<ShardEntry, 'dead' | 'embedded'>> {
    const dead = new Set(s.dead);
    const rows = (await this.host.lexical(s)).ids();
    let found = 0;
    rows.forEach((id, row) => {
      if (!ids.has(id) || dead.has(row)) return;
      dead.add(row);
      found++;
    });
    if (found !== ids.size) throw await this.host.damaged(s, 'the keyword index', new Error(`${ids.size - found} of the chunks the file table places in it are missing`));
    const out: Pick<ShardEntry, 'dead' | 'embedded'> = { dead: [...dead].sort((a, b) => a - b) };
    if (this.host.manifest().embedding) {
      const block = await this.host.vectors(s);
      let embedded = 0;
      rows.forEach((_, row) => {
        if (!dead.has(row) && block?.block.scales[row]) embedded++;
      });
      out.embedded = embedded;
    }
    return out;
  }
  /** A shard's chunks with their BM25 documents and vectors, as the next version starts from. */
  private async shardForRewrite(shard: ShardEntry, slicer: TimeSlicer): Promise<{ chunks: Chunk[]; docs: LexicalDoc[]; vectorOf: VectorLookup; dead: ReadonlySet<number> }> {
    const dead = new Set(shard.dead);
    if (this.hot?.dir === shard.dir) return { ...this.hot, dead };
    let chunks: Chunk[];
    try {
      chunks = await this.host.readChunks(shard);
    } catch (err) {
      throw await this.host.damaged(shard, 'the chunk file', err);
    }
    // The BM25 documents come back from the postings: unchanged chunks are not tokenised again.
    const docs = await (await this.host.lexical(shard)).documents(slicer);
    if (docs.length !== chunks.length || chunks.length !== shard.chunks) throw await this.host.damaged(shard, 'the keyword index', new Error('row counts differ'));
    const block = await this.host.vectors(shard);
    return { chunks, docs, vectorOf: block ? vectorLookup(block) : () => undefined, dead };
  }

  private async writeShard(
    dir: string,
    chunks: Chunk[],
    docs: LexicalDoc[],
    vectorOf: VectorLookup,
    slicer: TimeSlicer,
  ): Promise<{ files: Record<string, { bytes: number; crc: number }>; embedded: number }> {
    const full = shardPath(this.host.indexDir, dir);
    let embedded = 0;
    await fsp.rm(full, { recursive: true, force: true });
    await fsp.mkdir(full, { mode: PRIVATE_DIR_MODE });
    if (process.platform !== 'win32') await fsp.chmod(full, PRIVATE_DIR_MODE);
    const files: Record<string, { bytes: number; crc: number }> = {};
    const put = async (name: string, bytes: Uint8Array) => {
      await writePrivateFile(path.join(full, name), bytes, { sync: true });
      files[name] = { bytes: bytes.byteLength, crc: crc32 ? crc32(bytes) : 0 };
    };
    await put(CHUNKS_FILE, await encodeChunkBlocks(chunks));
    await put(LEXICAL_FILE, await buildBm25(docs, slicer));
    if (this.host.manifest().embedding) {
      const written = await this.writeVectors(full, chunks.map((c) => c.id), vectorOf, slicer);
      files[VECTORS_FILE] = { bytes: written.bytes, crc: written.crc };
      embedded = written.embedded;
    }
    await fsyncDir(full);
    // What a reader will decode (the stored, quantised directions), for the next commit.
    const stored = this.host.manifest().embedding ? vectorLookup(await readShardVectors(full, undefined, { rows: chunks.length })) : () => undefined;
    this.hot = { dir, chunks, docs, vectorOf: stored };
    return { files, embedded };
  }

  /**
   * Writes a shard folder's vectors file, one row per id (a chunk not embedded yet as a zero
   * vector), encoded straight to the vectra file format as `commitVectors` does: vectra's
   * item-by-item update API cost ~1.4 s of a 2 000-file keyword pass, all of it zero vectors.
   */
  private async writeVectors(full: string, ids: readonly string[], vectorOf: VectorLookup, slicer: TimeSlicer): Promise<{ bytes: number; crc: number; embedded: number }> {
    const dim = this.host.manifest().embedding!.dim;
    let embedded = 0;
    const zero = new Float32Array(dim);
    const items: { id: string; vector: ArrayLike<number> }[] = [];
    for (const id of ids) {
      if (slicer.due()) await slicer.pause();
      // A chunk not embedded yet is stored as a zero vector (scale 0): dense search skips it.
      const vector = vectorOf(id) ?? zero;
      if (vector.length !== dim) throw new SiftError(`internal: the vector of chunk ${id} has ${vector.length} dimensions, the index ${dim}`);
      if (vector !== zero && isNonZero(vector)) embedded++;
      items.push({ id, vector });
    }
    const bytes = await encodeItems(items, async () => {
      if (slicer.due()) await slicer.pause();
    });
    await writePrivateFile(path.join(full, VECTORS_FILE), bytes, { sync: true });
    return { bytes: bytes.byteLength, crc: crc32 ? crc32(bytes) : 0, embedded };
  }

  /** Deletes shard directories the manifest does not reference (left by older commits or crashes). */
  async collectGarbage(): Promise<void> {
    const live = new Set(this.host.manifest().shards.map((s) => s.dir));
    // Shards the previous commit referenced stay one more commit: a reader that opened that
    // manifest (a question asked while the dense pass commits) can still read them.
    const keep = new Set([...live, ...this.previousLive]);
    this.previousLive = live;
    // So do its file-table files: a reader of that manifest that has not read its table yet still finds it.
    const { base, deltaFile } = this.host.fileTable();
    const current = [base, deltaFile].filter((t): t is string => Boolean(t));
    const tables = new Set([...current, ...this.previousTables]);
    this.previousTables = new Set(current);
    const shardsDir = path.join(this.host.indexDir, SHARDS_DIR);
    const entries = await fsp.readdir(shardsDir).catch(() => [] as string[]);
    for (const name of entries) {
      if (keep.has(name)) continue;
      await fsp.rm(path.join(shardsDir, name), { recursive: true, force: true }).catch(() => undefined);
    }
    this.host.dropCached(this.host.manifest().shards);
    if (this.hot && !live.has(this.hot.dir)) this.hot = undefined;
    for (const name of await fsp.readdir(this.host.indexDir).catch(() => [] as string[])) {
      const stale = (name.endsWith('.tmp') && name.startsWith('.')) || (/^files\.g\d+(\.delta)?\.json$/.test(name) && !tables.has(name));
      if (stale) await fsp.rm(path.join(this.host.indexDir, name), { force: true }).catch(() => undefined);
    }
  }
}

function isNonZero(v: ArrayLike<number>): boolean {
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) return true;
  return false;
}

/**
 * A file of the previous shard version in the new one: a hard link (shard files are never written
 * in place, and deleting the old folder only drops its name), or a copy where links are not possible.
 */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await fsp.link(from, to);
  } catch {
    await fsp.copyFile(from, to, fsp.constants?.COPYFILE_EXCL ?? 0);
    await syncFile(to);
  }
}

async function syncFile(file: string): Promise<void> {
  const handle = await fsp.open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
