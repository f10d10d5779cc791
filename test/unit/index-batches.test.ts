import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fileBatches } from '../../src/core/indexing/indexer';
import { type FileUpdate, IndexStore } from '../../src/core/store/store';
import { lexicalDoc } from '../../src/core/lexical/lexical';
import { sha256Hex } from '../../src/core/util/fs';
import { rng, syntheticChunks, unitVector } from '../../scripts/bench/corpus';
import { tempDir } from '../helpers';

describe('fileBatches', () => {
  it('starts with 2 then 8 files, then full batches, every file once and in order', () => {
    const files = Array.from({ length: 75 }, (_, i) => i);
    const batches = fileBatches(files, 32);
    assert.deepEqual(
      batches.map((b) => b.length),
      [2, 8, 32, 32, 1],
    );
    assert.deepEqual(batches.flat(), files);
  });

  it('never makes an empty batch, and skips ramp steps a small batch size does not need', () => {
    assert.deepEqual(fileBatches([], 32), []);
    assert.deepEqual(fileBatches([1], 32), [[1]]);
    assert.deepEqual(fileBatches([1, 2, 3, 4, 5], 32), [[1, 2], [3, 4, 5]]);
    assert.deepEqual(
      fileBatches(Array.from({ length: 10 }, (_, i) => i), 4).map((b) => b.length),
      [2, 4, 4],
    );
  });
});

describe('IndexStore.commit with prepared BM25 documents and Float32Array vectors', () => {
  const DIM = 32;
  const EMBEDDING = { model: 'test', dtype: 'fp32' as const, dim: DIM };
  const CHUNKER = { version: 1, maxTokens: 256, tokenizer: 'heuristic' };

  function updates(withDocs: boolean, float32: boolean): FileUpdate[] {
    const r = rng(7);
    const out: FileUpdate[] = [];
    for (let f = 0; f < 12; f++) {
      const chunks = syntheticChunks(r, f, 4, 200);
      const vectors = chunks.map(() => unitVector(r, DIM));
      out.push({
        path: chunks[0]!.path,
        entry: { hash: sha256Hex(`f${f}`, 16), size: 1, mtimeMs: 1 },
        chunks,
        vectors: float32 ? vectors.map((v) => Float32Array.from(v)) : vectors,
        docs: withDocs ? chunks.map(lexicalDoc) : undefined,
      });
    }
    return out;
  }

  async function shardFiles(withDocs: boolean, float32: boolean): Promise<Map<string, Buffer>> {
    const { dir, cleanup } = tempDir();
    try {
      const indexDir = path.join(dir, 'idx');
      const { store } = await IndexStore.open(indexDir, { root: dir, embedding: EMBEDDING, chunker: CHUNKER, lock: true });
      await store.commit({ removed: [], upserted: updates(withDocs, float32) });
      await store.close();
      const files = new Map<string, Buffer>();
      for (const shard of readdirSync(path.join(indexDir, 'shards'))) {
        for (const name of readdirSync(path.join(indexDir, 'shards', shard))) files.set(`${shard}/${name}`, readFileSync(path.join(indexDir, 'shards', shard, name)));
      }
      return files;
    } finally {
      cleanup();
    }
  }

  it('writes the same shard files as a commit that makes the documents itself from plain-array vectors', async () => {
    const reference = await shardFiles(false, false);
    const prepared = await shardFiles(true, true);
    assert.ok(reference.size >= 3, `${[...reference.keys()].join(', ')}`);
    assert.deepEqual([...prepared.keys()].sort(), [...reference.keys()].sort());
    for (const [name, bytes] of reference) assert.ok(bytes.equals(prepared.get(name)!), `${name} differs`);
  });

  it('refuses documents that do not match the chunks, leaving the previous index as it was', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const indexDir = path.join(dir, 'idx');
      const { store } = await IndexStore.open(indexDir, { root: dir, embedding: EMBEDDING, chunker: CHUNKER, lock: true });
      const good = updates(true, true);
      await store.commit({ removed: [], upserted: good.slice(0, 6) });
      const before = store.manifest.generation;
      const bad = good.slice(6);
      bad[2] = { ...bad[2]!, docs: bad[2]!.docs!.slice(1) };
      await assert.rejects(store.commit({ removed: [], upserted: bad }), /has 4 chunks but 3 BM25 documents/);
      assert.equal(store.manifest.generation, before);
      assert.equal(Object.keys(store.manifest.files).length, 6);
      await store.close();
    } finally {
      cleanup();
    }
  });
});
