import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { type FileUpdate, IndexStore } from '../../src/core/store/store';
import { fillVectors } from '../../src/core/indexing/fillVectors';
import type { Embedder } from '../../src/core/worker/embedder';
import { sha256Hex } from '../../src/core/util/fs';
import { rng, syntheticChunks, unitVector } from '../../scripts/bench/corpus';
import { embeddingText } from '../../src/core/models/text';
import { denseCoverage } from '../../src/core/store/manifest';
import { tempDir } from '../helpers';

const DIM = 32;
const EMBEDDING = { model: 'test', dtype: 'fp32' as const, dim: DIM };
const CHUNKER = { version: 1, maxTokens: 256, tokenizer: 'heuristic' };

/** Files of a lexical-first index: chunks committed without vectors. */
function files(): FileUpdate[] {
  const r = rng(11);
  return Array.from({ length: 10 }, (_, f) => {
    const chunks = syntheticChunks(r, f, 5, 200);
    return { path: chunks[0]!.path, entry: { hash: sha256Hex(`f${f}`, 16), size: 1, mtimeMs: 1 }, chunks, vectors: chunks.map(() => undefined) };
  });
}

describe('IndexStore.commitVectors (vectors only)', () => {
  it('writes only the vectors file: the chunk and keyword files of the shard are reused, not rewritten', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const indexDir = path.join(dir, 'idx');
      const { store } = await IndexStore.open(indexDir, { root: dir, embedding: EMBEDDING, chunker: CHUNKER, lock: true });
      const upserted = files();
      await store.commit({ removed: [], upserted });
      // A file removed: its rows are dead in the shard; a vectors-only commit keeps them dead.
      await store.commit({ removed: [upserted[0]!.path], upserted: [] });
      const [before] = store.manifest.shards;
      assert.ok(before?.dead?.length, 'the removed file left dead rows');
      const shardDir = (s: { dir: string }) => path.join(indexDir, 'shards', s.dir);
      const lexicalBefore = statSync(path.join(shardDir(before), 'lexical.bin'));
      const chunksBefore = statSync(path.join(shardDir(before), 'chunks.bin'));
      const r = rng(5);
      const vectors = new Map<string, number[]>();
      for (const id of upserted[1]!.chunks.map((c) => c.id)) vectors.set(id, unitVector(r, DIM));
      await store.commitVectors(vectors);
      const [after] = store.manifest.shards;
      assert.ok(after);
      assert.notEqual(after.dir, before.dir, 'a new shard version');
      // The same files (the same inodes: nothing written), and the manifest records them unchanged.
      assert.equal(statSync(path.join(shardDir(after), 'lexical.bin')).ino, lexicalBefore.ino);
      assert.equal(statSync(path.join(shardDir(after), 'chunks.bin')).ino, chunksBefore.ino);
      assert.deepEqual(after.files?.['lexical.bin'], before.files?.['lexical.bin']);
      assert.deepEqual(after.files?.['chunks.bin'], before.files?.['chunks.bin']);
      assert.notDeepEqual(after.files?.['vectors.bin'], before.files?.['vectors.bin']);
      assert.deepEqual(after.dead, before.dead);
      assert.equal(after.embedded, 5);
      const got = await store.vectorsOfFile(upserted[1]!.path);
      assert.equal(got.size, 5);
      for (const [id, v] of vectors) {
        const dot = got.get(id)!.reduce((s, x, j) => s + x * v[j]!, 0);
        assert.ok(dot > 0.99, `vector of ${id} kept (cos ${dot})`);
      }
      assert.equal((await store.unembedded()).length, 40);
      await store.close();
      // Another writer finds the index intact (sizes and checksums of every file), and a reader sees the same.
      const { store: again, rebuildReason } = await IndexStore.open(indexDir, { root: dir, embedding: EMBEDDING, chunker: CHUNKER, lock: true, verify: 'full' });
      assert.equal(rebuildReason, undefined);
      assert.equal(again.chunkCount, 45);
      assert.equal((await again.unembedded()).length, 40);
      const lexical = readFileSync(path.join(indexDir, 'shards', again.manifest.shards[0]!.dir, 'lexical.bin'));
      assert.equal(lexical.byteLength, before.files?.['lexical.bin']?.bytes);
      await again.close();
    } finally {
      cleanup();
    }
  });
});

describe('fillVectors when a commit compacts a shard during the pass', () => {
  it('finds the chunks again by id (none waits for the next run)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const indexDir = path.join(dir, 'idx');
      const { store } = await IndexStore.open(indexDir, { root: dir, embedding: EMBEDDING, chunker: CHUNKER, lock: true });
      const upserted = files();
      await store.commit({ removed: [], upserted });
      await store.commit({ removed: [upserted[0]!.path], upserted: [] });
      const late = files()[0]!;
      const added: FileUpdate = { ...late, path: 'added/late.ts', chunks: late.chunks.map((c, i) => ({ ...c, id: `late${i}`, path: 'added/late.ts' })) };
      const r = rng(3);
      let calls = 0;
      // An in-process embedder (deterministic vectors); its first request is answered after an edit
      // that rewrites the shard, which drops the dead rows (every later row moves).
      const embedder: Embedder = {
        provider: 'openai-compatible',
        inFlight: 1,
        batchSize: 5,
        load: () => Promise.reject(new Error('not used')),
        embedQuery: () => Promise.reject(new Error('not used')),
        stats: () => undefined,
        embedDocuments: async (texts) => {
          if (calls++ === 0) await store.commit({ removed: [], upserted: [added] });
          return Float32Array.from(texts.flatMap(() => unitVector(r, DIM)));
        },
      };
      const before = store.manifest.shards[0]!;
      const run = fillVectors(store, { embedder, embedding: EMBEDDING, commitEveryChunks: 1000 });
      let step = await run.next();
      while (!step.done) step = await run.next();
      assert.equal(store.manifest.shards[0]!.dead, undefined, `the shard was compacted (was ${before.dead?.length} dead rows)`);
      const left = (await store.unembedded()).map((m) => m.id);
      assert.deepEqual(left.sort(), added.chunks.map((c) => c.id).sort(), 'only the file added during the pass waits');
      await store.close();
    } finally {
      cleanup();
    }
  });
});

describe('fillVectors lists and commits a shard at a time', () => {
  /** A lexical-first index of 10 files of 5 chunks in shards of at most 12 rows (two files each: 5 shards). */
  async function fiveShards(dir: string) {
    const { store } = await IndexStore.open(path.join(dir, 'idx'), { root: dir, embedding: EMBEDDING, chunker: CHUNKER, lock: true, shardCapacity: 12 });
    const upserted = files();
    await store.commit({ removed: [], upserted });
    assert.equal(store.manifest.shards.length, 5);
    const shardOf = new Map<string, string>();
    for (const u of upserted) for (const c of u.chunks) shardOf.set(c.id, store.file(u.path)!.shard!);
    const textOf = new Map(upserted.flatMap((u) => u.chunks.map((c) => [embeddingText(c), c] as const)));
    return { store, upserted, shardOf, textOf };
  }

  it('sends the first request before every shard is listed, priority file first, and commits each shard answered in full at once, each once', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { store, upserted, shardOf, textOf } = await fiveShards(dir);
      // Count the shards listed, and record which chunks each request and each commit carried.
      let listed = 0;
      const unembeddedIn = store.unembeddedIn.bind(store);
      store.unembeddedIn = (name) => {
        listed++;
        return unembeddedIn(name);
      };
      const commits: { shards: Set<string>; afterRequests: number }[] = [];
      const commitVectors = store.commitVectors.bind(store);
      store.commitVectors = (vectors) => {
        commits.push({ shards: new Set([...vectors.keys()].map((id) => shardOf.get(id)!)), afterRequests: requests.length });
        return commitVectors(vectors);
      };
      const requests: { listed: number; paths: Set<string> }[] = [];
      const r = rng(7);
      const embedder: Embedder = {
        provider: 'openai-compatible',
        inFlight: 2,
        batchSize: 5,
        load: () => Promise.reject(new Error('not used')),
        embedQuery: () => Promise.reject(new Error('not used')),
        stats: () => undefined,
        embedDocuments: (texts) => {
          requests.push({ listed, paths: new Set(texts.map((t) => textOf.get(t)!.path)) });
          return Promise.resolve(Float32Array.from(texts.flatMap(() => unitVector(r, DIM))));
        },
      };
      // The priority file sits in the last shard; no cadence commit within the test (an hour apart).
      const priority = upserted[9]!.path;
      const run = fillVectors(store, { embedder, embedding: EMBEDDING, priority: [priority], commitEveryMs: 3_600_000 });
      let step = await run.next();
      while (!step.done) step = await run.next();
      assert.equal(step.value, 50);
      assert.deepEqual(requests[0]!.paths, new Set([priority]), 'the first request: the priority file');
      // Sent before the shards are listed (the next slice's shard may be listed while its texts are read).
      assert.ok(requests[0]!.listed <= 2, `${requests[0]!.listed} of 5 shards listed at the first request`);
      assert.equal(requests.length, 10);
      assert.ok(requests.every((q, i) => q.listed <= Math.floor(i / 2) + 2), `shards listed as the pass reaches them: ${requests.map((q) => q.listed)}`);
      // Each shard committed once (the priority file's shard also when its file was done), and the first
      // commits while requests are still to come, not all at the end.
      const last = shardOf.get(upserted[9]!.chunks[0]!.id)!;
      const written = commits.flatMap((c) => [...c.shards]);
      assert.deepEqual(written.filter((s) => s !== last).sort(), store.manifest.shards.map((s) => s.name).filter((s) => s !== last).sort(), `shards per commit: ${commits.map((c) => [...c.shards].join('+'))}`);
      assert.ok(commits[0]!.afterRequests < requests.length, `first commit after ${commits[0]!.afterRequests} of ${requests.length} requests`);
      assert.equal(denseCoverage(store.manifest).embedded, 50);
      assert.deepEqual(await store.unembedded(), []);
      await store.close();
    } finally {
      cleanup();
    }
  });
});
