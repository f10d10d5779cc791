import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type TestsPlan, fuseTests, testImports, testsFirstRetrieve } from '../../src/core/conversation/relatedTests';
import type { retrieve } from '../../src/core/search/retriever';
import type { Candidate } from '../../src/core/search/types';
import type { IndexStore } from '../../src/core/store/store';

const cand = (path: string, i: number, text = ''): Candidate => ({
  chunk: { id: `${path}#${i}`, path, startLine: i * 10 + 1, endLine: i * 10 + 9, language: 'python', kind: 'lines', symbols: [], header: '', text, hash: '' },
  provenance: { fused: { rank: i + 1, score: 1 / (i + 1) } },
  rankBefore: i + 1,
  rankAfter: i + 1,
});

const plan = (over: Partial<TestsPlan> = {}): TestsPlan => ({ named: [], mentions: [], terms: [], importers: [], heads: new Map(), ...over });
const k = (p: string) => `\u0000${p}`;

describe('tests of the earlier files: fused signals (relatedTests.ts)', () => {
  it('without other signals, test files keep the retrieval order and source files are not promoted', () => {
    const list = [cand('src/a.py', 0), cand('tests/test_b.py', 1), cand('tests/test_c.py', 2), cand('tests/conftest.py', 3)];
    const fused = fuseTests(list, plan());
    assert.deepEqual([...fused.entries()].sort((a, b) => b[1].score - a[1].score).map(([key]) => key), [k('tests/test_b.py'), k('tests/test_c.py')]);
  });

  it('a test named after the earlier file and one named after a word of the earlier question both rise above a better-retrieved test; reasons are kept', () => {
    const list = [cand('tests/test_noise.py', 0), cand('tests/test_other.py', 1), cand('tests/test_ledger.py', 2), cand('test/res.json.js', 3)];
    const fused = fuseTests(list, plan({ named: [{ file: { path: 'tests/test_ledger.py' }, score: 3, of: 'src/ledger.py', order: 0 }], terms: ['resjson'] }));
    const order = [...fused.entries()].sort((a, b) => b[1].score - a[1].score).map(([key]) => key);
    assert.equal(order[0], k('tests/test_ledger.py'));
    assert.ok(order.indexOf(k('test/res.json.js')) < order.indexOf(k('tests/test_other.py')), order.join(' '));
    assert.deepEqual(fused.get(k('tests/test_ledger.py'))!.why, ['test of src/ledger.py (file name)']);
    assert.match(fused.get(k('test/res.json.js'))!.why.join(), /named after "resjson"/);
  });

  it('importers and mentions count, weaker than names', () => {
    const list = [cand('tests/test_x.py', 0), cand('tests/test_y.py', 1, 'assert balance_entries(...)'), cand('tests/test_z.py', 2)];
    const fused = fuseTests(list, plan({ mentions: ['balance_entries'], importers: [{ file: { path: 'tests/test_z.py' }, of: 'src/ledger.py', order: 0 }] }));
    assert.ok(fused.get(k('tests/test_y.py'))!.score > fused.get(k('tests/test_x.py'))!.score);
    assert.ok(fused.get(k('tests/test_z.py'))!.score > fused.get(k('tests/test_x.py'))!.score);
    assert.deepEqual(fused.get(k('tests/test_z.py'))!.why, ['test importing src/ledger.py']);
  });

  it('the promoted block holds two chunks per test file (one file cannot fill the list), then everything else in order; an importer retrieval missed comes with its first chunk', async () => {
    const list = [cand('src/ledger.py', 0), ...Array.from({ length: 6 }, (_, i) => cand('tests/test_ledger.py', i + 1)), cand('tests/test_other.py', 7)];
    const inner: typeof retrieve = async () => ({ mode: 'lexical-only', candidates: list, timings: { embed: 0, dense: 0, lexical: 0, fuse: 0 } }) as never;
    const head = cand('tests/test_books.py', 0, 'from acme.ledger import post');
    const p = plan({
      named: [{ file: { path: 'tests/test_ledger.py' }, score: 3, of: 'src/ledger.py', order: 0 }],
      importers: [{ file: { path: 'tests/test_books.py' }, of: 'src/ledger.py', order: 0 }],
      heads: new Map([[k('tests/test_books.py'), [head]]]),
    });
    const r = await testsFirstRetrieve(inner, p)({} as IndexStore, 'q', { candidates: 20 });
    const paths = r.candidates.map((c) => c.chunk.path);
    assert.deepEqual(paths.slice(0, 2), ['tests/test_ledger.py', 'tests/test_ledger.py']);
    assert.deepEqual([...new Set(paths)].slice(0, 3).sort(), ['tests/test_books.py', 'tests/test_ledger.py', 'tests/test_other.py']);
    assert.ok(paths.indexOf('tests/test_books.py') < paths.indexOf('src/ledger.py'));
    assert.equal(paths.filter((p2) => p2 === 'tests/test_ledger.py').length, 6, 'the other chunks keep their places after the block');
    assert.ok(r.candidates[0]!.provenance.matched?.includes('test of src/ledger.py (file name)'));
  });

  it('reads a test\'s imports: Python modules and `from pkg import mod`, relative JS', () => {
    assert.ok(testImports('tests/test_x.py', 'from acme.ledger import post\n').includes('acme/ledger'));
    assert.ok(testImports('tests/test_x.py', 'from acme import ledger, books as b\n').includes('acme/ledger'));
    assert.ok(testImports('tests/test_x.py', 'from acme import ledger, books as b\n').includes('acme/books'));
    assert.ok(testImports('test/x.test.ts', "import { post } from '../src/ledger.js';\n").includes('src/ledger'));
  });
});
