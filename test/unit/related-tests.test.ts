import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type TestsPlan, fuseTests, namedAfter, testImports, testsFirstRetrieve } from '../../src/core/conversation/relatedTests';
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

  it('a name most listed tests mention is not a reason; a rare one ranks its test first', () => {
    const list = ['a', 'b', 'c', 'd', 'e'].map((n, i) => cand(`tests/test_${n}.py`, i, n === 'd' ? 'options evolve(inst)' : 'options = make_options()'));
    const fused = fuseTests(list, plan({ mentions: ['options', 'evolve'] }));
    assert.deepEqual(fused.get(k('tests/test_d.py'))!.why, ['test mentioning evolve']);
    assert.deepEqual(fused.get(k('tests/test_a.py'))!.why, [], 'options is in every listed test');
    assert.ok(fused.get(k('tests/test_d.py'))!.score > fused.get(k('tests/test_b.py'))!.score);
    // whole words only: "evolved" does not mention evolve
    const partial = fuseTests([cand('tests/test_x.py', 0, 'evolved = 1'), ...list.slice(1)], plan({ mentions: ['evolve'] }));
    assert.deepEqual(partial.get(k('tests/test_x.py'))!.why, []);
  });

  it('importers of a hub (a source most tests import) count less each and follow the retrieval order', () => {
    const list = [cand('tests/test_z.py', 0), cand('tests/test_y.py', 1), cand('tests/test_x.py', 2)];
    const hub = ['tests/test_a.py', 'tests/test_b.py', 'tests/test_c.py', 'tests/test_x.py', 'tests/test_y.py', 'tests/test_z.py'].map((p) => ({ file: { path: p }, of: 'src/core.py', order: 0 }));
    const one = fuseTests(list, plan({ importers: [{ file: { path: 'tests/test_x.py' }, of: 'src/ledger.py', order: 0 }] }));
    const many = fuseTests(list, plan({ importers: hub }));
    assert.ok(many.get(k('tests/test_z.py'))!.score > many.get(k('tests/test_a.py'))!.score, 'retrieval order among importers, not the alphabet');
    const gain = (m: typeof one, p: string) => m.get(k(p))!.score - fuseTests(list, plan()).get(k(p))!.score;
    assert.ok(gain(one, 'tests/test_x.py') > gain(many, 'tests/test_z.py'), 'the only importer gains more than the best of six');
  });

  it('object.method test names: the method part of a question word counts half (test/req.query.js for "query parser")', () => {
    const list = [cand('test/res.format.js', 0), cand('test/req.query.js', 1), cand('test/query.js', 2)];
    const fused = fuseTests(list, plan({ terms: ['query', 'parser'] }));
    assert.match(fused.get(k('test/req.query.js'))!.why.join(), /named after "query"/);
    assert.ok(fused.get(k('test/req.query.js'))!.score > fused.get(k('test/res.format.js'))!.score);
    assert.ok(fused.get(k('test/query.js'))!.score > fused.get(k('test/req.query.js'))!.score, 'the whole name counts more');
  });

  it('tests equally well named (a folder of them) are fused in the retrieval order', () => {
    const list = [cand('__tests__/response/vary.test.js', 0), cand('__tests__/response/back.test.js', 1)];
    const named = ['__tests__/response/attachment.test.js', '__tests__/response/back.test.js', '__tests__/response/vary.test.js'].map((p) => ({ file: { path: p }, score: 2, of: 'lib/response.js', order: 0, group: 0 }));
    const fused = fuseTests(list, plan({ named }));
    assert.ok(fused.get(k('__tests__/response/vary.test.js'))!.score > fused.get(k('__tests__/response/back.test.js'))!.score);
    assert.ok(fused.get(k('__tests__/response/back.test.js'))!.score > fused.get(k('__tests__/response/attachment.test.js'))!.score);
  });

  it('namedAfter: a folder named after the source (Jest __tests__/<module>/, tests/test_<module>/) counts as its name among other words', () => {
    assert.equal(namedAfter('lib/response.js', '__tests__/response/back.test.js'), 2);
    assert.equal(namedAfter('src/click/utils.py', 'tests/test_utils/test_echo.py'), 2);
    assert.equal(namedAfter('src/router/index.ts', 'test/router/match.spec.ts'), 2);
    assert.equal(namedAfter('lib/response.js', '__tests__/response/response.test.js'), 3);
    assert.equal(namedAfter('lib/request.js', '__tests__/response/back.test.js'), 0);
    assert.equal(namedAfter('lib/response.js', 'test/responses.js'), 0);
  });

  it('asked: the earlier question searched alone brings its test first, one the follow-up\'s search missed included', async () => {
    const followUpList = [cand('src/app.js', 0), cand('test/res.format.js', 1), cand('test/utils.js', 2)];
    const askedList = [cand('src/app.js', 0), cand('test/app.listen.js', 1), cand('test/app.js', 2)];
    const queries: string[] = [];
    const inner: typeof retrieve = async (_s, q) => {
      queries.push(q);
      return { mode: 'lexical-only', candidates: q === 'listen error callback' ? askedList : followUpList, timings: { embed: 0, dense: 0, lexical: 0, fuse: 0 } } as never;
    };
    const r = await testsFirstRetrieve(inner, plan({ asked: 'listen error callback' }))({} as IndexStore, 'how is that tested? listen error callback app', { candidates: 20 });
    assert.deepEqual(queries, ['how is that tested? listen error callback app', 'listen error callback']);
    assert.equal(r.candidates[0]!.chunk.path, 'test/app.listen.js');
    assert.ok(r.candidates[0]!.provenance.matched?.includes('test matching the earlier question'));
    const without = await testsFirstRetrieve(inner, plan())({} as IndexStore, 'how is that tested? listen error callback app', { candidates: 20 });
    assert.equal(without.candidates[0]!.chunk.path, 'test/res.format.js', 'without the signal the follow-up\'s order stands');
  });
});
