import { type Conversation, turnOf } from '../core/conversation/conversation';
import * as path from 'node:path';
import { MAX_PIN_CHARS } from '../core/conversation/pins';
import { redactSecretsInText } from '../core/discovery/redact';
import type { ConversationSummary, Pin, Turn } from '../protocol/messages';

/**
 * The core's view of one panel conversation: its finished turns, oldest first, each with the
 * answer that was shown (the reranked one in a comparison) and the sources it cited. Turns that
 * failed or were stopped are left out; secrets are redacted (turnOf).
 */
export function conversationOf(turns: readonly Turn[], conversationId: string): Conversation {
  const out: Conversation = { id: conversationId, turns: [] };
  for (const t of turns) {
    if (t.conversationId !== conversationId || t.status !== 'done') continue;
    const answer = t.answers.find((a) => a.variant === 'reranked') ?? t.answers[0];
    if (answer) out.turns.push(turnOf(t.question, answer));
  }
  return out;
}

export function newConversationId(): string {
  return `c-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The conversation id given, on load, to turns stored before turns carried one. */
export const LEGACY_CONVERSATION = 'c-earlier';

/** The conversations in `turns` (each turn's `conversationId`), most recently active first. */
export function summariesOf(turns: readonly Turn[]): ConversationSummary[] {
  const by = new Map<string, Turn[]>();
  for (const t of turns) {
    const id = t.conversationId ?? LEGACY_CONVERSATION;
    const list = by.get(id);
    if (list) list.push(t);
    else by.set(id, [t]);
  }
  const out: ConversationSummary[] = [];
  for (const [id, list] of by) {
    const first = list[0]!.question.replace(/\s+/g, ' ').trim();
    out.push({ id, title: first.length > 80 ? `${first.slice(0, 79)}…` : first || 'Untitled', startedAt: list[0]!.askedAt, updatedAt: list.at(-1)!.askedAt, turns: list.length });
  }
  return out.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
}

/** A turn as stored and shown once finished: secrets redacted as for the LLM, everywhere text is kept. */
export function redactTurn(turn: Turn): Turn {
  const r = (text: string, path?: string) => redactSecretsInText(text, path).text;
  return {
    ...turn,
    question: r(turn.question),
    ...(turn.failure ? { failure: r(turn.failure) } : {}),
    answers: turn.answers.map((a) => ({
      ...a,
      answer: r(a.answer),
      notices: a.notices.map((n) => r(n)),
      ...(a.searchedFor ? { searchedFor: r(a.searchedFor) } : {}),
      ...(a.error ? { error: { ...a.error, message: r(a.error.message) } } : {}),
      sources: a.sources.map((s) => ({ ...s, text: r(s.text, s.path) })),
    })),
    ...(turn.scope ? { scope: { ...turn.scope, ...(turn.scope.pins ? { pins: turn.scope.pins.map((p) => ({ ...p, text: r(p.text, p.path) })) } : {}) } } : {}),
  };
}

/**
 * An editor selection as a pinned source: its path relative to the workspace folder holding it
 * (qualified by the folder's index name in multi-root), exact lines, text cut to MAX_PIN_CHARS.
 * Undefined for a file outside every folder or an empty selection.
 */
export function selectionPin(
  sel: { file: string; startLine: number; endLine: number; text: string; language: string },
  roots: readonly { name: string; root: string }[],
  sep: string = path.sep,
): Pin | undefined {
  if (!sel.text.trim()) return undefined;
  const root = roots.filter((r) => sel.file === r.root || sel.file.startsWith(r.root.endsWith(sep) ? r.root : r.root + sep)).sort((a, b) => b.root.length - a.root.length)[0];
  if (!root) return undefined;
  const rel = sel.file.slice(root.root.length).split(sep).filter(Boolean).join('/');
  if (!rel) return undefined;
  const text = sel.text.length > MAX_PIN_CHARS ? sel.text.slice(0, MAX_PIN_CHARS) : sel.text;
  const endLine = Math.max(sel.startLine, Math.min(sel.endLine, sel.startLine + text.split('\n').length - 1));
  return { ...(root.name ? { folder: root.name } : {}), path: rel, startLine: sel.startLine, endLine, language: sel.language.slice(0, 50), text };
}
