/**
 * What the reader (store.ts) and the writer (storeWriter.ts) of an index share: the names of its
 * files on disk, the keys loaded shards are cached by, and a shard's vectors by chunk id.
 */
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { checkName } from '../util/privateFs';
import type { ShardEntry } from './manifest';
import type { ShardVectors } from './shardVectors';

/** zlib.crc32 (Node ≥ 20.15); without it only sizes are checked. */
export const crc32: ((data: Uint8Array) => number) | undefined = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
export const SHARDS_DIR = 'shards';
export const CHUNKS_FILE = 'chunks.bin';
export const LEXICAL_FILE = 'lexical.bin';
/** Written by whoever finds a shard damaged: `{ dir, reason }`; the next writer rebuilds. */
export const DAMAGE_FILE = 'damaged.json';

/** The file table's files on disk: the full table, and the delta file with the entries changed since. */
export interface FileTableFiles {
  base: string;
  delta: ReadonlySet<string>;
  deltaFile?: string;
}

/** A shard version's folder (or a file in it), its name checked first. */
export function shardPath(indexDir: string, shard: ShardEntry | string, file?: string): string {
  const dir = typeof shard === 'string' ? shard : shard.dir;
  checkName(dir);
  return file ? path.join(indexDir, SHARDS_DIR, dir, file) : path.join(indexDir, SHARDS_DIR, dir);
}

/** What a shard's loaded vectors are cached by: its folder, and how many of its rows are dead. */
export function cacheKey(shard: ShardEntry): string {
  return shard.dead?.length ? `${shard.dir}~${shard.dead.length}` : shard.dir;
}

/**
 * What a shard's loaded keyword index is cached by: the keyword file's size and checksum and the
 * dead rows — what `Bm25Index` is built from — so a version of the shard that only changed its
 * vectors (the dense pass's commits link the same keyword file into a new folder) reuses it.
 * Without a checksum (Node < 20.15), its folder as for vectors.
 */
export function lexicalKey(shard: ShardEntry): string {
  const sum = shard.files?.[LEXICAL_FILE];
  if (!sum?.crc) return `dir:${cacheKey(shard)}`;
  return `${shard.name}:${sum.bytes}:${sum.crc}:${(shard.dead ?? []).join(',')}`;
}

/** A chunk's stored vector by id, decoded on demand (a shard holds thousands; a commit needs a few). */
export type VectorLookup = (id: string) => ArrayLike<number> | undefined;

export function vectorLookup(v: ShardVectors): VectorLookup {
  let rows: Map<string, number> | undefined;
  return (id) => {
    rows ??= new Map(v.ids.map((x, i) => [x, i]));
    const r = rows.get(id);
    if (r === undefined) return undefined;
    const dim = v.block.dim;
    const f = v.block.scales[r]!;
    if (!f) return undefined; // not embedded yet
    const out = new Float32Array(dim);
    for (let j = 0; j < dim; j++) out[j] = v.block.data[r * dim + j]! * f;
    return out;
  };
}
