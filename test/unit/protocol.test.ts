import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFromWebview, parseToWebview } from '../../src/protocol/messages';

describe('webview protocol validation', () => {
  it('accepts well-formed messages', () => {
    assert.ok(parseFromWebview({ type: 'ask', question: 'where?', rerank: true, compare: false }).ok);
    assert.ok(parseFromWebview({ type: 'openSource', path: 'src/a.ts', startLine: 1, endLine: 3 }).ok);
    assert.ok(parseToWebview({ type: 'token', id: 'x', variant: 'reranked', text: 'hi' }).ok);
  });

  it('carries which answer’s source was opened, and learning-to-rank provenance on sources', () => {
    const open = parseFromWebview({ type: 'openSource', path: 'src/a.ts', startLine: 1, endLine: 3, turn: 't-1', variant: 'reranked', n: 2 });
    assert.ok(open.ok && open.message.type === 'openSource' && open.message.n === 2 && open.message.turn === 't-1');
    assert.equal(parseFromWebview({ type: 'openSource', path: 'a.ts', startLine: 1, endLine: 3, n: 0 }).ok, false);
    assert.equal(parseFromWebview({ type: 'openSource', path: 'a.ts', startLine: 1, endLine: 3, variant: 'best' }).ok, false);
    const source = { n: 1, path: 'a.py', startLine: 1, endLine: 2, language: 'python', symbols: [], retrievers: ['lexical'], rankBefore: 3, rankAfter: 1, scores: { fused: 0.1, ltr: 1.5 }, chunks: 1, text: 'x', editor: { open: true, nearCursor: true } };
    const answer = { variant: 'reranked', retrieval: 'lexical-only', reranked: true, answerKind: 'retrieval-only', answer: '', citations: [], sources: [source], ranking: [], notices: [] };
    const turn = parseToWebview({ type: 'turn', turn: { id: 't', question: 'q', compare: false, rerank: true, askedAt: 'now', status: 'done', answers: [answer] } });
    assert.ok(turn.ok && turn.message.type === 'turn');
    const got = turn.ok && turn.message.type === 'turn' ? turn.message.turn.answers[0]!.sources[0]! : undefined;
    assert.deepEqual(got?.editor, { open: true, nearCursor: true });
    assert.equal(got?.scores.ltr, 1.5);
    assert.equal(parseToWebview({ type: 'turn', turn: { id: 't', question: 'q', compare: false, rerank: true, askedAt: 'now', status: 'done', answers: [{ ...answer, sources: [{ ...source, editor: { open: 'yes' } }] }] } }).ok, false);
  });

  it('rejects messages that do not match the protocol', () => {
    for (const bad of [
      null,
      'ask',
      { type: 'eval', code: 'alert(1)' },
      { type: 'ask', question: '', rerank: true, compare: false },
      { type: 'ask', question: 'q', rerank: 'yes', compare: false },
      { type: 'openSource', path: 'a.ts', startLine: 0, endLine: 1 },
      { type: 'openSource', path: 'a.ts', startLine: 1.5, endLine: 2 },
      { type: 'command', command: 'workbench.action.terminal.new' },
      { type: 'ask', question: 'x'.repeat(30_000), rerank: true, compare: false },
    ]) {
      const r = parseFromWebview(bad);
      assert.equal(r.ok, false, JSON.stringify(bad)?.slice(0, 80));
      assert.ok(!r.ok && r.error.length > 0);
    }
    assert.equal(parseToWebview({ type: 'turn', turn: { id: 1 } }).ok, false);
  });
});
