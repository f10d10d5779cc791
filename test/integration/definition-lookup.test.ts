import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ask } from '../../src/core/answer/ask';
import { understandQuestion } from '../../src/core/query/understand';
import { MAX_ROWS_PER_NAME, addDefinitions, definitionChunks, lookupDefinitions } from '../../src/core/search/definitionLookup';
import { DEFAULT_EVIDENCE_WEIGHTS } from '../../src/core/search/fileEvidence';
import { lookupForPrior, widenForPrior } from '../../src/core/search/priorPool';
import { applyQuestionPrior } from '../../src/core/search/questionPrior';
import { retrieve } from '../../src/core/search/retriever';
import type { IndexStore } from '../../src/core/store/store';
import { useLexicalIndex } from '../helpers';

/**
 * A bug report whose prose matches docs, tests and an unrelated module at length; the function it
 * names, `_find_error_handler`, lives in a file sharing no other word with it. BM25 over the whole
 * report ranks that file below K; the definition lookup brings it in. `dispatch` is defined in one
 * file more than the lookup's N: it adds nothing.
 */
/** One more file defining `dispatch` than the lookup's N allows. */
const PLUGINS = Array.from({ length: DEFAULT_EVIDENCE_WEIGHTS.lookupFiles + 1 }, (_, i) => String.fromCharCode(97 + i));
const prose = 'when the request fails the response status page renders the wrong template status page request response template';
const REPO: Record<string, string> = {
  'src/web/handlers.py': 'def _find_error_handler(app, exc):\n    for cls in type(exc).__mro__:\n        if cls in app.registry:\n            return app.registry[cls]\n    return None\n',
  'src/web/pages.py': `def render_status_page(request, response):\n    """${prose}"""\n    return template_for(response.status).render(request=request)\n`,
  'src/web/templates.py': `def template_for(status):\n    """${prose} ${prose}"""\n    return TEMPLATES[status]\n`,
  'docs/errors.md': `# Error pages\n\n${prose}\n\n${prose}\n`,
  'tests/test_pages.py': `def test_status_page(request, response):\n    # ${prose}\n    assert render_status_page(request, response)\n`,
  ...Object.fromEntries(PLUGINS.map((m) => [`src/web/plugin_${m}.py`, `def dispatch(event):\n    return event.name_${m}\n`])),
};

const QUESTION = `When the request fails, the response status page renders the wrong template: the status page for a
request whose response failed shows the default template instead of the one registered. The template
for the failed request's response status should be the registered one. Probably in \`_find_error_handler\`
or in \`dispatch\`.`;

describe('files defining a symbol the question names join the candidates (definition lookup)', () => {
  let store!: IndexStore;

  useLexicalIndex(REPO, (s) => (store = s));

  it('BM25 over the report ranks the defining file below K (the problem)', async () => {
    const { candidates } = await retrieve(store, QUESTION, { candidates: 3 });
    assert.equal(candidates.length, 3);
    assert.ok(!candidates.some((c) => c.chunk.path === 'src/web/handlers.py'), candidates.map((c) => c.chunk.path).join());
  });

  it('looks the names up in the whole index: one file defines _find_error_handler, N + 1 define dispatch', async () => {
    const hits = await lookupDefinitions(store, understandQuestion(QUESTION));
    const find = hits.find((h) => h.name === '_find_error_handler');
    assert.equal(find?.files, 1);
    assert.equal(find.chunks[0]!.chunk.path, 'src/web/handlers.py');
    assert.deepEqual(find.chunks[0]!.chunk.symbols, ['_find_error_handler']);
    const dispatch = hits.find((h) => h.name === 'dispatch');
    assert.equal(dispatch?.files, PLUGINS.length);
  });

  it('adds the defining file (not the ambiguous name\'s), and the prior weighs it with its "defines" signal', async () => {
    const u = understandQuestion(QUESTION);
    const { candidates } = await retrieve(store, QUESTION, { candidates: 3 });
    const added = await addDefinitions(store, u, candidates);
    assert.deepEqual(
      added.slice(candidates.length).map((c) => c.chunk.path),
      ['src/web/handlers.py'],
    );
    // Entered as the list's weakest (lookupScore 0; not first by itself) …
    assert.equal(DEFAULT_EVIDENCE_WEIGHTS.lookupScore, 0);
    assert.equal(added.at(-1)!.provenance.lexical!.score, candidates.at(-1)!.provenance.lexical!.score);
    // … or at a fraction of the best with lookupScore …
    const best = Math.max(...candidates.map((c) => c.provenance.lexical!.score));
    const half = await addDefinitions(store, u, candidates, { ...DEFAULT_EVIDENCE_WEIGHTS, lookupScore: 0.9 });
    assert.equal(half.at(-1)!.provenance.lexical!.score, 0.9 * best);
    // … then weighed by the prior: implementation before the docs and tests for a report, with the definition boost, in provenance.
    const ranked = applyQuestionPrior(added, u);
    const at = ranked.findIndex((c) => c.chunk.path === 'src/web/handlers.py');
    assert.ok(ranked.slice(at + 1).some((c) => /^(?:docs|tests)\//.test(c.chunk.path)), ranked.map((c) => c.chunk.path).join());
    const matched = ranked[at]!.provenance.matched ?? [];
    assert.ok(matched.includes('defines _find_error_handler (looked up in the index)') && matched.includes('defines _find_error_handler'), JSON.stringify(matched));
  });

  it('N decides: with lookupFiles N + 1 dispatch\'s files join too; with 0 the lookup is off', async () => {
    const hits = await lookupDefinitions(store, understandQuestion(QUESTION));
    const { candidates } = await retrieve(store, QUESTION, { candidates: 3 });
    assert.equal(definitionChunks(hits, candidates, { ...DEFAULT_EVIDENCE_WEIGHTS, lookupFiles: PLUGINS.length }).length, PLUGINS.length + 1);
    assert.deepEqual(definitionChunks(hits, candidates, { ...DEFAULT_EVIDENCE_WEIGHTS, lookupFiles: 0 }), []);
  });

  it('one pipeline widens the list for sift ask and sift eval (priorPool.ts): the top K, the candidates below K, then the definitions it lacks', async () => {
    const u = understandQuestion(QUESTION);
    const { candidates } = await retrieve(store, QUESTION, { candidates: 4 });
    const [top, tail] = [candidates.slice(0, 3), candidates.slice(3)];
    const lookups = await lookupForPrior(store, u, candidates);
    assert.deepEqual(lookups.named, []);
    assert.deepEqual(lookups.defined, await lookupDefinitions(store, u));
    const pool = widenForPrior(top, tail, false, lookups);
    assert.deepEqual(pool.slice(0, 4).map((c) => c.chunk.id), candidates.map((c) => c.chunk.id));
    assert.deepEqual(pool.slice(4).map((c) => [c.chunk.path, c.provenance.definesLookedUp]), [['src/web/handlers.py', '_find_error_handler']]);
    // After a reranker, the candidates below K enter as the reordered list's weakest.
    const reranked = widenForPrior(top, tail, true, lookups);
    assert.equal(reranked[3]!.provenance.lexical!.score, top[2]!.provenance.lexical!.score);
    // Definitions off: only the candidates below K widen the list.
    assert.equal(widenForPrior(top, tail, false, await lookupForPrior(store, u, candidates, { weights: { ...DEFAULT_EVIDENCE_WEIGHTS, lookupFiles: 0 } })).length, 4);
  });

  it('ask: the defining file is among the sources by default, absent with the question prior off', async () => {
    const on = await ask({ store, settings: { candidates: 3 } }, QUESTION, { rerank: true });
    assert.ok(on.sources.some((s) => s.path === 'src/web/handlers.py'), on.sources.map((s) => s.path).join());
    const off = await ask({ store, settings: { candidates: 3, questionPrior: false } }, QUESTION, { rerank: true });
    assert.ok(!off.sources.some((s) => s.path === 'src/web/handlers.py'));
  });
});

describe('the definition lookup is bounded', () => {
  let store!: IndexStore;
  const many = MAX_ROWS_PER_NAME + 10;
  useLexicalIndex(() => {
    const files: Record<string, string> = { 'src/only.py': 'def rare_helper_name(x):\n    return x\n' };
    for (let i = 0; i < many; i++) files[`src/jobs/job${i}.py`] = `def run(ctx):\n    return ctx.value_${i}\n`;
    return files;
  }, (s) => (store = s));

  it(`a name in the symbols of more than ${MAX_ROWS_PER_NAME} chunks is not read at all and adds nothing; a rare one reads its own chunk only`, async () => {
    const reads: number[] = [];
    const chunksAt = store.chunksAt.bind(store);
    store.chunksAt = async (shard, rows) => {
      reads.push(rows.length);
      return chunksAt(shard, rows);
    };
    try {
      const common = await lookupDefinitions(store, understandQuestion('the job fails in `run`'));
      assert.deepEqual(common, [{ name: 'run', qualified: false, chunks: [] }]);
      assert.deepEqual(reads, []);
      const rare = await lookupDefinitions(store, understandQuestion('the job fails in `run` after `rare_helper_name`'));
      assert.equal(rare.find((h) => h.name === 'rare_helper_name')?.files, 1);
      assert.deepEqual(reads, [1]);
    } finally {
      store.chunksAt = chunksAt;
    }
  });
});
