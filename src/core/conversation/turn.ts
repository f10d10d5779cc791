import { type AnswerResult, type AskContext, type AskEvent, type CarriedFiles, type CompareResult, type RankOptions, ask, askCompare, boundQuestion } from '../answer/ask';
import { retrieve } from '../search/retriever';
import { type Conversation, DEFAULT_HISTORY_TOKENS, addTurn, historyMessages, turnOf } from './conversation';
import { testsFirstRetrieve, testsPlan } from './relatedTests';
import { type Scope, resolveScope, mentionsIn } from './scope';
import { type StandaloneQuery, standaloneQuery } from './standalone';

export interface TurnOptions {
  rerank: boolean;
  onEvent?: (e: AskEvent) => void;
  /** Files, folders or globs the question is scoped to (`--path`, the panel's mentions); `@path` in the question adds to them. */
  paths?: readonly string[];
  /** Token budget of earlier turns in the LLM request (default 1500). */
  historyTokens?: number;
  /** Shared cache of follow-up rewrites (by content hash). */
  rewriteCache?: Map<string, string>;
  /** Log lines (rewrites, fallbacks). */
  log?: (line: string) => void;
  /** A follow-up about tests ranks the earlier files' tests first (default true; false for ablation in `sift eval`). */
  testsFirst?: boolean;
}

export interface TurnResult {
  result: AnswerResult;
  /** The conversation with this turn added. */
  conversation: Conversation;
  standalone: StandaloneQuery;
}

/** What a turn searches with: the standalone query, the scope, and the ranking options and context that carry them. */
export interface PreparedTurn {
  question: string;
  standalone: StandaloneQuery;
  scope: Scope;
  /** The context to rank with (retrieval puts the earlier files' tests first for a "how is that tested?" follow-up). */
  ctx: AskContext;
  rankOptions: RankOptions;
}

/**
 * The retrieval side of a turn (shared by `askTurn` and `sift eval --conversations`): the follow-up
 * made standalone (LLM rewrite or the previous turns' key terms), the files earlier turns cited
 * kept as candidates, mentions resolved, and for a follow-up about tests the earlier files' tests
 * first (relatedTests.ts).
 */
export async function prepareTurn(ctx: AskContext, conversation: Conversation, rawQuestion: string, opts: TurnOptions): Promise<PreparedTurn> {
  const question = boundQuestion(rawQuestion).question;
  const scope = resolveScope(ctx.store, [...(opts.paths ?? []), ...mentionsIn(question)]);
  const standalone = await standaloneQuery(conversation, question, { llm: ctx.settings.llm, model: ctx.settings.chatModel, cache: opts.rewriteCache, log: opts.log, signal: ctx.signal });
  if (standalone.method === 'llm' || standalone.method === 'fallback') opts.onEvent?.({ type: 'notice', message: `Searched for: ${standalone.query}` });
  for (const message of scope.notices) opts.onEvent?.({ type: 'notice', message });
  const carry: CarriedFiles[] = [...scope.carry];
  if (standalone.priorFiles.length) carry.push({ origin: 'previous-turn', files: standalone.priorFiles });
  const rewritten = standalone.method === 'llm' || standalone.method === 'fallback';
  const plan = opts.testsFirst !== false && rewritten ? await testsPlan(question, conversation, standalone.priorFiles, ctx.store) : undefined;
  if (plan?.named.length) opts.log?.(`Follow-up about tests: ${plan.named.map((n) => n.file.path).join(', ')} first (named after the earlier files).`);
  return {
    question,
    standalone,
    scope,
    ctx: plan ? { ...ctx, retrieve: testsFirstRetrieve(ctx.retrieve ?? retrieve, plan) } : ctx,
    rankOptions: {
      rerank: opts.rerank,
      onEvent: opts.onEvent,
      ...(scope.filter ? { filter: scope.filter } : {}),
      ...(carry.length ? { carry } : {}),
      ...(standalone.method === 'llm' || standalone.method === 'fallback' ? { searchQuery: standalone.query } : {}),
    },
  };
}

/**
 * One question inside a conversation: retrieval as `prepareTurn` sets it up, and earlier turns in
 * the LLM request (trimmed to their budget oldest first, secrets redacted).
 */
export async function askTurn(ctx: AskContext, conversation: Conversation, rawQuestion: string, opts: TurnOptions): Promise<TurnResult> {
  const prepared = await prepareTurn(ctx, conversation, rawQuestion, opts);
  const result = await ask(prepared.ctx, rawQuestion, { ...prepared.rankOptions, history: historyMessages(conversation, opts.historyTokens ?? DEFAULT_HISTORY_TOKENS) });
  const notes = prepared.scope.notices;
  const withNotes = notes.length ? { ...result, notices: [...result.notices, ...notes] } : result;
  return { result: withNotes, conversation: addTurn(conversation, turnOf(prepared.question, withNotes)), standalone: prepared.standalone };
}

/**
 * A comparison (with and without reranking) inside a conversation: the same retrieval as
 * `askTurn` — the follow-up made standalone, mentions and pins (pass the pins' files in `paths`
 * and the context through `withPins`), the earlier files kept — so both answers are narrowed alike.
 * The turn joins the conversation with the reranked answer.
 */
export async function compareTurn(ctx: AskContext, conversation: Conversation, rawQuestion: string, opts: Omit<TurnOptions, 'rerank'>): Promise<{ compare: CompareResult; conversation: Conversation; standalone: StandaloneQuery }> {
  const prepared = await prepareTurn(ctx, conversation, rawQuestion, { ...opts, rerank: true });
  const { rerank: _rerank, ...rank } = prepared.rankOptions;
  const r = await askCompare(prepared.ctx, rawQuestion, { ...rank, history: historyMessages(conversation, opts.historyTokens ?? DEFAULT_HISTORY_TOKENS) });
  const notes = prepared.scope.notices;
  const compare = notes.length ? { ...r, reranked: { ...r.reranked, notices: [...r.reranked.notices, ...notes] }, notReranked: { ...r.notReranked, notices: [...r.notReranked.notices, ...notes] } } : r;
  return { compare, conversation: addTurn(conversation, turnOf(prepared.question, compare.reranked)), standalone: prepared.standalone };
}
