import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { SingleBar } from 'cli-progress';
import type { InferenceClient } from '../core/worker/client';
import type { DownloadProgress } from '../core/worker/protocol';
import { type IndexSummary, indexWorkspace } from '../core/indexing/indexer';
import { errorMessage, isAbortError } from '../core/util/errors';
import { formatBytes } from '../core/util/format';
import { embeddingRequest, interruptSignal, type ModelOptions, remoteEmbedding, startWorker } from './engine';
import { defaultIndexDir } from './paths';
import { formatDuration, humanErr } from './format';

/** dist/indexer.js beside dist/cli.js (absent when the CLI runs from its sources). */
function indexerScript(): string | undefined {
  const script = path.join(__dirname, 'indexer.js');
  return existsSync(script) ? script : undefined;
}

export interface IndexCommandOptions extends ModelOptions {
  indexDir?: string;
  maxFileSize?: number;
  maxTokens?: number;
  include?: string[];
  exclude?: string[];
  secretPattern?: string[];
  json?: boolean;
  quiet?: boolean;
  events?: boolean;
  commitEvery?: number;
}

export async function runIndexCommand(dir: string, options: IndexCommandOptions): Promise<number> {
  const root = resolveRoot(dir);
  if (!root) return 2;
  const indexDir = path.resolve(options.indexDir ?? defaultIndexDir(root));
  const signal = interruptSignal();
  const client = await startWorker(options);
  try {
    const summary = await buildIndex(client, root, indexDir, options, signal);
    if (options.json) process.stdout.write(`${JSON.stringify(jsonSummary(summary), null, 2)}\n`);
    else printSummary(summary);
    return 0;
  } catch (err) {
    return reportFailure(err, 'indexing');
  } finally {
    await client.dispose();
  }
}

/** Resolves and checks the folder argument; prints a one-line reason and returns undefined when unusable. */
export function resolveRoot(dir: string): string | undefined {
  const root = path.resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    humanErr(`sift: ${dir} is not a folder\n`);
    return undefined;
  }
  return root;
}

/** Prints a one-line reason for a failure and returns the exit code. */
export function reportFailure(err: unknown, what: string): number {
  if (isAbortError(err)) {
    humanErr(`sift: ${what} cancelled; the index keeps everything committed so far.\n`);
    return 130;
  }
  humanErr(`sift: ${errorMessage(err)}\n`);
  if (process.env.SIFT_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
  return 1;
}

/** Runs the indexer with a progress bar (TTY), JSON-lines events (--events) or silently. */
export async function buildIndex(
  client: InferenceClient,
  root: string,
  indexDir: string,
  options: IndexCommandOptions,
  signal: AbortSignal,
): Promise<IndexSummary> {
  return (await runIndexer(client, root, indexDir, options, signal, false))!;
}

/**
 * Lexical first (`sift ask` on a folder not fully embedded): commits every changed file's chunks
 * and keyword index without embedding them and returns once they are searchable. The chunks left
 * without vectors are embedded by the next `sift index` or `sift ask --wait-for-embeddings`.
 */
export async function buildLexicalFirst(client: InferenceClient, root: string, indexDir: string, options: IndexCommandOptions, signal: AbortSignal): Promise<void> {
  await runIndexer(client, root, indexDir, options, signal, true);
}

async function runIndexer(
  client: InferenceClient,
  root: string,
  indexDir: string,
  options: IndexCommandOptions,
  signal: AbortSignal,
  lexicalFirst: boolean,
): Promise<IndexSummary | undefined> {
  const showBar = !options.quiet && !options.events && process.stderr.isTTY;
  const bar = new SingleBar({
    stream: process.stderr,
    format: ' {phase} [{bar}] {percentage}% | {value}/{total} files | {fps} files/s | {cps} chunks/s | ETA {eta_formatted}',
    hideCursor: true,
    etaBuffer: 50,
  });
  let barStarted = false;
  let denseBar: { started: number; bar: SingleBar } | undefined;
  const downloads = client.onProgress((p: DownloadProgress) => {
    if (p.status === 'progress' && showBar && p.total) {
      process.stderr.write(`\r downloading ${p.model} ${p.file}: ${formatBytes(p.loaded ?? 0)} / ${formatBytes(p.total)} (${Math.floor(p.percent ?? 0)}%)   `);
    } else if (p.status === 'done' && showBar) process.stderr.write('\n');
  });
  const started = Date.now();
  try {
    const run = indexWorkspace({
      root,
      indexDir,
      embedding: embeddingRequest(options),
      remoteEmbedding: options.lexicalOnly ? undefined : remoteEmbedding(options),
      maxTokens: options.maxTokens,
      client,
      signal,
      commitEveryFiles: options.commitEvery,
      lexicalFirst,
      // The indexing thread's bundle beside this one (dist/indexer.js): a large pass chunks on threads started from it.
      chunkThreadScript: indexerScript(),
      discovery: {
        maxFileBytes: options.maxFileSize,
        include: options.include,
        exclude: options.exclude,
        extraSecretPatterns: options.secretPattern,
      },
    });
    let result = await run.next();
    while (!result.done) {
      const event = result.value;
      if (options.events) process.stderr.write(`${JSON.stringify(event)}\n`);
      if (event.type === 'lexical-ready' && lexicalFirst) {
        await run.return(undefined as never); // closes the store; the dense pass has not started
        return undefined;
      }
      if (event.type === 'dense' && showBar) {
        if (!denseBar) {
          if (barStarted) bar.stop();
          barStarted = false;
          denseBar = { started: Date.now(), bar: new SingleBar({ stream: process.stderr, format: ' embedding [{bar}] {percentage}% | {value}/{total} chunks | {cps} chunks/s | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50 }) };
          denseBar.bar.start(event.total, 0, { cps: '0' });
        }
        const secs = Math.max(0.001, (Date.now() - denseBar.started) / 1000);
        denseBar.bar.update(event.done, { cps: (event.done / secs).toFixed(0) });
      }
      if (event.type === 'notice') {
        if (barStarted) bar.stop();
        barStarted = false;
        // Not cached or not downloadable: the message suggests a local model folder; name the flag for it.
        const hint = event.code === 'embedding-unavailable' && event.reason !== 'folder-invalid' ? ' (--embedding-model DIR)' : '';
        humanErr(`sift: ${event.message.replace(/local model folder/, `local model folder${hint}`)}\n`);
      } else if (event.type === 'plan' && showBar && event.toProcess > 0) {
        bar.start(event.toProcess, 0, { phase: 'indexing', fps: '0', cps: '0' });
        barStarted = true;
      } else if (event.type === 'progress' && barStarted) {
        const secs = Math.max(0.001, (Date.now() - started) / 1000);
        bar.update(event.filesDone, { fps: (event.filesDone / secs).toFixed(0), cps: (event.chunks / secs).toFixed(0) });
      }
      result = await run.next();
    }
    return result.value;
  } finally {
    if (barStarted) bar.stop();
    denseBar?.bar.stop();
    downloads.dispose();
  }
}

/** The documented `sift index --json` schema (see README). */
export function jsonSummary(s: IndexSummary) {
  return {
    root: s.root,
    indexDir: s.indexDir,
    files: {
      indexed: s.files.indexed,
      skipped: s.files.skipped.map(({ path: p, reason, detail }) => ({ path: p, reason, ...(detail ? { detail } : {}) })),
      changed: s.files.changed,
      removed: s.files.removed,
      unchanged: s.files.unchanged,
    },
    skippedByReason: s.skippedByReason,
    chunks: s.chunks,
    embedded: s.embedded,
    reused: s.reused,
    embedding: s.embedding,
    ...(s.embeddingServer ? { embeddingServer: s.embeddingServer } : {}),
    lexicalOnly: s.embedding === null,
    notices: s.notices,
    indexBytes: s.indexBytes,
    ms: s.ms,
  };
}

function printSummary(s: IndexSummary): void {
  const out = process.stdout;
  out.write(`Indexed ${s.files.indexed.length} files into ${s.chunks} chunks in ${formatDuration(s.ms)}\n`);
  out.write(`  changed ${s.files.changed.length}, unchanged ${s.files.unchanged}, removed ${s.files.removed.length}\n`);
  out.write(`  embedded ${s.embedded} chunks${s.reused ? `, reused ${s.reused} unchanged` : ''}`);
  out.write(s.embedding ? ` with ${s.embedding.model} (${s.embedding.dtype}, ${s.embedding.dim} dims)\n` : ' (lexical-only index)\n');
  const server = s.embeddingServer;
  if (server?.requests) out.write(`  embedding server ${server.server}: ${server.requests} requests, ${server.retries} retries, ${server.meanBatchMs.toFixed(0)} ms per batch (mean)\n`);
  const reasons = Object.entries(s.skippedByReason).sort((a, b) => b[1] - a[1]);
  if (reasons.length) out.write(`  skipped ${s.files.skipped.length}: ${reasons.map(([r, n]) => `${r} ${n}`).join(', ')}\n`);
  out.write(`  index: ${s.indexDir} (${formatBytes(s.indexBytes)})\n`);
}
