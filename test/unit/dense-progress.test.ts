/**
 * The dense pass's visibility: rate and ETA computed once in the core (DenseTracker) from the
 * indexer's events on an injected clock, and what the status bar shows for it (statusView).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DenseTracker, combineDense, describeDense, formatDuration } from '../../src/core/indexing/denseProgress';
import type { IndexEvent } from '../../src/core/indexing/indexer';
import type { IndexStatus } from '../../src/protocol/messages';
import { IndexStatus as IndexStatusSchema } from '../../src/protocol/messages';
import { computeStatus, newFolderEntry } from '../../src/vscode/indexStatus';
import { statusView } from '../../src/vscode/statusText';
import { folderRef } from '../support/fakeWorkspace';

/** A clock the test moves by hand (ms). */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const ready = (embedded: number, chunks: number): IndexEvent => ({ type: 'lexical-ready', generation: 1, embedded, chunks });
const dense = (done: number, total: number, embedded: number, chunks: number): IndexEvent => ({ type: 'dense', done, total, embedded, chunks });

describe('DenseTracker', () => {
  it('measures the rate between progress events on the injected clock, and the ETA from what is left', () => {
    const clock = manualClock();
    const t = new DenseTracker({ now: clock.now, smoothingMs: 30_000 });
    assert.equal(t.observe({ type: 'discovering', seen: 500 }), false, 'other events change nothing');
    assert.equal(t.observe(ready(0, 10_000)), true);
    assert.deepEqual(t.status(), { embedded: 0, chunks: 10_000, percent: 0, running: true }, 'no rate before the first measurement');
    clock.advance(10_000);
    t.observe(dense(1000, 10_000, 1000, 10_000));
    assert.deepEqual(t.status(), { embedded: 1000, chunks: 10_000, percent: 10, running: true, rate: 100, etaSeconds: 90 });
    // Slower now: 1000 chunks in 20 s (50/s). Smoothed: 100 + (1 - e^(-20/30)) * (50 - 100).
    clock.advance(20_000);
    t.observe(dense(2000, 10_000, 2000, 10_000));
    const expected = 100 + (1 - Math.exp(-20 / 30)) * (50 - 100);
    const s = t.status();
    assert.equal(s.rate, Math.round(expected * 10) / 10);
    assert.equal(s.etaSeconds, Math.ceil(8000 / expected));
    assert.equal(s.percent, 20);
  });

  it('weighs a rate by the time it was measured over, not by the number of events', () => {
    const clock = manualClock();
    const t = new DenseTracker({ now: clock.now, smoothingMs: 30_000 });
    t.observe(ready(0, 100_000));
    clock.advance(60_000);
    t.observe(dense(6000, 100_000, 6000, 100_000)); // 100/s for a minute
    // A burst of commits 1 ms apart after a stall must not swing the estimate to thousands per second.
    clock.advance(1);
    t.observe(dense(6010, 100_000, 6010, 100_000));
    assert.ok(t.status().rate! < 110, `rate ${t.status().rate}`);
  });

  it('a pass that made way for saved changes (not stopped) keeps its rate when the next run continues it; a stopped one starts measuring again', () => {
    const clock = manualClock();
    const t = new DenseTracker({ now: clock.now, smoothingMs: 30_000 });
    t.observe(ready(0, 10_000));
    clock.advance(10_000);
    t.observe(dense(1000, 10_000, 1000, 10_000));
    // The update's keyword pass (a second or so), then its lexical-ready: the pass continues, its done counter from 0.
    clock.advance(1500);
    t.observe(ready(1000, 10_002));
    assert.deepEqual(t.status(), { embedded: 1000, chunks: 10_002, percent: 9, running: true, rate: 100, etaSeconds: 91 });
    clock.advance(10_000);
    t.observe(dense(1000, 9002, 2000, 10_002));
    assert.equal(t.status().rate, 100, 'measured from the continued pass\'s start, not across the update');
    t.stop();
    t.observe(ready(2000, 10_002));
    assert.equal(t.status().rate, undefined);
  });

  it('the pass ending clears rate and ETA and keeps the coverage; a lexical-only index reads 0 % and not running', () => {
    const clock = manualClock();
    const t = new DenseTracker({ now: clock.now });
    t.observe(ready(0, 400));
    clock.advance(4000);
    t.observe(dense(400, 400, 400, 400));
    assert.equal(t.status().running, false, 'done when every missing chunk is embedded');
    assert.equal(t.status().rate, undefined);
    t.stop({ embedded: 400, chunks: 400 });
    assert.deepEqual(t.status(), { embedded: 400, chunks: 400, percent: 100, running: false });
    const lexical = new DenseTracker({ now: clock.now });
    lexical.stop({ embedded: 0, chunks: 50 });
    assert.deepEqual(lexical.status(), { embedded: 0, chunks: 50, percent: 0, running: false });
  });

  it('combines folders and says it in words', () => {
    const a = { embedded: 300, chunks: 1000, percent: 30, running: true, rate: 50, etaSeconds: 14 };
    const b = { embedded: 1000, chunks: 1000, percent: 100, running: false };
    const c = combineDense([a, b]);
    assert.deepEqual(c, { embedded: 1300, chunks: 2000, percent: 65, running: true, rate: 50, etaSeconds: 14 });
    assert.equal(describeDense(c), 'Dense search covers 65 % of chunks (1,300 of 2,000); embedding 50 chunks/s, about 14 s left.');
    assert.equal(describeDense(b), 'Dense search covers 100 % of chunks (1,000 of 1,000).');
    assert.equal(describeDense({ embedded: 0, chunks: 10, percent: 0, running: true }), 'Dense search covers 0 % of chunks (0 of 10); embedding (measuring the rate).');
    assert.deepEqual([40, 150, 3600 * 2 + 300].map(formatDuration), ['40 s', '3 min', '2 h 5 min']);
  });
});

describe('status bar view', () => {
  function statusWhileEmbedding(): IndexStatus {
    const clock = manualClock();
    const entry = newFolderEntry(folderRef('/work/repo'), '/tmp/idx', true, clock.now);
    entry.state = 'indexing';
    entry.embedder = { provider: 'local', model: 'Xenova/all-MiniLM-L6-v2' };
    entry.dense.observe(ready(0, 12_000));
    clock.advance(30_000);
    entry.dense.observe(dense(2400, 12_000, 2400, 12_000));
    return computeStatus([entry], { trusted: true, paused: false, missingModels: [] });
  }

  it('shows coverage, rate and ETA while the dense pass runs, with provider and model in the tooltip and an accessible label', () => {
    const status = statusWhileEmbedding();
    assert.ok(IndexStatusSchema.safeParse(status).success, 'the status (sent to the webview too) fits the protocol');
    assert.deepEqual(status.folders[0]!.dense, { embedded: 2400, chunks: 12_000, percent: 20, running: true, rate: 80, etaSeconds: 120 });
    const view = statusView(status);
    assert.equal(view.text, '$(sync~spin) Sift: 20% embedded · 80 chunks/s · 2 min left');
    assert.match(view.tooltip, /every file is searchable by keywords/);
    assert.match(view.tooltip, /repo: embedding: local Xenova\/all-MiniLM-L6-v2; Dense search covers 20 % of chunks \(2,400 of 12,000\); embedding 80 chunks\/s, about 2 min left/);
    assert.equal(view.ariaLabel, 'Sift: dense search covers 20 percent of chunks, embedding 80 chunks per second, about 2 minutes left');
    assert.doesNotMatch(view.ariaLabel, /\$\(/, 'no codicons read aloud');
  });

  it('shows file progress during the keyword pass, and the chunk count when ready', () => {
    const entry = newFolderEntry(folderRef('/work/repo'), '/tmp/idx', true);
    entry.state = 'indexing';
    const listing = statusView(computeStatus([entry], { trusted: true, paused: false, missingModels: [] }));
    assert.equal(listing.text, '$(sync~spin) Sift: finding files…', 'before the plan: no "0/0"');
    assert.equal(listing.ariaLabel, 'Sift: finding files');
    entry.filesDone = 30;
    entry.filesTotal = 120;
    const reading = statusView(computeStatus([entry], { trusted: true, paused: false, missingModels: [] }));
    assert.equal(reading.text, '$(sync~spin) Sift: indexing 30/120 (25%)');
    assert.equal(reading.ariaLabel, 'Sift: indexing, 30 of 120 files, 25 percent');
    // The keyword pass has committed 24 of the folder's 160 files (40 were unchanged): questions are answered from them.
    entry.keyword = { searchable: 64, total: 160 };
    const committed = statusView(computeStatus([entry], { trusted: true, paused: false, missingModels: [] }));
    assert.equal(committed.text, '$(sync~spin) Sift: indexing 30/120 (25%) · 40% searchable');
    assert.match(committed.tooltip, /Questions are answered from what is indexed so far: keyword search covers 40 % of files \(64 of 160\)\./);
    assert.match(committed.tooltip, /repo: keyword search covers 40 % of files/);
    assert.equal(committed.ariaLabel, 'Sift: indexing, 30 of 120 files, 25 percent; 40 percent of files searchable');
    entry.keyword = undefined;
    entry.state = 'ready';
    entry.chunks = 1200;
    entry.embedded = true;
    entry.dense.stop({ embedded: 1200, chunks: 1200 });
    const done = statusView(computeStatus([entry], { trusted: true, paused: false, missingModels: [] }));
    assert.equal(done.text, '$(check) Sift: 1,200 chunks');
    assert.match(done.tooltip, /Dense search covers 100 % of chunks/);
    // Reopened: an existing index and a plan with nothing to read (every file unchanged).
    entry.state = 'indexing';
    entry.filesDone = 0;
    entry.filesTotal = 0;
    const checking = statusView(computeStatus([entry], { trusted: true, paused: false, missingModels: [] }));
    assert.equal(checking.text, '$(sync~spin) Sift: checking for changes…');
    assert.match(checking.tooltip, /comparing the workspace with its index \(1,200 chunks\)/);
  });
});
