import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SiftError } from '../../src/core/util/errors';
import { INDEX_CHANGED_ATTEMPTS, retryIfIndexChanged } from '../../src/core/store/indexChanged';

/** A run that fails with `error` the first `failures` times, then answers. */
function flaky(failures: number, error: () => Error) {
  let calls = 0;
  return {
    run: async () => {
      calls++;
      if (calls <= failures) throw error();
      return 'answer';
    },
    calls: () => calls,
  };
}

const changed = () => new SiftError('The index changed while it was read; ask again.', 'index-changed');

describe('a question whose index changed while it was read runs again', () => {
  it('answers after index-changed up to the last attempt (two commits during a read, more than once)', async () => {
    const r = flaky(INDEX_CHANGED_ATTEMPTS - 1, changed);
    assert.equal(await retryIfIndexChanged(r.run), 'answer');
    assert.equal(r.calls(), INDEX_CHANGED_ATTEMPTS);
  });

  it('gives up with the error after the last attempt', async () => {
    const r = flaky(INDEX_CHANGED_ATTEMPTS, changed);
    await assert.rejects(retryIfIndexChanged(r.run), (e: unknown) => e instanceof SiftError && e.code === 'index-changed');
    assert.equal(r.calls(), INDEX_CHANGED_ATTEMPTS);
  });

  it('does not run again for any other error', async () => {
    const r = flaky(1, () => new SiftError('The index is damaged.', 'index-corrupt'));
    await assert.rejects(retryIfIndexChanged(r.run), /damaged/);
    assert.equal(r.calls(), 1);
  });
});
