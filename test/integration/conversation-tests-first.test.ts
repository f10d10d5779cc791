import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AskContext, rankCandidates } from '../../src/core/answer/ask';
import { newConversation } from '../../src/core/conversation/conversation';
import { askTurn, prepareTurn } from '../../src/core/conversation/turn';
import type { IndexStore } from '../../src/core/store/store';
import { useLexicalIndex } from '../helpers';
import { SHOP_REPO } from '../support/shopRepo';

describe('follow-ups about tests rank the earlier files\' tests first (lexical, real index)', () => {
  let store!: IndexStore;

  useLexicalIndex(SHOP_REPO, (s) => (store = s));

  // Default settings (as sift chat and sift eval): turn 1 carries every source it showed, tests of other files among them.
  const ctx: () => AskContext = () => ({ store, settings: {} });
  const files = (r: { candidates: { chunk: { path: string } }[] }) => [...new Set(r.candidates.map((c) => c.chunk.path))];

  it('"and where is this tested?" after an invoice question: the invoice test first (without the step, the report test that talks more about invoices wins)', async () => {
    const first = await askTurn(ctx(), newConversation('t'), 'How is the sales tax added to the invoice total?', { rerank: false });
    assert.equal(first.result.sources[0]?.path, 'src/shop/invoice.py');
    const plain = await prepareTurn(ctx(), first.conversation, 'and where is this tested?', { rerank: false, testsFirst: false });
    const before = files(await rankCandidates(plain.ctx, 'and where is this tested?', plain.rankOptions));
    assert.notEqual(before[0], 'tests/test_invoice.py', `the fixture is not trivial: ${before.join(', ')}`);
    const logs: string[] = [];
    const prepared = await prepareTurn(ctx(), first.conversation, 'and where is this tested?', { rerank: false, log: (l) => logs.push(l) });
    const ranked = await rankCandidates(prepared.ctx, 'and where is this tested?', prepared.rankOptions);
    assert.equal(files(ranked)[0], 'tests/test_invoice.py', files(ranked).join(', '));
    assert.ok(ranked.candidates[0]!.provenance.matched?.some((m) => m.includes('test of src/shop/invoice.py')), 'provenance says why');
    assert.ok(logs.some((l) => l.includes('tests/test_invoice.py')), logs.join('\n'));
    // askTurn (what sift chat and the panel call) takes the same path.
    const second = await askTurn(ctx(), first.conversation, 'and where is this tested?', { rerank: false });
    assert.equal(second.result.sources[0]?.path, 'tests/test_invoice.py');
  });

  it('other phrasings and subjects: "which tests cover it?" after a shipping question', async () => {
    const first = await askTurn(ctx(), newConversation('s'), 'What does shipping a parcel cost by weight and zone?', { rerank: false });
    const second = await askTurn(ctx(), first.conversation, 'which tests cover it?', { rerank: false });
    assert.equal(second.result.sources[0]?.path, 'tests/test_shipping.py', second.result.sources.map((s) => s.path).join(', '));
  });

  it('a follow-up that is not about tests, and a new self-contained question, are left alone', async () => {
    const first = await askTurn(ctx(), newConversation('n'), 'How is the sales tax added to the invoice total?', { rerank: false });
    const notTests = await prepareTurn(ctx(), first.conversation, 'and what calls it?', { rerank: false });
    assert.equal(notTests.standalone.method, 'fallback');
    assert.equal(notTests.ctx.retrieve, undefined, 'no tests-first retrieval for a follow-up that does not ask about tests');
    const fresh = await prepareTurn(ctx(), first.conversation, 'How is shipping_cost tested for parcels sent abroad?', { rerank: false });
    assert.equal(fresh.standalone.method, 'self-contained');
    assert.equal(fresh.ctx.retrieve, undefined, 'a self-contained question is searched as asked');
  });
});

describe('follow-ups about tests: tests named after the earlier question, and tests that import the earlier file (lexical, real index)', () => {
  let store!: IndexStore;
  // Tests named by API (test/res.json.js) rather than by file (lib/response.js), as in express; a
  // test named after the file's word (test/app.response.js) is about something else; the ledger's
  // tests live in a file that imports it under another name.
  const REPO: Record<string, string> = {
    'lib/response.js': ['/** res.json: send a JSON body with the right content type. */', 'res.json = function json(obj) {', '  const body = JSON.stringify(obj);', "  this.set('Content-Type', 'application/json');", '  return this.send(body);', '};', ''].join('\n'),
    'lib/ledger.js': ['/** Post an entry to the ledger and keep debits and credits balanced. */', 'exports.postEntry = function postEntry(book, entry) {', '  book.entries.push(entry);', '  return book.entries.reduce((s, e) => s + e.amount, 0) === 0;', '};', ''].join('\n'),
    'test/res.json.js': ["const request = require('supertest');", '', "describe('res', () => {", "  it('should send a json body', () => {", "    return request(app).get('/').expect('Content-Type', /json/);", '  });', '});', ''].join('\n'),
    'test/app.response.js': ["describe('app.response', () => {", "  it('should extend the response prototype for this app (tested here, where the response is tested)', () => {", '    app.response.shout = function () {};', '  });', '});', ''].join('\n'),
    'test/books.js': ["const { postEntry: post } = require('../lib/ledger');", '', "describe('books', () => {", "  it('keeps a book even', () => {", '    post(book, { amount: 5 });', '  });', '});', ''].join('\n'),
    'test/entries.tested.js': ["describe('which tests cover posting entries', () => {", "  it('covers posting an entry: debits and credits balanced, tested', () => {});", "  it('which tests cover it? posting entries, debits, credits, balanced entries', () => {});", '});', ''].join('\n'),
  };

  useLexicalIndex(REPO, (s) => (store = s));

  const ctx: () => AskContext = () => ({ store, settings: {} });
  const files = (r: { candidates: { chunk: { path: string } }[] }) => [...new Set(r.candidates.map((c) => c.chunk.path))];

  it('"Remove the res.json(status, obj) signature" then "how is that tested?": test/res.json.js first, not the test named after the file\'s word', async () => {
    const first = await askTurn(ctx(), newConversation('j'), 'Remove the res.json(status, obj) signature', { rerank: false });
    assert.equal(first.result.sources[0]?.path, 'lib/response.js');
    const prepared = await prepareTurn(ctx(), first.conversation, 'how is that tested?', { rerank: false });
    const ranked = await rankCandidates(prepared.ctx, 'how is that tested?', prepared.rankOptions);
    assert.equal(files(ranked)[0], 'test/res.json.js', files(ranked).join(', '));
    assert.ok(ranked.candidates[0]!.provenance.matched?.some((m) => m.includes('named after "resjson"')), JSON.stringify(ranked.candidates[0]!.provenance.matched));
  });

  it('"which tests cover it?" after a ledger question: the test that imports lib/ledger.js comes before the one that only talks about it', async () => {
    const first = await askTurn(ctx(), newConversation('l'), 'How does posting an entry keep debits and credits balanced?', { rerank: false });
    assert.equal(first.result.sources[0]?.path, 'lib/ledger.js');
    const plain = await prepareTurn(ctx(), first.conversation, 'which tests cover it?', { rerank: false, testsFirst: false });
    const before = files(await rankCandidates(plain.ctx, 'which tests cover it?', plain.rankOptions)).filter((p) => p.startsWith('test/'));
    assert.notEqual(before[0], 'test/books.js', `the fixture is not trivial: ${before.join(', ')}`);
    const prepared = await prepareTurn(ctx(), first.conversation, 'which tests cover it?', { rerank: false });
    const ranked = await rankCandidates(prepared.ctx, 'which tests cover it?', prepared.rankOptions);
    assert.equal(files(ranked)[0], 'test/books.js', files(ranked).join(', '));
    assert.ok(ranked.candidates[0]!.provenance.matched?.includes('test importing lib/ledger.js'));
  });
});

describe('follow-ups about tests: a folder of tests named after the source, hub imports, names every test mentions (lexical, real index)', () => {
  let store!: IndexStore;
  const lines = (...l: string[]) => [...l, ''].join('\n');
  // koa-like: lib/response.js is tested in __tests__/response/<method>.test.js (Jest's __tests__
  // layout); a redirect test outside that folder talks more about redirects and the referrer.
  // attrs-like: pkg/core.py is imported by every test (a hub); the evolve tests live in
  // tests/test_functional.py, and "core" and "instance" are mentioned by every test.
  const REPO: Record<string, string> = {
    'lib/response.js': lines(
      '/** res.back(): redirect to the Referrer header, or to the fallback path when there is none. */',
      'exports.back = function back(fallback) {',
      "  const referrer = this.ctx.get('Referrer') || fallback || '/';",
      '  this.redirect(referrer);',
      '};',
      '/** res.attachment(): set Content-Disposition so the body downloads as a file. */',
      'exports.attachment = function attachment(filename) {',
      "  this.set('Content-Disposition', contentDisposition(filename));",
      '};',
    ),
    'lib/cookies.js': lines('/** Read a signed cookie and check its signature. */', 'exports.signedCookie = function signedCookie(name, keys) {', '  return verify(this.get(name), keys);', '};'),
    '__tests__/response/back.test.js': lines("const response = require('../../lib/response');", '', "describe('ctx.back()', () => {", "  it('goes to the previous page', () => {", "    ctx.header.referrer = '/login';", '    response.back.call(ctx);', '  });', '});'),
    '__tests__/response/attachment.test.js': lines("const response = require('../../lib/response');", '', "describe('ctx.attachment()', () => {", "  it('sets the disposition', () => {", "    response.attachment.call(ctx, 'a.txt');", '  });', '});'),
    '__tests__/navigation.test.js': lines(
      "describe('redirect to the referrer', () => {",
      "  it('redirects back to the Referrer header when there is a referrer, else to the fallback', () => {",
      "    ctx.redirect('back', '/fallback'); // redirect referrer fallback redirect referrer fallback",
      '  });',
      "  it('redirects to the fallback path without a referrer: redirect, referrer, fallback', () => {});",
      '});',
    ),
    '__tests__/cookies.test.js': lines("const cookies = require('../lib/cookies');", '', "describe('signed cookies', () => {", "  it('verifies the signature', () => {", "    cookies.signedCookie.call(ctx, 'sid', ['k']);", '  });', '});'),
    '__tests__/response/cookie-header.test.js': lines("describe('Set-Cookie header', () => {", "  it('writes a signed cookie with its signature cookie: signed cookie signature, signed cookie', () => {", "    ctx.cookies.set('sid', 'v', { signed: true }); // signed cookie signature", '  });', '});'),
    'pkg/core.py': lines(
      'class Instance:',
      '    """An instance built by the core: its fields and their values."""',
      '',
      'def evolve(instance, **changes):',
      '    """A copy of the instance with some fields changed; the original instance is left as is."""',
      '    values = dict(instance.__dict__)',
      '    values.update(changes)',
      '    return type(instance)(**values)',
      '',
      'def build_instance(cls, **values):',
      '    """Build an instance of the core class from field values."""',
      '    return cls(**values)',
    ),
    ...Object.fromEntries(
      ['dunders', 'hooks', 'init', 'repr', 'slots'].map((n) => [
        `tests/test_${n}.py`,
        lines('from pkg.core import Instance, build_instance', '', `def test_${n}_instance():`, `    """The core builds an instance; its ${n} works on the instance."""`, `    instance = build_instance(Instance, ${n}=1)`, '    assert instance', ''),
      ]),
    ),
    'tests/test_functional.py': lines('from pkg.core import Instance, evolve', '', 'def test_copy_with_changes():', '    i = Instance()', '    j = evolve(i, x=2)', '    assert j is not i'),
  };

  useLexicalIndex(REPO, (s) => (store = s));

  const ctx: () => AskContext = () => ({ store, settings: {} });
  const files = (r: { candidates: { chunk: { path: string } }[] }) => [...new Set(r.candidates.map((c) => c.chunk.path))];
  const followUp = async (question: string, source: string, q2: string) => {
    const first = await askTurn(ctx(), newConversation(question), question, { rerank: false });
    assert.equal(first.result.sources[0]?.path, source, first.result.sources.map((s) => s.path).join(', '));
    const plain = await prepareTurn(ctx(), first.conversation, q2, { rerank: false, testsFirst: false });
    const before = files(await rankCandidates(plain.ctx, q2, plain.rankOptions)).filter((p) => /(^|\/)(__tests__|tests)\//.test(p));
    const prepared = await prepareTurn(ctx(), first.conversation, q2, { rerank: false });
    const ranked = await rankCandidates(prepared.ctx, q2, prepared.rankOptions);
    const why = [...new Map(ranked.candidates.map((c) => [c.chunk.path, c.provenance.matched ?? []])).entries()].slice(0, 5).map(([p, m]) => `${p} [${m.join('; ')}]`).join('\n');
    return { before, after: files(ranked), first: ranked.candidates[0]!, why };
  };

  it('"and where is this tested?" after a res.back question: __tests__/response/back.test.js first, not the navigation test that says more about redirects and referrers', async () => {
    const r = await followUp('How does res.back redirect to the referrer or the fallback?', 'lib/response.js', 'and where is this tested?');
    assert.notEqual(r.before[0], '__tests__/response/back.test.js', `the fixture is not trivial: ${r.before.join(', ')}`);
    assert.equal(r.after[0], '__tests__/response/back.test.js', r.why);
    assert.ok(r.after.indexOf('__tests__/response/back.test.js') < r.after.indexOf('__tests__/response/attachment.test.js'), 'within the folder, retrieval decides');
    assert.ok(r.first.provenance.matched?.includes('test of lib/response.js (file name)'), JSON.stringify(r.first.provenance.matched));
  });

  it('a source without such a folder keeps its own test first: lib/cookies.js → __tests__/cookies.test.js, not the response folder\'s cookie test', async () => {
    const r = await followUp('How is a signed cookie verified against its signature?', 'lib/cookies.js', 'which tests cover it?');
    assert.equal(r.after[0], '__tests__/cookies.test.js', r.after.join(', '));
  });

  it('"how is that tested?" after an evolve question: the evolve test stays first among the hub\'s importers, and the names every test mentions are not counted', async () => {
    const r = await followUp('How does evolve copy an instance with changes?', 'pkg/core.py', 'how is that tested?');
    assert.equal(r.after[0], 'tests/test_functional.py', r.why);
    assert.ok(!r.first.provenance.matched?.some((m) => /mentioning .*\b(core|instance)\b/.test(m)), `names every test mentions are not reasons: ${r.why}`);
  });
});
