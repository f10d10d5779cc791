import { fitToSchema } from '../protocol/fit';
import { type Turn, Turn as TurnSchema, parseTurns } from '../protocol/messages';
import type { Conversation } from '../core/conversation/conversation';
import { conversationOf, newConversationId } from './chatConversation';
import type { KeyValueStore, Log } from './ports';

export const HISTORY_KEY = 'sift.history';
export const MAX_TURNS = 50;

/**
 * The chat's turns, kept in workspace state so they survive a window reload. Parsed on load, not
 * cast: a turn that does not fit the protocol (an older or damaged history) is dropped with a log
 * line and the rest kept; a turn that was running when the window closed is shown as stopped.
 */
export class ChatHistory {
  private turns: Turn[];
  /** The conversation new questions join (the last turn's, after a reload). */
  private current: string;

  constructor(
    private readonly state: KeyValueStore,
    log: Log,
  ) {
    const { items, dropped } = parseTurns(state.get<unknown>(HISTORY_KEY) ?? []);
    for (const d of dropped) log.warn(`Chat history: ${d}`);
    this.turns = items.slice(-MAX_TURNS).map((t) => (t.status === 'running' ? { ...t, status: 'stopped' as const } : t));
    this.current = this.turns.at(-1)?.conversationId ?? newConversationId();
  }

  get conversationId(): string {
    return this.current;
  }

  /** The current conversation's finished turns, for the next follow-up. */
  conversation(): Conversation {
    return conversationOf(this.turns, this.current);
  }

  /** Later questions start without the earlier turns (the turns stay listed). */
  newConversation(): void {
    this.current = newConversationId();
  }

  all(): Turn[] {
    return this.turns;
  }

  find(id: string): Turn | undefined {
    return this.turns.find((t) => t.id === id);
  }

  /** Adds a turn; the oldest go beyond MAX_TURNS. */
  add(turn: Turn): void {
    this.turns.push(turn);
    if (this.turns.length > MAX_TURNS) this.turns.splice(0, this.turns.length - MAX_TURNS);
  }

  async clear(): Promise<void> {
    this.turns = [];
    this.current = newConversationId();
    await this.save();
  }

  /** Stores what fits the protocol's bounds (long texts cut), so the next load parses it. */
  async save(): Promise<void> {
    await this.state.update(HISTORY_KEY, this.turns.map((t) => fitToSchema(TurnSchema, t)));
  }
}
