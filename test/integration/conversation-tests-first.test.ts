import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AskContext, rankCandidates } from '../../src/core/answer/ask';
import { newConversation } from '../../src/core/conversation/conversation';
import { askTurn, prepareTurn } from '../../src/core/conversation/turn';
import { indexWorkspace } from '../../src/core/indexing/indexer';
import { IndexStore } from '../../src/core/store/store';
import { InferenceClient } from '../../src/core/worker/client';
import { WORKER_SCRIPT, tempDir, writeTree } from '../helpers';
import { SHOP_REPO } from '../support/shopRepo';

describe('follow-ups about tests rank the earlier files\' tests first (lexical, real index)', () => {
  let client: InferenceClient;
  let store: IndexStore;
  let cleanup: () => void;

  before(async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const root = path.join(t.dir, 'repo');
    const indexDir = path.join(t.dir, 'index');
    writeTree(root, SHOP_REPO);
    client = new InferenceClient(WORKER_SCRIPT);
    const gen = indexWorkspace({ root, indexDir, client, embedding: null });
    let r = await gen.next();
    while (!r.done) r = await gen.next();
    store = (await IndexStore.openForRead(indexDir)).store!;
  });

  after(async () => {
    await store.close();
    await client.dispose();
    cleanup();
  });

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
