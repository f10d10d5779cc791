/**
 * The chunker as it ships: bundled by esbuild into one CommonJS file with the wasm files copied
 * to `<bundle dir>/wasm/` (as esbuild.mjs does for dist/), run in a worker_threads worker and in
 * a plain `node` process, with no node_modules reachable from the bundle.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { chunkFile, HeuristicTokenCounter, resolveWasmDir } from '../../src/core/chunking';
import type { Chunk } from '../../src/core/types';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'chunking');
const SRC = path.join(__dirname, '..', '..', 'src', 'core', 'chunking', 'index.ts');

interface Result {
  wasmDir: string | undefined;
  files: Array<{ path: string; chunks: Chunk[] }>;
}

const ENTRY = `
import { parentPort, workerData } from 'node:worker_threads';
import { chunkFile, HeuristicTokenCounter, init, wasmDir } from ${JSON.stringify(SRC.replace(/\\.ts$/, ''))};

async function run(job: { files: Array<{ path: string; text: string }>; wasmDir?: string }) {
  if (job.wasmDir) await init({ wasmDir: job.wasmDir });
  const counter = new HeuristicTokenCounter();
  const files = [];
  for (const f of job.files) files.push({ path: f.path, chunks: await chunkFile(f, { maxTokens: 200, tokenCounter: counter }) });
  return { wasmDir: wasmDir(), files };
}

if (parentPort) {
  run(workerData).then((r) => parentPort!.postMessage(r), (e) => parentPort!.postMessage({ error: String(e && e.stack || e) }));
} else {
  let input = '';
  process.stdin.on('data', (d) => (input += d));
  process.stdin.on('end', () => run(JSON.parse(input)).then((r) => process.stdout.write(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); }));
}
`;

const NAMES = ['upload-queue.ts', 'tasks.py', 'UploadQueue.cs', 'ring.c', 'README.md'];
const GRAMMARS = ['tree-sitter.wasm', 'tree-sitter-typescript.wasm', 'tree-sitter-python.wasm', 'tree-sitter-c-sharp.wasm', 'tree-sitter-cpp.wasm'];

describe('bundled chunker', () => {
  let dir = '';
  let bundle = '';
  const files = NAMES.map((name) => ({ path: `src/${name}`, text: readFileSync(path.join(FIXTURES, name), 'utf8') }));
  let expected: Result['files'] = [];

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sift-chunk-bundle-'));
    const out = path.join(dir, 'dist');
    mkdirSync(path.join(out, 'wasm'), { recursive: true });
    writeFileSync(path.join(dir, 'entry.ts'), ENTRY);
    bundle = path.join(out, 'entry.js');
    await build({ entryPoints: [path.join(dir, 'entry.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: bundle, logLevel: 'silent' });
    const wasm = resolveWasmDir();
    for (const f of GRAMMARS) copyFileSync(path.join(wasm, f), path.join(out, 'wasm', f));
    const counter = new HeuristicTokenCounter();
    expected = [];
    for (const f of files) expected.push({ path: f.path, chunks: await chunkFile(f, { maxTokens: 200, tokenCounter: counter }) });
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function inWorker(data: unknown): Promise<Result> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(bundle, { workerData: data });
      worker.once('message', (m: Result & { error?: string }) => {
        void worker.terminate();
        if (m.error) reject(new Error(m.error));
        else resolve(m);
      });
      worker.once('error', reject);
    });
  }

  it('finds dist/wasm beside the bundle and chunks like the source in a worker thread', async () => {
    const result = await inWorker({ files });
    assert.equal(result.wasmDir, path.join(dir, 'dist', 'wasm'));
    assert.deepEqual(result.files, expected);
    assert.ok(result.files[0]!.chunks.some((c) => c.kind === 'method' && c.symbols.join('.') === 'UploadQueue.enqueue'));
  });

  it('takes an explicit wasm folder', async () => {
    const other = path.join(dir, 'other-wasm');
    mkdirSync(other, { recursive: true });
    for (const f of GRAMMARS) copyFileSync(path.join(dir, 'dist', 'wasm', f), path.join(other, f));
    const result = await inWorker({ files: files.slice(0, 2), wasmDir: other });
    assert.equal(result.wasmDir, other);
    assert.deepEqual(result.files, expected.slice(0, 2));
  });

  it('rejects (rather than silently degrading) when a grammar is missing', async () => {
    const partial = path.join(dir, 'partial-wasm');
    mkdirSync(partial, { recursive: true });
    for (const f of ['tree-sitter.wasm', 'tree-sitter-typescript.wasm']) copyFileSync(path.join(dir, 'dist', 'wasm', f), path.join(partial, f));
    const ok = await inWorker({ files: files.slice(0, 1), wasmDir: partial });
    assert.deepEqual(ok.files, expected.slice(0, 1));
    await assert.rejects(inWorker({ files: files.slice(1, 2), wasmDir: partial }), /tree-sitter: cannot load the python grammar/);
    await assert.rejects(inWorker({ files: files.slice(0, 1), wasmDir: path.join(dir, 'nowhere') }), /tree-sitter: no tree-sitter\.wasm/);
  });

  it('runs in a plain node process', () => {
    const stdout = execFileSync(process.execPath, [bundle], { input: JSON.stringify({ files }), encoding: 'utf8', timeout: 60_000 });
    const result = JSON.parse(stdout) as Result;
    assert.equal(result.wasmDir, path.join(dir, 'dist', 'wasm'));
    assert.deepEqual(result.files, expected);
  });
});
