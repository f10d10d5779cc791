// Bundles the extension host, the CLI, the inference worker, the indexing thread and the webview.
// Native modules (onnxruntime-node, sharp) stay external and ship beside the bundle.
import * as esbuild from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// vectra's LocalIndex loads wink-nlp, its 3 MB English model and wink-bm25 at require time, only
// for its BM25 mode, which Sift does not use (it is too slow: it rebuilds on every query). Stub them.
const VECTRA_UNUSED = /^(wink-nlp|wink-eng-lite-web-model|wink-bm25-text-search)$/;
const stubVectraBm25 = {
  name: 'stub-vectra-bm25',
  setup(build) {
    build.onResolve({ filter: VECTRA_UNUSED }, (args) => ({ path: args.path, namespace: 'sift-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'sift-stub' }, (args) => ({
      contents: `module.exports = function () { throw new Error(${JSON.stringify(args.path + ' is not bundled: vectra BM25 mode is unused')}); };`,
      loader: 'js',
    }));
  },
};

// transformers.js requires sharp for image inputs at load time; Sift only embeds text.
const stubSharp = {
  name: 'stub-sharp',
  setup(build) {
    build.onResolve({ filter: /^sharp$/ }, () => ({ path: 'sharp', namespace: 'sift-stub-sharp' }));
    build.onLoad({ filter: /.*/, namespace: 'sift-stub-sharp' }, () => ({
      contents: "module.exports = function sharp() { throw new Error('image input is not supported by Sift'); };",
      loader: 'js',
    }));
  },
};

const nodeCommon = {
  plugins: [stubVectraBm25],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // onnxruntime-web (the universal package's WebAssembly fallback) loads its .wasm beside itself: keep it a file.
  external: ['vscode', 'onnxruntime-node', 'onnxruntime-web'],
  // transformers.js reads import.meta.url in its ESM build; give the CJS bundle a value.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

const builds = [
  { ...nodeCommon, entryPoints: { extension: 'src/vscode/extension.ts' }, outdir: 'dist' },
  { ...nodeCommon, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist' },
  { ...nodeCommon, entryPoints: { worker: 'src/core/worker/main.ts' }, outdir: 'dist', plugins: [stubVectraBm25, stubSharp] },
  // The indexing thread (the extension host starts it so indexing work never runs on its thread).
  { ...nodeCommon, entryPoints: { indexer: 'src/core/indexing/indexerWorker.ts' }, outdir: 'dist' },
  {
    // The chat webview: browser code, imports src/protocol only.
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'media',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
  },
];

async function copyAssets() {
  // tree-sitter runtime + grammars, loaded at run time by the thread that chunks (the indexing thread,
  // dist/indexer.js; `sift index` chunks on the CLI's main thread), not by the inference worker.
  const wasmSrc = path.join(path.dirname(require.resolve('@vscode/tree-sitter-wasm/package.json')), 'wasm');
  await mkdir('dist/wasm', { recursive: true });
  // (Not the regex grammar: no chunker uses it.)
  await cp(wasmSrc, 'dist/wasm', { recursive: true, filter: (f) => !f.endsWith('.d.ts') && !f.endsWith('tree-sitter-regex.wasm') });
  // Codicons for the webview (font + css), served from media/ under the webview's CSP.
  const codicons = path.join(path.dirname(require.resolve('@vscode/codicons/package.json')), 'dist');
  await mkdir('media/codicons', { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) await cp(path.join(codicons, f), path.join('media/codicons', f));
}

/**
 * The VSIX carries onnxruntime-node's JavaScript and only the native library of its target
 * platform (linux-x64 here: ~45 MB instead of ~290 MB for every OS), beside the bundle in
 * dist/node_modules, where the worker's require('onnxruntime-node') finds it.
 */
/** The runtime's JavaScript, not its type declarations and source maps. */
const runtimeFile = (f) => !/\.(map|d\.ts)$/.test(f);

const NATIVE_FILES = {
  linux: ['onnxruntime_binding.node', 'libonnxruntime.so.1'],
  darwin: ['onnxruntime_binding.node', 'libonnxruntime.1.dylib'],
  win32: ['onnxruntime_binding.node', 'onnxruntime.dll'],
};

async function copyNativeRuntime() {
  const target = process.env.SIFT_TARGET ?? `${process.platform}-${process.arch}`;
  if (target === 'universal') return copyWasmRuntime();
  const [os, arch] = target.split('-');
  const ortNode = path.dirname(require.resolve('onnxruntime-node/package.json'));
  // onnxruntime-common's exports hide package.json: find its root from its entry point.
  let ortCommon = path.dirname(require.resolve('onnxruntime-common', { paths: [ortNode] }));
  const isRoot = (dir) => existsSync(path.join(dir, 'package.json')) && JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'onnxruntime-common';
  while (!isRoot(ortCommon)) ortCommon = path.dirname(ortCommon);
  const out = 'dist/node_modules';
  await mkdir(out, { recursive: true });
  await cp(path.join(ortNode, 'package.json'), path.join(out, 'onnxruntime-node/package.json'));
  await cp(path.join(ortNode, 'dist'), path.join(out, 'onnxruntime-node/dist'), { recursive: true, filter: runtimeFile });
  // Only what the binding loads for the CPU provider (see NATIVE_FILES); not the second copy of the
  // macOS library, nor DirectML / DirectX compiler DLLs (loaded only for the DirectML and WebGPU providers).
  for (const f of NATIVE_FILES[os]) {
    await cp(path.join(ortNode, 'bin/napi-v6', os, arch, f), path.join(out, 'onnxruntime-node/bin/napi-v6', os, arch, f));
  }
  await cp(path.join(ortCommon, 'package.json'), path.join(out, 'onnxruntime-common/package.json'));
  await cp(path.join(ortCommon, 'dist'), path.join(out, 'onnxruntime-common/dist'), { recursive: true, filter: runtimeFile });
}

/**
 * SIFT_TARGET=universal: no native library; onnxruntime-web's Node build and its one WebAssembly
 * file (~14 MB), which the worker uses when require('onnxruntime-node') fails (src/core/worker/onnxBackend.ts).
 */
async function copyWasmRuntime() {
  const webEntry = require.resolve('onnxruntime-web');
  let ortWeb = path.dirname(webEntry);
  while (!existsSync(path.join(ortWeb, 'package.json'))) ortWeb = path.dirname(ortWeb);
  let ortCommon = path.dirname(require.resolve('onnxruntime-common', { paths: [ortWeb] }));
  const isRoot = (dir) => existsSync(path.join(dir, 'package.json')) && JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'onnxruntime-common';
  while (!isRoot(ortCommon)) ortCommon = path.dirname(ortCommon);
  const out = 'dist/node_modules';
  await mkdir(path.join(out, 'onnxruntime-web/dist'), { recursive: true });
  await cp(path.join(ortWeb, 'package.json'), path.join(out, 'onnxruntime-web/package.json'));
  for (const f of ['ort.node.min.js', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) {
    await cp(path.join(ortWeb, 'dist', f), path.join(out, 'onnxruntime-web/dist', f));
  }
  await cp(path.join(ortCommon, 'package.json'), path.join(out, 'onnxruntime-common/package.json'));
  await cp(path.join(ortCommon, 'dist'), path.join(out, 'onnxruntime-common/dist'), { recursive: true, filter: runtimeFile });
}

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await copyAssets();
  await Promise.all(contexts.map((c) => c.watch()));
} else if (process.argv.includes('--runtime-only')) {
  // scripts/package-all.mjs: the bundles are built once; only the runtime beside them changes per target.
  await rm('dist/node_modules', { recursive: true, force: true });
  await copyNativeRuntime();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  await copyAssets();
  if (production) await copyNativeRuntime();
}
