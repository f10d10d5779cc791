import type { InferenceClient } from '../worker/client';
import { embeddingText } from '../models/text';
import type { Candidate } from '../search/types';

export interface RerankOptions {
  signal?: AbortSignal;
  /** Tokens the cross-encoder reads per (question, passage) pair; changes the score, so it is part of the cache key. */
  maxLength?: number;
  batchSize?: number;
}

export interface RerankOutcome {
  candidates: Candidate[];
  scored: number;
  cached: number;
}

/**
 * What `ask`, `askCompare`, `rankCandidates` and `sift eval` need from a reranker, whichever provider scores:
 * the local cross-encoder in the inference worker (`Reranker`) or a rerank server (`HttpReranker`).
 */
export interface RerankScorer {
  /** `local` or `http`. */
  readonly provider: string;
  /** The model's name as shown in the compare view and in `sift eval` rows. */
  readonly model: string;
  rerank(question: string, candidates: Candidate[], opts?: RerankOptions): Promise<RerankOutcome>;
}

/**
 * Reorders candidates by a (question, passage) score and records it in the provenance. Scores are cached by
 * (provider, model, truncation length, question, chunk hash), so comparing with and without reranking, or
 * asking again, never scores a pair twice. Subclasses only score passages.
 */
export abstract class CachingReranker implements RerankScorer {
  private readonly cache = new Map<string, number>();
  abstract readonly provider: string;

  constructor(
    readonly model: string,
    private readonly maxCacheEntries = 20_000,
  ) {}

  /** One score per passage, in order. */
  protected abstract score(query: string, passages: string[], opts: RerankOptions): Promise<number[]>;

  async rerank(question: string, candidates: Candidate[], opts: RerankOptions = {}): Promise<RerankOutcome> {
    // The truncation length changes the score, so it is part of the key.
    const keys = candidates.map((c) => `${this.provider}\u0000${this.model}\u0000${opts.maxLength ?? 'default'}\u0000${question}\u0000${c.chunk.hash}`);
    const missing = candidates.map((_, i) => i).filter((i) => !this.cache.has(keys[i]!));
    if (missing.length) {
      const scores = await this.score(question, missing.map((i) => embeddingText(candidates[i]!.chunk)), opts);
      missing.forEach((i, j) => this.remember(keys[i]!, scores[j]!));
    }
    const scored = candidates.map((c, i) => ({ c, score: this.cache.get(keys[i]!)! }));
    // Stable: equal scores keep their fused order.
    scored.sort((a, b) => b.score - a.score || a.c.rankBefore - b.c.rankBefore);
    const reranked = scored.map(({ c, score }, i) => ({
      ...c,
      provenance: { ...c.provenance, rerank: { rank: i + 1, score } },
      rankAfter: i + 1,
    }));
    return { candidates: reranked, scored: missing.length, cached: candidates.length - missing.length };
  }

  private remember(key: string, score: number): void {
    if (this.cache.size >= this.maxCacheEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, score);
  }
}

/** The local cross-encoder: scores (question, chunk) pairs in the inference worker. */
export class Reranker extends CachingReranker {
  readonly provider = 'local';

  constructor(
    private readonly client: InferenceClient,
    model: string,
    maxCacheEntries?: number,
  ) {
    super(model, maxCacheEntries);
  }

  protected score(query: string, passages: string[], opts: RerankOptions): Promise<number[]> {
    return this.client.call('rerank', { query, passages, maxLength: opts.maxLength, batchSize: opts.batchSize }, opts.signal);
  }
}
