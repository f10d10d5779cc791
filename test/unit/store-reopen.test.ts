import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { type FileUpdate, IndexStore } from '../../src/core/store/store';
import { type ShardEntry, readManifest } from '../../src/core/store/manifest';
import { searchShards } from '../../src/core/search/shardSearch';
import { sha256Hex } from '../../src/core/util/fs';
import { rng, syntheticChunks, unitVector } from '../../scripts/bench/corpus';
import { tempDir } from '../helpers';

const DIM = 16;
const EMBEDDING = { model: 'test', dtype: 'fp32' as const, dim: DIM };
const CHUNKER = { version: 1, maxTokens: 256, tokenizer: 'heuristic' };

/** Seeded files of 5 chunks each; `vectors` false: committed keyword-first, as a first build's pass does. */
function files(seed: number, indices: number[], vectors: boolean): FileUpdate[] {
  const r = rng(seed);
  return indices.map((f) => {
    const chunks = syntheticChunks(r, f, 5, 200);
    return { path: chunks[0]!.path, entry: { hash: sha256Hex(`f${f}:${seed}`, 16), size: 1, mtimeMs: 1 }, chunks, vectors: chunks.map(() => (vectors ? unitVector(r, DIM) : undefined)) };
  });
}

const open = (indexDir: string, root: string) => IndexStore.open(indexDir, { root, embedding: EMBEDDING, chunker: CHUNKER, lock: true, shardCapacity: 20 });

/** What a question sees: every shard's keyword and dense hits for one query. */
async function hits(store: IndexStore, terms: string[], vector: Float32Array) {
  const r = await searchShards(store, store.manifest.shards, { terms, vector }, 30);
  return { lexical: r.lexical.map((h) => [h.id, h.score.toFixed(6)]), dense: r.dense.map((h) => [h.id, h.score.toFixed(6)]) };
}

async function loadAll(store: IndexStore) {
  const out = new Map<string, { lexical: unknown; vectors: unknown }>();
  for (const s of store.manifest.shards) out.set(s.dir, { lexical: await store.lexical(s), vectors: await store.vectors(s) });
  return out;
}

describe('IndexStore.openForRead with the previous reader', () => {
  it('keeps what a commit left unchanged, reads again what it rewrote, and searches as a fresh reader does', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const indexDir = path.join(dir, 'idx');
      const { store: writer } = await open(indexDir, dir);
      await writer.commit({ removed: [], upserted: files(1, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], true) });
      assert.ok(writer.manifest.shards.length >= 3, 'several shards');
      const { store: r1 } = await IndexStore.openForRead(indexDir, { files: true });
      assert.ok(r1);
      const loaded1 = await loadAll(r1);
      const query = { terms: (await r1.chunksAt(r1.manifest.shards[0]!, [0]))[0]!.text.match(/[a-z]{4,}/gi)!.slice(0, 4).map((t) => t.toLowerCase()), vector: Float32Array.from(unitVector(rng(3), DIM)) };

      // One file changes: the shard holding it is rewritten, the others are not.
      const changed = files(2, [4], true);
      await writer.commit({ removed: [], upserted: changed });
      const { store: r2 } = await IndexStore.openForRead(indexDir, { files: true, previous: r1 });
      assert.ok(r2);
      const { store: fresh2 } = await IndexStore.openForRead(indexDir, { files: true });
      assert.ok(fresh2);
      let kept = 0;
      let reread = 0;
      for (const s of r2.manifest.shards) {
        // Unchanged: the same folder with the same dead rows (a file moved out leaves dead rows behind).
        const was: ShardEntry | undefined = r1.manifest.shards.find((o) => o.dir === s.dir);
        const before: { lexical: unknown; vectors: unknown } | undefined = was && (was.dead ?? []).join() === (s.dead ?? []).join() ? loaded1.get(s.dir) : undefined;
        if (before) {
          kept++;
          assert.equal(await r2.lexical(s), before.lexical, `${s.dir}: its keyword index carried over`);
          assert.equal(await r2.vectors(s), before.vectors, `${s.dir}: its vectors carried over`);
        } else {
          reread++;
          for (const b of loaded1.values()) assert.notEqual(await r2.lexical(s), b.lexical);
        }
      }
      assert.ok(kept >= 1 && reread >= 1, `kept ${kept}, read again ${reread}`);
      assert.notEqual(r2.manifest.files, r1.manifest.files, 'the commit wrote a new file table: read again');
      assert.equal(r2.file(changed[0]!.path)?.hash, changed[0]!.entry.hash);
      assert.deepEqual(await hits(r2, query.terms, query.vector), await hits(fresh2, query.terms, query.vector));

      // Vectors only (the dense pass): every keyword index and the file table carry over; the rewritten shard's vectors do not.
      await writer.commit({ removed: [], upserted: files(3, [10, 11], false) });
      const { store: r3 } = await IndexStore.openForRead(indexDir, { files: true, previous: r2 });
      assert.ok(r3);
      const loaded3 = await loadAll(r3);
      const waiting = await r3.unembedded();
      assert.ok(waiting.length > 0);
      const r = rng(9);
      await writer.commitVectors(new Map(waiting.map((c) => [c.id, unitVector(r, DIM)])));
      const { store: r4 } = await IndexStore.openForRead(indexDir, { files: true, previous: r3 });
      assert.ok(r4);
      assert.equal(r4.manifest.files, r3.manifest.files, 'no file changed: the table carried over');
      let vectorsReread = 0;
      for (const s of r4.manifest.shards) {
        const before: ShardEntry = r3.manifest.shards.find((o) => o.name === s.name)!;
        assert.equal(await r4.lexical(s), loaded3.get(before.dir)!.lexical, `${s.name}: same keyword file, kept across the new folder`);
        if (s.dir === before.dir) assert.equal(await r4.vectors(s), loaded3.get(before.dir)!.vectors);
        else {
          vectorsReread++;
          assert.notEqual(await r4.vectors(s), loaded3.get(before.dir)!.vectors);
        }
      }
      assert.equal(vectorsReread, 1);
      assert.equal((await r4.unembedded()).length, 0);
      const { store: fresh4 } = await IndexStore.openForRead(indexDir, { files: true });
      assert.deepEqual(await hits(r4, query.terms, query.vector), await hits(fresh4!, query.terms, query.vector));
      await writer.close();

      // The index deleted and built again: folder and file-table names repeat, their contents do not.
      await fsp.rm(indexDir, { recursive: true, force: true });
      const { store: rebuilt } = await open(indexDir, dir);
      await rebuilt.commit({ removed: [], upserted: files(7, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], true) });
      await rebuilt.close();
      const { store: r5 } = await IndexStore.openForRead(indexDir, { files: true, previous: r2 });
      assert.ok(r5);
      assert.ok(r5.manifest.shards.some((s) => loaded1.has(s.dir)), 'a folder name repeats');
      assert.notEqual(r5.manifest.createdAt, r2.manifest.createdAt);
      assert.notEqual(r5.manifest.files, r2.manifest.files);
      for (const s of r5.manifest.shards) {
        const old = loaded1.get(s.dir);
        if (old) assert.notEqual(await r5.vectors(s), old.vectors, `${s.dir}: other vectors under the same name`);
      }
      const { store: fresh5 } = await IndexStore.openForRead(indexDir, { files: true });
      assert.deepEqual(await hits(r5, query.terms, query.vector), await hits(fresh5!, query.terms, query.vector));
      for (const s of [r1, r2, r3, r4, r5, fresh2, fresh4, fresh5]) await s?.close();
    } finally {
      cleanup();
    }
  });

  it("keeps the previous manifest's file table one more commit, so its readers can still open it", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const indexDir = path.join(dir, 'idx');
      const { store: writer } = await open(indexDir, dir);
      const named = async () => {
        const m = JSON.parse(await fsp.readFile(path.join(indexDir, 'manifest.json'), 'utf8')) as { filesFile: string; filesDelta?: string };
        return [m.filesFile, ...(m.filesDelta ? [m.filesDelta] : [])];
      };
      const onDisk = async () => (await fsp.readdir(indexDir)).filter((n) => n.startsWith('files.g')).sort();
      await writer.commit({ removed: [], upserted: files(1, [0, 1, 2], true) });
      let previous = await named();
      // Small changes (a delta file), many (a new full table), small again.
      const steps = [[3], Array.from({ length: 70 }, (_, i) => 10 + i), [4], [5]];
      const seen = new Set(previous);
      for (const [k, step] of steps.entries()) {
        await writer.commit({ removed: [], upserted: files(10 + k, step, true) });
        const now = await named();
        now.forEach((n) => seen.add(n));
        // A reader that read the previous manifest finds every file it names; nothing older is left.
        assert.deepEqual(await onDisk(), [...new Set([...previous, ...now])].sort(), `after step ${k}`);
        previous = now;
      }
      assert.ok(seen.size >= 4, `several table files were written (${[...seen].join(', ')})`);
      await writer.close();
      assert.deepEqual(await onDisk(), [...previous].sort(), 'a closed writer leaves only the current table');
    } finally {
      cleanup();
    }
  });

  it('a writer opening the index reuses a file table the caller read from it, unless the manifest names another', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const indexDir = path.join(dir, 'idx');
      const { store: first } = await open(indexDir, dir);
      await first.commit({ removed: [], upserted: files(1, [0, 1, 2], true) });
      await first.close();
      const read = await readManifest(indexDir);
      assert.ok(read.kind === 'ok' && read.fileTable);
      const held = { createdAt: read.manifest.createdAt, state: read.fileTable, files: read.manifest.files };
      const { store: writer } = await IndexStore.open(indexDir, { root: dir, embedding: EMBEDDING, chunker: CHUNKER, lock: true, shardCapacity: 20, held });
      assert.equal(writer.manifest.files, held.files, 'not parsed again');
      await writer.commit({ removed: [], upserted: files(2, [3], true) });
      await writer.close();
      // Another table now: read from disk, with the new file in it.
      const { store: again } = await IndexStore.open(indexDir, { root: dir, embedding: EMBEDDING, chunker: CHUNKER, lock: true, shardCapacity: 20, held });
      assert.notEqual(again.manifest.files, held.files);
      assert.equal(Object.keys(again.manifest.files).length, 4);
      await again.close();
    } finally {
      cleanup();
    }
  });
});
