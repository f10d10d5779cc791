import type { IndexStore } from '../store/store';
import { type ShardEntry, denseCoverage } from '../store/manifest';
import type { Chunk } from '../types';
import { throwIfAborted } from '../util/errors';
import { queryTerms } from '../lexical/lexical';
import { searchText } from '../query/understand';
import { type Bm25Stats, distinctQueryTerms, mergeBm25Stats } from '../lexical/bm25';
import { TimeSlicer } from '../util/slice';
import { type LexicalStatsParams, type SearchShardsParams, type ShardHit, type ShardSearchResult, lexicalStats, searchShards } from './shardSearch';
import { DEFAULT_RRF_K, type RankedList, reciprocalRankFusion } from './fusion';
import type { Candidate } from './types';

export const DEFAULT_CANDIDATES = 50;

/**
 * What search needs from the inference worker: the question's vector, and half of the shards
 * searched while this thread searches the other half. The worker's client
 * (src/core/worker/client.ts) satisfies it; search sits below the worker in the pipeline, so it
 * names the shape it needs instead of importing the client.
 */
export interface SearchWorker {
  call(method: 'embed', params: { texts: string[] }, signal?: AbortSignal): Promise<Float32Array>;
  call(method: 'searchShards', params: SearchShardsParams, signal?: AbortSignal): Promise<ShardSearchResult>;
  call(method: 'lexicalStats', params: LexicalStatsParams, signal?: AbortSignal): Promise<Bm25Stats>;
}

export interface RetrieveOptions {
  /** Fused candidates to return (K). */
  candidates?: number;
  /** How deep each retriever looks before fusion (default 2K). */
  depth?: number;
  rrfK?: number;
  /** Inference worker with the index's embedding model loaded; omit for lexical-only. */
  embedder?: SearchWorker;
  /**
   * A worker that searches half of the shards while this thread searches the other half (the
   * inference worker is idle during search). Defaults to `embedder` when every chunk has its vector
   * (while some wait, the dense pass keeps that worker busy); without one, this thread searches
   * everything.
   */
  searcher?: SearchWorker | null;
  signal?: AbortSignal;
}

export interface RetrieveTimings {
  embed: number;
  dense: number;
  lexical: number;
  fuse: number;
}

/** One folder's index; `name` labels its results when several folders are searched (multi-root). */
export interface NamedStore {
  name: string;
  store: IndexStore;
}

/**
 * How much of the collection dense search covered: chunks with a vector, of all chunks. Below 1
 * while embedding catches up after the keyword pass (lexical first); the rest is found by BM25 only.
 */
export interface DenseCoverage {
  embedded: number;
  chunks: number;
  /** embedded / chunks (0 for an empty or lexical-only collection). */
  share: number;
}

export interface RetrieveResult {
  candidates: Candidate[];
  mode: 'hybrid' | 'lexical-only';
  /** Always set by `retrieve`; optional for other sources of candidates. */
  coverage?: DenseCoverage;
  timings: RetrieveTimings;
  /** What the answer should say about this retrieval (e.g. the team index was unavailable: local results only). */
  notices?: string[];
}

/**
 * Dense similarity (int8 scan of every shard's vectra vectors, merged) plus BM25 (every shard, merged), fused by
 * reciprocal rank. Every candidate records which retrievers found it and at what rank.
 * Several folders' indexes (multi-root) are searched as one collection.
 */
export async function retrieve(stores: IndexStore | NamedStore[], query: string, opts: RetrieveOptions = {}): Promise<RetrieveResult> {
  const named: NamedStore[] = Array.isArray(stores) ? stores : [{ name: '', store: stores }];
  const k = opts.candidates ?? DEFAULT_CANDIDATES;
  const depth = opts.depth ?? Math.max(k * 2, 50);
  const timings: RetrieveTimings = { embed: 0, dense: 0, lexical: 0, fuse: 0 };
  // Dense search needs every folder's vectors from the same model (the one loaded in the worker).
  const dims = new Set(named.map((n) => n.store.manifest.embedding?.dim ?? 0));
  const dim = dims.size === 1 ? [...dims][0]! : 0;
  const coverage = coverageOf(named);
  const hybrid = Boolean(opts.embedder && dim && coverage.embedded);
  // Keys are folder-qualified: chunk ids are only unique within one folder's index.
  const key = (i: number, id: string) => `${i}\u0000${id}`;
  // A pasted issue's template, checklists and links are searched for nothing (understand.ts `searchText`).
  const searched = searchText(query);

  // Hits are located by (folder, shard, row); the chunk itself is read only for the final candidates.
  type Located = { id: string; folder: number; shard: ShardEntry; row: number; score: number };
  // While chunks wait for vectors (lexical first: the dense pass embeds on that worker, batch after
  // batch), a shard search queued behind its batches would wait seconds: this thread searches
  // everything then (sliced, so its event loop stays responsive).
  const embedding = dim > 0 && coverage.embedded < coverage.chunks;
  const searcher = opts.searcher === undefined ? (embedding ? undefined : opts.embedder) : (opts.searcher ?? undefined);
  const totalShards = named.reduce((n, f) => n + f.store.manifest.shards.length, 0);
  const split = Boolean(searcher) && totalShards > 1;
  /** Runs one search phase over every folder: odd shards in the worker, even ones here, at once. */
  const phase = async (q: { vector?: Float32Array; terms: string[]; stats?: Bm25Stats; flagUnembedded?: boolean }, pick: (r: ShardSearchResult) => ShardHit[] | ShardSearchResult['lexical']) => {
    const remote = split
      ? named.map(({ store }) => {
          const shards = store.manifest.shards.filter((_, j) => j % 2 === 1);
          if (!shards.length) return Promise.resolve(undefined);
          return searcher!.call(
            'searchShards',
            { indexDir: store.indexDir, embedding: store.manifest.embedding, shards, live: store.manifest.shards.map((s) => s.dir), ...q, depth },
            opts.signal,
          );
        })
      : [];
    // Settle every remote call even if a local search throws (no unhandled rejections).
    const settled = Promise.allSettled(remote);
    const out: (Located & { terms?: string[]; unembedded?: true })[] = [];
    let localError: unknown;
    try {
      for (const [i, { store }] of named.entries()) {
        const shards = split ? store.manifest.shards.filter((_, j) => j % 2 === 0) : store.manifest.shards;
        for (const h of pick(await searchShards(store, shards, q, depth))) out.push(locate(i, store, h));
      }
    } catch (err) {
      localError = err;
    }
    const results = await settled;
    if (localError) throw localError;
    for (const [i, r] of results.entries()) {
      if (r.status === 'rejected') throw r.reason;
      if (r.value) for (const h of pick(r.value)) out.push(locate(i, named[i]!.store, h));
    }
    return sortHits(out).slice(0, depth);
  };
  const locate = (i: number, store: IndexStore, h: ShardHit & { terms?: string[]; unembedded?: true }): Located & { terms?: string[]; unembedded?: true } => {
    const shard = store.manifest.shards.find((s) => s.dir === h.dir);
    if (!shard) throw new Error(`internal: hit in unknown shard ${h.dir}`);
    return { id: key(i, h.id), folder: i, shard, row: h.row, score: h.score, ...(h.terms ? { terms: h.terms } : {}), ...(h.unembedded ? { unembedded: true as const } : {}) };
  };

  let denseHits: Located[] = [];
  if (hybrid) {
    let t = performance.now();
    const flat = await opts.embedder!.call('embed', { texts: [searched] }, opts.signal);
    const vector = flat.slice(0, dim);
    timings.embed = performance.now() - t;
    throwIfAborted(opts.signal);
    t = performance.now();
    // A chunk not embedded yet is a zero vector (score exactly 0): dropped, so that dense ranks count
    // embedded chunks only and BM25 alone speaks for the rest.
    denseHits = (await phase({ vector, terms: [] }, (r) => r.dense)).filter((h) => h.score !== 0 || (h.shard.embedded ?? h.shard.chunks) === h.shard.chunks);
    timings.dense = performance.now() - t;
  }

  let t = performance.now();
  const terms = queryTerms(searched);
  const stats = await collectionStats(named, terms, split ? searcher! : undefined, opts.signal);
  // Partly embedded (lexical first): note which keyword hits have no vector yet, so fusion does not count dense search's silence against them.
  const partial = hybrid && coverage.embedded < coverage.chunks;
  const lexicalHits = (await phase({ terms, stats, ...(partial ? { flagUnembedded: true } : {}) }, (r) => r.lexical)) as (Located & { terms: string[]; unembedded?: true })[];
  timings.lexical = performance.now() - t;
  throwIfAborted(opts.signal);

  t = performance.now();
  const lists: RankedList[] = [{ name: 'lexical', ids: lexicalHits.map((h) => h.id) }];
  if (hybrid) lists.unshift({ name: 'dense', ids: denseHits.map((h) => h.id), blind: new Set(lexicalHits.filter((h) => h.unembedded).map((h) => h.id)) });
  const fused = reciprocalRankFusion(lists, opts.rrfK ?? DEFAULT_RRF_K).slice(0, k);
  const denseRank = new Map(denseHits.map((h, i) => [h.id, { rank: i + 1, score: h.score }]));
  const lexRank = new Map(lexicalHits.map((h, i) => [h.id, { rank: i + 1, score: h.score, terms: h.terms }]));
  const where = new Map<string, Located>();
  for (const h of [...denseHits, ...lexicalHits]) if (!where.has(h.id)) where.set(h.id, h);
  const chunks = await hydrate(
    named,
    fused.map((f) => where.get(f.id)!),
  );
  const candidates: Candidate[] = [];
  for (const f of fused) {
    const chunk = chunks.get(f.id);
    if (!chunk) continue;
    const rank = candidates.length + 1;
    const folder = named[where.get(f.id)!.folder]!.name;
    candidates.push({
      chunk,
      ...(folder ? { folder } : {}),
      provenance: { dense: denseRank.get(f.id), lexical: lexRank.get(f.id), fused: { rank, score: f.score } },
      rankBefore: rank,
      rankAfter: rank,
    });
  }
  timings.fuse = performance.now() - t;
  return { candidates, mode: hybrid ? 'hybrid' : 'lexical-only', coverage, timings };
}

function coverageOf(named: NamedStore[]): DenseCoverage {
  let embedded = 0;
  let chunks = 0;
  for (const { store } of named) {
    const c = denseCoverage(store.manifest);
    embedded += c.embedded;
    chunks += c.chunks;
  }
  return { embedded, chunks, share: chunks ? embedded / chunks : 0 };
}

/**
 * The collection's BM25 statistics for the query's terms: every shard of every folder summed
 * (multi-root folders are one collection), with the worker counting the shards it searches.
 * Scores then depend only on the indexed content, not on the index's shard layout or history.
 */
async function collectionStats(named: NamedStore[], terms: string[], searcher: SearchWorker | undefined, signal?: AbortSignal): Promise<Bm25Stats> {
  const distinct = distinctQueryTerms(terms);
  if (!distinct.length) return mergeBm25Stats(distinct, []);
  const remote = searcher
    ? named.map(({ store }) => {
        const shards = store.manifest.shards.filter((_, j) => j % 2 === 1);
        if (!shards.length) return Promise.resolve(undefined);
        const live = store.manifest.shards.map((s) => s.dir);
        return searcher.call('lexicalStats', { indexDir: store.indexDir, embedding: store.manifest.embedding, shards, live, terms: distinct }, signal);
      })
    : [];
  const settled = Promise.allSettled(remote);
  const parts: Bm25Stats[] = [];
  let localError: unknown;
  try {
    for (const { store } of named) {
      const shards = searcher ? store.manifest.shards.filter((_, j) => j % 2 === 0) : store.manifest.shards;
      parts.push(await lexicalStats(store, shards, distinct));
    }
  } catch (err) {
    localError = err;
  }
  const results = await settled;
  if (localError) throw localError;
  for (const r of results) {
    if (r.status === 'rejected') throw r.reason;
    if (r.value) parts.push(r.value);
  }
  return mergeBm25Stats(distinct, parts);
}

/** Reads the located chunks, grouped by shard (one read per block). */
async function hydrate(named: NamedStore[], located: { id: string; folder: number; shard: ShardEntry; row: number }[]): Promise<Map<string, Chunk>> {
  const groups = new Map<string, { folder: number; shard: ShardEntry; items: typeof located }>();
  for (const l of located) {
    const g = `${l.folder}\u0000${l.shard.dir}`;
    let group = groups.get(g);
    if (!group) groups.set(g, (group = { folder: l.folder, shard: l.shard, items: [] }));
    group.items.push(l);
  }
  const out = new Map<string, Chunk>();
  // A shard's blocks are read and inflated in one go: yield between shards when a slice is used up.
  const slicer = new TimeSlicer();
  for (const { folder, shard, items } of groups.values()) {
    await slicer.tick();
    const chunks = await named[folder]!.store.chunksAt(shard, items.map((l) => l.row));
    chunks.forEach((c, i) => {
      const l = items[i]!;
      // Rows and ids come from the same shard version; a mismatch means the shard is inconsistent.
      if (`${l.folder}\u0000${c.id}` === l.id) out.set(l.id, c);
    });
  }
  return out;
}

function sortHits<T extends { id: string; score: number }>(hits: T[]): T[] {
  return hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}
