// Windows and macOS path semantics, run on Linux with the injectable path flavor (path.win32 /
// case-insensitive) and real files on disk.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultIndexDir, defaultModelCacheDir, cacheRoot } from '../../src/cli/paths';
import { readRange } from '../../src/cli/mcp/readRange';
import { chunkFile, HeuristicTokenCounter } from '../../src/core/chunking';
import { DiscoveryMatcher, discoverFiles } from '../../src/core/discovery';
import { isInsideRealRoot, relativePathProblem, resolveInsideRoot } from '../../src/core/util/containment';
import { darwinFlavor, isInside, posixFlavor, relativeInside, stripLongPathPrefix, win32Flavor, windowsNameProblem } from '../../src/core/util/pathFlavor';
import { type IndexOptions, indexWorkspace } from '../../src/core/indexing/indexer';
import { InferenceClient } from '../../src/core/worker/client';
import { TINY_EMBEDDER, WORKER_SCRIPT, tempDir, writeTree } from '../helpers';

const temps: (() => void)[] = [];
after(() => temps.forEach((c) => c()));
function tree(files: Record<string, string>): string {
  const t = tempDir('sift-paths-');
  temps.push(t.cleanup);
  writeTree(t.dir, files);
  return t.dir;
}

describe('containment with Windows paths (path.win32)', () => {
  const cases: [string, string, string | undefined][] = [
    ['C:\\repo', 'C:\\repo', ''],
    ['C:\\repo', 'C:\\repo\\src\\a.ts', 'src/a.ts'],
    ['C:\\repo', 'c:\\REPO\\Src\\a.ts', 'Src/a.ts'], // drive letter and folder case
    ['C:\\repo', 'C:/repo/src/a.ts', 'src/a.ts'], // forward slashes
    ['C:\\repo', 'D:\\repo\\src\\a.ts', undefined], // another drive
    ['C:\\repo', 'C:\\repo2\\a.ts', undefined], // a sibling sharing the prefix
    ['C:\\repo', 'C:\\repo\\..\\secret.txt', undefined],
    ['C:\\repo', 'C:\\repo\\..foo\\a.ts', '..foo/a.ts'], // a name starting with two dots is inside
    ['C:\\repo', '\\\\?\\C:\\repo\\src\\a.ts', 'src/a.ts'], // long-path prefix on the target
    ['\\\\?\\C:\\repo', 'C:\\repo\\a.ts', 'a.ts'], // … and on the root
    ['\\\\?\\C:\\repo', '\\\\?\\D:\\repo\\a.ts', undefined],
    ['\\\\server\\share\\repo', '\\\\server\\share\\repo\\a.ts', 'a.ts'], // UNC
    ['\\\\server\\share\\repo', '\\\\SERVER\\Share\\repo\\a.ts', 'a.ts'],
    ['\\\\server\\share\\repo', '\\\\?\\UNC\\server\\share\\repo\\a.ts', 'a.ts'],
    ['\\\\server\\share\\repo', '\\\\server\\other\\repo\\a.ts', undefined],
    ['\\\\server\\share\\repo', '\\\\other\\share\\repo\\a.ts', undefined],
    ['\\\\server\\share\\repo', 'C:\\repo\\a.ts', undefined],
  ];
  for (const [root, target, want] of cases) {
    it(`${target} under ${root} → ${want === undefined ? 'outside' : JSON.stringify(want)}`, () => {
      assert.equal(relativeInside(root, target, win32Flavor), want);
      assert.equal(isInsideRealRoot(root, target, win32Flavor), want !== undefined);
    });
  }

  it('strips \\\\?\\ and \\\\.\\ prefixes only where they name a drive or UNC path', () => {
    assert.equal(stripLongPathPrefix('\\\\?\\C:\\x', win32Flavor), 'C:\\x');
    assert.equal(stripLongPathPrefix('\\\\.\\C:\\x', win32Flavor), 'C:\\x');
    assert.equal(stripLongPathPrefix('\\\\?\\UNC\\s\\sh\\x', win32Flavor), '\\\\s\\sh\\x');
    assert.equal(stripLongPathPrefix('\\\\.\\pipe\\x', win32Flavor), '\\\\.\\pipe\\x');
    assert.equal(stripLongPathPrefix('\\\\?\\C:\\x', posixFlavor), '\\\\?\\C:\\x');
  });
});

describe('containment on case-insensitive POSIX file systems (macOS)', () => {
  it('compares case-insensitively there and exactly on Linux, keeping the target spelling', () => {
    assert.equal(relativeInside('/Users/Ann/Repo', '/users/ann/repo/Src/A.ts', darwinFlavor), 'Src/A.ts');
    assert.equal(relativeInside('/Users/Ann/Repo', '/users/ann/repo/Src/A.ts', posixFlavor), undefined);
    assert.equal(isInside('/Users/Ann/Repo', '/Users/Ann/Repo2/a', darwinFlavor), false);
    assert.equal(isInside('/r', '/r/../x', darwinFlavor), false);
  });
});

describe('names Windows reserves or cannot hold', () => {
  const reserved = ['CON', 'con', 'NUL', 'nul.txt', 'aux.txt', 'Aux.tar.gz', 'PRN', 'COM1', 'com9.log', 'LPT1', 'lpt¹', 'CONIN$', 'nul ', 'CON.'];
  for (const name of reserved) it(`refuses ${JSON.stringify(name)}`, () => assert.ok(windowsNameProblem(name)));
  for (const name of ['.env.', 'a.ts ', 'a.ts:stream', 'a<b', 'a|b', 'q?.md']) it(`refuses ${JSON.stringify(name)}`, () => assert.ok(windowsNameProblem(name)));
  for (const name of ['console.ts', 'nullable.ts', 'CONTRIBUTING.md', 'auxiliary.c', 'com10.txt', 'lpt.md', '.env', 'a.b.c']) {
    it(`accepts ${JSON.stringify(name)}`, () => assert.equal(windowsNameProblem(name), undefined));
  }

  it('relative paths from the webview or an agent: reserved names refused only with Windows rules', () => {
    for (const p of ['src/aux.txt', 'NUL', 'docs/con/readme.md', 'a.ts:secret', '.env.']) {
      assert.match(relativePathProblem(p, win32Flavor) ?? '', /Refused/, p);
      assert.equal(relativePathProblem(p, posixFlavor), undefined, p);
    }
    for (const p of ['C:/x', 'c:x', '\\\\server\\share\\x', '//server/share/x', 'src\\a.ts', '../a', '/etc/passwd']) {
      assert.match(relativePathProblem(p, posixFlavor) ?? '', /Refused/, p);
      assert.match(relativePathProblem(p, win32Flavor) ?? '', /Refused/, p);
    }
  });

  it('resolveInsideRoot never opens a reserved name with Windows rules', async () => {
    const root = tree({ 'src/aux.txt': 'x\n', 'src/ok.ts': 'y\n' });
    const r = await resolveInsideRoot(root, 'src/aux.txt', 'repo', win32Flavor);
    assert.ok('error' in r && /reserved device name/.test(r.error));
    assert.ok('path' in (await resolveInsideRoot(root, 'src/aux.txt', 'repo', posixFlavor)));
    assert.ok('path' in (await resolveInsideRoot(root, 'src/ok.ts', 'repo', win32Flavor)));
  });

  it('discovery with Windows rules skips them with a reason and never opens them', async () => {
    const root = tree({ CON: 'a\n', 'nul.txt': 'b\n', 'src/aux.c': 'int x;\n', 'com1/inner.ts': 'c\n', 'src/ok.ts': 'ok\n', 'src/console.ts': 'ok\n' });
    const files: string[] = [];
    const skips = new Map<string, string>();
    for await (const e of discoverFiles(root, { pathFlavor: win32Flavor })) {
      if (e.type === 'file') files.push(e.file.path);
      else skips.set(e.skip.path, `${e.skip.reason}: ${e.skip.detail ?? ''}`);
    }
    assert.deepEqual(files.sort(), ['src/console.ts', 'src/ok.ts']);
    for (const p of ['CON', 'nul.txt', 'src/aux.c', 'com1']) assert.match(skips.get(p) ?? '', /^not-a-file: .*reserved device name.*never opened/, p);
    const posix: string[] = [];
    for await (const e of discoverFiles(root, { pathFlavor: posixFlavor })) if (e.type === 'file') posix.push(e.file.path);
    assert.equal(posix.length, 6);
  });
});

describe('case-insensitive file systems: a watcher path in another case', () => {
  it('inspect resolves it to the on-disk spelling (one file, not two)', async () => {
    const root = tree({ 'Src/foo.ts': 'export const a = 1;\n' });
    const ci = await DiscoveryMatcher.create(root, { pathFlavor: darwinFlavor });
    const e = await ci.inspect('src/FOO.ts');
    assert.equal(e.type, 'file');
    assert.equal(e.type === 'file' && e.file.path, 'Src/foo.ts');
    const cs = await DiscoveryMatcher.create(root, { pathFlavor: posixFlavor });
    const gone = await cs.inspect('src/FOO.ts');
    assert.equal(gone.type === 'skip' && gone.skip.reason, 'unreadable');
  });
});

describe('case-insensitive file systems: a rename that only changes case', () => {
  it('the index keeps one entry, under the new spelling (watcher reports only the new name)', async () => {
    const t = tempDir('sift-case-');
    temps.push(t.cleanup);
    const root = path.join(t.dir, 'repo');
    writeTree(root, { 'src/Upload.ts': 'export function retryUpload() {\n  return 1;\n}\n', 'src/other.ts': 'export const x = 1;\n' });
    const client = new InferenceClient(WORKER_SCRIPT);
    try {
      await client.call('configure', { cacheDir: path.join(t.dir, 'models'), allowRemote: false, threads: 1 });
      const opts = { root, indexDir: path.join(t.dir, 'index'), client, embedding: { model: TINY_EMBEDDER, dtype: 'fp32' }, discovery: { pathFlavor: darwinFlavor } };
      const run = async (o: IndexOptions) => {
        const gen = indexWorkspace(o);
        let r = await gen.next();
        while (!r.done) r = await gen.next();
        return r.value;
      };
      assert.deepEqual((await run(opts)).files.indexed, ['src/Upload.ts', 'src/other.ts']);
      await fsp.rename(path.join(root, 'src/Upload.ts'), path.join(root, 'src/upload.ts'));
      const after = await run({ ...opts, changedPaths: ['src/upload.ts'] });
      assert.deepEqual(after.files.indexed, ['src/other.ts', 'src/upload.ts']);
      assert.deepEqual(after.files.removed, ['src/Upload.ts']);
      // Both spellings reported (macOS reports both): still one file.
      await fsp.rename(path.join(root, 'src/upload.ts'), path.join(root, 'src/UPLOAD.ts'));
      const again = await run({ ...opts, changedPaths: ['src/upload.ts', 'src/UPLOAD.ts'] });
      assert.deepEqual(again.files.indexed, ['src/UPLOAD.ts', 'src/other.ts']);
    } finally {
      await client.dispose();
    }
  });
});

describe('CRLF and CR line endings: chunk lines = editor lines = read_range lines', () => {
  const body = Array.from({ length: 60 }, (_, i) => (i % 7 === 3 ? '' : `  const value${i} = compute(${i}); // line ${i + 1}`));
  const src = (eol: string) => `export function big() {${eol}${body.join(eol)}${eol}}${eol}${eol}export function small() {${eol}  return 1;${eol}}${eol}`;
  for (const [name, eol] of [['CRLF', '\r\n'], ['CR', '\r'], ['LF', '\n']] as const) {
    it(`${name}: every chunk's lines are the file's lines at the same numbers`, async () => {
      const text = src(eol);
      const editorLines = text.split(/\r\n|\r|\n/); // how VS Code counts lines
      const chunks = await chunkFile({ path: 'src/a.ts', text }, { maxTokens: 64, tokenCounter: new HeuristicTokenCounter() });
      assert.ok(chunks.length > 2);
      for (const c of chunks) {
        assert.equal(c.text, editorLines.slice(c.startLine - 1, c.endLine).join('\n'), `${c.startLine}-${c.endLine}`);
      }
      const root = tree({ 'src/a.ts': text });
      const last = chunks.at(-1)!;
      const r = await readRange(root, 'src/a.ts', last.startLine, last.endLine, { discovery: {}, redact: false });
      assert.equal(r.text, last.text);
    });
  }
});

describe('cache folders where each OS keeps them', () => {
  it('Windows: %LOCALAPPDATA%\\sift, else the profile\'s AppData\\Local', () => {
    const host = { platform: 'win32' as const, homedir: 'C:\\Users\\ann', env: { LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local' } };
    assert.equal(cacheRoot(host), 'C:\\Users\\ann\\AppData\\Local\\sift');
    assert.equal(defaultModelCacheDir(host), 'C:\\Users\\ann\\AppData\\Local\\sift\\models');
    assert.equal(cacheRoot({ ...host, env: { LOCALAPPDATA: 'relative' } }), 'C:\\Users\\ann\\AppData\\Local\\sift');
    assert.equal(cacheRoot({ ...host, env: { SIFT_HOME: 'D:\\cache' } }), 'D:\\cache');
    const a = defaultIndexDir('C:\\Work\\Repo', host);
    assert.ok(a.startsWith('C:\\Users\\ann\\AppData\\Local\\sift\\indexes\\'), a);
    // One folder, one index, however its path is spelt.
    assert.equal(path.win32.basename(defaultIndexDir('c:\\work\\repo', host)).split('-').pop(), path.win32.basename(a).split('-').pop());
    assert.equal(path.win32.basename(defaultIndexDir('\\\\?\\C:\\Work\\Repo\\', host)).split('-').pop(), path.win32.basename(a).split('-').pop());
  });
  it('macOS: ~/Library/Caches/sift (XDG is not a macOS convention)', () => {
    const host = { platform: 'darwin' as const, homedir: '/Users/ann', env: { XDG_CACHE_HOME: '/tmp/x' } };
    assert.equal(cacheRoot(host), '/Users/ann/Library/Caches/sift');
    assert.equal(defaultIndexDir('/Users/ann/Repo', host).split('-').pop(), defaultIndexDir('/users/ann/repo', host).split('-').pop());
  });
  it('Linux: $XDG_CACHE_HOME/sift when absolute, else ~/.cache/sift; case matters', () => {
    const host = { platform: 'linux' as const, homedir: '/home/ann', env: { XDG_CACHE_HOME: '/var/cache/ann' } };
    assert.equal(cacheRoot(host), '/var/cache/ann/sift');
    assert.equal(cacheRoot({ ...host, env: { XDG_CACHE_HOME: 'rel' } }), '/home/ann/.cache/sift');
    assert.notEqual(defaultIndexDir('/home/ann/Repo', host), defaultIndexDir('/home/ann/repo', host));
  });
});
