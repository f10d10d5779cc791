import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from 'pg';
import { ask } from '../../src/core/answer/ask';
import { queryTerms } from '../../src/core/lexical/lexical';
import { IndexStore } from '../../src/core/store/store';
import { TeamReader, denseSql } from '../../src/core/team/reader';
import { SCHEMA_VERSION, checkSchema, connect, migrate } from '../../src/core/team/schema';
import { TeamIndex } from '../../src/vscode/teamIndex';
import { type TeamCommit, writeTeamCommit } from '../../src/core/team/writer';
import type { Chunk } from '../../src/core/types';
import { mulberry32 as rngFor } from '../../src/core/util/random';
import { CLI_SCRIPT, REPO_ROOT, TINY_EMBEDDER, tempDir, writeTree } from '../helpers';
import { DroppingProxy, RefusingAuthServer } from '../support/pgFaults';
import { PgTestServer } from '../support/pgServer';
import { REPO } from '../support/repo';

function run(cmd: string, args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const childEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, OPENAI_BASE_URL: undefined, OPENAI_API_KEY: undefined, SIFT_STORE_URL: undefined, ...env })) if (v !== undefined) childEnv[k] = v;
    const child = spawn(cmd, args, { env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
const cli = (args: string[], env: Record<string, string | undefined> = {}) => run(process.execPath, [CLI_SCRIPT, ...args], env);

/** A synthetic commit: one chunk per file, a 4-dimension vector per chunk. */
function synthetic(repoKey: string, commit: string, files: { path: string; text: string; symbols?: string[]; vector?: number[] }[]): TeamCommit {
  const withHash = files.map((f) => ({ ...f, hash: createHash('sha256').update(f.text).digest('hex').slice(0, 16) }));
  return {
    repoKey,
    commit,
    embedding: { model: 'm', dim: 4 },
    chunker: 'test',
    files: withHash.map((f) => ({ path: f.path, hash: f.hash })),
    async *chunksOf(wanted) {
      for (const file of wanted) {
        const f = withHash.find((x) => x.path === file.path && x.hash === file.hash)!;
        const chunk: Chunk = { id: `${f.path}#${f.hash}`, path: f.path, startLine: 1, endLine: 1, language: 'typescript', kind: 'function', symbols: f.symbols ?? [], header: '', text: f.text, hash: f.hash };
        yield { file, chunks: [{ chunk, vector: f.vector ?? [1, 0, 0, 0] }] };
      }
    },
  };
}

describe('team index on PostgreSQL + pgvector (PGlite over the wire protocol)', () => {
  const pg = new PgTestServer();
  let client: Client;
  let dir: string;
  let cleanup: () => void;

  before(async () => {
    ({ dir, cleanup } = tempDir());
    await pg.start();
    client = await connect(pg.url);
  });
  after(async () => {
    await client?.end().catch(() => undefined);
    await pg.stop();
    cleanup();
  });

  it('migrates from empty; a reader names the version to run when the schema is too new or missing', async () => {
    await assert.rejects(checkSchema(client), /team index is empty: run `sift index DIR --store URL`/);
    assert.equal(await migrate(client), 0);
    await checkSchema(client);
    assert.equal(await migrate(client), SCHEMA_VERSION, 'a second migrate is a no-op');
    await client.query('BEGIN');
    await client.query('INSERT INTO sift_migrations (version) VALUES ($1)', [SCHEMA_VERSION + 7]);
    await assert.rejects(checkSchema(client), new RegExp(`schema version ${SCHEMA_VERSION + 7}; this Sift reads version ${SCHEMA_VERSION}\\. Upgrade Sift`));
    await client.query('ROLLBACK');
  });

  it('two commits share unchanged files: the second writes only the changed file, each commit reads its own version', async () => {
    const a = await writeTeamCommit(client, synthetic('repo-share', 'c1', [
      { path: 'a.ts', text: 'export function alpha() { return oldAlphaBody; }' },
      { path: 'b.ts', text: 'export function beta() {}' },
      { path: 'c.ts', text: 'export function gamma() {}' },
    ]));
    assert.equal(a.chunksWritten, 3);
    const b = await writeTeamCommit(client, synthetic('repo-share', 'c2', [
      { path: 'a.ts', text: 'export function alpha() { return newAlphaBody; }' },
      { path: 'b.ts', text: 'export function beta() {}' },
      { path: 'c.ts', text: 'export function gamma() {}' },
    ]));
    assert.equal(b.chunksWritten, 1, 'only a.ts is new');
    assert.equal(b.newFiles, 1);
    const r1 = await TeamReader.open(client, 'repo-share', ['c1']);
    const r2 = await TeamReader.open(client, 'repo-share', ['unknown', 'c2', 'c1']);
    assert.equal(r2.info.commit, 'c2', 'the nearest indexed commit');
    const texts = async (r: TeamReader) => (await r.lexical(queryTerms('alpha'), [], 10)).map((h) => h.chunk.text).join('\n');
    assert.match(await texts(r1), /oldAlphaBody/);
    assert.doesNotMatch(await texts(r1), /newAlphaBody/);
    assert.match(await texts(r2), /newAlphaBody/);
    const dense = await r2.dense(new Float32Array([1, 0, 0, 0]), ['b.ts'], 10);
    assert.deepEqual(dense.map((h) => h.chunk.path).sort(), ['a.ts', 'c.ts'], 'excluded paths never come back');
    assert.ok(Math.abs(dense[0]!.score - 1) < 1e-6);
  });

  it('two writers of one repository at once: the second waits (or fails clearly), never interleaves', async () => {
    const other = await connect(pg.url);
    try {
      const files = (tag: string) => Array.from({ length: 300 }, (_, i) => ({ path: `w/${i}.ts`, text: `export const w${i} = '${tag}';` }));
      const results = await Promise.allSettled([writeTeamCommit(client, synthetic('repo-two', 'w1', files('one'))), writeTeamCommit(other, synthetic('repo-two', 'w2', files('two')))]);
      for (const r of results) if (r.status === 'rejected') assert.match(String(r.reason), /Another writer is indexing this repository/);
      assert.ok(results.some((r) => r.status === 'fulfilled'));
      for (const [i, r] of results.entries()) {
        if (r.status !== 'fulfilled') continue;
        const reader = await TeamReader.open(client, 'repo-two', [`w${i + 1}`]);
        assert.equal((await reader.files()).size, 300, 'a complete commit');
        const hits = await reader.lexical(queryTerms(i === 0 ? 'one' : 'two'), [], 400);
        assert.equal(hits.length, 300);
      }
    } finally {
      await other.end();
    }
  });

  it('a writer killed mid-commit leaves the previous commit readable and nothing of its own', async () => {
    await writeTeamCommit(client, { ...synthetic('repo-killed', 'base', [{ path: 'gen/file0.ts', text: 'export const v = base;' }]) });
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/support/teamWriterChild.ts'), pg.url, 'c2', '600'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('mid-commit') && resolve());
      child.on('exit', (code) => reject(new Error(`writer exited early (${code})`)));
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const reader = await TeamReader.open(client, 'repo-killed', ['c2', 'base']);
    assert.equal(reader.info.commit, 'base');
    const n = await client.query<{ n: string }>("SELECT count(*) AS n FROM sift_chunks WHERE text LIKE $1", ["%'c2'%"]);
    assert.equal(Number(n.rows[0]!.n), 0, 'the killed transaction was rolled back');
    assert.equal((await reader.files()).size, 1);
  });

  // Also: earlier tests left identical vectors ([1,0,0,0]) of other repositories and a killed writer's dead rows in the
  // graph, where an HNSW search from this query gets stuck (it returned 0 rows): the reader then scans exactly.
  it('dense search is an HNSW index scan (the commit filter comes after it), and a stuck HNSW search falls back to an exact scan', async () => {
    const r = rngFor(21);
    const files = Array.from({ length: 3000 }, (_, i) => ({ path: `gen/v${i}.ts`, text: `export const v${i} = ${i};`, vector: [r() - 0.5, r() - 0.5, r() - 0.5, r() - 0.5] }));
    await writeTeamCommit(client, synthetic('repo-hnsw', 'h1', files));
    await client.query('ANALYZE sift_chunks');
    await client.query('ANALYZE sift_files');
    const reader = await TeamReader.open(client, 'repo-hnsw', ['h1']);
    const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${denseSql(4)}`, [reader.info.repoId, 'h1', '[1,0,0,0]', [], 10, 40])).rows.map((x) => x['QUERY PLAN']).join('\n');
    assert.match(plan, /Index Scan using sift_chunks_hnsw_4/, plan);
    const hits = await reader.dense(new Float32Array([1, 0, 0, 0]), [], 10);
    const exact = await reader.dense(new Float32Array([1, 0, 0, 0]), [], 10, { exact: true });
    assert.equal(hits.length, 10);
    assert.ok(hits.filter((h) => exact.some((e) => e.chunk.id === h.chunk.id)).length >= 9, 'HNSW finds the exact neighbours');
  });

  it('SQL-looking file names, symbols, repository keys and questions stay data', async () => {
    const payloads = ["x'); DROP TABLE sift_files; --", "'; DELETE FROM sift_chunks; --", "$1::vector); SELECT pg_sleep(5); --", '\\x00 OR 1=1', "robert'); DROP TABLE sift_repos;--"];
    const files = payloads.map((p, i) => ({ path: `src/${p}${i}.ts`, text: `export function probe${i}() { /* ${p} */ }`, symbols: [p, `probe${i}`] }));
    await writeTeamCommit(client, synthetic(payloads[1]!, payloads[0]!, files));
    const reader = await TeamReader.open(client, payloads[1]!, [payloads[0]!]);
    assert.deepEqual([...(await reader.files()).keys()].sort(), files.map((f) => f.path).sort());
    for (const [i, p] of payloads.entries()) {
      const hits = await reader.lexical(queryTerms(`${p} probe${i}`), [], 10);
      assert.ok(hits.some((h) => h.chunk.path === files[i]!.path), `payload ${i} found as data`);
      await reader.dense(new Float32Array([1, 0, 0, 0]), [p], 5);
    }
    for (const t of ['sift_files', 'sift_chunks', 'sift_repos', 'sift_commits']) assert.ok((await client.query(`SELECT count(*) FROM ${t}`)).rows.length === 1, `${t} still there`);
  });

  describe('CLI: sift index --store, then sift ask --store with a local overlay', () => {
    let root: string;
    const models = ['--embedding-model', TINY_EMBEDDER, '--offline', '--no-rerank', '--quiet'];
    before(() => {
      root = path.join(dir, 'repo');
      writeTree(root, {
        ...REPO,
        'src/quota.ts': 'export function checkQuota(user: string) {\n  // staleMarker: the old limit\n  return user.length < 10;\n}\n',
        'src/legacy.ts': 'export function legacyExport() {\n  // deletedMarker lives here\n  return 1;\n}\n',
      });
      const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: root, stdio: 'pipe' });
      git('init', '-q');
      git('add', '-A');
      git('commit', '-q', '-m', 'base');
    });

    it('indexes the commit into the team index, and asks with edits, deletions and new files overlaid', async () => {
      const idx = await cli(['index', root, '--store', pg.url, '--index-dir', path.join(dir, 'ci-idx'), ...models.filter((m) => m !== '--no-rerank')]);
      assert.equal(idx.code, 0, idx.stderr);
      assert.match(idx.stdout, /Team index postgres:\/\/sift:\*\*\*@127\.0\.0\.1:\d+\/postgres\?sslmode=disable: commit [0-9a-f]{12} with \d+ files/);
      assert.ok(!idx.stdout.includes('secret-pw') && !idx.stderr.includes('secret-pw'));

      writeFileSync(path.join(root, 'src/quota.ts'), 'export function checkQuota(user: string) {\n  // freshMarker: the new limit\n  return user.length < 64;\n}\n');
      rmSync(path.join(root, 'src/legacy.ts'));
      writeFileSync(path.join(root, 'src/untracked.ts'), 'export function brandNewHelper() {\n  // untrackedMarker\n}\n');
      const ask = await cli(['ask', root, 'staleMarker freshMarker deletedMarker untrackedMarker checkQuota legacyExport backoff delay', '--store', pg.url, '--json', '--index-dir', path.join(dir, 'dev-idx'), ...models]);
      assert.equal(ask.code, 0, ask.stderr);
      const json = JSON.parse(ask.stdout) as { sources: { path: string; text: string; origin: string }[] };
      const quota = json.sources.find((s) => s.path === 'src/quota.ts');
      assert.ok(quota, 'the edited file is found');
      assert.equal(quota.origin, 'local');
      assert.match(quota.text, /freshMarker/);
      assert.ok(!json.sources.some((s) => /staleMarker/.test(s.text)), 'the stale server copy never appears');
      assert.ok(!json.sources.some((s) => s.path === 'src/legacy.ts'), 'a locally deleted file never appears');
      assert.equal(json.sources.find((s) => s.path === 'src/untracked.ts')?.origin, 'local');
      assert.ok(json.sources.some((s) => s.origin === 'team' && s.path === 'src/net/backoff.ts'), 'unchanged files come from the team index');
    });

    it('sift eval --store: every variant also runs against the team index with the overlay (rows NAME@team, same metrics)', async () => {
      const questions = path.join(dir, 'team-questions.jsonl');
      writeFileSync(
        questions,
        [
          { query_id: 'q0', question: 'Where is the freshMarker quota limit checked?', silver_gold: [{ path: 'src/quota.ts', line_ranges: [] }] },
          { query_id: 'q1', question: 'How is the retry backoff delay computed?', silver_gold: [{ path: 'src/net/backoff.ts', line_ranges: [] }] },
        ]
          .map((q) => JSON.stringify(q))
          .join('\n') + '\n',
      );
      const base = ['eval', root, '--questions', questions, '--variants', 'bm25,hybrid', '--no-ltr', '--json', '--index-dir', path.join(dir, 'dev-idx'), ...models.filter((m) => m !== '--no-rerank')];
      type Row = { name: string; available: boolean; reason?: string; n: number; metrics?: Record<string, number> };
      const ok = await cli([...base, '--store', pg.url]);
      assert.equal(ok.code, 0, ok.stderr);
      const rows = (JSON.parse(ok.stdout) as { variants: Row[] }).variants;
      assert.deepEqual(rows.map((r) => r.name), ['bm25', 'hybrid', 'bm25@team', 'hybrid@team']);
      for (const r of rows) assert.ok(r.available && r.n === 2 && r.metrics, JSON.stringify(r));
      const team = rows.find((r) => r.name === 'bm25@team')!;
      assert.deepEqual(Object.keys(team.metrics!).sort(), Object.keys(rows[0]!.metrics!).sort(), 'the same metrics as the local rows');
      assert.ok(!ok.stderr.includes('secret-pw') && !ok.stdout.includes('secret-pw'));

      const down = await cli([...base, '--store', 'postgres://sift:secret-pw@127.0.0.1:1/postgres?sslmode=disable']);
      assert.equal(down.code, 0, down.stderr);
      const downRows = (JSON.parse(down.stdout) as { variants: Row[] }).variants;
      assert.ok(downRows.find((r) => r.name === 'bm25')?.available, 'local rows still measured');
      assert.match(downRows.find((r) => r.name === 'hybrid@team')?.reason ?? '', /unavailable: nothing is listening there/);
      assert.match(down.stderr, /Team rows are unavailable/);
      assert.ok(!down.stderr.includes('secret-pw') && !down.stdout.includes('secret-pw'));
    });

    it('server stopped: a clear notice, and the local index keeps answering', async () => {
      const port = pg.port;
      await pg.stopListening();
      try {
        const ask = await cli(['ask', root, 'freshMarker checkQuota', '--store', pg.url, '--json', '--index-dir', path.join(dir, 'dev-idx'), ...models]);
        assert.equal(ask.code, 0, ask.stderr);
        assert.match(ask.stderr, /team index at postgres:\/\/sift:\*\*\*@127\.0\.0\.1:\d+\/postgres\?sslmode=disable is unavailable: nothing is listening there.*Answering from the local index/);
        assert.ok(!ask.stderr.includes('secret-pw'));
        const json = JSON.parse(ask.stdout) as { sources: { path: string; origin: string }[] };
        assert.equal(json.sources[0]?.path, 'src/quota.ts');
        assert.ok(json.sources.every((s) => s.origin === 'local'));
      } finally {
        await pg.start(port);
      }
    });
    /** The editor's service over the real engine: URL from the (user) setting, password from secret storage. */
    function editorTeam(store: () => string, password = 'secret-pw') {
      const secrets = new Map<string, string>();
      const lines: string[] = [];
      const team = new TeamIndex({
        settings: () => ({ 'index.store': store() }),
        secrets: { get: (k) => Promise.resolve(secrets.get(k)), store: (k, v) => Promise.resolve(void secrets.set(k, v)), delete: (k) => Promise.resolve(void secrets.delete(k)) },
        log: { info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) },
        warn: (m) => lines.push(m),
      });
      return { team, lines, ready: team.setPassword(password), secrets };
    }
    const question = 'freshMarker staleMarker checkQuota legacyExport backoff delay';

    it('editor: sift.index.store asks the team index at the branch commit with the local overlay; sources carry their origin', async () => {
      const { store } = await IndexStore.openForRead(path.join(dir, 'dev-idx'), { files: true });
      assert.ok(store);
      const e = editorTeam(() => `postgres://sift@127.0.0.1:${pg.port}/postgres?sslmode=disable`);
      await e.ready;
      const r = await e.team.retrieval(root, store);
      assert.ok(r && !r.problem, r?.problem);
      assert.ok(r.overlay?.changed.has('src/quota.ts') && r.overlay.deleted.has('src/legacy.ts'));
      const result = await ask({ store: [{ name: '', store }], retrieve: r.retrieve, settings: { topN: 20 } }, question, { rerank: false });
      const quota = result.sources.find((x) => x.path === 'src/quota.ts');
      assert.equal(quota?.origin, 'local');
      assert.match(quota.text, /freshMarker/);
      assert.ok(!result.sources.some((x) => /staleMarker/.test(x.text) || x.path === 'src/legacy.ts'));
      assert.ok(result.sources.some((x) => x.origin === 'team' && x.path === 'src/net/backoff.ts'));
      assert.ok(!e.lines.some((l) => l.includes('secret-pw')), 'the password is never logged');
      await e.team.reset();
    });

    it('connection dropped mid-query: the question is answered from the local index with a notice; the next one reconnects', async () => {
      const { store } = await IndexStore.openForRead(path.join(dir, 'dev-idx'), { files: true });
      assert.ok(store);
      const proxy = new DroppingProxy(() => pg.port);
      await proxy.start();
      try {
        const e = editorTeam(() => `postgres://sift@127.0.0.1:${proxy.port}/postgres?sslmode=disable`);
        await e.ready;
        const r = await e.team.retrieval(root, store);
        assert.ok(r?.overlay, r?.problem);
        proxy.dropNext = true; // the search query is cut on its way
        const result = await ask({ store: [{ name: '', store }], retrieve: r.retrieve, settings: { topN: 20 } }, question, { rerank: false });
        assert.ok(result.notices.some((n) => /team index at postgres:\/\/sift:\*\*\*@127\.0\.0\.1:\d+\/postgres\?sslmode=disable is unavailable: .*Answering from the local index\./.test(n)), result.notices.join('\n'));
        assert.ok(!result.notices.some((n) => n.includes('secret-pw')));
        assert.equal(result.sources.find((x) => x.path === 'src/quota.ts')?.origin, undefined, 'local results, no team provenance');
        assert.ok(result.sources.some((x) => x.path === 'src/quota.ts' && /freshMarker/.test(x.text)));
        const again = await e.team.retrieval(root, store);
        assert.ok(again?.overlay, 'a new session once the server answers again');
        await e.team.reset();
      } finally {
        await proxy.stop();
      }
    });

    it('a schema newer than this Sift: the answer says which version to run, and the local index answers', async () => {
      const { store } = await IndexStore.openForRead(path.join(dir, 'dev-idx'), { files: true });
      assert.ok(store);
      const admin = await connect(pg.url); // the suite's client was cut when the server stopped listening
      await admin.query('INSERT INTO sift_migrations (version) VALUES ($1)', [SCHEMA_VERSION + 1]);
      try {
        const e = editorTeam(() => `postgres://sift@127.0.0.1:${pg.port}/postgres?sslmode=disable`);
        await e.ready;
        const r = await e.team.retrieval(root, store);
        assert.match(r?.problem ?? '', new RegExp(`schema version ${SCHEMA_VERSION + 1}; this Sift reads version ${SCHEMA_VERSION}\\. Upgrade Sift to a release that reads schema ${SCHEMA_VERSION + 1}`));
        const result = await ask({ store: [{ name: '', store }], retrieve: r!.retrieve, settings: { topN: 20 } }, question, { rerank: false });
        assert.ok(result.notices.some((n) => /Upgrade Sift.*Answering from the local index/.test(n)));
        assert.ok(result.sources.some((x) => x.path === 'src/quota.ts'));
      } finally {
        await admin.query('DELETE FROM sift_migrations WHERE version = $1', [SCHEMA_VERSION + 1]);
        await admin.end();
      }
    });
  });

  it('wrong password (a server that refuses it, SQLSTATE 28P01): one clear sentence without the password', async () => {
    const server = new RefusingAuthServer();
    await server.start();
    try {
      const url = `postgres://sift:wrong-pw-77@127.0.0.1:${server.port}/sift?sslmode=disable`;
      await assert.rejects(connect(url), (err: Error) => {
        assert.match(err.message, /team index at postgres:\/\/sift:\*\*\*@127\.0\.0\.1:\d+\/sift\?sslmode=disable is unavailable: the user name or password was refused\./);
        assert.ok(!err.message.includes('wrong-pw-77'));
        return true;
      });
      assert.deepEqual(server.received, ['wrong-pw-77'], 'the password went to the server it was given for');
    } finally {
      await server.stop();
    }
  });
});
