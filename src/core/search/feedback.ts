import { FIELD_COUNT, FIELD_NAMES } from '../lexical/bm25';
import { codeTokens } from '../lexical/tokenize';
import type { IndexStore } from '../store/store';
import type { Chunk } from '../types';
import { type NamedStore, retrieve } from './retriever';
import { lexicalStats } from './shardSearch';
import type { Candidate } from './types';

/**
 * File-level pseudo-relevance feedback (issue 19, vocabulary mismatch): the words of the question
 * often reach the tests, docs or neighbours of the file to change but not the file itself. The
 * most discriminative terms of the first stage's top `files` files (in several of them, rare in
 * the collection, not in the question) are searched again with BM25 alone; the files that second
 * search finds and the list lacks join it (one chunk a file) with their score relative to that
 * search's best — widenForPrior enters them at EvidenceWeights prfScore of it, below the top, and
 * the question prior weighs them.
 *
 * Cost: one collection-statistics read for the candidate terms and one BM25 search of `terms`
 * terms; in the editor the keyword indexes are those search loads (this thread loads the half the
 * inference worker searches, as the definition lookup does).
 */
export interface FeedbackHit {
  chunk: Chunk;
  folder?: string;
  /** Its score relative to the feedback search's best, in (0, 1]. */
  rel: number;
}

export interface FeedbackResult {
  terms: string[];
  hits: FeedbackHit[];
}

const TEXT = FIELD_NAMES.indexOf('text');
/** Terms read from the top files before statistics (the most frequent). */
const MAX_CANDIDATE_TERMS = 200;

export async function feedbackSearch(stores: IndexStore | readonly NamedStore[], question: string, list: readonly Candidate[], opts: { files: number; terms: number; depth: number }): Promise<FeedbackResult> {
  if (!(opts.files > 0) || !list.length) return { terms: [], hits: [] };
  const key = (c: { folder?: string; chunk: Chunk }) => `${c.folder ?? ''}\u0000${c.chunk.path}`;
  const tops: string[] = [];
  for (const c of list) if (!tops.includes(key(c)) && tops.push(key(c)) >= opts.files) break;
  const asked = new Set(codeTokens(question));
  // Per term: the top files holding it, and its count there.
  const inFiles = new Map<string, Set<string>>();
  const tf = new Map<string, number>();
  for (const c of list) {
    const k = key(c);
    if (!tops.includes(k)) continue;
    for (const t of codeTokens(`${c.chunk.symbols.join(' ')} ${c.chunk.text}`)) {
      if (t.length < 3 || /^\d+$/.test(t) || asked.has(t)) continue;
      tf.set(t, (tf.get(t) ?? 0) + 1);
      let s = inFiles.get(t);
      if (!s) inFiles.set(t, (s = new Set()));
      s.add(k);
    }
  }
  const cands = [...tf.keys()].sort((a, b) => inFiles.get(b)!.size - inFiles.get(a)!.size || tf.get(b)! - tf.get(a)! || (a < b ? -1 : 1)).slice(0, MAX_CANDIDATE_TERMS);
  if (!cands.length) return { terms: [], hits: [] };
  const named: readonly NamedStore[] = Array.isArray(stores) ? (stores as readonly NamedStore[]) : [{ name: '', store: stores as IndexStore }];
  // Read shard by shard with the search's own slicing (a question's first search on the extension
  // host's thread: 200 terms × every shard in one go held its event loop ~15 ms at 25 shards).
  let docs = 0;
  const df = new Array<number>(cands.length).fill(0);
  for (const ns of named) {
    const s = await lexicalStats(ns.store, ns.store.manifest.shards, cands);
    docs += s.docs;
    cands.forEach((_, i) => (df[i] = df[i]! + s.df[i * FIELD_COUNT + TEXT]!));
  }
  const scored = cands
    .map((t, i) => ({ t, i, s: (inFiles.get(t)!.size / tops.length) * Math.log(1 + tf.get(t)!) * Math.log(1 + (docs - df[i]! + 0.5) / (df[i]! + 0.5)) }))
    // Rare enough to discriminate, common enough to link to another file.
    .filter(({ i }) => df[i]! >= 2 && df[i]! <= Math.max(2, docs / 20))
    .sort((a, b) => b.s - a.s || (a.t < b.t ? -1 : 1))
    .slice(0, opts.terms);
  const terms = scored.map((x) => x.t);
  if (!terms.length) return { terms, hits: [] };
  const found = await retrieve(named as NamedStore[], terms.join(' '), { candidates: opts.depth, depth: opts.depth });
  const present = new Set(list.map(key));
  const best = Math.max(0, ...found.candidates.map((c) => c.provenance.lexical?.score ?? 0));
  const hits: FeedbackHit[] = [];
  for (const c of found.candidates) {
    const k = `${Array.isArray(stores) ? (c.folder ?? '') : ''}\u0000${c.chunk.path}`;
    if (present.has(k) || !(best > 0)) continue;
    present.add(k);
    hits.push({ chunk: c.chunk, ...(Array.isArray(stores) && c.folder !== undefined ? { folder: c.folder } : {}), rel: (c.provenance.lexical?.score ?? 0) / best });
  }
  return { terms, hits };
}
