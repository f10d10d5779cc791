import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FEATURE_NAMES, extractFeatures } from '../../src/core/ltr/features';
import { ltrRerank, shippedLtrModel } from '../../src/core/ltr/model';
import { retrieve } from '../../src/core/search/retriever';
import type { Candidate } from '../../src/core/search/types';
import type { IndexStore } from '../../src/core/store/store';
import { useLexicalIndex } from '../helpers';

/** A small shop: the discount is implemented in cart.py, called from checkout.py, tested and documented. */
const REPO: Record<string, string> = {
  'src/shop/cart.py': [
    'class Cart:',
    '    def __init__(self):',
    '        self.items = []',
    '',
    '    def apply_discount(self, code):',
    '        rate = DISCOUNTS[code]',
    '        return self.total() * (1 - rate)',
    '',
    'DISCOUNTS = {"SUMMER": 0.1}',
    '',
  ].join('\n'),
  'src/shop/checkout.py': ['from shop.cart import Cart', '', 'def pay(cart, code):', '    """Charge the cart after its discount."""', '    amount = cart.apply_discount(code)', '    return charge(amount)', ''].join('\n'),
  'tests/test_cart.py': [
    'from shop.cart import Cart',
    '',
    'def test_apply_discount_summer():',
    '    cart = Cart()',
    '    assert cart.apply_discount("SUMMER") == 0',
    '',
    'def test_apply_discount_unknown_code():',
    '    cart = Cart()',
    '    cart.apply_discount("WINTER")',
    '',
  ].join('\n'),
  'docs/discounts.md': '# Discounts\n\nCall `apply_discount` with a discount code; an unknown code raises KeyError.\n',
};

const BUG = [
  'apply_discount crashes with an unknown discount code',
  '',
  'Traceback (most recent call last):',
  '  File "/home/me/app/src/shop/checkout.py", line 5, in pay',
  '    amount = cart.apply_discount(code)',
  '  File "/home/me/app/src/shop/cart.py", line 6, in apply_discount',
  '    rate = DISCOUNTS[code]',
  "KeyError: 'WINTER'",
].join('\n');

describe('learning-to-rank role, question-kind and file-evidence features (lexical, real index)', () => {
  let store!: IndexStore;

  useLexicalIndex(REPO, (s) => (store = s));

  const f = (x: number[], name: (typeof FEATURE_NAMES)[number]) => x[FEATURE_NAMES.indexOf(name)]!;
  /** The feature rows of the retrieved candidates, by file: the first chunk of each file in the list, and every chunk. */
  async function featuresOf(question: string): Promise<{ candidates: Candidate[]; x: number[][]; first: (path: string) => number[] }> {
    const { candidates } = await retrieve(store, question, { candidates: 50 });
    const x = extractFeatures(question, candidates);
    const first = (path: string) => {
      const i = candidates.findIndex((c) => c.chunk.path === path);
      assert.ok(i >= 0, `${path} retrieved: ${candidates.map((c) => c.chunk.path).join(', ')}`);
      return x[i]!;
    };
    return { candidates, x, first };
  }

  it('a bug report with a traceback: roles against the report kind, frames, the frame line, the definition and the import link', async () => {
    const { candidates, x, first } = await featuresOf(BUG);
    for (const row of x) assert.equal(row.length, FEATURE_NAMES.length);
    const test = first('tests/test_cart.py');
    assert.equal(f(test, 'role_test'), 1);
    assert.equal(f(test, 'role_off_report'), 1, 'a test file for a bug report');
    assert.equal(f(test, 'role_asked'), 0);
    assert.equal(f(test, 'role_prior'), Math.log(0.5));
    const doc = first('docs/discounts.md');
    assert.equal(f(doc, 'role_doc'), 1);
    assert.equal(f(doc, 'role_off_report'), 1);

    const cart = first('src/shop/cart.py');
    assert.equal(f(cart, 'role_test') + f(cart, 'role_doc') + f(cart, 'role_off_report'), 0, 'implementation');
    assert.equal(f(cart, 'role_prior'), 0);
    assert.equal(f(cart, 'ev_frame'), 1, 'the innermost frame names cart.py');
    assert.equal(f(cart, 'ev_defines_qualified') + f(cart, 'ev_defines_name'), 1, 'cart.py defines apply_discount');
    // The chunk that holds line 6 has the frame line; it is the whole small class (symbol path Cart), so it
    // does not itself end with the name — the definition inside its text counts for the file (above).
    const atLine = candidates.findIndex((c) => c.chunk.path === 'src/shop/cart.py' && c.chunk.startLine <= 6 && c.chunk.endLine >= 6);
    assert.ok(atLine >= 0);
    assert.equal(f(x[atLine]!, 'ev_frame_line'), 1);
    assert.equal(f(x[atLine]!, 'ev_chunk_defines'), candidates[atLine]!.chunk.symbols.at(-1) === 'apply_discount' ? 1 : 0);

    const checkout = first('src/shop/checkout.py');
    assert.equal(f(checkout, 'ev_frame'), 1);
    // The outer frame is "in pay": checkout.py's pay chunk defines a symbol the question names.
    const pay = candidates.findIndex((c) => c.chunk.path === 'src/shop/checkout.py' && c.chunk.symbols.at(-1) === 'pay');
    assert.ok(pay >= 0, candidates.filter((c) => c.chunk.path === 'src/shop/checkout.py').map((c) => c.chunk.symbols.join('.')).join(', '));
    assert.equal(f(x[pay]!, 'ev_chunk_defines'), 1);
    assert.equal(f(test, 'ev_defines_name') + f(test, 'ev_defines_qualified') + f(test, 'ev_chunk_defines'), 0, 'the test only calls it');
    // Implementation files named by the trace carry the prior's weight; the test's prior is the near-tier below them.
    assert.ok(f(cart, 'ev_prior') > f(test, 'ev_prior') + 5, `${f(cart, 'ev_prior')} vs ${f(test, 'ev_prior')}`);
    assert.ok(f(test, 'ev_prior') >= -10);
  });

  it('the same roles read differently when the question asks about tests; a file named by a written path and one importing it', async () => {
    const { first } = await featuresOf('How is apply_discount tested in tests/test_cart.py?');
    const test = first('tests/test_cart.py');
    assert.equal(f(test, 'role_asked'), 1);
    assert.equal(f(test, 'role_off_report'), 0);
    assert.equal(f(test, 'role_prior'), Math.log(1.5));
    assert.equal(f(test, 'ev_path'), 1, 'a written path, not a frame');
    assert.equal(f(test, 'ev_frame'), 0);
    const cart = first('src/shop/cart.py');
    assert.equal(f(cart, 'ev_imports'), 1, 'tests/test_cart.py imports shop.cart');
    assert.equal(f(cart, 'role_prior'), 0);
  });

  it('the shipped model scores the real candidates deterministically', async () => {
    const { candidates } = await featuresOf(BUG);
    const a = ltrRerank(shippedLtrModel(), BUG, candidates);
    const b = ltrRerank(shippedLtrModel(), BUG, candidates);
    assert.deepEqual(
      a.map((c) => [c.chunk.id, c.provenance.ltr!.score]),
      b.map((c) => [c.chunk.id, c.provenance.ltr!.score]),
    );
    assert.ok(a.every((c) => Number.isFinite(c.provenance.ltr!.score)));
  });
});
