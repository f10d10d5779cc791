import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { understandQuestion } from '../../src/core/query/understand';
import { DEFAULT_EVIDENCE_WEIGHTS } from '../../src/core/search/fileEvidence';
import { feedbackSearch } from '../../src/core/search/feedback';
import { lookupNeighbours, testSubject } from '../../src/core/search/neighbours';
import { lookupForPrior, widenForPrior } from '../../src/core/search/priorPool';
import { retrieve } from '../../src/core/search/retriever';
import type { IndexStore } from '../../src/core/store/store';
import { useLexicalIndex } from '../helpers';

/**
 * A change described in its tests' words: the question matches the test file (and the docs), not
 * the module it tests, which shares none of its words. The module is the test's subject by name
 * and by import; its type stub sits next to it.
 */
const REPO: Record<string, string> = {
  'tests/middleware/test_squeeze.py': 'from pkg.middleware.squeeze import Squeezer\n\ndef test_server_sent_events_are_not_buffered():\n    # server sent events stream: not buffered, not delayed, sent as they come\n    assert Squeezer(app).passes_through("text/event-stream")\n',
  'docs/events.md': '# Server sent events\n\nServer sent events are sent as they come, never buffered.\n',
  'pkg/middleware/squeeze.py': 'class Squeezer:\n    def __init__(self, app, minimum_size=500):\n        self.app = app\n\n    def passes_through(self, content_type):\n        return content_type.startswith("text/")\n',
  'pkg/middleware/squeeze.pyi': 'class Squeezer:\n    def passes_through(self, content_type: str) -> bool: ...\n',
  'pkg/routing.py': 'def route(path):\n    return path.strip("/")\n',
};
const QUESTION = "Don't buffer server sent events";

describe('neighbours of the top files (test subject, imports, stubs)', () => {
  let store!: IndexStore;
  useLexicalIndex(REPO, (s) => (store = s));

  it('names a test file\'s subject', () => {
    assert.equal(testSubject('tests/middleware/test_gzip.py'), 'gzip');
    assert.equal(testSubject('src/router_test.go'), 'router');
    assert.equal(testSubject('test/app.spec.ts'), 'app');
    assert.equal(testSubject('tests/test_utils.py'), undefined, 'too generic');
    assert.equal(testSubject('pkg/gzip.py'), undefined);
  });

  it('finds the module a top test file tests (by name and import) and, from a source file, its stub', async () => {
    const u = understandQuestion(QUESTION);
    const { candidates } = await retrieve(store, QUESTION, { candidates: 2 });
    assert.ok(!candidates.some((c) => c.chunk.path.startsWith('pkg/')), candidates.map((c) => c.chunk.path).join());
    const nb = await lookupNeighbours(store, u, candidates, 2, QUESTION);
    assert.deepEqual(
      nb.map((n) => [n.chunk.path, n.kind, n.from]),
      // The module by the test's name (its stub is a file of that name too); the import names the same two, already wanted.
      [
        ['pkg/middleware/squeeze.py', 'subject', 'tests/middleware/test_squeeze.py'],
        ['pkg/middleware/squeeze.pyi', 'subject', 'tests/middleware/test_squeeze.py'],
      ],
    );
    const asSource = await lookupNeighbours(store, u, [{ ...candidates[0]!, chunk: { ...candidates[0]!.chunk, path: 'pkg/middleware/squeeze.py' } }], 1, QUESTION);
    assert.deepEqual(asSource.map((n) => [n.chunk.path, n.kind]), [['pkg/middleware/squeeze.pyi', 'stub']]);
  });

  it('off by default; with weights, the neighbour joins at its fraction of the top file\'s score and says why', async () => {
    const u = understandQuestion(QUESTION);
    const { candidates } = await retrieve(store, QUESTION, { candidates: 2 });
    assert.equal((await lookupForPrior(store, u, candidates, { question: QUESTION })).neighbours, undefined);
    const w = { ...DEFAULT_EVIDENCE_WEIGHTS, nbFrom: 2, nbSubject: 0.5, prfFiles: 0 };
    const lookups = await lookupForPrior(store, u, candidates, { question: QUESTION, weights: w });
    const pool = widenForPrior(candidates, [], false, lookups, w);
    assert.deepEqual(pool.slice(candidates.length).map((c) => c.chunk.path), ['pkg/middleware/squeeze.py', 'pkg/middleware/squeeze.pyi']);
    const added = pool[candidates.length]!;
    assert.equal(added.provenance.neighbourOf, 'tested by tests/middleware/test_squeeze.py');
    const from = candidates.find((c) => c.chunk.path === 'tests/middleware/test_squeeze.py')!;
    const best = Math.max(...candidates.map((c) => c.provenance.lexical!.score));
    const weakest = Math.min(...candidates.map((c) => c.provenance.lexical!.score));
    // At half its test's score, never below the list's weakest.
    assert.ok(Math.abs(added.provenance.lexical!.score - Math.max(0.5 * from.provenance.lexical!.score, weakest)) < 1e-9 * best, `${added.provenance.lexical!.score} ${from.provenance.lexical!.score} ${weakest}`);
    assert.equal(widenForPrior(candidates, [], false, lookups, { ...w, nbSubject: 0 }).length, candidates.length, 'a kind at 0 adds nothing');
  });
});

describe('pseudo-relevance feedback: the top files\' discriminative terms searched again (feedback.ts)', () => {
  let store!: IndexStore;
  // Filler modules, so the collection has rare and common terms as a repository does.
  const FILLER = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`pkg/filler_${i}.py`, `def handler_${i}(request):\n    return request.value_${i}\n`]));
  useLexicalIndex({ ...REPO, ...FILLER }, (s) => (store = s));

  it('finds the module sharing the top test\'s rare terms, which the question never names; the prior weighs it at prfScore of its feedback score', async () => {
    const { candidates } = await retrieve(store, QUESTION, { candidates: 2 });
    assert.ok(!candidates.some((c) => c.chunk.path.startsWith('pkg/middleware/')), candidates.map((c) => c.chunk.path).join());
    const fb = await feedbackSearch(store, QUESTION, candidates, { files: 3, terms: 12, depth: 10 });
    assert.ok(fb.terms.includes('squeezer') && !fb.terms.includes('buffer'), fb.terms.join());
    assert.ok(fb.hits.some((h) => h.chunk.path === 'pkg/middleware/squeeze.py'), fb.hits.map((h) => h.chunk.path).join());
    assert.ok(!fb.hits.some((h) => candidates.some((c) => c.chunk.path === h.chunk.path)), 'only files the list lacks');
    assert.ok(fb.hits.every((h) => h.rel > 0 && h.rel <= 1));
    assert.deepEqual(await feedbackSearch(store, QUESTION, candidates, { files: 0, terms: 12, depth: 10 }), { terms: [], hits: [] });
    const u = understandQuestion(QUESTION);
    const on = await lookupForPrior(store, u, candidates, { question: QUESTION });
    assert.equal(DEFAULT_EVIDENCE_WEIGHTS.prfFiles, 3);
    const pool = widenForPrior(candidates, [], false, on);
    const added = pool.find((c) => c.chunk.path === 'pkg/middleware/squeeze.py')!;
    assert.equal(added.provenance.neighbourOf, 'found by feedback terms of the top files');
    const off = await lookupForPrior(store, u, candidates, { question: QUESTION, weights: { ...DEFAULT_EVIDENCE_WEIGHTS, prfFiles: 0 } });
    assert.equal(off.feedback, undefined);
  });
});
