import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Int8Vectors, quantizeInt8, simdAvailable, topK } from '../../src/core/store/vectorKernel';
import { VECTOR_KERNEL_WASM_BASE64 } from '../../src/core/store/vectorKernel.wasm';
import { mulberry32 } from '../../src/core/util/random';

/** Deterministic PRNG so a failure reproduces. */
const rng = mulberry32;

/** Roughly Gaussian components, with the odd outlier and all-zero row, like real embeddings. */
function randomVector(rand: () => number, dim: number): Float32Array {
  const v = new Float32Array(dim);
  for (let j = 0; j < dim; j++) v[j] = (rand() + rand() + rand() - 1.5) * (rand() < 0.02 ? 8 : 1);
  return v;
}

function fill(block: Int8Vectors, rand: () => number): void {
  for (let r = 0; r < block.n; r++) {
    const v = r % 97 === 5 ? new Float32Array(block.dim) : randomVector(rand, block.dim);
    block.scales[r] = quantizeInt8(v, block.data, r * block.dim);
  }
}

/**
 * Float64 dot product of the query with row r dequantised, and a bound on how far the kernel may
 * be from it: the int16 query rounding moves each query component by at most qScale/2, so the dot
 * moves by at most qScale/2 · Σ|row|; the float32 result adds half an ulp; 1e-12 covers the f64
 * products.
 */
function reference(block: Int8Vectors, query: Float32Array, r: number): { dot: number; tol: number } {
  let maxAbs = 0;
  for (const x of query) maxAbs = Math.max(maxAbs, Math.abs(x));
  const qScale = maxAbs / 32767;
  let dot = 0;
  let l1 = 0;
  for (let j = 0; j < block.dim; j++) {
    const x = block.data[r * block.dim + j] * block.scales[r];
    dot += query[j] * x;
    l1 += Math.abs(x);
  }
  return { dot, tol: (qScale / 2) * l1 + Math.abs(dot) * 2 ** -24 + 1e-12 };
}

/** The same block scored by the JS loop. */
function jsScores(block: Int8Vectors, query: Float32Array): Float32Array {
  const js = Int8Vectors.allocate(block.n, block.dim, { simd: false });
  assert.equal(js.usesSimd, false);
  js.data.set(block.data);
  js.scales.set(block.scales);
  return js.scores(query);
}

describe('vectorKernel: scores', () => {
  it('runs the SIMD kernel on this Node', () => {
    assert.equal(simdAvailable, true);
    assert.equal(Int8Vectors.allocate(3, 384).usesSimd, true);
    assert.equal(Int8Vectors.allocate(3, 100).usesSimd, false);
  });

  for (const n of [0, 1, 7, 1000, 4099]) {
    it(`wasm = JS fallback = float64 reference within the bound (n=${n}, dim=384)`, () => {
      const rand = rng(n + 1);
      const block = Int8Vectors.allocate(n, 384);
      fill(block, rand);
      for (let t = 0; t < 3; t++) {
        const query = randomVector(rand, 384);
        if (t === 2) query.fill(0.25); // a constant query: every query code is ±32767
        const got = block.scores(query);
        assert.equal(got.length, n);
        // Same integer sum and same float operations: bit-identical, not merely close.
        assert.deepEqual(jsScores(block, query), got);
        for (let r = 0; r < n; r++) {
          const { dot, tol } = reference(block, query, r);
          assert.ok(Math.abs(got[r] - dot) <= tol, `row ${r}: ${got[r]} vs ${dot} (tol ${tol})`);
        }
      }
    });
  }

  for (const dim of [1, 3, 100, 383]) {
    it(`JS fallback for dim=${dim} matches the reference`, () => {
      const rand = rng(dim);
      const block = Int8Vectors.allocate(300, dim);
      assert.equal(block.usesSimd, false);
      fill(block, rand);
      const query = randomVector(rand, dim);
      const got = block.scores(query);
      for (let r = 0; r < block.n; r++) {
        const { dot, tol } = reference(block, query, r);
        assert.ok(Math.abs(got[r] - dot) <= tol, `row ${r}: ${got[r]} vs ${dot}`);
      }
    });
  }

  it('takes extreme codes without overflow (all ±127 rows, dim at the kernel limit)', () => {
    for (const dim of [384, 2048]) {
      const block = Int8Vectors.allocate(4, dim);
      assert.equal(block.usesSimd, true);
      block.data.fill(127, 0, dim); // row 0: all +127
      block.data.fill(-127, dim, 2 * dim); // row 1: all -127
      for (let j = 0; j < dim; j++) block.data[2 * dim + j] = j % 2 ? 127 : -127; // row 2: alternating
      block.scales.set([1, 1, 1, 0]); // row 3: zero scale
      const got = block.scores(new Float32Array(dim).fill(1));
      assert.deepEqual([...got], [127 * dim, -127 * dim, 0, 0]);
    }
  });

  it('writes into a given array, scores a zero query as 0, and rejects bad input', () => {
    const block = Int8Vectors.allocate(5, 16);
    fill(block, rng(9));
    const out = new Float32Array(8).fill(-1);
    assert.equal(block.scores(new Float32Array(16).fill(1), out), out);
    assert.deepEqual([...out.subarray(5)], [-1, -1, -1]);
    assert.deepEqual([...block.scores(new Float32Array(16))], [0, 0, 0, 0, 0]);
    assert.throws(() => block.scores(new Float32Array(15)), RangeError);
    assert.throws(() => block.scores(new Float32Array(16), new Float32Array(4)), RangeError);
    assert.throws(() => block.scores(new Float32Array(16).fill(Number.NaN)), RangeError);
    assert.throws(() => Int8Vectors.allocate(-1, 16), RangeError);
    assert.throws(() => Int8Vectors.allocate(1, 0), RangeError);
  });

  it('gives each block its own memory: views of one block survive allocating others', () => {
    const a = Int8Vectors.allocate(10, 32);
    fill(a, rng(3));
    const before = Array.from(a.data);
    const query = randomVector(rng(4), 32);
    const scores = Array.from(a.scores(query));
    for (let i = 0; i < 20; i++) Int8Vectors.allocate(1000, 32).data.fill(99);
    assert.deepEqual(Array.from(a.data), before);
    assert.deepEqual(Array.from(a.scores(query)), scores);
  });
});

describe('vectorKernel: quantizeInt8', () => {
  it('dequantises within half a step, maps the largest component to ±127', () => {
    const rand = rng(42);
    for (let t = 0; t < 200; t++) {
      const dim = 1 + Math.floor(rand() * 400);
      const v = randomVector(rand, dim);
      const out = new Int8Array(dim + 5);
      const scale = quantizeInt8(v, out, 5);
      let maxAbs = 0;
      for (const x of v) maxAbs = Math.max(maxAbs, Math.abs(x));
      assert.equal(scale, Math.fround(scale));
      assert.ok(Math.abs(scale - maxAbs / 127) <= maxAbs * 2 ** -22);
      let extreme = 0;
      for (let j = 0; j < dim; j++) {
        const q = out[5 + j];
        assert.ok(q >= -127 && q <= 127);
        extreme = Math.max(extreme, Math.abs(q));
        assert.ok(Math.abs(v[j] - q * scale) <= scale * (0.5 + 1e-4), `component ${j}`);
      }
      assert.equal(extreme, maxAbs > 0 ? 127 : 0);
      assert.deepEqual([...out.subarray(0, 5)], [0, 0, 0, 0, 0]);
    }
  });

  it('is idempotent: re-quantising a dequantised vector (float32 or float64) gives the same codes and scale', () => {
    const rand = rng(7);
    for (let t = 0; t < 3000; t++) {
      const dim = 384;
      // Spread the magnitudes over many binades so the float32 scale takes all kinds of values.
      // Float32 input, and float64 input such as vectors parsed from JSON: for the latter, about 1%
      // of scales would drift by an ulp without quantizeInt8's correction.
      const binade = 2 ** Math.floor(rand() * 40 - 20);
      const v = t % 2 ? randomVector(rand, dim).map((x) => x * binade) : Array.from(randomVector(rand, dim), (x) => (x + rand() * 1e-6) * binade);
      const codes = new Int8Array(dim);
      const scale = quantizeInt8(v, codes, 0);
      const as32 = Float32Array.from(codes, (q) => q * scale);
      const as64 = Array.from(codes, (q) => q * scale);
      for (const w of [as32, as64]) {
        const again = new Int8Array(dim);
        assert.equal(quantizeInt8(w, again, 0), scale);
        assert.deepEqual(again, codes);
      }
    }
  });

  it('returns 0 for an all-zero vector and rejects non-finite values and overruns', () => {
    const out = new Int8Array(4).fill(3);
    assert.equal(quantizeInt8([0, -0, 0, 0], out, 0), 0);
    assert.deepEqual([...out], [0, 0, 0, 0]);
    assert.throws(() => quantizeInt8([1, Number.POSITIVE_INFINITY], out, 0), RangeError);
    assert.throws(() => quantizeInt8([1, Number.NaN], out, 0), RangeError);
    assert.throws(() => quantizeInt8([1, 2, 3], out, 2), RangeError);
  });
});

describe('vectorKernel: topK', () => {
  function fullSort(scores: Float32Array, k: number, offset: number): { index: number; score: number }[] {
    return Array.from(scores, (score, index) => ({ index: index + offset, score }))
      .filter((e) => !Number.isNaN(e.score))
      .sort((a, b) => b.score - a.score || a.index - b.index)
      .slice(0, Math.max(0, k));
  }

  it('equals a full sort on random data, with ties, NaN, k > n and k = 0', () => {
    const rand = rng(11);
    for (let t = 0; t < 300; t++) {
      const n = Math.floor(rand() * 300);
      const scores = new Float32Array(n);
      const levels = 1 + Math.floor(rand() * 20); // few distinct values: many ties
      for (let i = 0; i < n; i++) scores[i] = t % 3 === 0 ? rand() * 2 - 1 : Math.floor(rand() * levels) - levels / 2;
      if (t % 5 === 0 && n > 0) scores[Math.floor(rand() * n)] = Number.NaN;
      if (t % 7 === 0 && n > 0) scores[Math.floor(rand() * n)] = Number.NEGATIVE_INFINITY;
      const k = [0, 1, 5, 50, n, n + 10][t % 6];
      const offset = t % 2 ? 1000 : 0;
      assert.deepEqual(topK(scores, k, offset), fullSort(scores, k, offset), `trial ${t} n=${n} k=${k}`);
    }
  });

  it('handles empty input', () => {
    assert.deepEqual(topK(new Float32Array(0), 10), []);
    assert.deepEqual(topK(new Float32Array([1, 2]), -1), []);
  });
});

describe('vectorKernel: committed module', () => {
  it('equals a fresh compile of vectorKernel.wat (run `npm run build:wasm` after editing it)', async () => {
    const script = pathToFileURL(path.resolve(__dirname, '..', '..', 'scripts', 'build-wasm.mjs')).href;
    const { compileWat } = (await import(script)) as { compileWat: () => Promise<Uint8Array> };
    const fresh = Buffer.from(await compileWat()).toString('base64');
    assert.equal(VECTOR_KERNEL_WASM_BASE64, fresh);
  });
});
