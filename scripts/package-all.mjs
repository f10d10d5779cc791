// npm run package:all — one VSIX per platform that onnxruntime-node ships a native library for,
// each carrying only that library, plus a universal VSIX (no target) that runs the models on
// onnxruntime-web's WebAssembly build (Intel Macs, Alpine, anything else). The bundles are built
// once; only dist/node_modules changes between targets. Output: packages/sift-codebase-qa-<target>.vsix.
// Usage: node scripts/package-all.mjs [target ...]   (default: all six)
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PLATFORM_TARGETS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];
export const ALL_TARGETS = [...PLATFORM_TARGETS, 'universal'];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : ALL_TARGETS;
for (const t of wanted) if (!ALL_TARGETS.includes(t)) throw new Error(`unknown target ${t} (one of ${ALL_TARGETS.join(', ')})`);

const run = (cmd, args, env = {}) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
const vsce = path.join(root, 'node_modules', '.bin', 'vsce');

const started = Date.now();
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
run(process.execPath, ['esbuild.mjs', '--production']);
mkdirSync(path.join(root, 'packages'), { recursive: true });
for (const target of wanted) {
  run(process.execPath, ['esbuild.mjs', '--runtime-only'], { SIFT_TARGET: target });
  const out = path.join('packages', `sift-codebase-qa-${target}.vsix`);
  run(vsce, ['package', '--no-dependencies', ...(target === 'universal' ? [] : ['--target', target]), '-o', out]);
  console.log(`${out}: ${(statSync(path.join(root, out)).size / 1024 / 1024).toFixed(1)} MB`);
}
// Leave dist/ as this machine would build it.
const host = `${process.platform}-${process.arch}`;
run(process.execPath, ['esbuild.mjs', '--runtime-only'], { SIFT_TARGET: PLATFORM_TARGETS.includes(host) ? host : 'universal' });
console.log(`${wanted.length} packages in ${((Date.now() - started) / 1000).toFixed(0)} s`);
