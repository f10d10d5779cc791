/**
 * Reopening a read-only store after a commit, with and without the previous reader (issue 17):
 * builds N synthetic files × 10 chunks (384 dimensions), then three rounds of a one-shard
 * vectors-only commit (what the dense pass does) followed by a reopen and the first search, in
 * alternating order. `node --import tsx scripts/bench/readerReopen.ts [FILES=5000]`
 */
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import { IndexStore, type FileUpdate } from '../../src/core/store/store';
import { searchShards } from '../../src/core/search/shardSearch';
import { sha256Hex } from '../../src/core/util/fs';
import { rng, syntheticChunks, unitVector } from './corpus';
async function main() {
const DIM = 384, FILES = Number(process.argv[2] ?? 5000);
const EMB = { model: 'test', dtype: 'fp32' as const, dim: DIM };
const CH = { version: 1, maxTokens: 256, tokenizer: 'heuristic' };
const dir = mkdtempSync(path.join(os.tmpdir(), 'reopen-'));
const idx = path.join(dir, 'idx');
const r = rng(1);
const { store: w } = await IndexStore.open(idx, { root: dir, embedding: EMB, chunker: CH, lock: true });
for (let b = 0; b < FILES; b += 500) {
  const ups: FileUpdate[] = [];
  for (let f = b; f < Math.min(FILES, b + 500); f++) { const chunks = syntheticChunks(r, f, 10, 600); ups.push({ path: chunks[0]!.path, entry: { hash: sha256Hex(`f${f}`, 16), size: 1, mtimeMs: 1 }, chunks, vectors: chunks.map(() => unitVector(r, DIM)) }); }
  await w.commit({ removed: [], upserted: ups });
}
const q = { terms: ['upload', 'retry', 'queue'], vector: Float32Array.from(unitVector(rng(3), DIM)) };
const search = (s: IndexStore) => searchShards(s, s.manifest.shards, q, 50);
const { store: r1 } = await IndexStore.openForRead(idx, { files: true });
await search(r1!);
console.log(`chunks ${r1!.chunkCount}, shards ${r1!.manifest.shards.length}`);
for (let round = 0; round < 3; round++) {
  // a dense-pass-like commit: one shard's vectors
  const one = r1!.manifest.shards[round]!;
  const ids = (await w.vectorsOfFile(Object.keys(w.manifest.files).find((p) => w.manifest.files[p]!.shard === one.name)!));
  await w.commitVectors(new Map([...ids.keys()].map((id) => [id, unitVector(r, DIM)])));
  for (const mode of round % 2 ? ['fresh', 'previous'] : ['previous', 'fresh']) {
    const { store: base } = await IndexStore.openForRead(idx, { files: true });
    await search(base!);
    const t = performance.now();
    const { store: s } = await IndexStore.openForRead(idx, { files: true, ...(mode === 'previous' ? { previous: base } : {}) });
    const o = performance.now() - t;
    await search(s!);
    console.log(`round ${round} ${mode}: open ${o.toFixed(1)} ms, open+first search ${(performance.now() - t).toFixed(1)} ms`);
  }
}
await w.close();
rmSync(dir, { recursive: true, force: true });

}
void main();
