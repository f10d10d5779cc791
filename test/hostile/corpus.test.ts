import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { TINY_EMBEDDER, tempDir, writeTree } from '../helpers';
import { hasStackTrace, runCli, tally } from './tally';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const OUTSIDE_CANARY = 'OUTSIDE-WORKSPACE-CANARY-7f3a';
const LOCKED_CANARY = 'LOCKED-FILE-CANARY-19bd';

/** Every file under dir, recursively (for grepping the index). */
function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...allFiles(full));
    else if (e.isFile()) out.push(full);
  }
  return out;
}

interface Skip {
  path: string;
  reason: string;
  detail?: string;
}

describe('hostile corpus through the real indexer and CLI', () => {
  it('indexes what it can, reports every skip with its reason, never reads outside the workspace', async () => {
    const { dir, cleanup } = tempDir('sift-hostile-corpus-');
    try {
      const root = path.join(dir, 'repo');
      const indexDir = path.join(dir, 'idx');
      const outside = path.join(dir, 'outside');
      writeTree(outside, { 'secret.txt': `${OUTSIDE_CANARY}\n`, 'more/notes.ts': `export const x = "${OUTSIDE_CANARY}";\n` });

      const good: Record<string, string | Buffer> = {
        'src/ok.ts': 'export function fine(): number {\n  return 42;\n}\n',
        'text/latin1.py': Buffer.concat([Buffer.from('def caf'), Buffer.from([0xe9, 0xff, 0xfe, 0x80]), Buffer.from('():\n    return "na\xefve"\n', 'latin1')]),
        'text/utf8bom.ts': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('export const bom = true;\n')]),
        'text/crlf.ts': 'export const a = 1;\r\nexport const b = 2;\r\n',
        'text/lone-cr.ts': 'export const a = 1;\rexport const b = 2;\r',
        'text/ansi.log.txt': '\x1b[31mred\x1b[0m and \x1b]0;title\x07 in a log\n',
        'text/prose.md': `# Long paragraph\n\n${'word '.repeat(1800)}\n`,
        'text/empty.ts': '',
        'text/whitespace.ts': '   \n\n\t\n',
        'names/$(touch PWNED-name).ts': 'export const dollar = 1;\n',
        'names/`touch PWNED-tick`.ts': 'export const tick = 1;\n',
        'names/a\nb.ts': 'export const newline = 1;\n',
        'names/\x1b[31mred.ts': 'export const esc = 1;\n',
        'names/日本語 ファイル.ts': 'export const unicode = 1;\n',
        'names/ spaced .ts': 'export const spaced = 1;\n',
        'names/-rf.ts': 'export const dash = 1;\n',
        [`${Array.from({ length: 60 }, (_, i) => `d${i}`).join('/')}/deep.ts`]: 'export const deep = 1;\n',
      };
      const hostile: Record<string, string | Buffer> = {
        'bin/image.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
        'bin/nul-in-middle.ts': Buffer.from('export const a = 1;\n\0\0\0export const b = 2;\n'),
        'bin/controls.ts': Buffer.from(Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? 0x01 : 0x41))),
        'min/bundle.js': `var a=${'x+'.repeat(10_000)}1;\n`,
        'min/one-line.ts': `export const data = [${'1,'.repeat(10_000)}];`,
        'text/utf16le.ts': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('export const s = "utf16";\n', 'utf16le')]),
        'text/utf16be.ts': Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('export const s = "utf16";\n', 'utf16le').swap16()]),
        'text/utf32le.ts': Buffer.from([0xff, 0xfe, 0, 0, 0x41, 0, 0, 0]),
        'locked/secret-plans.ts': `export const plans = "${LOCKED_CANARY}";\n`,
      };
      writeTree(root, { ...good, ...hostile });
      // 50 MB, sparse: decided from stat, never read.
      mkdirSync(path.join(root, 'big'), { recursive: true });
      writeFileSync(path.join(root, 'big/huge.ts'), 'export const big = 1;\n');
      truncateSync(path.join(root, 'big/huge.ts'), 50 * 1024 * 1024);
      mkdirSync(path.join(root, 'links', 'sub'), { recursive: true });
      symlinkSync('loop-b', path.join(root, 'links/loop-a'));
      symlinkSync('loop-a', path.join(root, 'links/loop-b'));
      symlinkSync('..', path.join(root, 'links/sub/up'));
      symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'links/leak.txt'));
      symlinkSync('../../outside', path.join(root, 'links/leakdir'));
      symlinkSync('does-not-exist.ts', path.join(root, 'links/dangling.ts'));
      symlinkSync('../src/ok.ts', path.join(root, 'links/inside.ts'));
      mkdirSync(path.join(root, 'special'));
      execFileSync('mkfifo', [path.join(root, 'special/pipe.ts')]);
      chmodSync(path.join(root, 'locked/secret-plans.ts'), 0o000);
      const expected: Record<string, string> = {
        'bin/image.png': 'binary',
        'bin/nul-in-middle.ts': 'binary',
        'bin/controls.ts': 'binary',
        'min/bundle.js': 'minified',
        'min/one-line.ts': 'minified',
        'text/utf16le.ts': 'binary',
        'text/utf16be.ts': 'binary',
        'text/utf32le.ts': 'binary',
        'big/huge.ts': 'too-large',
        'links/loop-a': 'symlink-loop',
        'links/loop-b': 'symlink-loop',
        'links/sub/up': 'symlink-loop',
        'links/leak.txt': 'symlink-outside',
        'links/leakdir': 'symlink-outside',
        'links/dangling.ts': 'unreadable',
        'links/inside.ts': 'not-a-file',
        'special/pipe.ts': 'not-a-file',
        'locked/secret-plans.ts': 'unreadable',
      };

      // As root, chmod 000 does not stop reads: run the CLI as an unprivileged user instead.
      const asUser = isRoot ? { uid: NOBODY, gid: NOBODY } : {};
      const modelCache = path.join(dir, 'models');
      mkdirSync(modelCache);
      if (isRoot) {
        chmodSync(dir, 0o755);
        mkdirSync(indexDir);
        chownSync(indexDir, NOBODY, NOBODY);
        chownSync(modelCache, NOBODY, NOBODY);
      }
      const args = ['index', root, '--index-dir', indexDir, '--embedding-model', TINY_EMBEDDER, '--offline', '--json'];
      const env = { SIFT_MODEL_CACHE: modelCache, HOME: modelCache };
      const started = Date.now();
      const r = await runCli(args, env, asUser);
      const ms = Date.now() - started;
      assert.equal(r.code, 0, `exit ${r.code} ${r.signal ?? ''}: ${r.stderr}`);
      assert.ok(!hasStackTrace(r.stderr), r.stderr);
      const json = JSON.parse(r.stdout) as { files: { indexed: string[]; skipped: Skip[] }; chunks: number; embedded: number };
      const skipped = new Map(json.files.skipped.map((s) => [s.path, s]));

      let survived = 0;
      const wrong: string[] = [];
      for (const [p, reason] of Object.entries(expected)) {
        const s = skipped.get(p);
        if (s?.reason === reason && (s.detail ?? '').length > 0) survived++;
        else wrong.push(`${p}: expected ${reason}, got ${s ? `${s.reason} (${s.detail})` : json.files.indexed.includes(p) ? 'indexed' : 'nothing'}`);
      }
      assert.equal(skipped.get('locked/secret-plans.ts')?.detail, 'EACCES');
      const lost = Object.keys(good).filter((p) => !json.files.indexed.includes(p));
      // Every path in the tree is accounted for: indexed or skipped with a reason.
      for (const s of json.files.skipped) assert.ok(s.reason && typeof s.reason === 'string', JSON.stringify(s));
      // Nothing from outside the workspace or from the unreadable file reached the index.
      const leaked = allFiles(indexDir).filter((f) => {
        const text = readFileSync(f, 'utf8');
        return text.includes(OUTSIDE_CANARY) || text.includes(LOCKED_CANARY);
      });
      const pwned = readdirSync(dir).concat(readdirSync(root)).filter((n) => n.startsWith('PWNED'));
      tally({
        area: 'corpus',
        faultsInjected: Object.keys(expected).length,
        faultsSurvived: survived,
        payloadsTried: 2 + 1, // two shell payloads in file names, one ANSI name
        payloadsExecuted: pwned.length,
        filesLost: lost.length,
        note: `hostile corpus (${Object.keys(expected).length} hostile + ${Object.keys(good).length} good entries, incl. a 50 MB file) indexed in ${ms} ms${isRoot ? ' as uid 65534' : ''}`,
      });
      assert.deepEqual(wrong, []);
      assert.deepEqual(lost, [], 'good files that were not indexed');
      assert.deepEqual(leaked, [], 'index files holding outside or unreadable content');
      assert.deepEqual(pwned, []);
      assert.ok(statSync(path.join(root, 'big/huge.ts')).size === 50 * 1024 * 1024);

      // A second run changes nothing and embeds nothing.
      const again = await runCli(args, env, asUser);
      assert.equal(again.code, 0, again.stderr);
      const j2 = JSON.parse(again.stdout) as typeof json;
      assert.equal(j2.embedded, 0);
      assert.equal(j2.chunks, json.chunks);
      assert.deepEqual(j2.files.indexed, json.files.indexed);
    } finally {
      cleanup();
    }
  });
});
