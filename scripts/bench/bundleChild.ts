import { execFile } from 'node:child_process';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

/** Where child bundles go: under node_modules, so that their externals resolve to this checkout's packages. */
export const BENCH_BUNDLES = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'sift-bench');

/**
 * A benchmark's child script bundled to plain JavaScript in `outDir`, to be run with `node` alone.
 * Run as `node --import tsx child.ts`, tsx's loader is inherited by every thread the child starts —
 * the indexing thread, its chunking threads, the inference worker — as the product's threads never
 * are: P5's child spent ~15 % more CPU that way (2 pairs at 10k files: 72.0 / 74.9 s → 60.9 /
 * 61.7 s, keyword-searchable 36.8 / 33.8 s → 27.8 / 28.4 s; same index bytes; docs/performance.md
 * "P5: the benchmark without tsx in its threads"). Returns the bundle's path.
 */
export async function bundleChild(entry: string, outDir: string): Promise<string> {
  const name = path.basename(entry, '.ts');
  await esbuild.build({
    entryPoints: { [name]: entry },
    outdir: outDir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
    // esbuild: a child may import a module that bundles another child (remote-embedding-child.ts imports remoteEmbedding.ts).
    external: ['vscode', 'onnxruntime-node', 'onnxruntime-web', 'sharp', 'wink-nlp', 'wink-eng-lite-web-model', 'wink-bm25-text-search', 'esbuild'],
    define: { 'import.meta.url': 'importMetaUrl' },
    banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  });
  return path.join(outDir, `${name}.js`);
}

/**
 * Runs a benchmark child script (`entry`, a .ts file) bundled to plain JavaScript in a fresh Node
 * process with `args` as its JSON argument; its last stdout line is its JSON report. `nodeArgs` go
 * before the script (e.g. `--expose-gc`); the child's stderr is passed through when `stderr` is set,
 * otherwise it is kept for the error message.
 */
export async function runBundledChild<T>(entry: string, args: unknown, opts: { nodeArgs?: string[]; env?: Record<string, string>; stderr?: boolean } = {}): Promise<T> {
  const file = await bundleChild(entry, BENCH_BUNDLES);
  const name = path.basename(entry);
  const out = await new Promise<string>((resolve, reject) => {
    const child = execFile(process.execPath, [...(opts.nodeArgs ?? []), file, JSON.stringify(args)], { maxBuffer: 1 << 20, env: { ...process.env, ...opts.env } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${name} failed: ${(!opts.stderr && stderr) || err.message}`)) : resolve(stdout),
    );
    if (opts.stderr) child.stderr!.pipe(process.stderr);
  });
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}
