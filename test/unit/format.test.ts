import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCount } from '../../src/core/util/format';
import { mulberry32 } from '../../src/core/util/random';

describe('formatCount', () => {
  it('writes an integer as toLocaleString("en-US") does, without loading ICU', () => {
    for (const n of [0, 7, 999, 1000, 12_345, 100_000, 999_999, 1_000_000, 1_234_567_890, -1, -1234, -999_999]) assert.equal(formatCount(n), n.toLocaleString('en-US'), String(n));
    const rand = mulberry32(19);
    for (let i = 0; i < 2000; i++) {
      const n = Math.floor(rand() * 10 ** Math.floor(rand() * 13)) * (rand() < 0.2 ? -1 : 1) || 0; // toLocaleString writes -0 as "-0"
      assert.equal(formatCount(n), n.toLocaleString('en-US'), String(n));
    }
  });

  it('rounds a fraction to a whole count and keeps what is not finite readable', () => {
    assert.equal(formatCount(1234.4), '1,234');
    assert.equal(formatCount(1234.6), '1,235');
    assert.equal(formatCount(-0.2), '0');
    assert.equal(formatCount(Number.NaN), 'NaN');
    assert.equal(formatCount(Number.POSITIVE_INFINITY), 'Infinity');
  });
});
