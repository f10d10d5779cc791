import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI_SCRIPT, INDEXER_SCRIPT, REPO_ROOT, TINY_EMBEDDER, TINY_RERANKER, WORKER_SCRIPT, tempDir, writeTree } from '../helpers';
import { ServedFolder } from '../../src/cli/mcp/folders';
import { retrieve } from '../../src/core/search/retriever';
import { OpenAiTestServer } from '../support/openaiServer';
import { acquireLock } from '../../src/core/store/lock';
import { type IndexEvent, type IndexOptions, type IndexSummary, indexWorkspace } from '../../src/core/indexing/indexer';
import { InferenceClient } from '../../src/core/worker/client';
import { isAbortError } from '../../src/core/util/errors';
import { denseCoverage, readManifest } from '../../src/core/store/manifest';

/** The planted answer and its distractors: other files about payments, uploads or retries. */
const FIXTURE: Record<string, string> = {
  'src/payments/retry.ts': [
    '/** Retry a failed upload with exponential backoff: wait 2^attempt * base ms between attempts. */',
    'export async function retryFailedUpload(upload: () => Promise<boolean>, maxAttempts = 5, baseMs = 100): Promise<boolean> {',
    '  for (let attempt = 0; attempt < maxAttempts; attempt++) {',
    '    if (await upload()) return true;',
    '    const backoff = baseMs * 2 ** attempt; // exponential backoff',
    '    await new Promise((resolve) => setTimeout(resolve, backoff));',
    '  }',
    '  return false;',
    '}',
    '',
  ].join('\n'),
  'src/payments/invoice.ts': [
    '/** Builds the invoice for a customer order, with taxes and discounts. */',
    'export function buildInvoice(order: { total: number; taxRate: number; discount: number }) {',
    '  const net = order.total - order.discount;',
    '  return { net, tax: net * order.taxRate, gross: net * (1 + order.taxRate) };',
    '}',
    '',
  ].join('\n'),
  'src/payments/refund.ts': 'export function refundPayment(paymentId: string, amount: number) {\n  return { paymentId, amount, status: "refunded" };\n}\n',
  'src/storage/upload.ts': [
    '/** Uploads a file to the storage bucket in chunks. */',
    'export async function uploadFile(bucket: string, name: string, data: Uint8Array) {',
    '  const chunkSize = 1 << 20;',
    '  for (let offset = 0; offset < data.length; offset += chunkSize) await put(bucket, name, data.subarray(offset, offset + chunkSize));',
    '}',
    'declare function put(bucket: string, name: string, part: Uint8Array): Promise<void>;',
    '',
  ].join('\n'),
  'src/auth/session.py': 'class SessionStore:\n    def invalidate_expired_sessions(self, now):\n        self.sessions = {k: v for k, v in self.sessions.items() if v.expires > now}\n',
  'src/deploy/publish.ts': '// Publishes release artifacts to the bucket.\nexport function publishArtifacts(bucket: string) {\n  const accessKeyId = "AKIAIOSFODNN7EXAMPLE";\n  return { bucket, accessKeyId };\n}\n',
  'docs/payments.md': '# Payments\n\nInvoices are built per order. Refunds go back to the original payment.\n',
  '.env': 'STRIPE_SECRET_KEY=sk_live_abcdefghijklmnopqrstuvwx\n',
  'assets/logo.png': '\u0089PNG\r\n\u001a\n\u0000\u0000\u0000\rIHDR',
};

const RETRY_QUERY = 'retry failed upload with exponential backoff';

type Structured = Record<string, unknown> & {
  results?: { path: string; startLine: number; endLine: number; text: string; retrievers: string[]; rankBefore: number; rankAfter: number; scores: Record<string, number> }[];
};

function structured(r: unknown): Structured {
  return (r as CallToolResult).structuredContent as Structured;
}

function textOf(r: unknown): string {
  return ((r as CallToolResult).content ?? []).map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

/** The environment for servers: the test's own cache root, no LLM. */
function serverEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'OPENAI_BASE_URL' && k !== 'OPENAI_API_KEY') env[k] = v;
  return { ...env, SIFT_HOME: home };
}

const MODEL_ARGS = ['--embedding-model', TINY_EMBEDDER, '--reranker-model', TINY_RERANKER, '--offline'];

async function connect(root: string, home: string, extra: { args?: string[]; env?: Record<string, string> } = {}): Promise<{ client: Client; stderr: () => string; waitForLog: (re: RegExp) => Promise<void>; close: () => Promise<void> }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_SCRIPT, 'mcp', root, ...MODEL_ARGS, ...(extra.args ?? [])],
    env: { ...serverEnv(home), ...extra.env },
    stderr: 'pipe',
  });
  let stderr = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  transport.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const w of waiters.splice(0)) if (w.re.test(stderr)) w.resolve();
    else waiters.push(w);
  });
  /** Resolves when the server's log (stderr) matches: a condition, not a fixed wait. */
  const waitForLog = (re: RegExp) => new Promise<void>((resolve) => (re.test(stderr) ? resolve() : waiters.push({ re, resolve })));
  const client = new Client({ name: 'sift-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr, waitForLog, close: () => client.close() };
}

/** Waits for the server to log that the embedded index was built, then checks index_status agrees (fails after 20 s). */
async function waitUntilReady(server: { client: Client; waitForLog: (re: RegExp) => Promise<void> }): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the embedded index was not built within 20 s')), 20_000)));
  try {
    await Promise.race([server.waitForLog(/embedded index updated in/), timeout]);
  } finally {
    clearTimeout(timer);
  }
  const s = structured(await server.client.callTool({ name: 'index_status', arguments: {} })) as { folders: { state: string; background?: unknown }[] };
  assert.ok(s.folders.every((f) => f.state === 'ready' && !f.background), `index_status after the build: ${JSON.stringify(s)}`);
}

describe('sift mcp (MCP server over stdio, driven by the SDK client)', () => {
  let dir: string;
  let cleanup: () => void;
  let root: string;
  let server: Awaited<ReturnType<typeof connect>>;

  before(async () => {
    ({ dir, cleanup } = tempDir('sift-mcp-'));
    root = path.join(dir, 'repo');
    writeTree(root, FIXTURE);
    symlinkSync('/etc/passwd', path.join(root, 'src', 'passwd-link.ts'));
    server = await connect(root, path.join(dir, 'home'));
  });
  after(async () => {
    await server?.close();
    cleanup();
  });

  it('lists its tools with input and output schemas written for agents', async () => {
    const { tools } = await server.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.deepEqual([...byName.keys()].sort(), ['index_status', 'read_range', 'search_code'], 'no ask tool without an LLM');
    const search = byName.get('search_code')!;
    assert.deepEqual(search.inputSchema.required, ['query']);
    assert.ok(search.inputSchema.properties && 'paths' in search.inputSchema.properties && 'limit' in search.inputSchema.properties && 'rerank' in search.inputSchema.properties);
    assert.ok(search.outputSchema, 'search_code declares its structured output');
    assert.match(search.description ?? '', /grep/);
    assert.match(search.description ?? '', /read_range/);
    assert.ok(byName.get('read_range')!.outputSchema && byName.get('index_status')!.outputSchema);
  });

  it('answers the first search on an unindexed folder from keywords at once, says so, then hybrid and reranked', async () => {
    const first = await server.client.callTool({ name: 'search_code', arguments: { query: RETRY_QUERY } });
    assert.ok(!first.isError, textOf(first));
    const s1 = structured(first);
    assert.equal(s1.retrieval, 'lexical-only');
    assert.equal((s1.coverage as { denseShare: number }).denseShare, 0);
    assert.match((s1.coverage as { note?: string }).note ?? '', /keyword \(BM25\)/);
    assert.equal(s1.results![0]!.path, 'src/payments/retry.ts');

    await waitUntilReady(server);
    const second = await server.client.callTool({ name: 'search_code', arguments: { query: RETRY_QUERY, limit: 3 } });
    assert.ok(!second.isError, textOf(second));
    const s2 = structured(second);
    assert.equal(s2.retrieval, 'hybrid');
    assert.equal(s2.reranked, true);
    assert.equal((s2.coverage as { denseShare: number }).denseShare, 1);
    assert.equal(s2.results!.length, 3);
    const top = s2.results![0]!;
    assert.equal(top.path, 'src/payments/retry.ts');
    assert.deepEqual(top.retrievers.sort(), ['dense', 'lexical']);
    assert.equal(top.rankAfter, 1);
    assert.equal(typeof top.rankBefore, 'number');
    for (const k of ['rerank', 'dense', 'lexical', 'fused']) assert.equal(typeof top.scores[k], 'number', k);
    assert.match(top.text, /exponential backoff/);
    assert.ok(top.startLine >= 1 && top.endLine >= top.startLine);
    // The readable block names the file, its lines and provenance, and shows the code.
    assert.match(textOf(second), /\[1\] src\/payments\/retry\.ts:\d+-\d+ .*found by dense\+bm25, rank \d+ → 1/);
    assert.match(textOf(second), /retryFailedUpload/);
  });

  it('filters by path globs and redacts secrets in chunk text', async () => {
    const r = await server.client.callTool({ name: 'search_code', arguments: { query: 'publish release artifacts to the bucket access key', paths: ['src/deploy/**'], rerank: false } });
    assert.ok(!r.isError, textOf(r));
    const hits = structured(r).results!;
    assert.ok(hits.length > 0);
    assert.ok(hits.every((h) => h.path.startsWith('src/deploy/')));
    assert.ok(!JSON.stringify(r).includes('AKIAIOSFODNN7EXAMPLE'), 'the key never reaches the agent');
    assert.match(hits[0]!.text, /\[REDACTED AWS access key\]/);
  });

  it('read_range reads lines of a served file and refuses what is outside, secret, binary or a link out', async () => {
    const ok = await server.client.callTool({ name: 'read_range', arguments: { path: 'src/payments/retry.ts', startLine: 2, endLine: 3 } });
    assert.ok(!ok.isError, textOf(ok));
    const s = structured(ok) as unknown as { text: string; startLine: number; endLine: number; totalLines: number; truncated: boolean };
    assert.deepEqual([s.startLine, s.endLine, s.totalLines, s.truncated], [2, 3, 9, false]);
    assert.equal(s.text, FIXTURE['src/payments/retry.ts']!.split('\n').slice(1, 3).join('\n'));
    assert.match(textOf(ok), /^src\/payments\/retry\.ts lines 2-3 of 9\n2 {2}export async function retryFailedUpload/);

    const refused: [string, RegExp][] = [
      ['../../etc/passwd', /outside the workspace/],
      ['/etc/passwd', /only paths relative/],
      [path.join(root, 'src/payments/retry.ts'), /only paths relative/],
      ['.env', /may hold credentials/],
      ['src/passwd-link.ts', /resolves outside/],
      ['assets/logo.png', /binary/],
      ['src/payments/nope.ts', /no longer exists|does not exist/],
    ];
    for (const [p, why] of refused) {
      const r = await server.client.callTool({ name: 'read_range', arguments: { path: p } });
      assert.equal(r.isError, true, `${p} must be refused: ${textOf(r)}`);
      assert.match(textOf(r), why, p);
      assert.ok(!textOf(r).includes('root:x:0') && !textOf(r).includes('sk_live_'), `${p}: no content leaks`);
    }
    const past = await server.client.callTool({ name: 'read_range', arguments: { path: 'src/payments/retry.ts', startLine: 50 } });
    assert.equal(past.isError, true);
    assert.match(textOf(past), /has 9 lines/);
    const backwards = await server.client.callTool({ name: 'read_range', arguments: { path: 'src/payments/retry.ts', startLine: 5, endLine: 2 } });
    assert.equal(backwards.isError, true);
    assert.match(textOf(backwards), /before startLine/);
  });

  it('bad arguments are tool errors with a clear message, and the server keeps serving', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ query: '' }, /query is empty/],
      [{ query: '   \n ' }, /query is empty/],
      [{ query: RETRY_QUERY, limit: 10_000 }, /limit must be at most 50/],
      [{ query: RETRY_QUERY, limit: 0 }, /limit must be at least 1/],
      [{ query: RETRY_QUERY, limit: 2.5 }, /whole number/],
      [{ query: 'x'.repeat(1024 * 1024) }, /longer than 4000 characters/],
      [{ query: 42 }, /query must be a string/],
      [{ query: RETRY_QUERY, paths: 'src/**' }, /paths must be an array/],
      [{ query: RETRY_QUERY, rerank: 'yes' }, /rerank must be true or false/],
      [{}, /query/],
    ];
    for (const [args, why] of bad) {
      const r = await server.client.callTool({ name: 'search_code', arguments: args });
      assert.equal(r.isError, true, `${JSON.stringify(args).slice(0, 80)} must be refused`);
      assert.match(textOf(r), why);
      assert.ok(textOf(r).length < 2000, 'the message does not echo a huge input');
    }
    const wrongRange = await server.client.callTool({ name: 'read_range', arguments: { path: 'src/payments/retry.ts', startLine: 'one' } });
    assert.equal(wrongRange.isError, true);
    assert.match(textOf(wrongRange), /startLine must be a number/);
    const good = await server.client.callTool({ name: 'search_code', arguments: { query: RETRY_QUERY, limit: 1 } });
    assert.ok(!good.isError, textOf(good));
    assert.equal(structured(good).results![0]!.path, 'src/payments/retry.ts');
  });

  it('an edit, a new file and a deletion are visible in the next search (incremental update, no rebuild)', async () => {
    writeFileSync(path.join(root, 'src/payments/invoice.ts'), `${FIXTURE['src/payments/invoice.ts']}\nexport const zanzibarQuokkaLedger = "quarterly ledger reconciliation";\n`);
    writeFileSync(path.join(root, 'src/payments/ledger.ts'), 'export function reconcileMarsupialLedger() {\n  return "wombat ledger";\n}\n');
    const edited = await server.client.callTool({ name: 'search_code', arguments: { query: 'zanzibarQuokkaLedger quarterly reconciliation', limit: 3 } });
    assert.ok(!edited.isError, textOf(edited));
    assert.equal(structured(edited).results![0]!.path, 'src/payments/invoice.ts');
    assert.match(structured(edited).results![0]!.text, /zanzibarQuokkaLedger/);
    const added = await server.client.callTool({ name: 'search_code', arguments: { query: 'reconcileMarsupialLedger wombat', limit: 3 } });
    assert.equal(structured(added).results![0]!.path, 'src/payments/ledger.ts');
    assert.equal(structured(added).retrieval, 'hybrid', 'a small change is embedded on the request path');

    const { rmSync } = await import('node:fs');
    rmSync(path.join(root, 'src/payments/ledger.ts'));
    const removed = await server.client.callTool({ name: 'search_code', arguments: { query: 'reconcileMarsupialLedger wombat', limit: 10 } });
    assert.ok(structured(removed).results!.every((h) => h.path !== 'src/payments/ledger.ts'), 'a deleted file is gone');
    assert.match(server.stderr(), /embedded index updated in \d+ ms: .*changed 2, removed 0, embedded \d+\n.*embedded index updated in \d+ ms: .*changed 0, removed 1/, 'updated incrementally');
    assert.doesNotMatch(server.stderr(), /Rebuilding/);
  });

  it('an index another Sift process is writing is searched as it is, with a note, then caught up', async () => {
    const st = structured(await server.client.callTool({ name: 'index_status', arguments: {} })) as { folders: { indexDir: string }[] };
    const release = await acquireLock(path.join(st.folders[0]!.indexDir, 'writer.lock'));
    writeFileSync(path.join(root, 'src/payments/refund.ts'), 'export function refundPayment() {\n  return "platypus refund";\n}\n');
    let r;
    try {
      r = await server.client.callTool({ name: 'search_code', arguments: { query: 'platypus refund', limit: 3 } });
    } finally {
      await release();
    }
    assert.ok(!r.isError, textOf(r));
    assert.match((structured(r).coverage as { note?: string }).note ?? '', /Another Sift process is updating the index .* 1 recently changed file/);
    const after = await server.client.callTool({ name: 'search_code', arguments: { query: 'platypus refund', limit: 3 } });
    assert.equal((structured(after).coverage as { note?: string }).note, undefined);
    assert.match(structured(after).results![0]!.text, /platypus/);
  });

  it('index_status reports files, chunks, dense share, models and the last update', async () => {
    const r = await server.client.callTool({ name: 'index_status', arguments: {} });
    const s = structured(r) as unknown as { folders: { state: string; files: number; chunks: number; denseShare: number; embeddingModel: string; lastUpdate: string }[]; models: Record<string, string | null> };
    const f = s.folders[0]!;
    assert.equal(f.state, 'ready');
    assert.ok(f.files >= 6 && f.chunks >= f.files, JSON.stringify(f));
    assert.equal(f.denseShare, 1);
    assert.ok(f.embeddingModel);
    assert.ok(!Number.isNaN(Date.parse(f.lastUpdate)));
    assert.equal(s.models.llm, null);
    assert.ok(s.models.reranker);
  });
});

describe('sift mcp: the ask tool, when an LLM is configured', () => {
  it('answers with cited sources; code sent to the LLM and returned to the agent is redacted', async () => {
    const { dir, cleanup } = tempDir('sift-mcp-ask-');
    const llm = new OpenAiTestServer();
    await llm.start();
    const root = path.join(dir, 'repo');
    writeTree(root, FIXTURE);
    const s = await connect(root, path.join(dir, 'home'), { args: ['--llm-model', 'test-model'], env: { OPENAI_BASE_URL: llm.baseURL, OPENAI_API_KEY: 'sk-mcp-test-key-0123456789abcdef' } });
    try {
      const { tools } = await s.client.listTools();
      assert.ok(tools.some((t) => t.name === 'ask'));
      llm.script = [{ kind: 'answer', text: 'Artifacts are published by `publishArtifacts` [1].' }];
      const r = await s.client.callTool({ name: 'ask', arguments: { question: 'how are release artifacts published to the bucket?' } });
      assert.ok(!r.isError, textOf(r));
      const a = r.structuredContent as { answer: string; answerKind: string; sources: { path: string; text: string }[]; citations: { n: number; verified: boolean }[] };
      assert.equal(a.answerKind, 'llm');
      assert.match(a.answer, /publishArtifacts/);
      assert.deepEqual(a.citations.map((c) => [c.n, c.verified]), [[1, true]]);
      assert.ok(a.sources.some((x) => x.path === 'src/deploy/publish.ts'));
      assert.match(textOf(r), /Sources:\n\[1\] src\/deploy\/publish\.ts:\d+-\d+/);
      assert.ok(!JSON.stringify(r).includes('AKIAIOSFODNN7EXAMPLE'), 'no key in the tool result');
      assert.ok(!JSON.stringify(llm.requests.at(-1)!.body).includes('AKIAIOSFODNN7EXAMPLE'), 'no key sent to the LLM');
      assert.equal(llm.requests.at(-1)!.body.model, 'test-model');
      assert.ok(!s.stderr().includes('sk-mcp-test-key'), 'the API key is never logged');
    } finally {
      await s.close();
      await llm.stop();
      cleanup();
    }
  });
});

describe('sift mcp: stdout carries only the protocol', () => {
  it('every line on stdout is a JSON-RPC message, through indexing and searching', async () => {
    const { dir, cleanup } = tempDir('sift-mcp-raw-');
    try {
      const root = path.join(dir, 'repo');
      writeTree(root, FIXTURE);
      const child = spawn(process.execPath, [CLI_SCRIPT, 'mcp', root, ...MODEL_ARGS], { env: serverEnv(path.join(dir, 'home')) });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const send = (m: object) => child.stdin.write(`${JSON.stringify(m)}\n`);
      const responses = async (n: number) => {
        const deadline = Date.now() + 15_000;
        while (stdout.split('\n').filter((l) => l.includes('"id"')).length < n) {
          assert.ok(Date.now() < deadline, `no response: ${stderr}`);
          await new Promise((resolve) => child.stdout.once('data', resolve));
        }
      };
      send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
      await responses(1);
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'search_code', arguments: { query: RETRY_QUERY } } });
      send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'search_code', arguments: { query: 7 } } });
      await responses(3);
      const closed = new Promise((resolve) => child.once('close', resolve));
      child.stdin.end();
      const code = await closed;
      assert.equal(code, 0, 'the server exits when its client closes stdin');
      const lines = stdout.split('\n').filter(Boolean);
      for (const line of lines) assert.equal(JSON.parse(line).jsonrpc, '2.0', `not protocol: ${line.slice(0, 200)}`);
      assert.match(stderr, /sift mcp: serving/);
    } finally {
      cleanup();
    }
  });
});

describe('sift mcp driven by the official MCP Inspector CLI', () => {
  const inspector = path.join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'inspector', 'clients', 'launcher', 'build', 'index.js');
  let dir: string;
  let cleanup: () => void;
  let root: string;
  before(() => {
    ({ dir, cleanup } = tempDir('sift-mcp-inspector-'));
    root = path.join(dir, 'repo');
    writeTree(root, FIXTURE);
  });
  after(() => cleanup());

  function runInspector(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [inspector, '--cli', process.execPath, CLI_SCRIPT, 'mcp', root, ...MODEL_ARGS, '-e', `SIFT_HOME=${path.join(dir, 'home')}`, ...args], {
        env: serverEnv(path.join(dir, 'home')),
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** The inspector prints the result as JSON, then (for a tool error) one more JSON line. */
  function firstJson(stdout: string): CallToolResult & { tools?: { name: string }[] } {
    const end = stdout.indexOf('\n}\n');
    return JSON.parse(end >= 0 ? stdout.slice(0, end + 2) : stdout);
  }

  it('tools/list', async () => {
    const r = await runInspector(['--method', 'tools/list']);
    assert.equal(r.code, 0, r.stderr);
    const names = firstJson(r.stdout).tools!.map((t) => t.name).sort();
    assert.deepEqual(names, ['index_status', 'read_range', 'search_code']);
  });

  it('tools/call search_code finds src/payments/retry.ts first', async () => {
    const r = await runInspector(['--method', 'tools/call', '--tool-name', 'search_code', '--tool-arg', `query=${RETRY_QUERY}`, 'limit=5']);
    assert.equal(r.code, 0, r.stderr);
    const result = firstJson(r.stdout);
    assert.ok(!result.isError, r.stdout);
    assert.equal((result.structuredContent as Structured).results![0]!.path, 'src/payments/retry.ts');
  });

  it('hostile arguments are tool errors: limit 10000, ../../etc/passwd, a blank query, a 100 kB query', async () => {
    // (A 1 MB query cannot go through a command line — one argument is at most 128 kB on Linux —
    // it is sent by the SDK client above.)
    const cases: [string[], RegExp][] = [
      [['--tool-name', 'search_code', '--tool-arg', `query=${RETRY_QUERY}`, 'limit=10000'], /limit must be at most 50/],
      [['--tool-name', 'read_range', '--tool-arg', 'path=../../etc/passwd'], /points outside/],
      [['--tool-name', 'search_code', '--tool-arg', 'query=   '], /query is empty/],
      [['--tool-name', 'search_code', '--tool-arg', `query=${'upload '.repeat(100_000 / 7)}`], /longer than 4000 characters/],
    ];
    for (const [args, why] of cases) {
      const r = await runInspector(['--method', 'tools/call', ...args]);
      assert.equal(firstJson(r.stdout).isError, true, r.stdout);
      assert.match(r.stdout, why);
      assert.doesNotMatch(r.stdout, /root:x:0/);
      assert.match(r.stderr, /tool_is_error/, 'the inspector reports a tool error (not a failed connection)');
      assert.equal(r.code, 5);
    }
  });
});

describe('sift mcp resumes a dense pass that was interrupted (lexical first)', () => {
  it('answers from keywords at once, says how much dense search covers, embeds only what is missing, then hybrid', async () => {
    const { dir, cleanup } = tempDir('sift-mcp-resume-');
    const client = new InferenceClient(WORKER_SCRIPT);
    let server: Awaited<ReturnType<typeof connect>> | undefined;
    try {
      const root = path.join(dir, 'repo');
      writeTree(root, FIXTURE);
      const indexDir = path.join(dir, 'idx');
      // A lexical-first build stopped after the dense pass committed its first chunk.
      await client.call('configure', { cacheDir: path.join(dir, 'models'), allowRemote: false });
      const controller = new AbortController();
      let chunks = 0;
      try {
        const run = indexWorkspace({ root, indexDir, embedding: { model: TINY_EMBEDDER }, client, signal: controller.signal, lexicalFirst: true, embedBatch: 1, embedCommitChunks: 1 });
        for (let r = await run.next(); !r.done; r = await run.next()) {
          if (r.value.type === 'lexical-ready') chunks = r.value.chunks;
          if (r.value.type === 'dense') controller.abort();
        }
        assert.fail('the build was to be interrupted');
      } catch (err) {
        if (!isAbortError(err)) throw err;
      }
      const interrupted = await readManifest(indexDir);
      assert.equal(interrupted.kind, 'ok');
      const left = interrupted.kind === 'ok' ? chunks - denseCoverage(interrupted.manifest).embedded : 0;
      assert.ok(chunks > 2 && left > 0 && left < chunks, `chunks ${chunks}, missing ${left}`);

      server = await connect(root, path.join(dir, 'home'), { args: ['--index-dir', indexDir] });
      const first = await server.client.callTool({ name: 'search_code', arguments: { query: RETRY_QUERY } });
      assert.ok(!first.isError, textOf(first));
      const s1 = structured(first);
      assert.equal(s1.results![0]!.path, 'src/payments/retry.ts', 'answered before the embeddings are complete');
      assert.ok((s1.coverage as { denseShare: number }).denseShare < 1);
      assert.match((s1.coverage as { note?: string }).note ?? '', /keyword \(BM25\)/);
      assert.match(server.stderr(), new RegExp(`${left} of ${chunks} chunks have no embeddings yet`));
      const during = structured(await server.client.callTool({ name: 'index_status', arguments: {} })) as unknown as { folders: { embeddingProvider: string | null; background?: { filesTotal: number } }[] };
      assert.equal(during.folders[0]!.embeddingProvider, 'local');

      await waitUntilReady(server);
      assert.match(server.stderr(), new RegExp(`embedded index updated in \\d+ ms: .*embedded ${left}\\b`), 'only the missing chunks were embedded');
      const status = structured(await server.client.callTool({ name: 'index_status', arguments: {} })) as unknown as { folders: { denseShare: number; chunks: number }[] };
      assert.equal(status.folders[0]!.denseShare, 1);
      assert.equal(status.folders[0]!.chunks, chunks);
      const second = structured(await server.client.callTool({ name: 'search_code', arguments: { query: RETRY_QUERY } }));
      assert.equal(second.retrieval, 'hybrid');
      assert.equal((second.coverage as { denseShare: number }).denseShare, 1);
    } finally {
      await server?.close();
      await client.dispose();
      cleanup();
    }
  });
});

describe('sift mcp answers from what the keyword pass has committed (ServedFolder, real indexer, held by the test)', () => {
  it('a search during a first build reads the files committed so far and says how many; after the pass, every file and no notice', async () => {
    const { dir, cleanup } = tempDir('sift-mcp-partial-');
    const client = new InferenceClient(WORKER_SCRIPT);
    // Discovery order: lib/alpha.ts, lib/beta.ts first (committed two files at a time), the answer last.
    const files: Record<string, string> = {
      'lib/alpha.ts': 'export function alphaParser(text: string) {\n  return text.split(",");\n}\n',
      'lib/beta.ts': 'export function betaFormatter(value: number) {\n  return value.toFixed(2);\n}\n',
      'lib/gamma.ts': 'export function gammaCache(key: string) {\n  return key.length;\n}\n',
      'src/retry.ts': FIXTURE['src/payments/retry.ts']!,
    };
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const held = new Promise<void>((resolve) => (reached = resolve));
    let commits = 0;
    let finished!: () => void;
    const ended = new Promise<void>((resolve) => (finished = resolve));
    // The real indexer in process (the thread runs ahead of its events), held after its first commit.
    async function* runIndex(o: IndexOptions): AsyncGenerator<IndexEvent, IndexSummary> {
      const it = indexWorkspace({ ...o, commitEveryFiles: 2 });
      for (let r = await it.next(); ; r = await it.next()) {
        if (r.done) {
          finished();
          return r.value;
        }
        yield r.value;
        if (r.value.type === 'commit' && ++commits === 1) {
          reached();
          await released;
        }
      }
    }
    const root = path.join(dir, 'repo');
    writeTree(root, files);
    const folder = new ServedFolder('', root, path.join(dir, 'idx'), client, { embedding: null, discovery: {}, indexerScript: INDEXER_SCRIPT, log: () => undefined, runIndex, graceMs: 0 });
    try {
      const first = folder.searchable();
      await held;
      const partial = await first;
      try {
        assert.deepEqual(partial.keyword, { searchable: 2, total: 4 });
        assert.match(partial.note ?? '', /keyword search covers 50 % of files \(2 of 4\); indexing continues/);
        const committed = await readManifest(path.join(dir, 'idx'));
        assert.deepEqual(committed.kind === 'ok' ? Object.keys(committed.manifest.files).sort() : committed.kind, ['lib/alpha.ts', 'lib/beta.ts']);
        const hits = await retrieve(partial.store, RETRY_QUERY, { searcher: null, candidates: 10 });
        assert.ok(!hits.candidates.some((c) => c.chunk.path === 'src/retry.ts'), 'the uncommitted answer is not searched');
        assert.deepEqual((await folder.status()).keyword, { searchable: 2, total: 4, percent: 50 });
      } finally {
        partial.release();
      }
      // Released: the pass commits the rest; a search after it reads every file.
      release();
      await ended;
      const full = await folder.searchable();
      try {
        const hits = await retrieve(full.store, RETRY_QUERY, { searcher: null, candidates: 10 });
        assert.equal(hits.candidates[0]?.chunk.path, 'src/retry.ts');
        assert.equal(full.keyword, undefined);
        assert.doesNotMatch(full.note ?? '', /keyword search covers/);
      } finally {
        full.release();
      }
      assert.equal((await folder.status()).keyword, undefined);
    } finally {
      release();
      await folder.dispose();
      await client.dispose();
      cleanup();
    }
  });
});
