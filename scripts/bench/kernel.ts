/**
 * Micro-benchmark of the dense-retrieval scan (src/core/store/vectorKernel.ts):
 *
 *   node --import tsx scripts/bench/kernel.ts [--dim 384] [--runs 7]
 *
 * For 10k, 50k, 100k and 200k random vectors it prints the milliseconds of one scoring pass with
 * the WebAssembly SIMD kernel (first call, then the median of the next runs), with the JS loop,
 * and of topK(100) over the scores. The data is random: the scan's cost does not depend on it.
 */
import { randomFillSync } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Int8Vectors, simdAvailable, topK } from '../../src/core/store/vectorKernel';

const { values } = parseArgs({ options: { dim: { type: 'string', default: '384' }, runs: { type: 'string', default: '7' } } });
const dim = Number(values.dim);
const runs = Math.max(1, Number(values.runs));
const SIZES = [10_000, 50_000, 100_000, 200_000];

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

const ms = (x: number): string => x.toFixed(2).padStart(8);

console.log(`node ${process.version}, ${process.arch}, SIMD kernel: ${simdAvailable ? 'yes' : 'NO (both rows are the JS loop)'}; dim ${dim}, median of ${runs}`);
console.log(`${'n'.padStart(8)} ${'wasm 1st'.padStart(8)} ${'wasm'.padStart(8)} ${'JS'.padStart(8)} ${'JS/wasm'.padStart(8)} ${'topK100'.padStart(8)}`);

const query = new Float32Array(dim).map(() => Math.random() - 0.5);
for (const n of SIZES) {
  const wasm = Int8Vectors.allocate(n, dim);
  randomFillSync(wasm.data);
  for (let i = 0; i < wasm.data.length; i++) if (wasm.data[i] === -128) wasm.data[i] = -127; // never stored
  for (let r = 0; r < n; r++) wasm.scales[r] = Math.random() * 0.01;
  const js = Int8Vectors.allocate(n, dim, { simd: false });
  js.data.set(wasm.data);
  js.scales.set(wasm.scales);

  const out = new Float32Array(n);
  const first = time(() => wasm.scores(query, out));
  const wasmMs = median(Array.from({ length: runs }, () => time(() => wasm.scores(query, out))));
  const jsOut = new Float32Array(n);
  js.scores(query, jsOut); // warm up
  const jsMs = median(Array.from({ length: runs }, () => time(() => js.scores(query, jsOut))));
  for (let i = 0; i < n; i++) if (out[i] !== jsOut[i]) throw new Error(`row ${i}: wasm ${out[i]} ≠ JS ${jsOut[i]}`);
  topK(out, 100); // warm up
  const topMs = median(Array.from({ length: runs }, () => time(() => topK(out, 100))));
  console.log(`${String(n).padStart(8)} ${ms(first)} ${ms(wasmMs)} ${ms(jsMs)} ${(jsMs / wasmMs).toFixed(1).padStart(7)}× ${ms(topMs)}`);
}
