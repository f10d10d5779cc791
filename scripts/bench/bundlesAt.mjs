// The indexing thread and inference worker bundles of a given commit, for an A/B of P6 (or P1) in one run:
//   node scripts/bench/bundlesAt.mjs <commit> <dir>   → <dir>/dist/{worker,indexer}.js
// The commit's src/ is taken with `git archive` (no checkout, no worktree) and bundled with the options of
// esbuild.mjs for these two entry points; <dir>/node_modules links to this checkout's (nothing is installed).
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [commit, dirArg] = process.argv.slice(2);
if (!commit || !dirArg) throw new Error('usage: node scripts/bench/bundlesAt.mjs <commit> <dir>');
const repo = path.resolve(import.meta.dirname, '..', '..');
const dir = path.resolve(dirArg);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const tar = path.join(dir, 'src.tar');
execFileSync('git', ['-C', repo, 'archive', '-o', tar, commit, 'src', 'tsconfig.json', 'package.json']);
execFileSync('tar', ['-x', '-f', tar, '-C', dir]);
rmSync(tar);
symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
const stub = (filter, namespace) => ({
  name: namespace,
  setup(b) {
    b.onResolve({ filter }, (a) => ({ path: a.path, namespace }));
    b.onLoad({ filter: /.*/, namespace }, (a) => ({ contents: `module.exports = function () { throw new Error(${JSON.stringify(`${a.path} is not bundled`)}); };`, loader: 'js' }));
  },
});
await esbuild.build({
  absWorkingDir: dir,
  entryPoints: { worker: 'src/core/worker/main.ts', indexer: 'src/core/indexing/indexerWorker.ts' },
  outdir: path.join(dir, 'dist'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  external: ['vscode', 'onnxruntime-node', 'onnxruntime-web'],
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  plugins: [stub(/^(wink-nlp|wink-eng-lite-web-model|wink-bm25-text-search)$/, 'sift-stub'), stub(/^sharp$/, 'sift-stub-sharp')],
});
const wasm = path.join(path.dirname(createRequire(import.meta.url).resolve('@vscode/tree-sitter-wasm/package.json')), 'wasm');
cpSync(wasm, path.join(dir, 'dist', 'wasm'), { recursive: true, filter: (f) => !f.endsWith('.d.ts') });
process.stdout.write(`${path.join(dir, 'dist')}\n`);
