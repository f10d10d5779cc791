import { fileRole } from '../query/roles';
import { understandQuestion } from '../query/understand';
import type { NamedStore, retrieve } from '../search/retriever';
import type { Candidate } from '../search/types';
import type { IndexStore } from '../store/store';
import { importNames, testImports } from '../search/fileEvidence';

export { testImports };
import type { Conversation } from './conversation';
import { keyTerms } from './standalone';

type Retrieve = typeof retrieve;
type FileRef = { folder?: string; path: string };

/**
 * "And how is that tested?": a follow-up that asks about tests (question understanding's `tests`
 * kind) and refers back is about the tests of the files the conversation was about. Candidate
 * tests come from several signals, each a ranking of test files, fused (weighted reciprocal rank):
 * - retrieval: the test files of the standalone query's ranking, in their order;
 * - asked: the test files of a search for the earlier question's key terms alone (weight 2: what
 *   was asked, without the follow-up's words and the cited files' names that pull generic tests);
 * - names: tests named after an earlier source file by the conventions of each ecosystem
 *   (test_x.py, x_test.go, x.test.ts, x.spec.js, XTest.java, tests/…/test_x.py mirroring the
 *   source's folders, a folder named after it: __tests__/response/back.test.js), the earlier
 *   turn's best file first;
 * - question words: tests whose own name is a word or identifier of the earlier question
 *   (test/res.json.js for "Remove res.json(status, obj)", test/retry.ts for "… retry limit"), or
 *   whose method part is (test/req.query.js for "query parser", half);
 * - imports: tests that import an earlier source file (Python, JS/TS, Go, Rust imports); a hub's
 *   importers (a source most tests import) share the signal;
 * - mentions: tests whose retrieved chunks mention the earlier files' names or cited symbols as
 *   whole words, rare names counting more (a name most listed tests mention is no reason).
 * The fused test files go first, each with its best chunks only (one file cannot fill the list);
 * everything else keeps its order after them. Provenance (`matched`) says why.
 */
export interface TestsPlan {
  /**
   * Test files named after an earlier turn's file, best first, with how well the name matches (2
   * or 3); entries of one `group` are equally good by name (a folder of tests named after the
   * source, koa's __tests__/response/*) and are ordered by retrieval when fused.
   */
  named: { file: FileRef; score: number; of: string; order: number; group?: number }[];
  /** Lower-cased names a test of the earlier files mentions: their file stems and cited symbols. */
  mentions: string[];
  /** Normalised words and identifiers of the earlier questions a test's own name may be (resjson, retry). */
  terms: string[];
  /** Tests that import an earlier source file, in the order of those files. */
  importers: { file: FileRef; of: string; order: number }[];
  /** Chunks of tests the plan names that retrieval may not reach (their first chunks, read from the index). */
  heads: Map<string, Candidate[]>;
  /** The earlier question's key terms, searched on their own for tests that match what was asked (no follow-up words, no file names). */
  asked?: string;
}

const GENERIC = new Set(['index', 'main', 'mod', 'lib', 'init', '__init__', '__main__', 'utils', 'util', 'helpers', 'types', 'common', 'base', 'core', 'app']);
const MAX_NAMED = 8;
/** Named tests kept by the plan: more than fused, so a folder of them can be ordered by retrieval first. */
const MAX_NAMED_PLANNED = 40;
const MAX_IMPORT_SCAN = 600;
/** Signal weights and the rank constant of the fusion (chosen on the tune repositories, docs/eval.md). */
export const TEST_SIGNAL_WEIGHTS = { retrieval: 1, asked: 2, named: 1, terms: 1, imports: 0.5, mentions: 0.5 } as const;
/** Candidates of the search for the earlier question alone (tests among them are the `asked` signal). */
const ASKED_CANDIDATES = 80;
const FUSION_K = 2;
/** A name mentioned by more than this share of the listed test files is not a mention signal (with at least MIN_TESTS_FOR_RARITY of them listed). */
const MAX_MENTION_SHARE = 0.5;
const MIN_TESTS_FOR_RARITY = 4;
/** A source imported by more tests than this is a hub (attrs' _make.py, typer's core.py): its importers share the signal. */
const HUB_IMPORTERS = 3;
/** Chunks of one promoted test file placed in the promoted block (the rest keep their places). */
const CHUNKS_PER_TEST = 2;

/** The plan for a follow-up, or undefined when it does not ask about tests (or nothing came before). */
export async function testsPlan(followUp: string, conversation: Conversation, priorFiles: readonly FileRef[], stores: IndexStore | NamedStore[]): Promise<TestsPlan | undefined> {
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
      if (score && !named.some((n) => sameFile(n.file, t))) named.push({ file: t, score, of: f.path, order });
    }
  }
  // Tests of the earlier turn's best file first (the files come in rank order), then the closest
  // names; among equals, the test whose folders mirror the source's (tests/test_cli/… for
  // src/cli/…), then the one nearest the source (shared leading folders).
  const rankKey = (n: TestsPlan['named'][number]) => [n.order, -n.score, -mirrored(n.file.path, n.of), -shared(n.file.path, n.of)];
  named.sort((a, b) => compareKeys(rankKey(a), rankKey(b)) || a.file.path.length - b.file.path.length);
  named.forEach((n, i) => (n.group = i > 0 && compareKeys(rankKey(named[i - 1]!), rankKey(n)) === 0 ? named[i - 1]!.group : i));
  const mentions = new Set<string>();
  for (const f of subjects) {
    const s = rawStem(f.path);
    if (s.length >= 4 && !GENERIC.has(s.toLowerCase())) mentions.add(s.toLowerCase());
  }
  const recent = conversation.turns.slice(-2);
  for (const t of recent) for (const s of t.sources.slice(0, 6)) for (const sym of s.symbols.slice(0, 4)) if (sym.length >= 4) mentions.add(sym.toLowerCase());
  const terms = new Set<string>();
  for (const t of recent) for (const w of keyTerms(t.question)) {
    const k = singular(norm(w));
    if (k.length >= 4 && !GENERIC.has(k)) terms.add(k);
  }
  const heads = new Map<string, Candidate[]>();
  const importers = await importersOf(stores, subjects, tests, heads);
  const asked = keyTerms(conversation.turns.at(-1)?.question ?? '').slice(0, 40).join(' ');
  return { named: named.slice(0, MAX_NAMED_PLANNED), mentions: [...mentions].slice(0, 24), terms: [...terms].slice(0, 40), importers, heads, ...(asked ? { asked } : {}) };
}

/**
 * Retrieval with the plan applied: the fused test files first (their best two chunks each, in
 * fused order; a named or importing test retrieval did not reach comes with its first chunks),
 * then the rest of the list in its order. Marked in provenance (`matched`).
 */
export function testsFirstRetrieve(inner: Retrieve, plan: TestsPlan): Retrieve {
  return async (stores, query, opts = {}) => {
    const result = await inner(stores, query, opts);
    const list = [...result.candidates];
    const asked = plan.asked ? (await inner(stores, plan.asked, { ...opts, candidates: Math.max(opts.candidates ?? 0, ASKED_CANDIDATES) })).candidates.filter((c) => isTestFile(c.chunk.path)) : [];
    const ids = new Set(list.map((c) => `${c.folder ?? ''}\u0000${c.chunk.id}`));
    for (const c of asked) if (!ids.has(`${c.folder ?? ''}\u0000${c.chunk.id}`)) list.push({ ...c, provenance: { ...c.provenance, fused: { ...c.provenance.fused, score: 0 } } });
    const inList = new Set(list.map((c) => key({ folder: c.folder, path: c.chunk.path })));
    for (const f of [...plan.named.map((n) => n.file), ...plan.importers.map((i) => i.file)]) {
      const k = key(f);
      if (inList.has(k)) continue;
      inList.add(k);
      list.push(...(plan.heads.get(k) ?? []));
    }
    const fused = fuseTests(list, plan, TEST_SIGNAL_WEIGHTS, asked);
    const chunksOf = new Map<string, Candidate[]>();
    for (const c of list) {
      const k = key({ folder: c.folder, path: c.chunk.path });
      if (fused.has(k)) chunksOf.set(k, [...(chunksOf.get(k) ?? []), c]);
    }
    const promoted = [...fused.entries()].sort((a, b) => b[1].score - a[1].score || a[1].first - b[1].first);
    const first: Candidate[] = [];
    const placed = new Set<Candidate>();
    for (const [k, f] of promoted) {
      for (const c of (chunksOf.get(k) ?? []).slice(0, CHUNKS_PER_TEST)) {
        placed.add(c);
        first.push(f.why.length ? { ...c, provenance: { ...c.provenance, matched: [...(c.provenance.matched ?? []), ...f.why] } } : c);
      }
    }
    const candidates = [...first, ...list.filter((c) => !placed.has(c))];
    return { ...result, candidates: candidates.slice(0, Math.max(result.candidates.length, opts.candidates ?? 0)) };
  };
}

/** Test files of `list` (and the plan's) with their fused score, first position in the list and reasons. */
export function fuseTests(list: readonly Candidate[], plan: TestsPlan, w: Readonly<Record<keyof typeof TEST_SIGNAL_WEIGHTS, number>> = TEST_SIGNAL_WEIGHTS, asked: readonly Candidate[] = []): Map<string, { score: number; first: number; why: string[] }> {
  const out = new Map<string, { score: number; first: number; why: string[] }>();
  const at = (k: string, i: number) => out.get(k) ?? out.set(k, { score: 0, first: i, why: [] }).get(k)!;
  const add = (ranking: readonly string[], weight: number, why?: (k: string) => string | undefined, factor: (k: string) => number = () => 1) => {
    ranking.forEach((k, r) => {
      const f = at(k, Number.MAX_SAFE_INTEGER);
      f.score += (weight * factor(k)) / (FUSION_K + r + 1);
      const note = why?.(k);
      if (note && !f.why.includes(note)) f.why.push(note);
    });
  };
  // Retrieval: test files by their first chunk in the list.
  const retrieved: string[] = [];
  const hits = new Map<string, Set<string>>();
  const testNames = new Map<string, string>();
  list.forEach((c, i) => {
    if (!isTestFile(c.chunk.path)) return;
    const k = key({ folder: c.folder, path: c.chunk.path });
    if (!retrieved.includes(k) && c.provenance.fused.score > 0) retrieved.push(k);
    at(k, i).first = Math.min(at(k, i).first, i);
    testNames.set(k, c.chunk.path);
    const text = `${c.chunk.text}\n${c.chunk.symbols.join(' ')}`.toLowerCase();
    for (const m of plan.mentions) if (mentionsWord(text, m)) hits.set(k, (hits.get(k) ?? new Set()).add(m));
  });
  add(retrieved, w.retrieval);
  // The earlier question searched alone: its test files in order.
  const askedFiles = [...new Set(asked.filter((c) => c.provenance.fused.score > 0).map((c) => key({ folder: c.folder, path: c.chunk.path })))];
  add(askedFiles, w.asked, (k) => (askedFiles.indexOf(k) < 3 ? 'test matching the earlier question' : undefined));
  const named = new Map(plan.named.map((n) => [key(n.file), n]));
  // The source's very name (test_upload.py) counts fully, its name among other words
  // (test/app.response.js for response.js) or as the test's folder (__tests__/response/back.test.js) half.
  // Tests equally good by name go in the retrieval's order (retrieved ones first).
  const pos = (k: string) => { const p = retrieved.indexOf(k); return p < 0 ? Number.MAX_SAFE_INTEGER : p; };
  const byName = plan.named.map((n, i) => ({ k: key(n.file), g: n.group ?? i, i })).sort((a, b) => a.g - b.g || pos(a.k) - pos(b.k) || a.i - b.i).slice(0, MAX_NAMED);
  add(byName.map((n) => n.k), w.named, (k) => `test of ${named.get(k)!.of} (file name)`, (k) => (named.get(k)!.score >= 3 ? 1 : 0.5));
  // Question words: a test named after a word of the earlier question, in the retrieval's order.
  // Its whole name (test/retry.ts, test/res.json.js for "res.json(…)") counts fully, the method
  // part of an object.method name (test/req.query.js for "query parser") half.
  const termOf = (p: string) => (plan.terms.includes(singular(testStem(p))) ? testStem(p) : plan.terms.includes(singular(methodPart(p))) ? methodPart(p) : undefined);
  const byTerm = [...testNames.entries(), ...plan.named.map((n) => [key(n.file), n.file.path] as [string, string])]
    .filter(([, p], i, all) => all.findIndex(([, q]) => q === p) === i && termOf(p) !== undefined)
    .sort((a, b) => Number(termOf(b[1]) === testStem(b[1])) - Number(termOf(a[1]) === testStem(a[1])));
  const pathOf = (k: string) => testNames.get(k) ?? named.get(k)?.file.path ?? '';
  add(byTerm.map(([k]) => k), w.terms, (k) => `test named after "${termOf(pathOf(k))}" in the earlier question`, (k) => (termOf(pathOf(k)) === testStem(pathOf(k)) ? 1 : 0.5));
  const importer = new Map(plan.importers.map((i) => [key(i.file), i]));
  // Importers in the retrieval's order (then the plan's); a hub's importers (a source most tests
  // import) share the signal, so they count less each.
  const perSource = new Map<string, number>();
  for (const i of plan.importers) perSource.set(i.of, (perSource.get(i.of) ?? 0) + 1);
  const importing = plan.importers.map((i, n) => ({ k: key(i.file), i, n })).sort((a, b) => a.i.order - b.i.order || pos(a.k) - pos(b.k) || a.n - b.n);
  add(importing.map((x) => x.k), w.imports, (k) => `test importing ${importer.get(k)!.of}`, (k) => Math.min(1, HUB_IMPORTERS / perSource.get(importer.get(k)!.of)!));
  // A name most listed tests mention says little about which test is meant (express's
  // "application", ky's "options"): each name counts by how rare it is among the listed test
  // files (idf), and a test that mentions only such names is not ranked by this signal.
  const df = new Map<string, number>();
  for (const ms of hits.values()) for (const m of ms) df.set(m, (df.get(m) ?? 0) + 1);
  const tested = testNames.size;
  const weight = (ms: Set<string>) => [...ms].reduce((s, m) => s + Math.log((tested + 1) / (df.get(m) ?? 1)), 0);
  const specific = (m: string) => tested < MIN_TESTS_FOR_RARITY || (df.get(m) ?? 0) <= tested * MAX_MENTION_SHARE;
  const mentioned = [...hits.entries()]
    .map(([k, ms]) => [k, new Set([...ms].filter(specific))] as const)
    .filter(([, ms]) => ms.size > 0)
    .sort((a, b) => weight(b[1]) - weight(a[1]) || retrieved.indexOf(a[0]) - retrieved.indexOf(b[0]));
  add(mentioned.map(([k]) => k), w.mentions, (k) => `test mentioning ${[...hits.get(k)!].filter(specific).slice(0, 3).join(', ')}`);
  for (const [k, f] of out) if (f.score <= 0) out.delete(k);
  return out;
}

/**
 * Tests that import one of `subjects` (package __init__ / index files left out: every test
 * imports its package), from the first chunk of each test file in the index; their first chunks
 * go to `heads` so the plan can offer them when retrieval does not reach them.
 */
async function importersOf(stores: IndexStore | NamedStore[], subjects: readonly FileRef[], tests: readonly FileRef[], heads: Map<string, Candidate[]>): Promise<TestsPlan['importers']> {
  const named: NamedStore[] = Array.isArray(stores) ? stores : [{ name: '', store: stores }];
  const specific = subjects.filter((s) => !/^(index|__init__|mod|main|lib)$/i.test(rawStem(s.path)));
  const out: TestsPlan['importers'] = [];
  for (const { name, store } of named) {
    const mine = tests.filter((t) => (t.folder ?? '') === name).slice(0, MAX_IMPORT_SCAN);
    const files = store.manifest.files ?? {};
    const ids = new Map<string, string>();
    for (const t of mine) {
      const id = files[t.path]?.chunkIds[0];
      if (id) ids.set(id, t.path);
    }
    if (!ids.size || !specific.some((s) => (s.folder ?? '') === name)) continue;
    let located: { shard: string; row: number; id: string }[];
    try {
      located = await store.locate(ids.keys());
    } catch {
      continue; // an index without row tables (a search-only reader): no import signal
    }
    const byShard = new Map<string, { row: number; id: string }[]>();
    for (const l of located) byShard.set(l.shard, [...(byShard.get(l.shard) ?? []), l]);
    for (const [shard, rows] of byShard) {
      const chunks = await store.chunksOfShard(shard, rows.map((r) => r.row)).catch(() => []);
      for (const chunk of chunks) {
        const specs = testImports(chunk.path, chunk.text);
        const order = specific.findIndex((s) => (s.folder ?? '') === name && specs.some((spec) => importNames(spec, s.path)));
        if (order < 0) continue;
        const file = { ...(name ? { folder: name } : {}), path: chunk.path };
        out.push({ file, of: specific[order]!.path, order });
        heads.set(key(file), [{ chunk, ...(name ? { folder: name } : {}), provenance: { fused: { rank: 0, score: 0 } }, rankBefore: 0, rankAfter: 0 }]);
      }
    }
  }
  return out.sort((a, b) => a.order - b.order || a.file.path.localeCompare(b.file.path));
}

/** `text` mentions `name` as a whole word or identifier (not inside a longer one). */
function mentionsWord(text: string, name: string): boolean {
  for (let i = text.indexOf(name); i >= 0; i = text.indexOf(name, i + 1)) {
    const before = text.charCodeAt(i - 1);
    const after = text.charCodeAt(i + name.length);
    if (!isWordCode(before) && !isWordCode(after)) return true;
  }
  return false;
}

const isWordCode = (c: number) => (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || (c >= 65 && c <= 90);

const key = (c: FileRef) => `${c.folder ?? ''}\u0000${c.path}`;
const sameFile = (a: FileRef, b: FileRef) => a.path === b.path && (a.folder ?? '') === (b.folder ?? '');
const singular = (w: string) => (w.length > 4 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w);

/**
 * How well a test file's name says it tests `source`: 3 the same name (test_upload.py,
 * upload_test.go, upload.test.ts, UploadTest.java for upload.*), 2 the source's name as whole
 * words of the test's (eval-git-history.test.ts for gitHistory.ts; not chunk-blocks for lock) or
 * as one of its folders (__tests__/response/back.test.js for lib/response.js), 0 not.
 */
export function namedAfter(source: string, test: string): number {
  const stem = subjectStem(source);
  if (stem.length < 3) return 0;
  if (testStem(test) === stem) return 3;
  if (stem.length >= 4 && ` ${testWords(test).join(' ')} `.includes(` ${subjectWords(source).join(' ')} `)) return 2;
  // A folder of tests named after the source (Jest's __tests__/response/back.test.js, test/router/…, tests/test_utils/… for utils.py).
  return test.split('/').slice(0, -1).some((d) => folderStem(d) === stem) ? 2 : 0;
}

/** A test folder's name without its test markers: test_utils, utils_test, utils → utils. */
function folderStem(d: string): string {
  return norm(d.replace(/^tests?[_-]/i, '').replace(/[_-]tests?$/i, ''));
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
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

/** The method part of a test named object.method (test/req.query.js → query), or '' for other names. */
function methodPart(p: string): string {
  const base = (p.split('/').pop() ?? p).replace(/\.[^.]*$/, '').replace(/\.(?:test|spec|e2e|unit|integration)$/i, '');
  const parts = base.split('.');
  return parts.length >= 2 ? norm(parts[parts.length - 1]!) : '';
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

/** How many of the source's folders the test's folders repeat, test_ prefixes aside (tests/test_cli/test_x.py for src/cli/x.py). */
function mirrored(test: string, source: string): number {
  const t = new Set(test.split('/').slice(0, -1).map((d) => norm(d.replace(/^tests?[_-]?/i, ''))).filter(Boolean));
  return source.split('/').slice(0, -1).map(norm).filter((d) => t.has(d)).length;
}
