/**
 * The `#sift` language-model tool's logic (sift_searchCode): input checks, the invocation message,
 * and the result as text parts an agent reads. No vscode import: chatApi.ts adapts it to
 * `vscode.lm.registerTool`. The search itself is the core's `searchChunks`, through AskService.
 */
import { MAX_QUESTION_CHARS } from '../core/answer/ask';
import type { SearchHit, SearchResult } from '../core/answer/search';
import { errorMessage } from '../core/util/errors';
import type { SearchOptions } from './askService';

export const TOOL_NAME = 'sift_searchCode';
export const MAX_LIMIT = 50;
export const DEFAULT_LIMIT = 8;
const MAX_GLOBS = 50;
const MAX_GLOB_CHARS = 500;

export interface SearchToolInput {
  query: string;
  paths?: string[];
  limit: number;
  rerank: boolean;
}

/** What the tool needs from the editor's services. */
export interface ToolSearcher {
  isTrusted(): boolean;
  search(query: string, opts: SearchOptions): Promise<SearchResult>;
}

/** The input as the tool uses it, or the message saying what is wrong with it. */
export function parseToolInput(raw: unknown): { input: SearchToolInput } | { error: string } {
  if (!raw || typeof raw !== 'object') return { error: 'The input must be an object with a "query" string.' };
  const r = raw as Record<string, unknown>;
  if (typeof r.query !== 'string' || !r.query.trim()) return { error: '"query" must be a non-empty string: describe the code to find, or name identifiers.' };
  if (r.query.length > MAX_QUESTION_CHARS) return { error: `"query" is ${r.query.length} characters long; at most ${MAX_QUESTION_CHARS} are accepted. Shorten it to what the code does.` };
  let limit = DEFAULT_LIMIT;
  if (r.limit !== undefined) {
    if (typeof r.limit !== 'number' || !Number.isInteger(r.limit) || r.limit < 1 || r.limit > MAX_LIMIT) return { error: `"limit" must be a whole number from 1 to ${MAX_LIMIT}.` };
    limit = r.limit;
  }
  if (r.rerank !== undefined && typeof r.rerank !== 'boolean') return { error: '"rerank" must be true or false.' };
  let paths: string[] | undefined;
  if (r.paths !== undefined) {
    if (!Array.isArray(r.paths) || !r.paths.every((p) => typeof p === 'string' && p.trim() && p.length <= MAX_GLOB_CHARS) || r.paths.length > MAX_GLOBS) {
      return { error: `"paths" must be a list of at most ${MAX_GLOBS} non-empty glob strings (each at most ${MAX_GLOB_CHARS} characters), e.g. ["src/**"].` };
    }
    paths = r.paths.length ? (r.paths as string[]) : undefined;
  }
  return { input: { query: r.query, ...(paths ? { paths } : {}), limit, rerank: r.rerank !== false } };
}

/** Shown while the tool runs. */
export function invocationMessage(raw: unknown): string {
  const q = raw && typeof raw === 'object' && typeof (raw as { query?: unknown }).query === 'string' ? (raw as { query: string }).query : '';
  const short = q.length > 120 ? `${q.slice(0, 120)}…` : q;
  return short.trim() ? `Searching the codebase with Sift for "${short.replace(/\s+/g, ' ').trim()}"` : 'Searching the codebase with Sift';
}

/** The tool's answer: text parts (a summary, then one part per chunk). Never throws: problems are text. */
export async function runSearchTool(searcher: ToolSearcher, raw: unknown, signal?: AbortSignal): Promise<string[]> {
  if (!searcher.isTrusted()) return ['Sift cannot search: this workspace is not trusted, so Sift has not indexed it. The user can trust the workspace (Manage Workspace Trust) to enable the search.'];
  const parsed = parseToolInput(raw);
  if ('error' in parsed) return [`Sift did not search: ${parsed.error}`];
  const { query, paths, limit, rerank } = parsed.input;
  try {
    const result = await searcher.search(query, { limit, rerank, paths, signal });
    return formatSearch(result, paths);
  } catch (err) {
    if (signal?.aborted) return ['The search was cancelled.'];
    return [`Sift could not search: ${errorMessage(err)}`];
  }
}

export function formatSearch(result: SearchResult, paths?: string[]): string[] {
  const how = `${result.retrieval === 'hybrid' ? 'hybrid (semantic + keyword)' : 'keyword (BM25) only'} retrieval, ${result.reranked ? 'reranked by the cross-encoder' : 'not reranked'}`;
  const head = [
    result.hits.length
      ? `Sift found ${result.hits.length} code chunk${result.hits.length === 1 ? '' : 's'} for "${oneLine(result.query)}"${paths ? ` in ${paths.join(', ')}` : ''} (${how}; ${result.candidates} candidates ranked). Best first; lines are 1-based and inclusive.`
      : `Sift found no code for "${oneLine(result.query)}"${paths ? ` in ${paths.join(', ')}` : ''} (${how}). Try other words or identifiers, or fewer path filters.`,
    ...result.notices.map((n) => `Note: ${n}`),
  ].join('\n');
  return [head, ...result.hits.map(formatHit)];
}

export function formatHit(h: SearchHit): string {
  const where = `${h.folder ? `${h.folder}/` : ''}${h.path}:${h.startLine}-${h.endLine}`;
  const s = h.scores;
  const scores = [s.rerank !== undefined ? `rerank ${s.rerank}` : '', s.ltr !== undefined ? `ltr ${s.ltr}` : '', `fused ${s.fused}`, s.dense !== undefined ? `dense ${s.dense}` : '', s.lexical !== undefined ? `lexical ${s.lexical}` : '']
    .filter(Boolean)
    .join(', ');
  const lines = [
    `[${h.rank}] ${where}${h.symbols.length ? ` (symbol: ${h.symbols.slice(0, 5).join(', ')})` : ''}`,
    `retrievers: ${h.retrievers.join('+') || 'none'}; rank ${h.rankBefore} -> ${h.rankAfter}; scores: ${scores}${h.matchedTerms?.length ? `; matched terms: ${h.matchedTerms.slice(0, 12).join(', ')}` : ''}${h.redacted ? `; secrets redacted: ${Object.values(h.redacted).reduce((a, b) => a + b, 0)}` : ''}`,
    fenced(h.text, h.language),
  ];
  return lines.join('\n');
}

function fenced(text: string, language: string): string {
  let f = '```';
  while (text.includes(f)) f += '`';
  return `${f}${language}\n${text}\n${f}`;
}

const oneLine = (s: string) => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
};
