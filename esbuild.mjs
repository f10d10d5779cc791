// Bundles the extension host, the CLI, the inference worker and the webview.
// Native modules (onnxruntime-node, sharp) stay external and ship beside the bundle.
import * as esbuild from 'esbuild';
import { cp, mkdir } from 'node:fs/promises';
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
  external: ['vscode', 'onnxruntime-node'],
  // transformers.js reads import.meta.url in its ESM build; give the CJS bundle a value.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

const builds = [
  { ...nodeCommon, entryPoints: { extension: 'src/vscode/extension.ts' }, outdir: 'dist' },
  { ...nodeCommon, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist' },
  { ...nodeCommon, entryPoints: { worker: 'src/core/embedding/worker.ts' }, outdir: 'dist', plugins: [stubVectraBm25, stubSharp] },
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
  // tree-sitter runtime + grammars, loaded by the worker at run time.
  const wasmSrc = path.join(path.dirname(require.resolve('@vscode/tree-sitter-wasm/package.json')), 'wasm');
  await mkdir('dist/wasm', { recursive: true });
  await cp(wasmSrc, 'dist/wasm', { recursive: true, filter: (f) => !f.endsWith('.d.ts') });
  // Codicons for the webview (font + css), served from media/ under the webview's CSP.
  const codicons = path.join(path.dirname(require.resolve('@vscode/codicons/package.json')), 'dist');
  await mkdir('media/codicons', { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) await cp(path.join(codicons, f), path.join('media/codicons', f));
}

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await copyAssets();
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  await copyAssets();
}
