import MiniSearch, { type Options, type SearchResult } from 'minisearch';
import type { Chunk } from '../types';
import { codeTokens, pathTokens } from './tokenize';

/**
 * BM25 (MiniSearch's BM25+) over code-aware tokens with boosted fields: symbol names and path
 * segments weigh more than body text. One MiniSearch index per shard, stored beside the shard's
 * vectra index and rewritten with it, so updates stay incremental.
 *
 * Trade-off, stated: term statistics (IDF, average length) are per shard. Below ~4000 chunks
 * there is one shard and scores are exact BM25; above, shards are merged by score.
 */
export const FIELD_BOOSTS = { symbols: 3, path: 2, header: 1.5, text: 1 } as const;
export const BM25_PARAMS = { k: 1.2, b: 0.75, d: 0.5 };

type LexDoc = Pick<Chunk, 'id' | 'path' | 'header' | 'text'> & { symbols: string };

const OPTIONS: Options<LexDoc> = {
  idField: 'id',
  fields: ['symbols', 'path', 'header', 'text'],
  storeFields: [],
  tokenize: (text: string, field?: string) => (field === 'path' ? pathTokens(text) : codeTokens(text)),
  processTerm: (term: string) => term,
  searchOptions: {
    boost: { ...FIELD_BOOSTS },
    bm25: BM25_PARAMS,
    prefix: false,
    fuzzy: false,
    combineWith: 'OR',
    // Queries go through the same tokenizer (identifier splitting, stemming, stopwords).
    tokenize: (text: string) => codeTokens(text),
    processTerm: (term: string) => term,
  },
};

function toDoc(c: Chunk): LexDoc {
  return { id: c.id, path: c.path, header: c.header, text: c.text, symbols: c.symbols.join(' ') };
}

export function buildLexicalIndex(chunks: Chunk[]): MiniSearch<LexDoc> {
  const ms = new MiniSearch<LexDoc>(OPTIONS);
  ms.addAll(chunks.map(toDoc));
  return ms;
}

export function serializeLexicalIndex(ms: MiniSearch<LexDoc>): string {
  return JSON.stringify(ms);
}

export function loadLexicalIndex(json: string): MiniSearch<LexDoc> {
  return MiniSearch.loadJSON<LexDoc>(json, OPTIONS);
}

export interface LexicalHit {
  id: string;
  score: number;
  /** Query terms that matched. */
  terms: string[];
}

export function searchLexical(ms: MiniSearch<LexDoc>, query: string, k: number): LexicalHit[] {
  const results: SearchResult[] = ms.search(query);
  return results.slice(0, k).map((r) => ({ id: String(r.id), score: r.score, terms: r.terms }));
}
