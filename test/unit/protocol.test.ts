import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitToSchema, truncate } from '../../src/protocol/fit';
import { ToWebview, parseFromWebview, parseToWebview, parseToWebviewLenient, parseTurns } from '../../src/protocol/messages';

const source = (over: Record<string, unknown> = {}) => ({ n: 1, path: 'a.py', startLine: 1, endLine: 2, language: 'python', symbols: ['f'], retrievers: ['lexical'], rankBefore: 1, rankAfter: 1, scores: { fused: 0.1 }, chunks: 1, text: 'x', ...over });
const ranked = (over: Record<string, unknown> = {}) => ({ chunkId: 'c1', path: 'a.py', startLine: 1, endLine: 2, symbols: ['f'], retrievers: ['lexical'], rankBefore: 1, rankAfter: 1, scores: { fused: 0.1 }, ...over });
const answer = (over: Record<string, unknown> = {}) => ({ variant: 'reranked', retrieval: 'lexical-only', reranked: true, answerKind: 'llm', answer: 'a', citations: [], sources: [source()], ranking: [ranked()], notices: [], ...over });
const turn = (id: string, over: Record<string, unknown> = {}) => ({ id, question: 'q', compare: false, rerank: true, askedAt: 'now', status: 'done', answers: [answer()], ...over });
const status = { state: 'ready', folders: [], retrieval: 'lexical-only', missingModels: [] };
const llm = { configured: false, hasApiKey: false };

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

  it('fits what the host sends to every bound of the schema: long names cut with an ellipsis, long lists cut', () => {
    // Over every bounded field, not only symbol names: what a retrieved chunk or a file name can make long.
    const long = (n: number) => 'x'.repeat(n);
    const huge = turn('t-huge', {
      question: long(25_000),
      failure: long(25_000),
      askedAt: long(100),
      answers: [
        answer({
          answer: long(1_100_000),
          notices: Array.from({ length: 30 }, () => long(21_000)),
          error: { kind: long(60), message: long(21_000) },
          sources: Array.from({ length: 120 }, (_, i) => source({ n: i + 1, symbols: Array.from({ length: 60 }, () => long(600)), path: long(2500), folder: long(600), language: long(60), text: long(120_000) })),
          ranking: Array.from({ length: 600 }, () => ranked({ chunkId: long(150), symbols: [long(501)] })),
          citations: Array.from({ length: 600 }, (_, i) => ({ n: i, verified: true, count: 1 })),
        }),
      ],
    });
    const raw = { type: 'turn', turn: huge };
    assert.equal(parseToWebview(raw).ok, false, 'the schema rejects it as it is');
    const fitted = fitToSchema(ToWebview, raw);
    const parsed = parseToWebview(fitted);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    const t = parsed.ok && parsed.message.type === 'turn' ? parsed.message.turn : undefined;
    const a = t!.answers[0]!;
    assert.equal(t!.question.length, 20_000);
    assert.ok(t!.question.endsWith('…'));
    assert.equal(a.sources.length, 100);
    assert.equal(a.sources[0]!.symbols.length, 50);
    assert.equal(a.sources[0]!.symbols[0]!.length, 500);
    assert.ok(a.sources[0]!.symbols[0]!.endsWith('…'));
    assert.equal(a.ranking.length, 500);
    assert.equal(a.ranking[0]!.chunkId.length, 100);
    assert.equal(a.answer.length, 1_000_000);
    // A status with a long folder name and message, an llm with a long model name.
    const init = fitToSchema(ToWebview, { type: 'init', history: [huge], rerank: true, status: { ...status, message: long(30_000), folders: [{ name: long(900), state: 'ready', message: long(30_000) }] }, llm: { configured: true, model: long(900), baseURL: long(3000), hasApiKey: true } });
    assert.ok(parseToWebview(init).ok);
  });

  it('fits numbers to their bounds and leaves what does not match the shape for validation to reject', () => {
    const fitted = fitToSchema(ToWebview, { type: 'turn', turn: turn('t', { answers: [answer({ sources: [source({ n: 0, startLine: 2.6, scores: { fused: 0.1, rerank: Number.NaN } })] })] }) }) as { turn: { answers: { sources: { n: number; startLine: number; scores: Record<string, number> }[] }[] } };
    const s = fitted.turn.answers[0]!.sources[0]!;
    assert.equal(s.n, 1);
    assert.equal(s.startLine, 3);
    assert.ok(!('rerank' in s.scores), 'a NaN optional score is dropped');
    assert.equal(parseToWebview(fitToSchema(ToWebview, { type: 'turn', turn: { id: 1 } })).ok, false);
    assert.equal(truncate('ab😀cd', 4), 'ab…', 'no half surrogate pair');
  });

  it('drops one bad turn from a history, never the whole state', () => {
    const bad = turn('bad', { status: 'exploded' });
    const init = { type: 'init', history: [turn('a'), bad, turn('b', { answers: [answer({ sources: [source({ symbols: ['s'.repeat(5000)] })] })] })], rerank: false, status, llm };
    const r = parseToWebviewLenient(init);
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.ok(r.ok && r.message.type === 'init');
    const m = r.ok && r.message.type === 'init' ? r.message : undefined;
    assert.deepEqual(m!.history.map((t) => t.id), ['a', 'b'], 'the long symbol is cut, the invalid turn dropped');
    assert.equal(m!.rerank, false);
    assert.equal(r.ok && r.dropped.length, 1);
    assert.match(r.ok ? r.dropped[0]! : '', /turn 1 dropped .*status/);
    const history = parseToWebviewLenient({ type: 'history', history: [bad, turn('c')] });
    assert.ok(history.ok && history.message.type === 'history' && history.message.history.length === 1);
    // A bad turn message on its own is ignored (the state stays); a bad status is not salvaged into anything.
    assert.equal(parseToWebviewLenient({ type: 'turn', turn: bad }).ok, false);
    assert.equal(parseToWebviewLenient({ type: 'init', history: [], rerank: 'yes', status, llm }).ok, false);
  });

  it('parses a persisted history turn by turn', () => {
    const { items, dropped } = parseTurns([turn('a'), null, 'x', turn('b', { answers: [answer({ sources: [source({ symbols: ['y'.repeat(600)] })] })] }), turn('c', { answers: 'nope' })]);
    assert.deepEqual(items.map((t) => t.id), ['a', 'b']);
    assert.equal(dropped.length, 3);
    assert.deepEqual(parseTurns({ not: 'a list' }).items, []);
  });
});

describe('protocol: conversations, @ completion, pins', () => {
  const pin = { path: 'src/a.ts', startLine: 3, endLine: 5, language: 'typescript', text: 'a\nb\nc' };
  const summary = { id: 'c1', title: 'how?', startedAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:01:00Z', turns: 2 };

  it('accepts the new messages', () => {
    for (const m of [
      { type: 'ask', question: 'what does @LoadConfig do?', rerank: true, compare: false, paths: ['src/config/loader.go'], pins: [pin] },
      { type: 'openConversation', id: 'c1' },
      { type: 'deleteConversation', id: 'c1' },
      { type: 'complete', requestId: 3, prefix: 'src/n' },
      { type: 'complete', requestId: 0, prefix: '' },
    ]) assert.ok(parseFromWebview(m).ok, JSON.stringify(m));
    for (const m of [
      { type: 'conversations', items: [summary], current: 'c1' },
      { type: 'completions', requestId: 3, items: [{ kind: 'file', insert: 'src/net/uploader.ts' }, { kind: 'folder', insert: 'src/net/' }, { kind: 'symbol', insert: 'LoadConfig', file: 'src/config/loader.go', line: 2 }] },
      { type: 'completions', requestId: 4, items: [], notice: 'No index yet: nothing to complete.' },
      { type: 'pin', pin },
      { type: 'history', history: [], conversationId: 'c2' },
      { type: 'init', history: [], rerank: true, status, llm, conversations: [summary], conversationId: 'c1' },
    ]) assert.ok(parseToWebview(m).ok, JSON.stringify(m));
  });

  it('rejects malformed ones', () => {
    for (const bad of [
      { type: 'ask', question: 'q', rerank: true, compare: false, paths: [''] },
      { type: 'ask', question: 'q', rerank: true, compare: false, paths: Array.from({ length: 21 }, (_, i) => `f${i}`) },
      { type: 'ask', question: 'q', rerank: true, compare: false, pins: [{ ...pin, startLine: 0 }] },
      { type: 'ask', question: 'q', rerank: true, compare: false, pins: Array.from({ length: 6 }, () => pin) },
      { type: 'ask', question: 'q', rerank: true, compare: false, pins: [{ ...pin, text: 'x'.repeat(50_001) }] },
      { type: 'openConversation', id: '' },
      { type: 'deleteConversation' },
      { type: 'complete', requestId: -1, prefix: 'a' },
      { type: 'complete', requestId: 1.5, prefix: 'a' },
      { type: 'complete', requestId: 1, prefix: 'a'.repeat(201) },
    ]) assert.equal(parseFromWebview(bad).ok, false, JSON.stringify(bad).slice(0, 120));
    for (const bad of [
      { type: 'completions', requestId: 1, items: [{ kind: 'class', insert: 'X' }] },
      { type: 'completions', requestId: 1, items: [{ kind: 'file', insert: '' }] },
      { type: 'conversations', items: [{ ...summary, turns: -1 }], current: 'c1' },
      { type: 'pin', pin: { ...pin, path: '' } },
    ]) assert.equal(parseToWebview(bad).ok, false, JSON.stringify(bad).slice(0, 120));
  });

  it('a conversation list too long for the protocol is cut, not dropped', () => {
    const many = { type: 'conversations', items: Array.from({ length: 150 }, (_, i) => ({ ...summary, id: `c${i}` })), current: 'c0' };
    const r = parseToWebviewLenient(many);
    assert.ok(r.ok && r.message.type === 'conversations' && r.message.items.length === 100);
  });
});
