import { fitToSchema } from '../protocol/fit';
import { type ConversationSummary, type Turn, Turn as TurnSchema, parseTurns } from '../protocol/messages';
import type { Conversation } from '../core/conversation/conversation';
import { LEGACY_CONVERSATION, conversationOf, newConversationId, redactTurn, summariesOf } from './chatConversation';
import type { KeyValueStore, Log } from './ports';

export const HISTORY_KEY = 'sift.history';
/** Turns kept over all conversations (the protocol carries at most 200 in one message). */
export const MAX_TURNS = 200;
export const MAX_CONVERSATIONS = 50;
/** Size of the stored history (JSON characters): the oldest conversations go beyond it. */
export const MAX_STORED_CHARS = 4_000_000;

/**
 * The chat's conversations, kept per workspace (workspace state) so they survive a window reload:
 * one list of turns, each naming its conversation. Parsed on load, not cast: a turn that does not
 * fit the protocol (an older or damaged history) is dropped with a log line and the rest kept; a
 * turn that was running when the window closed is shown as stopped. Bounded by turns,
 * conversations and stored size, the least recently active conversations dropped first.
 */
export class ChatHistory {
  private turns: Turn[];
  /** The conversation shown, which new questions join (the most recent one after a reload). */
  private current: string;

  constructor(
    private readonly state: KeyValueStore,
    private readonly log: Log,
  ) {
    const { items, dropped } = parseTurns(state.get<unknown>(HISTORY_KEY) ?? []);
    for (const d of dropped) log.warn(`Chat history: ${d}`);
    this.turns = items.map((t) => ({ ...t, conversationId: t.conversationId ?? LEGACY_CONVERSATION, ...(t.status === 'running' ? { status: 'stopped' as const } : {}) }));
    this.bound();
    this.current = summariesOf(this.turns)[0]?.id ?? newConversationId();
  }

  get conversationId(): string {
    return this.current;
  }

  /** The current conversation's finished turns, for the next follow-up. */
  conversation(): Conversation {
    return conversationOf(this.turns, this.current);
  }

  /** Later questions start without the earlier turns (their conversation stays listed). */
  newConversation(): void {
    this.current = newConversationId();
  }

  /** Makes a stored conversation the current one; false when there is no such conversation. */
  open(id: string): boolean {
    if (!this.turns.some((t) => t.conversationId === id)) return false;
    this.current = id;
    return true;
  }

  /** Deletes a conversation's turns; deleting the current one starts a new one. */
  async delete(id: string): Promise<void> {
    this.turns = this.turns.filter((t) => t.conversationId !== id);
    if (this.current === id) this.current = newConversationId();
    await this.save();
  }

  /** Every stored turn, oldest first. */
  all(): Turn[] {
    return this.turns;
  }

  /** The current conversation's turns (what the panel shows). */
  shown(): Turn[] {
    return this.turns.filter((t) => t.conversationId === this.current);
  }

  /** Past conversations, most recently active first. */
  summaries(): ConversationSummary[] {
    return summariesOf(this.turns);
  }

  find(id: string): Turn | undefined {
    return this.turns.find((t) => t.id === id);
  }

  /** Adds a turn; the bounds drop the least recently active conversations first. */
  add(turn: Turn): void {
    this.turns.push(turn);
    this.bound();
  }

  /** A finished turn replaced by its redacted copy (what is stored and shown from now on). */
  finish(turn: Turn): Turn {
    const clean = redactTurn(turn);
    const i = this.turns.findIndex((t) => t.id === turn.id);
    if (i >= 0) this.turns[i] = clean;
    return clean;
  }

  async clear(): Promise<void> {
    this.turns = [];
    this.current = newConversationId();
    await this.save();
  }

  /** Stores what fits the protocol's bounds (long texts cut) and the size bound, so the next load parses it. */
  async save(): Promise<void> {
    let stored = this.turns.map((t) => fitToSchema(TurnSchema, t) as Turn);
    let size = JSON.stringify(stored).length;
    while (size > MAX_STORED_CHARS && this.dropOldest()) {
      stored = this.turns.map((t) => fitToSchema(TurnSchema, t) as Turn);
      size = JSON.stringify(stored).length;
    }
    await this.state.update(HISTORY_KEY, stored);
  }

  private bound(): void {
    while ((this.turns.length > MAX_TURNS || summariesOf(this.turns).length > MAX_CONVERSATIONS) && this.dropOldest());
    // One conversation alone over the bound loses its oldest turns.
    if (this.turns.length > MAX_TURNS) this.turns.splice(0, this.turns.length - MAX_TURNS);
  }

  /** Drops the least recently active conversation other than the current one; false when none is left. */
  private dropOldest(): boolean {
    const oldest = summariesOf(this.turns)
      .reverse()
      .find((s) => s.id !== this.current);
    if (!oldest) return false;
    this.turns = this.turns.filter((t) => t.conversationId !== oldest.id);
    this.log.info(`Chat history: the conversation "${oldest.title}" (${oldest.turns} turns) was dropped to keep the history bounded.`);
    return true;
  }
}
