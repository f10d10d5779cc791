/**
 * The manifest and README as the VS Code Marketplace (vsce) and Open VSX (ovsx) take them
 * (docs/release.md): the fields both registries require, an icon they accept, categories from the
 * marketplace's list, and README images that resolve once vsce rewrites relative links against
 * `repository` — files that exist, raster (SVG images are refused), small.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers';

const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown> & {
  publisher: string; name: string; version: string; license: string; icon: string; categories: string[]; keywords: string[];
  engines: { vscode?: string }; repository: { type: string; url: string }; galleryBanner?: { color: string; theme: string };
};
const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const vscodeignore = readFileSync(path.join(REPO_ROOT, '.vscodeignore'), 'utf8');

/** The marketplace's category list (vsce refuses others; Open VSX shows the same). */
const CATEGORIES = ['AI', 'Azure', 'Chat', 'Data Science', 'Debuggers', 'Education', 'Extension Packs', 'Formatters', 'Keymaps', 'Language Packs', 'Linters', 'Machine Learning', 'Notebooks', 'Other', 'Programming Languages', 'SCM Providers', 'Snippets', 'Testing', 'Themes', 'Visualization'];

/** Width and height from a PNG's IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  assert.equal(b.subarray(1, 4).toString('latin1'), 'PNG', `${file} is not a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

describe('marketplace and Open VSX manifest', () => {
  it('has the identity fields both registries require', () => {
    // vsce's own patterns for publisher and name; Open VSX uses the publisher as the namespace.
    assert.match(manifest.publisher, /^[a-z0-9][a-z0-9-]*$/i);
    assert.match(manifest.name, /^[a-z0-9][a-z0-9-]*$/);
    assert.match(manifest.version, /^\d+\.\d+\.\d+(-[\w.]+)?$/);
    assert.ok(manifest.engines.vscode, 'engines.vscode');
    for (const k of ['displayName', 'description', 'homepage', 'bugs']) assert.ok(manifest[k], `${k} is set`);
  });

  it('states a license whose text ships in the package', () => {
    assert.equal(manifest.license, 'MIT');
    assert.match(readFileSync(path.join(REPO_ROOT, 'LICENSE'), 'utf8'), /MIT License|Permission is hereby granted/);
    assert.match(vscodeignore, /^!LICENSE$/m, 'LICENSE is in the package allowlist');
  });

  it('names a public https repository (README links are rewritten against it)', () => {
    assert.equal(manifest.repository.type, 'git');
    assert.match(manifest.repository.url, /^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
  });

  it('has a 128×128 PNG icon that is packaged, and a banner', () => {
    assert.match(manifest.icon, /\.png$/);
    assert.deepEqual(pngSize(path.join(REPO_ROOT, manifest.icon)), { width: 128, height: 128 });
    assert.match(vscodeignore, new RegExp(`^!${manifest.icon.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(manifest.galleryBanner?.color ?? '', /^#[0-9a-f]{6}$/i);
    assert.ok(['dark', 'light'].includes(manifest.galleryBanner?.theme ?? ''));
  });

  it('uses marketplace categories and at most 30 keywords', () => {
    for (const c of manifest.categories) assert.ok(CATEGORIES.includes(c), `unknown category ${c}`);
    assert.ok(manifest.keywords.length > 0 && manifest.keywords.length <= 30);
  });
});

describe('README as the registries render it', () => {
  const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)[^)]*\)|<img[^>]+src="([^"]+)"/g)].map((m) => m[1] ?? m[2]!);

  it('shows the panel, the compare view and a source\'s provenance from the e2e run', () => {
    for (const shot of ['answer', 'compare', 'provenance']) assert.ok(images.includes(`media/screenshots/${shot}.png`), `README shows media/screenshots/${shot}.png`);
  });

  it('links only raster images that exist in the repository, each small', () => {
    assert.ok(images.length > 0);
    for (const src of images) {
      assert.ok(!/^[a-z]+:/i.test(src), `${src}: relative, so vsce rewrites it against the repository (or --baseImagesUrl)`);
      assert.match(src, /\.(png|jpe?g|gif)$/i, `${src}: vsce refuses SVG images in README`);
      const file = path.join(REPO_ROOT, src);
      assert.ok(existsSync(file), `${src} exists`);
      assert.ok(statSync(file).size <= 160 * 1024, `${src} is ${Math.round(statSync(file).size / 1024)} KB (budget 160 KB)`);
    }
  });

  it('has relative links that point at files in the repository', () => {
    const links = [...readme.matchAll(/(?<!!)\[[^\]]*\]\(([^)\s#]+)(#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/i.test(l));
    for (const l of links) assert.ok(existsSync(path.join(REPO_ROOT, l)), `README links ${l}, which does not exist`);
  });
});
