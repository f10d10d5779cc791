import type { InferenceClient } from '../worker/client';
import { embeddingText } from '../models/text';
import type { Candidate } from '../search/types';

/**
 * Scores (question, chunk) pairs with the cross-encoder in the inference worker and reorders the
 * candidates by that score. Scores are cached by (model, truncation length, question, chunk hash), so comparing
 * with and without reranking, or asking again, never scores a pair twice.
 */
export class Reranker {
  private readonly cache = new Map<string, number>();

  constructor(
    private readonly client: InferenceClient,
    readonly model: string,
    private readonly maxCacheEntries = 20_000,
  ) {}

  async rerank(question: string, candidates: Candidate[], opts: { signal?: AbortSignal; maxLength?: number; batchSize?: number } = {}): Promise<{ candidates: Candidate[]; scored: number; cached: number }> {
    // The truncation length changes the score, so it is part of the key.
    const keys = candidates.map((c) => `${this.model}\u0000${opts.maxLength ?? 'default'}\u0000${question}\u0000${c.chunk.hash}`);
    const missing = candidates.map((_, i) => i).filter((i) => !this.cache.has(keys[i]!));
    if (missing.length) {
      const scores = await this.client.call(
        'rerank',
        {
          query: question,
          passages: missing.map((i) => embeddingText(candidates[i]!.chunk)),
          maxLength: opts.maxLength,
          batchSize: opts.batchSize,
        },
        opts.signal,
      );
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
