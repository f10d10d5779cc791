import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ask } from '../../src/core/answer/ask';
import { understandQuestion } from '../../src/core/query/understand';
import { addNamedFiles, namedChunks } from '../../src/core/search/namedFiles';
import { applyQuestionPrior } from '../../src/core/search/questionPrior';
import { retrieve } from '../../src/core/search/retriever';
import type { IndexStore } from '../../src/core/store/store';
import { storeOfChunks, tempDir } from '../helpers';

/**
 * A traceback runs through a file whose text shares no word with the report's prose (it only
 * moves bytes around): BM25 over the report cannot reach it. The prose matches the docs, a test
 * and an unrelated module at length.
 */
const prose = 'uploading a large file the upload size is wrong size reported upload progress';
const FILES: Record<string, { symbols: string[]; startLine: number; text: string }[]> = {
  'src/pkg/streams.py': [
    { symbols: ['copy_chunks'], startLine: 1, text: 'def copy_chunks(src, dst):\n    while True:\n        block = src.read(65536)\n        if not block:\n            return\n        dst.write(block)' },
    { symbols: ['ByteCounter', 'tell'], startLine: 40, text: 'class ByteCounter:\n    def tell(self):\n        return self.n & 0xFFFFFFFF' },
  ],
  'docs/uploads.md': [{ symbols: [], startLine: 1, text: `# Uploads\n${prose} ${prose}` }],
  'tests/test_upload.py': [{ symbols: ['test_upload_size'], startLine: 1, text: `def test_upload_size():\n    # ${prose}\n    assert upload(big).size == big.size` }],
  'src/pkg/progress.py': [{ symbols: ['report_progress'], startLine: 1, text: `def report_progress(n):\n    """${prose}"""\n    print(n)` }],
  'src/a/__init__.py': [{ symbols: [], startLine: 1, text: 'from .x import y' }],
  'src/b/__init__.py': [{ symbols: [], startLine: 1, text: 'from .x import y' }],
  'src/c/__init__.py': [{ symbols: [], startLine: 1, text: 'from .x import y' }],
  'src/d/__init__.py': [{ symbols: [], startLine: 1, text: 'from .x import y' }],
};

const QUESTION = `Uploading a file larger than 4 GB: the upload size is wrong

Traceback (most recent call last):
  File "/home/me/app/main.py", line 3, in <module>
  File "/usr/lib/python3/site-packages/pkg/streams.py", line 42, in tell
AssertionError: size mismatch`;

describe('files a question names by path join the candidates (traceback frames retrieval missed)', () => {
  let cleanup: () => void;
  let store: IndexStore;
  before(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    store = await storeOfChunks(dir, FILES, (p, c) => ({ language: p.endsWith('.py') ? 'python' : 'markdown', kind: c.symbols.length ? 'function' : 'section' }));
  });
  after(async () => {
    await store.close();
    cleanup();
  });

  it('BM25 alone does not reach the frame\'s file (the problem)', async () => {
    const { candidates } = await retrieve(store, QUESTION, { candidates: 3 });
    assert.ok(!candidates.some((c) => c.chunk.path === 'src/pkg/streams.py'), candidates.map((c) => c.chunk.path).join());
  });

  it('adds the chunk at the frame\'s line, scored as the weakest candidate; the prior then puts it first', async () => {
    const u = understandQuestion(QUESTION);
    const { candidates } = await retrieve(store, QUESTION, { candidates: 3 });
    const added = await addNamedFiles(store, u, candidates);
    assert.equal(added.length, candidates.length + 1);
    const extra = added.at(-1)!;
    assert.equal(extra.chunk.path, 'src/pkg/streams.py');
    assert.deepEqual(extra.chunk.symbols, ['ByteCounter', 'tell']);
    assert.equal(extra.provenance.lexical?.score, candidates.at(-1)!.provenance.lexical?.score);
    assert.equal(extra.rankBefore, candidates.length + 1);
    const ranked = applyQuestionPrior(added, u);
    assert.equal(ranked[0]!.chunk.path, 'src/pkg/streams.py');
    assert.ok(ranked[0]!.provenance.matched?.some((m) => m.startsWith('traceback frame')), JSON.stringify(ranked[0]!.provenance.matched));
  });

  it('nothing for a question that names no path, a file already listed, or a name that fits too many files', async () => {
    const { candidates } = await retrieve(store, prose, { candidates: 3 });
    assert.deepEqual(await namedChunks(store, understandQuestion(prose), candidates), []);
    const listed = candidates[0]!.chunk.path;
    assert.deepEqual(await namedChunks(store, understandQuestion(`${prose} in ${listed}`), candidates), []);
    assert.deepEqual(await namedChunks(store, understandQuestion(`${prose}, see __init__.py`), candidates), []);
  });

  it('ask: the named file is among the sources by default, not with the question prior off', async () => {
    const on = await ask({ store, settings: { candidates: 3 } }, QUESTION, { rerank: true });
    assert.equal(on.sources[0]!.path, 'src/pkg/streams.py');
    const off = await ask({ store, settings: { candidates: 3, questionPrior: false } }, QUESTION, { rerank: true });
    assert.ok(!off.sources.some((s) => s.path === 'src/pkg/streams.py'));
  });
});
