import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IndexStore } from '../../src/core/store/store';
import { retrieve } from '../../src/core/search/retriever';
import { TINY_EMBEDDER, TINY_RERANKER, tempDir, writeTree, runCli } from '../helpers';
import { OpenAiTestServer } from '../support/openaiServer';
import { REPO } from '../support/repo';


describe('sift ask (CLI)', () => {
  let server: OpenAiTestServer;
  let dir: string;
  let cleanup: () => void;
  let root: string;
  const models = () => ['--embedding-model', TINY_EMBEDDER, '--reranker-model', TINY_RERANKER, '--offline', '--index-dir', path.join(dir, 'idx')];

  before(async () => {
    ({ dir, cleanup } = tempDir());
    root = path.join(dir, 'repo');
    writeTree(root, REPO);
    server = new OpenAiTestServer();
    await server.start();
  });
  after(async () => {
    await server.stop();
    cleanup();
  });

  it('--json: streamed answer, numbered sources with provenance, verified citations, timings', async () => {
    server.script = [{ kind: 'answer', text: 'Retries happen in `retryFailedUploads` [1]. Unknown [42].' }];
    // The first question on this folder: embed before answering (otherwise it is answered after the keyword pass).
    const r = await runCli(['ask', root, 'where do we retry failed uploads?', ...models(), '--wait-for-embeddings', '--llm-model', 'test-model', '--json'], { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-cli-test-key' });
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.answerKind, 'llm');
    assert.equal(json.answer, 'Retries happen in `retryFailedUploads` [1]. Unknown [42].');
    assert.deepEqual(json.citations.map((c: { n: number; verified: boolean }) => [c.n, c.verified]), [[1, true], [42, false]]);
    assert.equal(json.retrieval, 'hybrid');
    assert.equal(json.reranked, true);
    const s = json.sources[0];
    for (const k of ['n', 'path', 'startLine', 'endLine', 'retrievers', 'rankBefore', 'rankAfter', 'scores']) assert.ok(k in s, k);
    assert.equal(typeof s.scores.rerank, 'number');
    for (const k of ['embed', 'dense', 'lexical', 'fuse', 'rerank', 'firstToken', 'total']) assert.equal(typeof json.timings[k], 'number', k);
    assert.equal(server.requests.at(-1)!.body.model, 'test-model');
    assert.ok(!r.stderr.includes('sk-cli-test-key') && !r.stdout.includes('sk-cli-test-key'));
  });

  it('human output streams the answer, then a sources table with rank movement', async () => {
    server.script = [{ kind: 'answer', text: 'See [1].' }];
    const r = await runCli(['ask', root, 'how many attempts per file are allowed for uploads', ...models(), '--llm-model', 'm'], { OPENAI_BASE_URL: server.baseURL });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^See \[1\]\./);
    assert.match(r.stdout, /Sources \(hybrid, reranked\):/);
    assert.match(r.stdout, /\[1\] \S+:\d+-\d+ +(dense|bm25)/);
    assert.match(r.stdout, /\d+ → \d+ (▲\d+|▼\d+|=)/);
    assert.match(r.stdout, /1 verified citation/);
  });

  it('--compare --json: both rankings and both answers', async () => {
    server.script = [{ kind: 'answer', text: 'A [1].' }];
    const r = await runCli(['ask', root, 'how many attempts per file are allowed for uploads', ...models(), '--compare', '--json', '--llm-model', 'm'], { OPENAI_BASE_URL: server.baseURL });
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.reranked.reranked, true);
    assert.equal(json.notReranked.reranked, false);
    assert.equal(json.reranked.answer, 'A [1].');
    assert.notDeepEqual(json.reranked.ranking.map((x: { chunkId: string }) => x.chunkId), json.notReranked.ranking.map((x: { chunkId: string }) => x.chunkId));
  });

  it('--compare --path and an @folder mention narrow both sides', async () => {
    const r = await runCli(['ask', root, 'where do we retry failed uploads? @src/auth/', ...models(), '--compare', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    for (const side of [json.reranked, json.notReranked]) {
      const paths = side.ranking.map((x: { path: string }) => x.path);
      assert.ok(paths.length > 0 && paths.every((p: string) => p.startsWith('src/auth/')), paths.join(', '));
    }
    const viaPath = JSON.parse((await runCli(['ask', root, 'where do we retry failed uploads?', ...models(), '--compare', '--json', '--path', 'src/config/**'])).stdout);
    for (const side of [viaPath.reranked, viaPath.notReranked]) assert.ok(side.ranking.every((x: { path: string }) => x.path.startsWith('src/config/')));
  });

  it('--compare human output shows the rankings side by side with movements', async () => {
    const r = await runCli(['ask', root, 'how many attempts per file are allowed for uploads', ...models(), '--compare']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Without reranking +With reranking/);
    assert.match(r.stdout, /▲\d+/);
  });

  it('retrieval-only when no LLM is configured', async () => {
    const before = server.requests.length;
    const r = await runCli(['ask', root, 'where do we retry failed uploads?', ...models(), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.answerKind, 'retrieval-only');
    assert.ok(json.sources.length > 0 && json.sources[0].text.length > 0);
    assert.equal(server.requests.length, before);
  });

  it('a damaged shard file: a reader says what is wrong and how to repair; the next run rebuilds it', async () => {
    const idx = path.join(dir, 'idx-damage');
    const args = ['ask', root, 'retryFailedUploads', '--embedding-model', TINY_EMBEDDER, '--reranker-model', TINY_RERANKER, '--offline', '--index-dir', idx, '--json'];
    const first = await runCli(args);
    assert.equal(first.code, 0, first.stderr);
    const expected = JSON.parse(first.stdout).sources.map((s: { path: string }) => s.path);
    const { store } = await IndexStore.openForRead(idx);
    const shard = store!.manifest.shards[0]!;
    // Bit rot in the middle of the keyword index: same size, different bytes.
    const file = path.join(idx, 'shards', shard.dir, 'lexical.bin');
    const bytes = readFileSync(file);
    for (let i = 40; i < 200; i++) bytes[i] = 0xff;
    writeFileSync(file, bytes);
    const reader = (await IndexStore.openForRead(idx)).store!;
    await assert.rejects(retrieve(reader, 'retryFailedUploads'), (err: Error) => {
      assert.match(err.message, /damaged/);
      assert.match(err.message, /Reindex Workspace|sift index/);
      return true;
    });
    await reader.close();
    const second = await runCli(args);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /Rebuilding the index: it is damaged \(lexical\.bin of shard s0000 fails its checksum\)/);
    assert.deepEqual(JSON.parse(second.stdout).sources.map((s: { path: string }) => s.path), expected);
    assert.ok(!/\n\s+at /.test(second.stderr), 'no stack trace');
  });

  it('lexical-only with a one-line explanation when models cannot be loaded; never a stack trace', async () => {
    const r = await runCli(['ask', root, 'retryFailedUploads', '--embedding-model', path.join(dir, 'missing-model'), '--reranker-model', path.join(dir, 'missing-reranker'), '--index-dir', path.join(dir, 'idx-lex'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.retrieval, 'lexical-only');
    assert.equal(json.reranked, false);
    assert.equal(json.sources[0].path, 'src/net/uploader.ts');
    assert.match(r.stderr, /embedding model folder could not be loaded: model folder \S+missing-model does not exist/);
    assert.match(r.stderr, /lexical-only/);
    assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
  });

  it('an LLM error gives a message that says what to check, keeps the sources, exits 3', async () => {
    server.script = [{ kind: 'status', status: 404, message: 'model nope not found' }];
    const r = await runCli(['ask', root, 'retry uploads', ...models(), '--llm-model', 'nope', '--no-rerank'], { OPENAI_BASE_URL: server.baseURL });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /does not know the model "nope".*Check the model name/);
    assert.match(r.stdout, /Sources \(hybrid\):/);
    assert.ok(!/\n\s+at /.test(r.stderr));
  });
  it('--no-question-prior: a traceback that names only the test ranks the implementation first by default, the test first without the prior', async () => {
    const repo = path.join(dir, 'tomlish');
    writeTree(repo, {
      'src/tomlish/decoder.py': 'import re\nfrom .errors import DecodeError\n\n\nclass Decoder:\n    def parse_table_header(self, line):\n        name = line.strip()[1:-1]\n        if not name:\n            raise DecodeError("empty table name")\n        return name.split(".")\n',
      'src/tomlish/errors.py': 'class DecodeError(ValueError):\n    """Raised when a document cannot be decoded."""\n',
      'tests/test_decoder.py': 'import pytest\nfrom tomlish.decoder import Decoder\nfrom tomlish.errors import DecodeError\n\n\ndef test_dotted_table_header():\n    # a dotted table header with quoted keys: DecodeError empty table name\n    d = Decoder()\n    assert d.parse_table_header(\'["a.b"]\') == ["a.b"]\n    with pytest.raises(DecodeError, match="empty table name"):\n        d.parse_table_header("[]")\n',
    });
    const question = 'Quoted dotted table header rejected with DecodeError\n\nTraceback (most recent call last):\n  File "tests/test_decoder.py", line 9, in test_dotted_table_header\n    assert d.parse_table_header(\'["a.b"]\') == ["a.b"]\ntomlish.errors.DecodeError: empty table name';
    const common = ['ask', repo, question, '--lexical-only', '--no-rerank', '--index-dir', path.join(dir, 'idx-prior'), '--json'];
    const on = await runCli(common);
    assert.equal(on.code, 0, on.stderr);
    assert.equal(JSON.parse(on.stdout).sources[0].path, 'src/tomlish/decoder.py');
    const off = await runCli([...common, '--no-question-prior']);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(JSON.parse(off.stdout).sources[0].path, 'tests/test_decoder.py');
  });

  it('sift ask DIR -: a bug report pasted on standard input keeps its lines, and one against a test runner that names tests and docs in passing ranks the implementation first', async () => {
    const repo = path.join(dir, 'runner');
    writeTree(repo, {
      'src/runner/ids.py':
        'def param_ids(fixture, params):\n    """Test ids of a parametrized fixture: one id per param, from the fixture that defines them."""\n    base = fixture.base or fixture\n    return [f"{fixture.name}[{p}]" for p in base.params]\n',
      'tests/test_ids.py':
        'from runner.ids import param_ids\n\n\ndef test_override_ids(override_fixture):\n    # a test class overrides a parametrized fixture: the test ids come from the override params\n    ids = param_ids(override_fixture, override_fixture.params)\n    assert ids == ["value[a]"], "test ids of an overriding fixture"\n\n\ndef test_base_ids(base_fixture):\n    assert param_ids(base_fixture, [1, 2]) == ["value[1]", "value[2]"]\n',
      'docs/parametrize.md': '# Parametrized fixtures\n\nTest ids come from the params of the fixture. When a test class overrides a parametrized fixture, the override wins: its params give the test ids.\n',
    });
    // What the test ids look like, the docs, a question at the end: before, "what the test …" made it a
    // question about tests (tests ranked first) and the question mark one asked to explain.
    const report = `Parametrized ids are wrong when a class overrides the fixture

This is what the test ids look like when a test class overrides a parametrized fixture: test_value[1], test_value[2]. The ids still come from the base fixture's params; the docs say the override wins.

Is this expected?`;
    const common = ['ask', repo, '-', '--lexical-only', '--no-rerank', '--index-dir', path.join(dir, 'idx-stdin'), '--json'];
    const on = await runCli(common, {}, { stdin: report });
    assert.equal(on.code, 0, on.stderr);
    const json = JSON.parse(on.stdout) as { question: string; sources: { path: string }[] };
    assert.equal(json.question, report);
    assert.equal(json.sources[0]!.path, 'src/runner/ids.py');
    const off = await runCli([...common, '--no-question-prior'], {}, { stdin: report });
    assert.equal(off.code, 0, off.stderr);
    assert.notEqual((JSON.parse(off.stdout) as { sources: { path: string }[] }).sources[0]!.path, 'src/runner/ids.py');
    // Nothing on standard input: the empty question is refused with a message, as an empty argument is.
    const empty = await runCli(['ask', repo, '-', '--lexical-only', '--index-dir', path.join(dir, 'idx-stdin')], {}, { stdin: '' });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /the question is empty/);
  });
});
