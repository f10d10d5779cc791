import { closeSync, readSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { deflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import { z } from 'zod';
import type { Chunk } from '../types';
import { MAX_SHARD_CHUNKS, chunkIdSchema, isSafeRelativePath } from './manifest';
import { openInsideSync } from '../util/privateFs';

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

/** Largest block (compressed, and inflated) a reader accepts: real blocks are a few KB. */
export const MAX_BLOCK_BYTES = 32 * 2 ** 20;
const MAX_BLOCK_CHUNKS = 4096;

/** What a chunk read back must look like (extra fields pass: a newer writer may add some). */
const chunkSchema = z.looseObject({
  id: chunkIdSchema,
  path: z.string().refine(isSafeRelativePath, 'not a safe relative path'),
  startLine: z.number().int().min(1).max(2 ** 31),
  endLine: z.number().int().min(1).max(2 ** 31),
  language: z.string().max(64),
  kind: z.string().max(32),
  symbols: z.array(z.string().max(4096)).max(10_000),
  header: z.string().max(MAX_BLOCK_BYTES),
  text: z.string().max(MAX_BLOCK_BYTES),
  hash: z.string().max(128),
});

interface Header {
  chunks: number;
  blockSize: number;
  ends: Uint32Array;
  dataAt: number;
}

/**
 * The fixed header: counts checked against the file's size before the block table is allocated.
 * Returns the counts and the size of the block table.
 */
function parseFixed(head: Buffer, size: number, file: string, expectedChunks?: number): { chunks: number; blockSize: number; blocks: number; dataAt: number } {
  if (head.length < HEADER || head.readUInt32LE(0) !== MAGIC) throw new Error(`${file} is not a Sift chunk file`);
  const chunks = head.readUInt32LE(4);
  const blockSize = head.readUInt32LE(8);
  const blocks = head.readUInt32LE(12);
  if (blockSize < 1 || blockSize > MAX_BLOCK_CHUNKS || chunks > MAX_SHARD_CHUNKS || blocks !== Math.ceil(chunks / blockSize)) {
    throw new Error(`${file} has an inconsistent header`);
  }
  if (expectedChunks !== undefined && chunks !== expectedChunks) throw new Error(`${file} holds ${chunks} chunks, the manifest says ${expectedChunks}`);
  const dataAt = HEADER + 4 * (blocks + 1);
  if (dataAt > size) throw new Error(`${file} is truncated (its block table needs ${dataAt} bytes, the file has ${size})`);
  return { chunks, blockSize, blocks, dataAt };
}

/** The block table: starts at 0, increasing, each block within MAX_BLOCK_BYTES, ending at the end of the file. */
function parseTable(fixed: { chunks: number; blockSize: number; blocks: number; dataAt: number }, table: Buffer, size: number, file: string): Header {
  const ends = new Uint32Array(fixed.blocks + 1);
  for (let i = 0; i <= fixed.blocks; i++) ends[i] = table.readUInt32LE(4 * i);
  if (ends[0] !== 0) throw new Error(`${file} has a damaged block table`);
  for (let i = 1; i <= fixed.blocks; i++) {
    const len = ends[i]! - ends[i - 1]!;
    if (len <= 0 || len > MAX_BLOCK_BYTES) throw new Error(`${file} has a damaged block table (block ${i - 1})`);
  }
  if (fixed.dataAt + ends[fixed.blocks]! !== size) throw new Error(`${file} is truncated or damaged (${size} bytes, its block table says ${fixed.dataAt + ends[fixed.blocks]!})`);
  return { chunks: fixed.chunks, blockSize: fixed.blockSize, ends, dataAt: fixed.dataAt };
}

/** Reads and checks the header and block table of an open chunk file. */
export function readChunkHeader(read: (buf: Buffer, position: number) => number, size: number, file: string, expectedChunks?: number): Header {
  const head = Buffer.alloc(HEADER);
  const fixed = parseFixed(head.subarray(0, read(head, 0)), size, file, expectedChunks);
  const table = Buffer.alloc(fixed.dataAt - HEADER);
  if (read(table, HEADER) !== table.length) throw new Error(`${file} is truncated`);
  return parseTable(fixed, table, size, file);
}

/** A block's chunks as read (not yet checked), and which of them passed the chunk schema. */
interface Block {
  chunks: unknown[];
  checked: Uint8Array;
}

function inflateBlock(data: Buffer, file: string, block: number, expected: number): Block {
  let value: unknown;
  try {
    value = JSON.parse(inflateRawSync(data, { maxOutputLength: MAX_BLOCK_BYTES }).toString('utf8'));
  } catch (err) {
    throw new Error(`${file}: block ${block} is damaged (${(err as Error).message})`);
  }
  if (!Array.isArray(value) || value.length !== expected) throw new Error(`${file}: block ${block} is damaged (not ${expected} chunks)`);
  return { chunks: value, checked: new Uint8Array(value.length) };
}

/**
 * Chunk `i` of a block, checked against the chunk schema the first time it is asked for: a
 * question reads a few chunks of each block it touches, and checking all of them cost the first
 * question on the extension host's thread tens of milliseconds.
 */
function checkedChunk(b: Block, i: number, file: string, block: number): Chunk {
  if (!b.checked[i]) {
    const parsed = chunkSchema.safeParse(b.chunks[i]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${file}: chunk ${i} of block ${block} is damaged (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})`);
    }
    if (parsed.data.endLine < parsed.data.startLine) throw new Error(`${file}: chunk ${i} of block ${block} is damaged (it ends before it starts)`);
    b.checked[i] = 1;
  }
  return b.chunks[i] as Chunk;
}

/** Chunks in block `b` of a file of `chunks` chunks in blocks of `blockSize`. */
function blockLength(h: Header, b: number): number {
  return Math.min(h.blockSize, h.chunks - b * h.blockSize);
}

export interface ChunkReaderOptions {
  /** Opens the file (default: the path, refusing a symlink or a non-regular file). */
  open?: () => { fd: number; size: number };
  /** The chunk count the manifest records: a file that says otherwise is damaged. */
  chunks?: number;
}

/**
 * Random access to a chunk file: the file stays open (so a shard version deleted by a writer's
 * garbage collection stays readable for a reader that already opened it), the header is read
 * once, and blocks are read on demand with small synchronous reads (a few KB from the page
 * cache: cheaper than a trip through the thread pool) and kept in a small LRU. Every count,
 * offset and length in the file is checked against its size before it is used, and every chunk
 * against the chunk schema.
 */
export class ChunkBlocksReader {
  private header?: Header;
  private handle?: { fd: number; size: number };
  private readonly cache = new Map<number, Block>();

  constructor(
    readonly file: string,
    private readonly cacheBlocks = 8,
    private readonly options: ChunkReaderOptions = {},
  ) {}

  private open(): { fd: number; size: number } {
    this.handle ??= (this.options.open ?? (() => openInsideSync(path.dirname(this.file), [path.basename(this.file)])))();
    return this.handle;
  }

  close(): void {
    if (this.handle !== undefined) closeSync(this.handle.fd);
    this.handle = undefined;
    this.header = undefined;
    this.cache.clear();
  }

  private read(buf: Buffer, position: number): number {
    let done = 0;
    while (done < buf.length) {
      const n = readSync(this.open().fd, buf, done, buf.length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  private head(): Header {
    this.header ??= readChunkHeader((buf, at) => this.read(buf, at), this.open().size, this.file, this.options.chunks);
    return this.header;
  }

  private readBlock(h: Header, block: number): Block {
    const start = h.ends[block]!;
    const data = Buffer.alloc(h.ends[block + 1]! - start);
    if (this.read(data, h.dataAt + start) !== data.length) throw new Error(`${this.file} is truncated`);
    return inflateBlock(data, this.file, block, blockLength(h, block));
  }

  private block(h: Header, block: number): Block {
    let b = this.cache.get(block);
    if (b) {
      this.cache.delete(block);
    } else {
      b = this.readBlock(h, block);
      if (this.cache.size >= this.cacheBlocks) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(block, b);
    return b;
  }

  /** The chunks at the given rows (in the order asked). */
  async rows(rows: readonly number[]): Promise<Chunk[]> {
    const h = this.head();
    return rows.map((row) => {
      if (!Number.isInteger(row) || row < 0 || row >= h.chunks) throw new Error(`${this.file}: no chunk at row ${row}`);
      const block = Math.floor(row / h.blockSize);
      const b = this.block(h, block);
      const i = row % h.blockSize;
      if (i >= b.chunks.length) throw new Error(`${this.file}: block ${block} is short`);
      return checkedChunk(b, i, this.file, block);
    });
  }

  /** Every chunk, in row order. The file is not kept open by this (unless it already was). */
  async all(): Promise<Chunk[]> {
    return this.transient(() => {
      const h = this.head();
      const out: Chunk[] = [];
      for (let b = 0; b + 1 < h.ends.length; b++) {
        const block = this.readBlock(h, b);
        for (let i = 0; i < block.chunks.length; i++) out.push(checkedChunk(block, i, this.file, b));
      }
      if (out.length !== h.chunks) throw new Error(`${this.file} holds ${out.length} chunks, its header says ${h.chunks}`);
      return out;
    });
  }

  /** Checks the header and block table only (cheap: no block is read). */
  checkHeader(): void {
    this.transient(() => this.head());
  }

  /** Runs `fn`, closing the file afterwards if it was not open before. */
  private transient<T>(fn: () => T): T {
    const wasOpen = this.handle !== undefined;
    try {
      return fn();
    } finally {
      if (!wasOpen && this.handle) {
        closeSync(this.handle.fd);
        this.handle = undefined;
      }
    }
  }
}
