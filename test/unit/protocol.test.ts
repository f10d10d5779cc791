import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFromWebview, parseToWebview } from '../../src/protocol/messages';

describe('webview protocol validation', () => {
  it('accepts well-formed messages', () => {
    assert.ok(parseFromWebview({ type: 'ask', question: 'where?', rerank: true, compare: false }).ok);
    assert.ok(parseFromWebview({ type: 'openSource', path: 'src/a.ts', startLine: 1, endLine: 3 }).ok);
    assert.ok(parseToWebview({ type: 'token', id: 'x', variant: 'reranked', text: 'hi' }).ok);
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
