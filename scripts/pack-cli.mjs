// npm run pack:cli — the CLI as an npm package: packages/sift-codebase-qa-<version>.tgz, for
// `npm install -g` / `npx sift-codebase-qa ask . "…"`. The bundles in dist/ inline every JavaScript
// dependency, so the tarball holds bin/sift.js, the three bundles and the tree-sitter grammars, and
// depends only on the ONNX runtimes: onnxruntime-web (WebAssembly, works everywhere) and, optional,
// onnxruntime-node (native, faster; where its install fails the worker uses WebAssembly).
// The repository's package.json stays the development manifest (private, editor extension).
// Usage: node scripts/pack-cli.mjs [--no-build]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const dev = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const nodeVersion = () => readJson(require.resolve('onnxruntime-node/package.json')).version;
// onnxruntime-web's exports hide its package.json: find it above the entry point.
const webVersion = () => {
  let dir = path.dirname(require.resolve('onnxruntime-web'));
  while (!existsSync(path.join(dir, 'package.json')) || readJson(path.join(dir, 'package.json')).name !== 'onnxruntime-web') dir = path.dirname(dir);
  return readJson(path.join(dir, 'package.json')).version;
};

if (!process.argv.includes('--no-build')) execFileSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: root, stdio: 'inherit' });

const stage = path.join(root, '.tmp', 'npm-package');
rmSync(stage, { recursive: true, force: true });
mkdirSync(path.join(stage, 'dist'), { recursive: true });
cpSync(path.join(root, 'bin', 'sift.js'), path.join(stage, 'bin', 'sift.js'));
for (const f of ['cli.js', 'worker.js', 'indexer.js']) cpSync(path.join(root, 'dist', f), path.join(stage, 'dist', f));
cpSync(path.join(root, 'dist', 'wasm'), path.join(stage, 'dist', 'wasm'), { recursive: true });
for (const f of ['README.md', 'LICENSE', 'CHANGELOG.md']) cpSync(path.join(root, f), path.join(stage, f));

const manifest = {
  name: dev.name,
  version: dev.version,
  description: dev.description,
  license: dev.license,
  repository: dev.repository,
  keywords: dev.keywords,
  engines: { node: dev.engines.node },
  bin: { sift: 'bin/sift.js', 'sift-codebase-qa': 'bin/sift.js' },
  files: ['bin/', 'dist/', 'README.md', 'LICENSE', 'CHANGELOG.md'],
  dependencies: { 'onnxruntime-web': webVersion() },
  optionalDependencies: { 'onnxruntime-node': nodeVersion() },
};
writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
mkdirSync(path.join(root, 'packages'), { recursive: true });
const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', path.join(root, 'packages')], { cwd: stage, encoding: 'utf8' }).trim();
console.log(path.join('packages', out.split('\n').pop()));
