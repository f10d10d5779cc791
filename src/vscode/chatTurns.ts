import { randomUUID } from 'node:crypto';
import type { AnswerResult, AskEvent, RankedResult, SourceResult, Timings } from '../core/answer/ask';
import type { Citation } from '../core/llm/citations';
import { errorMessage } from '../core/util/errors';
import type { PinnedRange } from '../core/conversation/pins';
import type { Answer, Ranked, Source, ToWebview, Turn } from '../protocol/messages';
import type { AskService } from './askService';
import type { ChatHistory } from './chatHistory';
import type { Disposable } from './lifecycle';
import type { Log } from './ports';

const MAX_SOURCE_CHARS = 6000;

/**
 * Runs the chat's questions: one turn each, streamed to the views as events arrive, stored in the
 * history when done. `stop` aborts a running turn.
 */
export class TurnRunner implements Disposable {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly history: ChatHistory,
    private readonly asker: Pick<AskService, 'ask'>,
    private readonly broadcast: (m: ToWebview) => void,
    private readonly log: Log,
  ) {}

  stop(id: string): void {
    this.running.get(id)?.abort();
  }

  dispose(): void {
    for (const c of this.running.values()) c.abort();
  }

  /** `scope`: files/folders besides the question's `@path` mentions, and pinned editor ranges. */
  async run(question: string, rerank: boolean, compare: boolean, scope: { paths?: string[]; pins?: PinnedRange[] } = {}): Promise<void> {
    const id = randomUUID();
    const conversation = this.history.conversation();
    const scoped = scope.paths?.length || scope.pins?.length ? { scope: { ...(scope.paths?.length ? { paths: scope.paths } : {}), ...(scope.pins?.length ? { pins: scope.pins } : {}) } } : {};
    const turn: Turn = { id, conversationId: this.history.conversationId, question, compare, rerank, askedAt: new Date().toISOString(), status: 'running', answers: [], ...scoped };
    this.history.add(turn);
    this.broadcast({ type: 'turn', turn });
    this.onListChanged?.();
    const controller = new AbortController();
    this.running.set(id, controller);
    const onEvent = (e: AskEvent) => {
      if (e.type === 'ranked') {
        answerFor(turn, e.variant).ranking = e.ranking;
      } else if (e.type === 'sources') {
        answerFor(turn, e.variant).sources = e.sources.map(trimSource);
        this.broadcast({ type: 'turn', turn });
      } else if (e.type === 'token') {
        answerFor(turn, e.variant).answer += e.text;
        this.broadcast({ type: 'token', id, variant: e.variant, text: e.text });
      } else if (e.type === 'retrieved') {
        for (const a of turn.answers) a.retrieval = e.mode;
      }
    };
    try {
      const result = await this.asker.ask(question, { id, rerank, compare, signal: controller.signal, onEvent, conversation, ...(scope.paths?.length ? { paths: scope.paths } : {}), ...(scope.pins?.length ? { pins: scope.pins } : {}) });
      const answers = result.compare ? [result.compare.notReranked, result.compare.reranked] : [result.single!];
      turn.answers = answers.map((r) => toAnswer(r, result.compare ? (r === result.compare.reranked ? 'reranked' : 'notReranked') : r.reranked ? 'reranked' : 'notReranked'));
      const stopped = answers.some((a) => a.error?.kind === 'aborted');
      turn.status = stopped ? 'stopped' : answers.some((a) => a.answerKind === 'error') ? 'error' : 'done';
      for (const r of answers) this.logTimings(question, r);
    } catch (err) {
      turn.status = controller.signal.aborted ? 'stopped' : 'error';
      turn.failure = controller.signal.aborted ? undefined : errorMessage(err);
      if (turn.failure) this.log.error(`Question failed: ${turn.failure}`);
    } finally {
      this.running.delete(id);
    }
    // Stored and shown from now on with secrets redacted (history never holds keys).
    this.broadcast({ type: 'turn', turn: this.history.finish(turn) });
    await this.history.save();
    this.onListChanged?.();
  }

  /** Called when a turn starts and when it is stored (the conversation list changed). */
  onListChanged: (() => void) | undefined;

  private logTimings(question: string, r: AnswerResult): void {
    const t = r.timings;
    this.log.info(
      `Q "${question.slice(0, 80)}" [${r.retrieval}${r.reranked ? ', reranked' : ''}] ${r.ranking.length} candidates → ${r.sources.length} sources; ` +
        `embed ${t.embed} ms, dense ${t.dense} ms, lexical ${t.lexical} ms, fuse ${t.fuse} ms, rerank ${t.rerank} ms, first token ${t.firstToken ?? '-'} ms, total ${t.total} ms; ` +
        `${r.answerKind}${r.error ? ` (${r.error.kind})` : ''}, ${r.citations.filter((c) => c.verified).length}/${r.citations.length} citations verified`,
    );
  }
}

/** The turn's answer of `variant`, created (pending) when the first event for it arrives. */
function answerFor(turn: Turn, variant: Answer['variant']): Answer {
  let a = turn.answers.find((x) => x.variant === variant);
  if (!a) {
    a = { variant, retrieval: 'hybrid', reranked: variant === 'reranked', answerKind: 'pending', answer: '', citations: [], sources: [], ranking: [], notices: [] };
    turn.answers.push(a);
    turn.answers.sort((x, y) => (x.variant === 'notReranked' ? -1 : 1) - (y.variant === 'notReranked' ? -1 : 1));
  }
  return a;
}

function trimSource<T extends { text: string }>(s: T): T {
  return s.text.length > MAX_SOURCE_CHARS ? { ...s, text: `${s.text.slice(0, MAX_SOURCE_CHARS)}\n…` } : s;
}

// The protocol's answer types (zod schemas, src/protocol/messages.ts) and the core's
// (src/core/answer/ask.ts) are declared on both sides of a thread boundary; the compiler checks
// that they have the same fields and types, so a field added or changed on one side fails here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? ([Exclude<keyof A, keyof B> | Exclude<keyof B, keyof A>] extends [never] ? true : false) : false) : false;
type AnswerFields = Omit<AnswerResult, 'question' | 'answerKind' | 'sources' | 'ranking' | 'timings' | 'citations' | 'coverage'>;
export const PROTOCOL_MATCHES_CORE: {
  source: Same<SourceResult, Source>;
  scores: Same<SourceResult['scores'], Source['scores']>;
  editor: Same<NonNullable<SourceResult['editor']>, NonNullable<Source['editor']>>;
  ranked: Same<RankedResult, Ranked>;
  timings: Same<Timings, NonNullable<Answer['timings']>>;
  citation: Same<Citation, Answer['citations'][number]>;
  answer: Same<AnswerFields, Omit<Answer, 'variant' | 'answerKind' | 'sources' | 'ranking' | 'timings' | 'citations' | 'coverage'>>;
  coverage: Same<NonNullable<AnswerResult['coverage']>, NonNullable<Answer['coverage']>>;
  answerKind: AnswerResult['answerKind'] extends Answer['answerKind'] ? true : false;
} = { source: true, scores: true, editor: true, ranked: true, timings: true, citation: true, answer: true, answerKind: true, coverage: true };

/** A finished answer as the protocol carries it (long sources cut). */
export function toAnswer(r: AnswerResult, variant: Answer['variant']): Answer {
  return {
    variant,
    retrieval: r.retrieval,
    ...(r.coverage ? { coverage: r.coverage } : {}),
    reranked: r.reranked,
    answerKind: r.answerKind,
    answer: r.answer,
    error: r.error,
    citations: r.citations,
    sources: r.sources.map(trimSource),
    ranking: r.ranking,
    timings: r.timings,
    notices: r.notices,
    ...(r.searchedFor ? { searchedFor: r.searchedFor } : {}),
  } satisfies Required<Omit<Answer, 'error' | 'searchedFor' | 'coverage'>> & Pick<Answer, 'error' | 'searchedFor' | 'coverage'>;
}
