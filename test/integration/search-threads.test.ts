import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferenceClient } from '../../src/core/worker/client';
import { type FileUpdate, IndexStore } from '../../src/core/store/store';
import { retrieve } from '../../src/core/search/retriever';
import { sha256Hex } from '../../src/core/util/fs';
import { queryText, rng, syntheticChunks, unitVector } from '../../scripts/bench/corpus';
import { WORKER_SCRIPT, tempDir } from '../helpers';

const DIM = 64;

/** A client whose `embed` returns a fixed vector: the query embedding is not what is tested here. */
function fixedEmbedder(vector: number[]): InferenceClient {
  return { call: async () => Float32Array.from(vector) } as unknown as InferenceClient;
}

describe('search split between this thread and the inference worker', () => {
  let dir: string;
  let cleanup: () => void;
  let indexDir: string;
  let worker: InferenceClient;

  before(async () => {
    ({ dir, cleanup } = tempDir());
    indexDir = path.join(dir, 'idx');
    // Small shards, so the index has several and both threads search some.
    const { store } = await IndexStore.open(indexDir, {
      root: dir,
      embedding: { model: 'test', dtype: 'fp32', dim: DIM },
      chunker: { version: 1, maxTokens: 256, tokenizer: 'heuristic' },
      lock: true,
      shardCapacity: 120,
    });
    const r = rng(11);
    const upserted: FileUpdate[] = [];
    for (let f = 0; f < 90; f++) {
      const chunks = syntheticChunks(r, f, 6, 300);
      upserted.push({ path: chunks[0]!.path, entry: { hash: sha256Hex(`f${f}`, 16), size: 1, mtimeMs: 1 }, chunks, vectors: chunks.map(() => unitVector(r, DIM)) });
    }
    await store.commit({ removed: [], upserted });
    assert.ok(store.manifest.shards.length >= 4, `${store.manifest.shards.length} shards`);
    await store.close();
    worker = new InferenceClient(WORKER_SCRIPT);
  });
  after(async () => {
    await worker.dispose();
    cleanup();
  });

  it('returns exactly what one thread returns (ids, order, scores, provenance)', async () => {
    const { store } = await IndexStore.openForRead(indexDir);
    const r = rng(3);
    for (let q = 0; q < 8; q++) {
      const question = queryText(r);
      const vector = unitVector(r, DIM);
      const alone = await retrieve(store!, question, { embedder: fixedEmbedder(vector), searcher: null });
      const split = await retrieve(store!, question, { embedder: fixedEmbedder(vector), searcher: worker });
      assert.equal(alone.mode, 'hybrid');
      assert.ok(alone.candidates.length > 10);
      assert.deepEqual(
        split.candidates.map((c) => [c.chunk.id, c.provenance]),
        alone.candidates.map((c) => [c.chunk.id, c.provenance]),
        question,
      );
      // Both threads contributed: some candidates come from shards the worker searched.
      const odd = new Set(store!.manifest.shards.filter((_, j) => j % 2 === 1).flatMap((s) => Object.values(store!.manifest.files).filter((e) => e.shard === s.name).flatMap((e) => e.chunkIds)));
      assert.ok(split.candidates.some((c) => odd.has(c.chunk.id)), 'a candidate from a worker shard');
    }
    await store!.close();
  });

  it('searches every shard on this thread while chunks wait for vectors (the dense pass keeps the worker busy), with the same results', async () => {
    // The same chunks, a third of the files without vectors yet (lexical first, embedding in the background).
    const partialDir = path.join(dir, 'partial');
    const full = (await IndexStore.openForRead(indexDir)).store!;
    const { store: writer } = await IndexStore.open(partialDir, { root: dir, embedding: full.manifest.embedding, chunker: full.manifest.chunker, lock: true, shardCapacity: 120 });
    const upserted: FileUpdate[] = [];
    for (const shard of full.manifest.shards) {
      const { chunks, vectors } = await full.loadShard(shard);
      const byFile = new Map<string, typeof chunks>();
      for (const c of chunks) byFile.set(c.path, [...(byFile.get(c.path) ?? []), c]);
      for (const [file, cs] of byFile) {
        const waiting = upserted.length % 3 === 0;
        upserted.push({ path: file, entry: { hash: sha256Hex(file, 16), size: 1, mtimeMs: 1 }, chunks: cs, vectors: cs.map((c) => (waiting ? undefined : vectors.get(c.id))) });
      }
    }
    await full.close();
    await writer.commit({ removed: [], upserted });
    await writer.close();
    const { store } = await IndexStore.openForRead(partialDir);
    assert.ok(store!.manifest.shards.length >= 4);
    // What the worker is asked: only the question's vector, no shard search.
    const asked: string[] = [];
    const vector = unitVector(rng(5), DIM);
    const recording = {
      call: async (method: string, params: never) => {
        asked.push(method);
        return method === 'embed' ? Float32Array.from(vector) : worker.call(method as 'searchShards', params);
      },
    } as unknown as InferenceClient;
    const question = queryText(rng(6));
    const alone = await retrieve(store!, question, { embedder: fixedEmbedder(vector), searcher: null });
    const result = await retrieve(store!, question, { embedder: recording });
    assert.deepEqual(asked, ['embed']);
    assert.equal(result.mode, 'hybrid');
    assert.ok(result.coverage!.embedded < result.coverage!.chunks);
    assert.deepEqual(
      result.candidates.map((c) => [c.chunk.id, c.provenance]),
      alone.candidates.map((c) => [c.chunk.id, c.provenance]),
    );
    await store!.close();
    // Every chunk embedded: the worker searches half of the shards again.
    asked.length = 0;
    const complete = (await IndexStore.openForRead(indexDir)).store!;
    await retrieve(complete, question, { embedder: recording });
    await complete.close();
    assert.ok(asked.includes('searchShards'), asked.join(', '));
  });

  it('a damaged shard searched by the worker gives the same clear message', async () => {
    const { store } = await IndexStore.openForRead(indexDir);
    const shard = store!.manifest.shards[1]!; // odd: the worker's
    const file = path.join(indexDir, 'shards', shard.dir, 'vectors.bin');
    const original = readFileSync(file);
    const damaged = Buffer.from(original);
    damaged[damaged.length - 20] ^= 0x55;
    writeFileSync(file, damaged);
    try {
      const fresh = new InferenceClient(WORKER_SCRIPT);
      try {
        await assert.rejects(retrieve(store!, 'upload retry', { embedder: fixedEmbedder(unitVector(rng(1), DIM)), searcher: fresh }), /damaged \(the vectors of shard s0001: vectors\.bin fails its checksum\)/);
      } finally {
        await fresh.dispose();
      }
    } finally {
      writeFileSync(file, original);
      await store!.close();
    }
  });
});
