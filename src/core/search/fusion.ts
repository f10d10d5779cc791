export const DEFAULT_RRF_K = 60;

export interface RankedList {
  name: string;
  ids: string[];
  /**
   * Documents this retriever could not rank because it cannot see them (dense search and a chunk
   * not embedded yet). Their fused score is averaged over the lists that could.
   */
  blind?: ReadonlySet<string>;
}

/**
 * Reciprocal rank fusion: score(d) = Σ 1 / (k + rank_i(d)). Robust to the incomparable score
 * scales of BM25 and cosine similarity. Ties break by the best single rank, then by id, so the
 * fused order is deterministic.
 *
 * A document some retriever is blind to gets Σ over the others × (lists / lists that see it): while
 * a lexical-first index is still embedding, a chunk without a vector would otherwise lose to every
 * embedded chunk both retrievers found, however much better its keyword match (an exact identifier
 * in a file not embedded yet). With no blind documents this is plain RRF.
 */
export function reciprocalRankFusion(lists: RankedList[], k = DEFAULT_RRF_K): { id: string; score: number }[] {
  const scores = new Map<string, { score: number; best: number }>();
  for (const list of lists) {
    list.ids.forEach((id, i) => {
      const entry = scores.get(id) ?? { score: 0, best: Number.POSITIVE_INFINITY };
      entry.score += 1 / (k + i + 1);
      entry.best = Math.min(entry.best, i + 1);
      scores.set(id, entry);
    });
  }
  if (lists.some((l) => l.blind?.size)) {
    for (const [id, entry] of scores) {
      const seeing = lists.reduce((n, l) => n + (l.blind?.has(id) ? 0 : 1), 0);
      if (seeing > 0 && seeing < lists.length) entry.score *= lists.length / seeing;
    }
  }
  return [...scores.entries()]
    .sort((a, b) => b[1].score - a[1].score || a[1].best - b[1].best || (a[0] < b[0] ? -1 : 1))
    .map(([id, { score }]) => ({ id, score }));
}
