/**
 * P1.embed.wasm: embedding throughput of the same model and passages on the native onnxruntime
 * (onnxruntime-node, the platform packages) and on onnxruntime-web's WebAssembly build in Node
 * (the universal package, `SIFT_ONNX_BACKEND=wasm`), each in its own worker as Sift runs it.
 */
import { InferenceClient } from '../../src/core/worker/client';
import type { BenchConfig, Row } from './bench';

interface Measured {
  rate: number;
  loadMs: number;
}

/** One worker on `backend`: load, warm up, then embed every passage in batches of 32; chunks/s. */
async function measure(cfg: BenchConfig, backend: 'native' | 'wasm', passages: string[]): Promise<Measured> {
  // A worker copies process.env when it starts: the backend is chosen there (src/core/worker/onnxBackend.ts).
  const before = process.env.SIFT_ONNX_BACKEND;
  if (backend === 'wasm') process.env.SIFT_ONNX_BACKEND = 'wasm';
  else delete process.env.SIFT_ONNX_BACKEND;
  const client = new InferenceClient(cfg.workerScript);
  if (before === undefined) delete process.env.SIFT_ONNX_BACKEND;
  else process.env.SIFT_ONNX_BACKEND = before;
  try {
    await client.call('configure', { cacheDir: '', allowRemote: false, threads: cfg.threads });
    const t0 = performance.now();
    const loaded = await client.call('loadEmbedder', { model: cfg.embedder, dtype: cfg.dtype });
    if (!loaded.ok) throw new Error(`P1 backends: the embedding model did not load on ${backend}: ${loaded.message}`);
    const loadMs = performance.now() - t0;
    await client.call('embed', { texts: passages.slice(0, 32), batchSize: 32 });
    const t1 = performance.now();
    await client.call('embed', { texts: passages, batchSize: 32 });
    const rate = passages.length / ((performance.now() - t1) / 1000);
    return { rate, loadMs };
  } finally {
    await client.dispose();
  }
}

export async function benchBackends(cfg: BenchConfig, log: (l: string) => void, passages: string[]): Promise<Row[]> {
  log(`P1: embedding ${passages.length} chunks on native onnxruntime and on WebAssembly (onnxruntime-web), same model and batches`);
  // Alternate to spread other load on the shared cores over both: native, wasm, native, wasm.
  const native: number[] = [];
  const wasm: number[] = [];
  let loads = { native: 0, wasm: 0 };
  for (let round = 0; round < 2; round++) {
    const n = await measure(cfg, 'native', passages);
    const w = await measure(cfg, 'wasm', passages);
    native.push(n.rate);
    wasm.push(w.rate);
    loads = { native: n.loadMs, wasm: w.loadMs };
    log(`P1 backends round ${round + 1}: native ${n.rate.toFixed(1)} chunks/s, WebAssembly ${w.rate.toFixed(1)} chunks/s`);
  }
  const best = (xs: number[]) => Math.max(...xs);
  const ratio = best(native) / best(wasm);
  const line = `native ${best(native).toFixed(1)} chunks/s vs WebAssembly ${best(wasm).toFixed(1)} chunks/s: native is ${ratio.toFixed(2)}× faster`;
  log(`P1 backends: ${line}`);
  return [{
    id: 'P1.embed.wasm',
    section: 'P1',
    metric: `embedding on WebAssembly (universal package) vs native onnxruntime (${passages.length} chunks, batch 32)`,
    value: Math.round(best(wasm) * 10) / 10,
    unit: 'chunks/s',
    baseline: { label: 'native onnxruntime-node, same chunks', value: Math.round(best(native) * 10) / 10, unit: 'chunks/s' },
    ratio: Math.round((best(wasm) / best(native)) * 100) / 100,
    goal: 'informational', // the ratio is stated in README (Platforms)
    note: `${line}; best of 2 alternating rounds (native ${native.map((x) => x.toFixed(1)).join(', ')}; WebAssembly ${wasm.map((x) => x.toFixed(1)).join(', ')}); model load ${Math.round(loads.native)} ms native, ${Math.round(loads.wasm)} ms WebAssembly`,
  }];
}
