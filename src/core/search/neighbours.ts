import { codeTokens } from '../lexical/tokenize';
import { fileRole } from '../query/roles';
import type { Understanding } from '../query/understand';
import type { IndexStore } from '../store/store';
import type { Chunk } from '../types';
import { importNames, importsOf, testImports } from './fileEvidence';
import type { NamedStore } from './retriever';
import type { Candidate } from './types';

/**
 * Files next to the first stage's top files that retrieval missed (issue 19, vocabulary mismatch):
 * a commit message or bug report often matches the *tests* of the code to change, or the code next
 * to it, and not the file itself ("tests: add tests in test_requests" → `requests.py`). For each of
 * the list's first `from` files:
 *
 * - `subject`: a test file's subject by name (`tests/middleware/test_gzip.py` → `…/gzip.py`,
 *   `foo.test.ts` → `foo.ts`), an implementation file of that stem (at most MAX_MATCHES);
 * - `import`: the implementation files a top file imports (its first chunk's imports, resolved
 *   against the file table; a test's `from pkg import mod` too), at most MAX_MATCHES per import;
 * - `stub`: a source file's type stub or declaration (`x.py` → `x.pyi`, `x.js` → `x.d.ts`).
 *
 * Each file the list lacks joins with one chunk (the one sharing the most of the question's
 * terms), with the rank of the file it came from; the prior weighs it (`widenForPrior` scores it
 * at a fraction of that file's score, per kind: EvidenceWeights nbSubject / nbImport / nbStub).
 * Cost: one read of each top file's first chunk, one pass over the file table per top file.
 */
export type NeighbourKind = 'subject' | 'import' | 'stub';

export interface Neighbour {
  chunk: Chunk;
  folder?: string;
  kind: NeighbourKind;
  /** The top file it is a neighbour of. */
  from: string;
}

const MAX_MATCHES = 3;
const MAX_PER_QUESTION = 24;
const GENERIC = /^(?:__init__|index|mod|main|lib|types|utils?|helpers|compat|_compat)$/i;

const stemOf = (p: string) =>
  p
    .split('/')
    .pop()!
    .replace(/\.d\.ts$/, '')
    .replace(/\.[^.]+$/, '');

/** A test file's subject stem: test_gzip.py → gzip, gzip_test.go → gzip, foo.test.ts / foo.spec.js → foo. */
export function testSubject(path: string): string | undefined {
  const file = path.split('/').pop()!;
  const m = /^test_(.+)\.py$/.exec(file) ?? /^(.+?)_tests?\.\w+$/.exec(file) ?? /^(.+?)\.(?:test|spec)\.[cm]?[jt]sx?$/.exec(file) ?? /^(.+?)Tests?\.\w+$/.exec(file);
  const s = m?.[1];
  return s && s.length >= 3 && !GENERIC.test(s) ? s : undefined;
}

/** The stub or declaration files of a source file: x.py → x.pyi, x.js / x.ts → x.d.ts. */
function stubsOf(path: string): string[] {
  if (/\.py$/.test(path)) return [`${path}i`];
  if (/\.[cm]?js$/.test(path) || (/\.ts$/.test(path) && !/\.d\.ts$/.test(path))) return [path.replace(/\.[cm]?[jt]s$/, '.d.ts')];
  return [];
}

export async function lookupNeighbours(stores: IndexStore | readonly NamedStore[], u: Understanding, list: readonly Candidate[], from: number, question = ''): Promise<Neighbour[]> {
  if (!(from > 0) || !list.length) return [];
  const multi = Array.isArray(stores);
  const named: readonly NamedStore[] = multi ? (stores as readonly NamedStore[]) : [{ name: '', store: stores as IndexStore }];
  const present = new Set(list.map((c) => `${c.folder ?? ''}\u0000${c.chunk.path}`));
  const tops: { folder: string; path: string }[] = [];
  for (const c of list) {
    const key = `${c.folder ?? ''}\u0000${c.chunk.path}`;
    if (tops.some((t) => `${t.folder}\u0000${t.path}` === key)) continue;
    tops.push({ folder: c.folder ?? '', path: c.chunk.path });
    if (tops.length >= from) break;
  }
  const wanted = new Map<string, { ns: NamedStore; path: string; kind: NeighbourKind; from: string }>();
  const want = (ns: NamedStore, path: string, kind: NeighbourKind, of: string) => {
    const key = `${multi ? ns.name : ''}\u0000${path}`;
    if (present.has(key) || wanted.has(key) || wanted.size >= MAX_PER_QUESTION) return;
    wanted.set(key, { ns, path, kind, from: of });
  };
  for (const ns of named) {
    const files = Object.keys(ns.store.manifest.files ?? {});
    const sources = files.filter((f) => fileRole(f) === 'source');
    const fileSet = new Set(files);
    for (const t of tops) {
      if ((multi ? ns.name : '') !== t.folder) continue;
      const role = fileRole(t.path);
      if (role === 'test') {
        const s = testSubject(t.path);
        if (s) {
          const hits = sources.filter((f) => stemOf(f).toLowerCase() === s.toLowerCase());
          if (hits.length && hits.length <= MAX_MATCHES) for (const h of hits) want(ns, h, 'subject', t.path);
        }
      }
      if (role === 'source') for (const s of stubsOf(t.path)) if (fileSet.has(s)) want(ns, s, 'stub', t.path);
      const first = (await chunksOfFile(ns.store, t.path, 1))[0];
      if (!first) continue;
      const specs = role === 'test' ? testImports(t.path, first.text) : importsOf(t.path, first.text);
      for (const spec of specs) {
        const hits = sources.filter((f) => f !== t.path && !GENERIC.test(stemOf(f)) && importNames(spec, f));
        if (hits.length && hits.length <= MAX_MATCHES) for (const h of hits) want(ns, h, 'import', t.path);
      }
    }
  }
  const terms = new Set(codeTokens(`${u.identifiers.join(' ')} ${u.errors.join(' ')} ${question}`));
  const out: Neighbour[] = [];
  for (const w of wanted.values()) {
    const chunks = await chunksOfFile(w.ns.store, w.path);
    if (!chunks.length) continue;
    let best = chunks[0]!;
    let bestHits = -1;
    for (const c of chunks) {
      const hits = codeTokens(`${c.symbols.join(' ')} ${c.text}`).filter((x) => terms.has(x)).length;
      if (hits > bestHits) [best, bestHits] = [c, hits];
    }
    out.push({ chunk: best, ...(multi ? { folder: w.ns.name } : {}), kind: w.kind, from: w.from });
  }
  return out;
}

async function chunksOfFile(store: IndexStore, path: string, max = Infinity): Promise<Chunk[]> {
  const entry = store.manifest.files[path];
  if (!entry?.shard || !entry.chunkIds.length) return [];
  const located = await store.locate(entry.chunkIds.slice(0, max));
  return store.chunksOfShard(entry.shard, located.map((l) => l.row));
}
