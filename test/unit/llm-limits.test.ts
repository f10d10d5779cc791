import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LIMIT_DEFAULTS, resolveLimits, retryWait } from '../../src/core/llm/limits';

describe('LLM limits: resolution and retry waits', () => {
  it('defaults, and ceilings for values no setting may reach (a timer over 2^31 ms fires at once)', () => {
    const d = resolveLimits({});
    assert.equal(d.firstTextMs, LIMIT_DEFAULTS.timeoutMs);
    assert.equal(d.idleMs, 30_000);
    assert.equal(d.deadlineMs, 300_000);
    assert.equal(d.maxAnswerChars, 200_000);
    assert.equal(d.maxRetries, 2);
    const huge = resolveLimits({ timeoutMs: 1e15, idleTimeoutMs: 1e15, deadlineMs: 1e15, maxAnswerChars: 1e15, maxRetries: 1e9 });
    assert.ok(huge.firstTextMs <= 600_000 && huge.idleMs <= 600_000 && huge.deadlineMs <= 3_600_000);
    assert.ok(huge.maxAnswerChars <= 5_000_000 && huge.maxRetries === 5);
    assert.ok(huge.maxResponseBytes <= 5_000_000 * 512 && huge.maxEventBytes <= 5_000_000 * 8);
    const bad = resolveLimits({ timeoutMs: Number.NaN, idleTimeoutMs: -1, deadlineMs: 0, maxAnswerChars: Number.POSITIVE_INFINITY, maxRetries: -3 });
    assert.deepEqual([bad.firstTextMs, bad.idleMs, bad.deadlineMs, bad.maxAnswerChars, bad.maxRetries], [60_000, 30_000, 300_000, 200_000, 0]);
  });

  it('retry waits: statuses, Retry-After forms, a refusal header, and waits too long to make', () => {
    const h = (o: Record<string, string>) => new Headers(o);
    assert.deepEqual(retryWait(400, h({}), 0), {});
    assert.deepEqual(retryWait(401, h({ 'retry-after': '0' }), 0), {});
    assert.deepEqual(retryWait(503, h({ 'x-should-retry': 'false' }), 0), {});
    assert.deepEqual(retryWait(429, h({ 'retry-after': '2' }), 0), { ms: 2000 });
    assert.deepEqual(retryWait(429, h({ 'retry-after-ms': '150', 'retry-after': '9' }), 0), { ms: 150 });
    assert.deepEqual(retryWait(429, h({ 'retry-after': '3600' }), 0), { tooLongMs: 3_600_000 });
    const date = retryWait(503, h({ 'retry-after': new Date(Date.now() + 7 * 24 * 3600_000).toUTCString() }), 0);
    assert.ok(date.tooLongMs !== undefined && date.ms === undefined);
    const backoff = retryWait(undefined, undefined, 10).ms!;
    assert.ok(backoff <= 8000 && backoff >= 6000, String(backoff));
    assert.equal(retryWait(500, h({ 'retry-after': 'soon' }), 0).tooLongMs, undefined);
  });
});
