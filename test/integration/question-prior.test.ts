import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type IndexStore } from '../../src/core/store/store';
import { retrieve } from '../../src/core/search/retriever';
import { applyQuestionPrior } from '../../src/core/search/questionPrior';
import { understandQuestion } from '../../src/core/query/understand';
import { ask } from '../../src/core/answer/ask';
import { storeOfChunks, tempDir } from '../helpers';

/** Files of a small fixture: the implementation, a test file that exercises it at length, docs. */
const FILES: Record<string, { symbols: string[]; startLine: number; text: string }[]> = {
  'src/flask/app.py': [
    { symbols: ['Flask'], startLine: 1, text: 'class Flask:\n    """The application object."""\n    def __init__(self, name):\n        self.name = name' },
    {
      symbols: ['Flask', '_find_error_handler'],
      startLine: 1220,
      text: 'def _find_error_handler(self, e, blueprints):\n    exc_class, code = self._get_exc_class_and_code(type(e))\n    for name in (*blueprints, None):\n        handler_map = self.error_handler_spec[name]\n        handler = handler_map[code]\n        return handler',
    },
  ],
  'tests/test_app.py': [
    {
      symbols: ['test_error_handler_blueprint'],
      startLine: 10,
      text: 'def test_error_handler_blueprint(app):\n    # error handler registered on a blueprint: KeyError when the handler map lacks the code\n    bp = Blueprint("bp")\n    @bp.errorhandler(404)\n    def handler(e): return "bp"\n    error handler error handler KeyError handler map code blueprint error\n    assert app._find_error_handler(KeyError(), ["bp"]) is handler',
    },
  ],
  'docs/errorhandling.rst': [{ symbols: [], startLine: 1, text: 'Error handlers\n==============\nAn error handler on a blueprint handles a KeyError or other error code. The handler map is searched by code.' }],
};

const QUESTION = `Error handler registered on a blueprint raises KeyError

Traceback (most recent call last):
  File "/venv/lib/python3.12/site-packages/flask/app.py", line 1224, in _find_error_handler
    handler = handler_map[code]
KeyError: 404`;

describe('a traceback question finds the implementation, not its test', () => {
  let cleanup: () => void;
  let store: IndexStore;
  before(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    store = await storeOfChunks(dir, FILES, (p, c) => ({ language: p.endsWith('.py') ? 'python' : 'restructuredtext', kind: c.symbols.length ? 'function' : 'section' }));
  });
  after(async () => {
    await store.close();
    cleanup();
  });

  it('plain BM25 puts the test file first (the problem)', async () => {
    const { candidates } = await retrieve(store, QUESTION);
    assert.equal(candidates[0]!.chunk.path, 'tests/test_app.py');
  });

  it('with question understanding the implementation chunk ranks first, its provenance says why', async () => {
    const u = understandQuestion(QUESTION);
    assert.equal(u.kind, 'bug');
    const ranked = applyQuestionPrior((await retrieve(store, QUESTION)).candidates, u);
    const files = [...new Set(ranked.map((c) => c.chunk.path))];
    assert.equal(ranked[0]!.chunk.symbols.at(-1), '_find_error_handler');
    assert.ok(files.indexOf('src/flask/app.py') < files.indexOf('tests/test_app.py'), files.join());
    assert.deepEqual(ranked[0]!.provenance.matched, ['traceback frame /venv/lib/python3.12/site-packages/flask/app.py:1224', 'defines Flask._find_error_handler']);
    assert.deepEqual(ranked.map((c) => c.rankAfter), ranked.map((_, i) => i + 1));
  });

  it('ask without a cross-encoder: the prior still orders the fused ranking, and the notice says so; switched off, neither', async () => {
    const on = await ask({ store, settings: {} }, QUESTION, { rerank: true });
    assert.equal(on.sources[0]!.path, 'src/flask/app.py');
    assert.ok(on.notices.some((n) => n === 'Reranking is unavailable (no cross-encoder loaded): showing the fused ranking, ordered by question understanding (file roles, named symbols and paths).'), on.notices.join('\n'));
    const off = await ask({ store, settings: { questionPrior: false } }, QUESTION, { rerank: true });
    assert.equal(off.sources[0]!.path, 'tests/test_app.py');
    assert.ok(off.notices.some((n) => n === 'Reranking is unavailable (no cross-encoder loaded): showing the fused ranking.'), off.notices.join('\n'));
  });
});
