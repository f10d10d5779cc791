import { fileRole } from '../query/roles';
import { understandQuestion } from '../query/understand';
import type { NamedStore, retrieve } from '../search/retriever';
import type { Candidate } from '../search/types';
import type { IndexStore } from '../store/store';
import type { Conversation } from './conversation';

type Retrieve = typeof retrieve;
type FileRef = { folder?: string; path: string };

/**
 * "And how is that tested?": a follow-up that asks about tests (question understanding's `tests`
 * kind) and refers back is about the tests of the files the conversation was about. Those tests
 * are found by the conventions test files are named by (test_x.py, x_test.go, x.test.ts,
 * x.spec.js, XTest.java, tests/…/x…) and by what they mention (the earlier files' names and cited
 * symbols), and their chunks go first in the retrieval list; everything else keeps its order.
 */
export interface TestsPlan {
  /** Test files named after an earlier turn's file, best first, with how well the name matches (2 or 3). */
  named: { file: FileRef; score: number; of: string; order: number }[];
  /** Lower-cased names a test of the earlier files mentions: their file stems and cited symbols. */
  mentions: string[];
}

const GENERIC = new Set(['index', 'main', 'mod', 'lib', 'init', '__init__', '__main__', 'utils', 'util', 'helpers', 'types', 'common', 'base', 'core', 'app']);
const MAX_NAMED = 4;

/** The plan for a follow-up, or undefined when it does not ask about tests (or nothing came before). */
export function testsPlan(followUp: string, conversation: Conversation, priorFiles: readonly FileRef[], stores: IndexStore | NamedStore[]): TestsPlan | undefined {
  if (!priorFiles.length || understandQuestion(followUp).kind !== 'tests') return undefined;
  // Source files only: a README or a changelog the earlier answer cited has no tests of its own.
  const subjects = priorFiles.filter((f) => fileRole(f.path) === 'source');
  if (!subjects.length) return undefined;
  const named: TestsPlan['named'] = [];
  const tests = indexedFiles(stores).filter((t) => isTestFile(t.path));
  for (const [order, f] of subjects.entries()) {
    for (const t of tests) {
      if ((t.folder ?? '') !== (f.folder ?? '')) continue;
      const score = namedAfter(f.path, t.path);
      if (score && !named.some((n) => n.file.path === t.path && (n.file.folder ?? '') === (t.folder ?? ''))) named.push({ file: t, score, of: f.path, order });
    }
  }
  // Tests of the earlier turn's best file first (the files come in rank order), then the closest
  // names; among equals, the test nearest the source (shared leading folders).
  named.sort((a, b) => a.order - b.order || b.score - a.score || shared(b.file.path, b.of) - shared(a.file.path, a.of) || a.file.path.length - b.file.path.length);
  const mentions = new Set<string>();
  for (const f of subjects) {
    const s = rawStem(f.path);
    if (s.length >= 4 && !GENERIC.has(s.toLowerCase())) mentions.add(s.toLowerCase());
  }
  for (const t of conversation.turns.slice(-2)) for (const s of t.sources.slice(0, 6)) for (const sym of s.symbols.slice(0, 4)) if (sym.length >= 4) mentions.add(sym.toLowerCase());
  return { named: named.slice(0, MAX_NAMED), mentions: [...mentions].slice(0, 24) };
}

/**
 * Retrieval with the plan applied: the named tests' chunks first (searched for by their path when
 * the list does not hold them), then the chunks of other test files that mention the earlier
 * files or symbols, then the rest in its order. Marked in provenance (`matched`).
 */
export function testsFirstRetrieve(inner: Retrieve, plan: TestsPlan): Retrieve {
  return async (stores, query, opts = {}) => {
    const result = await inner(stores, query, opts);
    const key = (c: { folder?: string; path: string }) => `${c.folder ?? ''}\u0000${c.path}`;
    const list = [...result.candidates];
    for (const n of plan.named) {
      if (list.some((c) => key({ folder: c.folder, path: c.chunk.path }) === key(n.file))) continue;
      const words = n.file.path.replace(/[^A-Za-z0-9]+/g, ' ');
      const own = await inner(stores, `${query} ${words} ${words}`, { ...opts, candidates: 200 });
      list.push(...own.candidates.filter((c) => key({ folder: c.folder, path: c.chunk.path }) === key(n.file)).slice(0, 3));
    }
    const score = new Map<string, number>();
    const note = new Map<string, string>();
    for (const [i, n] of plan.named.entries()) {
      score.set(key(n.file), 20 + plan.named.length - i); // the plan's order, above any mention count
      note.set(key(n.file), `test of ${n.of} (file name)`);
    }
    // Other tests: by how many of the earlier names they mention (over their chunks in the list).
    const hits = new Map<string, Set<string>>();
    for (const c of list) {
      const k = key({ folder: c.folder, path: c.chunk.path });
      if (score.has(k) || !isTestFile(c.chunk.path)) continue;
      const text = `${c.chunk.text}\n${c.chunk.symbols.join(' ')}`.toLowerCase();
      for (const m of plan.mentions) if (text.includes(m)) hits.set(k, (hits.get(k) ?? new Set()).add(m));
    }
    for (const [k, found] of hits) {
      score.set(k, Math.min(found.size, 9));
      note.set(k, `test mentioning ${[...found].slice(0, 3).join(', ')}`);
    }
    const order = list.map((c, i) => ({ c, i, s: score.get(key({ folder: c.folder, path: c.chunk.path })) ?? 0 }));
    order.sort((a, b) => b.s - a.s || a.i - b.i);
    const candidates: Candidate[] = order.map(({ c, s }) => {
      const why = s ? note.get(key({ folder: c.folder, path: c.chunk.path })) : undefined;
      return why ? { ...c, provenance: { ...c.provenance, matched: [...(c.provenance.matched ?? []), why] } } : c;
    });
    return { ...result, candidates: candidates.slice(0, Math.max(result.candidates.length, opts.candidates ?? 0)) };
  };
}

/**
 * How well a test file's name says it tests `source`: 3 the same name (test_upload.py,
 * upload_test.go, upload.test.ts, UploadTest.java for upload.*), 2 the source's name as whole
 * words of the test's (eval-git-history.test.ts for gitHistory.ts; not chunk-blocks for lock), 0 not.
 */
export function namedAfter(source: string, test: string): number {
  const stem = subjectStem(source);
  if (stem.length < 3) return 0;
  if (testStem(test) === stem) return 3;
  return stem.length >= 4 && ` ${testWords(test).join(' ')} `.includes(` ${subjectWords(source).join(' ')} `) ? 2 : 0;
}

/** Under a test folder but not a test: helpers, fixtures, test data, harnesses. */
const TEST_SUPPORT = /(?:^|\/)(?:support|fixtures?|helpers?|testdata|test_data|__fixtures__|__mocks__|mocks?|data|harness)\/|(?:^|\/)(?:conftest\.py|helpers?\.[a-z]+|harness\.[a-z]+|setup\.[a-z]+)$/i;
const CODE = /\.(?:[cm]?[jt]sx?|py|go|rs|java|kt|scala|rb|php|cs|swift|c|cc|cpp|h|hpp|ex|exs|sh|bats)$/i;

/** A test file proper: the test role, code, and not a helper or fixture under a test folder. */
export function isTestFile(p: string): boolean {
  return fileRole(p) === 'test' && CODE.test(p) && !TEST_SUPPORT.test(p);
}

function indexedFiles(stores: IndexStore | NamedStore[]): FileRef[] {
  const named: NamedStore[] = Array.isArray(stores) ? stores : [{ name: '', store: stores }];
  return named.flatMap(({ name, store }) => Object.keys(store.manifest.files ?? {}).map((p) => ({ ...(name ? { folder: name } : {}), path: p })));
}

function rawStem(p: string): string {
  return (p.split('/').pop() ?? p).replace(/\.[^.]*$/, '');
}

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '');

/** The name a source file's tests are called after: its stem, or its folder's for index/__init__/mod files. */
export function subjectStem(p: string): string {
  const parts = p.split('/');
  const stem = rawStem(p).replace(/\.d$/, '');
  if (/^(index|__init__|mod|main|lib)$/i.test(stem) && parts.length >= 2) return norm(parts[parts.length - 2]!);
  return norm(stem);
}

/** A test file's stem without its test markers: test_x.py, x_test.go, x.test.ts, x.spec.js, XTest.java, XTests.cs → x. */
export function testStem(p: string): string {
  let s = (p.split('/').pop() ?? p).replace(/\.[^.]*$/, '');
  s = s.replace(/\.(?:test|spec|e2e|unit|integration)$/i, '').replace(/^tests?[_-]/i, '').replace(/[_-]tests?$/i, '').replace(/(?<=[a-z0-9])Tests?$/, '').replace(/^Test(?=[A-Z])/, '');
  return norm(s);
}

/** Lower-cased words of a name: camelCase, snake_case and kebab-case split. */
function wordsOf(name: string): string[] {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

function subjectWords(p: string): string[] {
  const parts = p.split('/');
  const stem = rawStem(p).replace(/\.d$/, '');
  return wordsOf(/^(index|__init__|mod|main|lib)$/i.test(stem) && parts.length >= 2 ? parts[parts.length - 2]! : stem);
}

function testWords(p: string): string[] {
  const base = (p.split('/').pop() ?? p).replace(/\.[^.]*$/, '').replace(/\.(?:test|spec|e2e|unit|integration)$/i, '');
  return wordsOf(base).filter((w) => w !== 'test' && w !== 'tests' && w !== 'spec');
}

function shared(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  let n = 0;
  while (n < x.length - 1 && n < y.length - 1 && x[n] === y[n]) n++;
  return n;
}
