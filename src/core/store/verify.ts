/**
 * Checking a shard's files against what the commit that wrote them recorded in the manifest: on
 * every load (sizes and checksums), and in a walk over the whole index before a writer builds on it.
 */
import * as zlib from 'node:zlib';
import { Bm25Index } from '../lexical/bm25';
import { errorMessage } from '../util/errors';
import { openInside, openInsideSync, readInside } from '../util/privateFs';
import { TimeSlicer } from '../util/slice';
import { ChunkBlocksReader } from './chunkBlocks';
import { CHUNKS_FILE, LEXICAL_FILE, SHARDS_DIR, crc32, shardPath } from './layout';
import { type Manifest, type ShardEntry, maxLexicalBytes } from './manifest';
import { type ShardVectors, VECTORS_FILE, readShardVectors } from './shardVectors';

/**
 * Checks every shard's files against the manifest; returns the first problem found. 'sizes':
 * each folder and file is what it should be (no symlink, regular files) and has its recorded
 * size. 'full' also checks every CRC-32 and the structure of each file (headers, tables,
 * counts, offsets) as far as it can without inflating chunk text.
 */
export async function verifyShards(indexDir: string, manifest: Manifest, level: 'sizes' | 'full'): Promise<string | undefined> {
  const slicer = new TimeSlicer();
  for (const shard of manifest.shards) {
    const names = [CHUNKS_FILE, LEXICAL_FILE, ...(manifest.embedding ? [VECTORS_FILE] : [])];
    for (const name of names) {
      if (slicer.due()) await slicer.pause();
      const want = shard.files?.[name];
      if (!want) return `the manifest has no size for ${name} of shard ${shard.name}`;
      try {
        const problem = await verifyFile(indexDir, manifest, shard, name, want, level);
        if (problem) return `${name} of shard ${shard.name} ${problem}`;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return `shard ${shard.name} has no ${name}`;
        return `${name} of shard ${shard.name}: ${errorMessage(err)}`;
      }
    }
  }
  return undefined;
}

async function verifyFile(indexDir: string, manifest: Manifest, shard: ShardEntry, name: string, want: { bytes: number; crc: number }, level: 'sizes' | 'full'): Promise<string | undefined> {
  const parts = [SHARDS_DIR, shard.dir, name];
  if (level === 'sizes' || name === CHUNKS_FILE) {
    const { handle, size } = await openInside(indexDir, parts);
    try {
      if (size !== want.bytes) return `has ${size} bytes, expected ${want.bytes}`;
      if (level === 'sizes') return undefined;
      // Chunk files can be large: checksummed in pieces, their header and block table checked.
      if (crc32) {
        const buf = Buffer.alloc(Math.min(size, 2 ** 20));
        let crc = 0;
        for (let at = 0; at < size; ) {
          const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, size - at), at);
          if (bytesRead === 0) return 'ended early';
          crc = zlibCrc32(buf.subarray(0, bytesRead), crc);
          at += bytesRead;
        }
        if (crc !== want.crc) return 'fails its checksum';
      }
    } finally {
      await handle.close();
    }
    const reader = new ChunkBlocksReader(shardPath(indexDir, shard, CHUNKS_FILE), 0, { open: () => openInsideSync(indexDir, parts), chunks: shard.chunks });
    try {
      reader.checkHeader();
    } finally {
      reader.close();
    }
    return undefined;
  }
  if (name === LEXICAL_FILE) {
    const bytes = await readInside(indexDir, parts, { maxBytes: maxLexicalBytes(shard.chunks), expectedBytes: want.bytes });
    if (crc32 && crc32(bytes) !== want.crc) return 'fails its checksum';
    const index = new Bm25Index(bytes);
    if (index.docs !== shard.chunks) return `holds ${index.docs} documents, the manifest says ${shard.chunks}`;
    return undefined;
  }
  await readVectors(indexDir, shard, manifest.embedding?.dim);
  return undefined;
}

/** A shard's vectors file, read and checked (size and checksum, rows, dimensions) without following symlinks. */
export function readVectors(indexDir: string, shard: ShardEntry, dim: number | undefined): Promise<ShardVectors> {
  return readShardVectors(shardPath(indexDir, shard), (size, crc) => checkSum(shard, VECTORS_FILE, size, crc), {
    open: () => openInside(indexDir, [SHARDS_DIR, shard.dir, VECTORS_FILE]),
    rows: shard.chunks,
    dim,
  });
}

/** Throws when a file's size or checksum differs from what the commit that wrote it recorded. */
export function checkFile(shard: ShardEntry, name: string, bytes: Uint8Array): void {
  checkSum(shard, name, bytes.byteLength, crc32?.(bytes));
}

function checkSum(shard: ShardEntry, name: string, size: number, crc: number | undefined): void {
  const want = shard.files?.[name];
  if (!want) return;
  if (size !== want.bytes) throw new Error(`${name} has ${size} bytes, expected ${want.bytes}`);
  if (crc !== undefined && crc !== want.crc) throw new Error(`${name} fails its checksum`);
}

const zlibCrc32 = (zlib as unknown as { crc32: (data: Uint8Array, value?: number) => number }).crc32;
