import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Conversation, historyMessages, newConversation, titleOf, turnOf } from '../../src/core/conversation/conversation';
import { fallbackQuery, keyTerms, refersBack, standaloneQuery } from '../../src/core/conversation/standalone';
import { mentionsIn } from '../../src/core/conversation/scope';
import type { AnswerResult } from '../../src/core/answer/ask';
import { OpenAiTestServer } from '../support/openaiServer';

const flaskTurn: Conversation = {
  id: 'c1',
  turns: [
    {
      question: 'how does flask decide which error handler to call?',
      answer: 'It looks up the handler by code and class in _find_error_handler (src/flask/app.py:10-40).',
      sources: [{ path: 'src/flask/app.py', startLine: 10, endLine: 40, symbols: ['_find_error_handler', 'handle_user_exception'] }],
    },
  ],
};

describe('standaloneQuery', () => {
  let server: OpenAiTestServer;
  before(async () => {
    server = new OpenAiTestServer();
    await server.start();
  });
  after(() => server.stop());

  it('leaves a first question alone', async () => {
    const r = await standaloneQuery(newConversation('x'), 'where is the config loaded?');
    assert.deepEqual(r, { query: 'where is the config loaded?', method: 'first-turn', priorFiles: [] });
  });

  it('without an LLM: the follow-up twice, then the earlier key terms and cited symbols and file names once', async () => {
    const r = await standaloneQuery(flaskTurn, 'and how is that tested?');
    assert.equal(r.method, 'fallback');
    assert.deepEqual(r.priorFiles, [{ path: 'src/flask/app.py' }]);
    const q = r.query;
    assert.ok(q.startsWith('and how is that tested? and how is that tested? '), q);
    for (const term of ['flask', 'error', 'handler', '_find_error_handler', 'handle_user_exception', 'app']) assert.ok(q.split(' ').includes(term), `${term} in ${q}`);
    for (const stop of ['does', 'which', 'decide']) assert.ok(!q.split(' ').includes(stop), `${stop} left out of ${q}`);
    // Deterministic.
    assert.equal(fallbackQuery(flaskTurn.turns, 'and how is that tested?'), q);
  });

  it('keyTerms keeps identifiers of any length and content words', () => {
    assert.deepEqual(keyTerms('why does getX use a_b and os.path in the loader'), ['getX', 'a_b', 'os.path', 'loader']);
  });

  it('with an LLM: one short rewrite call that sees the conversation, cached by content, logged', async () => {
    server.script = [{ kind: 'answer', text: '"flask error handler tests (test_find_error_handler)"\nextra line' }];
    const before = server.requests.length;
    const logs: string[] = [];
    const cache = new Map<string, string>();
    const llm = { baseURL: server.baseURL, model: 'rewrite-model', timeoutMs: 5000 };
    const r = await standaloneQuery(flaskTurn, 'and how is that tested?', { llm, cache, log: (l) => logs.push(l) });
    assert.equal(r.method, 'llm');
    assert.equal(r.query, 'flask error handler tests (test_find_error_handler)');
    assert.deepEqual(r.priorFiles, [{ path: 'src/flask/app.py' }]);
    assert.equal(server.requests.length, before + 1);
    const body = server.requests.at(-1)!.body;
    assert.equal(body.max_tokens, 80);
    const prompt = body.messages.map((m) => m.content).join('\n');
    assert.match(prompt, /how does flask decide which error handler to call\?/);
    assert.match(prompt, /_find_error_handler/);
    assert.match(prompt, /Follow-up: and how is that tested\?/);
    assert.ok(logs.some((l) => l.includes('searched for: flask error handler tests')), logs.join('\n'));
    const again = await standaloneQuery(flaskTurn, 'and how is that tested?', { llm, cache, log: (l) => logs.push(l) });
    assert.equal(again.query, r.query);
    assert.equal(server.requests.length, before + 1, 'the second rewrite comes from the cache');
    assert.ok(logs.some((l) => l.includes('(cached)')));
  });

  it('a failing rewrite falls back to the key terms, with a log line', async () => {
    server.script = [{ kind: 'status', status: 401, message: 'bad key' }];
    const logs: string[] = [];
    const r = await standaloneQuery(flaskTurn, 'and how is that tested?', { llm: { baseURL: server.baseURL, model: 'm', maxRetries: 0, timeoutMs: 5000 }, cache: new Map(), log: (l) => logs.push(l) });
    assert.equal(r.method, 'fallback');
    assert.ok(r.rewriteError);
    assert.equal(r.query, fallbackQuery(flaskTurn.turns, 'and how is that tested?'));
    assert.ok(logs.some((l) => l.startsWith('Follow-up rewrite failed')));
  });

  it('the rewrite request never carries secrets from the history', async () => {
    server.script = [{ kind: 'answer', text: 'deploy token usage' }];
    const conv: Conversation = { id: 'c', turns: [{ question: 'why does OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD fail?', answer: 'ok', sources: [] }] };
    await standaloneQuery(conv, 'and then?', { llm: { baseURL: server.baseURL, model: 'm', timeoutMs: 5000 }, cache: new Map() });
    const prompt = JSON.stringify(server.requests.at(-1)!.body.messages);
    assert.ok(!prompt.includes('sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD'), prompt);
  });
});

describe('conversation history for the LLM', () => {
  const answer = (text: string, n = 2): AnswerResult =>
    ({
      question: 'q',
      retrieval: 'lexical-only',
      reranked: false,
      answerKind: 'llm',
      answer: text,
      citations: [{ n: 1, verified: true, count: 1 }],
      sources: Array.from({ length: n }, (_, i) => ({ n: i + 1, path: `src/f${i + 1}.ts`, startLine: 1, endLine: 9, language: 'ts', symbols: [`s${i + 1}`], retrievers: ['lexical'], rankBefore: i + 1, rankAfter: i + 1, scores: { fused: 1 }, chunks: 1, text: '' })),
      ranking: [],
      timings: { embed: 0, dense: 0, lexical: 0, fuse: 0, rerank: 0, firstToken: null, total: 0 },
      notices: [],
    }) as AnswerResult;

  it('a turn keeps the cited sources, names them by location instead of [n], and redacts secrets', () => {
    const t = turnOf('token AKIAIOSFODNN7EXAMPLE here?', answer('See [1], not [7].'));
    assert.deepEqual(t.sources.map((s) => s.path), ['src/f1.ts']);
    assert.equal(t.answer, 'See (src/f1.ts:1-9), not [7].');
    assert.ok(!t.question.includes('AKIAIOSFODNN7EXAMPLE'), t.question);
  });

  it('earlier turns are trimmed oldest first to the budget', () => {
    let conv = newConversation('c');
    for (let i = 0; i < 5; i++) conv = { ...conv, turns: [...conv.turns, turnOf(`question ${i}`, answer(`answer ${i} ${'x'.repeat(700)}`))] };
    const all = historyMessages(conv, 100_000);
    assert.equal(all.length, 10);
    const some = historyMessages(conv, 500);
    assert.ok(some.length >= 2 && some.length < 10);
    assert.equal(some.at(-2)!.content, 'question 4', 'the newest turn is kept');
    assert.ok(!some.some((m) => m.content === 'question 0'), 'the oldest turn is dropped');
    const tiny = historyMessages(conv, 60);
    assert.equal(tiny.length, 2);
    assert.match(tiny[1]!.content, /…\(cut\)$/);
    assert.equal(titleOf(conv), 'question 0');
  });

  it('mentions: paths with a slash or a dot, folders with a trailing slash', () => {
    assert.deepEqual(mentionsIn('what does @src/net/ do with @uploader.ts and @someone'), ['src/net/', 'uploader.ts']);
  });
});

describe('follow-up or new question', () => {
  it('a question that names what it asks about is searched as asked; an elliptical one uses the conversation', async () => {
    for (const q of ['flushTelemetryQueue', 'how is the cache invalidated after a deploy?', 'where is src/net/uploader.ts configured?']) {
      assert.equal(refersBack(q), false, q);
      const r = await standaloneQuery(flaskTurn, q);
      assert.deepEqual([r.method, r.query, r.priorFiles.length], ['self-contained', q, 0], q);
    }
    for (const q of ['and how is that tested?', 'where is this documented', 'what about the CLI?', 'tests?', 'why does it retry twice?']) {
      assert.equal(refersBack(q), true, q);
      const r = await standaloneQuery(flaskTurn, q);
      assert.equal(r.method, 'fallback', q);
      assert.ok(r.priorFiles.length > 0, q);
    }
  });
});
