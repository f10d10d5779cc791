import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { type FileUpdate, IndexStore } from '../../src/core/store/store';
import { fillVectors } from '../../src/core/indexing/fillVectors';
import type { Embedder } from '../../src/core/worker/embedder';
import { sha256Hex } from '../../src/core/util/fs';
import { rng, syntheticChunks, unitVector } from '../../scripts/bench/corpus';
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
