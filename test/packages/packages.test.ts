// npm run test:packages — builds every VSIX (npm run package:all; ~30–60 s, rewrites dist/ as a
// production build) and inspects each: manifest target, exactly its own onnxruntime files, nothing
// outside the allowlist, size. Then it runs the CLI from the extracted linux-x64 and universal
// packages (nothing above them on disk to resolve from): native there, WebAssembly here, both answer.
// SIFT_PACKAGES_PREBUILT=1 inspects packages/ as it is.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { REPO_ROOT, TINY_EMBEDDER, TINY_RERANKER, tempDir, writeTree } from '../helpers';

const PLATFORM_TARGETS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];
const NATIVE: Record<string, string[]> = {
  linux: ['onnxruntime_binding.node', 'libonnxruntime.so.1'],
  darwin: ['onnxruntime_binding.node', 'libonnxruntime.1.dylib'],
  win32: ['onnxruntime_binding.node', 'onnxruntime.dll'],
};
const MAX_BYTES = 25 * 1024 * 1024;
const GRAMMARS = ['bash', 'c-sharp', 'cpp', 'css', 'go', 'ini', 'java', 'javascript', 'php', 'powershell', 'python', 'ruby', 'rust', 'tsx', 'typescript'];

const vsix = (target: string) => path.join(REPO_ROOT, 'packages', `sift-codebase-qa-${target}.vsix`);
const list = (file: string) => execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
const manifest = (file: string) => execFileSync('unzip', ['-p', file, 'extension.vsixmanifest'], { encoding: 'utf8' });

/** Every file a package may hold; the runtime lines depend on the target. */
function allowed(target: string): RegExp[] {
  const common = [
    /^extension\.vsixmanifest$/,
    /^\[Content_Types\]\.xml$/,
    /^extension\/(package\.json|readme\.md|changelog\.md|LICENSE\.txt)$/,
    /^extension\/dist\/(extension|cli|worker|indexer)\.js$/,
    /^extension\/dist\/wasm\/tree-sitter\.(js|wasm)$/,
    new RegExp(`^extension/dist/wasm/tree-sitter-(${GRAMMARS.join('|')})\\.wasm$`),
    /^extension\/dist\/node_modules\/onnxruntime-common\/(package\.json|dist\/[\w/.-]+\.(js|mjs|json))$/,
    /^extension\/media\/(chat\.css|sift\.svg|icon\.png|webview\.js|codicons\/codicon\.(css|ttf))$/,
  ];
  if (target === 'universal') {
    return [...common, /^extension\/dist\/node_modules\/onnxruntime-web\/(package\.json|dist\/(ort\.node\.min\.js|ort-wasm-simd-threaded\.(mjs|wasm)))$/];
  }
  const [os, arch] = target.split('-');
  return [
    ...common,
    /^extension\/dist\/node_modules\/onnxruntime-node\/(package\.json|dist\/[\w/.-]+\.(js|mjs|json))$/,
    new RegExp(`^extension/dist/node_modules/onnxruntime-node/bin/napi-v6/${os}/${arch}/(${NATIVE[os!]!.map((f) => f.replace(/\./g, '\\.')).join('|')})$`),
  ];
}

describe('packages (npm run package:all)', () => {
  before(() => {
    if (process.env.SIFT_PACKAGES_PREBUILT === '1') return;
    const started = Date.now();
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'package-all.mjs')], { cwd: REPO_ROOT, stdio: 'ignore' });
    console.log(`# package:all took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });

  for (const target of [...PLATFORM_TARGETS, 'universal']) {
    it(`${target}: target in the manifest, its own runtime only, nothing stray, ≤ 25 MB`, () => {
      const file = vsix(target);
      const size = statSync(file).size;
      console.log(`# ${path.basename(file)}: ${(size / 1024 / 1024).toFixed(1)} MB`);
      assert.ok(size <= MAX_BYTES, `${size} bytes`);
      const m = manifest(file);
      if (target === 'universal') assert.doesNotMatch(m, /TargetPlatform=/);
      else assert.match(m, new RegExp(`TargetPlatform="${target}"`));
      const files = list(file);
      const rules = allowed(target);
      const stray = files.filter((f) => !f.endsWith('/') && !rules.some((r) => r.test(f)));
      assert.deepEqual(stray, [], 'files outside the allowlist');
      const native = files.filter((f) => f.includes('/bin/napi-v6/')).map((f) => f.slice(f.indexOf('napi-v6/') + 8)).sort();
      if (target === 'universal') {
        assert.deepEqual(native, []);
        assert.ok(files.includes('extension/dist/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm'));
      } else {
        const [os, arch] = target.split('-');
        assert.deepEqual(native, NATIVE[os!]!.map((f) => `${os}/${arch}/${f}`).sort());
      }
      for (const g of GRAMMARS) assert.ok(files.includes(`extension/dist/wasm/tree-sitter-${g}.wasm`), g);
    });
  }

  for (const [target, backend] of [['linux-x64', /native onnxruntime-node/], ['universal', /WebAssembly onnxruntime-web/]] as const) {
    it(`the ${target} package's CLI indexes and answers with ${backend.source}`, () => {
      const t = tempDir('sift-pkg-');
      try {
        execFileSync('unzip', ['-q', vsix(target), '-d', t.dir]);
        const cli = path.join(t.dir, 'extension', 'dist', 'cli.js');
        const env = { ...process.env, SIFT_ONNX_BACKEND: '', SIFT_HOME: path.join(t.dir, 'home') };
        assert.match(execFileSync(process.execPath, [cli, '--version'], { encoding: 'utf8', env }), backend);
        const repo = path.join(t.dir, 'repo');
        writeTree(repo, { 'src/upload.ts': 'export function retryUpload(attempt: number) {\r\n  return attempt + 1;\r\n}\r\n', 'README.md': '# Notes\n\nNothing here.\n' });
        execFileSync(process.execPath, [cli, 'index', repo, '--embedding-model', TINY_EMBEDDER, '--offline', '--quiet'], { env });
        const out = execFileSync(process.execPath, [cli, 'ask', repo, 'retryUpload attempt', '--embedding-model', TINY_EMBEDDER, '--reranker-model', TINY_RERANKER, '--offline', '--json'], { encoding: 'utf8', env });
        const json = JSON.parse(out) as { reranked: boolean; sources: { path: string; startLine: number; endLine: number }[] };
        assert.equal(json.reranked, true);
        assert.deepEqual(json.sources.map((s) => [s.path, s.startLine, s.endLine])[0], ['src/upload.ts', 1, 3]);
      } finally {
        t.cleanup();
      }
    });
  }

  it('the CLI npm package: runtime files only, installs into an empty prefix, indexes and answers', () => {
    const t = tempDir('sift-npm-');
    try {
      const packed = execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'pack-cli.mjs'), '--no-build'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
      const tgz = path.join(REPO_ROOT, packed);
      const files = execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' }).split('\n').filter(Boolean);
      const stray = files.filter((f) => !/^package\/(package\.json|README\.md|LICENSE|CHANGELOG\.md|bin\/sift\.js|dist\/(cli|worker|indexer)\.js|dist\/wasm\/tree-sitter[\w-]*\.(js|wasm))$/.test(f));
      assert.deepEqual(stray, [], 'no tests, fixtures, models, sources or maps in the tarball');
      const prefix = path.join(t.dir, 'prefix');
      const started = Date.now();
      execFileSync('npm', ['install', '-g', '--prefix', prefix, tgz, '--prefer-offline', '--no-audit', '--no-fund'], {
        cwd: t.dir,
        env: { ...process.env, npm_config_onnxruntime_node_install_cuda: 'skip' },
        stdio: 'ignore',
      });
      console.log(`# npm install -g of ${path.basename(tgz)}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
      const sift = path.join(prefix, 'bin', 'sift');
      const env = { ...process.env, SIFT_HOME: path.join(t.dir, 'home'), SIFT_ONNX_BACKEND: '' };
      assert.match(execFileSync(sift, ['--version'], { encoding: 'utf8', env }), /onnxruntime: native onnxruntime-node/);
      const repo = path.join(t.dir, 'repo');
      writeTree(repo, { 'src/upload.ts': 'export function retryUpload(attempt: number) {\n  return attempt + 1;\n}\n', 'README.md': '# Notes\n\nNothing here.\n' });
      execFileSync(sift, ['index', repo, '--embedding-model', TINY_EMBEDDER, '--offline', '--quiet'], { env });
      const out = execFileSync(path.join(prefix, 'bin', 'sift-codebase-qa'), ['ask', repo, 'retryUpload attempt', '--embedding-model', TINY_EMBEDDER, '--reranker-model', TINY_RERANKER, '--offline', '--json'], { encoding: 'utf8', env });
      const json = JSON.parse(out) as { reranked: boolean; sources: { path: string }[] };
      assert.equal(json.reranked, true);
      assert.equal(json.sources[0]?.path, 'src/upload.ts');
    } finally {
      t.cleanup();
    }
  });
});
