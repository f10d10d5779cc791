import { formatCount } from '../util/format';

/**
 * How much of a folder is keyword-searchable while its keyword pass runs (lexical first), from the
 * indexer's `plan` and `commit` events, and what an answer given meanwhile says about it: one place
 * for every front end (the editor's answers and status bar, the MCP server's tools and `index_status`).
 */

/**
 * How long a question waits for folders to become keyword-searchable before it is answered from
 * what their keyword pass has committed so far. An update of a few saved files is committed in well
 * under a second (P5b, 10k-file corpus on 2 loaded cores: 136–185 ms for 1 file, 216–293 ms for 10,
 * 1.0–1.25 s for 100 — docs/performance.md), and answering from the index before it would miss
 * exactly the edit the user is asking about; 1.5 s covers those with margin, while a first build's
 * keyword pass (tens of seconds) is not waited for.
 */
export const ANSWER_GRACE_MS = 1500;

/** Files searchable by keywords in their current version, of those the folder will have. */
export interface KeywordCoverage {
  searchable: number;
  total: number;
}

/** Whole percent of files covered (floored: 100 only when every file is searchable). */
export function keywordPercent(c: KeywordCoverage): number {
  return c.total ? Math.min(100, Math.floor((100 * c.searchable) / c.total)) : 100;
}

const n = formatCount;

/** "keyword search covers 37 % of files (1,234 of 3,300)" */
export function describeKeyword(c: KeywordCoverage): string {
  return `keyword search covers ${keywordPercent(c)} % of files (${n(c.searchable)} of ${n(c.total)})`;
}

/**
 * The notice of an answer given before every file was keyword-searchable: per folder answered from
 * part of its files (`name` is empty for a single folder), how much it covered; undefined when none.
 */
export function keywordCoverageNotice(parts: readonly ({ name: string } & KeywordCoverage)[]): string | undefined {
  const partial = parts.filter((p) => p.searchable < p.total);
  if (!partial.length) return undefined;
  const what = partial.map((p) => `${describeKeyword(p)}${p.name ? ` in ${p.name}` : ''}`).join('; ');
  return `Answered from what is indexed so far: ${what}; indexing continues, so files not indexed yet are not searched. Ask again later for the whole folder.`;
}
