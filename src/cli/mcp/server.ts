import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { describeDense } from '../../core/indexing/denseProgress';
import { describeKeyword } from '../../core/indexing/keywordCoverage';
import { errorMessage, isAbortError } from '../../core/util/errors';
import { MAX_RANGE_LINES, type RangeResult } from './readRange';
import type { McpService, SearchToolResult, ServiceStatus } from './service';

/** Longest query accepted: longer ones are refused with a message (a search wants the words that matter). */
export const MAX_QUERY_CHARS = 4000;
export const MAX_LIMIT = 50;
export const DEFAULT_LIMIT = 10;

const INSTRUCTIONS = [
  'Sift searches this codebase by meaning and by keywords (hybrid embedding + BM25 retrieval, then a cross-encoder reranker) and returns ranked code chunks with file paths and line ranges.',
  'Use search_code to find where something is implemented or handled when you do not know the exact identifier; use grep for exact strings you already know.',
  'Follow up with read_range to read around a hit. index_status tells what is indexed.',
].join(' ');

const SEARCH_DESCRIPTION = `Find the code that implements or handles something, by meaning and keywords, in the folders Sift serves.

Use it instead of grep when you do not know the exact identifier or string: describe the behaviour in plain words ("where are failed uploads retried with exponential backoff", "how is the session token validated"), optionally with identifiers you know. For an exact string or regex you already know, grep is faster and complete.

Returns up to \`limit\` chunks (functions, classes, sections), best first, each with path, startLine-endLine, enclosing symbols, its text (secrets redacted) and why it ranked there:
- retrievers: which retrievers found it — "dense" (embedding similarity: same meaning, other words) and/or "lexical" (BM25 keyword match; matchedTerms lists the words);
- rankBefore → rankAfter: its rank after fusing both retrievers, and after reranking (rerank=true, the default: a cross-encoder reads the query with each candidate);
- scores: rerank (cross-encoder logit, higher = more relevant), dense (cosine similarity), lexical (BM25), fused (reciprocal-rank fusion). Compare scores only within one result list; they order results, they do not prove relevance — read the top hits.
coverage.denseShare < 1 means semantic search is not ready for part of the code yet (embeddings are computed in the background): those results are keyword matches; coverage.note says more. coverage.keyword (searchable of total files) is set while a folder is first being indexed: only those files were searched yet; search again later for the rest.

The index is brought up to date with changed files before each search. Narrow with \`paths\` globs (e.g. ["src/**", "*.py"]). Then call read_range with a hit's path and a wider line range to read the surrounding code.`;

const READ_DESCRIPTION = `Read lines of a file in a folder Sift serves — typically around a search_code hit: pass the hit's path and widen its startLine/endLine by 20-50 lines to see the context.

\`path\` is relative to the served folder, '/'-separated, exactly as search_code returns it. Lines are 1-based and inclusive; endLine defaults to startLine + ${MAX_RANGE_LINES - 1}. At most ${MAX_RANGE_LINES} lines are returned per call (truncated=true then: ask for the next range).

Refused, with the reason: paths outside the folder (".." segments, absolute paths, symlinks), secret files (.env files, private keys, certificates, credential files — never read), and files Sift does not index (ignored by .gitignore/.siftignore, binary, too large, generated). Credentials found inside returned lines are replaced by [REDACTED …].`;

const STATUS_DESCRIPTION = `What Sift has indexed, per served folder: state (not-indexed: the first search_code indexes it; keyword-only: searched by BM25 while embeddings are computed in the background; ready), files, chunks, denseShare (share of chunks with embeddings, i.e. covered by semantic search), the models, when the index was last updated, and background progress.

search_code keeps the index fresh by itself, so there is no need to call this before searching; use it when results look incomplete or to report Sift's state.`;

const ASK_DESCRIPTION = `Answer a question about the code in prose, citing numbered sources ([1], [2]) that are returned with path and line ranges, using the LLM configured for Sift. It runs the same retrieval and reranking as search_code and sends the top chunks (secrets redacted) to that LLM.

Prefer search_code and reading the code yourself when you can; use ask for a quick cited overview. Citations marked verified=false point at no source: do not trust them.`;

const query = z
  .string({ error: 'query must be a string' })
  .max(MAX_QUERY_CHARS, { error: `query is longer than ${MAX_QUERY_CHARS} characters: keep the words that describe what you look for` })
  .refine((q) => q.trim().length > 0, { error: 'query is empty: describe the code you are looking for' })
  .describe('What to find: a behaviour in plain words and/or identifiers, e.g. "retry failed upload with exponential backoff".');

const searchInput = {
  query,
  paths: z
    .array(z.string().min(1).max(300), { error: 'paths must be an array of glob strings' })
    .max(20, { error: 'at most 20 path globs' })
    .optional()
    .describe('Only return chunks of files matching one of these globs, relative to the folder (e.g. "src/**", "*.ts", "tests/"). A glob without "/" matches the name at any depth.'),
  limit: z
    .number({ error: 'limit must be a number' })
    .int({ error: 'limit must be a whole number' })
    .min(1, { error: 'limit must be at least 1' })
    .max(MAX_LIMIT, { error: `limit must be at most ${MAX_LIMIT}` })
    .default(DEFAULT_LIMIT)
    .describe(`How many chunks to return, 1-${MAX_LIMIT} (default ${DEFAULT_LIMIT}).`),
  rerank: z.boolean({ error: 'rerank must be true or false' }).default(true).describe('Rerank the fused candidates with the cross-encoder (default true; false is faster, ranks by fusion only).'),
};

const scores = z.object({ dense: z.number().optional(), lexical: z.number().optional(), fused: z.number(), rerank: z.number().optional(), ltr: z.number().optional() });
const hit = z.object({
  rank: z.number().int(),
  folder: z.string().optional(),
  path: z.string(),
  startLine: z.number().int(),
  endLine: z.number().int(),
  symbols: z.array(z.string()),
  language: z.string(),
  retrievers: z.array(z.enum(['dense', 'lexical'])),
  rankBefore: z.number().int(),
  rankAfter: z.number().int(),
  scores,
  matchedTerms: z.array(z.string()).optional(),
  text: z.string(),
  redacted: z.record(z.string(), z.number()).optional(),
});
const coverage = z.object({ denseShare: z.number(), note: z.string().optional(), keyword: z.object({ searchable: z.number().int(), total: z.number().int() }).optional() });
const searchOutput = {
  query: z.string(),
  retrieval: z.enum(['hybrid', 'lexical-only']),
  reranked: z.boolean(),
  coverage,
  candidates: z.number().int(),
  results: z.array(hit),
  notices: z.array(z.string()),
  timings: z.record(z.string(), z.number()),
};

const rangeInput = {
  path: z.string({ error: 'path must be a string' }).min(1, { error: 'path is empty' }).max(1000, { error: 'path is too long' }).describe('File path relative to the served folder, as search_code returns it.'),
  startLine: z.number({ error: 'startLine must be a number' }).int({ error: 'startLine must be a whole number' }).min(1, { error: 'startLine must be at least 1' }).default(1).describe('First line, 1-based (default 1).'),
  endLine: z.number({ error: 'endLine must be a number' }).int({ error: 'endLine must be a whole number' }).min(1, { error: 'endLine must be at least 1' }).optional().describe(`Last line, inclusive (default startLine + ${MAX_RANGE_LINES - 1}).`),
  folder: z.string().max(300).optional().describe('Which served folder, when Sift serves several (its name as search_code reports it).'),
};
const rangeOutput = {
  folder: z.string().optional(),
  path: z.string(),
  startLine: z.number().int(),
  endLine: z.number().int(),
  totalLines: z.number().int(),
  truncated: z.boolean(),
  text: z.string(),
  redacted: z.record(z.string(), z.number()).optional(),
};

const statusOutput = {
  folders: z.array(
    z.object({
      folder: z.string(),
      root: z.string(),
      indexDir: z.string(),
      state: z.enum(['not-indexed', 'keyword-only', 'ready', 'error']),
      files: z.number().int(),
      chunks: z.number().int(),
      denseShare: z.number(),
      embeddingModel: z.string().nullable(),
      lastUpdate: z.string().nullable(),
      embeddingProvider: z.string().nullable(),
      /** While a keyword pass runs: files searchable so far (searches are answered from them), of the folder's total. */
      keyword: z.object({ searchable: z.number().int(), total: z.number().int(), percent: z.number() }).optional(),
      background: z
        .object({
          task: z.literal('embedding'),
          filesDone: z.number().int(),
          filesTotal: z.number().int(),
          startedAt: z.string(),
          /** The dense pass (lexical first): chunks with embeddings of all, and its smoothed rate and ETA. */
          embedded: z.number().int().optional(),
          chunks: z.number().int().optional(),
          percent: z.number().optional(),
          rate: z.number().optional().describe('chunks embedded per second, smoothed'),
          etaSeconds: z.number().optional().describe('seconds until every chunk is embedded at that rate'),
        })
        .optional(),
      lastError: z.string().optional(),
    }),
  ),
  models: z.object({ embedding: z.string().nullable(), reranker: z.string().nullable(), llm: z.string().nullable() }),
};

/** The MCP server: tool schemas, descriptions for agents and result formatting around `McpService`. */
export function createMcpServer(service: McpService, version: string): McpServer {
  const server = new McpServer({ name: 'sift', title: 'Sift — codebase search', version }, { instructions: INSTRUCTIONS });

  server.registerTool(
    'search_code',
    {
      title: 'Search code (Sift)',
      description: SEARCH_DESCRIPTION,
      inputSchema: searchInput,
      outputSchema: searchOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args, extra) =>
      toolCall(async () => {
        const result = await service.search(args.query, { limit: args.limit, rerank: args.rerank, paths: args.paths }, extra.signal);
        const structured = { ...searchStructured(result) };
        return { content: [{ type: 'text', text: searchText(result) }], structuredContent: structured };
      }),
  );

  server.registerTool(
    'read_range',
    {
      title: 'Read file lines (Sift)',
      description: READ_DESCRIPTION,
      inputSchema: rangeInput,
      outputSchema: rangeOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      toolCall(async () => {
        if (args.endLine !== undefined && args.endLine < args.startLine) throw new Error(`endLine (${args.endLine}) is before startLine (${args.startLine}).`);
        const r = await service.readRange(args.path, args.startLine, args.endLine, args.folder);
        return { content: [{ type: 'text', text: rangeText(r) }], structuredContent: { ...r } };
      }),
  );

  server.registerTool(
    'index_status',
    {
      title: 'Index status (Sift)',
      description: STATUS_DESCRIPTION,
      inputSchema: {},
      outputSchema: statusOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () =>
      toolCall(async () => {
        const s = await service.status();
        return { content: [{ type: 'text', text: statusText(s) }], structuredContent: { ...s } };
      }),
  );

  if (service.llm) {
    server.registerTool(
      'ask',
      {
        title: 'Ask about the code (Sift)',
        description: ASK_DESCRIPTION,
        inputSchema: { question: query.describe('The question about the code.'), rerank: searchInput.rerank },
        annotations: { readOnlyHint: true, openWorldHint: true },
      },
      (args, extra) =>
        toolCall(async () => {
          const { answer, coverage: cov } = await service.ask(args.question, args.rerank, extra.signal);
          const text = [
            answer.answer || (answer.error ? `The LLM call failed: ${answer.error.message}` : '(no answer)'),
            '',
            'Sources:',
            ...answer.sources.map((s) => `[${s.n}] ${s.path}:${s.startLine}-${s.endLine}`),
            ...(cov.note ? ['', cov.note] : []),
          ].join('\n');
          return { content: [{ type: 'text', text }], structuredContent: { ...answer, coverage: cov }, isError: answer.answerKind === 'error' };
        }),
    );
  }
  return server;
}

/** Runs a tool body; any failure becomes an MCP tool error with a clear message, never a crashed server. */
async function toolCall(body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (err) {
    const message = isAbortError(err) ? 'The request was cancelled.' : errorMessage(err);
    return { content: [{ type: 'text', text: message }], isError: true };
  }
}

function searchStructured(r: SearchToolResult) {
  return {
    query: r.query,
    retrieval: r.retrieval,
    reranked: r.reranked,
    coverage: r.coverage,
    candidates: r.candidates,
    results: r.hits,
    notices: r.notices,
    timings: { ...r.timings },
  };
}

function fence(text: string): string {
  let f = '```';
  while (text.includes(f)) f += '`';
  return f;
}

function fmtScores(s: SearchToolResult['hits'][number]['scores']): string {
  const parts: string[] = [];
  if (s.rerank !== undefined) parts.push(`rerank ${s.rerank.toFixed(2)}`);
  if (s.ltr !== undefined) parts.push(`ltr ${s.ltr.toFixed(3)}`);
  if (s.dense !== undefined) parts.push(`cos ${s.dense.toFixed(3)}`);
  if (s.lexical !== undefined) parts.push(`bm25 ${s.lexical.toFixed(2)}`);
  parts.push(`fused ${s.fused.toFixed(4)}`);
  return parts.join(', ');
}

/** The readable block: one header line per hit, then its code. */
function searchText(r: SearchToolResult): string {
  const out: string[] = [];
  const how = `${r.retrieval === 'hybrid' ? 'semantic + keyword' : 'keyword (BM25) only'}${r.reranked ? ', reranked' : ''}`;
  out.push(`${r.hits.length} result${r.hits.length === 1 ? '' : 's'} for "${r.query.length > 200 ? `${r.query.slice(0, 200)}…` : r.query}" (${how}; dense search covers ${Math.round(r.coverage.denseShare * 100)}% of chunks).`);
  if (r.coverage.note) out.push(r.coverage.note);
  for (const n of new Set(r.notices)) out.push(`Note: ${n}`);
  if (!r.hits.length) out.push('Nothing matched. Try other words (what the code does, or identifiers), or fewer path globs.');
  for (const h of r.hits) {
    const where = `${h.folder ? `${h.folder}/` : ''}${h.path}:${h.startLine}-${h.endLine}`;
    const symbols = h.symbols.length ? ` ${h.symbols.slice(0, 3).join(', ')}` : '';
    const found = h.retrievers.map((x) => (x === 'lexical' ? 'bm25' : x)).join('+') || '-';
    out.push('', `[${h.rank}] ${where}${symbols} — found by ${found}, rank ${h.rankBefore} → ${h.rankAfter}; ${fmtScores(h.scores)}`);
    const f = fence(h.text);
    out.push(`${f}${h.language}`, h.text, f);
  }
  if (r.hits.length) {
    const top = r.hits[0]!;
    out.push('', `To read more around a hit: read_range {"path": "${top.path}", "startLine": ${Math.max(1, top.startLine - 20)}, "endLine": ${top.endLine + 40}${top.folder ? `, "folder": "${top.folder}"` : ''}}`);
  }
  return out.join('\n');
}

function rangeText(r: RangeResult): string {
  const width = String(r.endLine).length;
  const numbered = r.text.split('\n').map((line, i) => `${String(r.startLine + i).padStart(width)}  ${line}`);
  const head = `${r.folder ? `${r.folder}/` : ''}${r.path} lines ${r.startLine}-${r.endLine} of ${r.totalLines}${r.truncated ? ` (truncated: ask for ${r.endLine + 1}- to continue)` : ''}`;
  const redacted = r.redacted ? `\n(${Object.values(r.redacted).reduce((a, b) => a + b, 0)} secret(s) redacted)` : '';
  return `${head}${redacted}\n${numbered.join('\n')}`;
}

function statusText(s: ServiceStatus): string {
  const lines = s.folders.map((f) => {
    const b = f.background;
    const dense = b?.chunks ? describeDense({ embedded: b.embedded ?? 0, chunks: b.chunks, percent: b.percent ?? 0, running: true, rate: b.rate, etaSeconds: b.etaSeconds }).replace(/\.$/, '') : undefined;
    const bg = b ? `; building in the background: ${dense ?? `${b.filesDone}/${b.filesTotal} files read`}` : '';
    const err = f.lastError ? `; last error: ${f.lastError}` : '';
    const keyword = f.keyword ? `; indexing, ${describeKeyword(f.keyword)} so far` : '';
    return `${f.folder} (${f.root}): ${f.state}${keyword}, ${f.files} files, ${f.chunks} chunks, dense search covers ${Math.round(f.denseShare * 100)}%, updated ${f.lastUpdate ?? 'never'}${bg}${err}`;
  });
  lines.push(`Models: embedding ${s.models.embedding ? `${s.folders.find((f) => f.embeddingProvider)?.embeddingProvider ?? 'local'} ${s.models.embedding}` : 'none (keyword search only)'}, reranker ${s.models.reranker ?? 'none'}, LLM ${s.models.llm ?? 'not configured'}.`);
  return lines.join('\n');
}
