import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { idleTimes, threadSplit } from '../../scripts/bench/bench';

describe('benchmark round statistics', () => {
  it('idleTimes: time with no embed request in flight, before, between (overlaps merged) and after', () => {
    const calls = [
      { sentAt: 130, doneAt: 200 },
      { sentAt: 100, doneAt: 150 }, // out of order, overlapping the next
      { sentAt: 260, doneAt: 300 }, // 60 idle before it
      { sentAt: 270, doneAt: 280 }, // inside the previous one
      { sentAt: 310, doneAt: 350 }, // 10 idle before it
    ];
    assert.deepEqual(idleTimes(calls, 40, 400), { before: 60, between: 70, after: 50 });
    assert.deepEqual(idleTimes([], 0, 80), { before: 80, between: 0, after: 0 });
  });

  it('threadSplit: the two busiest other threads are onnxruntime’s; main and indexing threads apart', () => {
    const rep = { pid: 10, threads: { 10: 500, 11: 300, 12: 70_000, 13: 71_000, 14: 900, 15: 5 } };
    assert.deepEqual(threadSplit(rep, 99, 3200), { onnxruntime: 141_000, indexing: 3200, host: 500, other: 1205 });
    assert.equal(threadSplit(rep, undefined, 3200), undefined);
    assert.equal(threadSplit({ pid: 10, threads: {} }, 99, 3200), undefined);
  });
});
