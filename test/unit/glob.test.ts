import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { discover } from '../../src/core/discovery';
import { expandBraces, Glob } from '../../src/core/discovery/glob';
import { GlobSet, RULE_LIMITS, RuleList } from '../../src/core/discovery/patterns';
import { REPO_ROOT } from '../helpers';

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
function tempRoot(): string {
  const r = mkdtempSync(path.join(os.tmpdir(), 'sift-glob-'));
  roots.push(r);
  return r;
}

/**
 * Runs `code` (TypeScript, with `RuleList`/`GlobSet`/`Glob` in scope) in a child process with a
 * watchdog: a matcher that backtracks cannot be interrupted inside this process.
 */
function timed(code: string, timeoutMs = 5000): { ms: number; out: string; timedOut: boolean } {
  const script = `import { RuleList, GlobSet } from ${JSON.stringify(path.join(REPO_ROOT, 'src/core/discovery/patterns'))};
    const t0 = performance.now(); const out = (() => { ${code} })(); process.stdout.write(JSON.stringify({ ms: performance.now() - t0, out }));`;
  const file = path.join(tempRoot(), 'timed.ts');
  writeFileSync(file, script);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: REPO_ROOT, encoding: 'utf8', timeout: timeoutMs });
  if (r.error || r.status !== 0) return { ms: Date.now() - started, out: r.stderr, timedOut: true };
  const parsed = JSON.parse(r.stdout) as { ms: number; out: unknown };
  return { ms: parsed.ms, out: JSON.stringify(parsed.out), timedOut: false };
}

void describe('glob matching is linear-time (no backtracking)', () => {
  const name = 'a'.repeat(250);
  const shapes = [
    `${'*a'.repeat(30)}b`, // the reported shape
    `**/${'a*'.repeat(30)}b`,
    `${'?*'.repeat(30)}b`,
    `${'[a-z]*'.repeat(30)}1`,
    `${'[!b]*'.repeat(20)}[[:digit:]]`,
    `x/**/${'*a'.repeat(20)}/**/b`,
    `${'a*'.repeat(40)}`,
  ];
  void it('rules with many wildcards against a long name finish within milliseconds', () => {
    const code = `const name = ${JSON.stringify(name)}; const long = ${JSON.stringify(`x/${'a/'.repeat(300)}${name}`)};
      return ${JSON.stringify(shapes)}.map((s) => { const r = new RuleList([s], false); return [r.match(name, false), r.match(long, false)]; });`;
    const r = timed(code);
    assert.equal(r.timedOut, false, `matching did not finish in 5 s: ${r.out.slice(0, 300)}`);
    assert.ok(r.ms < 1000, `${r.ms} ms`);
    // Only the `a*a*…` rule matches (a name-only rule: the last segment of the long path too).
    const none = [null, null];
    assert.deepEqual(JSON.parse(r.out), [none, none, none, none, none, none, [true, true]]);
  });

  void it('settings globs (include / exclude) of the same shapes too', () => {
    const code = `const s = new GlobSet(${JSON.stringify(shapes.map((x) => `**/${x}`))}, true); return [s.matches(${JSON.stringify(name)}), s.matches(${JSON.stringify(`${'a/'.repeat(300)}${name}b`)})];`;
    const r = timed(code);
    assert.equal(r.timedOut, false, r.out.slice(0, 300));
    assert.ok(r.ms < 1000, `${r.ms} ms`);
    assert.deepEqual(JSON.parse(r.out), [true, true]);
  });

  void it('10 000 rules with alternating negations match quickly; over the caps the list is refused', () => {
    const rules = Array.from({ length: RULE_LIMITS.maxRules }, (_, i) => (i % 2 ? `!f${i}*.ts` : `f${i}*.ts`));
    const t0 = performance.now();
    const list = new RuleList(rules, false);
    for (let i = 0; i < 200; i++) list.match(`src/f${i}x.ts`, false);
    assert.ok(performance.now() - t0 < 3000);
    assert.equal(list.overLimit, undefined);
    assert.equal(list.match('f8x.ts', false), true);
    assert.equal(list.match('f9x.ts', false), false);
    const over = new RuleList([...rules, 'one-more'], false);
    assert.match(over.overLimit ?? '', /10001 rules \(limit 10000\)/);
    assert.equal(over.match('one-more', false), undefined);
    assert.match(new RuleList(['a'.repeat(RULE_LIMITS.maxRuleChars + 1)], false).overLimit ?? '', /characters/);
    // The wildcard budget: many long automaton rules are refused, not slowly matched.
    const heavy = Array.from({ length: 100 }, (_, i) => `${'*a'.repeat(200)}${i}`);
    assert.match(new RuleList(heavy, false).overLimit ?? '', /too complex/);
  });
});

void describe('glob semantics', () => {
  void it('git wildmatch: stars, globstars, classes, escapes', () => {
    const t = (p: string, s: string, ic = false) => new Glob(p, 'git', ic).test(s);
    assert.equal(t('*.ts', 'a.ts'), true);
    assert.equal(t('*.ts', 'a/b.ts'), false);
    assert.equal(t('**/b', 'b'), true);
    assert.equal(t('**/b', 'x/y/b'), true);
    assert.equal(t('a/**/b', 'a/b'), true);
    assert.equal(t('a/**/b', 'a/x/y/b'), true);
    assert.equal(t('a/**/b', 'a/xb'), false);
    assert.equal(t('a/**', 'a/x/y'), true);
    assert.equal(t('a/**', 'a'), false);
    assert.equal(t('a**b', 'axxb'), true);
    assert.equal(t('a**b', 'ax/xb'), false);
    assert.equal(t('?', '/'), false);
    assert.equal(t('[!a]', 'b'), true);
    assert.equal(t('[^a]', 'a'), false);
    assert.equal(t('[]a]', ']'), true);
    assert.equal(t('[a-c]x', 'bx'), true);
    assert.equal(t('[[:digit:]]', '7'), true);
    assert.equal(t('[[:upper:]]', 'a', true), true);
    assert.equal(t('[a', 'a'), false); // unterminated class: git never matches
    assert.equal(t('a\\', 'a'), false); // trailing backslash: never
    assert.equal(t('a\\*', 'a*'), true); // escaped star is literal (the `ignore` package got this wrong)
    assert.equal(t('a\\*', 'ab'), false);
    assert.equal(t('FOO', 'foo', true), true);
    assert.equal(t('é*', 'éa'), true);
  });

  void it('path globs: braces, ranges, `dir/**` matches dir; too many expansions are refused', () => {
    assert.deepEqual(expandBraces('a{b,c{d,e}}f'), ['abf', 'acdf', 'acef']);
    assert.deepEqual(expandBraces('x{1..3}'), ['x1', 'x2', 'x3']);
    assert.deepEqual(expandBraces('{a}'), ['{a}']);
    const s = new GlobSet(['src/**', '*.{md,txt}', '!keep'], false);
    assert.equal(s.matches('src'), true);
    assert.equal(s.matches('src/a/b.ts'), true);
    assert.equal(s.matches('docs/x.txt'), true);
    assert.throws(() => new GlobSet(['{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}'], false), /more than 256/);
    assert.throws(() => new GlobSet([`${'a'.repeat(1100)}`], false), /characters/);
    assert.throws(() => new GlobSet(Array.from({ length: 1001 }, (_, i) => `x${i}`), false), /1001 globs/);
  });

  void it('agrees with `git ls-files --others --exclude-standard` on wildcard shapes the older test leaves out', async (t) => {
    try {
      execFileSync('git', ['--version'], { stdio: 'ignore' });
    } catch {
      t.skip('git is not installed');
      return;
    }
    const NAMES = ['a', 'ab', 'abc', 'a*b', 'a?', 'b[1]', 'x.ts', '.hidden', 'A.TS', 'aXb', 'é', 'a b', '#c', '!d'];
    const DIRS = ['a', 'ab', 'd', 'deep'];
    const PATTERNS = [
      'a\\*b', 'a?', 'a??', '[ab]*', '[!a]*', '[^a]*', '[a-c]b*', '*[[:upper:]]*', 'b\\[1]', '**/a*', 'd/**/a*', 'd/**', '**/d/*', '*.t?',
      '\\#c', '\\!d', 'a\\ b', 'a b ', 'a*b*', '*a*a*', '**/ab/', 'deep/**/x.ts', '[', 'a\\', '[[:alpha:]]', '!a*', '!**/x.ts', '.*', '/ab',
      '**', '*/', '?b', '[a-]*', '[]]*',
    ];
    let state = 4242;
    const rand = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
    for (let round = 0; round < 40; round++) {
      const root = tempRoot();
      execFileSync('git', ['init', '-q', root]);
      for (const d of ['', pick(DIRS), `${pick(DIRS)}/${pick(DIRS)}`]) {
        try {
          mkdirSync(path.join(root, d), { recursive: true });
        } catch {
          continue; // a file has that name
        }
        for (let k = 0; k < 4; k++) {
          try {
            writeFileSync(path.join(root, d, pick(NAMES)), 'x\n');
          } catch {
            /* a directory has that name */
          }
        }
      }
      writeFileSync(path.join(root, '.gitignore'), `${Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(PATTERNS)).join('\n')}\n`);
      const ignoreCase = round % 4 === 3;
      const git = execFileSync('git', ['-c', `core.ignorecase=${ignoreCase}`, '-c', 'core.quotepath=off', 'ls-files', '-z', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
        .split('\0')
        .filter(Boolean)
        .sort();
      const ours = (await discover(root, { defaultExcludedDirs: ['.git'], generatedPatterns: [], minifiedPatterns: [], binaryExtensions: [], ignoreCase })).files.map((f) => f.path);
      assert.deepEqual(ours, git, `tree ${root} (ignoreCase ${ignoreCase})`);
    }
  });
});
