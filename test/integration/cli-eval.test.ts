import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TINY_EMBEDDER, TINY_RERANKER, runCli as runBundledCli, tempDir, writeTree } from '../helpers';

/** The CLI with fp32 models (the tiny fixtures' reference precision). */
const runCli = (args: string[], env: Record<string, string> = {}) => runBundledCli(args, { SIFT_DTYPE: 'fp32', ...env });

const REPO: Record<string, string> = {
  'src/uploads/retry.py': [
    'import time',
    '',
    'class UploadQueue:',
    '    """Holds uploads waiting to be sent."""',
    '',
    '    def retry_failed_uploads(self, attempts=5):',
    '        """Re-send every failed upload with exponential backoff."""',
    '        for item in self.failed:',
    '            for attempt in range(attempts):',
    '                if self.send(item):',
    '                    break',
    '                time.sleep(2 ** attempt)',
    '',
    '    def send(self, item):',
    '        return bool(item)',
    '',
  ].join('\n'),
  'src/auth/session.py': [
    'class SessionStore:',
    '    def invalidate_expired_sessions(self, now):',
    '        """Drop every session whose expiry time has passed."""',
    '        self.sessions = {k: v for k, v in self.sessions.items() if v.expires > now}',
    '',
    '    def create_session(self, user):',
    '        token = make_token(user)',
    '        self.sessions[token] = user',
    '        return token',
    '',
  ].join('\n'),
  'src/config/loader.ts': 'export function loadConfig(path: string): Config {\n  const text = readFileSync(path, "utf8");\n  return parseYaml(text);\n}\n',
  'tests/test_retry.py': 'def test_retry_failed_uploads():\n    q = UploadQueue()\n    q.retry_failed_uploads(attempts=1)\n',
  'docs/guide.md': '# Guide\n\nUploads are retried; sessions expire.\n',
};

const QUESTIONS = [
  { query_id: 'demo-0', repo: 'acme/demo', question: 'Where are failed uploads retried with backoff?', silver_gold: [{ path: 'src/uploads/retry.py', line_ranges: [[6, 12]] }] },
  { query_id: 'demo-1', repo: 'acme/demo', question: 'How are expired sessions invalidated?', silver_gold: [{ path: 'src/auth/session.py', line_ranges: [[2, 4]] }] },
  { query_id: 'demo-2', repo: 'acme/demo', question: 'Which function loads the YAML config file?', silver_gold: [{ path: 'src/config/loader.ts', line_ranges: [] }, { path: 'docs/guide.md', line_ranges: [] }] },
  { query_id: 'other-0', repo: 'acme/other', question: 'Not this repository', silver_gold: [{ path: 'x.py', line_ranges: [] }] },
];

const VARIANTS = ['bm25', 'dense', 'hybrid', 'hybrid+ce', 'hybrid+ltr', 'hybrid+ce+ltr', 'bm25+ltr', 'bm25+q', 'hybrid+q', 'hybrid+ce+q'];

describe('sift eval (CLI)', () => {
  let dir: string;
  let cleanup: () => void;
  let root: string;
  let questions: string;

  before(() => {
    const t = tempDir('sift-eval-');
    dir = t.dir;
    cleanup = t.cleanup;
    root = path.join(dir, 'repo');
    writeTree(root, REPO);
    questions = path.join(dir, 'questions.jsonl');
    writeFileSync(questions, QUESTIONS.map((q) => JSON.stringify(q)).join('\n') + '\n');
  });
  after(() => cleanup());

  it('runs every variant on the same index, prints the table, writes per-question JSON, and is deterministic', async () => {
    const out1 = path.join(dir, 'out1.json');
    const out2 = path.join(dir, 'out2.json');
    const common = ['eval', '--repo', root, '--questions', questions, '--filter', 'demo', '--index-dir', path.join(dir, 'idx'), '--embedding-model', TINY_EMBEDDER, '--reranker-model', TINY_RERANKER, '--offline', '--quiet'];
    const r1 = await runCli([...common, '--json-out', out1]);
    assert.equal(r1.code, 0, r1.stderr);
    for (const v of VARIANTS) assert.match(r1.stdout, new RegExp(`^\\| ${v.replace(/\+/g, '\\+')} \\| 3 \\| [0-9.]+ \\|`, 'm'), `row ${v} in\n${r1.stdout}`);
    assert.match(r1.stdout, /file Acc@1 \| Acc@3 \| Acc@5 \| Recall@5 \| Recall@10 \| MRR@10 \| chunk nDCG@10/);
    const j1 = JSON.parse(readFileSync(out1, 'utf8'));
    assert.deepEqual(j1.variants.map((v: { name: string }) => v.name), VARIANTS);
    assert.ok(j1.variants.every((v: { available: boolean }) => v.available));
    assert.equal(j1.questions.length, 3);
    for (const q of j1.questions) {
      assert.deepEqual(Object.keys(q.variants).sort(), [...VARIANTS].sort());
      for (const v of Object.values(q.variants) as { metrics: Record<string, number>; topChunks: unknown[] }[]) {
        for (const m of Object.values(v.metrics)) assert.ok(m >= 0 && m <= 1);
        assert.ok(v.topChunks.length > 0);
      }
      // Every stage timed, finite; reranking ran for this question (the +ce variants), and the
      // question was embedded (dense ran), so those took measurable time.
      assert.deepEqual(Object.keys(q.timings).sort(), ['ce', 'dense', 'embed', 'fuse', 'lexical', 'ltr']);
      for (const [stage, ms] of Object.entries(q.timings) as [string, number][]) assert.ok(Number.isFinite(ms) && ms >= 0, `${stage}: ${ms}`);
      assert.ok(q.timings.ce > 0, `cross-encoder time ${q.timings.ce}`);
      assert.ok(q.timings.embed > 0, `embedding time ${q.timings.embed}`);
    }
    // The keyword question about retrying uploads finds its file near the top with BM25 (its test may come first).
    assert.ok(j1.questions[0].variants.bm25.goldFileRanks['src/uploads/retry.py'] <= 2);
    const bm25 = j1.variants.find((v: { name: string }) => v.name === 'bm25');
    // Latency per variant: exactly the stages it uses, their sum is the total, reranking time only
    // where reranking ran (and then > 0).
    const STAGES: Record<string, string[]> = { bm25: ['lexical'], dense: ['dense', 'embed'], hybrid: ['dense', 'embed', 'fuse', 'lexical'] };
    for (const v of j1.variants as { name: string; latency: Record<string, number> }[]) {
      const [base] = v.name.split('+') as [string];
      const want = [...STAGES[base]!, ...(v.name.includes('+ce') ? ['ce'] : []), ...(v.name.includes('+ltr') ? ['ltr'] : [])].sort();
      const { total, ...stages } = v.latency;
      assert.deepEqual(Object.keys(stages).sort(), want, `stages of ${v.name}`);
      for (const [stage, ms] of Object.entries(stages)) assert.ok(Number.isFinite(ms) && ms >= 0, `${v.name} ${stage}: ${ms}`);
      const sum = Object.values(stages).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - sum) <= 0.01 * (want.length + 1), `${v.name}: total ${total} vs sum of stages ${sum}`);
      if (v.name.includes('+ce')) assert.ok(stages.ce! > 0, `${v.name}: reranking time ${stages.ce}`);
    }
    assert.ok(bm25.latency.lexical < j1.variants.find((v: { name: string }) => v.name === 'hybrid+ce').latency.total, 'BM25 alone is faster than hybrid with reranking');
    assert.equal(j1.models.ltr.source, 'shipped');

    // Second run: the index is reused (nothing re-embedded), same rankings and metrics.
    const r2 = await runCli([...common, '--json-out', out2]);
    assert.equal(r2.code, 0, r2.stderr);
    const j2 = JSON.parse(readFileSync(out2, 'utf8'));
    assert.equal(j2.index[0].embedded, 0);
    const strip = (j: { questions: { variants: Record<string, { metrics: unknown; topChunks: unknown }> }[] }) =>
      j.questions.map((q) => Object.fromEntries(Object.entries(q.variants).map(([k, v]) => [k, [v.metrics, v.topChunks]])));
    assert.deepEqual(strip(j2), strip(j1));

    // The cross-encoder's truncation length is a setting whose cost is measured like this: the
    // retrieval variants are unchanged, the cross-encoder's ranking reads fewer tokens per pair.
    const out3 = path.join(dir, 'out3.json');
    const r3 = await runCli([...common, '--variants', 'hybrid,hybrid+ce', '--rerank-max-tokens', '12', '--json-out', out3]);
    assert.equal(r3.code, 0, r3.stderr);
    assert.match(r3.stdout, /cross-encoder 12 tokens/);
    const j3 = JSON.parse(readFileSync(out3, 'utf8'));
    assert.equal(j3.settings.rerankMaxTokens, 12);
    assert.equal(j1.settings.rerankMaxTokens, 256);
    const top = (j: typeof j1, v: string) => j.questions.map((q: { variants: Record<string, { topChunks: unknown }> }) => q.variants[v]!.topChunks);
    assert.deepEqual(top(j3, 'hybrid'), top(j1, 'hybrid'));
    assert.notDeepEqual(top(j3, 'hybrid+ce'), top(j1, 'hybrid+ce'));
  });

  it('reports variants that need a missing model as unavailable instead of failing', async () => {
    const r = await runCli(['eval', root, '--questions', questions, '--filter', 'acme/demo', '--index-dir', path.join(dir, 'idx-lex'), '--lexical-only', '--offline', '--reranker-model', path.join(dir, 'no-such-model'), '--variants', 'bm25,hybrid,bm25+ce,bm25+ltr', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    const byName = Object.fromEntries(j.variants.map((v: { name: string }) => [v.name, v]));
    assert.equal(byName.bm25.available, true);
    assert.equal(byName['bm25+ltr'].available, true);
    assert.equal(byName.hybrid.available, false);
    assert.match(byName.hybrid.reason, /embedding/);
    assert.equal(byName['bm25+ce'].available, false);
    assert.match(byName['bm25+ce'].reason, /cross-encoder/);
    assert.match(r.stderr, /Cross-encoder variants are unavailable/);
  });

  it('rejects unknown variants and missing question sources', async () => {
    const bad = await runCli(['eval', root, '--questions', questions, '--variants', 'bm25,sparse']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown variant "sparse"/);
    const none = await runCli(['eval', root]);
    assert.equal(none.code, 2);
  });

  it('mines questions from git history and evaluates each at its parent commit', async () => {
    const repo = path.join(dir, 'git-repo');
    mkdirSync(repo);
    const env = { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@e.x', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@e.x', GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' };
    const git = (...args: string[]) => execFileSync('git', ['-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], { cwd: repo, env, encoding: 'utf8' });
    git('init', '-q');
    writeTree(repo, REPO);
    git('add', '-A');
    git('commit', '-q', '-m', 'Initial import of the demo project');
    const edit = (file: string, from: string, to: string, message: string) => {
      const full = path.join(repo, file);
      writeFileSync(full, readFileSync(full, 'utf8').replace(from, to));
      git('commit', '-q', '-am', message);
    };
    edit('src/uploads/retry.py', '2 ** attempt', 'min(60, 2 ** attempt)', 'Cap the backoff delay between upload retries at one minute');
    edit('src/auth/session.py', 'v.expires > now', 'v.expires >= now', 'Keep sessions that expire exactly now when invalidating');
    edit('src/config/loader.ts', '"utf8"', '"utf-8"', 'Bump version to 2.0.0');
    const out = path.join(dir, 'history.json');
    const r = await runCli(['eval', repo, '--from-git-history', '5', '--index-dir', path.join(dir, 'idx-hist'), '--lexical-only', '--offline', '--variants', 'bm25,bm25+ltr', '--json-out', out, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(j.fromGitHistory.mined, 2);
    assert.equal(j.fromGitHistory.skipped['version-bump'], 1);
    assert.equal(j.index.length, 2, 'one evaluation per parent commit');
    assert.ok(j.index[1].changed <= 1, 'the second parent re-indexes only the file that changed');
    const ids = j.questions.map((q: { question: string }) => q.question).sort();
    assert.deepEqual(ids, ['Cap the backoff delay between upload retries at one minute', 'Keep sessions that expire exactly now when invalidating']);
    const cap = j.questions.find((q: { question: string }) => q.question.startsWith('Cap'));
    assert.deepEqual(cap.gold.map((g: { path: string }) => g.path), ['src/uploads/retry.py']);
    assert.equal(cap.variants.bm25.goldFileRanks['src/uploads/retry.py'], 1);
    assert.match(r.stdout, /mined from git history/);
    // The work tree used for the parents is removed again.
    assert.doesNotMatch(git('worktree', 'list'), /idx-hist-worktree/);
  });

  it('asks questions that carry a commit at that commit, the others at the checkout; an unknown commit is named', async () => {
    const repo = path.join(dir, 'git-commits');
    mkdirSync(repo);
    const env = { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@e.x', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@e.x', GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' };
    const git = (...args: string[]) => execFileSync('git', ['-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], { cwd: repo, env, encoding: 'utf8' });
    let tick = 0;
    const commitAll = (message: string) => {
      tick++;
      const date = `2024-01-01T00:00:${String(tick).padStart(2, '0')}Z`;
      git('add', '-A');
      execFileSync('git', ['-c', 'commit.gpgsign=false', 'commit', '-q', '-m', message], { cwd: repo, env: { ...env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
      return git('rev-parse', 'HEAD').trim();
    };
    git('init', '-q');
    writeTree(repo, REPO);
    const first = commitAll('Initial import of the demo project');
    // A file that exists only at the second commit: only a question asked there can rank it.
    writeTree(repo, { 'src/legacy/fax_gateway.py': 'class FaxGateway:\n    def redial_busy_fax_line(self, number):\n        """Redial a busy fax line up to three times."""\n        return self.modem.dial(number)\n' });
    const second = commitAll('Add the fax gateway');
    rmSync(path.join(repo, 'src/legacy'), { recursive: true });
    writeTree(repo, { 'src/notify/pager_dispatch.py': 'def dispatch_pager_alert(on_call, message):\n    """Page the on-call engineer."""\n    return on_call.page(message)\n' });
    commitAll('Replace the fax gateway with pager alerts');
    const file = path.join(dir, 'commit-questions.json');
    const questions = [
      { id: 'fax', question: 'Redialing a busy fax line fails after the first try', commit: second.slice(0, 10), gold: ['src/legacy/fax_gateway.py'] },
      { id: 'retry', question: 'Failed uploads are retried without backoff', commit: first, gold: ['src/uploads/retry.py', 'src/notify/pager_dispatch.py'] },
      { id: 'pager', question: 'dispatch_pager_alert pages the wrong on-call engineer', gold: ['src/notify/pager_dispatch.py'] },
    ];
    writeFileSync(file, JSON.stringify(questions, null, 1));
    const out = path.join(dir, 'commit-questions.out.json');
    const r = await runCli(['eval', repo, '--questions', file, '--index-dir', path.join(dir, 'idx-commits'), '--lexical-only', '--offline', '--variants', 'bm25', '--json-out', out, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    // The checkout (no commit) first, then the named commits oldest first.
    assert.deepEqual(j.index.map((x: { commit?: string }) => x.commit ?? 'checkout'), ['checkout', first, second]);
    const rank = (id: string, file: string) => j.questions.find((q: { id: string }) => q.id === id).variants.bm25.goldFileRanks[file];
    assert.equal(rank('fax', 'src/legacy/fax_gateway.py'), 1, 'asked at the commit that has the file');
    assert.equal(rank('pager', 'src/notify/pager_dispatch.py'), 1, 'asked at the checkout');
    assert.ok(rank('retry', 'src/uploads/retry.py') <= 3);
    // The pager file is not there at the first commit the question was asked at.
    assert.deepEqual(j.questions.find((q: { id: string }) => q.id === 'retry').goldNotIndexed, ['src/notify/pager_dispatch.py']);
    assert.match(r.stdout, /at 2 commit\(s\)/);
    assert.ok(!existsSync(path.join(dir, 'idx-commits-commits-worktree')), 'the work tree is removed again');

    // An unknown commit: a clear message naming it (and its question), exit 1, nothing indexed.
    writeFileSync(file, JSON.stringify([...questions, { id: 'lost', question: 'Where is it?', commit: 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef', gold: ['a.py'] }]));
    const bad = await runCli(['eval', repo, '--questions', file, '--index-dir', path.join(dir, 'idx-unknown'), '--lexical-only', '--offline', '--variants', 'bm25', '--quiet']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /not in the repository.*deadbeefdeadbeefdeadbeefdeadbeefdeadbeef \(lost\)/);
    assert.ok(!existsSync(path.join(dir, 'idx-unknown')), 'nothing was indexed');
  });
});
