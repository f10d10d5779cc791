import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accuracyAt, chunkGrade, dcg, fileRanking, meanMetrics, mrrAt, ndcgAt, recallAt, scoreRanking } from '../../src/core/eval/metrics';
import { parseQuestions } from '../../src/core/eval/questions';
import { parseVariant } from '../../src/core/eval/runner';

const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-9, `${msg ?? ''} ${a} ≠ ${b}`);

describe('eval metrics (hand-computed)', () => {
  const files = ['a.py', 'b.py', 'c.py', 'd.py', 'e.py', 'f.py'];

  it('ranks files by their best chunk', () => {
    assert.deepEqual(fileRanking([{ path: 'b' }, { path: 'a' }, { path: 'b' }, { path: 'c' }, { path: 'a' }]), ['b', 'a', 'c']);
  });

  it('Acc@k needs every gold file in the top k', () => {
    assert.equal(accuracyAt(files, ['b.py'], 1), 0);
    assert.equal(accuracyAt(files, ['b.py'], 3), 1);
    assert.equal(accuracyAt(files, ['b.py', 'e.py'], 3), 0);
    assert.equal(accuracyAt(files, ['b.py', 'e.py'], 5), 1);
    assert.equal(accuracyAt(files, ['b.py', 'zzz.py'], 5), 0);
    assert.equal(accuracyAt(files, [], 5), 0);
  });

  it('Recall@k is the share of gold files in the top k; MRR the first gold file', () => {
    close(recallAt(files, ['b.py', 'e.py', 'zzz.py'], 5), 2 / 3);
    close(recallAt(files, ['b.py', 'e.py', 'zzz.py'], 3), 1 / 3);
    close(mrrAt(files, ['e.py', 'c.py'], 10), 1 / 3);
    close(mrrAt(files, ['f.py'], 5), 0);
    close(mrrAt(files, ['f.py'], 10), 1 / 6);
  });

  it('grades chunks: 2 overlaps a gold range, 1 other chunk of a gold file, 0 elsewhere', () => {
    const gold = [{ path: 'a.py', lineRanges: [[10, 20]] as [number, number][] }, { path: 'b.py', lineRanges: [] }];
    assert.equal(chunkGrade({ path: 'a.py', startLine: 18, endLine: 30 }, gold), 2);
    assert.equal(chunkGrade({ path: 'a.py', startLine: 20, endLine: 20 }, gold), 2);
    assert.equal(chunkGrade({ path: 'a.py', startLine: 21, endLine: 40 }, gold), 1);
    assert.equal(chunkGrade({ path: 'a.py', startLine: 1, endLine: 9 }, gold), 1);
    assert.equal(chunkGrade({ path: 'b.py', startLine: 1, endLine: 9 }, gold), 1);
    assert.equal(chunkGrade({ path: 'c.py', startLine: 10, endLine: 20 }, gold), 0);
  });

  it('nDCG@k with gains 2^g − 1 and log2 discounts against the ideal of all graded chunks', () => {
    // grades [0, 2, 1]: DCG = 3/log2(3) + 1/log2(4) = 1.8928… + 0.5
    close(dcg([0, 2, 1], 10), 3 / Math.log2(3) + 0.5);
    // ideal over all graded chunks [2, 1, 1]: 3 + 1/log2(3) + 0.5
    close(ndcgAt([0, 2, 1], [2, 1, 1], 10), (3 / Math.log2(3) + 0.5) / (3 + 1 / Math.log2(3) + 0.5));
    close(ndcgAt([2, 1], [2, 1], 10), 1);
    close(ndcgAt([0, 0], [], 10), 0);
    // Truncation: a relevant chunk at rank 3 does not count at k = 2.
    close(ndcgAt([0, 0, 2], [2], 2), 0);
  });

  it('scores a whole ranking and averages', () => {
    const gold = [{ path: 'a.py', lineRanges: [[5, 6]] as [number, number][] }, { path: 'c.py', lineRanges: [] }];
    const ranking = [
      { path: 'b.py', startLine: 1, endLine: 10 },
      { path: 'a.py', startLine: 1, endLine: 10 }, // grade 2
      { path: 'a.py', startLine: 11, endLine: 20 }, // grade 1
      { path: 'c.py', startLine: 1, endLine: 3 }, // grade 1
    ];
    const index = [...ranking.slice(1), { path: 'a.py', startLine: 21, endLine: 30 }];
    const m = scoreRanking(ranking, gold, index);
    assert.deepEqual([m.acc1, m.acc3, m.acc5], [0, 1, 1]);
    close(m.recall5, 1);
    close(m.mrr10, 1 / 2);
    const expected = (3 / Math.log2(3) + 1 / 2 + 1 / Math.log2(5)) / (3 + 1 / Math.log2(3) + 1 / 2 + 1 / Math.log2(5));
    close(m.ndcg10, expected);
    const mean = meanMetrics([m, { ...m, acc1: 1, ndcg10: 0 }]);
    close(mean.acc1, 0.5);
    close(mean.ndcg10, expected / 2);
  });
});

describe('questions file and variants', () => {
  it('parses SWE-QA lines, filters by repo, merges duplicate gold paths, drops questions without gold', () => {
    const text = [
      JSON.stringify({ query_id: 'flask-1', repo: 'pallets/flask', commit: 'abc', question: 'Where?', silver_gold: [{ path: 'src/a.py', line_ranges: [[1, 2]] }, { path: 'src/a.py', line_ranges: [[5, 6]] }] }),
      JSON.stringify({ query_id: 'flask-2', repo: 'pallets/flask', question: 'No gold', silver_gold: [] }),
      JSON.stringify({ query_id: 'req-1', repo: 'psf/requests', question: 'How?', silver_gold: [{ path: 'r.py' }] }),
      '',
    ].join('\n');
    const all = parseQuestions(text);
    assert.equal(all.questions.length, 2);
    assert.equal(all.droppedNoGold, 1);
    const flask = parseQuestions(text, 'flask');
    assert.deepEqual(flask.questions.map((q) => q.id), ['flask-1']);
    assert.deepEqual(flask.questions[0]!.gold, [{ path: 'src/a.py', lineRanges: [[1, 2], [5, 6]] }]);
    assert.deepEqual(parseQuestions(text, 'psf/requests').questions.map((q) => q.id), ['req-1']);
    assert.throws(() => parseQuestions('{nope'), /not JSON/);
  });

  it('parses a JSON array of questions with plain-path gold and a commit each', () => {
    const text = JSON.stringify([
      { id: 'httpx#1', question: 'Crash on redirect\n\n```\nTraceback ...\n```', commit: 'a1b2c3d', gold: ['httpx/_client.py', { path: './httpx/_urls.py' }] },
      { id: 'httpx#2', question: 'No gold here', gold: [] },
    ], null, 1);
    const parsed = parseQuestions(text);
    assert.equal(parsed.droppedNoGold, 1);
    assert.deepEqual(parsed.questions, [
      { id: 'httpx#1', question: 'Crash on redirect\n\n```\nTraceback ...\n```', commit: 'a1b2c3d', gold: [{ path: 'httpx/_client.py', lineRanges: [] }, { path: 'httpx/_urls.py', lineRanges: [] }] },
    ]);
    assert.throws(() => parseQuestions('[{"question": "x"}, 3]'), /entry 2 is not a JSON object/);
    assert.throws(() => parseQuestions('[1,'), /not a JSON array/);
  });

  it('parses variant names', () => {
    assert.deepEqual(parseVariant('hybrid+ltr+ce'), { name: 'hybrid+ce+ltr', base: 'hybrid', ce: true, ltr: true });
    assert.deepEqual(parseVariant('bm25'), { name: 'bm25', base: 'bm25', ce: false, ltr: false });
    assert.equal(parseVariant('hybrid+xx'), undefined);
    assert.equal(parseVariant('sparse'), undefined);
  });
});
