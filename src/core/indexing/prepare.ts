import type { SkippedFile } from '../discovery';
import { chunkFile } from '../chunking';
import { redactSecretsInText } from '../discovery/redact';
import { fieldTermIds } from '../lexical/lexical';
import { resetTermsIfLarge } from '../lexical/tokenize';
import { DocBatchBuilder, type LexicalDoc } from '../lexical/bm25';
import type { Chunk, TokenCounter } from '../types';
import { errorMessage, throwIfAborted } from '../util/errors';
import { sha256Hex } from '../util/fs';
import { readIndexableFile } from './readSource';

/** One file to read and chunk: where it is, its stat, and what the index holds for it (if anything). */
export interface FileToPrepare {
  path: string;
  absPath: string;
  mtimeMs: number;
  /** The indexed content's hash; undefined when the file is not in the index. */
  knownHash?: string;
}

/** What reading and chunking a batch of files gives: what to apply, in the batch's order. */
export interface PreparedBatch {
  batch: string[];
  updates: {
    file: { path: string; hash: string; size: number; mtimeMs: number };
    chunks: Chunk[];
    docs: LexicalDoc[];
    vectors?: (ArrayLike<number> | undefined)[];
  }[];
  skips: SkippedFile[];
  /** Indexed files that can no longer be indexed (unreadable, not chunkable): removed from the index. */
  removals: string[];
  /** Indexed files whose content is unchanged (same hash): only their size and mtime are updated. */
  restat: { path: string; size: number; mtimeMs: number }[];
}

export interface PrepareContext {
  realRoot: string;
  maxFileBytes: number;
  maxTokens: number;
  tokenCounter: TokenCounter;
  signal?: AbortSignal;
}

/**
 * Reads, redacts and chunks a batch of files and makes each chunk's BM25 document. A pure function
 * of the files' content and the tokenizer: the indexing thread and its chunking threads
 * (`chunkThreads.ts`) give the same result for the same files.
 */
export async function prepareFiles(files: readonly FileToPrepare[], ctx: PrepareContext): Promise<PreparedBatch> {
  throwIfAborted(ctx.signal);
  const out: PreparedBatch = { batch: files.map((f) => f.path), updates: [], skips: [], removals: [], restat: [] };
  const toChunk: { path: string; text: string; hash: string; size: number; mtimeMs: number; known: boolean }[] = [];
  // The batch's files are read concurrently (the I/O waits overlap; results are used in order).
  const reads = await Promise.all(files.map((f) => readIndexableFile(f.absPath, ctx.realRoot, ctx.maxFileBytes)));
  for (let k = 0; k < files.length; k++) {
    const f = files[k]!;
    // Re-checked on read: the file may have been deleted, swapped (symlink, FIFO), grown or
    // turned binary since discovery. Report the skip, and drop it from the index.
    const read = reads[k]!;
    if (!read.ok) {
      out.skips.push({ path: f.path, reason: read.reason, detail: read.detail });
      if (f.knownHash !== undefined) out.removals.push(f.path);
      continue;
    }
    const buf = read.buf;
    const hash = sha256Hex(buf, 16);
    if (f.knownHash === hash) {
      out.restat.push({ path: f.path, size: buf.length, mtimeMs: f.mtimeMs });
      continue;
    }
    // Secrets are redacted once, on the whole file, before chunking: chunk text on disk, embeddings
    // and everything sent later never hold them, a key split over chunks is still recognised as
    // one block, and line numbers are unchanged (a replacement never adds or removes a line break).
    const text = redactSecretsInText(decodeText(buf), f.path).text;
    toChunk.push({ path: f.path, text, hash, size: buf.length, mtimeMs: f.mtimeMs, known: f.knownHash !== undefined });
  }
  // BM25 documents now, while the previous batch embeds, rather than in the commit: one packed
  // batch for the call's files (it crosses threads as a few arrays).
  resetTermsIfLarge();
  const docs = new DocBatchBuilder();
  let made: LexicalDoc[];
  try {
    for (const { text, known, ...file } of toChunk) {
      throwIfAborted(ctx.signal);
      try {
        const chunks = await chunkFile({ path: file.path, text }, { maxTokens: ctx.maxTokens, tokenCounter: ctx.tokenCounter });
        const terms = chunks.map(fieldTermIds);
        chunks.forEach((c, i) => docs.add(c.id, terms[i]!));
        out.updates.push({ file, chunks, docs: [] });
      } catch (err) {
        out.skips.push({ path: file.path, reason: 'unreadable', detail: `could not be chunked: ${errorMessage(err)}` });
        if (known) out.removals.push(file.path);
      }
    }
    made = docs.finish();
  } finally {
    docs.release();
  }
  let at = 0;
  for (const u of out.updates) {
    u.docs = made.slice(at, at + u.chunks.length);
    at += u.chunks.length;
  }
  return out;
}

/** UTF-8 with the BOM removed; invalid sequences become U+FFFD rather than failing the file. */
function decodeText(buf: Buffer): string {
  const text = buf.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
