import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_QUESTION_CHARS, ask, askCompare, type AskContext } from '../../src/core/answer/ask';
import { InferenceClient } from '../../src/core/worker/client';
import { indexWorkspace } from '../../src/core/indexing/indexer';
import { IndexStore } from '../../src/core/store/store';
import { Reranker } from '../../src/core/rerank/reranker';
import { TINY_EMBEDDER, TINY_RERANKER, WORKER_SCRIPT, tempDir, writeTree, runCli } from '../helpers';
import { OpenAiTestServer } from '../support/openaiServer';
import { REPO } from '../support/repo';

/**
 * Long questions: `sift ask DIR "<15 000 characters>"` used to end in SIGSEGV (onnxruntime's
 * telemetry matched the process command line with a recursive regex on the inference worker's
 * stack). A user gets an answer or a message, never a crash; what reaches the models and the LLM
 * is bounded.
 */

const PHRASE = 'where do we retry failed uploads and how long do we wait between attempts? ';
const prose = (n: number) => PHRASE.repeat(Math.ceil(n / PHRASE.length)).slice(0, n);
const word = (n: number) => 'retry'.repeat(Math.ceil(n / 5)).slice(0, n);

describe('long questions (CLI and core)', () => {
  let dir: string;
  let cleanup: () => void;
  let root: string;
  let server: OpenAiTestServer;

  before(async () => {
    ({ dir, cleanup } = tempDir('sift-long-q-'));
    root = path.join(dir, 'repo');
    writeTree(root, REPO);
    server = new OpenAiTestServer();
    await server.start();
  });
  after(async () => {
    await server.stop();
    cleanup();
  });

  // 15 000 characters crashed; ~128 KiB is the most Linux passes as one argument (MAX_ARG_STRLEN).
  for (const [label, question] of [
    ['15k characters of prose', prose(15_000)],
    ['one 15k-character word', word(15_000)],
    ['one 120k-character word (near the argument limit)', word(120_000)],
    ['120k characters of prose, many words', prose(120_000)],
  ] as const) {
    it(`sift ask with ${label}: an answer and a notice, no crash`, async () => {
      const home = path.join(dir, 'home');
      const r = await runCli(
        ['ask', root, question, '--embedding-model', TINY_EMBEDDER, '--reranker-model', TINY_RERANKER, '--offline', '--index-dir', path.join(dir, 'idx'), '--llm-model', 'test-model', '--json', '--quiet'],
        { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-long-question', HOME: home, XDG_CACHE_HOME: path.join(home, '.cache'), SIFT_DTYPE: 'fp32' },
      );
      assert.equal(r.signal, null, `killed by ${r.signal}`);
      assert.equal(r.code, 0, r.stderr.slice(0, 500));
      const json = JSON.parse(r.stdout) as { question: string; answerKind: string; notices: string[]; sources: unknown[] };
      assert.equal(json.answerKind, 'llm');
      assert.equal(json.question.length, MAX_QUESTION_CHARS);
      assert.ok(json.notices.some((n) => /characters long: only its first 8,000 were used/.test(n)), json.notices.join('\n'));
      const sent = JSON.stringify(server.requests.at(-1)!.body);
      assert.ok(sent.length < MAX_QUESTION_CHARS + 20_000, `the LLM request holds ${sent.length} characters`);
      // onnxruntime's telemetry stays off: no device id or event database in the user's cache.
      assert.ok(!existsSync(path.join(home, '.cache', 'Microsoft')), 'onnxruntime telemetry wrote to the user cache');
    });
  }

  describe('in process: 1 MB questions (more than one argument can carry)', () => {
    let client: InferenceClient;
    let store: IndexStore;
    let reranker: Reranker;

    before(async () => {
      client = new InferenceClient(WORKER_SCRIPT);
      await client.call('configure', { cacheDir: path.join(dir, 'models'), allowRemote: false });
      const gen = indexWorkspace({ root, indexDir: path.join(dir, 'idx-core'), client, embedding: { model: TINY_EMBEDDER, dtype: 'fp32' } });
      let r = await gen.next();
      while (!r.done) r = await gen.next();
      store = (await IndexStore.openForRead(path.join(dir, 'idx-core'))).store!;
      const loaded = await client.call('loadReranker', { model: TINY_RERANKER, dtype: 'fp32' });
      assert.ok(loaded.ok);
      reranker = new Reranker(client, loaded.info.model);
    });
    after(async () => {
      await store.close();
      await client.dispose();
    });

    const ctx = (): AskContext => ({ store, embedder: client, reranker, settings: { llm: { baseURL: server.baseURL, apiKey: 'sk-long', model: 'test-model', maxRetries: 0, timeoutMs: 10_000 } } });

    for (const [label, question] of [
      ['1 MB of prose', prose(1 << 20)],
      ['one 1 MB word', word(1 << 20)],
    ] as const) {
      it(`${label}: bounded before tokenizers, models and the LLM`, async () => {
        const notices: string[] = [];
        const t = performance.now();
        const r = await ask(ctx(), question, { rerank: true, onEvent: (e) => e.type === 'notice' && notices.push(e.message) });
        const ms = performance.now() - t;
        assert.equal(r.answerKind, 'llm');
        assert.equal(r.question.length, MAX_QUESTION_CHARS);
        assert.ok(r.notices[0]?.startsWith('The question is 1,048,576 characters long'), r.notices.join('\n'));
        assert.equal(notices[0], r.notices[0], 'the notice is also streamed as an event (the editor shows it)');
        const user = (server.requests.at(-1)!.body as { messages: { role: string; content: string }[] }).messages.find((m) => m.role === 'user')!.content;
        assert.ok(user.length < MAX_QUESTION_CHARS + 20_000, `the prompt holds ${user.length} characters`);
        assert.ok(ms < 15_000, `took ${Math.round(ms)} ms`);
        const compare = await askCompare(ctx(), question);
        assert.equal(compare.question.length, MAX_QUESTION_CHARS);
        assert.equal(compare.reranked.notices[0], r.notices[0]);
      });
    }

    it('never cuts a surrogate pair in half', async () => {
      const q = `${'a'.repeat(MAX_QUESTION_CHARS - 1)}😀${'b'.repeat(100)}`;
      const r = await ask({ ...ctx(), settings: {} }, q, { rerank: false });
      assert.equal(r.question, 'a'.repeat(MAX_QUESTION_CHARS - 1));
    });
  });
});
