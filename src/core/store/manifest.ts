import { z } from 'zod';
import { UnsafeEntryError, readInside } from '../util/privateFs';

/** Bump when the on-disk layout changes: older indexes are rebuilt, never misread. */
export const INDEX_FORMAT_VERSION = 4;
export const MANIFEST_FILE = 'manifest.json';

/** What produced the vectors; a different one means the index must be rebuilt. */
export interface EmbeddingInfo {
  /** Who computed the vectors: absent for the local model, 'openai-compatible' for an embedding server. */
  provider?: string;
  model: string;
  dtype: string;
  dim: number;
  /** The text put before each chunk (e.g. `search_document: `), when one was. */
  prefix?: string;
}

export interface ChunkerInfo {
  version: number;
  maxTokens: number;
  /** Which token counter measured chunk sizes ("model:<id>" or "heuristic"). */
  tokenizer: string;
}

export interface FileEntry {
  /** sha256 of the file content (hex, 16 chars). */
  hash: string;
  size: number;
  mtimeMs: number;
  /** Shard holding this file's chunks (all chunks of one file live in one shard); '' when it has none. */
  shard: string;
  chunkIds: string[];
}

export interface ShardEntry {
  /** Stable shard name, e.g. "s0003". */
  name: string;
  /** Directory (under shards/) holding the current version of this shard. Immutable once written. */
  dir: string;
  chunks: number;
  /**
   * Chunks of this shard that have a vector (an embedded index built lexical-first fills them in
   * the background); absent means all of them. A chunk without one is stored as a zero vector,
   * which dense search skips.
   */
  embedded?: number;
  /** Size and CRC-32 of each file of the shard, checked before a writer builds on it. */
  files?: Record<string, { bytes: number; crc: number }>;
  /**
   * Rows no longer live (ascending): chunks of files changed or removed since this version was
   * written. A small change marks its old rows here instead of rewriting the whole shard; search
   * leaves them out, and a later commit that rewrites the shard drops them. `chunks` counts every
   * row, dead or not; with dead rows, `embedded` is always given and counts live rows only.
   */
  dead?: number[];
}

/** Live chunks of a shard (its rows minus the dead ones). */
export function liveChunks(s: Pick<ShardEntry, 'chunks' | 'dead'>): number {
  return s.chunks - (s.dead?.length ?? 0);
}

export interface Manifest {
  format: 'sift-index';
  version: number;
  /** Absolute path of the indexed folder (informational). */
  root: string;
  /** null: lexical-only index (no embedding model was available). */
  embedding: EmbeddingInfo | null;
  chunker: ChunkerInfo;
  createdAt: string;
  updatedAt: string;
  /** Monotonic; every commit increments it. Shard directories carry the generation that wrote them. */
  generation: number;
  files: Record<string, FileEntry>;
  shards: ShardEntry[];
}

export type ManifestLoad =
  | { kind: 'missing' }
  | { kind: 'ok'; manifest: Manifest; fileTable?: FileTableState }
  | { kind: 'invalid'; reason: string };

/**
 * On disk the file table (path → hash, shard, chunk ids: most of a manifest's bytes) lives in its
 * own immutable file, `files.g<generation>.json`, named by `manifest.json` and written before it.
 * A commit that changes few files does not rewrite it: it writes `files.g<generation>.delta.json`
 * (every entry changed since the table was written, `null` for a removed file) and the manifest
 * names both. Searching needs only the shard list, so readers can skip the table (`files: false`).
 */
export type ManifestOnDisk = Omit<Manifest, 'files'> & { filesFile: string; filesDelta?: string };

/** The file table's files on disk: the full table, and the paths its delta file holds. */
export interface FileTableState {
  base: string;
  delta: Set<string>;
  deltaFile?: string;
}

/** Most chunks in one shard: BM25 stores document rows as u16. */
export const MAX_SHARD_CHUNKS = 65536;
/** Largest embedding dimension accepted from disk. */
export const MAX_EMBEDDING_DIM = 8192;
/** Longest chunk id (ids are joined by "\n" in the binary files). */
export const MAX_ID_LENGTH = 128;
const MAX_MANIFEST_BYTES = 16 * 2 ** 20;
const MAX_FILE_TABLE_BYTES = 256 * 2 ** 20;
const MAX_SHARDS = 100_000;

/** Shard names ("s0003"), shard directories ("s0003.g12") and file tables ("files.g12.json"). */
export const SHARD_NAME = /^s\d{1,9}$/;
export const SHARD_DIR = /^(s\d{1,9})\.g(\d{1,15})$/;
const FILE_TABLE = /^files\.g(\d{1,15})\.json$/;
const FILE_DELTA = /^files\.g(\d{1,15})\.delta\.json$/;

/**
 * Largest plausible size of a shard's BM25 file for `chunks` documents: what a reader may allocate
 * for it. Real files use a few hundred bytes per chunk.
 */
export function maxLexicalBytes(chunks: number): number {
  return 2 ** 20 + chunks * 64 * 2 ** 10;
}

/** The size range of a vector file of `rows` vectors of `dim` components (ids of up to MAX_ID_LENGTH). */
export function vectorFileBytes(rows: number, dim: number): { min: number; max: number } {
  const min = 16 + rows * (4 + dim);
  return { min, max: min + rows * (MAX_ID_LENGTH + 1) };
}

/**
 * A path relative to the indexed folder, as the index stores them: '/'-separated, not absolute,
 * no empty, "." or ".." segment, no NUL (and no backslash on Windows, where it separates).
 */
export function isSafeRelativePath(p: unknown): p is string {
  if (typeof p !== 'string' || p.length === 0 || p.length > 4096 || p.includes('\0')) return false;
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p) || (process.platform === 'win32' && p.includes('\\'))) return false;
  return p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const shortString = (max: number) => z.string().max(max);
export const chunkIdSchema = z.string().min(1).max(MAX_ID_LENGTH).refine((id) => !id.includes('\n'), 'a chunk id holds a line break');
const fileSumSchema = z.object({ bytes: int(0, Number.MAX_SAFE_INTEGER), crc: int(0, 0xffffffff) });
export const shardEntrySchema = z.object({
  name: z.string().regex(SHARD_NAME),
  dir: z.string().regex(SHARD_DIR),
  chunks: int(0, MAX_SHARD_CHUNKS),
  embedded: int(0, MAX_SHARD_CHUNKS).optional(),
  files: z.object({ 'chunks.bin': fileSumSchema, 'lexical.bin': fileSumSchema, 'vectors.bin': fileSumSchema.optional() }),
  dead: z.array(int(0, MAX_SHARD_CHUNKS - 1)).max(MAX_SHARD_CHUNKS).optional(),
});
const manifestHeadSchema = z.object({
  format: z.literal('sift-index'),
  version: z.literal(INDEX_FORMAT_VERSION),
  root: shortString(4096),
  embedding: z.object({ provider: shortString(64).optional(), model: z.string().min(1).max(4096), dtype: shortString(64), dim: int(1, MAX_EMBEDDING_DIM), prefix: shortString(1024).optional() }).nullable(),
  chunker: z.object({ version: int(0, 1e9), maxTokens: int(1, 1e7), tokenizer: shortString(4096) }),
  createdAt: shortString(64),
  updatedAt: shortString(64),
  generation: int(0, Number.MAX_SAFE_INTEGER),
  shards: z.array(shardEntrySchema).max(MAX_SHARDS),
  filesFile: z.string().regex(FILE_TABLE),
  filesDelta: z.string().regex(FILE_DELTA).optional(),
});
const fileEntrySchema = z.object({
  hash: shortString(128),
  size: int(0, Number.MAX_SAFE_INTEGER),
  mtimeMs: z.number(),
  shard: z.union([z.literal(''), z.string().regex(SHARD_NAME)]),
  chunkIds: z.array(chunkIdSchema).max(MAX_SHARD_CHUNKS),
});

/**
 * A file table a reader already holds: reused when the manifest names the same table files of the
 * same index (its `createdAt`: an index deleted and built again restarts its generations, so its
 * file names can repeat), since those files are never rewritten.
 */
export interface HeldFileTable {
  createdAt: string;
  state: FileTableState;
  files: Record<string, FileEntry>;
}

export async function readManifest(indexDir: string, opts: { files?: boolean; held?: HeldFileTable } = {}): Promise<ManifestLoad> {
  const parsed = await readJson(indexDir, MANIFEST_FILE, 'manifest', MAX_MANIFEST_BYTES);
  if (parsed.kind !== 'ok') return parsed;
  const head = parseManifestHead(parsed.value);
  if (typeof head === 'string') return { kind: 'invalid', reason: head };
  const { filesFile, filesDelta, ...rest } = head;
  const manifest: Manifest = { ...rest, files: {} };
  const fileTable: FileTableState = { base: filesFile, delta: new Set(), deltaFile: filesDelta };
  const held = opts.held;
  if (opts.files !== false && held && held.createdAt === manifest.createdAt && held.state.base === filesFile && held.state.deltaFile === filesDelta) {
    manifest.files = held.files;
    return { kind: 'ok', manifest, fileTable: { ...fileTable, delta: new Set(held.state.delta) } };
  }
  if (opts.files !== false) {
    const table = await readJson(indexDir, filesFile, 'file table', MAX_FILE_TABLE_BYTES);
    if (table.kind === 'missing') return { kind: 'invalid', reason: `the file table ${filesFile} is missing` };
    if (table.kind === 'invalid') return table;
    let data = table.value;
    if (filesDelta) {
      const delta = await readJson(indexDir, filesDelta, 'file table delta', MAX_FILE_TABLE_BYTES);
      if (delta.kind === 'missing') return { kind: 'invalid', reason: `the file table delta ${filesDelta} is missing` };
      if (delta.kind === 'invalid') return delta;
      const merged = applyDelta(data, delta.value, fileTable.delta);
      if (typeof merged === 'string') return { kind: 'invalid', reason: merged };
      data = merged;
    }
    const files = parseFileTable(data, manifest.shards);
    if (typeof files === 'string') return { kind: 'invalid', reason: files };
    manifest.files = files;
  }
  return { kind: 'ok', manifest, fileTable };
}

/** The table with the delta's entries put in (`null`: removed); the delta's paths go to `paths`. */
function applyDelta(table: unknown, delta: unknown, paths: Set<string>): unknown {
  if (!table || typeof table !== 'object' || Array.isArray(table)) return 'the file table is not an object';
  if (!delta || typeof delta !== 'object' || Array.isArray(delta)) return 'the file table delta is not an object';
  const out = table as Record<string, unknown>;
  for (const [file, entry] of Object.entries(delta)) {
    // Own keys only (a "__proto__" key in JSON is an own property; assigning it would not be).
    if (entry === null) delete out[file];
    else Object.defineProperty(out, file, { value: entry, enumerable: true, writable: true, configurable: true });
    paths.add(file);
  }
  return out;
}

/** Reads a JSON file of the index folder (a regular file in it, not a symlink; size-capped). */
async function readJson(indexDir: string, name: string, what: string, maxBytes: number): Promise<{ kind: 'ok'; value: unknown } | { kind: 'missing' } | { kind: 'invalid'; reason: string }> {
  let raw: string;
  try {
    raw = (await readInside(indexDir, [name], { maxBytes })).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    if (err instanceof UnsafeEntryError) return { kind: 'invalid', reason: `${what}: ${err.message}` };
    return { kind: 'invalid', reason: `cannot read ${what} (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
  try {
    return { kind: 'ok', value: JSON.parse(raw) };
  } catch {
    return { kind: 'invalid', reason: `${what} is not valid JSON` };
  }
}

/** The first problem zod found, as one line. */
function firstIssue(error: z.ZodError, what: string): string {
  const issue = error.issues[0];
  if (!issue) return `${what} is invalid`;
  const where = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '';
  return `${what}${where ? ` field ${where.slice(0, 120)}` : ''}: ${issue.message}`;
}

/** Checks the manifest head (everything but the file table); returns it, or what is wrong. */
export function parseManifestHead(data: unknown): ManifestOnDisk | string {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return 'manifest is not an object';
  const m = data as Partial<Manifest>;
  if (m.format !== 'sift-index') return 'not a Sift index';
  if (m.version !== INDEX_FORMAT_VERSION) return `index format ${String(m.version).slice(0, 20)} (this Sift reads format ${INDEX_FORMAT_VERSION})`;
  const parsed = manifestHeadSchema.safeParse(data);
  if (!parsed.success) return firstIssue(parsed.error, 'manifest');
  const head = parsed.data;
  // The table is as old as the last commit that changed a file, the delta newer than the table.
  const base = Number(FILE_TABLE.exec(head.filesFile)![1]);
  const delta = head.filesDelta ? Number(FILE_DELTA.exec(head.filesDelta)![1]) : undefined;
  if (base > head.generation || (delta !== undefined && (delta <= base || delta > head.generation))) {
    return `manifest names the file table ${head.filesFile}${head.filesDelta ? ` and ${head.filesDelta}` : ''} at generation ${head.generation}`;
  }
  const problem = checkShards(head.shards, head.generation, head.embedding);
  return problem ?? head;
}

/**
 * Chunks with a vector, of all chunks (0 for a lexical-only index): the share of the index that
 * dense search covers while embedding continues in the background.
 */
export function denseCoverage(m: Pick<Manifest, 'embedding' | 'shards'>): { embedded: number; chunks: number } {
  let embedded = 0;
  let chunks = 0;
  for (const s of m.shards) {
    chunks += liveChunks(s);
    if (m.embedding) embedded += s.embedded ?? s.chunks;
  }
  return { embedded, chunks };
}

/** Cross-checks of the shard list: unique names and folders, plausible file sizes. */
export function checkShards(shards: readonly ShardEntry[], generation: number, embedding: EmbeddingInfo | null): string | undefined {
  const names = new Set<string>();
  const dirs = new Set<string>();
  for (const s of shards) {
    const parsed = shardEntrySchema.safeParse(s);
    if (!parsed.success) return firstIssue(parsed.error, 'shard entry');
    const m = SHARD_DIR.exec(s.dir);
    if (!m || m[1] !== s.name || Number(m[2]) > generation) return `shard ${s.name} has the folder ${s.dir}`;
    if (names.has(s.name) || dirs.has(s.dir)) return `shard ${s.name} is listed twice`;
    const live = liveChunks(s);
    if (s.embedded !== undefined && s.embedded > live) return `shard ${s.name} says ${s.embedded} of its ${live} chunks are embedded`;
    if (s.dead?.length) {
      if (embedding && s.embedded === undefined) return `shard ${s.name} has dead rows but no count of embedded ones`;
      for (let i = 0; i < s.dead.length; i++) if (s.dead[i]! >= s.chunks || (i > 0 && s.dead[i]! <= s.dead[i - 1]!)) return `shard ${s.name} has invalid dead rows`;
    }
    names.add(s.name);
    dirs.add(s.dir);
    const files = s.files!;
    if (files['lexical.bin'].bytes > maxLexicalBytes(s.chunks)) return `lexical.bin of shard ${s.name} is too large for ${s.chunks} chunks`;
    if (embedding) {
      const v = files['vectors.bin'];
      const range = vectorFileBytes(s.chunks, embedding.dim);
      if (!v || v.bytes < range.min || v.bytes > range.max) return `vectors.bin of shard ${s.name} has an impossible size for ${s.chunks} vectors`;
    }
  }
  return undefined;
}

/**
 * Checks a file table against the shard list: safe relative paths, entries of the right shape,
 * shards that exist, and per shard as many chunk ids as the shard holds. Returns the table (the
 * parsed object itself: entries are checked, not copied) or what is wrong.
 */
export function parseFileTable(data: unknown, shards: readonly ShardEntry[]): Manifest['files'] | string {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return 'the file table is not an object';
  const counts = new Map(shards.map((s) => [s.name, 0]));
  for (const [file, entry] of Object.entries(data)) {
    if (!isSafeRelativePath(file)) return `the file table holds the path ${JSON.stringify(String(file).slice(0, 120))}`;
    // Checked by hand (the same rules as fileEntrySchema): a table has one entry per file, and zod
    // took ~70 ms on a 10k-file table, paid by every update.
    if (!isFileEntry(entry)) {
      const parsed = fileEntrySchema.safeParse(entry);
      return parsed.success ? `entry for ${file.slice(0, 120)} is invalid` : firstIssue(parsed.error, `entry for ${file.slice(0, 120)}`);
    }
    const e = entry;
    if (e.shard === '') {
      if (e.chunkIds.length) return `file ${file} has chunks but no shard`;
      continue;
    }
    const n = counts.get(e.shard);
    if (n === undefined) return `file ${file} points at unknown shard ${e.shard}`;
    counts.set(e.shard, n + e.chunkIds.length);
  }
  for (const s of shards) if (counts.get(s.name) !== liveChunks(s)) return `shard ${s.name} holds ${liveChunks(s)} chunks, its files ${counts.get(s.name)}`;
  return data as Manifest['files'];
}

/** `fileEntrySchema`, checked without zod (the file table's hot path). */
function isFileEntry(v: unknown): v is FileEntry {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const e = v as Record<string, unknown>;
  const isInt = (x: unknown, max: number) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= max;
  if (typeof e.hash !== 'string' || e.hash.length > 128) return false;
  if (!isInt(e.size, Number.MAX_SAFE_INTEGER) || typeof e.mtimeMs !== 'number' || !Number.isFinite(e.mtimeMs)) return false;
  if (typeof e.shard !== 'string' || (e.shard !== '' && !SHARD_NAME.test(e.shard))) return false;
  if (!Array.isArray(e.chunkIds) || e.chunkIds.length > MAX_SHARD_CHUNKS) return false;
  for (const id of e.chunkIds) if (typeof id !== 'string' || id.length < 1 || id.length > MAX_ID_LENGTH || id.includes('\n')) return false;
  return true;
}

export function emptyManifest(root: string, embedding: EmbeddingInfo | null, chunker: ChunkerInfo): Manifest {
  const now = new Date().toISOString();
  return {
    format: 'sift-index',
    version: INDEX_FORMAT_VERSION,
    root,
    embedding,
    chunker,
    createdAt: now,
    updatedAt: now,
    generation: 0,
    files: {},
    shards: [],
  };
}

/** Why an existing index cannot be reused with the requested settings, or undefined if it can. */
export function incompatibility(
  m: Manifest,
  embedding: EmbeddingInfo | null,
  chunker: ChunkerInfo,
): string | undefined {
  const had = describeEmbedding(m.embedding);
  const want = describeEmbedding(embedding);
  if (had !== want || (m.embedding && embedding && m.embedding.dim !== embedding.dim)) {
    const dims = m.embedding && embedding && had === want ? ` (${m.embedding.dim} → ${embedding.dim} dimensions)` : '';
    return `the index was built with ${had}, now ${want}${dims}`;
  }
  if (m.chunker.version !== chunker.version) return `the chunker changed (v${m.chunker.version} → v${chunker.version})`;
  if (m.chunker.maxTokens !== chunker.maxTokens) {
    return `the chunk size changed (${m.chunker.maxTokens} → ${chunker.maxTokens} tokens)`;
  }
  if (m.chunker.tokenizer !== chunker.tokenizer) return `the tokenizer changed (${m.chunker.tokenizer} → ${chunker.tokenizer})`;
  return undefined;
}

/** "model (dtype)" for the local model; the provider and chunk prefix too for an embedding server. */
export function describeEmbedding(e: EmbeddingInfo | null): string {
  if (!e) return 'no embedding model (lexical-only)';
  const provider = e.provider && e.provider !== 'local' ? `${e.provider} ` : '';
  return `${provider}${e.model} (${e.dtype})${e.prefix ? ` with chunk prefix ${JSON.stringify(e.prefix)}` : ''}`;
}
