export const DEFAULT_RRF_K = 60;

export interface RankedList {
  name: string;
  ids: string[];
}

/**
 * Reciprocal rank fusion: score(d) = Σ 1 / (k + rank_i(d)). Robust to the incomparable score
 * scales of BM25 and cosine similarity. Ties break by the best single rank, then by id, so the
 * fused order is deterministic.
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
  return [...scores.entries()]
    .sort((a, b) => b[1].score - a[1].score || a[1].best - b[1].best || (a[0] < b[0] ? -1 : 1))
    .map(([id, { score }]) => ({ id, score }));
}
