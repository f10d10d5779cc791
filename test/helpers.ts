import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { indexWorkspace } from '../src/core/indexing/indexer';
import { IndexStore } from '../src/core/store/store';
import { InferenceClient } from '../src/core/worker/client';
import { after, before } from 'node:test';
import type { Chunk } from '../src/core/types';
import { sha256Hex } from '../src/core/util/fs';

export const REPO_ROOT = path.resolve(__dirname, '..');
/** The bundled worker: tests run against the same build that ships (`npm test` builds first). */
export const WORKER_SCRIPT = path.join(REPO_ROOT, 'dist', 'worker.js');
/** The bundled indexing thread the extension starts. */
export const INDEXER_SCRIPT = path.join(REPO_ROOT, 'dist', 'indexer.js');
export const CLI_SCRIPT = path.join(REPO_ROOT, 'dist', 'cli.js');
export const TINY_EMBEDDER = path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'tiny-embedder');
export const TINY_RERANKER = path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'tiny-reranker');

export function tempDir(prefix = 'sift-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a tree of files: keys are '/'-separated relative paths. */
export function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(root, ...rel.split('/'));
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}

/**
 * Runs the bundled CLI (dist/cli.js) to its end: exit code, signal and everything it printed. The
 * child never inherits an LLM, rerank or embedding endpoint or key from the test's environment; `env`
 * adds variables (undefined removes one); `stdin` is written and closed.
 */
export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  /** `onSpawn` gets the child (e.g. to send it SIGINT at a moment the test chooses). */
  opts: { stdin?: string; onSpawn?: (child: ChildProcess) => void } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const childEnv: Record<string, string> = {};
    const base = { ...process.env, OPENAI_BASE_URL: undefined, OPENAI_API_KEY: undefined, SIFT_RERANK_API_KEY: undefined, SIFT_EMBEDDING_API_KEY: undefined };
    for (const [k, v] of Object.entries({ ...base, ...env })) if (v !== undefined) childEnv[k] = v;
    const child = spawn(process.execPath, [CLI_SCRIPT, ...args], { env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    opts.onSpawn?.(child);
  });
}

/** A chunk written straight into a test index: its symbols, first line and text. */
export interface FixtureChunk {
  symbols: string[];
  startLine: number;
  text: string;
}

/**
 * `files` written under `dir`/repo and indexed lexical-only by the real indexer (chunker, BM25) into
 * `dir`/index, opened for reading (with its file table).
 */
export async function lexicalIndexOfTree(dir: string, files: Record<string, string>, client: InferenceClient): Promise<IndexStore> {
  const root = path.join(dir, 'repo');
  const indexDir = path.join(dir, 'index');
  writeTree(root, files);
  const gen = indexWorkspace({ root, indexDir, client, embedding: null });
  for (let r = await gen.next(); !r.done; r = await gen.next());
  return (await IndexStore.openForRead(indexDir)).store!;
}

/**
 * For the enclosing `describe`: `files` indexed lexical-only (lexicalIndexOfTree) before its tests,
 * handed to `ready`; the store, the indexing thread and the files closed and removed after them.
 */
export function useLexicalIndex(files: Record<string, string> | (() => Record<string, string>), ready: (store: IndexStore) => void): void {
  let client: InferenceClient | undefined;
  let store: IndexStore | undefined;
  let cleanup = () => {};
  before(async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    client = new InferenceClient(WORKER_SCRIPT);
    store = await lexicalIndexOfTree(t.dir, typeof files === 'function' ? files() : files, client);
    ready(store);
  });
  after(async () => {
    await store?.close();
    await client?.dispose();
    cleanup();
  });
}

/**
 * A lexical-only index under `dir`/idx holding exactly these chunks, per file, committed once (no
 * chunker involved, so a test controls what each chunk holds). `describe` gives each chunk's
 * language and kind.
 */
export async function storeOfChunks(dir: string, files: Record<string, FixtureChunk[]>, describe: (path: string, chunk: FixtureChunk) => Pick<Chunk, 'language' | 'kind'>): Promise<IndexStore> {
  const { store } = await IndexStore.open(path.join(dir, 'idx'), { root: dir, embedding: null, chunker: { version: 1, maxTokens: 256, tokenizer: 'heuristic' }, lock: true });
  await store.commit({
    removed: [],
    upserted: Object.entries(files).map(([p, parts]) => {
      const chunks: Chunk[] = parts.map((c, i) => ({
        id: sha256Hex(`${p}#${i}`, 16),
        path: p,
        startLine: c.startLine,
        endLine: c.startLine + c.text.split('\n').length - 1,
        ...describe(p, c),
        symbols: c.symbols,
        header: c.symbols.join(' > '),
        text: c.text,
        hash: sha256Hex(c.text, 16),
      }));
      return { path: p, entry: { hash: sha256Hex(p, 16), size: 1, mtimeMs: 1 }, chunks };
    }),
  });
  return store;
}
