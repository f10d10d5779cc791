import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TINY_EMBEDDER, runCli, tempDir, writeTree } from '../helpers';
import { OpenAiTestServer } from '../support/openaiServer';
import { SHOP_CONVERSATIONS, SHOP_REPO } from '../support/shopRepo';

interface Row {
  base: string;
  row: string;
  n: number;
  acc1: number;
  acc5: number;
  mrr10: number;
  unavailable?: string;
}

describe('sift eval --conversations (CLI, tiny embedding model, local OpenAI-compatible server)', () => {
  let dir: string;
  let cleanup: () => void;
  let root: string;
  let file: string;
  let server: OpenAiTestServer;

  before(async () => {
    const t = tempDir('sift-evalconv-');
    dir = t.dir;
    cleanup = t.cleanup;
    root = path.join(dir, 'shop');
    writeTree(root, SHOP_REPO);
    file = path.join(dir, 'conversations.jsonl');
    writeFileSync(file, SHOP_CONVERSATIONS);
    server = new OpenAiTestServer();
    // The scripted rewrite names what the conversation was about.
    server.script = [{ kind: 'answer', text: (body) => (JSON.stringify(body.messages).includes('invoice') ? 'test_invoice total_with_tax' : 'test_shipping shipping_cost') }];
    await server.start();
  });

  after(async () => {
    await server.stop();
    cleanup();
  });

  const args = (...extra: string[]) => ['eval', root, '--conversations', file, '--index-dir', path.join(dir, 'index'), '--embedding-model', TINY_EMBEDDER, '--offline', '--quiet', ...extra];
  const env = { SIFT_DTYPE: 'fp32', OPENAI_API_KEY: '', OPENAI_BASE_URL: '' };

  it('reports every row, lexical and hybrid; with the conversation the elliptical follow-up finds its tests, alone it does not', async () => {
    const r = await runCli(args('--json', '--llm-base-url', server.baseURL, '--llm-model', 'rewriter'), env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /line 2: not JSON[^\n]*; dropped/);
    assert.match(r.stderr, /line 4: turn 1 has no gold files[^\n]*; dropped/);
    const out = JSON.parse(r.stdout) as { tables: { split: string; rows: Row[] }[]; conversations: { id: string }[] };
    assert.deepEqual(out.tables.map((t) => t.split), ['all', 'tune', 'report']);
    const rows = out.tables[0]!.rows;
    for (const base of ['lexical', 'hybrid']) {
      const get = (name: string) => rows.find((x) => x.base === base && x.row === name)!;
      for (const name of ['turn 1 alone', 'follow-up alone', 'follow-up + conversation (fallback)', 'follow-up + conversation (LLM rewrite)']) {
        assert.equal(get(name).unavailable, undefined, `${base} ${name}`);
        assert.equal(get(name).n, 2, `${base} ${name}`);
      }
      assert.equal(get('follow-up + conversation (fallback)').acc5, 1, base);
      assert.ok(get('follow-up + conversation (fallback)').mrr10 > get('follow-up alone').mrr10, base);
      assert.ok(get('follow-up + conversation (fallback)').acc5 >= get('turn 1 alone').acc5, base);
      assert.equal(get('follow-up + conversation (LLM rewrite)').acc5, 1, base);
    }
    // Only rewrite calls (no answers), each carrying the earlier turn.
    assert.ok(server.requests.length >= 2);
    for (const q of server.requests) {
      const user = q.body.messages.find((m) => m.role === 'user')!.content;
      assert.match(user, /Follow-up: (and where is this tested\?|which tests cover it\?)/);
      assert.match(user, /sales tax|shipping a parcel/);
    }
  });

  it('prints the table; the ablation row and the split are options', async () => {
    const r = await runCli(args('--split', 'report', '--ablation'), env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Split report \(1 conversations\)/);
    assert.match(r.stdout, /\| lexical \| follow-up \+ conversation \(fallback\) \| 1 \| [\d.]+ \| 100\.0 \|/);
    assert.match(r.stdout, /\| hybrid \| follow-up alone \| 1 \|/);
    assert.match(r.stdout, /\| lexical \| follow-up \+ conversation \(fallback, no tests-first\) \| 1 \|/);
    assert.match(r.stdout, /\| lexical \| follow-up \+ conversation \(LLM rewrite\) \| – \| unavailable: no LLM configured/);
  });

  it('bad options are clear errors', async () => {
    const noOut = await runCli(['eval', root, '--mine-conversations', '5'], env);
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /--mine-conversations needs --out FILE/);
    const split = await runCli(args('--split', 'half'), env);
    assert.equal(split.code, 2);
    assert.match(split.stderr, /--split must be tune, report or all/);
    const missing = await runCli(['eval', root, '--conversations', path.join(dir, 'nope.jsonl')], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read the conversations file/);
  });
});
