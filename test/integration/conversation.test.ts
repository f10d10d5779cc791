import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AskContext, ask } from '../../src/core/answer/ask';
import { newConversation } from '../../src/core/conversation/conversation';
import { askTurn } from '../../src/core/conversation/turn';
import type { IndexStore } from '../../src/core/store/store';
import { useLexicalIndex } from '../helpers';
import { OpenAiTestServer } from '../support/openaiServer';
import { CONVERSATION_REPO } from '../support/conversationRepo';

describe('conversations: follow-ups, history in the LLM request, mentions (lexical, real index, local OpenAI server)', () => {
  let store!: IndexStore;
  const server = new OpenAiTestServer();
  useLexicalIndex(CONVERSATION_REPO, (s) => (store = s));
  before(() => server.start());
  after(() => server.stop());

  const ctx = (llm = true): AskContext => ({ store, settings: { topN: 3, ...(llm ? { llm: { baseURL: server.baseURL, model: 'answer-model', apiKey: 'sk-test-key-123456', timeoutMs: 5000 } } : {}) } });

  it('alone, "and how is that tested?" finds the wrong tests; after the first turn (no LLM) it finds the test of that subject', async () => {
    const alone = await ask(ctx(false), 'and how is that tested?', { rerank: false });
    assert.notEqual(alone.sources[0]?.path, 'tests/test_errors.py', 'the fixture is not trivial');
    const first = await askTurn(ctx(false), newConversation('c'), 'how does the app decide which error handler to call?', { rerank: false });
    assert.equal(first.result.sources[0]?.path, 'src/app/errors.py');
    const second = await askTurn(ctx(false), first.conversation, 'and how is that tested?', { rerank: false });
    assert.equal(second.standalone.method, 'fallback');
    assert.equal(second.result.sources[0]?.path, 'tests/test_errors.py', second.result.sources.map((s) => s.path).join(', '));
    assert.ok(second.result.searchedFor?.includes('error'), second.result.searchedFor);
    assert.ok(second.result.ranking.some((r) => r.path === 'src/app/errors.py' && r.carried === 'previous-turn'), 'the previous answer\'s source stays a candidate, marked');
    assert.equal(second.conversation.turns.length, 2);
  });

  it('the LLM request of a follow-up carries the earlier turn; a scripted rewrite decides what is searched', async () => {
    server.script = [
      { kind: 'answer', text: 'find_error_handler picks the most specific class [1].' },
      { kind: 'answer', text: 'test_find_error_handler_prefers_subclass ErrorHandlerRegistry' },
      { kind: 'answer', text: 'It is tested in tests/test_errors.py [1].' },
    ];
    const start = server.requests.length;
    const first = await askTurn(ctx(), newConversation('c2'), 'how does the app decide which error handler to call?', { rerank: false });
    assert.equal(first.result.answerKind, 'llm');
    const second = await askTurn(ctx(), first.conversation, 'and how is that tested?', { rerank: false });
    assert.equal(second.standalone.method, 'llm');
    assert.equal(second.result.searchedFor, 'test_find_error_handler_prefers_subclass ErrorHandlerRegistry');
    assert.equal(second.result.sources[0]?.path, 'tests/test_errors.py');
    const requests = server.requests.slice(start);
    assert.equal(requests.length, 3, 'answer, rewrite, answer');
    const answerRequest = requests[2]!.body.messages;
    assert.equal(answerRequest[1]?.role, 'user');
    assert.equal(answerRequest[1]?.content, 'how does the app decide which error handler to call?');
    assert.equal(answerRequest[2]?.role, 'assistant');
    assert.match(answerRequest[2]!.content, /most specific class \(src\/app\/errors\.py:\d+-\d+\)/, 'earlier citations name locations, not numbers');
    assert.match(answerRequest.at(-1)!.content, /Question: and how is that tested\?$/);
    assert.deepEqual(second.result.citations, [{ n: 1, verified: true, count: 1 }]);
  });

  it('a mentioned folder restricts retrieval; a mentioned file is always in the context; unknown mentions get a note', async () => {
    const folder = await askTurn(ctx(false), newConversation('c3'), 'where is the error handler? @tests/', { rerank: false });
    assert.ok(folder.result.ranking.length > 0);
    assert.ok(folder.result.ranking.every((r) => r.path.startsWith('tests/')), folder.result.ranking.map((r) => r.path).join(', '));
    const file = await askTurn(ctx(false), newConversation('c4'), 'where is the error handler? @src/app/config.py', { rerank: false });
    assert.ok(file.result.sources.some((s) => s.path === 'src/app/config.py' && s.carried === 'mentioned'), file.result.sources.map((s) => s.path).join(', '));
    const missing = await askTurn(ctx(false), newConversation('c5'), 'where is the error handler? @src/nope.py', { rerank: false, paths: ['lib/'] });
    assert.ok(missing.result.notices.some((n) => n.includes('@src/nope.py is not in the index')), missing.result.notices.join('\n'));
    assert.ok(missing.result.notices.some((n) => n.includes('@lib is not in the index')));
    assert.equal(missing.result.sources[0]?.path, 'src/app/errors.py', 'still answered');
    // A method offered by @ completion (Class.method) comes with its file as a path: the dotted name is no missing path, while a missing file with a known extension still is.
    const method = await askTurn(ctx(false), newConversation('c7'), 'what does @App.find_handler do? @src/gone.py', { rerank: false, paths: ['src/app/errors.py'] });
    assert.ok(!method.result.notices.some((n) => n.includes('@App.find_handler')), method.result.notices.join('\n'));
    assert.ok(method.result.notices.some((n) => n.includes('@src/gone.py is not in the index')), method.result.notices.join('\n'));
    assert.ok(method.result.sources.some((s) => s.path === 'src/app/errors.py' && s.carried === 'mentioned'));
    const glob = await askTurn(ctx(false), newConversation('c6'), 'error handler', { rerank: false, paths: ['**/test_*.py'] });
    assert.ok(glob.result.ranking.every((r) => /^tests\/test_/.test(r.path)));
  });

  it('a 1 MB question is cut with a note and answered', async () => {
    const huge = `where is the error handler? ${'words '.repeat(200_000)}`;
    const r = await askTurn(ctx(false), newConversation('c7'), huge, { rerank: false });
    assert.ok(r.result.notices.some((n) => n.includes('only its first 8,000 were used')));
    assert.ok(r.conversation.turns[0]!.question.length <= 8000);
  });
});
