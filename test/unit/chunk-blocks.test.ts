import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { ChunkBlocksReader, encodeChunkBlocks } from '../../src/core/store/chunkBlocks';
import type { Chunk } from '../../src/core/types';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sift-blocks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function chunks(n: number): Chunk[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `c${i}`,
    path: `src/file${i % 7}.ts`,
    startLine: i * 10 + 1,
    endLine: i * 10 + 9,
    language: 'typescript',
    kind: 'function',
    symbols: [`fn${i}`],
    header: `function fn${i}()`,
    text: `export function fn${i}(x: number) {\n  return x * ${i} + ${'ü'.repeat(i % 5)}"${i}";\n}\n`,
    hash: i.toString(16).padStart(16, '0'),
  }));
}

describe('chunk blocks (chunks.bin)', () => {
  it('encodes identically on the thread pool and in place, and reads back any row and every chunk', async () => {
    const all = chunks(29); // 4 blocks of 8, the last one short
    const pooled = await encodeChunkBlocks(all, 8, false);
    const inPlace = await encodeChunkBlocks(all, 8, true);
    assert.deepEqual(inPlace, pooled);
    const file = path.join(dir, 'chunks.bin');
    writeFileSync(file, inPlace);
    const reader = new ChunkBlocksReader(file, 2);
    try {
      assert.deepEqual(await reader.all(), all);
      const rows = [28, 0, 9, 8, 17, 28, 3];
      assert.deepEqual(
        (await reader.rows(rows)).map((c) => c.id),
        rows.map((r) => `c${r}`),
      );
      await assert.rejects(reader.rows([29]), /no chunk at row 29/);
    } finally {
      reader.close();
    }
  });

  it('checks each chunk against the schema when it is first read: a bad chunk fails, its block neighbours do not', async () => {
    const all = chunks(16);
    const bad: Chunk[] = [...all];
    bad[10] = { ...all[10]!, path: '../../etc/passwd' };
    bad[13] = { ...all[13]!, endLine: 1 };
    const file = path.join(dir, 'bad-chunk.bin');
    writeFileSync(file, await encodeChunkBlocks(bad, 8));
    const reader = new ChunkBlocksReader(file);
    try {
      assert.deepEqual((await reader.rows([9, 11, 12])).map((c) => c.id), ['c9', 'c11', 'c12']);
      await assert.rejects(reader.rows([10]), /chunk 2 of block 1 is damaged \(path: not a safe relative path\)/);
      await assert.rejects(reader.rows([13]), /chunk 5 of block 1 is damaged \(it ends before it starts\)/);
      // Asked again from the cached block: still refused.
      await assert.rejects(reader.rows([10]), /chunk 2 of block 1 is damaged/);
      await assert.rejects(reader.all(), /block 1 is damaged/);
    } finally {
      reader.close();
    }
  });

  it('reports a damaged block and a file that is not a chunk file', async () => {
    const bytes = await encodeChunkBlocks(chunks(16), 8);
    const damaged = Buffer.from(bytes);
    damaged.fill(0xff, damaged.length - 20); // inside the second block
    const file = path.join(dir, 'damaged.bin');
    writeFileSync(file, damaged);
    const reader = new ChunkBlocksReader(file);
    try {
      assert.equal((await reader.rows([1]))[0]!.id, 'c1');
      await assert.rejects(reader.rows([9]), /block 1 is damaged/);
    } finally {
      reader.close();
    }
    const other = path.join(dir, 'other.bin');
    writeFileSync(other, 'not a chunk file at all');
    await assert.rejects(new ChunkBlocksReader(other).all(), /is not a Sift chunk file/);
  });
});
