import type { InferenceClient } from '../embedding/client';
import type { IndexStore } from '../index/store';
import type { ShardEntry } from '../index/manifest';
import { topK } from '../index/vectorKernel';
import type { Chunk } from '../types';
import { throwIfAborted } from '../util/errors';
import { queryTerms, searchLexical } from './lexical';
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
  const hybrid = Boolean(opts.embedder && dim);
  // Keys are folder-qualified: chunk ids are only unique within one folder's index.
  const key = (i: number, id: string) => `${i}\u0000${id}`;

  // Hits are located by (folder, shard, row); the chunk itself is read only for the final candidates.
  type Located = { id: string; folder: number; shard: ShardEntry; row: number; score: number };
  let denseHits: Located[] = [];
  if (hybrid) {
    let t = performance.now();
    const flat = await opts.embedder!.call('embed', { texts: [query] }, opts.signal);
    const vector = flat.slice(0, dim);
    timings.embed = performance.now() - t;
    throwIfAborted(opts.signal);
    t = performance.now();
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += vector[j]! * vector[j]!;
    norm = Math.sqrt(norm) || 1;
    let scores = new Float32Array(0);
    for (const [i, { store }] of named.entries()) {
      for (const shard of store.manifest.shards) {
        const block = await store.vectors(shard);
        if (!block) continue;
        if (scores.length < block.block.n) scores = new Float32Array(block.block.n);
        const out = block.block.scores(vector, scores.subarray(0, block.block.n));
        for (const hit of topK(out, depth)) {
          denseHits.push({ id: key(i, block.ids[hit.index]!), folder: i, shard, row: hit.index, score: hit.score / norm });
        }
      }
    }
    denseHits = sortHits(denseHits).slice(0, depth);
    timings.dense = performance.now() - t;
  }

  let t = performance.now();
  const terms = queryTerms(query);
  let lexicalHits: (Located & { terms: string[] })[] = [];
  for (const [i, { store }] of named.entries()) {
    for (const shard of store.manifest.shards) {
      for (const hit of searchLexical(await store.lexical(shard), terms, depth)) {
        lexicalHits.push({ id: key(i, hit.id), folder: i, shard, row: hit.row, score: hit.score, terms: hit.terms });
      }
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
  return { candidates, mode: hybrid ? 'hybrid' : 'lexical-only', timings };
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
  for (const { folder, shard, items } of groups.values()) {
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
