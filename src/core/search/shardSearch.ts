import type { EmbeddingInfo, ShardEntry } from '../store/manifest';
import type { IndexStore } from '../store/store';
import { topK } from '../store/vectorKernel';
import { searchLexical } from '../lexical/lexical';
import { type Bm25Stats, mergeBm25Stats } from '../lexical/bm25';
import { TimeSlicer } from '../util/slice';

/** Shards loading while one is searched. */
const LOAD_AHEAD = 2;

/** A hit located in a shard: the chunk is read only if it becomes a final candidate. */
export interface ShardHit {
  /** The shard version's directory name. */
  dir: string;
  row: number;
  id: string;
  score: number;
}

export interface ShardSearchResult {
  dense: ShardHit[];
  /** `unembedded`: the chunk has no vector yet (asked with `flagUnembedded`), so dense search could not rank it. */
  lexical: (ShardHit & { terms: string[]; unembedded?: true })[];
}

/**
 * Dense (int8 scan, cosine) and BM25 search over some shards of one index; each list is the best
 * `depth` hits over those shards (score, then id). Runs on the caller's thread or, for half of
 * the shards, in the inference worker (`searchShards` there), so both cores search at once.
 */
export async function searchShards(
  store: IndexStore,
  shards: readonly ShardEntry[],
  query: { vector?: Float32Array; terms: readonly string[]; stats?: Bm25Stats; flagUnembedded?: boolean },
  depth: number,
): Promise<ShardSearchResult> {
  // Shards load a few ahead of the one being scored (cached after the first query): the reads
  // overlap the scoring, and the loads finish one or two at a time. Loading every shard at once
  // finished them together, and their checks ran back to back (~6 ms a 4 000-row shard): a first
  // search on the extension host's thread held its event loop for 100+ ms at 27 shards. Yields
  // between shards when a slice of time is used up, for the same reason.
  const slicer = new TimeSlicer();
  const load = (i: number) => {
    const shard = shards[i];
    if (!shard) return;
    if (query.vector) store.vectors(shard).catch(() => undefined);
    if (query.terms.length) store.lexical(shard).catch(() => undefined);
  };
  for (let i = 0; i < LOAD_AHEAD; i++) load(i);
  const dense: ShardHit[] = [];
  if (query.vector) {
    const q = query.vector;
    let norm = 0;
    for (let j = 0; j < q.length; j++) norm += q[j]! * q[j]!;
    norm = Math.sqrt(norm) || 1;
    let scores = new Float32Array(0);
    for (const [i, shard] of shards.entries()) {
      load(i + LOAD_AHEAD);
      await slicer.tick();
      const block = await store.vectors(shard);
      if (!block || block.block.dim !== q.length) continue;
      if (scores.length < block.block.n) scores = new Float32Array(block.block.n);
      const out = block.block.scores(q, scores.subarray(0, block.block.n));
      for (const hit of topK(out, depth)) dense.push({ dir: shard.dir, row: hit.index, id: block.ids[hit.index]!, score: hit.score / norm });
    }
  }
  const lexical: ShardSearchResult['lexical'] = [];
  if (query.terms.length) {
    for (const [i, shard] of shards.entries()) {
      load(i + LOAD_AHEAD);
      await slicer.tick();
      const hits = searchLexical(await store.lexical(shard), query.terms, depth, query.stats);
      const missing = query.flagUnembedded && hits.length ? await unembeddedRows(store, shard) : undefined;
      for (const hit of hits) {
        lexical.push({ dir: shard.dir, row: hit.row, id: hit.id, score: hit.score, terms: hit.terms, ...(missing?.(hit.row) ? { unembedded: true as const } : {}) });
      }
    }
  }
  return { dense: best(dense, depth), lexical: best(lexical, depth) };
}

/**
 * Which rows of a shard have no vector yet (a lexical-first index embedding in the background):
 * none when the manifest says all live rows are embedded, all when it says none, else the rows
 * whose stored vector is the zero vector (scale 0; the dense scan loaded the block already).
 */
async function unembeddedRows(store: IndexStore, shard: ShardEntry): Promise<((row: number) => boolean) | undefined> {
  const live = shard.chunks - (shard.dead?.length ?? 0);
  if (shard.embedded === undefined || shard.embedded >= live) return undefined;
  if (shard.embedded === 0) return () => true;
  const block = await store.vectors(shard);
  if (!block) return () => true;
  const scales = block.block.scales;
  return (row) => scales[row] === 0;
}

/** These shards' BM25 statistics for the query's distinct terms, summed (`mergeBm25Stats`). */
export async function lexicalStats(store: IndexStore, shards: readonly ShardEntry[], terms: readonly string[]): Promise<Bm25Stats> {
  const parts: Bm25Stats[] = [];
  const slicer = new TimeSlicer();
  // A few shards loading ahead of the one being read, as in `searchShards`.
  const load = (i: number) => {
    if (shards[i]) store.lexical(shards[i]).catch(() => undefined);
  };
  for (let i = 0; i < LOAD_AHEAD; i++) load(i);
  for (const [i, shard] of shards.entries()) {
    load(i + LOAD_AHEAD);
    await slicer.tick();
    parts.push((await store.lexical(shard)).stats(terms));
  }
  return mergeBm25Stats(terms, parts);
}

export function best<T extends { id: string; score: number }>(hits: T[], depth: number): T[] {
  return hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, depth);
}

/** A shard search run by another thread (the inference worker searches half of the shards). */
export interface SearchShardsParams {
  indexDir: string;
  embedding: EmbeddingInfo | null;
  shards: ShardEntry[];
  live: string[];
  vector?: Float32Array;
  terms: string[];
  /** The collection's BM25 statistics for `terms` (see `lexicalStats`). */
  stats?: Bm25Stats;
  /** Mark keyword hits that have no vector yet (see `ShardSearchResult.lexical`). */
  flagUnembedded?: boolean;
  depth: number;
}

/** BM25 statistics of some shards, gathered by another thread (`lexicalStats`). */
export type LexicalStatsParams = Omit<SearchShardsParams, 'vector' | 'depth' | 'stats'>;
