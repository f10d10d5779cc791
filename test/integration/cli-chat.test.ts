import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir, writeTree, runCli } from '../helpers';
import { OpenAiTestServer } from '../support/openaiServer';
import { CONVERSATION_REPO } from '../support/conversationRepo';


describe('sift chat / sift ask --path (CLI, piped stdin)', () => {
  let server: OpenAiTestServer;
  let dir: string;
  let root: string;
  let cleanup: () => void;
  const base = () => ['--lexical-only', '--no-rerank', '--offline', '--index-dir', path.join(dir, 'idx')];

  before(async () => {
    ({ dir, cleanup } = tempDir());
    root = path.join(dir, 'repo');
    writeTree(root, CONVERSATION_REPO);
    server = new OpenAiTestServer();
    await server.start();
  });
  after(async () => {
    await server.stop();
    cleanup();
  });

  it('one question per line: the follow-up finds the test of the first subject; /new forgets; /quit ends', async () => {
    const lines = ['how does the app decide which error handler to call?', 'and how is that tested?', '/new', 'and how is that tested?', '/quit', 'never asked'];
    const r = await runCli(['chat', root, ...base(), '--json'], {}, { stdin: `${lines.join('\n')}\n` });
    assert.equal(r.code, 0, r.stderr);
    const turns = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(turns.length, 3, r.stdout);
    assert.equal(turns[0].sources[0].path, 'src/app/errors.py');
    assert.equal(turns[1].turn, 2);
    assert.equal(turns[1].sources[0].path, 'tests/test_errors.py');
    assert.match(turns[1].searchedFor, /error/);
    assert.equal(turns[2].turn, 1, '/new starts a new conversation');
    assert.equal(turns[2].searchedFor, undefined);
    assert.notEqual(turns[2].sources[0]?.path, 'tests/test_errors.py');
  });

  it('with an LLM: the second request carries the first turn; human output says what was searched for', async () => {
    server.script = [{ kind: 'answer', text: 'It walks the class hierarchy [1].' }, { kind: 'answer', text: 'ErrorHandlerRegistry tests' }, { kind: 'answer', text: 'In tests/test_errors.py [1].' }];
    const start = server.requests.length;
    const r = await runCli(['chat', root, ...base(), '--llm-model', 'm'], { OPENAI_BASE_URL: server.baseURL }, { stdin: 'how does the app decide which error handler to call?\nand how is that tested?\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\(searched for: ErrorHandlerRegistry tests\)/);
    const last = server.requests.slice(start).at(-1)!.body.messages;
    assert.equal(last[1]!.content, 'how does the app decide which error handler to call?');
    assert.match(last[2]!.content, /class hierarchy \(src\/app\/errors\.py:/);
  });

  it('sift ask --path restricts to a folder and notes paths that are not indexed', async () => {
    const r = await runCli(['ask', root, 'error handler', ...base(), '--path', 'tests/', 'nowhere/', '--json'], {}, { stdin: '' });
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.ok(json.ranking.length > 0);
    assert.ok(json.ranking.every((x: { path: string }) => x.path.startsWith('tests/')), JSON.stringify(json.ranking.map((x: { path: string }) => x.path)));
    assert.ok(json.notices.some((n: string) => n.includes('@nowhere is not in the index')), json.notices.join('\n'));
  });
});
