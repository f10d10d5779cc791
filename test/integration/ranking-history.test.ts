import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FileUpdate, IndexStore } from '../../src/core/store/store';
import { type NamedStore, retrieve } from '../../src/core/search/retriever';
import type { Chunk } from '../../src/core/types';
import { sha256Hex } from '../../src/core/util/fs';
import { queryText, rng, syntheticChunks } from '../../scripts/bench/corpus';
import { tempDir } from '../helpers';

/**
 * Rankings depend only on the indexed content (issue 19): an index built in one go and one built
 * through a history of incremental edits (files added in another order, edited and edited back,
 * added and removed) hold the same chunks in different shards, and must rank them the same.
 */
const FILES = 48;
const CAPACITY = 40; // chunks per shard: several shards, laid out differently by each history

function update(chunks: Chunk[], tag: string): FileUpdate {
  return { path: chunks[0]!.path, entry: { hash: sha256Hex(tag, 16), size: 1, mtimeMs: 1 }, chunks };
}

async function openStore(indexDir: string, root: string): Promise<IndexStore> {
  const { store } = await IndexStore.open(indexDir, {
    root,
    embedding: null,
    chunker: { version: 1, maxTokens: 256, tokenizer: 'heuristic' },
    lock: true,
    shardCapacity: CAPACITY,
  });
  return store;
}

describe('rankings do not depend on the index history', () => {
  let cleanup: () => void;
  let fresh: IndexStore;
  let edited: IndexStore;
  let otherFolder: IndexStore;
  const questions: string[] = [];

  before(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    const r = rng(19);
    const final = Array.from({ length: FILES }, (_, f) => syntheticChunks(r, f, 2 + (f % 5), 500));
    const drafts = Array.from({ length: FILES }, (_, f) => syntheticChunks(r, f, 1 + (f % 3), 400));
    const extra = Array.from({ length: 12 }, (_, f) => syntheticChunks(r, FILES + f, 4, 500));

    fresh = await openStore(path.join(dir, 'fresh'), dir);
    await fresh.commit({ removed: [], upserted: final.map((c, f) => update(c, `final${f}`)) });

    edited = await openStore(path.join(dir, 'edited'), dir);
    // 1. Drafts of every other file, plus files that will be deleted, in reverse order.
    await edited.commit({ removed: [], upserted: [...extra, ...drafts.filter((_, f) => f % 2 === 0)].reverse().map((c, i) => update(c, `draft${i}`)) });
    // 2. The rest in small batches, shuffled.
    const order = final.map((_, f) => f).filter((f) => f % 2 === 1).sort(() => r() - 0.5);
    for (let i = 0; i < order.length; i += 5) {
      await edited.commit({ removed: [], upserted: order.slice(i, i + 5).map((f) => update(final[f]!, `final${f}`)) });
    }
    // 3. Drafts replaced by the final content, and the extra files removed, over several commits.
    for (let i = 0; i < FILES; i += 8) {
      const batch = final.map((_, f) => f).filter((f) => f % 2 === 0 && f >= i && f < i + 8);
      await edited.commit({ removed: [], upserted: batch.map((f) => update(final[f]!, `final${f}`)) });
    }
    await edited.commit({ removed: extra.map((c) => c[0]!.path), upserted: [] });

    otherFolder = await openStore(path.join(dir, 'other'), dir);
    await otherFolder.commit({ removed: [], upserted: extra.map((c, i) => update(c, `extra${i}`)) });

    const q = rng(7);
    for (let i = 0; i < 12; i++) questions.push(queryText(q));
    // A question made of a chunk's own words, and one naming a symbol.
    questions.push(final[3]![1]!.text.slice(0, 200), final[10]![0]!.symbols[0]!);
  });
  after(async () => {
    await fresh.close();
    await edited.close();
    await otherFolder.close();
    cleanup();
  });

  it('holds the same chunks in a different shard layout (the premise)', () => {
    const layout = (s: IndexStore) => s.manifest.shards.map((x) => x.chunks).join(',');
    const ids = (s: IndexStore) => Object.values(s.manifest.files).flatMap((e) => e.chunkIds).sort();
    assert.deepEqual(ids(edited), ids(fresh));
    assert.ok(fresh.manifest.shards.length >= 3, `${fresh.manifest.shards.length} shards`);
    assert.notEqual(layout(edited), layout(fresh), 'the histories should give different shard layouts');
  });

  const ranking = async (stores: IndexStore | NamedStore[], question: string) =>
    (await retrieve(stores, question, { candidates: 30 })).candidates.map((c) => ({
      id: `${c.folder ?? ''}/${c.chunk.id}`,
      score: c.provenance.lexical?.score ?? 0,
    }));

  const assertSame = (got: { id: string; score: number }[], want: { id: string; score: number }[], question: string) => {
    assert.ok(want.length > 5, question);
    assert.deepEqual(got.map((h) => h.id), want.map((h) => h.id), question);
    got.forEach((h, i) => assert.ok(Math.abs(h.score - want[i]!.score) <= 1e-9 * Math.max(1, Math.abs(want[i]!.score)), `${question}: score ${h.score} vs ${want[i]!.score}`));
  };

  it('ranks every question identically (ids, order, scores) after a fresh build and an edit history', async () => {
    for (const question of questions) assertSame(await ranking(edited, question), await ranking(fresh, question), question);
  });

  it('ranks several folders as one collection whichever history each has (multi-root)', async () => {
    for (const question of questions) {
      assertSame(
        await ranking([{ name: 'a', store: edited }, { name: 'b', store: otherFolder }], question),
        await ranking([{ name: 'a', store: fresh }, { name: 'b', store: otherFolder }], question),
        question,
      );
    }
  });
});
