import { type Conversation, turnOf } from '../core/conversation/conversation';
import type { Turn } from '../protocol/messages';

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
