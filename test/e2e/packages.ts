/**
 * The VSIXs of `npm run package:all` for the e2e tests, built once and cached by content hash.
 *
 *   const universal = packagedVsix('universal');   // packages/…-universal.vsix, a private copy
 *
 * The key hashes every file that goes into a package (sources, webview, media, manifest, lockfile,
 * build scripts, README/CHANGELOG/LICENSE), so an unchanged tree reuses the packages of an earlier
 * run (`~/.cache/sift-e2e/vsix/<hash>/`, only the newest few kept) and any change rebuilds them.
 * Both targets the tests use are built in one `scripts/package-all.mjs` run (one production build).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { E2E_CACHE, REPO_ROOT } from './harness';

export type PackageTarget = 'linux-x64' | 'universal';
const TARGETS: PackageTarget[] = ['linux-x64', 'universal'];
/** Everything that decides a package's content (see .vscodeignore and scripts/package-all.mjs). */
const INPUTS = ['src', 'webview', 'media', 'package.json', 'package-lock.json', 'esbuild.mjs', 'scripts/package-all.mjs', '.vscodeignore', 'README.md', 'CHANGELOG.md', 'LICENSE', 'tsconfig.json',
  ':(exclude)media/screenshots']; // README images, not packaged
const KEEP = 3;

/** sha256 over the paths and contents of the package inputs (tracked and untracked, not ignored). */
export function packageInputsHash(): string {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...INPUTS], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  const h = createHash('sha256');
  h.update(`node ${process.version}\n`);
  for (const rel of [...new Set(listed.split('\0').filter(Boolean))].sort()) {
    const abs = path.join(REPO_ROOT, rel);
    if (!existsSync(abs)) continue; // deleted, not yet staged
    h.update(`${rel}\0`).update(readFileSync(abs)).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

let cacheDir: string | undefined;

/** The cached VSIX of `target` for the current tree; builds both targets when they are missing. */
export function packagedVsix(target: PackageTarget): string {
  cacheDir ??= ensurePackages();
  return path.join(cacheDir, `sift-codebase-qa-${target}.vsix`);
}

function ensurePackages(): string {
  const root = path.join(E2E_CACHE, 'vsix');
  const dir = path.join(root, packageInputsHash());
  if (TARGETS.every((t) => existsSync(path.join(dir, `sift-codebase-qa-${t}.vsix`)))) return dir;
  const started = Date.now();
  // stdin closed: vsce asks "continue? [y/N]" on a terminal for some warnings.
  const r = spawnSync(process.execPath, ['scripts/package-all.mjs', ...TARGETS], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  const built = TARGETS.map((t) => path.join(REPO_ROOT, 'packages', `sift-codebase-qa-${t}.vsix`));
  if (r.status !== 0 || built.some((f) => !existsSync(f) || statSync(f).mtimeMs < started - 2000)) {
    throw new Error(`scripts/package-all.mjs ${TARGETS.join(' ')} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  // Copy first, then rename into place: a concurrent run never sees half a folder.
  mkdirSync(root, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  for (const f of built) cpSync(f, path.join(tmp, path.basename(f)));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  // Keep the newest few trees' packages.
  const old = readdirSync(root).map((n) => path.join(root, n)).filter((p) => p !== dir)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs).slice(KEEP - 1);
  for (const p of old) rmSync(p, { recursive: true, force: true });
  process.stderr.write(`e2e: built ${TARGETS.join(' + ')} packages in ${((Date.now() - started) / 1000).toFixed(0)} s → ${dir}\n`);
  return dir;
}
