import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI_SCRIPT, REPO_ROOT, TINY_EMBEDDER } from '../helpers';
import { tally } from './tally';

/**
 * Pathological inputs (issue 14 item 5): rules, names, lines, depths, special files and questions
 * built to make Sift slow or hang. Each runs the built CLI in a child process under a watchdog
 * that kills it; an input "exceeds" when it takes longer than its bound or has to be killed.
 */
const BOUND_MS = 5000;
const WATCHDOG_MS = 15_000;

const bases: string[] = [];
after(() => {
  // `rm -rf`, not fs.rmSync: a 2 100-level tree has paths longer than PATH_MAX.
  for (const b of bases) spawnSync('rm', ['-rf', b]);
});

function base(): string {
  const b = mkdtempSync(path.join(os.tmpdir(), 'sift-hostile-patho-'));
  bases.push(b);
  return b;
}

interface Run {
  ms: number;
  killed: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with a watchdog that kills it (by its pid) after WATCHDOG_MS. */
function runWatched(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    // SIFT_HOSTILE_CLI: another build to measure (e.g. the one before the fix).
    const child = spawn(process.execPath, [process.env.SIFT_HOSTILE_CLI ?? CLI_SCRIPT, ...args], { env: { ...process.env, OPENAI_BASE_URL: undefined, OPENAI_API_KEY: undefined } });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const dog = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, WATCHDOG_MS);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(dog);
      resolve({ ms: Date.now() - started, killed, code, stdout, stderr });
    });
  });
}

interface IndexJson {
  files: { indexed: string[]; skipped: { path: string; reason: string; detail?: string }[] };
}

const normalLines = `${Array.from({ length: 2000 }, (_, i) => `const value${i} = compute(${i}); // line ${i}`).join('\n')}\n`; // ~78 KB

type Setup = (repo: string) => void;
interface Case {
  name: string;
  setup: Setup;
  args?: string[];
  /** Checks on the summary (what is indexed / skipped). */
  expect?: (json: IndexJson) => void;
}

const longName = 'a'.repeat(250);
const DEEP_TREE = `import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for _ in range(int(sys.argv[2])):
    os.mkdir('d', dir_fd=fd)
    nfd = os.open('d', os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = nfd
os.close(os.open('x.ts', os.O_WRONLY | os.O_CREAT, dir_fd=fd))`;
const mkfifo = (p: string) => execFileSync('mkfifo', [p]);
/** An ignore file with one rule, and a file with a 250-character name for it to be tried on. */
const withLongName = (r: string, ignoreFile: string, rules: string) => {
  writeFileSync(path.join(r, ignoreFile), rules);
  writeFileSync(path.join(r, longName), 'x\n');
};
const sh = (repo: string, script: string) => execFileSync('bash', ['-c', script, 'x', repo]);
const indexed = (j: IndexJson) => new Set(j.files.indexed);
const skipOf = (j: IndexJson, p: string) => j.files.skipped.find((s) => s.path === p);

const CASES: Case[] = [
  // ---- wildcard rules against long names, in every rule source
  {
    name: '.gitignore *a*a*…b vs a 250-char name',
    setup: (r) => withLongName(r, '.gitignore', `${'*a'.repeat(30)}b\n`),
    expect: (j) => assert.ok(indexed(j).has(longName)),
  },
  {
    name: '.siftignore **/a*a*…b in long folders',
    setup: (r) => {
      mkdirSync(path.join(r, longName, longName), { recursive: true });
      writeFileSync(path.join(r, '.siftignore'), `**/${'a*'.repeat(30)}b\n`);
      writeFileSync(path.join(r, longName, longName, `${longName.slice(0, 200)}.ts`), 'x\n');
    },
  },
  { name: '.gitignore [a-z]* runs', setup: (r) => withLongName(r, '.gitignore', `${'[a-z]*'.repeat(30)}1\n`) },
  { name: '.gitignore ?* runs', setup: (r) => withLongName(r, '.gitignore', `${'?*'.repeat(40)}b\n`) },
  { name: '.siftignore [!x]*[[:alpha:]] runs', setup: (r) => withLongName(r, '.siftignore', `${'[!x]*[[:alpha:]]*'.repeat(20)}0\n`) },
  {
    name: 'info/exclude a*a*… (negated) in a nested folder',
    setup: (r) => {
      mkdirSync(path.join(r, '.git', 'info'), { recursive: true });
      writeFileSync(path.join(r, '.git', 'info', 'exclude'), `sub/**/${'*a'.repeat(30)}b\n!${'a*'.repeat(30)}c\n`);
      mkdirSync(path.join(r, 'sub', longName), { recursive: true });
      writeFileSync(path.join(r, 'sub', longName, longName), 'x\n');
    },
  },
  {
    name: '--exclude glob **/a*a*…b (settings globs)',
    setup: (r) => writeFileSync(path.join(r, longName), 'x\n'),
    args: ['--exclude', `**/${'a*'.repeat(30)}b`, `{x,y}${'*a'.repeat(20)}[b-c]`],
  },
  // ---- many rules, big ignore files
  {
    name: '100k-line .gitignore with alternating negations (refused: folder not indexed)',
    setup: (r) => {
      writeFileSync(path.join(r, '.gitignore'), Array.from({ length: 100_000 }, (_, i) => (i % 2 ? `!f${i}*.ts` : `f${i}*.ts`)).join('\n'));
      for (let i = 0; i < 20; i++) writeFileSync(path.join(r, `f${i}.ts`), 'x\n');
    },
    expect: (j) => {
      // Fail safe: nothing the rules govern is indexed, and every skip says why.
      assert.equal(j.files.indexed.length, 0);
      assert.match(skipOf(j, 'f0.ts')?.detail ?? '', /^\.gitignore: (larger than \d+ bytes|\d+ rules \(limit \d+\)); nothing it governs is indexed/);
    },
  },
  {
    name: '10k rules with alternating negations (at the cap: honoured)',
    setup: (r) => {
      writeFileSync(path.join(r, '.gitignore'), Array.from({ length: 10_000 }, (_, i) => (i % 2 ? `!f${i}*.ts` : `f${i}*.ts`)).join('\n'));
      for (let i = 0; i < 200; i++) writeFileSync(path.join(r, `f${i}.ts`), 'x\n');
    },
    expect: (j) => {
      assert.ok(indexed(j).has('f1.ts'));
      assert.ok(!indexed(j).has('f2.ts'));
    },
  },
  {
    name: 'sub/.gitignore of 2 MB (refused: that folder not indexed, the rest is)',
    setup: (r) => {
      mkdirSync(path.join(r, 'sub'));
      writeFileSync(path.join(r, 'sub', '.gitignore'), `${'# comment\n'.repeat(200_000)}`);
      writeFileSync(path.join(r, 'sub', 'a.ts'), 'x\n');
      writeFileSync(path.join(r, 'b.ts'), 'x\n');
    },
    expect: (j) => {
      assert.ok(indexed(j).has('b.ts'));
      assert.ok(!indexed(j).has('sub/a.ts'));
    },
  },
  // ---- depth and path length
  {
    name: 'a folder chain 2 100 levels deep',
    // Made through directory descriptors (paths this long are refused by the kernel; `cd` in a shell loop takes minutes).
    setup: (r) => {
      writeFileSync(path.join(r, 'top.ts'), 'x\n');
      execFileSync('/usr/bin/python3', ['-c', DEEP_TREE, r, '2100']);
    },
    expect: (j) => {
      assert.ok(indexed(j).has('top.ts'));
      assert.ok(j.files.skipped.some((s) => s.reason === 'too-large' && /levels deep/.test(s.detail ?? '')));
    },
  },
  {
    name: '20 nested folders with 250-character names',
    setup: (r) => sh(r, `cd "$1" && for i in $(seq 20); do mkdir ${longName} && cd ${longName} || exit 1; echo x > f.ts; done`),
  },
  // ---- long lines, every chunker (tree-sitter languages, plain text, prose)
  ...(
    [
      ['b.ts', `${normalLines}${'x'.repeat(100_000)}\n`],
      ['b.py', `${normalLines}${'A'.repeat(100_000)}\n`],
      ['b.js', `${normalLines}var ${Array.from({ length: 10_000 }, (_, i) => `q${i}=f(${i})`).join(',')};\n`],
      ['b.go', `${normalLines.replace(/const /g, 'var ')}var s = "${'Ab'.repeat(60_000)}"\n`],
      ['b.md', `${normalLines}${'Word'.repeat(30_000)}\n`],
      ['b.txt', `${normalLines}${'é'.repeat(100_000)}\n`],
      ['b.json', `{"a": "${'z9'.repeat(200_000)}"}\n`],
      ['b.rs', `${'fn f() {}\n'.repeat(7000)}${'Q'.repeat(300_000)}\n`],
    ] as const
  ).map(
    ([file, text]): Case => ({
      name: `64 KiB of normal lines then a long line (${file})`,
      setup: (r) => writeFileSync(path.join(r, file), text),
    }),
  ),
  // ---- special files where Sift reads
  {
    name: 'FIFO named .gitignore',
    setup: (r) => {
      mkfifo(path.join(r, '.gitignore'));
      writeFileSync(path.join(r, 'a.ts'), 'x\n');
    },
    expect: (j) => assert.ok(indexed(j).has('a.ts')),
  },
  {
    name: 'FIFO named .siftignore in a sub-folder',
    setup: (r) => {
      mkdirSync(path.join(r, 's'));
      mkfifo(path.join(r, 's', '.siftignore'));
      writeFileSync(path.join(r, 's', 'a.ts'), 'x\n');
    },
    expect: (j) => assert.ok(indexed(j).has('s/a.ts')),
  },
  {
    name: 'FIFO at .git/info/exclude',
    setup: (r) => {
      mkdirSync(path.join(r, '.git', 'info'), { recursive: true });
      mkfifo(path.join(r, '.git', 'info', 'exclude'));
      writeFileSync(path.join(r, 'a.ts'), 'x\n');
    },
  },
  {
    name: '.git file whose gitdir has a FIFO commondir',
    setup: (r) => {
      mkdirSync(path.join(r, 'gd'));
      mkfifo(path.join(r, 'gd', 'commondir'));
      writeFileSync(path.join(r, '.git'), `gitdir: ${path.join(r, 'gd')}\n`);
      writeFileSync(path.join(r, 'a.ts'), 'x\n');
    },
  },
  {
    name: '.git as a FIFO',
    setup: (r) => {
      mkfifo(path.join(r, '.git'));
      writeFileSync(path.join(r, 'a.ts'), 'x\n');
    },
    expect: (j) => assert.ok(indexed(j).has('a.ts')),
  },
  {
    name: 'symlinks to /dev/zero and /dev/random (.gitignore, .siftignore, a.ts, info/exclude)',
    setup: (r) => {
      symlinkSync('/dev/zero', path.join(r, '.gitignore'));
      symlinkSync('/dev/random', path.join(r, '.siftignore'));
      symlinkSync('/dev/zero', path.join(r, 'a.ts'));
      mkdirSync(path.join(r, '.git', 'info'), { recursive: true });
      symlinkSync('/dev/zero', path.join(r, '.git', 'info', 'exclude'));
      writeFileSync(path.join(r, 'b.ts'), 'x\n');
    },
    expect: (j) => assert.ok(indexed(j).has('b.ts')),
  },
  {
    name: '.git/info as a symlink to /dev (exclude = /dev/… )',
    setup: (r) => {
      mkdirSync(path.join(r, '.git'));
      symlinkSync('/dev', path.join(r, '.git', 'info'));
      writeFileSync(path.join(r, 'b.ts'), 'x\n');
    },
  },
  {
    name: 'a Unix socket and symlink loops',
    setup: (r) => {
      spawnSync('/usr/bin/python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path.join(r, 'sock.ts')]);
      symlinkSync('loop-b', path.join(r, 'loop-a'));
      symlinkSync('loop-a', path.join(r, 'loop-b'));
      symlinkSync('.', path.join(r, 'self'));
      writeFileSync(path.join(r, 'b.ts'), 'x\n');
    },
    expect: (j) => assert.ok(indexed(j).has('b.ts')),
  },
  {
    name: 'huge sparse files (a 64 GiB source, a 1 GiB .gitignore)',
    setup: (r) => {
      execFileSync('truncate', ['-s', '64G', path.join(r, 'huge.ts')]);
      execFileSync('truncate', ['-s', '1G', path.join(r, '.gitignore')]);
      writeFileSync(path.join(r, 'b.ts'), 'x\n');
    },
    expect: (j) => {
      assert.equal(skipOf(j, 'huge.ts')?.reason, 'too-large');
      assert.ok(!indexed(j).has('b.ts'), 'a 1 GiB .gitignore is refused: its folder is not indexed');
    },
  },
];

describe('pathological inputs: every file, rule and name is bounded (sift index)', () => {
  let tried = 0;
  let exceeded = 0;
  const slow: string[] = [];
  after(() => tally({ area: 'pathological inputs', slowTried: tried, slowExceeded: exceeded, note: slow.length ? `over ${BOUND_MS} ms: ${slow.join('; ')}` : undefined }));

  for (const c of CASES) {
    it(c.name, { timeout: WATCHDOG_MS * 3 }, async () => {
      const b = base();
      const repo = path.join(b, 'repo');
      mkdirSync(repo);
      c.setup(repo);
      const lexical = !c.name.includes('long line');
      const args = ['index', repo, '--index-dir', path.join(b, 'idx'), '--offline', '--json', ...(lexical ? ['--lexical-only'] : ['--embedding-model', TINY_EMBEDDER]), ...(c.args ?? [])];
      const r = await runWatched(args);
      tried++;
      if (r.killed || r.ms > BOUND_MS) {
        exceeded++;
        slow.push(`${c.name}: ${r.killed ? 'killed by the watchdog' : `${r.ms} ms`}`);
      }
      assert.equal(r.killed, false, `${c.name}: still running after ${WATCHDOG_MS} ms`);
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      assert.ok(r.ms <= BOUND_MS, `${c.name}: ${r.ms} ms (bound ${BOUND_MS})`);
      c.expect?.(JSON.parse(r.stdout) as IndexJson);
    });
  }
});

describe('pathological questions: lexical work on the calling thread is bounded', () => {
  it('20 000-character words, uppercase runs, 1 MB questions, pasted-issue shapes: understood, tokenised and searched in well under a second each', { timeout: WATCHDOG_MS * 2 }, () => {
    const questions = [
      'x'.repeat(20_000),
      'A'.repeat(20_000),
      `how does ${'retryFailedUpload'.repeat(2000)} work`,
      'word '.repeat(200_000),
      Array.from({ length: 50_000 }, (_, i) => `t${i}x`).join(' '),
      `${'aB1-'.repeat(10_000)}`,
      // Pasted-issue shapes (searchText, question understanding): comments, checklists, links, template lines, frames.
      `title\n${'<!-- '.repeat(50_000)}`,
      `title\n${'- [x] a\n'.repeat(50_000)}`,
      `title\n${'https://a.b/c'.repeat(20_000)} ${'![a](b) '.repeat(20_000)}`,
      `title\n${'Expected behavior\n'.repeat(50_000)}`,
      `title\n${'at a.b(c) in d.cs:line 1 #1 e.php(2) f.rb:3:in `g\' '.repeat(20_000)}`,
    ];
    // In a child under a watchdog: a quadratic tokenizer blocks this process's timers.
    const script = `
      const { codeTokens } = require(${JSON.stringify(path.join(REPO_ROOT, 'src/core/lexical/tokenize'))});
      const { buildBm25, Bm25Index } = require(${JSON.stringify(path.join(REPO_ROOT, 'src/core/lexical/bm25'))});
      const { lexicalDoc, searchLexical } = require(${JSON.stringify(path.join(REPO_ROOT, 'src/core/lexical/lexical'))});
      const { searchText, understandQuestion } = require(${JSON.stringify(path.join(REPO_ROOT, 'src/core/query/understand'))});
      (async () => {
        const chunks = Array.from({ length: 200 }, (_, i) => ({ id: 'c' + i, path: 'src/f' + i + '.ts', header: '', symbols: ['retryFailedUpload' + i], text: 'function retry' + i + '() { return word t' + i + 'x; }', startLine: 1, endLine: 1, language: 'typescript' }));
        const index = new Bm25Index(await buildBm25(chunks.map(lexicalDoc)));
        const qs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
        const out = [];
        for (const q of qs) { const t0 = performance.now(); understandQuestion(q); codeTokens(q); searchLexical(index, searchText(q), 50); out.push(performance.now() - t0); }
        process.stdout.write(JSON.stringify(out));
      })();`;
    const file = path.join(base(), 'q.ts');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: REPO_ROOT, input: JSON.stringify(questions), encoding: 'utf8', timeout: WATCHDOG_MS, maxBuffer: 1e7 });
    const killed = r.error !== undefined || r.status !== 0;
    const times = killed ? questions.map(() => Number.POSITIVE_INFINITY) : (JSON.parse(r.stdout) as number[]);
    const over = times.filter((ms) => ms > 1000).length;
    tally({ area: 'pathological inputs', slowTried: questions.length, slowExceeded: over, note: over ? `questions over 1 s: ${times.map((t) => Math.round(t)).join(', ')} ms` : undefined });
    assert.equal(killed, false, r.stderr?.slice(-1000));
    assert.equal(over, 0, `per-question ms: ${times.map((t) => Math.round(t)).join(', ')}`);
  });
});
