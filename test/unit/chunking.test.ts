import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  chunkFile,
  detectLanguage,
  grammarFor,
  HeuristicTokenCounter,
  normalizeLanguage,
  resolveWasmDir,
  type ChunkOptions,
} from '../../src/core/chunking';
import type { Chunk, TokenCounter } from '../../src/core/types';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'chunking');
const heuristic = new HeuristicTokenCounter();

function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

type Brief = [start: number, end: number, kind: string, symbols: string];

function brief(chunks: Chunk[]): Brief[] {
  return chunks.map((c) => [c.startLine, c.endLine, c.kind, c.symbols.join('.')]);
}

function find(chunks: Chunk[], symbols: string): Chunk {
  const c = chunks.find((x) => x.symbols.join('.') === symbols);
  assert.ok(c, `no chunk with symbols ${symbols}: ${JSON.stringify(brief(chunks))}`);
  return c;
}

function sha16(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 16);
}

/**
 * What every chunk list must satisfy: line order, exact text, size, hash, coverage of every
 * non-blank line, and no overlap except between windows of the same run (or slices of one line).
 */
function checkInvariants(chunks: Chunk[], text: string, opts: { maxTokens: number; counter?: TokenCounter; overlapLines?: number; path?: string }): void {
  const counter = opts.counter ?? heuristic;
  const lines = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n');
  const covered = new Array<boolean>(lines.length).fill(false);
  const overlap = opts.overlapLines ?? 3;
  let prev: Chunk | undefined;
  for (const c of chunks) {
    assert.ok(c.startLine >= 1 && c.endLine >= c.startLine && c.endLine <= lines.length, `bad range ${c.startLine}-${c.endLine}`);
    const exact = lines.slice(c.startLine - 1, c.endLine).join('\n');
    if (c.text !== exact) {
      // only a slice of one over-long line may differ from its lines
      assert.equal(c.startLine, c.endLine, `text of ${c.startLine}-${c.endLine} is not its lines`);
      assert.ok(exact.includes(c.text), `slice of line ${c.startLine} is not in it`);
    }
    assert.ok(c.text.trim() !== '', `blank chunk at ${c.startLine}`);
    const size = counter.count(`${c.header}\n${c.text}`);
    assert.ok(size <= opts.maxTokens, `chunk ${c.startLine}-${c.endLine} (${c.symbols.join('.')}) has ${size} > ${opts.maxTokens} tokens`);
    assert.equal(c.hash, sha16(`${c.header}\n${c.text}`));
    assert.match(c.id, /^[0-9a-f]{16}$/);
    if (opts.path) assert.equal(c.path, opts.path);
    if (prev) {
      assert.ok(c.startLine >= prev.startLine, 'chunks out of order');
      if (c.startLine <= prev.endLine) {
        const sameRun = c.kind === prev.kind && c.symbols.join('.') === prev.symbols.join('.');
        assert.ok(sameRun && prev.endLine - c.startLine + 1 <= Math.max(overlap, 1), `chunks ${prev.startLine}-${prev.endLine} and ${c.startLine}-${c.endLine} overlap`);
      }
    }
    for (let r = c.startLine - 1; r < c.endLine; r++) covered[r] = true;
    prev = c;
  }
  lines.forEach((l, r) => assert.ok(l.trim() === '' || covered[r], `line ${r + 1} is in no chunk: ${JSON.stringify(l)}`));
  assert.equal(new Set(chunks.map((c) => c.id)).size, chunks.length, 'ids are not unique');
}

async function chunkFixture(name: string, maxTokens: number, extra: Partial<ChunkOptions> = {}): Promise<Chunk[]> {
  const text = fixture(name);
  const chunks = await chunkFile({ path: `src/${name}`, text }, { maxTokens, tokenCounter: heuristic, ...extra });
  checkInvariants(chunks, text, { maxTokens, counter: extra.tokenCounter, overlapLines: extra.overlapLines, path: `src/${name}` });
  return chunks;
}

describe('detectLanguage', () => {
  it('maps extensions, names and shebangs', () => {
    const cases: Array<[string, string]> = [
      ['src/a.ts', 'typescript'],
      ['src/a.d.ts', 'typescript'],
      ['src/A.tsx', 'tsx'],
      ['x.mjs', 'javascript'],
      ['x.jsx', 'javascript'],
      ['pkg/a.py', 'python'],
      ['main.go', 'go'],
      ['lib.rs', 'rust'],
      ['A.java', 'java'],
      ['ring.c', 'c'],
      ['ring.h', 'c'],
      ['m.cpp', 'cpp'],
      ['m.hpp', 'cpp'],
      ['Q.cs', 'csharp'],
      ['a.rb', 'ruby'],
      ['a.php', 'php'],
      ['run.sh', 'bash'],
      ['README.md', 'markdown'],
      ['package.json', 'json'],
      ['tsconfig.json', 'jsonc'],
      ['ci.yml', 'yaml'],
      ['Cargo.toml', 'toml'],
      ['site.css', 'css'],
      ['index.html', 'html'],
      ['q.sql', 'sql'],
      ['Dockerfile', 'dockerfile'],
      ['sub/Makefile', 'makefile'],
      ['C:\\repo\\Program.CS', 'csharp'],
      ['notes.txt', 'plaintext'],
      ['LICENSE', 'plaintext'],
      ['weird.xyz', 'plaintext'],
    ];
    for (const [p, lang] of cases) assert.equal(detectLanguage(p), lang, p);
    assert.equal(detectLanguage('bin/tool', '#!/usr/bin/env python3\nprint(1)\n'), 'python');
    assert.equal(detectLanguage('bin/tool', '\uFEFF#!/bin/bash\necho\n'), 'bash');
    assert.equal(detectLanguage('bin/tool', 'no shebang'), 'plaintext');
  });

  it('knows which languages have a grammar, and aliases', () => {
    assert.equal(grammarFor('typescript'), 'tree-sitter-typescript.wasm');
    assert.equal(grammarFor('c'), 'tree-sitter-cpp.wasm');
    assert.equal(grammarFor('csharp'), 'tree-sitter-c-sharp.wasm');
    assert.equal(grammarFor('markdown'), undefined);
    assert.equal(normalizeLanguage('typescriptreact'), 'tsx');
    assert.equal(normalizeLanguage('C#'), 'csharp');
  });
});

describe('HeuristicTokenCounter', () => {
  it('counts word pieces, punctuation and the two special tokens', () => {
    assert.equal(heuristic.count(''), 2);
    assert.equal(heuristic.count('a'), 3);
    assert.equal(heuristic.count('the cat'), 4); // "the", "cat"
    assert.equal(heuristic.count('a.b()'), 7); // a . b ( ) + 2
    assert.equal(heuristic.count('retryFailed'), 6); // retry(2) + Failed(2) + 2
    assert.equal(heuristic.count('snake_case'), 7); // snake(2) _ case(2) + 2
    assert.equal(heuristic.count('日本語'), 5); // one per CJK character
  });

  it('over-counts typical code', () => {
    // ~ what a BERT WordPiece tokenizer makes of it: well under the heuristic
    const code = 'export function createQueue(send: Sender): UploadQueue {\n  return new UploadQueue(send);\n}';
    const wordPieceish = code.split(/([^\s\w])|\s+/).filter(Boolean).length + 2;
    assert.ok(heuristic.count(code) >= wordPieceish, `${heuristic.count(code)} < ${wordPieceish}`);
  });
});

describe('chunkFile: TypeScript', () => {
  it('splits a large class into its members, keeping the class in symbols and header', async () => {
    const chunks = await chunkFixture('upload-queue.ts', 400);
    assert.deepEqual(brief(chunks), [
      [1, 5, 'module', ''],
      [7, 14, 'interface', 'UploadJob'],
      [16, 16, 'type', 'JobState'],
      [18, 22, 'enum', 'Priority'],
      [24, 31, 'class', 'UploadQueue'], // doc comment, class line, fields
      [33, 35, 'method', 'UploadQueue.constructor'],
      [37, 44, 'method', 'UploadQueue.enqueue'],
      [46, 63, 'method', 'UploadQueue.retryFailed'], // JSDoc included; the class's closing brace joins the last member
      [65, 67, 'function', 'createQueue'],
      [69, 69, 'function', 'describeJob'], // const arrow function
    ]);
    const retry = find(chunks, 'UploadQueue.retryFailed');
    assert.deepEqual(retry.symbols, ['UploadQueue', 'retryFailed']);
    assert.equal(retry.header, 'export class UploadQueue extends EventEmitter');
    assert.ok(retry.text.startsWith('  /**\n   * Puts every failed job back'));
    assert.equal(retry.language, 'typescript');
    assert.equal(retry.path, 'src/upload-queue.ts');
    const skeleton = find(chunks, 'UploadQueue');
    assert.match(skeleton.text, /private running = false;$/);
    assert.equal(find(chunks, 'createQueue').header, '');
  });

  it('keeps a class that fits as one chunk', async () => {
    const chunks = await chunkFixture('upload-queue.ts', 1200);
    assert.deepEqual(
      brief(chunks).filter((b) => b[3].startsWith('UploadQueue')),
      [[24, 63, 'class', 'UploadQueue']],
    );
  });

  it('splits a method that does not fit into parts with the same symbols', async () => {
    const chunks = await chunkFixture('upload-queue.ts', 160);
    const parts = chunks.filter((c) => c.symbols.join('.') === 'UploadQueue.retryFailed');
    assert.ok(parts.length >= 2, JSON.stringify(brief(chunks)));
    parts.forEach((p, i) => {
      assert.equal(p.kind, 'method');
      assert.equal(p.header, `export class UploadQueue extends EventEmitter > retryFailed(now: number = Date.now()): string[] (part ${i + 1}/${parts.length})`);
    });
    assert.equal(parts[0]!.startLine, 46);
    assert.equal(parts[parts.length - 1]!.endLine, 63);
    for (let i = 1; i < parts.length; i++) assert.equal(parts[i]!.startLine, parts[i - 1]!.endLine + 1);
  });
});

describe('chunkFile: other languages', () => {
  it('TSX: components, arrow components, module code', async () => {
    assert.deepEqual(brief(await chunkFixture('TodoList.tsx', 256)), [
      [1, 2, 'module', ''],
      [4, 7, 'interface', 'TodoListProps'],
      [9, 21, 'function', 'TodoList'],
      [23, 30, 'function', 'NewTodo'],
      [32, 32, 'module', ''],
    ]);
  });

  it('JavaScript: class methods (comment above kept), functions, module code between them', async () => {
    const chunks = await chunkFixture('server.js', 128);
    assert.deepEqual(brief(chunks), [
      [1, 6, 'module', ''],
      [8, 11, 'method', 'Router.constructor'], // the bare `class Router {` line joins the first member
      [13, 16, 'method', 'Router.add'],
      [18, 23, 'method', 'Router.match'],
      [25, 28, 'function', 'sendJson'],
      [30, 32, 'module', ''],
      [34, 42, 'function', 'start'],
      [44, 44, 'module', ''],
    ]);
    assert.ok(find(chunks, 'Router.match').text.startsWith('  // Finds the handler'));
    assert.equal(find(chunks, 'Router.match').header, 'class Router');
  });

  it('Python: decorated function keeps its comment, decorator and docstring; class methods', async () => {
    const whole = await chunkFixture('tasks.py', 400);
    assert.deepEqual(brief(whole), [
      [1, 9, 'module', ''],
      [12, 33, 'function', 'with_retries'],
      [36, 55, 'class', 'TaskRegistry'],
      [58, 61, 'module', ''],
    ]);
    const fn = find(whole, 'with_retries');
    assert.ok(fn.text.startsWith('# Wraps a task so that failures are retried with exponential backoff.\n@functools.lru_cache(maxsize=None)\ndef with_retries('));
    assert.match(fn.text, /"""Return a decorator that retries the wrapped function\./);

    const split = await chunkFixture('tasks.py', 160);
    assert.deepEqual(
      brief(split).filter((b) => b[3].startsWith('TaskRegistry')),
      [
        [36, 37, 'class', 'TaskRegistry'], // class line + docstring
        [39, 40, 'method', 'TaskRegistry.__init__'],
        [42, 45, 'method', 'TaskRegistry.register'],
        [47, 49, 'method', 'TaskRegistry.names'], // @property included
        [51, 55, 'method', 'TaskRegistry.run'],
      ],
    );
    assert.equal(find(split, 'TaskRegistry.names').header, 'class TaskRegistry');
    // nested functions of a function too large for one chunk: header = enclosing signatures
    const wrapper = split.filter((c) => c.symbols.join('.') === 'with_retries.decorate.wrapper');
    assert.ok(wrapper.length >= 1);
    assert.ok(wrapper[0]!.header.startsWith('def with_retries(retries=DEFAULT_RETRIES, base_delay=0.5) > def decorate(fn) > def wrapper('));
  });

  it('Python: a column-0 comment swallowed by the previous block goes to the next definition', async () => {
    const text = 'class A:\n    def m(self):\n        return 1\n\n# about g\ndef g():\n    return 2\n';
    const chunks = await chunkFile({ path: 'a.py', text }, { maxTokens: 256, tokenCounter: heuristic });
    checkInvariants(chunks, text, { maxTokens: 256 });
    assert.deepEqual(brief(chunks), [
      [1, 3, 'class', 'A'],
      [5, 7, 'function', 'g'],
    ]);
  });

  it('Go: methods carry the receiver type', async () => {
    const chunks = await chunkFixture('queue.go', 256);
    assert.deepEqual(brief(chunks), [
      [1, 10, 'module', ''],
      [12, 17, 'class', 'Job'],
      [19, 24, 'class', 'Queue'],
      [26, 29, 'function', 'New'],
      [31, 40, 'method', 'Queue.Push'],
      [42, 52, 'method', 'Queue.Pop'],
    ]);
    assert.equal(find(chunks, 'Queue.Push').header, 'func (q *Queue)');
    assert.ok(find(chunks, 'Queue.Push').text.startsWith('// Push appends a job'));
  });

  it('Rust: impl methods with the impl line as header; attributes and doc comments attached', async () => {
    const chunks = await chunkFixture('cache.rs', 256);
    assert.deepEqual(brief(chunks), [
      [1, 3, 'module', ''],
      [5, 11, 'class', 'LruCache'], // /// doc + #[derive] + struct
      [13, 16, 'interface', 'Evict'],
      [18, 22, 'method', 'LruCache.new'],
      [24, 35, 'method', 'LruCache.get'],
      [37, 44, 'method', 'LruCache.insert'],
      [46, 57, 'class', 'LruCache'], // impl Evict for LruCache: fits whole
      [59, 63, 'class', 'LruCache'], // impl fmt::Display
      [65, 76, 'module', 'tests'], // #[cfg(test)] mod tests
    ]);
    assert.equal(find(chunks, 'LruCache.get').header, 'impl<K: Hash + Eq + Clone, V> LruCache<K, V>');
    const small = await chunkFixture('cache.rs', 96);
    const evict = small.filter((c) => c.symbols.join('.') === 'LruCache.evict');
    assert.ok(evict.length >= 1);
    assert.ok(evict[0]!.header.startsWith('impl<K: Hash + Eq + Clone, V> Evict for LruCache<K, V>'));
  });

  it('Java: methods, constructor, nested interface and enum', async () => {
    const chunks = await chunkFixture('UploadService.java', 256);
    assert.deepEqual(brief(chunks), [
      [1, 5, 'module', ''],
      [7, 14, 'class', 'UploadService'],
      [16, 18, 'method', 'UploadService.UploadService'],
      [20, 31, 'method', 'UploadService.upload'],
      [33, 36, 'method', 'UploadService.toString'], // @Override included
      [38, 41, 'interface', 'UploadService.Storage'],
      [43, 51, 'enum', 'UploadService.Status'],
    ]);
    assert.equal(find(chunks, 'UploadService.upload').header, 'public class UploadService');
  });

  it('C: functions and a typedef struct, comments above attached', async () => {
    const chunks = await chunkFixture('ring.c', 256);
    assert.deepEqual(brief(chunks), [
      [1, 4, 'module', ''],
      [6, 12, 'class', 'ring_t'],
      [14, 27, 'function', 'ring_new'],
      [29, 38, 'function', 'ring_push'],
      [40, 43, 'function', 'ring_is_empty'],
      [45, 51, 'function', 'ring_free'],
    ]);
    assert.equal(chunks[2]!.language, 'c');
  });

  it('C++: namespace in the header, inline and out-of-line methods', async () => {
    const chunks = await chunkFixture('matrix.cpp', 200);
    assert.deepEqual(brief(chunks), [
      [1, 3, 'module', ''],
      [5, 10, 'class', 'Matrix'],
      [12, 12, 'method', 'Matrix.rows'],
      [13, 13, 'method', 'Matrix.cols'],
      [15, 20, 'method', 'Matrix.at'],
      [22, 28, 'class', 'Matrix'],
      [30, 30, 'method', 'Matrix.Matrix'],
      [32, 37, 'method', 'Matrix.multiply'],
      [38, 43, 'method', 'Matrix.multiply'],
      [45, 50, 'function', 'clamp'],
    ]);
    assert.equal(find(chunks, 'Matrix.at').header, 'namespace geo > class Matrix');
    assert.equal(find(chunks, 'clamp').header, 'namespace geo');
    const multiply = chunks.filter((c) => c.symbols.join('.') === 'Matrix.multiply');
    assert.deepEqual(
      multiply.map((c) => c.header),
      ['namespace geo > Matrix Matrix::multiply(const Matrix &other) const (part 1/2)', 'namespace geo > Matrix Matrix::multiply(const Matrix &other) const (part 2/2)'],
    );
  });

  it('C#: methods inside a namespace, attributes and doc comments attached', async () => {
    const chunks = await chunkFixture('UploadQueue.cs', 200);
    assert.deepEqual(brief(chunks), [
      [1, 3, 'module', ''],
      [5, 13, 'class', 'UploadQueue'],
      [15, 21, 'method', 'UploadQueue.UploadQueue'],
      [23, 35, 'method', 'UploadQueue.RetryFailed'],
      [37, 51, 'method', 'UploadQueue.ProcessNextAsync'],
      [53, 54, 'enum', 'UploadState'],
    ]);
    const retry = find(chunks, 'UploadQueue.RetryFailed');
    assert.equal(retry.header, 'namespace Acme.Uploads > public class UploadQueue');
    assert.ok(retry.text.startsWith('        /// <summary>Moves every failed upload back to the queue.</summary>\n        [Obsolete('));
  });

  it('Ruby, PHP and Bash definitions', async () => {
    const ruby = 'module Acme\n  # A user.\n  class User < Base\n    def initialize(name)\n      @name = name\n    end\n\n    def save\n      true\n    end\n  end\nend\n';
    const rb = await chunkFile({ path: 'user.rb', text: ruby }, { maxTokens: 32, tokenCounter: heuristic });
    checkInvariants(rb, ruby, { maxTokens: 32 });
    assert.deepEqual(find(rb, 'Acme.User.save').kind, 'method');
    const php = '<?php\nclass User {\n    private $name;\n\n    /** Saves. */\n    public function save(): bool {\n        return true;\n    }\n}\n\nfunction helper($x) {\n    return $x;\n}\n';
    const ph = await chunkFile({ path: 'user.php', text: php }, { maxTokens: 38, tokenCounter: heuristic });
    checkInvariants(ph, php, { maxTokens: 38 });
    assert.deepEqual(brief(ph).slice(-2), [
      [5, 9, 'method', 'User.save'],
      [11, 13, 'function', 'helper'],
    ]);
    const sh = '#!/bin/sh\nset -e\n\n# Prints usage.\nusage() {\n  echo "usage"\n}\n\nusage\n';
    const bash = await chunkFile({ path: 'run.sh', text: sh }, { maxTokens: 64, tokenCounter: heuristic });
    checkInvariants(bash, sh, { maxTokens: 64 });
    assert.deepEqual(brief(bash), [
      [1, 2, 'module', ''],
      [4, 7, 'function', 'usage'],
      [9, 9, 'module', ''],
    ]);
  });

  it('Markdown: sections by heading with the heading path as header; # inside code fences ignored', async () => {
    const chunks = await chunkFixture('README.md', 256);
    assert.deepEqual(
      chunks.map((c) => [c.startLine, c.endLine, c.kind, c.header]),
      [
        [1, 3, 'section', 'Sift'],
        [5, 13, 'section', 'Sift > Install'],
        [15, 17, 'section', 'Sift > Install > Linux'],
        [19, 21, 'section', 'Sift > Install > Windows'],
        [23, 25, 'section', 'Sift > Usage'],
        [27, 30, 'section', 'Sift > FAQ > Does it send code anywhere?'], // empty "## FAQ" travels with its subsection
      ],
    );
  });

  it('Markdown: a long section is split into parts under the same heading path', async () => {
    const body = Array.from({ length: 40 }, (_, i) => `Paragraph ${i} explains one more detail about installing on Linux.\n`).join('\n');
    const text = `# Guide\n\n## Install\n\n### Linux\n\n${body}\n## Usage\n\nRun it.\n`;
    const chunks = await chunkFile({ path: 'docs/guide.md', text }, { maxTokens: 100, tokenCounter: heuristic });
    checkInvariants(chunks, text, { maxTokens: 100 });
    const linux = chunks.filter((c) => c.header.startsWith('Guide > Install > Linux'));
    assert.ok(linux.length > 2);
    linux.forEach((c, i) => assert.equal(c.header, `Guide > Install > Linux (part ${i + 1}/${linux.length})`));
    assert.equal(chunks[chunks.length - 1]!.header, 'Guide > Usage');
  });

  it('fallback: text and YAML in line windows (paragraph breaks first, overlap otherwise)', async () => {
    const notes = await chunkFixture('notes.txt', 64);
    assert.deepEqual(brief(notes), [
      [1, 2, 'lines', ''],
      [4, 6, 'lines', ''],
      [8, 9, 'lines', ''],
      [11, 12, 'lines', ''],
      [12, 13, 'lines', ''], // no paragraph break: overlaps the previous window
    ]);
    assert.deepEqual(brief(await chunkFixture('config.yaml', 64)), [
      [1, 7, 'lines', ''],
      [9, 12, 'lines', ''],
      [14, 17, 'lines', ''],
    ]);
    assert.deepEqual(brief(await chunkFixture('config.yaml', 256)), [[1, 17, 'lines', '']]);
  });

  it('fallback: windows overlap by overlapLines when there is no break', async () => {
    const text = Array.from({ length: 60 }, (_, i) => `line ${i} of a long paragraph without breaks`).join('\n');
    const chunks = await chunkFile({ path: 'notes.txt', text }, { maxTokens: 64, overlapLines: 2, tokenCounter: heuristic });
    checkInvariants(chunks, text, { maxTokens: 64, overlapLines: 2 });
    assert.ok(chunks.length > 3);
    for (let i = 1; i < chunks.length; i++) assert.equal(chunks[i]!.startLine, chunks[i - 1]!.endLine - 1);
  });
});

describe('chunkFile: sizes', () => {
  it('cuts a huge function into parts at statement boundaries, each within maxTokens', async () => {
    const stmts: string[] = [];
    for (let i = 0; i < 120; i++) {
      stmts.push(`  if (values[${i}] > limit) {`, `    total += values[${i}] * factor${i % 7};`, `    log(\`value ${i} over the limit\`);`, '  }');
    }
    const text = ['import { log } from "./log";', '', 'export function accumulate(values: number[], limit: number): number {', '  let total = 0;', ...stmts, '  return total;', '}', ''].join('\n');
    const chunks = await chunkFile({ path: 'src/acc.ts', text }, { maxTokens: 128, tokenCounter: heuristic });
    checkInvariants(chunks, text, { maxTokens: 128 });
    const parts = chunks.filter((c) => c.symbols.join('.') === 'accumulate');
    assert.ok(parts.length > 5, `${parts.length} parts`);
    parts.forEach((p, i) => {
      assert.equal(p.kind, 'function');
      assert.equal(p.header, `export function accumulate(values: number[], limit: number): number (part ${i + 1}/${parts.length})`);
      if (i > 0) {
        assert.equal(p.startLine, parts[i - 1]!.endLine + 1, 'parts are contiguous');
        assert.match(p.text.split('\n')[0]!, /^ {2}(if|return)\b/, 'a part starts at a statement');
      }
    });
    assert.equal(parts[0]!.startLine, 3);
    assert.equal(parts[parts.length - 1]!.endLine, text.split('\n').length - 1);
  });

  it('cuts a single over-long line into slices within maxTokens', async () => {
    const line = `const table = [${Array.from({ length: 600 }, (_, i) => `"item${i}"`).join(', ')}];`;
    const text = `// generated\n${line}\nexport default table;\n`;
    const chunks = await chunkFile({ path: 'src/table.js', text }, { maxTokens: 100, tokenCounter: heuristic });
    checkInvariants(chunks, text, { maxTokens: 100 });
    const slices = chunks.filter((c) => c.startLine === 2 && c.endLine === 2);
    assert.ok(slices.length > 5);
    assert.equal(slices.map((c) => c.text).join(''), line);
  });

  it('respects an exact, non-additive token counter', async () => {
    // BPE-like: every newline is a token, long words cost more, plus 2 specials
    const bpe: TokenCounter = { count: (t) => 2 + (t.match(/\n/g)?.length ?? 0) + t.split(/\s+/).filter(Boolean).reduce((n, w) => n + Math.ceil(w.length / 3), 0) };
    for (const name of ['upload-queue.ts', 'tasks.py', 'cache.rs', 'README.md', 'notes.txt']) {
      await chunkFixture(name, 90, { tokenCounter: bpe });
    }
  });

  it('covers every non-blank line of every fixture at several sizes', async () => {
    const names = ['upload-queue.ts', 'TodoList.tsx', 'server.js', 'tasks.py', 'queue.go', 'cache.rs', 'UploadService.java', 'ring.c', 'matrix.cpp', 'UploadQueue.cs', 'README.md', 'notes.txt', 'config.yaml'];
    for (const name of names) for (const max of [48, 96, 256, 2048]) await chunkFixture(name, max);
  });
});

describe('chunkFile: ids and text handling', () => {
  it('gives the same ids for the same input', async () => {
    const a = await chunkFixture('upload-queue.ts', 400);
    const b = await chunkFixture('upload-queue.ts', 400);
    assert.deepEqual(a, b);
    const id = (c: Chunk): string => sha16(`src/upload-queue.ts\n${c.kind}\n${c.symbols.join('.')}\n${c.hash}\n0`);
    for (const c of a) assert.equal(c.id, id(c));
  });

  it('keeps the ids of unchanged definitions when lines are inserted above them', async () => {
    const text = fixture('upload-queue.ts');
    const before = await chunkFile({ path: 'src/q.ts', text }, { maxTokens: 400, tokenCounter: heuristic });
    const edited = `// Copyright header\n// added later\n\n${text}`;
    const after = await chunkFile({ path: 'src/q.ts', text: edited }, { maxTokens: 400, tokenCounter: heuristic });
    checkInvariants(after, edited, { maxTokens: 400 });
    for (const sym of ['UploadJob', 'JobState', 'Priority', 'UploadQueue', 'UploadQueue.enqueue', 'UploadQueue.retryFailed', 'createQueue', 'describeJob']) {
      const x = find(before, sym);
      const y = find(after, sym);
      assert.equal(y.id, x.id, sym);
      assert.equal(y.startLine, x.startLine + 3);
    }
    assert.notEqual(after[0]!.id, before[0]!.id); // the module chunk did change
    // a different path gives different ids
    const moved = await chunkFile({ path: 'src/other.ts', text }, { maxTokens: 400, tokenCounter: heuristic });
    assert.notEqual(moved[1]!.id, before[1]!.id);
    assert.equal(moved[1]!.hash, before[1]!.hash);
  });

  it('disambiguates identical chunks with an ordinal', async () => {
    const fn = 'function same() {\n  return 1;\n}\n';
    const text = `${fn}\n${fn}`;
    const chunks = await chunkFile({ path: 'dup.js', text }, { maxTokens: 256, tokenCounter: heuristic });
    assert.equal(chunks.length, 2);
    assert.equal(chunks[0]!.hash, chunks[1]!.hash);
    assert.notEqual(chunks[0]!.id, chunks[1]!.id);
    assert.equal(chunks[1]!.id, sha16(`dup.js\nfunction\nsame\n${chunks[1]!.hash}\n1`));
  });

  it('handles CRLF, a BOM and a missing final newline like plain LF text', async () => {
    const text = fixture('upload-queue.ts');
    const lf = await chunkFile({ path: 'src/q.ts', text }, { maxTokens: 400, tokenCounter: heuristic });
    const crlf = await chunkFile({ path: 'src/q.ts', text: `\uFEFF${text.replace(/\n/g, '\r\n')}` }, { maxTokens: 400, tokenCounter: heuristic });
    assert.deepEqual(crlf, lf);
    for (const c of crlf) assert.ok(!c.text.includes('\r') && !c.text.includes('\uFEFF'));
    const noFinal = await chunkFile({ path: 'src/q.ts', text: text.replace(/\n+$/, '') }, { maxTokens: 400, tokenCounter: heuristic });
    assert.deepEqual(noFinal, lf);
    const md = await chunkFile({ path: 'a.md', text: '\uFEFF# Title\r\n\r\nBody\r\n' }, { maxTokens: 64, tokenCounter: heuristic });
    assert.deepEqual(md.map((c) => [c.startLine, c.endLine, c.header, c.text]), [[1, 3, 'Title', '# Title\n\nBody']]);
  });

  it('returns no chunks for empty or blank files', async () => {
    for (const text of ['', '\n', '   \n\t\n', '\uFEFF', '\r\n\r\n']) {
      for (const p of ['a.ts', 'a.md', 'a.txt']) {
        assert.deepEqual(await chunkFile({ path: p, text }, { maxTokens: 64, tokenCounter: heuristic }), [], `${p} ${JSON.stringify(text)}`);
      }
    }
  });

  it('falls back to line windows for broken code and still covers it', async () => {
    const text = 'function ok() {\n  return 1;\n}\n\nfunction broken( {\n  if (\n}\n}}}\nconst x = ;\n';
    const chunks = await chunkFile({ path: 'bad.js', text }, { maxTokens: 64, tokenCounter: heuristic });
    checkInvariants(chunks, text, { maxTokens: 64 });
  });

  it('uses the given language over the path, and a default token counter', async () => {
    const text = 'def f():\n    return 1\n';
    const chunks = await chunkFile({ path: 'script', text, language: 'python' });
    assert.deepEqual(brief(chunks), [[1, 2, 'function', 'f']]);
    assert.equal(chunks[0]!.language, 'python');
  });

  it('rejects an unusable maxTokens', async () => {
    await assert.rejects(chunkFile({ path: 'a.ts', text: 'x' }, { maxTokens: 0 }));
  });
});

describe('tree-sitter loading', () => {
  it('finds the wasm files of the installed package and rejects a bad override', () => {
    assert.match(resolveWasmDir(), /tree-sitter-wasm[\\/]wasm$/);
    assert.throws(() => resolveWasmDir(FIXTURES), /no tree-sitter\.wasm/);
  });
});

describe('sizing from line counts (additive counters)', () => {
  it('cuts exactly the same chunks as tokenising every span, on this repository\'s sources', async () => {
    const heuristic = new HeuristicTokenCounter();
    let spans = 0;
    const slow: TokenCounter = {
      count: (t) => {
        spans++;
        return heuristic.count(t);
      },
    };
    let lineCalls = 0;
    const fast: TokenCounter = {
      additiveAcrossLines: true,
      count: (t) => {
        lineCalls++;
        return heuristic.count(t);
      },
    };
    const files = ['src/core/store/store.ts', 'src/core/lexical/bm25.ts', 'src/core/chunking/chunker.ts', 'README.md', 'scripts/make-tiny-models.py'];
    for (const rel of files) {
      const text = readFileSync(path.join(__dirname, '..', '..', rel), 'utf8');
      for (const maxTokens of [64, 256]) {
        const a = await chunkFile({ path: rel, text }, { maxTokens, tokenCounter: slow });
        const b = await chunkFile({ path: rel, text }, { maxTokens, tokenCounter: fast });
        assert.deepEqual(b, a, `${rel} at ${maxTokens} tokens`);
      }
    }
    assert.ok(lineCalls < spans, `line-count sizing tokenised ${lineCalls} strings, span sizing ${spans}`);
  });
});
