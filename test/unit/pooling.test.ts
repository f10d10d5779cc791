import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor, mean_pooling } from '@huggingface/transformers';
import { meanPoolNormalized } from '../../src/core/models/pooling';
import { rng } from '../../scripts/bench/corpus';

describe('meanPoolNormalized', () => {
  it('equals transformers.js mean_pooling + L2 normalisation on padded batches', () => {
    const r = rng(5);
    for (const [batch, seq, dim] of [[1, 1, 4], [3, 7, 5], [8, 33, 16], [32, 64, 384]] as const) {
      const hidden = Float32Array.from({ length: batch * seq * dim }, () => r() * 4 - 2);
      const mask = new BigInt64Array(batch * seq);
      for (let b = 0; b < batch; b++) {
        const len = b === 0 ? seq : 1 + Math.floor(r() * seq); // row 0 unpadded, others padded
        for (let s = 0; s < len; s++) mask[b * seq + s] = 1n;
      }
      const mine = meanPoolNormalized(hidden, [batch, seq, dim], mask);
      const oracle = mean_pooling(new Tensor('float32', hidden, [batch, seq, dim]), new Tensor('int64', mask, [batch, seq])).normalize(2, -1).data as Float32Array;
      assert.equal(mine.length, oracle.length);
      for (let i = 0; i < mine.length; i++) assert.ok(Math.abs(mine[i]! - oracle[i]!) < 1e-5, `[${batch},${seq},${dim}] at ${i}: ${mine[i]} vs ${oracle[i]}`);
      for (let b = 0; b < batch; b++) {
        let n = 0;
        for (let d = 0; d < dim; d++) n += mine[b * dim + d]! ** 2;
        assert.ok(Math.abs(n - 1) < 1e-5, `row ${b} has norm² ${n}`);
      }
    }
  });

  it('ignores what padded positions hold', () => {
    const hidden = Float32Array.from([1, 0, 0, 1, 1e6, -1e6]); // [1, 3, 2]; the third position is padding
    const mask = BigInt64Array.from([1n, 1n, 0n]);
    const out = meanPoolNormalized(hidden, [1, 3, 2], mask);
    assert.ok(Math.abs(out[0]! - Math.SQRT1_2) < 1e-6 && Math.abs(out[1]! - Math.SQRT1_2) < 1e-6, `${out[0]}, ${out[1]}`);
  });
});
