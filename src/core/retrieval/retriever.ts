import type { InferenceClient } from '../embedding/client';
import type { IndexStore } from '../index/store';
import type { Chunk } from '../types';
import { throwIfAborted } from '../util/errors';
import { searchLexical } from './lexical';
import { DEFAULT_RRF_K, reciprocalRankFusion } from './fusion';
import type { Candidate } from './types';

export const DEFAULT_CANDIDATES = 50;

export interface RetrieveOptions {
  /** Fused candidates to return (K). */
  candidates?: number;
  /** How deep each retriever looks before fusion (default 2K). */
  depth?: number;
  rrfK?: number;
  /** Inference worker with the index's embedding model loaded; omit for lexical-only. */
  embedder?: InferenceClient;
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

export interface RetrieveResult {
  candidates: Candidate[];
  mode: 'hybrid' | 'lexical-only';
  timings: RetrieveTimings;
}

/**
 * Dense similarity (vectra, every shard, merged) plus BM25 (every shard, merged), fused by
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
  const hybrid = Boolean(opts.embedder && dim);
  // Keys are folder-qualified: chunk ids are only unique within one folder's index.
  const key = (i: number, id: string) => `${i}\u0000${id}`;

  let denseHits: { id: string; score: number }[] = [];
  if (hybrid) {
    let t = performance.now();
    const flat = await opts.embedder!.call('embed', { texts: [query] }, opts.signal);
    const vector = Array.from(flat.subarray(0, dim));
    timings.embed = performance.now() - t;
    throwIfAborted(opts.signal);
    t = performance.now();
    for (const [i, { store }] of named.entries()) {
      for (const shard of store.manifest.shards) {
        const results = await store.vectraIndex(shard).queryItems(vector, '', depth);
        for (const r of results) denseHits.push({ id: key(i, r.item.id), score: r.score });
      }
    }
    denseHits = sortHits(denseHits).slice(0, depth);
    timings.dense = performance.now() - t;
  }

  let t = performance.now();
  let lexicalHits: { id: string; score: number; terms: string[] }[] = [];
  for (const [i, { store }] of named.entries()) {
    for (const shard of store.manifest.shards) {
      for (const hit of searchLexical(await store.lexicalIndex(shard), query, depth)) lexicalHits.push({ ...hit, id: key(i, hit.id) });
    }
  }
  lexicalHits = sortHits(lexicalHits).slice(0, depth);
  timings.lexical = performance.now() - t;
  throwIfAborted(opts.signal);

  t = performance.now();
  const lists = [{ name: 'lexical', ids: lexicalHits.map((h) => h.id) }];
  if (hybrid) lists.unshift({ name: 'dense', ids: denseHits.map((h) => h.id) });
  const fused = reciprocalRankFusion(lists, opts.rrfK ?? DEFAULT_RRF_K).slice(0, k);
  const denseRank = new Map(denseHits.map((h, i) => [h.id, { rank: i + 1, score: h.score }]));
  const lexRank = new Map(lexicalHits.map((h, i) => [h.id, { rank: i + 1, score: h.score, terms: h.terms }]));
  const chunks = new Map<string, Chunk>();
  for (const [i, { store }] of named.entries()) {
    const wanted = new Set(fused.filter((f) => f.id.startsWith(`${i}\u0000`)).map((f) => f.id.slice(f.id.indexOf('\u0000') + 1)));
    if (wanted.size) for (const [id, c] of await chunksById(store, wanted)) chunks.set(key(i, id), c);
  }
  const candidates: Candidate[] = [];
  for (const f of fused) {
    const chunk = chunks.get(f.id);
    if (!chunk) continue;
    const rank = candidates.length + 1;
    const folder = named[Number(f.id.slice(0, f.id.indexOf('\u0000')))]!.name;
    candidates.push({
      chunk,
      ...(folder ? { folder } : {}),
      provenance: { dense: denseRank.get(f.id), lexical: lexRank.get(f.id), fused: { rank, score: f.score } },
      rankBefore: rank,
      rankAfter: rank,
    });
  }
  timings.fuse = performance.now() - t;
  return { candidates, mode: hybrid ? 'hybrid' : 'lexical-only', timings };
}

function sortHits<T extends { id: string; score: number }>(hits: T[]): T[] {
  return hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}

async function chunksById(store: IndexStore, ids: Set<string>): Promise<Map<string, Chunk>> {
  const out = new Map<string, Chunk>();
  for (const shard of store.manifest.shards) {
    for (const c of (await store.loadShard(shard)).chunks) if (ids.has(c.id)) out.set(c.id, c);
    if (out.size === ids.size) break;
  }
  return out;
}
