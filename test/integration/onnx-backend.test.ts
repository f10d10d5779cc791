// The WebAssembly fallback (onnxruntime-web in Node, the universal package's runtime) gives the same
// embeddings and rerank scores as native onnxruntime-node: the real worker, the tiny models, both backends.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { InferenceClient } from '../../src/core/worker/client';
import { CLI_SCRIPT, TINY_EMBEDDER, TINY_RERANKER, WORKER_SCRIPT, tempDir } from '../helpers';

const texts = ['export function retryFailedUploads() {}', 'a longer text about uploads, queues, retries and backoff '.repeat(6), 'x'];
const passages = ['retry the upload with backoff', 'parse the config file', 'render the chat panel'];

async function run(backend: 'native' | 'wasm'): Promise<{ vectors: Float32Array; scores: number[]; ms: number }> {
  const saved = process.env.SIFT_ONNX_BACKEND;
  if (backend === 'wasm') process.env.SIFT_ONNX_BACKEND = 'wasm';
  else delete process.env.SIFT_ONNX_BACKEND;
  const client = new InferenceClient(WORKER_SCRIPT); // the worker copies process.env when it starts
  if (saved === undefined) delete process.env.SIFT_ONNX_BACKEND;
  else process.env.SIFT_ONNX_BACKEND = saved;
  const t = tempDir('sift-onnx-');
  try {
    await client.call('configure', { cacheDir: path.join(t.dir, 'models'), allowRemote: false, threads: 1 });
    const started = Date.now();
    assert.ok((await client.call('loadEmbedder', { model: TINY_EMBEDDER, dtype: 'fp32' })).ok);
    const vectors = await client.call('embed', { texts });
    assert.ok((await client.call('loadReranker', { model: TINY_RERANKER, dtype: 'fp32' })).ok);
    const scores = await client.call('rerank', { query: 'how are uploads retried', passages });
    return { vectors, scores, ms: Date.now() - started };
  } finally {
    await client.dispose();
    t.cleanup();
  }
}

describe('onnxruntime backends', () => {
  it('WebAssembly and native give the same vectors and rerank scores', async () => {
    const native = await run('native');
    const wasm = await run('wasm');
    assert.equal(wasm.vectors.length, native.vectors.length);
    for (let i = 0; i < native.vectors.length; i++) assert.ok(Math.abs(wasm.vectors[i]! - native.vectors[i]!) < 1e-4, `component ${i}`);
    for (let i = 0; i < passages.length; i++) assert.ok(Math.abs(wasm.scores[i]! - native.scores[i]!) < 1e-3, `score ${i}`);
  });

  it('sift --version says which backend runs the models', () => {
    const native = execFileSync(process.execPath, [CLI_SCRIPT, '--version'], { encoding: 'utf8', env: { ...process.env, SIFT_ONNX_BACKEND: '' } });
    assert.match(native, /onnxruntime: native onnxruntime-node \d/);
    const wasm = execFileSync(process.execPath, [CLI_SCRIPT, '--version'], { encoding: 'utf8', env: { ...process.env, SIFT_ONNX_BACKEND: 'wasm' } });
    assert.match(wasm, /onnxruntime: WebAssembly onnxruntime-web .*SIFT_ONNX_BACKEND=wasm; [12] threads\)/);
  });
});
