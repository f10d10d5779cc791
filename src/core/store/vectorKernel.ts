/**
 * Exhaustive int8 dot-product scan for dense retrieval.
 *
 * Vectors are stored quantised symmetrically per vector (`q = round(v / maxabs(v) * 127)` as int8,
 * `scale = maxabs(v) / 127` as float32, so `v ≈ q * scale`), rows contiguous. A query is quantised
 * to int16 (`qq = round(x / maxabs(x) * 32767)`) and every row is scored as
 * `f32(Σ qq·q · scale · qScale)` with an exact integer sum. A WebAssembly SIMD kernel
 * (vectorKernel.wat) does this 15–30 times faster than JS (scripts/bench/kernel.ts); a JS loop with
 * bit-identical results covers dims the kernel does not take and runtimes without wasm SIMD.
 */
import { VECTOR_KERNEL_WASM_BASE64 } from './vectorKernel.wasm';

const WASM_BYTES = new Uint8Array(Buffer.from(VECTOR_KERNEL_WASM_BASE64, 'base64'));

/** The part of the WebAssembly JS API used here (the project's lib and @types/node do not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
}
type WasmModule = { readonly __brand: 'WebAssembly.Module' };

const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Whether this runtime runs the SIMD kernel (otherwise every block uses the JS loop). */
export const simdAvailable: boolean = wasmApi !== undefined && wasmApi.validate(WASM_BYTES);

/** The kernel needs whole 16-lane chunks, and its i32 lane sums are exact up to 2048 (see the .wat). */
const KERNEL_MAX_DIM = 2048;
const QUERY_MAX = 32767;
const PAGE = 65536;
/** wasm32 addresses 4 GiB; V8 may refuse less, which `new WebAssembly.Memory` reports. */
const MAX_PAGES = 65536;

type ScanFn = (q: number, data: number, scales: number, n: number, dim: number, out: number, qScale: number) => void;

let compiled: WasmModule | undefined;
function kernelModule(api: WasmApi): WasmModule {
  // A few hundred bytes: synchronous compilation is cheap, and done once per process.
  compiled ??= new api.Module(WASM_BYTES);
  return compiled;
}

/**
 * The scale of the float32 quantisation `scale = maxabs / 127`, nudged (rarely, by one ulp) to a
 * value that survives a float32 round trip. When maxabs is a float64 that float32 cannot represent
 * (vectors parsed from JSON), about 1% of scales `s = fround(maxabs / 127)` have
 * `fround(fround(127 * s) / 127) !== s`, so the vector dequantised into a Float32Array would
 * re-quantise to a neighbouring scale. One application of that round trip lands on a value it leaves
 * unchanged (checked exhaustively over whole binades; always so for float32 maxabs already), which
 * makes re-quantising a dequantised vector idempotent: the store relies on it.
 */
function stableScale(maxAbs: number): number {
  const s = Math.fround(maxAbs / 127);
  return Math.fround(Math.fround(127 * s) / 127);
}

/**
 * Quantises `v` into `out[offset .. offset + v.length)` and returns its scale (0 for an all-zero
 * vector, whose codes are all 0). Throws on a non-finite component.
 */
export function quantizeInt8(v: ArrayLike<number>, out: Int8Array, offset: number): number {
  const dim = v.length;
  if (offset < 0 || offset + dim > out.length) throw new RangeError(`quantizeInt8: ${dim} values do not fit at offset ${offset} of ${out.length}`);
  const maxAbs = maxAbsFinite(v, 'quantizeInt8');
  const scale = maxAbs === 0 ? 0 : stableScale(maxAbs);
  if (scale === 0) {
    // All zero, or so small that the float32 scale underflows: nothing survives dequantisation.
    out.fill(0, offset, offset + dim);
    return 0;
  }
  const k = 127 / maxAbs;
  for (let i = 0; i < dim; i++) out[offset + i] = Math.round(v[i] * k);
  return scale;
}

function maxAbsFinite(v: ArrayLike<number>, who: string): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) throw new RangeError(`${who}: component ${i} is ${x}`);
    const a = x < 0 ? -x : x;
    if (a > m) m = a;
  }
  return m;
}

const align = (x: number, to: number): number => Math.ceil(x / to) * to;

/**
 * One block of `n` int8 vectors of `dim` components with their scales, e.g. one shard. With the
 * SIMD kernel the block lives in its own exactly-sized `WebAssembly.Memory` (never grown, so the
 * `data` and `scales` views stay valid) with a small instance of the kernel over it.
 */
export class Int8Vectors {
  /** Row-major codes, length n*dim: fill it directly (e.g. `fs.readSync` into it). */
  readonly data: Int8Array;
  /** One scale per row, length n. */
  readonly scales: Float32Array;

  private constructor(
    readonly n: number,
    readonly dim: number,
    data: Int8Array,
    scales: Float32Array,
    /** Kernel state, absent when this block uses the JS loop. */
    private readonly wasm?: {
      scan: ScanFn;
      query: Int16Array;
      out: Float32Array;
      queryPtr: number;
      dataPtr: number;
      scalesPtr: number;
      outPtr: number;
    },
  ) {
    this.data = data;
    this.scales = scales;
  }

  /**
   * A zeroed block. It uses the SIMD kernel when the runtime has it and dim is a multiple of 16 up
   * to 2048, unless `options.simd` is false (to compare the two paths: results are identical).
   */
  static allocate(n: number, dim: number, options: { simd?: boolean } = {}): Int8Vectors {
    if (!Number.isSafeInteger(n) || n < 0 || !Number.isSafeInteger(dim) || dim < 1) {
      throw new RangeError(`Int8Vectors.allocate: bad shape ${n}×${dim}`);
    }
    if (options.simd === false || !simdAvailable || !wasmApi || dim % 16 !== 0 || dim > KERNEL_MAX_DIM) {
      return new Int8Vectors(n, dim, new Int8Array(n * dim), new Float32Array(n));
    }
    // [query int16 × dim][scales f32 × n][out f32 × n][data int8 × n·dim], each 16-byte aligned
    // (64 for the rows, one cache line).
    const queryPtr = 0;
    const scalesPtr = align(queryPtr + 2 * dim, 16);
    const outPtr = align(scalesPtr + 4 * n, 16);
    const dataPtr = align(outPtr + 4 * n, 64);
    const bytes = dataPtr + n * dim;
    const pages = Math.max(1, Math.ceil(bytes / PAGE));
    if (pages > MAX_PAGES) throw new RangeError(`Int8Vectors.allocate: ${n}×${dim} needs ${bytes} bytes, over the 4 GiB of a wasm memory; use smaller blocks`);
    let memory: { buffer: ArrayBuffer };
    try {
      memory = new wasmApi.Memory({ initial: pages, maximum: pages });
    } catch (err) {
      throw new RangeError(`Int8Vectors.allocate: cannot reserve ${bytes} bytes for ${n}×${dim} vectors (${err instanceof Error ? err.message : String(err)})`);
    }
    const instance = new wasmApi.Instance(kernelModule(wasmApi), { env: { memory } });
    const buffer = memory.buffer;
    return new Int8Vectors(n, dim, new Int8Array(buffer, dataPtr, n * dim), new Float32Array(buffer, scalesPtr, n), {
      scan: instance.exports.scan as ScanFn,
      query: new Int16Array(buffer, queryPtr, dim),
      out: new Float32Array(buffer, outPtr, n),
      queryPtr,
      dataPtr,
      scalesPtr,
      outPtr,
    });
  }

  /** Whether this block is scored by the SIMD kernel. */
  get usesSimd(): boolean {
    return this.wasm !== undefined;
  }

  /**
   * `out[i] ≈ dot(query, row_i · scales[i])` for every row (the query need not be unit length).
   * Writes the first n entries of `out` (a new array when absent) and returns it.
   */
  scores(query: Float32Array, out: Float32Array = new Float32Array(this.n)): Float32Array {
    const { n, dim } = this;
    if (query.length !== dim) throw new RangeError(`Int8Vectors.scores: query has ${query.length} components, vectors have ${dim}`);
    if (out.length < n) throw new RangeError(`Int8Vectors.scores: out holds ${out.length} scores, need ${n}`);
    const maxAbs = maxAbsFinite(query, 'Int8Vectors.scores');
    if (maxAbs === 0 || n === 0) {
      out.fill(0, 0, n);
      return out;
    }
    const qScale = maxAbs / QUERY_MAX;
    const k = QUERY_MAX / maxAbs;
    const wasm = this.wasm;
    const qq = wasm ? wasm.query : new Int16Array(dim);
    for (let j = 0; j < dim; j++) qq[j] = Math.round(query[j] * k);
    if (wasm) {
      wasm.scan(wasm.queryPtr, wasm.dataPtr, wasm.scalesPtr, n, dim, wasm.outPtr, qScale);
      out.set(wasm.out);
    } else {
      scanJs(qq, this.data, this.scales, n, dim, out, qScale);
    }
    return out;
  }
}

/** The kernel's arithmetic in JS: integer sums are exact in doubles (< 2^53), so results match. */
function scanJs(qq: Int16Array, data: Int8Array, scales: Float32Array, n: number, dim: number, out: Float32Array, qScale: number): void {
  const tail = dim & 3;
  const body = dim - tail;
  for (let r = 0, off = 0; r < n; r++, off += dim) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = 0;
    for (; j < body; j += 4) {
      s0 += qq[j] * data[off + j];
      s1 += qq[j + 1] * data[off + j + 1];
      s2 += qq[j + 2] * data[off + j + 2];
      s3 += qq[j + 3] * data[off + j + 3];
    }
    for (; j < dim; j++) s0 += qq[j] * data[off + j];
    out[r] = (s0 + s1 + s2 + s3) * scales[r] * qScale;
  }
}

/**
 * The k highest scores, descending, ties by lower index; `offset` is added to the indices (e.g. a
 * block's first row). NaN scores are skipped. O(n log k): a binary min-heap of the best k so far,
 * whose root is the worst of them.
 */
export function topK(scores: Float32Array, k: number, offset = 0): { index: number; score: number }[] {
  const n = scores.length;
  k = Math.min(Math.floor(k), n);
  if (!(k > 0)) return [];
  const hs = new Float64Array(k);
  const hi = new Int32Array(k);
  let size = 0;
  let i = 0;
  for (; i < n && size < k; i++) {
    const s = scores[i];
    if (s !== s) continue;
    // Sift up.
    let c = size++;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (!worse(s, i, hs[p], hi[p])) break;
      hs[c] = hs[p];
      hi[c] = hi[p];
      c = p;
    }
    hs[c] = s;
    hi[c] = i;
  }
  // Later rows have higher indices, so on a tie they lose: only strictly higher scores get in.
  for (; i < n; i++) {
    const s = scores[i];
    if (s > hs[0]) {
      siftDown(hs, hi, size, s, i);
    }
  }
  const result = new Array<{ index: number; score: number }>(size);
  for (let r = size - 1; r >= 0; r--) {
    result[r] = { index: hi[0] + offset, score: hs[0] };
    const last = r;
    if (last > 0) siftDown(hs, hi, last, hs[last], hi[last]);
  }
  return result;
}

/** Whether (sa, ia) ranks below (sb, ib). */
function worse(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa < sb || (sa === sb && ia > ib);
}

/** Replaces the root of the heap of `size` entries with (s, idx) and restores the heap. */
function siftDown(hs: Float64Array, hi: Int32Array, size: number, s: number, idx: number): void {
  let p = 0;
  for (;;) {
    let c = 2 * p + 1;
    if (c >= size) break;
    if (c + 1 < size && worse(hs[c + 1], hi[c + 1], hs[c], hi[c])) c++;
    if (!worse(hs[c], hi[c], s, idx)) break;
    hs[p] = hs[c];
    hi[p] = hi[c];
    p = c;
  }
  hs[p] = s;
  hi[p] = idx;
}
