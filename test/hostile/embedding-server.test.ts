import assert from 'node:assert/strict';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferenceClient } from '../../src/core/worker/client';
import { indexWorkspace } from '../../src/core/indexing/indexer';
import { IndexStore } from '../../src/core/store/store';
import { WORKER_SCRIPT, tempDir, writeTree } from '../helpers';
import { REPO } from '../support/repo';
import { hasStackTrace, runCli, tally } from './tally';

/**
 * A malicious OpenAI-compatible embeddings server: it answers the first request (the dimension probe)
 * properly, then sends a hostile answer to every chunk batch. Sift must fail with a clear message naming
 * the server, within a bound, write no vector from it, never send the key elsewhere.
 */
type Payload = (res: ServerResponse, count: number) => void;
const json = (body: unknown): Payload => (res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
const vectors = (count: number, dim = 8, value = 0.25) => Array.from({ length: count }, (_, index) => ({ index, embedding: new Array<number>(dim).fill(value) }));

const KEY = 'sk-hostile-embedding-key-0042';

describe('hostile embedding server', () => {
  let dir: string;
  let cleanup: () => void;
  let root: string;
  let client: InferenceClient;
  let server: Server;
  let elsewhere: Server;
  let elsewhereHits = 0;
  let keyElsewhere = 0;
  let payload: Payload = json({});
  let base = '';
  let n = 0;

  before(async () => {
    ({ dir, cleanup } = tempDir());
    root = path.join(dir, 'repo');
    writeTree(root, REPO);
    client = new InferenceClient(WORKER_SCRIPT);
    elsewhere = createServer((req, res) => {
      elsewhereHits++;
      if (JSON.stringify(req.headers).includes(KEY)) keyElsewhere++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: vectors(1) }));
    });
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = '';
      req.on('data', (d) => (raw += String(d)));
      req.on('end', () => {
        const input = (JSON.parse(raw) as { input: string[] }).input;
        if (input.length === 1 && input[0] === 'probe') return json({ data: vectors(1) })(res, 1);
        payload(res, input.length);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(async () => {
    server.closeAllConnections();
    elsewhere.closeAllConnections();
    server.close();
    elsewhere.close();
    await client.dispose();
    cleanup();
  });

  const cases: [string, Payload][] = [
    ['huge response (never-ending body)', (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1 << 20, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 80 && res.write(chunk)) sent++;
        if (sent < 80 && !res.destroyed) res.once('drain', pump);
        else res.end();
      };
      pump();
    }],
    ['NaN in a vector (not JSON)', json('{"data":[{"index":0,"embedding":[NaN,1,1,1,1,1,1,1]}]}')],
    ['Infinity in a vector (1e999)', (res, count) => json(`{"data":[${vectors(count).map((v) => `{"index":${v.index},"embedding":[1e999,1,1,1,1,1,1,1]}`).join(',')}]}`)(res, count)],
    ['wrong count (one vector more)', (res, count) => json({ data: vectors(count + 1) })(res, count)],
    ['wrong count (none)', json({ data: [] })],
    ['duplicate index', (res, count) => json({ data: vectors(count).map((v) => ({ ...v, index: 0 })) })(res, count)],
    ['index out of range', (res, count) => json({ data: vectors(count).map((v) => ({ ...v, index: v.index + 1e9 })) })(res, count)],
    ['strings for numbers', (res, count) => json({ data: vectors(count).map((v) => ({ ...v, embedding: v.embedding.map(String) })) })(res, count)],
    ['another dimension than the probe', (res, count) => json({ data: vectors(count, 9) })(res, count)],
    ['dimensions differing within one batch', (res, count) => json({ data: vectors(count).map((v, i) => ({ ...v, embedding: new Array<number>(8 + (i % 2)).fill(1) })) })(res, count)],
    ['zero vectors', (res, count) => json({ data: vectors(count, 8, 0) })(res, count)],
    ['data is not a list', json({ data: { 0: [1] } })],
    ['prototype pollution keys', (res, count) => json(`{"__proto__":{"polluted":1},"data":${JSON.stringify(vectors(count + 2))}}`)(res, count)],
    ['slow drip (one byte every 300 ms)', (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 300);
      res.on('close', () => clearInterval(t));
    }],
    ['redirect to another origin', (res) => void res.writeHead(307, { location: `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/v1/embeddings` }).end()],
  ];

  it('fails each hostile answer with a clear message, in bound, writing no vector from it and the key nowhere else', async () => {
    let survived = 0;
    let slow = 0;
    for (const [name, p] of cases) {
      payload = p;
      const indexDir = path.join(dir, `idx${++n}`);
      const started = Date.now();
      let message = '';
      try {
        const gen = indexWorkspace({
          root,
          indexDir,
          embedding: { model: 'unused' },
          remoteEmbedding: { provider: 'openai-compatible', baseUrl: base, model: 'evil', apiKey: KEY, batchSize: 4, concurrency: 2, retries: 1, maxRetryDelayMs: 10, timeoutMs: 1500 },
          client,
        });
        for (let r = await gen.next(); !r.done; r = await gen.next());
      } catch (err) {
        message = (err as Error).message;
      }
      const ms = Date.now() - started;
      if (ms > 10_000) slow++;
      const { store } = await IndexStore.openForRead(indexDir, { files: false });
      const embedded = store ? store.manifest.shards.reduce((s, x) => s + (x.embedded ?? x.chunks), 0) : 0;
      await store?.close();
      const ok = /embedding server http:\/\/127\.0\.0\.1:\d+\/v1\/embeddings/.test(message) && !message.includes(KEY) && embedded === 0 && ({} as Record<string, unknown>).polluted === undefined;
      assert.ok(ok, `${name}: ${message || 'no error'} (embedded ${embedded})`);
      survived++;
    }
    assert.equal(elsewhereHits, 0, 'nothing went to the redirect target');
    tally({ area: 'embedding-server', faultsInjected: cases.length, faultsSurvived: survived, secretsTried: cases.length, secretsLeaked: keyElsewhere, slowTried: cases.length, slowExceeded: slow });
  });

  it('sift index against it: exit 1, one line naming the server, no stack trace, the key in no output', async () => {
    payload = cases.find(([name]) => name.startsWith('Infinity'))![1];
    const r = await runCli(['index', root, '--embedding-provider', 'openai-compatible', '--embedding-base-url', base, '--index-dir', path.join(dir, 'cli-idx')], { SIFT_EMBEDDING_API_KEY: KEY, SIFT_EMBEDDING_TIMEOUT_MS: '1500' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /sift: the embedding server http:\/\/127\.0\.0\.1:\d+\/v1\/embeddings sent a vector with a value that is not a finite number/);
    assert.ok(!hasStackTrace(r.stderr), r.stderr);
    assert.ok(!(r.stdout + r.stderr).includes(KEY));
    tally({ area: 'embedding-server', faultsInjected: 1, faultsSurvived: 1, secretsTried: 1, secretsLeaked: (r.stdout + r.stderr).includes(KEY) ? 1 : 0 });
  });
});
