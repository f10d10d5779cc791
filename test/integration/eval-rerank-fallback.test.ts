/**
 * `sift eval` with an http reranker that fails (issue 17): the run does not stop; the questions whose
 * reranking failed score the fused ranking, and the rows and the table say so. A real index (tiny
 * embedder), a real loopback rerank server on the tiny cross-encoder with scripted faults.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { indexWorkspace } from '../../src/core/indexing/indexer';
import { formatTable } from '../../src/core/eval/report';
import { parseVariant, runEval, summarize } from '../../src/core/eval/runner';
import type { EvalQuestion } from '../../src/core/eval/questions';
import { HttpReranker } from '../../src/core/rerank/http';
import { IndexStore } from '../../src/core/store/store';
import { InferenceClient } from '../../src/core/worker/client';
import { TINY_EMBEDDER, WORKER_SCRIPT, tempDir, writeTree } from '../helpers';
import { RerankTestServer } from '../support/rerankServer';
import { REPO } from '../support/repo';

const questions: EvalQuestion[] = [
  { id: 'q1', question: 'how are failed uploads retried', gold: [{ path: 'src/net/uploader.ts', lineRanges: [] }] },
  { id: 'q2', question: 'how long does a session last', gold: [{ path: 'src/auth/session.py', lineRanges: [] }] },
  { id: 'q3', question: 'where is the config loaded', gold: [{ path: 'src/config/loader.go', lineRanges: [] }] },
];

describe('sift eval with an http reranker that fails', () => {
  let server: RerankTestServer;
  let client: InferenceClient;
  let store: IndexStore;
  let cleanup: () => void;

  before(async () => {
    const t = tempDir('sift-eval-rerank-');
    cleanup = t.cleanup;
    const root = path.join(t.dir, 'repo');
    writeTree(root, REPO);
    client = new InferenceClient(WORKER_SCRIPT);
    await client.call('configure', { cacheDir: path.join(t.dir, 'models'), allowRemote: false });
    const indexDir = path.join(t.dir, 'idx');
    const run = indexWorkspace({ root, indexDir, embedding: { model: TINY_EMBEDDER }, client });
    for (let r = await run.next(); !r.done; r = await run.next());
    const opened = await IndexStore.openForRead(indexDir);
    assert.ok(opened.store, opened.problem);
    store = opened.store;
    server = new RerankTestServer();
    await server.start();
  });

  after(async () => {
    await store?.close();
    await server?.stop();
    await client?.dispose();
    cleanup?.();
  });

  for (const fault of [{ kind: 'truncated-json' as const }, { kind: 'status' as const, status: 400 }, { kind: 'index-out-of-range' as const }]) {
    it(`keeps going when the server answers ${fault.kind}${'status' in fault ? ` ${fault.status}` : ''}: the failed question's +ce row is the fused ranking, marked`, async () => {
      // A fresh reranker each time (its score cache would hide the server).
      const reranker = new HttpReranker({ baseUrl: server.baseURL, model: 'tiny' });
      server.faults = [fault];
      const variants = ['hybrid', 'hybrid+ce'].map((v) => parseVariant(v)!);
      const run = await runEval({ store, embedder: client, reranker }, questions, { variants, candidates: 10, depth: 20 });
      assert.equal(run.questions.length, 3, 'every question was evaluated');
      const [first, ...rest] = run.questions;
      assert.ok(first!.rerankFailure, 'the failure is recorded on the question');
      assert.equal(first!.variants['hybrid+ce']!.rerankFallback, true);
      assert.deepEqual(first!.variants['hybrid+ce']!.topChunks, first!.variants.hybrid!.topChunks, 'the fallback scores the fused ranking');
      for (const q of rest) {
        assert.equal(q.rerankFailure, undefined, `${q.id} reranked`);
        assert.equal(q.variants['hybrid+ce']!.rerankFallback, undefined);
      }
      const summary = summarize(variants, run.questions, run.unavailable);
      const ce = summary.find((s) => s.name === 'hybrid+ce')!;
      assert.equal(ce.available, true);
      assert.equal(ce.n, 3);
      assert.deepEqual(ce.rerankFallbacks, { count: 1, reason: first!.rerankFailure });
      assert.equal(summary.find((s) => s.name === 'hybrid')!.rerankFallbacks, undefined);
      assert.match(formatTable(summary), /Note — hybrid\+ce: reranking failed for 1 of 3 questions \(.+\); those were scored on the ranking without reranking\./);
    });
  }

  it('a reranker that times out (the server hangs) falls back too', async () => {
    const reranker = new HttpReranker({ baseUrl: server.baseURL, model: 'tiny', timeoutMs: 300 });
    server.faults = [{ kind: 'hang' }, { kind: 'hang' }, { kind: 'hang' }, { kind: 'hang' }];
    const variants = [parseVariant('hybrid+ce')!];
    const run = await runEval({ store, embedder: client, reranker }, questions.slice(0, 1), { variants, candidates: 10, depth: 20 });
    assert.match(run.questions[0]!.rerankFailure ?? '', /did not answer within 300 ms/);
    assert.equal(run.questions[0]!.variants['hybrid+ce']!.rerankFallback, true);
    server.faults = [];
  });

  it('a cancelled run still stops (a cancel is not a reranker failure)', async () => {
    const http = new HttpReranker({ baseUrl: server.baseURL, model: 'tiny' });
    const controller = new AbortController();
    // Cancelled while the first question is being reranked.
    const reranker = Object.assign(Object.create(http) as HttpReranker, {
      rerank: (...args: Parameters<HttpReranker['rerank']>) => {
        controller.abort();
        return http.rerank(...args);
      },
    });
    const variants = [parseVariant('hybrid+ce')!];
    const pending = runEval({ store, embedder: client, reranker }, questions, { variants, candidates: 10, depth: 20, signal: controller.signal });
    await assert.rejects(pending, (err: Error) => err.name === 'AbortError' || /abort|cancel/i.test(err.message));
  });
});
