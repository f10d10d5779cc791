import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/** Bump when the on-disk layout changes: older indexes are rebuilt, never misread. */
export const INDEX_FORMAT_VERSION = 3;
export const MANIFEST_FILE = 'manifest.json';

/** What produced the vectors; a different one means the index must be rebuilt. */
export interface EmbeddingInfo {
  model: string;
  dtype: string;
  dim: number;
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
  /** Size and CRC-32 of each file of the shard, checked before a writer builds on it. */
  files?: Record<string, { bytes: number; crc: number }>;
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
  | { kind: 'ok'; manifest: Manifest }
  | { kind: 'invalid'; reason: string };

/**
 * On disk the file table (path → hash, shard, chunk ids: most of a manifest's bytes) lives in its
 * own immutable file, `files.g<generation>.json`, named by `manifest.json` and written before it.
 * Searching needs only the shard list, so readers can skip the table (`files: false`).
 */
export type ManifestOnDisk = Omit<Manifest, 'files'> & { filesFile: string };

export async function readManifest(indexDir: string, opts: { files?: boolean } = {}): Promise<ManifestLoad> {
  const parsed = await readJson(path.join(indexDir, MANIFEST_FILE), 'manifest');
  if (parsed.kind !== 'ok') return parsed;
  const head = parsed.value as Partial<ManifestOnDisk>;
  let problem = validateManifest({ ...head, files: {} });
  if (!problem && (typeof head.filesFile !== 'string' || !/^files\.g\d+\.json$/.test(head.filesFile))) problem = 'manifest names no file table';
  if (problem) return { kind: 'invalid', reason: problem };
  const { filesFile, ...rest } = head as ManifestOnDisk;
  const manifest: Manifest = { ...rest, files: {} };
  if (opts.files !== false) {
    const table = await readJson(path.join(indexDir, filesFile), 'file table');
    if (table.kind === 'missing') return { kind: 'invalid', reason: `the file table ${filesFile} is missing` };
    if (table.kind === 'invalid') return table;
    manifest.files = table.value as Manifest['files'];
    const bad = validateManifest(manifest);
    if (bad) return { kind: 'invalid', reason: bad };
  }
  return { kind: 'ok', manifest };
}

async function readJson(file: string, what: string): Promise<{ kind: 'ok'; value: unknown } | { kind: 'missing' } | { kind: 'invalid'; reason: string }> {
  let raw: string;
  try {
    raw = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'invalid', reason: `cannot read ${what} (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
  try {
    return { kind: 'ok', value: JSON.parse(raw) };
  } catch {
    return { kind: 'invalid', reason: `${what} is not valid JSON` };
  }
}

/** Returns a description of what is wrong, or undefined when the manifest is usable. */
export function validateManifest(data: unknown): string | undefined {
  if (!data || typeof data !== 'object') return 'manifest is not an object';
  const m = data as Partial<Manifest>;
  if (m.format !== 'sift-index') return 'not a Sift index';
  if (m.version !== INDEX_FORMAT_VERSION) return `index format ${String(m.version)} (this Sift reads format ${INDEX_FORMAT_VERSION})`;
  if (typeof m.generation !== 'number') return 'manifest has no generation';
  if (!m.files || typeof m.files !== 'object') return 'manifest has no file table';
  if (!Array.isArray(m.shards)) return 'manifest has no shard list';
  if (!m.chunker || typeof m.chunker.maxTokens !== 'number') return 'manifest has no chunker settings';
  if (m.embedding !== null && (typeof m.embedding !== 'object' || typeof m.embedding.model !== 'string')) {
    return 'manifest has an invalid embedding record';
  }
  const shardNames = new Set(m.shards.map((s) => s?.name));
  for (const [file, entry] of Object.entries(m.files)) {
    if (!entry || !Array.isArray(entry.chunkIds) || typeof entry.hash !== 'string') return `bad entry for ${file}`;
    if (entry.shard !== '' && !shardNames.has(entry.shard)) return `file ${file} points at unknown shard ${entry.shard}`;
  }
  return undefined;
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
  const had = m.embedding ? `${m.embedding.model} (${m.embedding.dtype})` : 'no embedding model (lexical-only)';
  const want = embedding ? `${embedding.model} (${embedding.dtype})` : 'no embedding model (lexical-only)';
  if (had !== want || (m.embedding && embedding && m.embedding.dim !== embedding.dim)) {
    return `the index was built with ${had}, now ${want}`;
  }
  if (m.chunker.version !== chunker.version) return `the chunker changed (v${m.chunker.version} → v${chunker.version})`;
  if (m.chunker.maxTokens !== chunker.maxTokens) {
    return `the chunk size changed (${m.chunker.maxTokens} → ${chunker.maxTokens} tokens)`;
  }
  if (m.chunker.tokenizer !== chunker.tokenizer) return `the tokenizer changed (${m.chunker.tokenizer} → ${chunker.tokenizer})`;
  return undefined;
}
