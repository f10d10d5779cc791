import type { Candidate } from '../search/types';
import type { TokenCounter } from '../types';

export const DEFAULT_TOP_N = 8;
export const DEFAULT_TOKEN_BUDGET = 3000;

/** A numbered source given to the LLM: one or more chunks of one file merged into a line range. */
export interface PackedSource {
  /** 1-based number the answer cites as [n]. */
  n: number;
  /** Workspace folder name (multi-root only). */
  folder?: string;
  path: string;
  startLine: number;
  endLine: number;
  language: string;
  text: string;
  /** The candidates merged into this source, best first. */
  candidates: Candidate[];
  /** True when the text was cut to fit the budget. */
  truncated: boolean;
}

/** Counts roughly like GPT-style tokenizers (≈4 chars per token): the LLM's tokenizer is unknown. */
export const approxLlmTokens: TokenCounter = { count: (text: string) => Math.ceil(text.length / 3.5) };

/**
 * Takes the top-N candidates in final rank order, merges overlapping or adjacent chunks of the
 * same file into one source, and keeps sources while they fit the token budget (the first one is
 * cut to fit rather than dropped). Sources are numbered in order of their best rank.
 */
export function packContext(
  ranked: Candidate[],
  opts: { topN?: number; tokenBudget?: number; counter?: TokenCounter } = {},
): PackedSource[] {
  const topN = opts.topN ?? DEFAULT_TOP_N;
  const budget = opts.tokenBudget ?? DEFAULT_TOKEN_BUDGET;
  const counter = opts.counter ?? approxLlmTokens;
  const selected = ranked.slice(0, topN);

  // Merge per file: ranges that overlap or touch become one.
  const groups: { folder: string; path: string; language: string; start: number; end: number; lines: Map<number, string>; members: Candidate[] }[] = [];
  for (const c of selected) {
    const { path, startLine, endLine } = c.chunk;
    const folder = c.folder ?? '';
    let group = groups.find((g) => g.folder === folder && g.path === path && startLine <= g.end + 1 && endLine >= g.start - 1);
    if (!group) {
      group = { folder, path, language: c.chunk.language, start: startLine, end: endLine, lines: new Map(), members: [] };
      groups.push(group);
    }
    group.start = Math.min(group.start, startLine);
    group.end = Math.max(group.end, endLine);
    c.chunk.text.split('\n').forEach((line, i) => group!.lines.set(startLine + i, line));
    group.members.push(c);
    // A merge can make this group touch another group of the same file: fold them together.
    for (const other of groups) {
      if (other === group || other.folder !== folder || other.path !== path || other.start > group.end + 1 || other.end < group.start - 1) continue;
      group.start = Math.min(group.start, other.start);
      group.end = Math.max(group.end, other.end);
      for (const [n, l] of other.lines) group.lines.set(n, l);
      group.members.push(...other.members);
      groups.splice(groups.indexOf(other), 1);
    }
  }
  groups.sort((a, b) => Math.min(...a.members.map((m) => m.rankAfter)) - Math.min(...b.members.map((m) => m.rankAfter)));

  const sources: PackedSource[] = [];
  let used = 0;
  for (const g of groups) {
    const lines: string[] = [];
    for (let n = g.start; n <= g.end; n++) lines.push(g.lines.get(n) ?? '');
    let text = lines.join('\n');
    let end = g.end;
    let truncated = false;
    const overhead = counter.count(`[${sources.length + 1}] ${g.folder}/${g.path}:${g.start}-${g.end}\n\`\`\`\n\`\`\`\n`);
    let cost = counter.count(text) + overhead;
    if (used + cost > budget) {
      if (sources.length > 0) continue; // try smaller sources further down
      // The best source alone exceeds the budget: keep as many of its lines as fit.
      while (lines.length > 1 && used + counter.count(lines.join('\n')) + overhead > budget) lines.pop();
      text = lines.join('\n');
      end = g.start + lines.length - 1;
      truncated = true;
      cost = counter.count(text) + overhead;
    }
    used += cost;
    sources.push({
      n: sources.length + 1,
      ...(g.folder ? { folder: g.folder } : {}),
      path: g.path,
      startLine: g.start,
      endLine: end,
      language: g.language,
      text,
      candidates: g.members.sort((a, b) => a.rankAfter - b.rankAfter),
      truncated,
    });
  }
  return sources;
}
