import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { LocalIndex } from 'vectra/lib/LocalIndex';
import type { IndexItem } from 'vectra/lib/types';
import { TimeSlicer } from '../util/slice';
import { MAX_EMBEDDING_DIM, MAX_ID_LENGTH, MAX_SHARD_CHUNKS } from './manifest';
import { PRIVATE_DIR_MODE, openInside, writePrivateFile } from '../util/privateFs';
import { Int8Vectors, quantizeInt8 } from './vectorKernel';

/**
 * A shard's vectors: a vectra `LocalIndex` whose persistence is a compact binary file instead of
 * one JSON string.
 *
 * vectra stays the vector store — items go in through its update API (`beginUpdate`,
 * `insertItem`, `endUpdate`), and `listItems` / `getItem` / `queryItems` work on a reopened shard
 * (a test checks its `queryItems` against Sift's scan) — but vectra 0.12 writes the whole index
 * as one `JSON.stringify`: ~8 KB per 384-dim vector, parsed back at JSON speed, failing outright
 * past ~100k items (V8's maximum string length). Only two methods are replaced: `loadIndexData` (decode) and
 * `endUpdate` (encode). Vectors are stored as unit-length directions quantised to int8
 * (cosine similarity is all Sift asks of them): 384 bytes + 4 per vector.
 *
 * Layout: u32 magic "SVX1", u32 n, u32 dim, u32 id bytes, f32[n] row factors (1 / ‖codes‖),
 * i8[n·dim] codes, then the ids joined by "\n". Row i's vector is codes_i × factor_i (unit length).
 *
 * The query path does not go through vectra's object model: `readShardVectors` copies the codes
 * into the memory of an `Int8Vectors` block, scanned by the SIMD kernel.
 */
export const VECTORS_FILE = 'vectors.bin';
const MAGIC = 0x31585653; // "SVX1"
const HEADER = 16;

interface VectraData {
  version: number;
  metadata_config: { indexed?: string[] };
  items: IndexItem[];
}
/** vectra's private state, typed for the two methods we replace (pinned to vectra 0.12.x). */
interface VectraInternals {
  _data?: VectraData;
  _update?: VectraData;
}

export class ShardVectorIndex extends LocalIndex {
  constructor(folder: string) {
    super(folder, VECTORS_FILE);
  }

  private get internals(): VectraInternals {
    return this as unknown as VectraInternals;
  }

  override async createIndex(): Promise<void> {
    await fsp.mkdir(this.folderPath, { recursive: true, mode: PRIVATE_DIR_MODE });
    this.internals._data = { version: 1, metadata_config: {}, items: [] };
    await writePrivateFile(path.join(this.folderPath, this.indexName), encodeItems([]));
  }

  protected override async loadIndexData(): Promise<void> {
    if (this.internals._data) return;
    const file = path.join(this.folderPath, this.indexName);
    const { handle, size } = await openInside(this.folderPath, [this.indexName]);
    let bytes: Buffer;
    try {
      const head = Buffer.alloc(Math.min(HEADER, size));
      await readFully(handle, head, 0);
      checkHeader(header(head, file), size, file);
      bytes = Buffer.alloc(size);
      await readFully(handle, bytes, 0);
    } finally {
      await handle.close();
    }
    const { ids, dim, codes, factors } = decode(bytes, file);
    const items: IndexItem[] = ids.map((id, i) => {
      const vector = new Array<number>(dim);
      for (let j = 0; j < dim; j++) vector[j] = codes[i * dim + j]! * factors[i]!;
      return { id, metadata: {}, vector, norm: factors[i] ? 1 : 0 };
    });
    this.internals._data = { version: 1, metadata_config: {}, items };
  }

  override async endUpdate(): Promise<void> {
    const update = this.internals._update;
    if (!update) throw new Error('No update in progress');
    const file = path.join(this.folderPath, this.indexName);
    await writePrivateFile(file, await encodeItemsSliced(update.items));
    // What a reader decodes (unit-length dequantised vectors), so this instance answers alike.
    this.internals._data = undefined;
    this.internals._update = undefined;
  }
}

/** `encodeItems`, yielding to the event loop every few milliseconds (a shard is thousands of vectors). */
async function encodeItemsSliced(items: readonly { id: string; vector: ArrayLike<number> }[]): Promise<Buffer> {
  const slicer = new TimeSlicer(8);
  return encodeItems(items, async () => {
    if (slicer.due()) await slicer.pause();
  });
}

/** Encodes items (any length vectors of one dimension) as unit-length int8 directions. */
export function encodeItems(items: readonly { id: string; vector: ArrayLike<number> }[]): Buffer;
export function encodeItems(items: readonly { id: string; vector: ArrayLike<number> }[], tick: () => Promise<void>): Promise<Buffer>;
export function encodeItems(items: readonly { id: string; vector: ArrayLike<number> }[], tick?: () => Promise<void>): Buffer | Promise<Buffer> {
  const n = items.length;
  const dim = n ? items[0]!.vector.length : 0;
  const ids = Buffer.from(items.map((it) => it.id).join('\n'));
  const buf = Buffer.alloc(HEADER + 4 * n + n * dim + ids.length);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(n, 4);
  buf.writeUInt32LE(dim, 8);
  buf.writeUInt32LE(ids.length, 12);
  const codes = new Int8Array(buf.buffer, buf.byteOffset + HEADER + 4 * n, n * dim);
  const encodeOne = (i: number) => {
    const it = items[i]!;
    if (it.vector.length !== dim) throw new Error(`vector ${it.id} has ${it.vector.length} dimensions, expected ${dim}`);
    if (it.id.includes('\n')) throw new Error(`invalid vector id ${JSON.stringify(it.id)}`);
    quantizeInt8(it.vector, codes, i * dim);
    let sq = 0;
    for (let j = 0; j < dim; j++) sq += codes[i * dim + j]! * codes[i * dim + j]!;
    buf.writeFloatLE(sq ? 1 / Math.sqrt(sq) : 0, HEADER + 4 * i);
  };
  const finish = () => {
    ids.copy(buf, HEADER + 4 * n + n * dim);
    return buf;
  };
  if (!tick) {
    for (let i = 0; i < n; i++) encodeOne(i);
    return finish();
  }
  return (async () => {
    for (let i = 0; i < n; i++) {
      if ((i & 63) === 0) await tick();
      encodeOne(i);
    }
    return finish();
  })();
}

function header(bytes: Buffer, file: string): { n: number; dim: number; idBytes: number } {
  if (bytes.length < HEADER || bytes.readUInt32LE(0) !== MAGIC) throw new Error(`${file} is not a Sift vector file`);
  const n = bytes.readUInt32LE(4);
  const dim = bytes.readUInt32LE(8);
  const idBytes = bytes.readUInt32LE(12);
  return { n, dim, idBytes };
}

/** What a vector file's header may say, given its size and (from the manifest) the expected shape. */
function checkHeader(h: { n: number; dim: number; idBytes: number }, size: number, file: string, expected: { rows?: number; dim?: number } = {}): void {
  const { n, dim, idBytes } = h;
  if (n > MAX_SHARD_CHUNKS || dim > MAX_EMBEDDING_DIM || (n > 0 && dim < 1) || idBytes > n * (MAX_ID_LENGTH + 1)) throw new Error(`${file} has an impossible header (${n} vectors of ${dim} dimensions)`);
  if (expected.rows !== undefined && n !== expected.rows) throw new Error(`${file} holds ${n} vectors, the manifest says ${expected.rows}`);
  if (expected.dim !== undefined && n > 0 && dim !== expected.dim) throw new Error(`${file} holds vectors of ${dim} dimensions, the index ${expected.dim}`);
  if (size !== HEADER + 4 * n + n * dim + idBytes) throw new Error(`${file} is truncated or damaged`);
}

/** Row factors must be finite and non-negative (1 / ‖codes‖, or 0 for an all-zero row). */
function checkFactors(factors: Float32Array, file: string): void {
  for (let i = 0; i < factors.length; i++) {
    const f = factors[i]!;
    if (!(f >= 0 && f < Number.POSITIVE_INFINITY)) throw new Error(`${file}: vector ${i} has the factor ${f}`);
  }
}

function decode(bytes: Buffer, file: string): { ids: string[]; dim: number; codes: Int8Array; factors: Float32Array } {
  const h = header(bytes, file);
  checkHeader(h, bytes.length, file);
  const { n, dim } = h;
  const factors = new Float32Array(n);
  for (let i = 0; i < n; i++) factors[i] = bytes.readFloatLE(HEADER + 4 * i);
  checkFactors(factors, file);
  const codes = new Int8Array(bytes.buffer.slice(bytes.byteOffset + HEADER + 4 * n, bytes.byteOffset + HEADER + 4 * n + n * dim));
  const ids = n ? bytes.toString('utf8', HEADER + 4 * n + n * dim).split('\n') : [];
  if (ids.length !== n) throw new Error(`${file} has ${ids.length} ids for ${n} vectors`);
  return { ids, dim, codes, factors };
}

export interface ShardVectors {
  ids: string[];
  /** Codes + row factors: `scores(q)[i]` is the dot product of q with row i's unit vector. */
  block: Int8Vectors;
}

export interface ReadVectorsOptions {
  /** Opens the file (default: `folder/vectors.bin`, refusing a symlink or a non-regular file). */
  open?: () => Promise<{ handle: fsp.FileHandle; size: number }>;
  /** Rows the manifest records. */
  rows?: number;
  /** The index's embedding dimension. */
  dim?: number;
}

/**
 * The query path: reads a shard's vector file straight into the memory of a scan block (no
 * intermediate copy). `check` gets the file's size and CRC-32 (computed while reading) to compare
 * with what the manifest recorded. The header is checked against the file's size and the expected
 * shape before the block is allocated.
 */
export async function readShardVectors(folder: string, check?: (size: number, crc: number | undefined) => void, options: ReadVectorsOptions = {}): Promise<ShardVectors> {
  const file = path.join(folder, VECTORS_FILE);
  const { handle: fh, size } = await (options.open ?? (() => openInside(folder, [VECTORS_FILE])))();
  try {
    const head = Buffer.alloc(Math.min(HEADER, size));
    await readFully(fh, head, 0);
    const h = header(head, file);
    try {
      checkHeader(h, size, file, options);
    } catch (err) {
      check?.(size, undefined);
      throw err;
    }
    const { n, dim, idBytes } = h;
    if (!isLittleEndian()) throw new Error('big-endian hosts are not supported');
    const block = Int8Vectors.allocate(n, Math.max(dim, 1));
    const scales = Buffer.from(block.scales.buffer, block.scales.byteOffset, 4 * n);
    const codes = Buffer.from(block.data.buffer, block.data.byteOffset, n * dim);
    const ids = Buffer.alloc(idBytes);
    await readFully(fh, scales, HEADER);
    await readFully(fh, codes, HEADER + 4 * n);
    await readFully(fh, ids, HEADER + 4 * n + n * dim);
    let crc: number | undefined;
    if (crc32) for (const part of [head, scales, codes, ids]) crc = crc32(part, crc ?? 0);
    check?.(size, crc);
    checkFactors(block.scales, file);
    const list = n ? ids.toString('utf8').split('\n') : [];
    if (list.length !== n) throw new Error(`${file} has ${list.length} ids for ${n} vectors`);
    return { ids: list, block };
  } finally {
    await fh.close();
  }
}

async function readFully(fh: fsp.FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new Error('unexpected end of file');
    done += bytesRead;
  }
}

/** zlib.crc32 (Node ≥ 20.15), incremental. */
const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}
