import type { Chunk } from '../types';
import type { LexicalDoc } from '../lexical/bm25';
import { type FileEntry, type Manifest, liveChunks } from './manifest';

/** One file's new content, as `IndexStore.commit` takes it. */
export interface FileUpdate {
  path: string;
  entry: Omit<FileEntry, 'shard' | 'chunkIds'>;
  chunks: Chunk[];
  /**
   * One entry per chunk (same order) when the index has embeddings (plain arrays or Float32Array
   * rows); `undefined` for a chunk not embedded yet (lexical first: `commitVectors` adds it later).
   */
  vectors?: (ArrayLike<number> | undefined)[];
  /**
   * The chunks' BM25 documents (same order, `lexicalDoc` of each), when the caller made them
   * already: the indexer makes them while the previous batch embeds, so the commit that ends a run
   * — while the inference worker has nothing to do — does not.
   */
  docs?: LexicalDoc[];
}

export interface CommitChange {
  removed: string[];
  upserted: FileUpdate[];
  /** Files whose content hash is unchanged but whose size/mtime moved: manifest-only update. */
  restat?: { path: string; size: number; mtimeMs: number }[];
}

/**
 * What a commit writes. A shard is written anew only when chunks are added to it (or it is
 * compacted); a shard that only loses files keeps its files on disk and gets their rows marked dead
 * (`ShardEntry.dead`), so a small change costs what it adds, not the size of the shards it touches.
 */
export interface CommitPlan {
  /** Shards written anew: their live rows minus the files in `drop`, then `add`. */
  rewrite: Map<string, { drop: Set<string>; add: FileUpdate[] }>;
  /** Shards kept as written, with the rows of these chunk ids marked dead. */
  kill: Map<string, Set<string>>;
  /** Paths whose file-table entry changed (added, replaced or removed). */
  paths: Set<string>;
}

/** A shard with more dead rows than this share of its rows is rewritten (compacted). */
export const DEAD_SHARE = 1 / 3;

/**
 * Applies a change to `next` (a copy of the manifest: its file table and, for new shards, its
 * shard list) and says which shards to rewrite and which rows to mark dead.
 *
 * Where new chunks go: into a shard this commit rewrites anyway, when one has room; else into the
 * smallest shard with room if rewriting it costs no more than what the commit adds (at least
 * `capacity / 8` rows: small edits share a small shard); else into a new shard. So an edit of one
 * file rewrites a shard of at most ~capacity/8 rows, and a full build still fills shards.
 */
export function planCommit(next: Manifest, change: CommitChange, capacity: number, nextName: () => string): CommitPlan {
  const plan: CommitPlan = { rewrite: new Map(), kill: new Map(), paths: new Set() };
  const live = new Map(next.shards.map((s) => [s.name, liveChunks(s)]));
  const rewrite = (name: string) => {
    let r = plan.rewrite.get(name);
    if (!r) plan.rewrite.set(name, (r = { drop: new Set(), add: [] }));
    return r;
  };
  /** File → (shard, chunk ids) it leaves. */
  const leaving = new Map<string, { shard: string; ids: string[] }>();
  const dropFile = (rel: string) => {
    const old = next.files[rel];
    if (!old) return;
    delete next.files[rel];
    plan.paths.add(rel);
    if (!old.shard) return;
    leaving.set(rel, { shard: old.shard, ids: old.chunkIds });
    live.set(old.shard, (live.get(old.shard) ?? 0) - old.chunkIds.length);
  };
  for (const r of change.restat ?? []) {
    const entry = next.files[r.path];
    if (!entry) continue;
    next.files[r.path] = { ...entry, size: r.size, mtimeMs: r.mtimeMs };
    plan.paths.add(r.path);
  }
  for (const rel of change.removed) dropFile(rel);
  const adding = change.upserted.reduce((n, u) => n + u.chunks.length, 0);
  const small = Math.max(Math.floor(capacity / 8), adding);
  for (const update of change.upserted) {
    dropFile(update.path);
    plan.paths.add(update.path);
    const n = update.chunks.length;
    if (n === 0) {
      // Empty files are remembered (so they are not re-read) but live in no shard.
      next.files[update.path] = { ...update.entry, shard: '', chunkIds: [] };
      continue;
    }
    const fits = (name: string) => (live.get(name) ?? 0) + n <= capacity;
    let shard = [...plan.rewrite.keys()].find(fits);
    if (!shard) {
      let best: string | undefined;
      for (const [name, count] of live) if (fits(name) && count <= small && (best === undefined || count < live.get(best)!)) best = name;
      shard = best;
    }
    if (!shard) {
      shard = nextName();
      live.set(shard, 0);
      next.shards.push({ name: shard, dir: '', chunks: 0, files: { 'chunks.bin': { bytes: 0, crc: 0 }, 'lexical.bin': { bytes: 0, crc: 0 } } });
    }
    live.set(shard, live.get(shard)! + n);
    rewrite(shard).add.push(update);
    next.files[update.path] = { ...update.entry, shard, chunkIds: update.chunks.map((c) => c.id) };
  }
  // Files leaving a shard: dropped by its rewrite, or their rows marked dead. A shard left with
  // too many dead rows is compacted; one left with none live goes.
  for (const [rel, { shard, ids }] of leaving) {
    if (plan.rewrite.has(shard)) {
      rewrite(shard).drop.add(rel);
      continue;
    }
    let k = plan.kill.get(shard);
    if (!k) plan.kill.set(shard, (k = new Set()));
    for (const id of ids) k.add(id);
  }
  for (const [name, ids] of plan.kill) {
    const s = next.shards.find((x) => x.name === name)!;
    const dead = (s.dead?.length ?? 0) + ids.size;
    if (dead < s.chunks && dead <= s.chunks * DEAD_SHARE) continue;
    plan.kill.delete(name);
    const r = rewrite(name);
    for (const [rel, l] of leaving) if (l.shard === name) r.drop.add(rel);
  }
  return plan;
}

/** The next free shard name after the given ones ("s0000", "s0001", …). */
export function nextShardName(existing: Iterable<string>): string {
  let max = -1;
  for (const name of existing) max = Math.max(max, Number.parseInt(name.slice(1), 10));
  return `s${String(max + 1).padStart(4, '0')}`;
}
