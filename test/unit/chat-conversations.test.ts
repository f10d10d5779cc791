import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatHistory, HISTORY_KEY } from '../../src/vscode/chatHistory';
import { conversationOf } from '../../src/vscode/chatConversation';
import type { Turn } from '../../src/protocol/messages';

function store(initial: unknown) {
  const data = new Map<string, unknown>([[HISTORY_KEY, initial]]);
  return { data, get: <T>(k: string) => data.get(k) as T | undefined, update: async (k: string, v: unknown) => void data.set(k, v) };
}
function log() {
  const lines: string[] = [];
  return { lines, info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
}
const turn = (id: string, conversationId: string | undefined, question: string, answer: string): Turn => ({
  id,
  ...(conversationId ? { conversationId } : {}),
  question,
  compare: false,
  rerank: true,
  askedAt: '2026-01-01T00:00:00.000Z',
  status: 'done',
  answers: [
    {
      variant: 'reranked',
      retrieval: 'lexical-only',
      reranked: true,
      answerKind: 'llm',
      answer,
      citations: [{ n: 1, verified: true, count: 1 }],
      sources: [{ n: 1, path: 'src/app/errors.py', startLine: 1, endLine: 9, language: 'python', symbols: ['find_error_handler'], retrievers: ['lexical'], rankBefore: 1, rankAfter: 1, scores: { fused: 0.1 }, chunks: 1, text: 'x' }],
      ranking: [],
      notices: [],
    },
  ],
});

describe('panel conversations (history in workspace state)', () => {
  it('a damaged entry is dropped with a log line; the rest load and the last conversation continues', () => {
    const l = log();
    const h = new ChatHistory(store([turn('1', 'c1', 'how are errors handled?', 'By find_error_handler [1].'), { id: 2, question: null }, turn('3', 'c1', 'and tested?', 'In tests [1].')]), l);
    assert.deepEqual(h.all().map((t) => t.id), ['1', '3']);
    assert.ok(l.lines.some((x) => x.startsWith('Chat history: turn 1 dropped')), l.lines.join('\n'));
    assert.equal(h.conversationId, 'c1');
    const c = h.conversation();
    assert.deepEqual(c.turns.map((t) => t.question), ['how are errors handled?', 'and tested?']);
    assert.equal(c.turns[0]!.answer, 'By find_error_handler (src/app/errors.py:1-9).');
    assert.deepEqual(c.turns[0]!.sources.map((s) => s.path), ['src/app/errors.py']);
  });

  it('a new conversation starts without the earlier turns; other conversations and unfinished turns are not carried', () => {
    const h = new ChatHistory(store([turn('1', 'c1', 'q1', 'a1')]), log());
    h.newConversation();
    assert.notEqual(h.conversationId, 'c1');
    assert.equal(h.conversation().turns.length, 0);
    const stopped = { ...turn('2', 'c2', 'q2', 'a2'), status: 'stopped' as const };
    assert.deepEqual(conversationOf([turn('1', 'c1', 'q1', 'a1'), stopped, turn('3', undefined, 'q3', 'a3')], 'c2').turns, []);
  });

  it('history never holds keys in what follow-ups send', () => {
    const c = conversationOf([turn('1', 'c1', 'is ghp_abcdefghijklmnopqrstuvwxyz0123456789 valid?', 'no')], 'c1');
    assert.ok(!c.turns[0]!.question.includes('ghp_abcdefghijklmnopqrstuvwxyz0123456789'), c.turns[0]!.question);
  });
});
