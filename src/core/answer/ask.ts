import type { IndexStore } from '../store/store';
import { type Citation, parseCitations } from '../llm/citations';
import { type PackedSource, packContext } from '../llm/context';
import { type ChatModel, openAiChatModel } from '../llm/chatModel';
import { type LlmConfig, LlmError, llmConfigured } from '../llm/llm';
import { type ChatMessage, buildMessages } from '../llm/prompt';
import { type EditorMarks, editorMarks } from '../ltr/editor';
import type { EditorSignals } from '../ltr/features';
import { type LtrModel, type LtrResidual, ltrRerank } from '../ltr/model';
import { understandQuestion } from '../query/understand';
import { priorDepth } from '../search/namedFiles';
import { lookupForPrior, widenForPrior } from '../search/priorPool';
import { applyQuestionPrior } from '../search/questionPrior';
import type { RerankScorer } from '../rerank/reranker';
import { DEFAULT_CANDIDATES, type DenseCoverage, type NamedStore, type RetrieveResult, type SearchWorker, retrieve } from '../search/retriever';
import { type Candidate, type RetrieverName, retrieversOf } from '../search/types';
import { errorMessage } from '../util/errors';
import { formatCount } from '../util/format';

export interface AskSettings {
  candidates?: number;
  topN?: number;
  tokenBudget?: number;
  /** Cross-encoder max tokens per (question, chunk) pair. */
  rerankMaxLength?: number;
  llm?: Partial<LlmConfig>;
  /** The model that writes the answer, when it is not the OpenAI-compatible endpoint of `llm` (e.g. the editor's). */
  chatModel?: ChatModel;
  /** Redact private keys and credential patterns in sources before they go to the LLM (default true). */
  redactSecrets?: boolean;
  /**
   * Question understanding's file-level prior after ranking (src/core/search/questionPrior.ts: roles
   * by the question's kind, definitions, traceback frames, imports; default true — docs/eval.md,
   * issue 19). Compare mode leaves it out on both sides, so its difference stays reranking alone.
   */
  questionPrior?: boolean;
}

export interface AskContext {
  /** One index, or several folders' indexes searched together (multi-root). */
  store: IndexStore | NamedStore[];
  /** Worker with the index's embedding model loaded; omit for lexical-only retrieval. */
  /** Embeds the question: the inference worker, or an embedding server beside it (src/core/worker/embedder.ts). */
  embedder?: SearchWorker;
  /** Omit when no cross-encoder is available. */
  reranker?: RerankScorer;
  /** Learning-to-rank model applied when reranking (after the cross-encoder, or alone); omit to switch it off. */
  ltr?: LtrModel;
  /** In the editor: open / recently edited files and the cursor (learning-to-rank features, markers on sources). */
  editor?: EditorSignals;
  /** In the editor: the correction learned from the sources the user opened, added to the model's score. */
  ltrResidual?: LtrResidual;
  /** Called with each answer's final candidate list (the editor keeps it to learn from opened sources). */
  onCandidates?: (variant: Variant, candidates: readonly Candidate[]) => void;
  settings: AskSettings;
  signal?: AbortSignal;
  /** Replaces the first-stage retrieval (the team index with its local overlay, src/core/team); defaults to `retrieve`. */
  retrieve?: typeof retrieve;
}

export type Variant = 'reranked' | 'notReranked';

export interface Timings {
  embed: number;
  dense: number;
  lexical: number;
  fuse: number;
  rerank: number;
  /** From sending the LLM request to its first token (null without an LLM answer). */
  firstToken: number | null;
  total: number;
}

export interface SourceResult {
  n: number;
  /** Workspace folder name (multi-root only). */
  folder?: string;
  path: string;
  startLine: number;
  endLine: number;
  language: string;
  symbols: string[];
  retrievers: RetrieverName[];
  rankBefore: number;
  rankAfter: number;
  scores: { dense?: number; lexical?: number; fused: number; rerank?: number; ltr?: number };
  /** How many chunks were merged into this source. */
  chunks: number;
  text: string;
  /** Editor signals the learning-to-rank stage saw for this source's file (in the editor only). */
  editor?: EditorMarks;
  /** Kept as a candidate because a previous turn cited its file, or the question mentioned it. */
  carried?: CarriedOrigin;
  /** With a team index: from the team's commit or the developer's local overlay. */
  origin?: 'team' | 'local';
}

export interface RankedResult {
  chunkId: string;
  folder?: string;
  path: string;
  startLine: number;
  endLine: number;
  symbols: string[];
  retrievers: RetrieverName[];
  rankBefore: number;
  rankAfter: number;
  scores: SourceResult['scores'];
  carried?: CarriedOrigin;
  origin?: 'team' | 'local';
}

export interface AnswerResult {
  question: string;
  retrieval: 'hybrid' | 'lexical-only';
  /** The share of chunks dense search covered (below 1 while embedding continues after the keyword pass). */
  coverage?: DenseCoverage;
  reranked: boolean;
  /** 'llm': answered by the LLM; 'retrieval-only': no LLM configured; 'error': the LLM call failed (partial text kept). */
  answerKind: 'llm' | 'retrieval-only' | 'error';
  answer: string;
  error?: { kind: string; message: string };
  citations: Citation[];
  sources: SourceResult[];
  /** The full candidate list in final order (top K). */
  ranking: RankedResult[];
  timings: Timings;
  notices: string[];
  /** The query retrieval used when it differs from the question (a follow-up made standalone). */
  searchedFor?: string;
}

export interface CompareResult {
  question: string;
  reranked: AnswerResult;
  notReranked: AnswerResult;
}

export type AskEvent =
  | { type: 'retrieved'; mode: 'hybrid' | 'lexical-only'; candidates: number }
  | { type: 'ranked'; variant: Variant; ranking: RankedResult[] }
  | { type: 'sources'; variant: Variant; sources: SourceResult[] }
  | { type: 'token'; variant: Variant; text: string }
  | { type: 'notice'; message: string };

/**
 * Longest question (characters) passed on to the tokenizers, the models and the LLM; the rest is
 * cut with a notice. The embedder reads 512 tokens and the cross-encoder 256 (question and passage
 * together), so more only costs time — tokenising and stemming on the calling thread (the
 * extension host's, in the editor) — and prompt size. Every entry below applies it: CLI, editor
 * and search tools get the same bound.
 */
export const MAX_QUESTION_CHARS = 8000;

/** The question as it is used, and a notice when it was cut (never inside a surrogate pair). */
export function boundQuestion(question: string): { question: string; notice?: string } {
  if (question.length <= MAX_QUESTION_CHARS) return { question };
  let cut = MAX_QUESTION_CHARS;
  const last = question.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return { question: question.slice(0, cut), notice: `The question is ${formatCount(question.length)} characters long: only its first ${formatCount(cut)} were used.` };
}

function startQuestion(raw: string, onEvent?: (e: AskEvent) => void): { question: string; notices: string[] } {
  const { question, notice } = boundQuestion(raw);
  if (notice) onEvent?.({ type: 'notice', message: notice });
  return { question, notices: notice ? [notice] : [] };
}

/** One question, one ranking (reranked when a reranker is given and `rerank` is true), one answer. */
export async function ask(ctx: AskContext, rawQuestion: string, opts: RankOptions & { history?: ChatMessage[] }): Promise<AnswerResult> {
  const started = performance.now();
  const bounded = startQuestion(rawQuestion, opts.onEvent);
  const question = bounded.question;
  const { retrieved, ranked, variant, notices } = await retrieveAndRank(ctx, question, opts);
  notices.unshift(...bounded.notices);
  const result = await answerStage(ctx, question, retrieved, ranked, variant, started, notices, opts.onEvent, opts.history);
  return opts.searchQuery && opts.searchQuery !== question ? { ...result, searchedFor: opts.searchQuery } : result;
}

/** Why a candidate was kept beyond retrieval: an earlier turn cited its file, or the question mentioned it. */
export type CarriedOrigin = 'previous-turn' | 'mentioned';

/** Files whose best chunks stay candidates ('mentioned' ones go first, so they are always in the context). */
export interface CarriedFiles {
  origin: CarriedOrigin;
  files: { folder?: string; path: string }[];
}

export interface RankOptions {
  rerank: boolean;
  /**
   * Keeps only the candidates that pass (e.g. path globs). Retrieval then looks deeper, so that
   * up to K candidates that pass reach the reranker; their ranks are counted among those kept.
   */
  filter?: (c: Candidate) => boolean;
  onEvent?: (e: AskEvent) => void;
  /** What retrieval and the reranker search for, when it differs from the question (a follow-up made standalone). */
  searchQuery?: string;
  /** Files kept as candidates whatever their rank (see carryFiles). */
  carry?: CarriedFiles[];
}

export interface RankingResult {
  mode: 'hybrid' | 'lexical-only';
  coverage?: DenseCoverage;
  reranked: boolean;
  /** Every candidate in final order (top K), with its provenance. */
  candidates: Candidate[];
  timings: Omit<Timings, 'firstToken' | 'total'>;
  notices: string[];
}

/**
 * Retrieval and ranking without an answer (search tools: the MCP server, the editor's tool): the
 * same stages, provenance and notices as `ask`, which calls the same code.
 */
export async function rankCandidates(ctx: AskContext, rawQuestion: string, opts: RankOptions): Promise<RankingResult> {
  const bounded = startQuestion(rawQuestion, opts.onEvent);
  const { retrieved, ranked, notices } = await retrieveAndRank(ctx, bounded.question, opts);
  notices.unshift(...bounded.notices);
  return { mode: retrieved.mode, coverage: retrieved.coverage, reranked: ranked.reranked, candidates: ranked.candidates, timings: { ...roundTimings(retrieved.timings), rerank: round(ranked.ms) }, notices };
}

async function retrieveAndRank(ctx: AskContext, question: string, opts: RankOptions) {
  const notices: string[] = [];
  const query = opts.searchQuery ? boundQuestion(opts.searchQuery).question : question;
  // A follow-up that carries earlier turns' files is ordered by the conversation (it knows what "this" is); the prior reads one question.
  const prior = ctx.settings.questionPrior !== false && !opts.carry?.length && !opts.searchQuery;
  const k = ctx.settings.candidates ?? DEFAULT_CANDIDATES;
  const u = prior ? understandQuestion(query) : undefined;
  const retrieved = await retrieveStage(ctx, query, notices, opts.onEvent, opts.filter, opts.carry, u ? priorDepth(u, k) : 0);
  const variant: Variant = opts.rerank && (ctx.reranker || ctx.ltr) ? 'reranked' : 'notReranked';
  // What the user sees instead of a reranked list: the prior still orders the fused candidates, and the notice says so.
  const fallback = prior ? 'showing the fused ranking, ordered by question understanding (file roles, named symbols and paths)' : 'showing the fused ranking';
  if (opts.rerank && !ctx.reranker && !ctx.ltr) notices.push(`Reranking is unavailable (no cross-encoder loaded): ${fallback}.`);
  const ranked = await rankStage(ctx, query, retrieved.candidates, variant === 'reranked', notices, fallback);
  if (u && ranked.candidates.length) {
    // The candidates below K, files the question names by path (a traceback's frames) and files defining a symbol it
    // names that retrieval missed join the list before the prior weighs it (src/core/search/priorPool.ts, as `sift eval` +q).
    // Still the top K afterwards: what the prior raised from below K replaces what it lowered.
    const lookups = await lookupForPrior(ctx.store, u, [...ranked.candidates, ...retrieved.tail], { question: query });
    // What the lookups add (named, defined, feedback files) stays within the question's scope (a mentioned folder, --path).
    const scoped = new Set([...ranked.candidates, ...retrieved.tail].map((c) => `${c.folder ?? ''}\0${c.chunk.id}`));
    const filter = opts.filter;
    const widened = widenForPrior(ranked.candidates, retrieved.tail, ranked.reranked, lookups).filter((c) => !filter || scoped.has(`${c.folder ?? ''}\0${c.chunk.id}`) || filter(c));
    ranked.candidates = applyQuestionPrior(widened, u).slice(0, Math.max(k, ranked.candidates.length));
  }
  if (opts.carry?.some((c) => c.origin === 'mentioned')) ranked.candidates = mentionedFirst(ranked.candidates);
  return { retrieved, ranked, variant, notices };
}

/**
 * Compare mode: retrieval runs once; the same candidates are ranked with and without the
 * cross-encoder, and (with an LLM) answered twice, so the difference is reranking alone. The
 * question's scope applies to both sides as in `ask`: a path filter (a mentioned folder, --path),
 * carried files (mentioned files and pins first, an earlier turn's files), the standalone query of
 * a follow-up (`searchQuery`) and the conversation's earlier turns (`history`).
 */
export async function askCompare(ctx: AskContext, rawQuestion: string, opts: Omit<RankOptions, 'rerank'> & { history?: ChatMessage[] } = {}): Promise<CompareResult> {
  const started = performance.now();
  const { question, notices } = startQuestion(rawQuestion, opts.onEvent);
  const query = opts.searchQuery ? boundQuestion(opts.searchQuery).question : question;
  const retrieved = await retrieveStage(ctx, query, notices, opts.onEvent, opts.filter, opts.carry);
  if (!ctx.reranker && !ctx.ltr) notices.push('Reranking is unavailable (no cross-encoder loaded): both sides show the fused ranking.');
  const plain = await rankStage(ctx, query, retrieved.candidates, false);
  const reranked = await rankStage(ctx, query, retrieved.candidates, Boolean(ctx.reranker || ctx.ltr), notices);
  if (opts.carry?.some((c) => c.origin === 'mentioned')) for (const r of [plain, reranked]) r.candidates = mentionedFirst(r.candidates);
  const notReranked = await answerStage(ctx, question, retrieved, plain, 'notReranked', started, [...notices], opts.onEvent, opts.history);
  const withRerank = await answerStage(ctx, question, retrieved, reranked, 'reranked', started, [...notices], opts.onEvent, opts.history);
  const searched = opts.searchQuery && opts.searchQuery !== question ? { searchedFor: opts.searchQuery } : {};
  return { question, reranked: { ...withRerank, ...searched }, notReranked: { ...notReranked, ...searched } };
}

interface Retrieved extends RetrieveResult {
  total: number;
  /** The first stage's candidates below the top K, for the question prior (empty unless asked for). */
  tail: Candidate[];
}

async function retrieveStage(
  ctx: AskContext,
  question: string,
  notices: string[],
  onEvent?: (e: AskEvent) => void,
  filter?: (c: Candidate) => boolean,
  carry?: CarriedFiles[],
  priorDepth = 0,
): Promise<Retrieved> {
  const t = performance.now();
  const k = ctx.settings.candidates ?? DEFAULT_CANDIDATES;
  const deep = Boolean(filter || carry?.length);
  // With the question prior, the candidates below K down to priorDepth too (each retriever as deep as for K alone, so the top K is unchanged).
  const wanted = deep ? Math.max(8 * k, 400) : Math.max(k, priorDepth);
  const result = await (ctx.retrieve ?? retrieve)(ctx.store, question, { candidates: wanted, ...(deep ? {} : { depth: Math.max(k * 2, 50) }), embedder: ctx.embedder, signal: ctx.signal });
  let tail: Candidate[] = [];
  if (!deep && result.candidates.length > k) {
    tail = result.candidates.slice(k);
    result.candidates = result.candidates.slice(0, k);
  }
  if (deep) {
    const all = filter ? result.candidates.filter(filter) : result.candidates;
    result.candidates = carry?.length ? await carryFiles(ctx, question, all, k, carry, filter) : all.slice(0, k).map((c, i) => ({ ...c, rankBefore: i + 1, rankAfter: i + 1 }));
  }
  for (const n of result.notices ?? []) {
    notices.push(n);
    onEvent?.({ type: 'notice', message: n });
  }
  const coverageNote = coverageNotice(result);
  if (coverageNote) {
    notices.push(coverageNote);
    onEvent?.({ type: 'notice', message: coverageNote });
  }
  onEvent?.({ type: 'retrieved', mode: result.mode, candidates: result.candidates.length });
  return { ...result, total: performance.now() - t, tail };
}

/**
 * What the answer says about dense coverage: nothing when every chunk is embedded; the share while
 * embedding catches up (lexical first); keyword-only when no vector is searched at all.
 */
export function coverageNotice(r: Pick<RetrieveResult, 'mode' | 'coverage'>): string | undefined {
  const { embedded, chunks, share } = r.coverage ?? { embedded: 0, chunks: 0, share: 0 };
  if (r.mode === 'lexical-only') {
    return embedded === 0 && chunks > 0
      ? 'Keyword (BM25) retrieval only: dense search covers 0 % of chunks (the index has no vectors yet, or no embedding model).'
      : 'Keyword (BM25) retrieval only: no embedding model is available for this index.';
  }
  if (embedded >= chunks) return undefined;
  const pct = Math.floor(share * 100);
  return `Dense search covers ${pct} % of chunks (${formatCount(embedded)} of ${formatCount(chunks)}); the rest is matched by keywords (BM25) only until it is embedded.`;
}

async function rankStage(ctx: AskContext, question: string, candidates: Candidate[], rerank: boolean, notices: string[] = [], fallback = 'showing the fused ranking'): Promise<{ candidates: Candidate[]; ms: number; reranked: boolean }> {
  if (!rerank || (!ctx.reranker && !ctx.ltr) || candidates.length === 0) return { candidates, ms: 0, reranked: false };
  const t = performance.now();
  let out = candidates;
  if (ctx.reranker) {
    try {
      out = (await ctx.reranker.rerank(question, candidates, { signal: ctx.signal, maxLength: ctx.settings.rerankMaxLength })).candidates;
    } catch (err) {
      // A cancelled question stays cancelled; any other failure (a rerank server down, a worker crash)
      // costs the reranking, not the answer.
      if (ctx.signal?.aborted) throw err;
      notices.push(`Reranking failed (${err instanceof Error ? err.message : String(err)}): ${fallback}.`);
      return { candidates, ms: performance.now() - t, reranked: false };
    }
  }
  if (ctx.ltr) out = ltrRerank(ctx.ltr, question, out, ctx.editor, ctx.ltrResidual);
  return { candidates: out, ms: performance.now() - t, reranked: true };
}

async function answerStage(
  ctx: AskContext,
  question: string,
  retrieved: Retrieved,
  ranked: { candidates: Candidate[]; ms: number; reranked: boolean },
  variant: Variant,
  started: number,
  notices: string[],
  onEvent?: (e: AskEvent) => void,
  history?: ChatMessage[],
): Promise<AnswerResult> {
  const ranking = ranked.candidates.map(toRanked);
  onEvent?.({ type: 'ranked', variant, ranking });
  ctx.onCandidates?.(variant, ranked.candidates);
  const packed = packContext(ranked.candidates, { topN: ctx.settings.topN, tokenBudget: ctx.settings.tokenBudget });
  const withMarks = ranked.reranked && ctx.ltr && ctx.editor;
  const sources = packed.map(toSource).map((s) => {
    const marks = withMarks ? editorMarks(ctx.editor, s.folder, s.path, s.startLine, s.endLine) : undefined;
    return marks ? { ...s, editor: marks } : s;
  });
  onEvent?.({ type: 'sources', variant, sources });
  const timings: Timings = { ...roundTimings(retrieved.timings), rerank: round(ranked.ms), firstToken: null, total: 0 };
  const base = { question, retrieval: retrieved.mode, coverage: retrieved.coverage, reranked: ranked.reranked, sources, ranking, timings, notices };

  const llm = ctx.settings.llm;
  const model = ctx.settings.chatModel ?? (llmConfigured(llm) ? openAiChatModel(llm) : undefined);
  if (!model) {
    notices.push('No LLM is configured: showing the ranked sources. Set a base URL (OPENAI_BASE_URL) and a model (--llm-model) to get a written answer.');
    timings.total = round(performance.now() - started);
    return { ...base, answerKind: 'retrieval-only', answer: '', citations: [] };
  }
  let answer = '';
  const requested = performance.now();
  try {
    answer = await model.answer(
      buildMessages(question, packed, { redact: ctx.settings.redactSecrets !== false, history }),
      {
        onToken: (text) => {
          if (timings.firstToken === null) timings.firstToken = round(performance.now() - requested);
          answer += text;
          onEvent?.({ type: 'token', variant, text });
        },
      },
      ctx.signal,
    );
    timings.total = round(performance.now() - started);
    return { ...base, answerKind: 'llm', answer, citations: parseCitations(answer, sources.length) };
  } catch (err) {
    timings.total = round(performance.now() - started);
    const error = err instanceof LlmError ? { kind: err.kind, message: err.message } : { kind: 'other', message: errorMessage(err) };
    return { ...base, answerKind: 'error', answer, error, citations: parseCitations(answer, sources.length) };
  }
}

function scoresOf(c: Candidate): SourceResult['scores'] {
  const p = c.provenance;
  return {
    ...(p.dense ? { dense: round4(p.dense.score) } : {}),
    ...(p.lexical ? { lexical: round4(p.lexical.score) } : {}),
    fused: round4(p.fused.score),
    ...(p.rerank ? { rerank: round4(p.rerank.score) } : {}),
    ...(p.ltr ? { ltr: round4(p.ltr.score) } : {}),
  };
}

/** A candidate as reported to users and tools: location, symbols, retrievers, ranks and scores. */
export function toRanked(c: Candidate): RankedResult {
  return {
    chunkId: c.chunk.id,
    ...(c.folder ? { folder: c.folder } : {}),
    path: c.chunk.path,
    startLine: c.chunk.startLine,
    endLine: c.chunk.endLine,
    symbols: c.chunk.symbols,
    retrievers: retrieversOf(c.provenance),
    rankBefore: c.rankBefore,
    rankAfter: c.rankAfter,
    scores: scoresOf(c),
    ...(c.provenance.carried ? { carried: c.provenance.carried } : {}),
    ...(c.origin ? { origin: c.origin } : {}),
  };
}

function toSource(s: PackedSource): SourceResult {
  const best = s.candidates[0]!;
  const retrievers = new Set<RetrieverName>();
  for (const c of s.candidates) for (const r of retrieversOf(c.provenance)) retrievers.add(r);
  return {
    n: s.n,
    ...(best.folder ? { folder: best.folder } : {}),
    path: s.path,
    startLine: s.startLine,
    endLine: s.endLine,
    language: s.language,
    symbols: [...new Set(s.candidates.flatMap((c) => c.chunk.symbols))],
    retrievers: [...retrievers].sort(),
    rankBefore: best.rankBefore,
    rankAfter: best.rankAfter,
    scores: scoresOf(best),
    chunks: s.candidates.length,
    text: s.text,
    ...(best.provenance.carried ? { carried: best.provenance.carried } : {}),
    ...(best.origin ? { origin: best.origin } : {}),
  };
}

/** How many chunks of one carried file stay candidates. */
const CARRIED_PER_FILE = 2;

/**
 * The top K of `all`, plus the best chunks of each carried file that did not make it (marked with
 * their origin in the provenance). A carried file that the deep list does not reach is searched on
 * its own (the question plus its path's words), so a mentioned file is found whatever it holds.
 */
async function carryFiles(ctx: AskContext, question: string, all: Candidate[], k: number, carry: CarriedFiles[], filter?: (c: Candidate) => boolean): Promise<Candidate[]> {
  const fileKey = (folder: string | undefined, p: string) => `${folder ?? ''}\u0000${p}`;
  const top = all.slice(0, k);
  const inTop = new Set(top.map((c) => c.chunk.id + fileKey(c.folder, '')));
  const extra: Candidate[] = [];
  const origin = new Map<string, CarriedOrigin>();
  for (const group of carry) for (const f of group.files) if (origin.get(fileKey(f.folder, f.path)) !== 'mentioned') origin.set(fileKey(f.folder, f.path), group.origin);
  for (const [key, how] of origin) {
    const [folder, p] = key.split('\u0000') as [string, string];
    const same = (c: Candidate) => c.chunk.path === p && (c.folder ?? '') === folder;
    let found = all.filter(same);
    if (!found.length) {
      const pathWords = p.replace(/[^A-Za-z0-9]+/g, ' ');
      const own = await retrieve(ctx.store, `${question} ${pathWords} ${pathWords}`, { candidates: 400, embedder: ctx.embedder, signal: ctx.signal });
      found = own.candidates.filter((c) => same(c) && (!filter || filter(c)));
    }
    for (const c of found.slice(0, CARRIED_PER_FILE)) {
      const mark = { ...c, provenance: { ...c.provenance, carried: how } };
      const at = top.findIndex((t) => t.chunk.id === c.chunk.id && (t.folder ?? '') === folder);
      if (at >= 0) top[at] = mark;
      else if (!inTop.has(c.chunk.id + fileKey(c.folder, ''))) extra.push(mark);
    }
  }
  return [...top, ...extra].map((c, i) => ({ ...c, rankBefore: i + 1, rankAfter: i + 1 }));
}

/** Candidates of mentioned files first (so they are always packed into the context), the rest in order. */
function mentionedFirst(candidates: Candidate[]): Candidate[] {
  const first = candidates.filter((c) => c.provenance.carried === 'mentioned');
  const rest = candidates.filter((c) => c.provenance.carried !== 'mentioned');
  return [...first, ...rest].map((c, i) => ({ ...c, rankAfter: i + 1 }));
}

const round = (x: number) => Math.round(x * 10) / 10;
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
function roundTimings(t: RetrieveResult['timings']) {
  return { embed: round(t.embed), dense: round(t.dense), lexical: round(t.lexical), fuse: round(t.fuse) };
}
