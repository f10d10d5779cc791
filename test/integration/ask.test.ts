import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ask, askCompare, type AskContext } from '../../src/core/answer/ask';
import { InferenceClient } from '../../src/core/worker/client';
import { indexWorkspace } from '../../src/core/indexing/indexer';
import { IndexStore } from '../../src/core/store/store';
import { FeedbackLearner, OpenRecorder } from '../../src/core/ltr/feedback';
import { LtrModel } from '../../src/core/ltr/model';
import { Reranker } from '../../src/core/rerank/reranker';
import type { Candidate } from '../../src/core/search/types';
import { retrieve } from '../../src/core/search/retriever';
import { embeddingText } from '../../src/core/models/text';
import { TINY_EMBEDDER, TINY_RERANKER, WORKER_SCRIPT, tempDir, writeTree } from '../helpers';
import { OpenAiTestServer } from '../support/openaiServer';
import { REPO } from '../support/repo';

describe('retrieve → rerank → answer (real worker, tiny models, local OpenAI server)', () => {
  let client: InferenceClient;
  let server: OpenAiTestServer;
  let store: IndexStore;
  let reranker: Reranker;
  let cleanup: () => void;

  before(async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const root = path.join(t.dir, 'repo');
    const indexDir = path.join(t.dir, 'index');
    writeTree(root, REPO);
    client = new InferenceClient(WORKER_SCRIPT);
    await client.call('configure', { cacheDir: path.join(t.dir, 'models'), allowRemote: false });
    const gen = indexWorkspace({ root, indexDir, client, embedding: { model: TINY_EMBEDDER, dtype: 'fp32' } });
    let r = await gen.next();
    while (!r.done) r = await gen.next();
    assert.ok(r.value.embedding, 'embedder loaded');
    store = (await IndexStore.openForRead(indexDir)).store!;
    const loaded = await client.call('loadReranker', { model: TINY_RERANKER, dtype: 'fp32' });
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.message);
    reranker = new Reranker(client, loaded.info.model);
    server = new OpenAiTestServer();
    await server.start();
  });

  after(async () => {
    await server.stop();
    await client.dispose();
    cleanup();
  });

  const ctx = (extra: Partial<AskContext['settings']> = {}, signal?: AbortSignal): AskContext => ({
    store,
    embedder: client,
    reranker,
    signal,
    settings: { llm: { baseURL: server.baseURL, apiKey: 'sk-test-key-123456', model: 'test-model', maxRetries: 2, timeoutMs: 5000 }, ...extra },
  });

  it('finds the planted chunk for identifier questions, lexically and hybrid', async () => {
    for (const [question, file] of [
      ['retryFailedUploads maxAttempts', 'src/net/uploader.ts'],
      ['invalidate_expired_sessions', 'src/auth/session.py'],
      ['LoadConfig yaml configuration', 'src/config/loader.go'],
    ] as const) {
      const hybrid = await retrieve(store, question, { embedder: client });
      assert.equal(hybrid.mode, 'hybrid');
      assert.equal(hybrid.candidates[0]?.chunk.path, file, `${question} → ${hybrid.candidates.map((c) => c.chunk.path).join(', ')}`);
      const lexical = await retrieve(store, question, {});
      assert.equal(lexical.mode, 'lexical-only');
      assert.equal(lexical.candidates[0]?.chunk.path, file);
      assert.ok(lexical.candidates.every((c) => c.provenance.dense === undefined && c.provenance.lexical));
    }
  });

  it('searches several folders (multi-root) as one collection, labelling each result with its folder', async () => {
    const t = tempDir();
    try {
      const other = path.join(t.dir, 'other');
      writeTree(other, { 'lib/uploads.py': 'def retry_failed_uploads(queue):\n    """Retry every failed upload in the queue."""\n    return [u for u in queue if u.failed]\n' });
      const gen = indexWorkspace({ root: other, indexDir: path.join(t.dir, 'index'), client, embedding: { model: TINY_EMBEDDER, dtype: 'fp32' } });
      let r = await gen.next();
      while (!r.done) r = await gen.next();
      const second = (await IndexStore.openForRead(path.join(t.dir, 'index'))).store!;
      const { candidates, mode } = await retrieve([{ name: 'web', store }, { name: 'worker', store: second }], 'retry failed uploads', { embedder: client });
      assert.equal(mode, 'hybrid');
      const folders = new Set(candidates.map((c) => c.folder));
      assert.deepEqual([...folders].sort(), ['web', 'worker']);
      assert.ok(candidates.some((c) => c.folder === 'worker' && c.chunk.path === 'lib/uploads.py'));
      assert.ok(candidates.some((c) => c.folder === 'web' && c.chunk.path === 'src/net/uploader.ts'));
      candidates.forEach((c, i) => assert.equal(c.rankBefore, i + 1));
    } finally {
      t.cleanup();
    }
  });

  it('records provenance: retrievers, per-retriever rank and score, fused rank', async () => {
    const { candidates } = await retrieve(store, 'retry failed uploads backoff', { embedder: client });
    assert.ok(candidates.length > 0);
    candidates.forEach((c, i) => {
      assert.equal(c.rankBefore, i + 1);
      assert.equal(c.provenance.fused.rank, i + 1);
      assert.ok(c.provenance.dense || c.provenance.lexical);
    });
    const both = candidates.find((c) => c.provenance.dense && c.provenance.lexical);
    assert.ok(both, 'some candidate was found by both retrievers');
    assert.ok(both.provenance.dense!.rank >= 1 && both.provenance.lexical!.rank >= 1);
    // RRF: fused score = sum of 1/(60 + rank).
    const expected = 1 / (60 + both.provenance.dense!.rank) + 1 / (60 + both.provenance.lexical!.rank);
    assert.ok(Math.abs(both.provenance.fused.score - expected) < 1e-12);
  });

  it('reranks in the order of the cross-encoder scores, which differs from the fused order in a planted case', async () => {
    const question = 'how many attempts per file are allowed for uploads';
    const { candidates } = await retrieve(store, question, { embedder: client });
    const direct = await client.call('rerank', { query: question, passages: candidates.map((c) => embeddingText(c.chunk)) });
    const { candidates: reranked } = await new Reranker(client, 'fresh').rerank(question, candidates);
    const expectedOrder = candidates.map((c, i) => ({ id: c.chunk.id, s: direct[i]! })).sort((a, b) => b.s - a.s).map((x) => x.id);
    assert.deepEqual(reranked.map((c) => c.chunk.id), expectedOrder);
    reranked.forEach((c, i) => {
      assert.equal(c.rankAfter, i + 1);
      assert.equal(c.provenance.rerank!.rank, i + 1);
    });
    assert.notDeepEqual(reranked.map((c) => c.chunk.id), candidates.map((c) => c.chunk.id), 'reranking changed the order');
    // The guide's "Limits" section answers the question; the cross-encoder puts it first.
    assert.equal(reranked[0]!.chunk.path, 'docs/upload-guide.md');
  });

  it('caches cross-encoder scores, so compare does not score twice', async () => {
    const r = new Reranker(client, 'cache-test');
    const { candidates } = await retrieve(store, 'session expiry', { embedder: client });
    const first = await r.rerank('session expiry', candidates);
    const second = await r.rerank('session expiry', candidates);
    assert.equal(first.scored, candidates.length);
    assert.equal(second.scored, 0);
    assert.equal(second.cached, candidates.length);
    // A shorter truncation is another score: scored again (never served from the 256-token cache),
    // and exactly what the worker gives for that length.
    const short = await r.rerank('session expiry', candidates, { maxLength: 24 });
    assert.equal(short.scored, candidates.length);
    const direct = await client.call('rerank', { query: 'session expiry', passages: candidates.map((c) => embeddingText(c.chunk)), maxLength: 24 });
    const full = await client.call('rerank', { query: 'session expiry', passages: candidates.map((c) => embeddingText(c.chunk)) });
    assert.notDeepEqual(direct, full, 'truncating to 24 tokens changes some score');
    const byId = new Map(candidates.map((c, i) => [c.chunk.id, direct[i]!]));
    for (const c of short.candidates) assert.equal(c.provenance.rerank!.score, byId.get(c.chunk.id));
    assert.equal((await r.rerank('session expiry', candidates, { maxLength: 24 })).scored, 0);
  });

  it('sends numbered, packed sources (never secret files), streams the answer and verifies citations', async () => {
    server.script = [{ kind: 'answer', text: 'Failed uploads are retried in `retryFailedUploads` [1], with backoff [2]. See also [9].', pieces: 7 }];
    const before = server.requests.length;
    const tokens: string[] = [];
    const result = await ask(ctx(), 'where do we retry failed uploads?', { rerank: true, onEvent: (e) => e.type === 'token' && tokens.push(e.text) });
    assert.equal(server.requests.length, before + 1);
    const body = server.requests.at(-1)!.body;
    assert.equal(body.model, 'test-model');
    assert.equal(body.stream, true);
    const prompt = body.messages.map((m) => m.content).join('\n');
    assert.match(prompt, /\[1\] src\/net\/uploader\.ts:\d+-\d+/);
    for (const s of result.sources) assert.ok(prompt.includes(`[${s.n}] ${s.path}:${s.startLine}-${s.endLine}`));
    assert.ok(!prompt.includes('sk-live-should-never-leave-this-file') && !prompt.includes('hunter2'), 'secret file content never sent');
    assert.equal(server.requests.at(-1)!.headers.authorization, 'Bearer sk-test-key-123456');

    assert.ok(tokens.length >= 3, 'tokens streamed as they arrived');
    assert.equal(tokens.join(''), result.answer);
    assert.equal(result.answerKind, 'llm');
    assert.deepEqual(result.citations.map((c) => [c.n, c.verified]), [[1, true], [2, true], [9, false]]);
    assert.equal(result.reranked, true);
    assert.equal(result.sources[0]!.n, 1);
    for (const k of ['embed', 'dense', 'lexical', 'fuse', 'rerank', 'firstToken', 'total'] as const) assert.equal(typeof result.timings[k], 'number', k);
  });

  it('redacts keys found inside indexed files before they reach the LLM (at index time and again before sending)', async () => {
    server.script = [{ kind: 'answer', text: 'ok [1]' }];
    await ask(ctx(), 'publishArtifacts bucket release', { rerank: false });
    const prompt = server.requests.at(-1)!.body.messages.map((m) => m.content).join('\n');
    assert.match(prompt, /publishArtifacts/);
    assert.ok(!prompt.includes('AKIAIOSFODNN7EXAMPLE') && !prompt.includes('SECRETKEYMATERIAL'), 'secrets removed');
    assert.match(prompt, /\[REDACTED AWS access key\]/);
    assert.match(prompt, /\[REDACTED private key\]/);
    // The index itself was redacted when the file was indexed: turning off the second pass before
    // sending does not bring the key back.
    await ask(ctx({ redactSecrets: false }), 'publishArtifacts bucket release', { rerank: false });
    assert.ok(!server.requests.at(-1)!.body.messages.some((m) => m.content.includes('AKIAIOSFODNN7EXAMPLE')), 'redacted at index time');
  });

  it('merges overlapping or adjacent chunks of one file into one source within the token budget', async () => {
    server.script = [{ kind: 'answer', text: 'ok [1]' }];
    const result = await ask(ctx({ topN: 20, tokenBudget: 100_000 }), 'uploader send retry attempts backoff upload', { rerank: false });
    const byPath = new Map<string, { startLine: number; endLine: number }[]>();
    for (const s of result.sources) byPath.set(s.path, [...(byPath.get(s.path) ?? []), s]);
    for (const [p, ranges] of byPath) {
      const sorted = [...ranges].sort((a, b) => a.startLine - b.startLine);
      for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]!.startLine > sorted[i - 1]!.endLine + 1, `${p}: sources overlap or touch`);
    }
    const small = await ask(ctx({ topN: 20, tokenBudget: 60 }), 'uploader send retry attempts backoff upload', { rerank: false });
    assert.ok(small.sources.length < result.sources.length, 'a small budget keeps fewer sources');
    assert.ok(small.sources.length >= 1);
  });

  it('answers retrieval-only when no LLM is configured', async () => {
    const before = server.requests.length;
    const result = await ask({ ...ctx(), settings: {} }, 'where do we retry failed uploads?', { rerank: true });
    assert.equal(server.requests.length, before);
    assert.equal(result.answerKind, 'retrieval-only');
    assert.ok(result.sources.length > 0 && result.sources[0]!.text.length > 0);
    assert.ok(result.notices.some((n) => /No LLM is configured/.test(n)));
  });

  it('learning-to-rank in the editor: editor signals move an open file up, mark its source, and opens are learned from', async () => {
    // A model with weight on the editor's "file is open" signal (the shipped one has none until it learns).
    const features = ['lex_rel', 'ed_open', 'ed_opened_before'];
    const ltr = new LtrModel({ format: 'sift-ltr/1', features, mean: [0, 0, 0], std: [1, 1, 1], linear: [1, 3, 0], hidden: [], out: [], bias: 0, meta: { name: 'editor-test' } });
    const question = 'where do we retry failed uploads?';
    const plain = await ask({ store, ltr, settings: {} }, question, { rerank: true });
    const target = plain.sources.map((s) => s.path).find((p) => p !== plain.sources[0]!.path)!;
    assert.ok(target, 'at least two files among the sources');
    assert.ok(plain.sources.every((s) => !s.editor), 'no editor signals: no markers');
    const seen: Candidate[][] = [];
    const editor = { openFiles: [{ path: target }], cursor: { path: target, line: 1 } };
    const result = await ask({ store, ltr, editor, settings: {}, onCandidates: (_v, c) => seen.push([...c]) }, question, { rerank: true });
    assert.equal(result.sources[0]!.path, target, 'the open file comes first');
    assert.deepEqual(result.sources[0]!.editor, { open: true, nearCursor: true });
    assert.ok(result.sources.slice(1).every((s) => s.path === target || !s.editor?.open));
    assert.equal(typeof result.sources[0]!.scores.ltr, 'number');
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0]!.map((c) => c.chunk.id), result.ranking.map((r) => r.chunkId));
    // The user opens the last source: it becomes a judgement, and its file a remembered one.
    const recorder = new OpenRecorder(new FeedbackLearner(ltr), ltr);
    recorder.remember('turn', question, seen[0]!, result.sources, editor);
    const n = result.sources.length;
    assert.equal(recorder.opened('turn', n), n - 1);
    assert.deepEqual(recorder.learner.openedBefore().map((f) => f.path), [result.sources[n - 1]!.path]);
  });

  it('compare: retrieval once, two rankings of the same candidates, two answers', async () => {
    server.script = [{ kind: 'answer', text: (b) => `answer for ${b.messages[1]!.content.match(/\[1\] (\S+)/)![1]} [1]` }];
    const before = server.requests.length;
    const tokens: Record<string, string> = { reranked: '', notReranked: '' };
    const result = await askCompare(ctx(), 'how many attempts per file are allowed for uploads', { onEvent: (e) => { if (e.type === 'token') tokens[e.variant] += e.text; } });
    assert.equal(server.requests.length, before + 2);
    assert.equal(result.reranked.reranked, true);
    assert.equal(result.notReranked.reranked, false);
    const ids = (r: typeof result.reranked) => r.ranking.map((x) => x.chunkId);
    assert.deepEqual([...ids(result.reranked)].sort(), [...ids(result.notReranked)].sort());
    assert.notDeepEqual(ids(result.reranked), ids(result.notReranked));
    assert.ok(result.notReranked.ranking.every((x) => x.rankBefore === x.rankAfter));
    assert.equal(tokens.reranked, result.reranked.answer);
    assert.equal(tokens.notReranked, result.notReranked.answer);
    assert.equal(result.reranked.timings.embed, result.notReranked.timings.embed, 'one retrieval shared by both');
  });

  describe('LLM failures give a message that says what to check, and keep partial text', () => {
    const cases: [string, Parameters<typeof setScript>[0], string, RegExp][] = [
      ['401', [{ kind: 'status', status: 401, message: 'Incorrect API key provided: sk-test-key-123456' }], 'auth', /API key/],
      ['404 model', [{ kind: 'status', status: 404, message: 'model not found' }], 'model-not-found', /model "test-model".*model name/],
      ['500', [{ kind: 'status', status: 500 }], 'server', /HTTP 500/],
      ['cut stream', [{ kind: 'reset-after', text: 'Uploads are retried in the uploader [1] and then', pieces: 3 }], 'stream-cut', /broke off|ended early/],
      ['malformed SSE', [{ kind: 'malformed' }], 'stream-cut', /broke off|ended early/],
      ['empty answer', [{ kind: 'empty' }], 'empty', /empty answer/],
    ];
    function setScript(s: OpenAiTestServer['script']) {
      server.script = s;
    }
    for (const [name, script, kind, pattern] of cases) {
      it(name, async () => {
        setScript(script);
        const result = await ask(ctx({ llm: { baseURL: server.baseURL, apiKey: 'sk-test-key-123456', model: 'test-model', maxRetries: 0, timeoutMs: 5000 } }), 'retry failed uploads', { rerank: false });
        assert.equal(result.answerKind, 'error');
        assert.equal(result.error!.kind, kind, result.error!.message);
        assert.match(result.error!.message, pattern);
        assert.ok(!result.error!.message.includes('sk-test-key-123456'), 'the API key never appears in messages');
        assert.ok(result.sources.length > 0, 'sources are still returned');
        if (name === 'cut stream') assert.ok(result.answer.startsWith('Uploads are retried'), `partial text kept: ${result.answer}`);
      });
    }

    it('429 with Retry-After is retried with backoff, then succeeds', async () => {
      server.script = [{ kind: 'status', status: 429, headers: { 'retry-after': '0' } }, { kind: 'answer', text: 'after retry [1]' }];
      const start = server.requests.length;
      server.requests.length = 0;
      const result = await ask(ctx(), 'retry failed uploads', { rerank: false });
      assert.equal(server.requests.length, 2);
      assert.equal(result.answerKind, 'llm');
      assert.equal(result.answer, 'after retry [1]');
      void start;
    });

    it('timeout', async () => {
      server.script = [{ kind: 'hang' }];
      const result = await ask(ctx({ llm: { baseURL: server.baseURL, model: 'test-model', maxRetries: 0, timeoutMs: 400 } }), 'retry failed uploads', { rerank: false });
      assert.equal(result.error?.kind, 'timeout');
      assert.match(result.error!.message, /did not answer within/);
    });

    it('connection refused', async () => {
      const result = await ask(ctx({ llm: { baseURL: 'http://127.0.0.1:9/v1', model: 'm', maxRetries: 0 } }), 'retry failed uploads', { rerank: false });
      assert.equal(result.error?.kind, 'connection');
      assert.match(result.error!.message, /Could not reach the LLM at http:\/\/127\.0\.0\.1:9\/v1/);
    });
  });

  it('an AbortSignal stops the stream mid-answer and keeps the partial text', async () => {
    server.script = [{ kind: 'stall-after', text: 'The uploader retries failed uploads [1] with exponential backoff', pieces: 2 }];
    const controller = new AbortController();
    const disconnected = server.nextDisconnect();
    let tokens = 0;
    const result = await ask(ctx({}, controller.signal), 'retry failed uploads', {
      rerank: false,
      onEvent: (e) => {
        if (e.type === 'token' && ++tokens === 2) controller.abort();
      },
    });
    await disconnected; // the server saw the client go away
    assert.equal(result.answerKind, 'error');
    assert.equal(result.error!.kind, 'aborted');
    assert.ok(result.answer.length > 0 && result.answer.length < 'The uploader retries failed uploads [1] with exponential backoff'.length);
  });
});
