import type { GoldFile } from './questions';

/**
 * Retrieval metrics, as in the LocAgent / SweRank papers and the SWE-QA README:
 *
 * - files are ranked by their best chunk (first occurrence in the chunk ranking);
 * - Acc@k: 1 when ALL gold files are among the top k files, else 0;
 * - Recall@k: the fraction of gold files among the top k files;
 * - MRR@k: 1 / rank of the first gold file within the top k files (0 when none);
 * - chunk nDCG@k: a chunk overlapping a gold line range has grade 2, any other chunk of a gold file
 *   grade 1 (every chunk of a gold file without line ranges has grade 1); gain 2^g − 1, discount
 *   log2(rank + 1); the ideal ranking is made of every graded chunk in the index.
 */

export interface RankedChunk {
  path: string;
  startLine: number;
  endLine: number;
}

/** Distinct file paths in order of their best (first) chunk. */
export function fileRanking(chunks: readonly { path: string }[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const c of chunks) {
    if (seen.has(c.path)) continue;
    seen.add(c.path);
    out.push(c.path);
  }
  return out;
}

export function accuracyAt(files: readonly string[], gold: readonly string[], k: number): number {
  if (!gold.length) return 0;
  const top = new Set(files.slice(0, k));
  return gold.every((g) => top.has(g)) ? 1 : 0;
}

export function recallAt(files: readonly string[], gold: readonly string[], k: number): number {
  if (!gold.length) return 0;
  const top = new Set(files.slice(0, k));
  return gold.filter((g) => top.has(g)).length / gold.length;
}

export function mrrAt(files: readonly string[], gold: readonly string[], k: number): number {
  const g = new Set(gold);
  const i = files.slice(0, k).findIndex((f) => g.has(f));
  return i < 0 ? 0 : 1 / (i + 1);
}

/** Grade of one chunk against the gold files: 2 overlaps a gold line range, 1 other chunk of a gold file, 0 otherwise. */
export function chunkGrade(chunk: RankedChunk, gold: readonly GoldFile[]): 0 | 1 | 2 {
  let grade: 0 | 1 | 2 = 0;
  for (const g of gold) {
    if (g.path !== chunk.path) continue;
    grade = 1;
    if (g.lineRanges.some(([s, e]) => chunk.startLine <= e && chunk.endLine >= s)) return 2;
  }
  return grade;
}

export function dcg(grades: readonly number[], k: number): number {
  let sum = 0;
  for (let i = 0; i < Math.min(k, grades.length); i++) sum += (2 ** grades[i]! - 1) / Math.log2(i + 2);
  return sum;
}

/**
 * nDCG@k of a ranking's grades against the ideal ordering of `allGrades` (every graded chunk of
 * the collection; pass the ranking's own grades when unknown). 0 when nothing is relevant.
 */
export function ndcgAt(grades: readonly number[], allGrades: readonly number[], k: number): number {
  const ideal = dcg([...allGrades].sort((a, b) => b - a), k);
  return ideal > 0 ? dcg(grades, k) / ideal : 0;
}

export interface QuestionMetrics {
  acc1: number;
  acc3: number;
  acc5: number;
  recall5: number;
  recall10: number;
  mrr10: number;
  ndcg10: number;
}

export const METRIC_KEYS: (keyof QuestionMetrics)[] = ['acc1', 'acc3', 'acc5', 'recall5', 'recall10', 'mrr10', 'ndcg10'];

/**
 * All metrics of one ranked chunk list. `indexChunks` are the index's chunks of the gold files
 * (for the ideal DCG); when omitted, the ideal is computed from the ranking itself.
 */
export function scoreRanking(ranking: readonly RankedChunk[], gold: readonly GoldFile[], indexChunks?: readonly RankedChunk[]): QuestionMetrics {
  const files = fileRanking(ranking);
  const goldPaths = gold.map((g) => g.path);
  const grades = ranking.map((c) => chunkGrade(c, gold));
  const all = indexChunks ? indexChunks.map((c) => chunkGrade(c, gold)).filter((g) => g > 0) : grades;
  return {
    acc1: accuracyAt(files, goldPaths, 1),
    acc3: accuracyAt(files, goldPaths, 3),
    acc5: accuracyAt(files, goldPaths, 5),
    recall5: recallAt(files, goldPaths, 5),
    recall10: recallAt(files, goldPaths, 10),
    mrr10: mrrAt(files, goldPaths, 10),
    ndcg10: ndcgAt(grades, all, 10),
  };
}

export function meanMetrics(rows: readonly QuestionMetrics[]): QuestionMetrics {
  const out = Object.fromEntries(METRIC_KEYS.map((k) => [k, 0])) as unknown as QuestionMetrics;
  if (!rows.length) return out;
  for (const r of rows) for (const k of METRIC_KEYS) out[k] += r[k];
  for (const k of METRIC_KEYS) out[k] /= rows.length;
  return out;
}
