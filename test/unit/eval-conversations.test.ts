import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isTestFile, namedAfter, subjectStem, testStem } from '../../src/core/conversation/relatedTests';
import { refersBack } from '../../src/core/conversation/standalone';
import { formatConversationTable, summarizeConversations } from '../../src/core/eval/conversationRunner';
import { TEST_FOLLOW_UPS, conversationsJsonl, mineConversations, parseConversations } from '../../src/core/eval/conversations';
import { understandQuestion } from '../../src/core/query/understand';
import { tempDir, writeTree } from '../helpers';
import { SHOP_CONVERSATIONS } from '../support/shopRepo';

describe('conversations file', () => {
  it('keeps the conversations and drops each bad line with a message naming it', () => {
    const { conversations, dropped } = parseConversations(SHOP_CONVERSATIONS);
    assert.deepEqual(conversations.map((c) => c.id), ['tax', 'parcel']);
    assert.deepEqual(conversations[1]!.turns[0]!.gold, [{ path: 'src/shop/shipping.py', lineRanges: [[1, 4]] }]);
    assert.equal(conversations[0]!.split, 'tune');
    assert.equal(dropped.length, 2);
    assert.match(dropped[0]!, /^line 2: not JSON/);
    assert.match(dropped[1]!, /^line 4: turn 1 has no gold files/);
  });

  it('names every kind of damage; a JSON array is accepted; ids stay unique; paths are normalised', () => {
    const text = [
      '[1, "x", {"turns": []}, {"turns": [{"gold": ["a.py"]}]}, {"turns": "no"},',
      ' {"id": "d", "turns": [{"question": "q", "gold": [".\\\\src\\\\a.py", {"path": "src/a.py", "line_ranges": [[3, 4]]}, 7, {"nopath": 1}]}]},',
      ' {"id": "d", "split": "other", "turns": [{"question": "q2", "gold": ["b.py"]}]}]',
    ].join('\n');
    const { conversations, dropped } = parseConversations(text);
    assert.deepEqual(dropped, [
      'entry 1: not a JSON object; dropped',
      'entry 2: not a JSON object; dropped',
      'entry 3: "turns" is empty; dropped',
      'entry 4: turn 1 has no "question"; dropped',
      'entry 5: no "turns" array; dropped',
    ]);
    assert.deepEqual(conversations.map((c) => c.id), ['d', 'd#2']);
    assert.deepEqual(conversations[0]!.turns[0]!.gold, [{ path: 'src/a.py', lineRanges: [[3, 4]] }]);
    assert.equal(conversations[1]!.split, undefined, 'an unknown split is ignored, the conversation kept');
    assert.match(parseConversations('[{"turns": ').dropped[0]!, /not a JSON array/);
  });

  it('round-trips through conversationsJsonl', () => {
    const { conversations } = parseConversations(SHOP_CONVERSATIONS);
    const again = parseConversations(conversationsJsonl(conversations));
    assert.deepEqual(again.dropped, []);
    assert.deepEqual(again.conversations.map((c) => [c.id, c.split, c.turns.map((t) => t.gold.map((g) => g.path))]), conversations.map((c) => [c.id, c.split, c.turns.map((t) => t.gold.map((g) => g.path))]));
  });

  it('every mined follow-up refers back and asks about tests (so the conversation is used, and the tests-first step applies)', () => {
    for (const q of TEST_FOLLOW_UPS) {
      assert.ok(refersBack(q), q);
      assert.equal(understandQuestion(q).kind, 'tests', q);
    }
  });

  it('the table prints every row, and a base without an embedding model once', () => {
    const outcomes = [{ id: 'a', results: { lexical: { 'turn 1 alone': [{ turn: 1, acc1: 1, acc5: 1, mrr10: 1, firstGoldRank: 1, top: ['a.py'] }], 'follow-up alone': [{ turn: 2, acc1: 0, acc5: 0, mrr10: 0, firstGoldRank: null, top: [] }] } } }];
    const rows = summarizeConversations(outcomes, { bases: ['lexical', 'hybrid'] }, { hybrid: 'no embedding model', llm: 'no LLM configured' });
    const table = formatConversationTable(rows);
    assert.match(table, /\| lexical \| turn 1 alone \| 1 \| 100\.0 \| 100\.0 \| 1\.000 \|/);
    assert.match(table, /\| lexical \| follow-up alone \| 1 \| 0\.0 \| 0\.0 \| 0\.000 \|/);
    assert.match(table, /\| lexical \| follow-up \+ conversation \(LLM rewrite\) \| – \| unavailable: no LLM configured/);
    assert.equal(table.split('\n').filter((l) => l.startsWith('| hybrid')).length, 1);
  });
});

describe('test file naming conventions', () => {
  it('strips the markers of each ecosystem', () => {
    for (const [p, stem] of [
      ['tests/test_upload.py', 'upload'],
      ['pkg/upload_test.go', 'upload'],
      ['test/unit/upload.test.ts', 'upload'],
      ['spec/upload.spec.js', 'upload'],
      ['src/test/java/com/acme/UploadTest.java', 'upload'],
      ['Acme.Tests/UploadTests.cs', 'upload'],
      ['tests/upload_tests.rs', 'upload'],
      ['test/TestUpload.java', 'upload'],
      ['test/unit/eval-git-history.test.ts', 'evalgithistory'],
    ] as const) assert.equal(testStem(p), stem, p);
    assert.equal(subjectStem('src/acme/upload/__init__.py'), 'upload');
    assert.equal(subjectStem('src/acme/upload/index.ts'), 'upload');
    assert.equal(subjectStem('src/core/eval/gitHistory.ts'), 'githistory');
    assert.equal(subjectStem('types/upload.d.ts'), 'upload');
  });

  it('a test is named after a source by the same name or by its whole words; helpers, fixtures and docs under test folders are not tests', () => {
    assert.equal(namedAfter('src/upload.py', 'tests/test_upload.py'), 3);
    assert.equal(namedAfter('src/core/eval/gitHistory.ts', 'test/unit/eval-git-history.test.ts'), 2);
    assert.equal(namedAfter('src/core/store/lock.ts', 'test/unit/chunk-blocks.test.ts'), 0, 'a substring is not a name');
    assert.equal(namedAfter('src/core/search/fusion.ts', 'test/unit/confusion.test.ts'), 0);
    assert.equal(namedAfter('pkg/acme/__init__.py', 'tests/test_acme.py'), 3);
    for (const p of ['tests/test_upload.py', 'pkg/upload_test.go', 'test/unit/x.test.ts', 'src/test/java/XTest.java']) assert.ok(isTestFile(p), p);
    for (const p of ['test/fixtures/models/README.md', 'test/support/openaiServer.ts', 'tests/conftest.py', 'tests/data/sample.py', 'test/e2e/harness.ts', 'src/upload.py']) assert.ok(!isTestFile(p), p);
  });
});

const ENV = { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com', GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' };

describe('conversations mined from git history (a repository made here)', () => {
  let repo: string;
  let cleanup: () => void;
  const sha: Record<string, string> = {};

  before(() => {
    const t = tempDir('sift-conv-');
    cleanup = t.cleanup;
    repo = path.join(t.dir, 'repo');
    mkdirSync(repo);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args], { cwd: repo, env: ENV, encoding: 'utf8' });
    let tick = 0;
    const commit = (name: string, message: string) => {
      tick++;
      const date = `2024-01-01T00:00:${String(tick).padStart(2, '0')}Z`;
      execFileSync('git', ['add', '-A'], { cwd: repo, env: ENV });
      execFileSync('git', ['-c', 'commit.gpgsign=false', 'commit', '-q', '-m', message], { cwd: repo, env: { ...ENV, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
      sha[name] = git('rev-parse', 'HEAD').trim();
    };
    git('init', '-q');
    writeTree(repo, { 'src/upload.py': 'def retry():\n    pass\n', 'tests/test_upload.py': 'def test_retry():\n    pass\n', 'README.md': '# r\n' });
    commit('root', 'Initial import of the uploader');
    writeTree(repo, { 'src/upload.py': 'def retry(n):\n    pass\n', 'tests/test_upload.py': 'def test_retry():\n    retry(2)\n', 'CHANGELOG.md': 'retry\n' });
    commit('pair', 'Retry failed uploads a given number of times\n\nThe count was ignored.');
    writeTree(repo, { 'src/upload.py': 'def retry(n, wait):\n    pass\n' });
    commit('sourceOnly', 'Wait between upload retries');
    writeTree(repo, { 'src/session.py': 'def expire():\n    pass\n', 'tests/support/fake_clock.py': 'NOW = 0\n' });
    commit('helperOnly', 'Expire sessions with a fake clock in the tests');
    writeTree(repo, { 'src/gone.py': 'x = 1\n', 'tests/test_gone.py': 'def test_gone():\n    pass\n' });
    commit('laterDeleted', 'Add the gone module and its test');
    rmSync(path.join(repo, 'tests/test_gone.py'));
    writeTree(repo, { 'src/version.py': 'V = "1.0.1"\n', 'tests/test_version.py': 'def test_v():\n    pass\n' });
    commit('bump', 'Bump version to 1.0.1');
    const many: Record<string, string> = {};
    for (let i = 0; i < 6; i++) {
      many[`src/m${i}.py`] = `x = ${i}\n`;
      many[`tests/test_m${i}.py`] = `def test_m${i}():\n    pass\n`;
    }
    writeTree(repo, many);
    commit('tooMany', 'Add six small modules with their tests');
    writeTree(repo, { 'lib/shipping.ts': 'export const cost = 1;\n', 'lib/shipping.test.ts': 'test("cost", () => {});\n' });
    commit('ts', 'Compute the shipping cost per parcel zone');
  });

  after(() => cleanup());

  it('keeps commits changing a source file and its test (still in the tree); turn 2 is a seeded elliptical follow-up', async () => {
    const mined = await mineConversations(repo, { max: 50, seed: 7 });
    assert.deepEqual(mined.conversations.map((c) => c.commit), [sha.ts, sha.pair, sha.root]);
    const pair = mined.conversations.find((c) => c.commit === sha.pair)!;
    assert.equal(pair.turns[0]!.question, 'Retry failed uploads a given number of times. The count was ignored.');
    assert.deepEqual(pair.turns[0]!.gold.map((g) => g.path), ['src/upload.py']);
    assert.deepEqual(pair.turns[1]!.gold.map((g) => g.path), ['tests/test_upload.py']);
    assert.ok((TEST_FOLLOW_UPS as readonly string[]).includes(pair.turns[1]!.question));
    assert.deepEqual(mined.conversations.find((c) => c.commit === sha.ts)!.turns.map((t) => t.gold.map((g) => g.path)), [['lib/shipping.ts'], ['lib/shipping.test.ts']]);
    assert.equal(mined.skipped['version-bump'], 1);
    assert.equal(mined.skipped['too-many-files'], 1);
    assert.equal(mined.skipped['no source and test pair'], 3, 'source only, a test helper only, a test deleted since');
    for (const c of mined.conversations) assert.ok(c.split === 'tune' || c.split === 'report');
  });

  it('is reproducible: the same seed gives the same file; the phrasing and the half follow the seed and the commit only', async () => {
    const a = conversationsJsonl((await mineConversations(repo, { max: 50, seed: 7 })).conversations);
    assert.equal(conversationsJsonl((await mineConversations(repo, { max: 50, seed: 7 })).conversations), a);
    const one = (await mineConversations(repo, { max: 1, seed: 7 })).conversations[0]!;
    assert.deepEqual(one, parseConversations(a).conversations.find((c) => c.id === one.id), 'a commit keeps its phrasing and half whatever else is mined');
    const seeds = new Set<string>();
    for (let seed = 1; seed <= 12; seed++) seeds.add(JSON.stringify((await mineConversations(repo, { max: 50, seed })).conversations.map((c) => [c.turns[1]!.question, c.split])));
    assert.ok(seeds.size > 1, 'the seed changes the draw');
  });

  it('a file written by the miner parses without loss', async () => {
    const mined = await mineConversations(repo, { max: 50 });
    const parsed = parseConversations(conversationsJsonl(mined.conversations));
    assert.equal(parsed.conversations.length, mined.conversations.length);
    assert.deepEqual(parsed.dropped, []);
  });
});
