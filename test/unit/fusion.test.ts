import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reciprocalRankFusion } from '../../src/core/search/fusion';

describe('reciprocal rank fusion', () => {
  const dense = { name: 'dense', ids: ['a', 'b', 'c'] };
  const lexical = { name: 'lexical', ids: ['x', 'b', 'a'] };

  it('sums 1/(k + rank) over the lists; ties by best rank, then id', () => {
    const fused = reciprocalRankFusion([dense, lexical], 60);
    assert.deepEqual(fused.map((f) => f.id), ['a', 'b', 'x', 'c']);
    assert.equal(fused[0]!.score, 1 / 61 + 1 / 63);
    assert.equal(fused[2]!.score, 1 / 61);
  });

  it('a document a retriever cannot see is scored over the lists that can, so it is not outranked for that alone', () => {
    // x has no vector yet: dense search cannot rank it. Averaged over the one list that sees it, its
    // keyword rank 1 beats a and b, which both lists see and neither ranks first in both.
    const fused = reciprocalRankFusion([{ ...dense, blind: new Set(['x']) }, lexical], 60);
    assert.deepEqual(fused.map((f) => f.id), ['x', 'a', 'b', 'c']);
    assert.equal(fused[0]!.score, 2 / 61);
    // c is seen by both and ranked by one: unchanged. An empty blind set is plain fusion.
    assert.equal(fused.find((f) => f.id === 'c')!.score, 1 / 63);
    assert.deepEqual(reciprocalRankFusion([{ ...dense, blind: new Set() }, lexical], 60), reciprocalRankFusion([dense, lexical], 60));
  });
});
