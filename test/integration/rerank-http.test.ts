import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TINY_EMBEDDER, TINY_RERANKER, tempDir, writeTree, runCli } from '../helpers';
import { RerankTestServer } from '../support/rerankServer';
import { REPO } from '../support/repo';

interface Source {
  path: string;
  startLine: number;
  rankBefore: number;
  rankAfter: number;
  scores: { rerank?: number };
}
interface AskJson {
  reranked: boolean;
  sources: Source[];
  notices: string[];
}


const order = (j: AskJson) => j.sources.map((s) => `${s.path}:${s.startLine}`);

describe('sift ask --rerank-provider http (a loopback rerank server on the tiny cross-encoder)', () => {
  const question = 'how many attempts per file are allowed for uploads';
  let server: RerankTestServer;
  let dir: string;
  let cleanup: () => void;
  let root: string;
  let local: AskJson;
  let fused: AskJson;
  const common = () => [root, question, '--embedding-model', TINY_EMBEDDER, '--reranker-model', TINY_RERANKER, '--offline', '--index-dir', path.join(dir, 'idx'), '--json'];
  const askHttp = async (env: Record<string, string> = {}, extra: string[] = []): Promise<AskJson> => {
    const r = await runCli(['ask', ...common(), '--rerank-provider', 'http', '--rerank-base-url', server.baseURL, '--rerank-model', 'tiny', ...extra], env);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as AskJson;
  };

  before(async () => {
    ({ dir, cleanup } = tempDir());
    root = path.join(dir, 'repo');
    writeTree(root, REPO);
    server = new RerankTestServer();
    await server.start();
    const first = await runCli(['ask', ...common(), '--wait-for-embeddings']);
    assert.equal(first.code, 0, first.stderr);
    local = JSON.parse(first.stdout) as AskJson;
    const plain = await runCli(['ask', ...common(), '--no-rerank']);
    assert.equal(plain.code, 0, plain.stderr);
    fused = JSON.parse(plain.stdout) as AskJson;
  });
  after(async () => {
    await server.stop();
    cleanup();
  });

  it('ranks the sources in the same order as the local cross-encoder, with the same provenance', async () => {
    const before = server.requests.length;
    const j = await askHttp();
    assert.equal(j.reranked, true);
    assert.ok(local.reranked);
    assert.deepEqual(order(j), order(local));
    for (const [i, s] of j.sources.entries()) {
      assert.equal(typeof s.scores.rerank, 'number');
      assert.ok(Math.abs(s.scores.rerank! - local.sources[i]!.scores.rerank!) < 1e-4, `${s.scores.rerank} vs ${local.sources[i]!.scores.rerank}`);
      assert.equal(s.rankBefore, local.sources[i]!.rankBefore);
    }
    const req = server.requests.at(-1)!;
    assert.ok(server.requests.length > before);
    assert.equal(req.body.model, 'tiny');
    assert.equal(req.body.query, question);
    assert.equal(req.body.top_n, req.body.documents.length);
    assert.equal(req.headers.authorization, undefined, 'no key, no Authorization header');
  });

  for (const [name, faults] of [
    ['429 with Retry-After', [{ kind: 'rate-limited', retryAfter: '1' }]],
    ['500 then OK', [{ kind: 'status', status: 500 }]],
    ['a response that leaves documents out', [{ kind: 'missing-documents' }]],
  ] as const) {
    it(`${name}: recovered, reranked`, async () => {
      server.faults = [...faults];
      const j = await askHttp();
      assert.equal(j.reranked, true, j.notices.join('\n'));
      assert.ok(!j.notices.some((n) => /Reranking failed/.test(n)), j.notices.join('\n'));
      if (name !== 'a response that leaves documents out') assert.deepEqual(order(j), order(local));
      assert.equal(server.faults.length, 0);
    });
  }

  for (const [name, faults, message] of [
    ['500 on every attempt', Array.from({ length: 4 }, () => ({ kind: 'status', status: 503 }) as const), /answered HTTP 503 after 4 attempts/],
    ['truncated JSON', [{ kind: 'truncated-json' }], /not JSON/],
    ['a result index out of range', [{ kind: 'index-out-of-range' }], /document \d+, but only \d+ were sent/],
    ['a server that hangs past the timeout', [{ kind: 'hang' }], /did not answer within 1500 ms/],
  ] as const) {
    it(`${name}: the fused ranking with a notice naming the server and the failure`, async () => {
      server.faults = [...faults];
      const started = Date.now();
      const j = await askHttp({ SIFT_RERANK_TIMEOUT_MS: '1500' });
      assert.ok(Date.now() - started < 60_000);
      assert.equal(j.reranked, false);
      const notice = j.notices.find((n) => /Reranking failed/.test(n));
      assert.ok(notice, j.notices.join('\n'));
      assert.match(notice, message);
      assert.ok(notice.includes(`${server.baseURL}/rerank`), notice);
      assert.deepEqual(order(j), order(fused));
      server.faults = [];
    });
  }

  it('SIFT_RERANK_API_KEY goes to the rerank server as a Bearer token, and never through a redirect to another origin', async () => {
    const elsewhere: { auth?: string; hits: number } = { hits: 0 };
    const other: Server = createServer((req, res) => {
      elsewhere.hits++;
      elsewhere.auth = req.headers.authorization;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[]}');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const key = 'sk-rerank-secret-123';
      const j = await askHttp({ SIFT_RERANK_API_KEY: key });
      assert.equal(j.reranked, true);
      assert.equal(server.requests.at(-1)!.headers.authorization, `Bearer ${key}`);
      server.faults = [{ kind: 'redirect', location: `http://localhost:${(other.address() as AddressInfo).port}/rerank` }];
      const r = await askHttp({ SIFT_RERANK_API_KEY: key });
      assert.equal(r.reranked, false);
      assert.ok(r.notices.some((n) => /redirect/.test(n)), r.notices.join('\n'));
      assert.equal(elsewhere.hits, 0);
      assert.equal(elsewhere.auth, undefined);
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it('a bad --rerank-provider or a missing base URL is a clear error', async () => {
    const bad = await runCli(['ask', ...common(), '--rerank-provider', 'cohere-cloud']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--rerank-provider must be one of local, http/);
    const noUrl = await runCli(['ask', ...common(), '--rerank-provider', 'http']);
    assert.notEqual(noUrl.code, 0);
    assert.match(noUrl.stderr, /needs --rerank-base-url/);
  });
});
