import { closeSync, promises as fsp, openSync, readSync } from 'node:fs';
import { promisify } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { deflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Chunk } from '../types';

/**
 * A shard's chunks (text and metadata) in deflate-compressed blocks of `BLOCK_SIZE` chunks, so a
 * query reads and inflates only the blocks of its final candidates (a few KB each) instead of
 * parsing every chunk of the shard. Code compresses 3–5× with deflate.
 *
 * Layout: u32 magic "SCB1", u32 chunks, u32 block size, u32 blocks, u32[blocks + 1] block end
 * offsets relative to the first block, then the blocks (each: deflate-raw of a JSON array).
 */
export const BLOCK_SIZE = 8;
const MAGIC = 0x31424353; // "SCB1"
const HEADER = 16;
const deflate = promisify(deflateRaw);

/**
 * On a process's main thread (the CLI) blocks are compressed on the libuv thread pool, so
 * compression never blocks its event loop. On a worker thread (the editor's indexing thread) they
 * are compressed in place: that thread runs at background priority and nobody waits on its event
 * loop, whereas the thread pool is shared with the extension host and runs at normal priority.
 */
export async function encodeChunkBlocks(chunks: readonly Chunk[], blockSize = BLOCK_SIZE, inPlace = !isMainThread): Promise<Buffer> {
  const blocks: Buffer[] = [];
  for (let i = 0; i < chunks.length; i += blockSize) {
    const json = Buffer.from(JSON.stringify(chunks.slice(i, i + blockSize)));
    blocks.push(inPlace ? deflateRawSync(json) : await deflate(json));
  }
  const head = Buffer.alloc(HEADER + 4 * (blocks.length + 1));
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(chunks.length, 4);
  head.writeUInt32LE(blockSize, 8);
  head.writeUInt32LE(blocks.length, 12);
  let end = 0;
  head.writeUInt32LE(0, HEADER);
  blocks.forEach((b, i) => head.writeUInt32LE((end += b.length), HEADER + 4 * (i + 1)));
  return Buffer.concat([head, ...blocks]);
}

interface Header {
  chunks: number;
  blockSize: number;
  ends: Uint32Array;
  dataAt: number;
}

function parseHeader(head: Buffer, file: string): Header {
  if (head.length < HEADER || head.readUInt32LE(0) !== MAGIC) throw new Error(`${file} is not a Sift chunk file`);
  const chunks = head.readUInt32LE(4);
  const blockSize = head.readUInt32LE(8);
  const blocks = head.readUInt32LE(12);
  if (blockSize < 1 || blocks !== Math.ceil(chunks / blockSize)) throw new Error(`${file} has an inconsistent header`);
  const tableBytes = 4 * (blocks + 1);
  if (head.length < HEADER + tableBytes) return { chunks, blockSize, ends: new Uint32Array(0), dataAt: -tableBytes };
  const ends = new Uint32Array(blocks + 1);
  for (let i = 0; i <= blocks; i++) ends[i] = head.readUInt32LE(HEADER + 4 * i);
  return { chunks, blockSize, ends, dataAt: HEADER + tableBytes };
}

function inflateBlock(data: Buffer, file: string, block: number): Chunk[] {
  try {
    return JSON.parse(inflateRawSync(data).toString('utf8')) as Chunk[];
  } catch (err) {
    throw new Error(`${file}: block ${block} is damaged (${(err as Error).message})`);
  }
}

/**
 * Random access to a chunk file: the file stays open (so a shard version deleted by a writer's
 * garbage collection stays readable for a reader that already opened it), the header is read
 * once, and blocks are read on demand with small synchronous reads (a few KB from the page
 * cache: cheaper than a trip through the thread pool) and kept in a small LRU.
 */
export class ChunkBlocksReader {
  private header?: Header;
  private fd?: number;
  private readonly cache = new Map<number, Chunk[]>();

  constructor(
    readonly file: string,
    private readonly cacheBlocks = 8,
  ) {}

  private open(): number {
    this.fd ??= openSync(this.file, 'r');
    return this.fd;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.cache.clear();
  }

  private read(buf: Buffer, position: number): number {
    return readSync(this.open(), buf, 0, buf.length, position);
  }

  private head(): Header {
    if (this.header) return this.header;
    const first = Buffer.alloc(4096);
    let header = parseHeader(first.subarray(0, this.read(first, 0)), this.file);
    if (header.dataAt < 0) {
      const full = Buffer.alloc(HEADER - header.dataAt);
      this.read(full, 0);
      header = parseHeader(full, this.file);
    }
    this.header = header;
    return header;
  }

  private block(h: Header, block: number): Chunk[] {
    let chunks = this.cache.get(block);
    if (chunks) {
      this.cache.delete(block);
    } else {
      const start = h.ends[block]!;
      const data = Buffer.alloc(h.ends[block + 1]! - start);
      if (this.read(data, h.dataAt + start) !== data.length) throw new Error(`${this.file} is truncated`);
      chunks = inflateBlock(data, this.file, block);
      if (this.cache.size >= this.cacheBlocks) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(block, chunks);
    return chunks;
  }

  /** The chunks at the given rows (in the order asked). */
  async rows(rows: readonly number[]): Promise<Chunk[]> {
    const h = this.head();
    return rows.map((row) => {
      if (!Number.isInteger(row) || row < 0 || row >= h.chunks) throw new Error(`${this.file}: no chunk at row ${row}`);
      const block = Math.floor(row / h.blockSize);
      const chunk = this.block(h, block)[row % h.blockSize];
      if (!chunk) throw new Error(`${this.file}: block ${block} is short`);
      return chunk;
    });
  }

  /** Every chunk, in row order. */
  async all(): Promise<Chunk[]> {
    const bytes = await fsp.readFile(this.file);
    const h = parseHeader(bytes, this.file);
    const out: Chunk[] = [];
    for (let b = 0; b + 1 < h.ends.length; b++) {
      const data = bytes.subarray(h.dataAt + h.ends[b]!, h.dataAt + h.ends[b + 1]!);
      if (h.dataAt + h.ends[b + 1]! > bytes.length) throw new Error(`${this.file} is truncated`);
      for (const c of inflateBlock(data, this.file, b)) out.push(c);
    }
    if (out.length !== h.chunks) throw new Error(`${this.file} holds ${out.length} chunks, its header says ${h.chunks}`);
    return out;
  }
}
