import { redactSecretsInText } from '../discovery/redact';
import type { AnswerResult } from '../answer/ask';
import { approxLlmTokens } from '../llm/context';
import type { ChatMessage } from '../llm/prompt';

/** A source an answer cited (or showed), by location: what a later turn carries forward. */
export interface TurnSource {
  folder?: string;
  path: string;
  startLine: number;
  endLine: number;
  symbols: string[];
}

/** One question and its answer, as a conversation remembers it. */
export interface Turn {
  question: string;
  /** The query retrieval used (the question made standalone), when it differed. */
  searchedFor?: string;
  answer: string;
  /** The sources the answer cited; every source shown when it cited none (no LLM, or no citation). */
  sources: TurnSource[];
}

export interface Conversation {
  id: string;
  turns: Turn[];
}

/** Default token budget for earlier turns in the LLM request (the sources have their own). */
export const DEFAULT_HISTORY_TOKENS = 1500;
/** Longest stored question or answer of one turn (characters); the rest is cut. */
export const MAX_TURN_TEXT = 8000;

export function newConversation(id: string = `c${Date.now().toString(36)}`): Conversation {
  return { id, turns: [] };
}

/** The turn an answer makes, secrets redacted (history never holds keys), cited sources kept. */
/** What a turn needs of an answer (the core's AnswerResult, or the protocol's Answer in the editor). */
export type AnswerLike = Pick<AnswerResult, 'answer' | 'searchedFor'> & {
  citations: readonly { n: number; verified: boolean }[];
  sources: readonly { n: number; folder?: string; path: string; startLine: number; endLine: number; symbols: string[] }[];
};

export function turnOf(question: string, result: AnswerLike): Turn {
  const cited = new Set(result.citations.filter((c) => c.verified).map((c) => c.n));
  const kept = cited.size ? result.sources.filter((s) => cited.has(s.n)) : result.sources;
  return {
    question: clean(question),
    ...(result.searchedFor ? { searchedFor: clean(result.searchedFor) } : {}),
    answer: clean(withLocations(result.answer, result.sources)),
    sources: kept.map((s) => ({ ...(s.folder ? { folder: s.folder } : {}), path: s.path, startLine: s.startLine, endLine: s.endLine, symbols: s.symbols.slice(0, 8) })),
  };
}

export function addTurn(conversation: Conversation, turn: Turn): Conversation {
  return { ...conversation, turns: [...conversation.turns, turn] };
}

/** Title of a conversation: its first question, on one line, cut. */
export function titleOf(conversation: Conversation): string {
  const first = conversation.turns[0]?.question.replace(/\s+/g, ' ').trim() ?? '';
  return first.length > 80 ? `${first.slice(0, 79)}…` : first || 'New conversation';
}

/**
 * Earlier turns as chat messages for the LLM: newest kept first, oldest dropped when over the
 * budget (the newest is cut rather than dropped). Answers name their sources by location, not by
 * number: a follow-up's [n] refer to its own sources only.
 */
export function historyMessages(conversation: Conversation, budget = DEFAULT_HISTORY_TOKENS): ChatMessage[] {
  const out: ChatMessage[] = [];
  let used = 0;
  for (let i = conversation.turns.length - 1; i >= 0; i--) {
    const t = conversation.turns[i]!;
    const user = clean(t.question);
    let assistant = clean(t.answer) || `(no written answer; sources shown: ${t.sources.map(loc).join(', ') || 'none'})`;
    const cost = approxLlmTokens.count(user) + approxLlmTokens.count(assistant);
    if (used + cost > budget) {
      if (out.length) break;
      const room = Math.max(0, Math.floor((budget - approxLlmTokens.count(user)) * 3.5));
      if (room < 40) break;
      assistant = `${assistant.slice(0, room)} …(cut)`;
    }
    used += cost;
    out.unshift({ role: 'user', content: user }, { role: 'assistant', content: assistant });
  }
  return out;
}

export function loc(s: { folder?: string; path: string; startLine: number; endLine: number }): string {
  return `${s.folder ? `${s.folder}/` : ''}${s.path}:${s.startLine}-${s.endLine}`;
}

/** `[n]` citations replaced by the location they pointed at (the numbering is per turn). */
function withLocations(answer: string, sources: AnswerLike['sources']): string {
  const byN = new Map(sources.map((s) => [s.n, s]));
  return answer.replace(/\[(\d{1,3})\]/g, (m, n: string) => {
    const s = byN.get(Number(n));
    return s ? `(${loc(s)})` : m;
  });
}

function clean(text: string): string {
  const cut = text.length > MAX_TURN_TEXT ? text.slice(0, MAX_TURN_TEXT) : text;
  return redactSecretsInText(cut).text;
}
