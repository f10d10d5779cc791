import type { Chunk } from '../types';
import { type Bm25Index, type Bm25Stats, DocBatchBuilder, type LexicalDoc } from './bm25';
import { codeTokenIds, codeTokens, pathTokenIds, resetTermsIfLarge } from './tokenize';

/**
 * BM25 (BM25+, scored exactly as MiniSearch does) over code-aware tokens with boosted fields:
 * symbol names and path segments weigh more than body text. One index per shard (`bm25.ts`),
 * stored beside the shard's vectors and rewritten with it, so updates stay incremental.
 *
 * Term statistics (document frequencies, average field lengths) are the collection's: each shard
 * reports its counts for the query's terms (`Bm25Index.stats`), the sums are used by every shard
 * (`search/retriever.ts`), so a ranking depends only on the indexed content — not on how chunks
 * fell into shards or the order files were indexed. Several folders searched together (multi-root)
 * are one collection.
 */
export const FIELD_BOOSTS = { symbols: 3, path: 2, header: 1.5, text: 1 } as const;
/** Boosts in FIELD_NAMES order (symbols, path, header, text). */
export const BOOSTS: readonly number[] = [FIELD_BOOSTS.symbols, FIELD_BOOSTS.path, FIELD_BOOSTS.header, FIELD_BOOSTS.text];
export const BM25_PARAMS = { k: 1.2, b: 0.75, d: 0.5 };

/** The terms of a chunk's fields (symbols, path, header, text), as they are indexed, as ids (`codeTokenIds`). */
export function fieldTermIds(c: Pick<Chunk, 'path' | 'header' | 'text' | 'symbols'>): number[][] {
  return [codeTokenIds(c.symbols.join(' ')), pathTokenIds(c.path), codeTokenIds(c.header), codeTokenIds(c.text)];
}

/** The BM25 documents of chunks, packed in one batch (see `DocBatch`). */
export function lexicalDocs(chunks: readonly Pick<Chunk, 'id' | 'path' | 'header' | 'text' | 'symbols'>[]): LexicalDoc[] {
  resetTermsIfLarge();
  const b = new DocBatchBuilder();
  try {
    for (const c of chunks) b.add(c.id, fieldTermIds(c));
    return b.finish();
  } finally {
    b.release();
  }
}

/** One chunk's BM25 document (a batch of one; prefer `lexicalDocs` for many). */
export function lexicalDoc(c: Pick<Chunk, 'id' | 'path' | 'header' | 'text' | 'symbols'>): LexicalDoc {
  return lexicalDocs([c])[0]!;
}

export interface LexicalHit {
  id: string;
  /** Row of the chunk in its shard. */
  row: number;
  score: number;
  /** Query terms that matched. */
  terms: string[];
}

/** Query terms: the same tokenizer as the index (identifier splitting, stemming, stopwords). */
export function queryTerms(query: string): string[] {
  return codeTokens(query);
}

/** BM25 over one shard; with `stats` (the collection's, for these terms) scores do not depend on the shard. */
export function searchLexical(index: Bm25Index, query: string | readonly string[], k: number, stats?: Bm25Stats): LexicalHit[] {
  const terms = typeof query === 'string' ? queryTerms(query) : query;
  return index.search(terms, BOOSTS, BM25_PARAMS, k, stats);
}
