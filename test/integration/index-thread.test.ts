import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AutoTokenizer, env, pipeline } from '@huggingface/transformers';
import { InferenceClient } from '../../src/core/worker/client';
import { type IndexEvent, type IndexSummary, indexWorkspace } from '../../src/core/indexing/indexer';
import { CHUNK_THREADS_MIN_FILES } from '../../src/core/indexing/chunkThreads';
import { IndexStore } from '../../src/core/store/store';
import { indexWorkspaceInThread } from '../../src/core/indexing/thread';
import { ModelTokenizer } from '../../src/core/models/tokens';
import { isAbortError } from '../../src/core/util/errors';
import { INDEXER_SCRIPT, TINY_EMBEDDER, WORKER_SCRIPT, tempDir, writeTree } from '../helpers';

/** A repository of `n` small TypeScript files. */
function repo(n: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) files[`src/m${i}.ts`] = `export function handler${i}(input: number): number {\n  return input * ${i} + retryCount${i % 7};\n}\n`;
  return files;
}

describe('the indexing thread (real inference worker, tiny model)', () => {
  let client: InferenceClient;
  let dirs: { dir: string; cleanup: () => void };
  before(async () => {
    dirs = tempDir();
    client = new InferenceClient(WORKER_SCRIPT);
    await client.call('configure', { cacheDir: path.join(dirs.dir, 'models'), allowRemote: false, threads: 2 });
  });
  after(async () => {
    await client.dispose();
    dirs.cleanup();
  });

  it('cancels on the signal, keeps what was committed and releases the index', async () => {
    const root = path.join(dirs.dir, 'cancel-repo');
    const indexDir = path.join(dirs.dir, 'cancel-index');
    writeTree(root, repo(400));
    const controller = new AbortController();
    const events: IndexEvent[] = [];
    const run = indexWorkspaceInThread(
      { root, indexDir, embedding: { model: TINY_EMBEDDER, dtype: 'fp32' }, client, signal: controller.signal, commitEveryFiles: 32 },
      INDEXER_SCRIPT,
    );
    await assert.rejects(
      (async () => {
        for await (const e of run) {
          events.push(e);
          if (e.type === 'commit') controller.abort();
        }
      })(),
      (err: unknown) => isAbortError(err),
    );
    const committed = events.filter((e) => e.type === 'commit').length;
    assert.ok(committed >= 1, 'a commit happened before the cancel');
    const { store } = await IndexStore.openForRead(indexDir);
    const kept = Object.keys(store!.manifest.files).length;
    await store!.close();
    assert.ok(kept >= 32 && kept < 400, `files kept after the cancel: ${kept}`);

    // The write lock was released: the next run finishes the job.
    const rest = indexWorkspaceInThread({ root, indexDir, embedding: { model: TINY_EMBEDDER, dtype: 'fp32' }, client }, INDEXER_SCRIPT);
    let r = await rest.next();
    while (!r.done) r = await rest.next();
    assert.equal(r.value.files.indexed.length, 400);
    assert.equal(r.value.files.unchanged, kept);
  });

  it('cancels when the caller leaves the loop early, then the index is usable', async () => {
    const root = path.join(dirs.dir, 'break-repo');
    const indexDir = path.join(dirs.dir, 'break-index');
    writeTree(root, repo(200));
    for await (const e of indexWorkspaceInThread({ root, indexDir, embedding: null, client, commitEveryFiles: 32 }, INDEXER_SCRIPT)) {
      if (e.type === 'progress') break;
    }
    const again = indexWorkspaceInThread({ root, indexDir, embedding: null, client }, INDEXER_SCRIPT);
    let r = await again.next();
    while (!r.done) r = await again.next();
    assert.equal(r.value.files.indexed.length, 200);
  });

  it('reads and chunks a large pass on chunking threads and writes the same index as one thread alone', async () => {
    // Enough files for chunking threads, of several kinds: languages with and without a grammar,
    // a secret to redact, an empty file, a binary file (skipped), and files long enough to split.
    const files: Record<string, string | Buffer> = repo(CHUNK_THREADS_MIN_FILES + 40);
    // (~7 000 chunks: two shards, two commits.)
    for (let i = 0; i < 130; i++) {
      files[`py/mod${i}.py`] = `class Retry${i}:\n    def upload(self, token):\n        return token * ${i}\n\n` + `def helper${i}(x):\n    return x + ${i}\n`.repeat(40);
      files[`docs/page${i}.md`] = `# Page ${i}\n\n` + `Uploads are retried when the session token fails (${i}).\n\n`.repeat(30);
    }
    files['config/keys.ts'] = "export const awsSecretAccessKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';\n";
    files['src/empty.ts'] = '';
    files['assets/blob.bin'] = Buffer.from([0, 1, 2, 0, 255, 0, 7, 0]);
    const root = path.join(dirs.dir, 'threads-repo');
    writeTree(root, files);
    const embedding = { model: TINY_EMBEDDER, dtype: 'fp32' as const };
    const finish = async (run: AsyncGenerator<IndexEvent, IndexSummary>) => {
      let r = await run.next();
      while (!r.done) r = await run.next();
      return r.value;
    };
    // The indexing thread (dist/indexer.js) starts chunking threads; the same run in this thread without them.
    const threaded = await finish(indexWorkspaceInThread({ root, indexDir: path.join(dirs.dir, 'threads-index'), embedding, client, lexicalFirst: true }, INDEXER_SCRIPT));
    const alone = await finish(indexWorkspace({ root, indexDir: path.join(dirs.dir, 'alone-index'), embedding, client, lexicalFirst: true }));
    assert.ok(threaded.chunkThreads >= 2, `chunking threads: ${threaded.chunkThreads}`);
    assert.equal(alone.chunkThreads, 0);
    assert.deepEqual(threaded.files, alone.files);
    assert.equal(threaded.chunks, alone.chunks);
    assert.ok(threaded.files.skipped.some((s) => s.path === 'assets/blob.bin'));
    // Byte for byte: every shard's chunk, keyword and vector files, and the file table.
    const manifests = await Promise.all(['threads-index', 'alone-index'].map(async (d) => (await IndexStore.openForRead(path.join(dirs.dir, d))).store!));
    const [a, b] = manifests.map((m) => ({ shards: m.manifest.shards.map((s) => [s.name, s.chunks, s.dead, s.embedded, s.files]), files: m.manifest.files }));
    for (const m of manifests) await m.close();
    assert.ok(a!.shards.length >= 2, `${a!.shards.length} shards, ${threaded.chunks} chunks`);
    assert.deepEqual(a, b);
  });

  it('leaves the inference worker serving this thread, with embeddings equal to the transformers.js pipeline', async () => {
    const texts = ['export function retryFailedUploads() {}', 'a much longer text about uploads, queues, retries and backoff '.repeat(8), 'x'];
    const dim = (await client.call('loadEmbedder', { model: TINY_EMBEDDER, dtype: 'fp32' })) as { ok: boolean; info?: { dim?: number } };
    assert.ok(dim.ok);
    const mine = await client.call('embed', { texts });
    env.localModelPath = path.dirname(TINY_EMBEDDER) + path.sep;
    env.allowRemoteModels = false;
    const extractor = await pipeline('feature-extraction', path.basename(TINY_EMBEDDER), { dtype: 'fp32' });
    const oracle = (await extractor(texts, { pooling: 'mean', normalize: true })).data as Float32Array;
    await extractor.dispose();
    assert.equal(mine.length, oracle.length);
    for (let i = 0; i < mine.length; i++) assert.ok(Math.abs(mine[i]! - oracle[i]!) < 1e-5, `component ${i}: ${mine[i]} vs ${oracle[i]}`);
  });

  it('tokenises outside the worker exactly like transformers.js, and the worker embeds those ids to the same vectors', async () => {
    const loaded = await client.call('loadEmbedder', { model: TINY_EMBEDDER, dtype: 'fp32' });
    assert.ok(loaded.ok);
    const mine = new ModelTokenizer(await client.call('tokenizerSpec', {}));
    env.localModelPath = path.dirname(TINY_EMBEDDER) + path.sep;
    env.allowRemoteModels = false;
    const oracle = await AutoTokenizer.from_pretrained(path.basename(TINY_EMBEDDER));
    const texts = [
      'src/upload.ts\nexport class UploadQueue {\n  async retryFailedUploads(max: number) {}\n}',
      '# Überschrift — naïve café\n    x = {"a": [1, 2.5e-3]}  // 注释\t\ttabs',
      '',
      'word '.repeat(700), // longer than the model's 512 tokens: cut like transformers.js cuts it
      'x',
    ];
    for (const t of texts) {
      assert.deepEqual(mine.encode(t), oracle.encode(t).slice(0, 512), JSON.stringify(t.slice(0, 40)));
      assert.equal(mine.counter.count(t), oracle.encode(t).length);
    }
    const fromTexts = await client.call('embed', { texts });
    const fromIds = await client.call('embed', { tokens: mine.encodeBatch(texts), batchSize: 2 });
    assert.equal(fromIds.length, fromTexts.length);
    for (let i = 0; i < fromIds.length; i++) assert.ok(Math.abs(fromIds[i]! - fromTexts[i]!) < 1e-5, `component ${i}: ${fromIds[i]} vs ${fromTexts[i]}`);
  });
});
