import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import MiniSearch, { type Options } from 'minisearch';
import { Bm25Index, buildBm25, MAX_QUERY_TERMS, selectTop } from '../../src/core/lexical/bm25';
import { docsFromFields, fieldsOf } from '../support/bm25Docs';
import { BM25_PARAMS, BOOSTS, FIELD_BOOSTS, lexicalDoc, searchLexical } from '../../src/core/lexical/lexical';
import { codeTokens, MAX_STEM_CHARS, MAX_TEXT_TOKENS, MAX_WORD_CHARS, pathTokens } from '../../src/core/lexical/tokenize';

/** The MiniSearch configuration Sift used before its own BM25: the oracle for scores and order. */
type Doc = { id: string; path: string; header: string; text: string; symbols: string };
const ORACLE: Options<Doc> = {
  idField: 'id',
  fields: ['symbols', 'path', 'header', 'text'],
  storeFields: [],
  tokenize: (text: string, field?: string) => (field === 'path' ? pathTokens(text) : codeTokens(text)),
  processTerm: (term: string) => term,
  searchOptions: {
    boost: { ...FIELD_BOOSTS },
    bm25: BM25_PARAMS,
    prefix: false,
    fuzzy: false,
    combineWith: 'OR',
    tokenize: (text: string) => codeTokens(text),
    processTerm: (term: string) => term,
  },
};

interface TestChunk {
  id: string;
  path: string;
  header: string;
  text: string;
  symbols: string[];
}

/** Real code: this repository's own sources, cut into ~40-line pieces. */
function repoChunks(): TestChunk[] {
  const out: TestChunk[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.ts')) {
        const lines = readFileSync(full, 'utf8').split('\n');
        for (let i = 0; i < lines.length; i += 40) {
          const text = lines.slice(i, i + 40).join('\n');
          const sym = /(?:function|class|interface|const)\s+([A-Za-z_]\w*)/.exec(text)?.[1];
          out.push({ id: `${full}#${i}`, path: path.relative('.', full), header: sym ? `function ${sym}` : '', text, symbols: sym ? [sym] : [] });
        }
      }
    }
  };
  walk('src/core');
  return out;
}

function oracleSearch(chunks: TestChunk[], query: string) {
  const ms = new MiniSearch<Doc>(ORACLE);
  ms.addAll(chunks.map((c) => ({ ...c, symbols: c.symbols.join(' ') })));
  return ms.search(query);
}

const QUERIES = [
  'where do we retry failed uploads',
  'how is the manifest written atomically after a commit',
  'BM25 scoring of lexical hits per shard',
  'tokenize identifiers camelCase snake_case',
  'lock lock lock writer pid',
  'embedding worker onnxruntime threads batch',
  'symlink outside root containment',
  'nothing matches zzqqxx',
  'IndexStore commit shard generation garbage',
  'rerank cross encoder pairs truncation',
];

describe('BM25 index', () => {
  const chunks = repoChunks();
  let index: Bm25Index;
  before(async () => {
    index = new Bm25Index(await buildBm25(chunks.map(lexicalDoc)));
  });

  it('scores, orders and reports terms exactly as MiniSearch (the library it replaces)', async () => {
    assert.ok(chunks.length > 200, `corpus of ${chunks.length} chunks`);
    for (const q of QUERIES) {
      const expected = oracleSearch(chunks, q).slice(0, 100);
      const got = searchLexical(index, q, 100);
      assert.equal(got.length, expected.length, q);
      got.forEach((hit, i) => {
        assert.equal(hit.id, expected[i]!.id, `${q}: rank ${i + 1}`);
        assert.equal(hit.score, expected[i]!.score, `${q}: score at rank ${i + 1}`);
        assert.deepEqual(hit.terms, expected[i]!.terms, `${q}: terms at rank ${i + 1}`);
        assert.equal(chunks[hit.row]!.id, hit.id);
      });
    }
  });

  it('matches MiniSearch on many small random corpora (ties, repeats, empty fields)', async () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const words = ['alpha', 'beta', 'gamma', 'delta', 'upload', 'retry', 'fooBar', 'baz_qux', 'x1', 'épée', '数据'];
    const pickWords = (n: number) => Array.from({ length: n }, () => words[Math.floor(rnd() * words.length)]!).join(' ');
    for (let round = 0; round < 40; round++) {
      const n = 1 + Math.floor(rnd() * 30);
      const docs: TestChunk[] = Array.from({ length: n }, (_, i) => ({
        id: `d${round}-${i}`,
        path: `src/${pickWords(1)}/${pickWords(1)}.ts`,
        header: rnd() < 0.3 ? '' : pickWords(2),
        text: pickWords(Math.floor(rnd() * 12)),
        symbols: rnd() < 0.5 ? [] : [pickWords(1)],
      }));
      // Term frequencies past one byte go to the overflow table.
      if (round % 4 === 0) docs.push({ id: `big${round}`, path: 'src/retry/upload.ts', header: 'retry upload', text: 'retry upload '.repeat(260 + round), symbols: ['retryUpload'] });
      const idx = new Bm25Index(await buildBm25(docs.map(lexicalDoc)));
      for (let qn = 0; qn < 5; qn++) {
        const q = pickWords(1 + Math.floor(rnd() * 4));
        const expected = oracleSearch(docs, q);
        const got = searchLexical(idx, q, 1000);
        assert.deepEqual(
          got.map((h) => [h.id, h.score, h.terms]),
          expected.map((r) => [r.id, r.score, r.terms]),
          `round ${round}: ${q}`,
        );
      }
    }
  });

  it('round-trips its documents, so a shard can be rebuilt without re-tokenising', async () => {
    const docs = chunks.slice(0, 50).map(lexicalDoc);
    const again = new Bm25Index(await buildBm25(await new Bm25Index(await buildBm25(docs)).documents()));
    const first = new Bm25Index(await buildBm25(docs));
    for (const q of QUERIES) assert.deepEqual(searchLexical(again, q, 100), searchLexical(first, q, 100));
    assert.deepEqual(again.ids(), docs.map((d) => d.id));
  });

  it('reads the id of a hit without decoding every id, and refuses an id list of the wrong length', async () => {
    const docs = chunks.slice(0, 40).map(lexicalDoc);
    const bytes = await buildBm25(docs);
    const idx = new Bm25Index(bytes);
    for (let row = 0; row < docs.length; row++) assert.equal(idx.idAt(row), docs[row]!.id);
    for (const q of QUERIES) for (const h of searchLexical(idx, q, 100)) assert.equal(h.id, docs[h.row]!.id);
    // The ids end the file (before its padding), newline-separated: one newline more or less is a crafted file.
    const extra = new Uint8Array(bytes);
    extra[extra.lastIndexOf(0x0a) + 3] = 0x0a;
    assert.throws(() => new Bm25Index(extra), /document ids/);
    const fewer = new Uint8Array(bytes);
    const lastNewline = fewer.lastIndexOf(0x0a);
    fewer[lastNewline] = 0x61;
    assert.throws(() => new Bm25Index(fewer), /document ids/);
  });

  it('packs documents faithfully: frequencies (past the one-byte escape), empty fields, terms in several fields, batches mixed in one shard', async () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const words = ['α', 'beta', 'x', 'é', 'upload', '日本', 'a_b', 'Q'];
    const maps = Array.from({ length: 400 }, (_, i) => ({
      id: `d${i}`,
      fields: Array.from({ length: 4 }, () => {
        const m = new Map<string, number>();
        for (let k = Math.floor(rnd() * 5); k > 0; k--) m.set(`${words[Math.floor(rnd() * words.length)]}${Math.floor(rnd() * 40)}`, rnd() < 0.05 ? 255 + Math.floor(rnd() * 900) : 1 + Math.floor(rnd() * 4));
        return m;
      }),
    }));
    const docs = docsFromFields(maps);
    assert.deepEqual(docs.map(fieldsOf), maps.map((m) => m.fields));
    const bytes = await buildBm25(docs);
    const index = new Bm25Index(bytes);
    // Back from the index: the same terms and frequencies per field (order within a field aside) …
    const back = await index.documents();
    const sortedFields = (fs: Map<string, number>[]) => fs.map((m) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    assert.deepEqual(back.map((d) => sortedFields(fieldsOf(d))), maps.map((m) => sortedFields(m.fields)));
    // … and the same bytes when a shard mixes documents read back from one index with fresh ones.
    assert.deepEqual(await buildBm25([...back.slice(0, 150), ...docsFromFields(maps.slice(150))]), bytes);
    const high = maps.flatMap((m) => m.fields.flatMap((f) => [...f].filter(([, tf]) => tf >= 255)));
    assert.ok(high.length > 5, 'some frequencies take the overflow table');
  });

  it('keeps its terms in UTF-8 byte order whatever their characters (ASCII buckets sorted as strings, others on bytes)', async () => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    // Orders that differ: UTF-16 puts a surrogate pair (U+1F600) before U+E000 and U+FFFD, UTF-8 after;
    // 'aé' shares its first byte with ASCII 'a…' terms and sorts after all of them.
    const alphabet = ['a', 'b', 'z', 'A', 'Z', '_', '0', '9', '~', '-', 'é', 'ß', '中', '\u{1F600}', '\uFFFD', '\uE000', '\u007F'];
    for (let round = 0; round < 6; round++) {
      const vocabulary = [...new Set(Array.from({ length: 400 }, () => Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => alphabet[Math.floor(rnd() * (round % 2 ? 10 : alphabet.length))]).join('')))];
      const maps = Array.from({ length: 60 }, (_, i) => ({
        id: `d${i}`,
        fields: Array.from({ length: 4 }, () => new Map(Array.from({ length: Math.floor(rnd() * 8) }, () => [vocabulary[Math.floor(rnd() * vocabulary.length)]!, 1] as const))),
      }));
      const used = [...new Set(maps.flatMap((m) => m.fields.flatMap((f) => [...f.keys()])))];
      const index = new Bm25Index(await buildBm25(docsFromFields(maps)));
      const back = await index.documents();
      const stored = back[0]?.batch.terms ?? [];
      assert.deepEqual(stored, [...used].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))), `round ${round}`);
      // Every term is found by the index's byte-wise binary search.
      for (const t of used) assert.ok(index.stats([t]).df.some((n) => n > 0), `round ${round}: ${t}`);
    }
  });

  it('is smaller than the MiniSearch JSON it replaces and rejects damaged bytes', async () => {
    const bytes = await buildBm25(chunks.map(lexicalDoc));
    const ms = new MiniSearch<Doc>(ORACLE);
    ms.addAll(chunks.map((c) => ({ ...c, symbols: c.symbols.join(' ') })));
    const json = Buffer.byteLength(JSON.stringify(ms));
    assert.ok(bytes.byteLength < json, `binary ${bytes.byteLength} B vs MiniSearch JSON ${json} B`);
    assert.throws(() => new Bm25Index(bytes.subarray(0, bytes.byteLength / 2)), /truncated|inconsistent/);
    const wrong = bytes.slice();
    wrong[0] = 0;
    assert.throws(() => new Bm25Index(wrong), /not a Sift BM25 index/);
    // An unaligned copy (as a pooled Buffer may be) still opens.
    const unaligned = Buffer.alloc(bytes.byteLength + 1);
    unaligned.set(bytes, 1);
    assert.equal(new Bm25Index(unaligned.subarray(1)).docs, chunks.length);
  });

  it('selectTop keeps the best k in order', () => {
    const values = Array.from({ length: 500 }, (_, i) => (i * 7919) % 97);
    const items = values.map((_, i) => i);
    const better = (a: number, b: number) => values[a]! > values[b]! || (values[a] === values[b] && a < b);
    const full = [...items].sort((a, b) => (better(a, b) ? -1 : 1));
    for (const k of [1, 5, 37, 500, 600]) assert.deepEqual(selectTop(items, k, better), full.slice(0, k));
  });
});

void describe('lexical caps: huge words and questions cost little (issue 14)', () => {
  void it('a 30 000-character word is skipped in well under a second (splitting and stemming were quadratic)', () => {
    for (const word of ['x'.repeat(30_000), 'A'.repeat(30_000), 'aB'.repeat(15_000)]) {
      const t0 = performance.now();
      const tokens = codeTokens(`before ${word} after`);
      const ms = performance.now() - t0;
      assert.ok(ms < 500, `${word.slice(0, 4)}…: ${ms} ms`);
      assert.deepEqual(tokens, ['befor', 'after']);
    }
  });

  void it('words up to MAX_WORD_CHARS still count; parts over MAX_STEM_CHARS are kept unstemmed', () => {
    const word = `uploads${'q'.repeat(MAX_WORD_CHARS - 7)}`;
    assert.equal(word.length, MAX_WORD_CHARS);
    assert.deepEqual(codeTokens(word), [word]);
    const long = 'z'.repeat(MAX_STEM_CHARS) + 'ing';
    assert.deepEqual(codeTokens(long), [long]);
  });

  void it('a text is tokenised up to MAX_TEXT_CHARS / MAX_TEXT_TOKENS, and a search uses MAX_QUERY_TERMS terms', async () => {
    const t0 = performance.now();
    const tokens = codeTokens('word '.repeat(1_000_000));
    assert.ok(tokens.length <= MAX_TEXT_TOKENS);
    assert.ok(performance.now() - t0 < 1000);
    const index = new Bm25Index(
      await buildBm25(
        docsFromFields([
          { id: 'a', fields: [new Map(), new Map([['alpha', 1]]), new Map(), new Map([['alpha', 2]])] },
          { id: 'b', fields: [new Map(), new Map([['beta', 1]]), new Map(), new Map([['beta', 1]])] },
        ]),
      ),
    );
    const many = Array.from({ length: 20_000 }, (_, i) => `t${i}`);
    const t1 = performance.now();
    assert.deepEqual(index.search([...many, 'alpha'], BOOSTS, BM25_PARAMS, 5), []);
    assert.equal(index.search(['alpha', ...many], BOOSTS, BM25_PARAMS, 5)[0]?.id, 'a');
    assert.ok(performance.now() - t1 < 1000);
    assert.equal(MAX_QUERY_TERMS, 512);
  });
});
