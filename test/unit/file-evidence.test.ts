import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { definesNamed, fileEvidence, importNames, importsOf, namedSymbols, pathMatches, relativeScores } from '../../src/core/search/fileEvidence';
import { priorDepth, priorPool } from '../../src/core/search/namedFiles';
import { applyQuestionPrior, roleExponent } from '../../src/core/search/questionPrior';
import { understandQuestion } from '../../src/core/query/understand';
import type { Candidate } from '../../src/core/search/types';

/** A lexical candidate (BM25 score `score`) of a chunk at `path` with `symbols` and `text`. */
function cand(path: string, score: number, symbols: string[] = [], text = ''): Candidate {
  return {
    chunk: { id: `${path}#${symbols.join('.')}#${score}`, path, startLine: 1, endLine: 10, language: 'python', kind: symbols.length ? 'function' : 'lines', symbols, header: symbols.join(' > '), text, hash: `${path}${score}` },
    provenance: { lexical: { rank: 1, score, terms: [] }, fused: { rank: 1, score: 1 / 61 } },
    rankBefore: 1,
    rankAfter: 1,
  };
}
/** Ranks are the list order, as retrieval gives them. */
function list(...cs: Candidate[]): Candidate[] {
  return cs.map((c, i) => ({ ...c, provenance: { ...c.provenance, lexical: { ...c.provenance.lexical!, rank: i + 1 }, fused: { rank: i + 1, score: 1 / (61 + i) } }, rankBefore: i + 1, rankAfter: i + 1 }));
}
const files = (cs: Candidate[]) => [...new Set(cs.map((c) => c.chunk.path))];

describe('file evidence: definition vs use', () => {
  it('a qualified name matches owner > name in the symbol path; a bare name any symbol of the path (definitions.ts chunkDefines)', () => {
    const named = namedSymbols(understandQuestion('Why does `Session.merge_environment` drop the proxies?'));
    assert.equal(definesNamed(['Session', 'merge_environment'], named), 'qualified');
    assert.equal(definesNamed(['OtherSession', 'merge_environment'], named), 'name');
    assert.equal(definesNamed(['merge_environment_settings'], named), undefined);
    assert.equal(definesNamed([], named), undefined);
  });

  it('the file that defines the named function outranks files that only call it, at equal BM25', () => {
    const u = understandQuestion('parse_config crashes on an empty section');
    const ranked = applyQuestionPrior(
      list(
        cand('src/pkg/cli.py', 10, ['main'], 'cfg = parse_config(path)'),
        cand('src/pkg/server.py', 10, ['start'], 'parse_config(path)'),
        cand('src/pkg/config.py', 9.5, ['parse_config'], 'def parse_config(path): ...'),
      ),
      u,
    );
    assert.equal(ranked[0]!.chunk.path, 'src/pkg/config.py');
    assert.ok(ranked[0]!.provenance.matched?.includes('defines parse_config'), String(ranked[0]!.provenance.matched));
  });

  it('a definition inside a chunk counts too: the method of a small class kept as one chunk', () => {
    const u = understandQuestion('where is retryFailedUploads implemented?');
    const ranked = applyQuestionPrior(
      list(
        cand('src/jobs/nightly.ts', 10, ['runNightly'], 'export async function runNightly() {\n  await uploader.retryFailedUploads(queue);\n}'),
        cand('src/jobs/manual.ts', 10, ['retryNow'], 'function retryNow() {\n  retryFailedUploads(pending);\n}'),
        cand('src/net/uploader.ts', 9, ['Uploader'], 'export class Uploader {\n  async retryFailedUploads(queue: string[]): Promise<number> {\n    return 0;\n  }\n}'),
      ),
      u,
    );
    assert.equal(ranked[0]!.chunk.path, 'src/net/uploader.ts');
    assert.ok(ranked[0]!.provenance.matched?.includes('defines Uploader.retryFailedUploads'), String(ranked[0]!.provenance.matched));
    assert.ok(!ranked.slice(1).some((c) => c.provenance.matched?.some((m) => m.startsWith('defines'))), 'callers define nothing');
  });
});

describe('file evidence: aggregation over a file\'s chunks', () => {
  it('max plus a decayed sum: three good chunks beat one slightly better chunk', () => {
    const u = understandQuestion('how is the retry budget computed for streaming uploads');
    const ranked = applyQuestionPrior(list(cand('src/a.py', 10, ['one']), cand('src/b.py', 9, ['x']), cand('src/b.py', 8.5, ['y']), cand('src/b.py', 8, ['z'])), u);
    assert.deepEqual(files(ranked), ['src/b.py', 'src/a.py']);
    const ev = fileEvidence(list(cand('src/a.py', 10), cand('src/b.py', 9), cand('src/b.py', 8.5), cand('src/b.py', 8)), u);
    const b = [...ev.values()].find((f) => f.path === 'src/b.py')!;
    assert.deepEqual(b.scores, [0.9, 0.85, 0.8]);
    assert.ok(Math.abs(b.aggregate - (0.9 + 0.85 * 0.3 + 0.8 * 0.09)) < 1e-9);
  });

  it('relative scores: BM25 over the best; learning-to-rank scores of any sign map into (0, 1]', () => {
    assert.deepEqual(relativeScores(list(cand('a', 4), cand('b', 2))), [1, 0.5]);
    const withLtr = list(cand('a', 4), cand('b', 2)).map((c, i) => ({ ...c, provenance: { ...c.provenance, ltr: { rank: i + 1, score: [-1, -3][i]! } } }));
    const r = relativeScores(withLtr);
    assert.equal(r[0], 1);
    assert.ok(r[1]! > 0 && r[1]! < 1);
  });
});

describe('file evidence: roles by question kind', () => {
  const pool = () => list(cand('tests/test_retry.py', 10, ['test_retry'], 'retry'), cand('docs/retry.md', 10), cand('src/pkg/retry.py', 9, ['Retry']));
  it('a bug report puts the implementation above its test and doc', () => {
    assert.equal(applyQuestionPrior(pool(), understandQuestion('Retry raises an exception after the third attempt'))[0]!.chunk.path, 'src/pkg/retry.py');
  });
  it('a question about tests puts the test first', () => {
    assert.equal(applyQuestionPrior(pool(), understandQuestion('how is the retry behaviour tested?'))[0]!.chunk.path, 'tests/test_retry.py');
  });
  it('a how-it-works question keeps a clearly better test file first; a change request does not', () => {
    // SWE-QA's understanding questions often have tests among their answers: the prior is mild there (exponent 1: ×0.5).
    const clearly = () => list(cand('tests/test_retry.py', 10, ['test_backoff_doubles']), cand('src/pkg/retry.py', 4, ['Retry']), cand('src/pkg/other.py', 3));
    const how = understandQuestion('How does the backoff double between attempts?');
    assert.equal(how.kind, 'explanation');
    assert.equal(applyQuestionPrior(clearly(), how)[0]!.chunk.path, 'tests/test_retry.py');
    const change = understandQuestion('Make the backoff double between attempts');
    assert.equal(change.kind, 'change');
    assert.equal(applyQuestionPrior(clearly(), change)[0]!.chunk.path, 'src/pkg/retry.py');
    assert.ok(roleExponent('explanation') < roleExponent('change'));
    assert.equal(roleExponent('change'), roleExponent('bug'));
  });
});

describe('file evidence: import-graph proximity', () => {
  it('Python, JavaScript, Go and Rust imports as repository paths', () => {
    assert.deepEqual(importsOf('tests/test_app.py', 'import os, sys\nfrom pkg.sub import mod\nfrom . import helpers\nfrom ..core import x\n'), ['os', 'sys', 'pkg/sub', 'tests', 'core']);
    assert.deepEqual(importsOf('src/a/b.ts', "import { x } from './c';\nconst y = require('../d.js');\nimport 'side';\n"), ['src/a/c', 'src/d', 'side']);
    assert.deepEqual(importsOf('cmd/main.go', 'import (\n\t"fmt"\n\tcfg "github.com/o/r/internal/config"\n)\n'), ['fmt', 'github.com/o/r/internal/config']);
    assert.deepEqual(importsOf('src/main.rs', 'use crate::parser::Parser;\nmod lexer;\n'), ['parser/Parser', 'lexer']);
    assert.ok(importNames('pkg/sub', 'src/pkg/sub.py'));
    assert.ok(importNames('pkg/sub', 'src/pkg/sub/__init__.py'));
    assert.ok(importNames('src/a/c', 'src/a/c.ts'));
    assert.ok(importNames('github.com/o/r/internal/config', 'internal/config/load.go'));
    assert.ok(!importNames('pkg/sub', 'src/pkg/subway.py'));
  });

  it('the module a traceback\'s test file imports rises above an unrelated module at equal score', () => {
    const q = 'Parsing fails\n\nTraceback (most recent call last):\n  File "tests/test_parse.py", line 3, in test_empty\n    parse("")\nValueError: empty input';
    const ranked = applyQuestionPrior(
      list(
        cand('src/pkg/lexer.py', 10, ['tokenize'], 'raise ValueError("empty input")'),
        cand('src/pkg/parser.py', 10, ['parse_tree'], 'def parse_tree(s): ...'),
        cand('tests/test_parse.py', 9, [], 'from pkg.parser import parse\n\ndef test_empty():\n    parse("")'),
      ),
      understandQuestion(q),
    );
    assert.equal(ranked[0]!.chunk.path, 'src/pkg/parser.py');
    assert.deepEqual(ranked[0]!.provenance.matched, ['imports tests/test_parse.py']);
  });
});

describe('the prior looks below K (priorPool)', () => {
  const top = () => list(cand('tests/test_retry.py', 10, ['test_retry']), cand('docs/retry.md', 9));
  const tail = () => list(cand('x', 1), cand('x', 1), cand('src/pkg/retry.py', 6, ['Retry']), cand('docs/retry.md', 9)).slice(2);
  it('not reranked: the next candidates keep their own scores, so a bug report\'s implementation just below K comes first', () => {
    const pool = priorPool(top(), tail(), false);
    assert.deepEqual(pool.map((c) => c.rankAfter), [1, 2, 3]);
    assert.equal(pool[2]!.provenance.lexical!.score, 6);
    assert.equal(applyQuestionPrior(top(), understandQuestion('Retry raises an exception after the third attempt'))[0]!.chunk.path, 'tests/test_retry.py');
    assert.equal(applyQuestionPrior(pool, understandQuestion('Retry raises an exception after the third attempt'))[0]!.chunk.path, 'src/pkg/retry.py');
  });
  it('reranked: they enter scored as the reranked list\'s weakest (their first-stage scores are another scale); a chunk already listed is not repeated', () => {
    const reranked = top().map((c, i) => ({ ...c, provenance: { ...c.provenance, rerank: { rank: i + 1, score: [4, -2][i]! } } }));
    const pool = priorPool(reranked, tail(), true);
    assert.equal(pool.length, 3);
    assert.equal(pool[2]!.chunk.path, 'src/pkg/retry.py');
    assert.equal(pool[2]!.provenance.rerank!.score, -2);
    assert.equal(pool[2]!.provenance.lexical!.score, 9);
  });
});

describe('how deep the prior looks', () => {
  it('twice K for a report or a change (implementation first), K for a question asked as one or a mild prior', () => {
    const depth = (q: string) => priorDepth(understandQuestion(q), 50);
    assert.equal(depth('Retry raises an exception after the third attempt'), 100);
    assert.equal(depth('Add support for the ASGI pathsend extension'), 100);
    assert.equal(depth('Why does this fail?\n\nTraceback (most recent call last):\n  File "src/pkg/a.py", line 3, in f\nKeyError: 1'), 100);
    assert.equal(depth('Where is the session cookie signed?'), 50);
    assert.equal(depth('How does request routing work?'), 50);
    assert.equal(depth('How is the config loader tested?'), 50);
  });
});

describe('a stack trace through an installed TypeScript package names its sources', () => {
  it('a compiled .js path below the build folder matches the .ts source; line checks keep to exact paths', () => {
    const cases: [string, string, boolean][] = [
      ['source/core/index.ts', '/app/node_modules/got/dist/source/core/index.js', true],
      ['src/lib/converter/symbols.ts', 'C:/w/node_modules/typedoc/dist/lib/converter/symbols.js', true],
      ['source/index.ts', 'node_modules/ky/distribution/index.js', true],
      ['source/core/errors.ts', '/app/node_modules/got/dist/source/core/index.js', false],
      ['lib/runner.js', '/u/node_modules/mocha/lib/runner.js', true],
      ['src/core/index.py', 'dist/source/core/index.js', false],
    ];
    for (const [path, mentioned, want] of cases) assert.equal(pathMatches(path, mentioned), want, `${path} ~ ${mentioned}`);
    assert.equal(pathMatches('source/core/index.ts', '/app/node_modules/got/dist/source/core/index.js', false), false);
  });
  it('the compiled file of the trace lifts its source above a file that only shares the words', () => {
    const u = understandQuestion(
      'ReadError on responses without Content-Length\n\nRequestError: socket hang up\n    at ClientRequest.<anonymous> (/app/node_modules/got/dist/source/core/index.js:790:25)\n    at Socket.emit (node:events:518:28)',
    );
    const ranked = applyQuestionPrior(list(cand('source/core/errors.ts', 10, ['RequestError'], 'class RequestError'), cand('source/core/index.ts', 8, ['Request'], 'socket hang up')), u);
    assert.equal(ranked[0]!.chunk.path, 'source/core/index.ts');
  });
});
