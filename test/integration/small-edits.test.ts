/**
 * Small edits are cheap (issue 17 item 4): an update of one file writes bytes in proportion to
 * the file, not to the shard it was in or the file table — measured as the bytes of the files
 * the commit created or replaced (not as time). And the index it leaves reads as a fresh one.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { queryTerms, searchLexical } from '../../src/core/lexical/lexical';
import { mergeBm25Stats } from '../../src/core/lexical/bm25';
import { readManifest } from '../../src/core/store/manifest';
import { type FileUpdate, IndexStore } from '../../src/core/store/store';
import type { Chunk } from '../../src/core/types';
import { sha256Hex } from '../../src/core/util/fs';
import { tempDir } from '../helpers';

const CHUNKER = { version: 1, maxTokens: 256, tokenizer: 'heuristic' };
const WORDS = 'upload retry token cache session stream buffer shard commit lock watch event payload order invoice graph'.split(' ');

/** A word of letters only for a number (the tokenizer splits digits off). */
const letters = (n: number) => `zq${n.toString(26).split('').map((d) => String.fromCharCode(97 + Number.parseInt(d, 26))).join('')}x`;

/** A file of `n` chunks whose text holds `marker` (and words picked by its index). */
function file(i: number, n: number, marker = `file ${letters(i)}`): FileUpdate {
  const rel = `src/m${i % 10}/f${i}.ts`;
  const chunks: Chunk[] = Array.from({ length: n }, (_, c) => {
    const text = `export function ${WORDS[(i + c) % WORDS.length]}${c}() {\n  // ${marker} ${WORDS[(i * 7 + c) % WORDS.length]} ${WORDS[(i * 3 + c * 5) % WORDS.length]}\n  return ${i * 100 + c};\n}\n`;
    return { id: sha256Hex(`${rel}#${c}#${marker}`, 16), path: rel, startLine: 1 + 5 * c, endLine: 4 + 5 * c, language: 'typescript', kind: 'function', symbols: [], header: '', text, hash: sha256Hex(text, 16) };
  });
  return { path: rel, entry: { hash: sha256Hex(marker + rel, 16), size: 100 * n, mtimeMs: i }, chunks };
}

/** Every file under the index with its size and modification time. */
function listing(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else out.set(path.relative(dir, full), `${st.size}:${st.mtimeMs}:${st.ino}`);
    }
  };
  walk(dir);
  return out;
}

/** Bytes of the files that are new or replaced in `after`. */
function bytesWritten(before: Map<string, string>, after: Map<string, string>): { bytes: number; files: string[] } {
  const files = [...after].filter(([f, sig]) => before.get(f) !== sig).map(([f]) => f);
  return { files, bytes: files.reduce((n, f) => n + Number(after.get(f)!.split(':')[0]), 0) };
}

/** The best 20 BM25 hits over every shard, with collection-wide statistics: (id, score) by score then id. */
async function ranking(store: IndexStore, word: string): Promise<string[]> {
  const terms = queryTerms(word);
  const shards = store.manifest.shards;
  const stats = mergeBm25Stats(terms, await Promise.all(shards.map(async (s) => (await store.lexical(s)).stats(terms))));
  const hits: { id: string; score: number }[] = [];
  for (const s of shards) hits.push(...searchLexical(await store.lexical(s), terms, 10_000, stats));
  hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
  return hits.slice(0, 20).map((h) => `${h.id} ${h.score.toFixed(9)}`);
}

async function search(store: IndexStore, word: string): Promise<Chunk[]> {
  const shards = store.manifest.shards;
  const terms = queryTerms(word);
  const stats = mergeBm25Stats(terms, await Promise.all(shards.map(async (s) => (await store.lexical(s)).stats(terms))));
  const out: Chunk[] = [];
  for (const s of shards) {
    const hits = searchLexical(await store.lexical(s), terms, 50, stats);
    out.push(...(await store.chunksAt(s, hits.map((h) => h.row))));
  }
  return out;
}

describe('small edits (one file in a multi-shard index)', () => {
  it('write bytes proportional to the change: no shard rewritten but a small one, the file table as a delta', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const indexDir = path.join(dir, 'index');
      const open = () => IndexStore.open(indexDir, { root: dir, embedding: null, chunker: CHUNKER, lock: true, shardCapacity: 800 });
      let { store } = await open();
      await store.commit({ removed: [], upserted: Array.from({ length: 300 }, (_, i) => file(i, 8)) });
      assert.equal(store.manifest.shards.length, 3, 'three full shards of 800 chunks');
      await store.close();
      const indexBytes = [...listing(indexDir).values()].reduce((n, sig) => n + Number(sig.split(':')[0]), 0);

      // One file edited, by a new writer (the editor's watcher starts one per update).
      ({ store } = await open());
      const before = listing(indexDir);
      await store.commit({ removed: [], upserted: [file(5, 8, 'edited zqedited')] });
      await store.close();
      const w = bytesWritten(before, listing(indexDir));
      // Before: the 800-chunk shard holding the file and the whole file table were rewritten (~30 % of the index).
      assert.ok(w.bytes < indexBytes * 0.05, `a 1-file edit wrote ${w.bytes} of ${indexBytes} bytes: ${w.files.join(', ')}`);
      assert.ok(!w.files.some((f) => /^files\.g\d+\.json$/.test(f)), `the file table was rewritten: ${w.files.join(', ')}`);
      const m = await readManifest(indexDir);
      assert.equal(m.kind, 'ok');
      if (m.kind !== 'ok') return;
      const first = m.manifest.shards.find((s) => s.name === 's0000')!;
      assert.deepEqual(first.dead, [40, 41, 42, 43, 44, 45, 46, 47], 'the old rows are marked dead, the shard kept');
      assert.equal(m.manifest.files['src/m5/f5.ts']!.shard, 's0003', 'the new version in a small shard');

      // Reads as the edited content only: the new words found, the old ones gone.
      const reader = (await IndexStore.openForRead(indexDir)).store!;
      assert.equal(reader.chunkCount, 300 * 8);
      assert.deepEqual((await search(reader, 'zqedited')).map((c) => c.path), Array(8).fill('src/m5/f5.ts'));
      assert.deepEqual(await search(reader, letters(5)), []);
      assert.equal((await search(reader, letters(6))).length, 8);
      const all: string[] = [];
      for await (const c of reader.allChunks()) if (c.path === 'src/m5/f5.ts') all.push(c.text);
      assert.equal(all.length, 8);
      assert.ok(all.every((t) => t.includes('edited')));
      await reader.close();
    } finally {
      cleanup();
    }
  });

  it('many edits: shards with many dead rows are compacted, the file table rewritten when its delta grows, the index equal to a fresh one', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const edited = path.join(dir, 'edited');
      const fresh = path.join(dir, 'fresh');
      const final = new Map<number, FileUpdate>();
      let { store } = await IndexStore.open(edited, { root: dir, embedding: null, chunker: CHUNKER, lock: true, shardCapacity: 400 });
      const files = Array.from({ length: 120 }, (_, i) => file(i, 6));
      await store.commit({ removed: [], upserted: files });
      files.forEach((f, i) => final.set(i, f));
      // 150 single-file updates and a few deletions, one commit each.
      for (let k = 0; k < 150; k++) {
        const i = (k * 37) % 120;
        if (k % 25 === 24) {
          await store.commit({ removed: [final.get(i)!.path], upserted: [] });
          final.delete(i);
          continue;
        }
        const f = file(i, 3 + (k % 5), `edit ${letters(1000 + k)}`);
        await store.commit({ removed: [], upserted: [f] });
        final.set(i, f);
      }
      const dead = store.manifest.shards.reduce((n, s) => n + (s.dead?.length ?? 0), 0);
      assert.ok(dead <= store.manifest.shards.reduce((n, s) => n + s.chunks, 0) / 3, `${dead} dead rows left`);
      await store.close();
      const tables = readdirSync(edited).filter((n) => n.startsWith('files.'));
      assert.ok(tables.length <= 2, tables.join(', '));
      const delta = tables.find((t) => t.endsWith('.delta.json'));
      if (delta) assert.ok(Object.keys(JSON.parse(readFileSync(path.join(edited, delta), 'utf8'))).length <= 64);

      ({ store } = await IndexStore.open(fresh, { root: dir, embedding: null, chunker: CHUNKER, lock: true, shardCapacity: 400 }));
      await store.commit({ removed: [], upserted: [...final.values()] });
      await store.close();
      const a = (await IndexStore.openForRead(edited)).store!;
      const b = (await IndexStore.openForRead(fresh)).store!;
      assert.deepEqual(Object.keys(a.manifest.files).sort(), Object.keys(b.manifest.files).sort());
      assert.equal(a.chunkCount, b.chunkCount);
      for (const word of ['upload', 'edit', letters(1149), letters(1003), letters(7), 'graph cache']) {
        assert.deepEqual(await ranking(a, word), await ranking(b, word), word);
      }
      await a.close();
      await b.close();
    } finally {
      cleanup();
    }
  });

  it('a crafted index: dead rows out of range, or a missing or foreign delta file, is not read', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const indexDir = path.join(dir, 'index');
      const { store } = await IndexStore.open(indexDir, { root: dir, embedding: null, chunker: CHUNKER, lock: true, shardCapacity: 100 });
      await store.commit({ removed: [], upserted: Array.from({ length: 30 }, (_, i) => file(i, 5)) });
      await store.commit({ removed: [], upserted: [file(2, 5, 'again')] });
      await store.close();
      const manifestFile = path.join(indexDir, 'manifest.json');
      const good = readFileSync(manifestFile, 'utf8');
      const m = JSON.parse(good);
      assert.ok(m.filesDelta, 'a delta after a small edit');
      const craft = (edit: (m: Record<string, unknown> & { shards: { dead?: number[] }[] }) => void) => {
        const c = JSON.parse(good);
        edit(c);
        writeFileSync(manifestFile, JSON.stringify(c));
      };
      const problem = async () => (await IndexStore.openForRead(indexDir)).problem ?? '';
      craft((c) => (c.shards.find((s) => s.dead)!.dead = [1e6]));
      assert.match(await problem(), /dead|shard entry/);
      craft((c) => (c.shards.find((s) => s.dead)!.dead = [3, 3]));
      assert.match(await problem(), /dead rows/);
      craft((c) => (c.filesDelta = '../files.g9.delta.json'));
      assert.match(await problem(), /filesDelta/);
      writeFileSync(manifestFile, good);
      rmSync(path.join(indexDir, m.filesDelta));
      assert.match(await problem(), /delta .* is missing/);
    } finally {
      cleanup();
    }
  });
});
