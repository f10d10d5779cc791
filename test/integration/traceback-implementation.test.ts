import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type IndexStore } from '../../src/core/store/store';
import { retrieve } from '../../src/core/search/retriever';
import { applyQuestionPrior } from '../../src/core/search/questionPrior';
import { understandQuestion } from '../../src/core/query/understand';
import { storeOfChunks, tempDir } from '../helpers';

/**
 * A pytest-style bug report: the traceback names only the failing test; the fix belongs in the
 * module the test imports. BM25 ranks the test first (it repeats the error's words); the
 * implementation file must come first for a bug report (issue 19).
 */
const FILES: Record<string, { symbols: string[]; startLine: number; text: string }[]> = {
  'src/tomlish/decoder.py': [
    { symbols: [], startLine: 1, text: 'import re\nfrom .errors import DecodeError' },
    {
      symbols: ['Decoder', 'parse_table_header'],
      startLine: 40,
      text: 'def parse_table_header(self, line):\n    name = line.strip()[1:-1]\n    if not name:\n        raise DecodeError("empty table name")\n    return name.split(".")',
    },
  ],
  'src/tomlish/errors.py': [{ symbols: ['DecodeError'], startLine: 1, text: 'class DecodeError(ValueError):\n    """Raised when a document cannot be decoded."""' }],
  'tests/test_decoder.py': [
    { symbols: [], startLine: 1, text: 'import pytest\nfrom tomlish.decoder import Decoder\nfrom tomlish.errors import DecodeError' },
    {
      symbols: ['test_dotted_table_header'],
      startLine: 20,
      text: 'def test_dotted_table_header():\n    # a dotted table header with quoted keys: DecodeError empty table name\n    d = Decoder()\n    assert d.parse_table_header(\'["a.b"]\') == ["a.b"]\n    with pytest.raises(DecodeError, match="empty table name"):\n        d.parse_table_header("[]")',
    },
  ],
  'docs/errors.md': [{ symbols: [], startLine: 1, text: '# Errors\n\nDecodeError: empty table name is raised for a table header without a name.' }],
};

const QUESTION = `Quoted dotted table header rejected with DecodeError

Traceback (most recent call last):
  File "tests/test_decoder.py", line 23, in test_dotted_table_header
    assert d.parse_table_header('["a.b"]') == ["a.b"]
tomlish.errors.DecodeError: empty table name`;

describe('a traceback that names only the test ranks the implementation file above it', () => {
  let cleanup: () => void;
  let store: IndexStore;
  before(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    store = await storeOfChunks(dir, FILES, (p, c) => ({ language: p.endsWith('.py') ? 'python' : 'markdown', kind: c.symbols.length ? 'function' : p.endsWith('.md') ? 'section' : 'module' }));
  });
  after(async () => {
    await store.close();
    cleanup();
  });

  it('plain BM25 ranks the test file first (the problem)', async () => {
    const { candidates } = await retrieve(store, QUESTION);
    assert.equal(candidates[0]!.chunk.path, 'tests/test_decoder.py');
  });

  it('with question understanding the implementation the test imports is first, and says why', async () => {
    const u = understandQuestion(QUESTION);
    assert.equal(u.kind, 'bug');
    const ranked = applyQuestionPrior((await retrieve(store, QUESTION)).candidates, u);
    const files = [...new Set(ranked.map((c) => c.chunk.path))];
    assert.equal(files[0], 'src/tomlish/decoder.py', files.join());
    assert.ok(files.indexOf('src/tomlish/decoder.py') < files.indexOf('tests/test_decoder.py'));
    assert.ok(files.indexOf('src/tomlish/decoder.py') < files.indexOf('docs/errors.md'));
    assert.ok(ranked[0]!.provenance.matched?.some((m) => m.startsWith('defines Decoder.parse_table_header')), String(ranked[0]!.provenance.matched));
    assert.ok(ranked[0]!.provenance.matched?.includes('imports tests/test_decoder.py'), String(ranked[0]!.provenance.matched));
  });
});
