import type { Chunk } from '../types';

export type RetrieverName = 'dense' | 'lexical';

export interface RetrieverHit {
  /** 1-based rank in that retriever's list. */
  rank: number;
  score: number;
}

/** Where a candidate came from and how each stage ranked it. Ranks are 1-based. */
export interface Provenance {
  dense?: RetrieverHit;
  lexical?: RetrieverHit & { terms: string[] };
  fused: RetrieverHit;
  /** Present when the cross-encoder scored this candidate. */
  rerank?: RetrieverHit;
  /** Present when the learning-to-rank stage scored this candidate (after fusion or the cross-encoder). */
  ltr?: RetrieverHit;
  /** Kept beyond retrieval: an earlier turn of the conversation cited its file, or the question mentioned it. */
  carried?: 'previous-turn' | 'mentioned';
  /** What of the question this candidate matched exactly (question understanding, src/core/query): "symbol _find_error_handler", "traceback frame src/flask/app.py:1234". */
  matched?: string[];
  /** Joined the list from the definition lookup (src/core/search/definitionLookup.ts): the symbol its file defines, as looked up. */
  definesLookedUp?: string;
  /** Joined the list as a neighbour of a top file (src/core/search/neighbours.ts): what it is and of which file ("test subject of tests/test_x.py"). */
  neighbourOf?: string;
}

export interface Candidate {
  chunk: Chunk;
  /** The workspace folder's name when several folders are searched (multi-root); absent otherwise. */
  folder?: string;
  /** With a team index (src/core/team): whether the chunk came from the team's commit or the local overlay. */
  origin?: 'team' | 'local';
  provenance: Provenance;
  /** Rank after fusion (before reranking). */
  rankBefore: number;
  /** Final rank (equals rankBefore when not reranked). */
  rankAfter: number;
}

export function retrieversOf(p: Provenance): RetrieverName[] {
  const out: RetrieverName[] = [];
  if (p.dense) out.push('dense');
  if (p.lexical) out.push('lexical');
  return out;
}
