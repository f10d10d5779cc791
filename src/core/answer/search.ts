import { redactSecretsInText } from '../discovery/redact';
import type { Candidate } from '../search/types';
import { type AskContext, type RankedResult, type RankingResult, rankCandidates, toRanked } from './ask';

/** One ranked chunk as a search tool returns it: where it is, why it ranked there, and its text. */
export interface SearchHit extends Omit<RankedResult, 'chunkId'> {
  /** Final rank, 1-based (equals rankAfter). */
  rank: number;
  language: string;
  /** Query terms BM25 matched in this chunk (when the keyword retriever found it). */
  matchedTerms?: string[];
  /** The chunk's text, secrets redacted unless redaction is off (`settings.redactSecrets`). */
  text: string;
  /** How many secrets were redacted from `text`, by kind (absent when none were). */
  redacted?: Record<string, number>;
}

export interface SearchResult {
  query: string;
  retrieval: RankingResult['mode'];
  reranked: boolean;
  /** How many candidates were ranked (before `limit` was applied). */
  candidates: number;
  hits: SearchHit[];
  timings: RankingResult['timings'];
  notices: string[];
}

/**
 * Ranked chunks for a query: `rankCandidates` (the retrieval and reranking of `ask`, with the same
 * provenance and notices), cut to `limit`, with each chunk's text passed through the same secret
 * redaction as the LLM's context. For tools that hand code to an agent (the MCP server).
 */
export async function searchChunks(
  ctx: AskContext,
  query: string,
  opts: { limit: number; rerank: boolean; filter?: (c: Candidate) => boolean },
): Promise<SearchResult> {
  const ranking = await rankCandidates(ctx, query, { rerank: opts.rerank, filter: opts.filter });
  const redact = ctx.settings.redactSecrets !== false;
  const hits = ranking.candidates.slice(0, opts.limit).map((c): SearchHit => {
    const { chunkId: _chunkId, ...ranked } = toRanked(c);
    const cleaned = redact ? redactSecretsInText(c.chunk.text, c.chunk.path) : { text: c.chunk.text, redacted: {} };
    return {
      rank: c.rankAfter,
      ...ranked,
      language: c.chunk.language,
      ...(c.provenance.lexical?.terms.length ? { matchedTerms: c.provenance.lexical.terms } : {}),
      text: cleaned.text,
      ...(Object.keys(cleaned.redacted).length ? { redacted: cleaned.redacted } : {}),
    };
  });
  return {
    query,
    retrieval: ranking.mode,
    reranked: ranking.reranked,
    candidates: ranking.candidates.length,
    hits,
    timings: ranking.timings,
    notices: ranking.notices,
  };
}

/** Text handed to an agent outside a search (answer sources, file ranges): redacted like search hits. */
export function redactForAgent(text: string, enabled: boolean, path?: string): { text: string; redacted?: Record<string, number> } {
  if (!enabled) return { text };
  const r = redactSecretsInText(text, path);
  return Object.keys(r.redacted).length ? r : { text: r.text };
}
