import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferenceClient } from '../../src/core/worker/client';
import { type IndexEvent, type IndexOptions, type IndexSummary, indexWorkspace } from '../../src/core/indexing/indexer';
import { type SearchWorker, retrieve } from '../../src/core/search/retriever';
import { IndexStore } from '../../src/core/store/store';
import { type RemoteEmbeddingOptions, RemoteEmbedder, searchWorkerFor } from '../../src/core/worker/embedder';
import { HttpEmbedder } from '../../src/core/models/httpEmbedder';
import { TINY_EMBEDDER, WORKER_SCRIPT, runCli, tempDir, writeTree } from '../helpers';
import { EmbeddingsTestServer } from '../support/embeddingsServer';
import { REPO } from '../support/repo';

/** A corpus of `files` small files (about two chunks each), the same every run. */
function corpus(files: number): Record<string, string> {
  const out: Record<string, string> = {};
  const words = ['upload', 'retry', 'session', 'token', 'parse', 'config', 'render', 'cache', 'queue', 'socket', 'schema', 'index'];
  for (let i = 0; i < files; i++) {
    const a = words[i % words.length]!;
    const b = words[(i * 7 + 3) % words.length]!;
    out[`src/m${i}/${a}${i}.ts`] = [
      `export function ${a}${b}${i}(input: string): string {`,
      `  // ${a} then ${b}: step ${i}`,
      `  return input.split('${a}').join('${b}${i}');`,
      `}`,
      ``,
      `export class ${b[0]!.toUpperCase()}${b.slice(1)}Store${i} {`,
      `  private readonly items = new Map<string, number>();`,
      `  add(key: string): void { this.items.set(key, ${i}); }`,
      `  has(key: string): boolean { return this.items.has(key) && '${a}' !== key; }`,
      `}`,
      ``,
    ].join('\n');
  }
  return out;
}

describe('embedding provider: openai-compatible (a loopback /v1/embeddings server on the tiny model)', () => {
  let client: InferenceClient;
  let server: EmbeddingsTestServer;
  let dir: string;
  let cleanup: () => void;
  let small: string;
  let big: string;
  let n = 0;
  const local = { model: TINY_EMBEDDER, dtype: 'fp32' };
  const remote = (extra: Partial<RemoteEmbeddingOptions> = {}): RemoteEmbeddingOptions => ({
    provider: 'openai-compatible',
    baseUrl: server.baseURL,
    model: 'tiny',
    batchSize: 8,
    concurrency: 3,
    retries: 2,
    maxRetryDelayMs: 20,
    timeoutMs: 5_000,
    ...extra,
  });
  const freshDir = () => path.join(dir, `idx${++n}`);

  async function run(opts: Omit<IndexOptions, 'client' | 'embedding'> & { embedding?: IndexOptions['embedding'] }, onEvent?: (e: IndexEvent) => void): Promise<IndexSummary> {
    const gen = indexWorkspace({ embedding: local, client, ...opts });
    for (let r = await gen.next(); ; r = await gen.next()) {
      if (r.done) return r.value;
      onEvent?.(r.value);
    }
  }

  async function coverage(indexDir: string) {
    const { store } = await IndexStore.openForRead(indexDir, { files: false });
    try {
      return { embedded: store!.manifest.shards.reduce((s, x) => s + (x.embedded ?? x.chunks), 0), chunks: store!.chunkCount, embedding: store!.manifest.embedding };
    } finally {
      await store!.close();
    }
  }

  /** Texts the server answered more than once, the probe aside (each run asks it once). */
  const duplicates = () => server.duplicates().filter((t) => t !== 'probe');

  before(async () => {
    ({ dir, cleanup } = tempDir());
    small = path.join(dir, 'small');
    writeTree(small, REPO);
    big = path.join(dir, 'big');
    writeTree(big, corpus(60));
    client = new InferenceClient(WORKER_SCRIPT);
    await client.call('configure', { cacheDir: path.join(dir, 'models'), allowRemote: false, threads: 2 });
    server = new EmbeddingsTestServer();
    await server.start();
  });
  after(async () => {
    await server.stop();
    await client.dispose();
    cleanup();
  });

  it('ranks like the local model: same top results for the same questions, the question embedded by the server with its prefix', async () => {
    const localDir = freshDir();
    const remoteDir = freshDir();
    await run({ root: small, indexDir: localDir });
    const summary = await run({ root: small, indexDir: remoteDir, remoteEmbedding: remote() });
    assert.equal(summary.embedding?.provider, 'openai-compatible');
    assert.equal(summary.embeddingServer?.requests, server.requests.length);
    const embedder = new RemoteEmbedder(remote());
    for (const q of ['how many attempts per file are allowed for uploads', 'load the configuration file', 'session expiry']) {
      const top = async (indexDir: string, worker: SearchWorker) => {
        const { store } = await IndexStore.openForRead(indexDir, { files: false });
        try {
          return (await retrieve(store!, q, { embedder: worker, searcher: null, candidates: 5 })).candidates.map((c) => `${c.chunk.path}:${c.chunk.startLine}`);
        } finally {
          await store!.close();
        }
      };
      const before = server.requests.length;
      // Vectors are normalised again by the client and quantised in the index: near-ties may swap, the results are the same.
      const [viaServer, viaLocal] = [await top(remoteDir, searchWorkerFor(embedder, client)), await top(localDir, client)];
      assert.equal(viaServer[0], viaLocal[0], q);
      assert.deepEqual([...viaServer].sort(), [...viaLocal].sort(), q);
      assert.deepEqual(server.requests.slice(before).map((r) => r.body.input), [[q]], 'the question is embedded by the server');
    }
    const prefixed = new RemoteEmbedder(remote({ queryPrefix: 'search_query: ' }));
    const before = server.requests.length;
    await prefixed.embedQuery('where is the config', undefined);
    assert.deepEqual(server.requests[before]!.body.input, ['search_query: where is the config']);
  });

  it('vectors travel as base64 float32 by default and equal the JSON numbers; a server that ignores the field or refuses base64 still works', async () => {
    const texts = ['export function parse(input: string) { return input.trim(); }', 'class UploadQueue { retry = 3; }', 'session expiry'];
    const embed = async (http: HttpEmbedder) => {
      const start = server.requests.length;
      const vectors = await http.embed(texts, 'document');
      return { vectors, formats: server.requests.slice(start).map((r) => r.body.encoding_format) };
    };
    try {
      const base64Embedder = new HttpEmbedder(remote());
      const base64 = await embed(base64Embedder);
      assert.deepEqual(base64.formats, ['base64']);
      const dim = base64Embedder.dim!;
      assert.ok(dim > 0 && base64.vectors.length === texts.length * dim);
      for (let t = 0; t < texts.length; t++) {
        const norm = Math.hypot(...base64.vectors.subarray(t * dim, (t + 1) * dim));
        assert.ok(Math.abs(norm - 1) < 1e-5, `vector ${t} is unit length (${norm})`);
      }
      const numbers = await embed(new HttpEmbedder(remote({ encodingFormat: 'float' })));
      assert.deepEqual(numbers.formats, ['float']);
      assert.deepEqual(numbers.vectors, base64.vectors, 'the same float32 values either way');
      // A refusal after base64 was answered is about the request, not the format: not asked again.
      server.faults = [{ kind: 'status', status: 400 }];
      await assert.rejects(base64Embedder.embed(texts, 'document'), /answered HTTP 400/);
      assert.equal(base64Embedder.encoding, 'base64');

      // A server that ignores encoding_format (answers numbers anyway), as Ollama does.
      server.encodings = 'float-only';
      const ignored = await embed(new HttpEmbedder(remote()));
      assert.deepEqual(ignored.formats, ['base64']);
      assert.deepEqual(ignored.vectors, base64.vectors);

      // One that refuses base64 (422): asked again in numbers, and from then on.
      server.encodings = 'refuse-base64';
      const strict = new HttpEmbedder(remote());
      const first = await embed(strict);
      assert.deepEqual(first.formats, ['base64', 'float']);
      assert.deepEqual(first.vectors, base64.vectors);
      assert.deepEqual((await embed(strict)).formats, ['float']);
      assert.equal(strict.stats.requests, 2);
      // Unless base64 was asked for explicitly: then the refusal is the error.
      await assert.rejects(new HttpEmbedder(remote({ encodingFormat: 'base64' })).embed(texts, 'document'), /answered HTTP 422/);

      // A base64 vector that is not whole float32 values: refused, nothing stored.
      server.encodings = 'both';
      server.faults = [{ kind: 'bad-base64' }];
      await assert.rejects(new HttpEmbedder(remote()).embed(texts, 'document'), /sent no vector \(a list of numbers or base64 float32\) for text 0; nothing from this batch was written/);
    } finally {
      server.encodings = 'both';
      server.faults = [];
    }
  });

  it('recovers from 429 + Retry-After, 500, a timeout, a dropped connection and truncated JSON: every chunk embedded once', async () => {
    server.embedded.clear();
    const indexDir = freshDir();
    // The probe, then the first document batches.
    server.faults = [{ kind: 'rate-limited', retryAfter: '0.05' }, { kind: 'status', status: 500 }, { kind: 'hang' }, { kind: 'reset' }, { kind: 'truncated-json' }, { kind: 'status', status: 503 }];
    const summary = await run({ root: big, indexDir, remoteEmbedding: remote({ timeoutMs: 400, retries: 6 }) });
    server.faults = [];
    const c = await coverage(indexDir);
    assert.equal(c.embedded, c.chunks);
    assert.equal(summary.embedded, c.chunks);
    assert.deepEqual(duplicates(), []);
    assert.ok(summary.embeddingServer!.retries >= 6, `retries: ${summary.embeddingServer!.retries}`);
  });

  it('a slow server: dense progress (done, rate) is reported between commits, not only when one lands', async () => {
    const indexDir = freshDir();
    // One request at a time, 250 ms each: a couple of seconds before the single shard is answered and committed.
    server.delayMs = 250;
    const dense: Extract<IndexEvent, { type: 'dense' }>[] = [];
    try {
      await run({ root: small, indexDir, lexicalFirst: true, remoteEmbedding: remote({ batchSize: 2, concurrency: 1 }) }, (e) => {
        if (e.type === 'dense') dense.push(e);
      });
    } finally {
      server.delayMs = 0;
    }
    const beforeCommit = dense.filter((e) => e.embedded === 0);
    assert.ok(beforeCommit.length >= 1, `progress before the first commit: ${JSON.stringify(dense.map((e) => [e.done, e.embedded]))}`);
    assert.ok(beforeCommit.every((e) => e.done > 0) && beforeCommit.some((e) => e.done < e.total), JSON.stringify(beforeCommit));
    assert.equal(dense.at(-1)!.embedded, dense.at(-1)!.chunks);
  });

  it('wrong dimensions: a clear error and nothing written (at the probe: no index at all; mid-run: not that batch)', async () => {
    const indexDir = freshDir();
    server.faults = [{ kind: 'wrong-dimensions' }];
    await assert.rejects(run({ root: small, indexDir, remoteEmbedding: remote({ dimensions: 64 }) }), /vector of \d+ dimensions, but were asked for 64/);
    assert.equal(existsSync(path.join(indexDir, 'manifest.json')), false);

    server.embedded.clear();
    const mid = freshDir();
    // The probe and one batch answer; the next batch has one component more.
    server.faults = [];
    const start = server.requests.length;
    server.faultFor = (k) => (k === start + 3 ? { kind: 'wrong-dimensions' } : undefined);
    await assert.rejects(run({ root: big, indexDir: mid, remoteEmbedding: remote({ concurrency: 1 }) }), /vector of \d+ dimensions, but its earlier vectors had \d+.*nothing from this batch was written/);
    server.faultFor = undefined;
    const c = await coverage(mid);
    assert.ok(c.embedded > 0 && c.embedded < c.chunks, `${c.embedded} of ${c.chunks}`);
  });

  it('a batch failing halfway (400) keeps what was embedded; the rerun embeds only what is missing, each chunk once', async () => {
    server.embedded.clear();
    const indexDir = freshDir();
    const start = server.requests.length;
    server.faultFor = (k) => (k === start + 6 ? { kind: 'status', status: 400 } : undefined);
    // Requests sent after the failing one are held until the failed pass aborts them: nothing is answered
    // while the failure stops the pass (a stop drops what is in flight, so an answer racing it would be
    // embedded again by the rerun).
    server.hold = (k, _input, gone) => (k > start + 6 ? gone : undefined);
    try {
      await assert.rejects(run({ root: big, indexDir, remoteEmbedding: remote() }), /answered HTTP 400/);
    } finally {
      server.faultFor = undefined;
      server.hold = undefined;
    }
    const partial = await coverage(indexDir);
    assert.ok(partial.embedded > 0 && partial.embedded < partial.chunks, `${partial.embedded} of ${partial.chunks}`);
    const summary = await run({ root: big, indexDir, remoteEmbedding: remote() });
    const c = await coverage(indexDir);
    assert.equal(c.embedded, c.chunks);
    assert.equal(summary.embedded, c.chunks - partial.embedded);
    assert.deepEqual(duplicates(), []);
    assert.equal([...server.embedded.keys()].filter((t) => t !== 'probe').length, c.chunks);
  });

  it('the server killed mid-run: what was answered is kept, the rerun embeds only the rest', async () => {
    server.embedded.clear();
    const indexDir = freshDir();
    const start = server.requests.length;
    server.onRequest = (k) => {
      if (k === start + 5) void server.kill();
    };
    await assert.rejects(run({ root: big, indexDir, remoteEmbedding: remote({ retries: 1 }) }), /could not be reached|did not answer/);
    server.onRequest = undefined;
    await server.listen();
    const partial = await coverage(indexDir);
    assert.ok(partial.embedded < partial.chunks);
    await run({ root: big, indexDir, remoteEmbedding: remote() });
    const c = await coverage(indexDir);
    assert.equal(c.embedded, c.chunks);
    assert.deepEqual(duplicates(), []);
  });

  it('sift index cancelled (Ctrl-C) while a batch is held: the batch answered ahead of it is kept, and the next sift index embeds only what was not answered, each chunk once', async () => {
    server.embedded.clear();
    const indexDir = freshDir();
    const flags = ['--embedding-provider', 'openai-compatible', '--embedding-base-url', server.baseURL, '--embedding-model', 'tiny', '--embedding-batch', '8', '--embedding-concurrency', '2', '--index-dir', indexDir];
    // The first batch of the dense pass (the first file's chunks, src/m0/) is held until the run aborts it;
    // the one beside it is answered; the next one is sent only when that answer has reached sift (two
    // requests at a time), and is held too: Ctrl-C then.
    let child: ChildProcess | undefined;
    let answered: readonly string[] | undefined;
    let interrupted = false;
    server.hold = (_k, input, gone) => {
      if (input[0] === 'probe') return undefined;
      if (input.some((t) => t.startsWith('src/m0/'))) return gone;
      if (!answered) {
        answered = input;
        return undefined;
      }
      if (!interrupted) {
        interrupted = true;
        child!.kill('SIGINT');
      }
      return gone;
    };
    let cancelled: Awaited<ReturnType<typeof runCli>>;
    try {
      cancelled = await runCli(['index', big, ...flags, '--json'], {}, { onSpawn: (c) => (child = c) });
    } finally {
      server.hold = undefined;
    }
    assert.equal(cancelled.code, 130, cancelled.stderr);
    assert.match(cancelled.stderr, /indexing cancelled/);
    assert.ok(interrupted && answered?.length === 8, `interrupted ${interrupted}, answered ${answered?.length}`);
    const partial = await coverage(indexDir);
    assert.equal(partial.embedded, 8, 'the batch answered ahead of the held one is committed');

    const resumed = await runCli(['index', big, ...flags, '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const summary = JSON.parse(resumed.stdout) as { chunks: number; embedded: number };
    assert.equal(summary.embedded, summary.chunks - 8);
    assert.equal((await coverage(indexDir)).embedded, summary.chunks);
    assert.deepEqual(duplicates(), [], 'nothing answered before the cancel is embedded again');
    assert.equal([...server.embedded.keys()].filter((t) => t !== 'probe').length, summary.chunks);
  });

  it('another provider or model in the manifest: one rebuild, with a message naming both', async () => {
    const indexDir = freshDir();
    await run({ root: small, indexDir });
    const notices: string[] = [];
    await run({ root: small, indexDir, remoteEmbedding: remote() }, (e) => void (e.type === 'notice' && notices.push(e.message)));
    assert.equal(notices.length, 1);
    assert.match(notices[0]!, /Rebuilding the index: the index was built with .*tiny-embedder \(fp32\), now openai-compatible tiny \(float\)/);
    const again: string[] = [];
    await run({ root: small, indexDir, remoteEmbedding: remote() }, (e) => void (e.type === 'notice' && again.push(e.message)));
    assert.deepEqual(again, [], 'the same provider and model: no rebuild');
    const changed: string[] = [];
    await run({ root: small, indexDir, remoteEmbedding: remote({ model: 'other' }) }, (e) => void (e.type === 'notice' && changed.push(e.message)));
    assert.match(changed.join('\n'), /built with openai-compatible tiny \(float\), now openai-compatible other \(float\)/);
    // The same model answering with another dimension, unasked: an error, the index kept as it was.
    server.faultFor = () => ({ kind: 'wrong-dimensions' });
    await assert.rejects(run({ root: small, indexDir, remoteEmbedding: remote({ model: 'other' }) }), /now sends \d+-dimensional vectors for other; the index was built with \d+\. Nothing was written/);
    server.faultFor = undefined;
    assert.equal((await coverage(indexDir)).embedding?.model, 'other');
  });

  it('sends the key only to its own server, and follows no redirect to another origin', async () => {
    let elsewhere = 0;
    const other: Server = createServer((_req, res) => {
      elsewhere++;
      res.writeHead(200).end('{}');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      const start = server.requests.length;
      await run({ root: small, indexDir: freshDir(), remoteEmbedding: remote({ apiKey: 'sk-embed-test' }) });
      assert.ok(server.requests.slice(start).every((r) => r.headers.authorization === 'Bearer sk-embed-test'));
      server.faults = [{ kind: 'redirect', location: `http://127.0.0.1:${(other.address() as AddressInfo).port}/v1/embeddings` }];
      await assert.rejects(run({ root: small, indexDir: freshDir(), remoteEmbedding: remote({ apiKey: 'sk-embed-test' }) }), /redirect \(HTTP 307\), which Sift does not follow/);
      assert.equal(elsewhere, 0);
    } finally {
      server.faults = [];
      other.close();
    }
  });

  it('sift index against a server that fails every 7th request finishes with every chunk embedded once; sift ask embeds the question there', async () => {
    server.embedded.clear();
    const indexDir = freshDir();
    const start = server.requests.length;
    server.faultFor = (k) => ((k - start) % 7 === 0 ? { kind: 'status', status: 500 } : undefined);
    const flags = ['--embedding-provider', 'openai-compatible', '--embedding-base-url', server.baseURL, '--embedding-model', 'tiny', '--embedding-batch', '8', '--embedding-concurrency', '4', '--index-dir', indexDir];
    const r = await runCli(['index', big, ...flags, '--json'], { SIFT_EMBEDDING_API_KEY: 'sk-cli' });
    server.faultFor = undefined;
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { chunks: number; embedded: number; embedding: { provider: string }; embeddingServer: { retries: number } };
    assert.equal(summary.embedded, summary.chunks);
    assert.equal(summary.embedding.provider, 'openai-compatible');
    assert.ok(summary.embeddingServer.retries >= 1);
    assert.deepEqual(duplicates(), []);
    assert.equal([...server.embedded.keys()].filter((t) => t !== 'probe').length, summary.chunks);
    assert.ok(server.requests.slice(start).every((q) => q.headers.authorization === 'Bearer sk-cli'));
    const before = server.requests.length;
    const ask = await runCli(['ask', big, 'which store keeps the upload items', ...flags, '--embedding-query-prefix', 'search_query: ', '--no-rerank', '--json']);
    assert.equal(ask.code, 0, ask.stderr);
    assert.ok(server.requests.slice(before).some((q) => JSON.stringify(q.body.input) === JSON.stringify(['search_query: which store keeps the upload items'])));
  });
});
