import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RecentEdits, editorMarks, relativeToRoots, toEditorSignals } from '../../src/core/ltr/editor';
import { FeedbackLearner, LEARNABLE, OpenRecorder, fitResidual, modelId } from '../../src/core/ltr/feedback';
import { FEATURE_NAMES, type FeatureName, extractFeatures } from '../../src/core/ltr/features';
import { LtrModel, type LtrModelJson, ltrRerank, shippedLtrModel } from '../../src/core/ltr/model';
import { averageLinearModels } from '../../scripts/ltr/train';
import type { Candidate } from '../../src/core/search/types';
import type { Chunk } from '../../src/core/types';

function chunk(p: string, startLine = 1, lines = 10, symbols: string[] = []): Chunk {
  return { id: `${p}:${startLine}`, path: p, startLine, endLine: startLine + lines - 1, language: 'python', kind: 'function', symbols, header: symbols.join(' > '), text: `def f():\n    return ${p}\n`, hash: `${p}:${startLine}` };
}

function cand(c: Chunk, rank: number, folder?: string): Candidate {
  return { chunk: c, ...(folder ? { folder } : {}), provenance: { lexical: { rank, score: 20 - rank, terms: [] }, fused: { rank, score: 1 / (60 + rank) } }, rankBefore: rank, rankAfter: rank };
}

/** A linear model over the given raw weights (mean 0, std 1), for tests. */
function linearModel(weights: Partial<Record<FeatureName, number>>): LtrModel {
  const features = Object.keys(weights);
  const json: LtrModelJson = { format: 'sift-ltr/1', features, mean: features.map(() => 0), std: features.map(() => 1), linear: Object.values(weights) as number[], hidden: [], out: [], bias: 0, meta: { name: 'test' } };
  return new LtrModel(json);
}

const feat = (x: readonly number[], name: FeatureName) => x[FEATURE_NAMES.indexOf(name)]!;

describe('editor signals: conversion to the index’s paths', () => {
  const roots = [
    { name: 'app', root: '/work/app' },
    { name: 'lib', root: '/work/lib' },
    { name: 'vendor', root: '/work/app/vendor' },
  ];

  it('makes paths relative to the innermost folder, names the folder, drops outside files and duplicates', () => {
    assert.deepEqual(relativeToRoots(roots, '/work/app/src/main.py'), { folder: 'app', path: 'src/main.py' });
    assert.deepEqual(relativeToRoots(roots, '/work/app/vendor/x/y.js'), { folder: 'vendor', path: 'x/y.js' }, 'nested folder wins');
    assert.equal(relativeToRoots(roots, '/work/other/z.py'), undefined);
    assert.equal(relativeToRoots(roots, '/work/application/z.py'), undefined, 'a sibling with a common prefix is outside');
    assert.equal(relativeToRoots(roots, '/work/app'), undefined, 'the folder itself is not a file');
    const s = toEditorSignals(roots, {
      openFiles: ['/work/app/src/main.py', '/tmp/scratch.py', '/work/lib/util.py', '/work/app/src/main.py'],
      recentFiles: ['/work/lib/util.py', '/work/app/README.md'],
      cursor: { file: '/work/lib/util.py', line: 42 },
    });
    assert.deepEqual(s.openFiles, [
      { folder: 'app', path: 'src/main.py' },
      { folder: 'lib', path: 'util.py' },
    ]);
    assert.deepEqual(s.recentFiles, [
      { folder: 'lib', path: 'util.py' },
      { folder: 'app', path: 'README.md' },
    ]);
    assert.deepEqual(s.cursor, { folder: 'lib', path: 'util.py', line: 42 });
  });

  it('single folder: no folder name (as the index has none); Windows paths get forward slashes', () => {
    assert.deepEqual(toEditorSignals([{ name: '', root: '/r' }], { openFiles: ['/r/a/b.ts'], recentFiles: [] }).openFiles, [{ path: 'a/b.ts' }]);
    const win = toEditorSignals([{ name: '', root: 'C:\\code\\proj' }], { openFiles: ['C:\\code\\proj\\src\\app.ts', 'D:\\other\\x.ts'], recentFiles: [], cursor: { file: 'C:\\code\\proj\\src\\app.ts', line: 3 } }, path.win32);
    assert.deepEqual(win.openFiles, [{ path: 'src/app.ts' }]);
    assert.deepEqual(win.cursor, { path: 'src/app.ts', line: 3 });
  });

  it('keeps recent edits most recent first, bounded in count and age', () => {
    const r = new RecentEdits(3, 1000);
    r.note('/a', 0);
    r.note('/b', 10);
    r.note('/c', 20);
    r.note('/a', 30);
    assert.deepEqual(r.list(40), ['/a', '/c', '/b']);
    r.note('/d', 50);
    assert.deepEqual(r.list(60), ['/d', '/a', '/c'], 'the oldest is dropped beyond 3');
    assert.deepEqual(r.list(1025), ['/d', '/a'], 'edits older than the age bound are left out');
  });
});

describe('editor signals: features, ranking, provenance', () => {
  const cands = [cand(chunk('src/a.py'), 1, 'app'), cand(chunk('src/a.py'), 2, 'lib'), cand(chunk('src/b.py', 100, 10), 3, 'app'), cand(chunk('src/c.py'), 4, 'app')];
  const editor = {
    openFiles: [{ folder: 'lib', path: 'src/a.py' }],
    recentFiles: [
      { folder: 'app', path: 'src/c.py' },
      { folder: 'app', path: 'src/b.py' },
    ],
    cursor: { folder: 'app', path: 'src/b.py', line: 104 },
  };

  it('are non-zero for the matching file in the matching folder only, recency decays', () => {
    const x = extractFeatures('what does f return', cands, editor);
    assert.equal(feat(x[0]!, 'ed_open'), 0, 'same path, other folder');
    assert.equal(feat(x[1]!, 'ed_open'), 1);
    assert.equal(feat(x[3]!, 'ed_recent'), 1, 'the last edited file');
    assert.ok(feat(x[2]!, 'ed_recent') > 0 && feat(x[2]!, 'ed_recent') < 1, 'edited before that');
    assert.equal(feat(x[2]!, 'ed_near_cursor'), 1, 'the cursor is inside the chunk');
    assert.equal(feat(x[0]!, 'ed_near_cursor'), 0);
    const none = extractFeatures('what does f return', cands);
    for (const row of none) for (const f of ['ed_open', 'ed_recent', 'ed_near_cursor', 'ed_opened_before'] as const) assert.equal(feat(row, f), 0);
  });

  it('change the ranking when the model has weight on them, and show in provenance', () => {
    const model = linearModel({ lex_rel: 1, ed_open: 5, ed_near_cursor: 2 });
    assert.deepEqual(ltrRerank(model, 'q', cands).map((c) => c.rankBefore), [1, 2, 3, 4], 'without the editor: the lexical order');
    const ranked = ltrRerank(model, 'q', cands, editor);
    assert.deepEqual(ranked.map((c) => c.rankBefore), [2, 3, 1, 4], 'the open file first, then the chunk at the cursor');
    assert.equal(ranked[0]!.provenance.ltr?.rank, 1);
    assert.deepEqual(editorMarks(editor, 'lib', 'src/a.py', 1, 10), { open: true });
    assert.deepEqual(editorMarks(editor, 'app', 'src/b.py', 100, 109), { edited: true, nearCursor: true });
    assert.equal(editorMarks(editor, 'app', 'src/a.py', 1, 10), undefined);
    assert.equal(editorMarks(undefined, 'app', 'src/b.py', 1, 10), undefined);
  });
});

describe('learning from opened sources', () => {
  const model = shippedLtrModel();
  const shown = (n: number, openIdx: number[] = []) =>
    Array.from({ length: n }, (_, i) => {
      const x = new Array<number>(FEATURE_NAMES.length).fill(0);
      x[FEATURE_NAMES.indexOf('ed_open')] = openIdx.includes(i) ? 1 : 0;
      x[FEATURE_NAMES.indexOf('lex_rel')] = 1 - i / n;
      return { features: x, score: model.score(x), file: { path: `f${i}.py` } };
    });

  it('records inverse-propensity pairs against the other unopened sources, only on learnable features', () => {
    const l = new FeedbackLearner(model);
    assert.equal(l.residual(), undefined, 'nothing learned yet');
    const list = shown(5, [2]);
    assert.equal(l.recordOpen(list, 2), 4);
    assert.equal(l.recordOpen(list, 0, new Set([2])), 3, 'a source opened before is not "not opened"');
    const pairs = l.toJSON().pairs;
    assert.deepEqual(pairs.map((p) => p.weight), [0.75, 0.75, 0.75, 0.75, 0.3333, 0.3333, 0.3333], 'inverse propensity (rank) shared by the open’s pairs');
    const lex = FEATURE_NAMES.indexOf('lex_rel');
    assert.ok(pairs.every((p) => p.d[lex] === 0), 'the base ranking’s own scores are never learned');
    assert.ok(!LEARNABLE.has('lex_rel') && !LEARNABLE.has('fused_rr') && LEARNABLE.has('ed_open'));
    assert.equal(l.opens, 2);
    assert.deepEqual(l.openedBefore(), [
      { path: 'f2.py', count: 1 },
      { path: 'f0.py', count: 1 },
    ]);
    assert.equal(l.recordOpen(list, 9), 0, 'unknown position');
  });

  it('moves little after one open, even far down the list', () => {
    const l = new FeedbackLearner(model);
    l.recordOpen(shown(8, [7]), 7);
    const w = l.residual()!.weights[FEATURE_NAMES.indexOf('ed_open')]!;
    assert.ok(w > 0 && w < 0.25, `ed_open weight ${w} after one open (bound 0.5)`);
  });

  it('learns a bounded positive weight for a signal the opened sources share, and moves a ranking with it', () => {
    const l = new FeedbackLearner(model);
    for (let i = 0; i < 40; i++) l.recordOpen(shown(8, [5]), 5);
    const r = l.residual()!;
    const w = r.weights[FEATURE_NAMES.indexOf('ed_open')]!;
    assert.ok(w > 0.2 && w <= 0.5 + 1e-9, `ed_open weight ${w}`);
    assert.ok(r.weights.every((v, j) => LEARNABLE.has(FEATURE_NAMES[j]!) || v === 0));
    assert.deepEqual(l.topWeights(1).map((t) => t.feature), ['ed_open']);
    const cands = [cand(chunk('a.py'), 1), cand(chunk('b.py'), 2)];
    const ed = { openFiles: [{ path: 'b.py' }] };
    const flat = linearModel({ lex_rel: 0.01 });
    assert.deepEqual(ltrRerank(flat, 'q', cands, ed).map((c) => c.chunk.path), ['a.py', 'b.py']);
    const flatLearner = new FeedbackLearner(flat);
    for (let i = 0; i < 40; i++) flatLearner.recordOpen(shown(8, [5]), 5);
    assert.deepEqual(ltrRerank(flat, 'q', cands, ed, flatLearner.residual()).map((c) => c.chunk.path), ['b.py', 'a.py'], 'the learned weight on ed_open moves the open file up');
  });

  it('is bounded, persists as JSON, is cleared, and discards another model’s pairs', () => {
    const l = new FeedbackLearner(model, undefined, { maxPairs: 10, maxFiles: 2 });
    for (let i = 0; i < 5; i++) l.recordOpen(shown(6, [3]), 3);
    assert.equal(l.pairCount, 10);
    const saved = JSON.parse(JSON.stringify(l.toJSON()));
    const again = new FeedbackLearner(model, saved);
    assert.equal(again.pairCount, 10);
    assert.deepEqual(again.residual(), l.residual());
    assert.equal(new FeedbackLearner(linearModel({ lex_rel: 1 }), saved).pairCount, 0, 'pairs of another model are dropped');
    assert.equal(new FeedbackLearner(model, { ...saved, pairs: [{ d: [1], base: 0, weight: 1 }] }).pairCount, 0, 'malformed state is ignored');
    assert.notEqual(modelId(model), modelId(linearModel({ lex_rel: 1 })));
    l.clear();
    assert.equal(l.pairCount, 0);
    assert.equal(l.residual(), undefined);
    assert.deepEqual(l.openedBefore(), []);
  });

  it('fits nothing from no pairs and clips every weight', () => {
    assert.ok(fitResidual([]).every((v) => v === 0));
    const d = new Array<number>(FEATURE_NAMES.length).fill(0);
    d[FEATURE_NAMES.indexOf('is_test')] = 1;
    const w = fitResidual(Array.from({ length: 200 }, () => ({ d, base: -5, weight: 2 })), { bound: 0.25 });
    assert.equal(w[FEATURE_NAMES.indexOf('is_test')], 0.25);
  });

  it('connects an answer’s sources to opens (OpenRecorder)', () => {
    const recorder = new OpenRecorder(new FeedbackLearner(model), model, 2);
    const cands = [cand(chunk('a.py'), 1), cand(chunk('b.py'), 2), cand(chunk('c.py'), 3)];
    recorder.remember('t1', 'what does f return', cands, [{ rankAfter: 1 }, { rankAfter: 3 }]);
    assert.equal(recorder.opened('t1', 2), 1, 'source 2 (c.py) over source 1');
    assert.equal(recorder.opened('t1', 2), 0, 'opening it again is no new judgement');
    assert.equal(recorder.opened('t1', 3), 0, 'no source 3');
    assert.equal(recorder.opened('nope', 1), 0);
    assert.deepEqual(recorder.learner.openedBefore(), [{ path: 'c.py', count: 1 }]);
    recorder.remember('t2', 'q', cands, [{ rankAfter: 1 }]);
    recorder.remember('t3', 'q', cands, [{ rankAfter: 1 }]);
    assert.equal(recorder.opened('t1', 1), 0, 'only the last 2 answers are kept');
  });
});

describe('model averaging', () => {
  it('averages linear models over different feature subsets into one model that scores as the mean', () => {
    const a: LtrModelJson = { format: 'sift-ltr/1', features: ['lex_rel', 'is_test'], mean: [0.5, 0.2], std: [0.2, 0.4], linear: [2, -1], hidden: [], out: [], bias: 0 };
    const b: LtrModelJson = { format: 'sift-ltr/1', features: ['lex_rel'], mean: [0.5], std: [0.2], linear: [4], hidden: [], out: [], bias: 0 };
    const avg = new LtrModel(averageLinearModels([a, b]));
    const x = new Array<number>(FEATURE_NAMES.length).fill(0);
    x[FEATURE_NAMES.indexOf('lex_rel')] = 0.9;
    x[FEATURE_NAMES.indexOf('is_test')] = 1;
    assert.ok(Math.abs(avg.score(x) - (new LtrModel(a).score(x) + new LtrModel(b).score(x)) / 2) < 1e-9);
    assert.deepEqual(avg.json.features, ['lex_rel', 'is_test'], 'FEATURE_NAMES order');
  });
});
