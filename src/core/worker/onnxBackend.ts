/**
 * Which onnxruntime runs the models: the native onnxruntime-node library when it loads on this
 * machine (the platform VSIXs and the npm package carry it for linux-x64/arm64, darwin-arm64 and
 * win32-x64/arm64), else onnxruntime-web's WebAssembly build running in Node (the universal VSIX:
 * Intel Macs, Alpine, anything else) — the same models and results, slower (README: "Platforms").
 * `SIFT_ONNX_BACKEND=wasm` forces WebAssembly (tests; a native library that misbehaves).
 *
 * `useOnnxBackend()` must run before transformers.js is loaded: transformers.js requires
 * 'onnxruntime-node' when it loads, so for WebAssembly that name is resolved to onnxruntime-web.
 */
import Module, { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface OnnxBackend {
  kind: 'native' | 'wasm';
  /** For logs and `sift --version`, e.g. "native onnxruntime-node 1.30.0 (linux-x64)". */
  label: string;
}

let chosen: OnnxBackend | undefined;
/** WebAssembly threads (onnxruntime-web reads them once, at its first session). */
export const WASM_THREADS = Math.max(1, Math.min(2, os.availableParallelism()));
/** Resolves beside this file: in a package, dist/node_modules (only this platform's runtime). */
const load = createRequire(__filename);

function version(load: () => unknown): string {
  try {
    return (load() as { version: string }).version;
  } catch {
    return '?';
  }
}

/** Probes (once per thread) which backend this process can use. Never throws. */
export function detectOnnxBackend(): OnnxBackend {
  if (chosen) return chosen;
  const platform = `${process.platform}-${process.arch}`;
  let why = 'forced by SIFT_ONNX_BACKEND=wasm';
  if (process.env.SIFT_ONNX_BACKEND !== 'wasm') {
    try {
      // As InferenceClient does before a worker starts (see there): no onnxruntime telemetry.
      process.env.ORT_DISABLE_TELEMETRY = '1';
      load('onnxruntime-node');
      chosen = { kind: 'native', label: `native onnxruntime-node ${version(() => load('onnxruntime-node/package.json'))} (${platform})` };
      return chosen;
    } catch (err) {
      why = `no native onnxruntime for ${platform}: ${String((err as Error).message ?? err).split('\n')[0]}`;
    }
  }
  chosen = { kind: 'wasm', label: `WebAssembly onnxruntime-web ${version(() => ({ version: (load('onnxruntime-web') as { env: { versions: { web: string } } }).env.versions.web }))} (${why}; ${WASM_THREADS} threads)` };
  return chosen;
}

/** Chooses the backend and, for WebAssembly, points transformers.js' 'onnxruntime-node' at onnxruntime-web. */
export function useOnnxBackend(): OnnxBackend {
  const backend = detectOnnxBackend();
  if (backend.kind === 'wasm') {
    let web: string;
    try {
      web = load.resolve('onnxruntime-web');
    } catch {
      return { kind: 'wasm', label: `${backend.label}; onnxruntime-web is missing too: models cannot run` };
    }
    const m = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
    const resolve = m._resolveFilename;
    m._resolveFilename = function (request: string, ...rest: unknown[]) {
      return request === 'onnxruntime-node' ? web : resolve.call(this, request, ...rest);
    };
    // Local .wasm files (transformers.js would otherwise point onnxruntime-web at a CDN).
    const ort = load(web) as { env: { wasm: { wasmPaths?: unknown; numThreads?: number } } };
    ort.env.wasm.wasmPaths = pathToFileURL(path.dirname(web) + path.sep).href;
    // As many threads as the native runtime's 2 intra-op threads: onnxruntime-web in Node picks
    // half the cores (1 on a 2-core machine), which made it 8× slower than native instead of ~5×
    // on the MiniLM-shaped embedder (npm run bench, P1.embed.wasm).
    ort.env.wasm.numThreads = WASM_THREADS;
  }
  return backend;
}
