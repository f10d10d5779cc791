import { type AnswerResult, type AskContext, type AskEvent, type CarriedFiles, ask, boundQuestion } from '../answer/ask';
import { type Conversation, DEFAULT_HISTORY_TOKENS, addTurn, historyMessages, turnOf } from './conversation';
import { resolveScope, mentionsIn } from './scope';
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
}

export interface TurnResult {
  result: AnswerResult;
  /** The conversation with this turn added. */
  conversation: Conversation;
  standalone: StandaloneQuery;
}

/**
 * One question inside a conversation: the follow-up made standalone for retrieval (LLM rewrite or
 * the previous turns' key terms), the files earlier turns cited kept as candidates, mentions
 * resolved (files always in the context, folders restricting retrieval), and earlier turns in
 * the LLM request (trimmed to their budget oldest first, secrets redacted).
 */
export async function askTurn(ctx: AskContext, conversation: Conversation, rawQuestion: string, opts: TurnOptions): Promise<TurnResult> {
  const question = boundQuestion(rawQuestion).question;
  const scope = resolveScope(ctx.store, [...(opts.paths ?? []), ...mentionsIn(question)]);
  const standalone = await standaloneQuery(conversation, question, { llm: ctx.settings.llm, model: ctx.settings.chatModel, cache: opts.rewriteCache, log: opts.log, signal: ctx.signal });
  if (standalone.method === 'llm' || standalone.method === 'fallback') opts.onEvent?.({ type: 'notice', message: `Searched for: ${standalone.query}` });
  for (const message of scope.notices) opts.onEvent?.({ type: 'notice', message });
  const carry: CarriedFiles[] = [...scope.carry];
  if (standalone.priorFiles.length) carry.push({ origin: 'previous-turn', files: standalone.priorFiles });
  const result = await ask(ctx, rawQuestion, {
    rerank: opts.rerank,
    onEvent: opts.onEvent,
    ...(scope.filter ? { filter: scope.filter } : {}),
    ...(carry.length ? { carry } : {}),
    ...(standalone.method === 'llm' || standalone.method === 'fallback' ? { searchQuery: standalone.query } : {}),
    history: historyMessages(conversation, opts.historyTokens ?? DEFAULT_HISTORY_TOKENS),
  });
  const withNotes = scope.notices.length ? { ...result, notices: [...result.notices, ...scope.notices] } : result;
  return { result: withNotes, conversation: addTurn(conversation, turnOf(question, withNotes)), standalone };
}
