import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EvalWorktree, classifyCommit, commitQuestion, commitTimes, groupQuestionsByCommit, mineGitHistory, parseOldRanges, unsafeTreePath } from '../../src/core/eval/gitHistory';
import type { EvalQuestion } from '../../src/core/eval/questions';
import { git as safeGit, gitEnv } from '../../src/core/util/git';
import { tempDir, writeTree } from '../helpers';
import { GIT_PAYLOADS, executed, fixtureGit, listAll, makeHistoryRepo, plant } from '../support/hostileGit';

const ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'T',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 'T',
  GIT_COMMITTER_EMAIL: 't@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: '/nonexistent',
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args], { cwd, env: ENV, encoding: 'utf8' });
}

let tick = 0;
function commit(cwd: string, message: string): string {
  tick++;
  const date = `2024-01-01T00:00:${String(tick).padStart(2, '0')}Z`;
  execFileSync('git', ['add', '-A'], { cwd, env: ENV });
  execFileSync('git', ['-c', 'commit.gpgsign=false', 'commit', '-q', '-m', message], { cwd, env: { ...ENV, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
  return git(cwd, 'rev-parse', 'HEAD').trim();
}

const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `    x${i} = "${tag} ${i}"`).join('\n');

describe('questions mined from git history', () => {
  let repo: string;
  let cleanup: () => void;
  const hashes: Record<string, string> = {};

  before(() => {
    const t = tempDir('sift-git-');
    cleanup = t.cleanup;
    repo = path.join(t.dir, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q');
    writeTree(repo, {
      'src/upload.py': `def retry_failed_uploads(queue):\n${lines(20, 'a')}\n    return queue\n`,
      'src/session.py': `class SessionStore:\n    def expire(self):\n${lines(10, 'b')}\n`,
      'src/version.py': '__version__ = "1.0.0"\n',
    });
    hashes.root = commit(repo, 'Initial import of the project');
    writeFileSync(path.join(repo, 'src/upload.py'), `def retry_failed_uploads(queue):\n${lines(20, 'a').replace('"a 7"', '"a seven"')}\n    return queue\n`);
    hashes.fix = commit(repo, 'Fix retry of failed uploads when the queue is empty\n\nThe retry loop skipped the last item.\n\nSigned-off-by: T <t@example.com>');
    writeFileSync(path.join(repo, 'src/version.py'), '__version__ = "1.0.1"\n');
    hashes.bump = commit(repo, 'Bump version to 1.0.1');
    writeFileSync(path.join(repo, 'src/session.py'), `class SessionStore:\n    def expire(self):  \n${lines(10, 'b')}\n`);
    hashes.format = commit(repo, 'Tidy up the session store code a bit');
    git(repo, 'revert', '--no-edit', hashes.fix!);
    hashes.revert = git(repo, 'rev-parse', 'HEAD').trim();
    for (const [i, name] of ['a', 'b', 'c'].entries()) writeFileSync(path.join(repo, `src/mod_${name}.py`), `def f${i}():\n${lines(15, name)}\n`);
    hashes.add = commit(repo, 'Add three helper modules for later');
    for (const name of ['a', 'b', 'c']) renameSync(path.join(repo, `src/mod_${name}.py`), path.join(repo, `src/helper_${name}.py`));
    hashes.rename = commit(repo, 'Move the helper modules to new names');
    for (let i = 0; i < 10; i++) writeFileSync(path.join(repo, `src/gen${i}.txt`), `generated ${i}\n`);
    hashes.many = commit(repo, 'Add many generated text files at once');
    git(repo, 'checkout', '-q', '-b', 'side');
    writeFileSync(path.join(repo, 'src/session.py'), `class SessionStore:\n    def expire(self, now):\n${lines(10, 'b')}\n`);
    hashes.side = commit(repo, 'Pass the current time to session expiry');
    git(repo, 'checkout', '-q', 'main');
    execFileSync('git', ['-c', 'commit.gpgsign=false', 'merge', '-q', '--no-ff', '-m', 'Merge branch side into main', 'side'], { cwd: repo, env: ENV });
  });

  after(() => cleanup());

  it('keeps real changes and filters merges, reverts, version bumps, formatting, renames, too many files', async () => {
    const mined = await mineGitHistory(repo, { max: 10 });
    // --first-parent: the side branch's commit is reached only through the merge, which is skipped.
    assert.deepEqual(mined.questions.map((q) => q.source), [hashes.fix]);
    const q = mined.questions[0]!;
    assert.equal(q.commit, hashes.root, 'evaluated at the parent commit');
    assert.equal(q.question, 'Fix retry of failed uploads when the queue is empty. The retry loop skipped the last item.');
    assert.deepEqual(q.gold.map((g) => g.path), ['src/upload.py']);
    assert.deepEqual(q.gold[0]!.lineRanges, [[9, 9]], 'the changed line, numbered at the parent');
    assert.equal(mined.skipped.merge, 1);
    assert.equal(mined.skipped.revert, 1);
    assert.equal(mined.skipped['version-bump'], 1);
    assert.equal(mined.skipped.formatting, 1, 'whitespace-only diff');
    assert.equal(mined.skipped.rename, 1);
    assert.equal(mined.skipped['too-many-files'], 1);
    assert.equal(mined.skipped['no-gold'], 1, 'only added files: nothing to find at the parent');
    assert.equal(mined.skipped['root-commit'], 1);
  });

  it('respects the maximum and the file limit', async () => {
    const one = await mineGitHistory(repo, { max: 1 });
    assert.equal(one.questions.length, 1);
    const loose = await mineGitHistory(repo, { max: 10, maxFiles: 20 });
    assert.equal(loose.skipped['too-many-files'], 0);
    assert.equal(loose.skipped['no-gold'], 2);
  });

  it('classifies commit messages and parses zero-context diffs', () => {
    const base = { parents: ['p'], body: '', status: [{ code: 'M', path: 'a.py' }] };
    assert.equal(classifyCommit({ ...base, subject: 'Release 2.3.0' }, 8), 'version-bump');
    assert.equal(classifyCommit({ ...base, subject: 'Bump requests from 2.31 to 2.32' }, 8), 'version-bump');
    assert.equal(classifyCommit({ ...base, subject: 'Revert "Add feature"' }, 8), 'revert');
    // Release and dependency housekeeping behind a gitmoji, or in other words (issue 19: these reached the tuning split).
    assert.equal(classifyCommit({ ...base, subject: '🔖 Release version 0.9.1' }, 8), 'version-bump');
    assert.equal(classifyCommit({ ...base, subject: ':bookmark: Release 1.2.0' }, 8), 'version-bump');
    assert.equal(classifyCommit({ ...base, subject: 'start version 8.0.0a2' }, 8), 'version-bump');
    assert.equal(classifyCommit({ ...base, subject: 'update dev dependencies' }, 8), 'version-bump');
    assert.equal(classifyCommit({ ...base, subject: 'Upgrade requirements' }, 8), 'version-bump');
    assert.equal(classifyCommit({ ...base, subject: '🐛 Fix evaluating stringified annotations' }, 8), undefined);
    assert.equal(classifyCommit({ ...base, subject: 'Update dependency resolution for extras' }, 8), undefined);
    assert.equal(classifyCommit({ ...base, subject: 'Apply black formatting to the codebase' }, 8), 'formatting');
    assert.equal(classifyCommit({ ...base, subject: 'Run pre-commit on all files' }, 8), 'formatting');
    assert.equal(classifyCommit({ ...base, subject: 'Fix crash when the config file is missing' }, 8), undefined);
    assert.equal(classifyCommit({ ...base, subject: 'Fix' }, 8), 'short-message');
    assert.equal(classifyCommit({ ...base, parents: ['a', 'b'], subject: 'Merge pull request #1' }, 8), 'merge');
    assert.equal(commitQuestion('Handle empty queues (#123)', 'Details here.\nCo-authored-by: X <x@y>\nCloses #9'), 'Handle empty queues. Details here.');
    const ranges = parseOldRanges(
      ['diff --git a/x.py b/x.py', '--- a/x.py', '+++ b/x.py', '@@ -3,2 +3,2 @@ def parse(self):', '@@ -10,0 +11,1 @@ class Foo:', '--- /dev/null', '+++ b/new.py', '@@ -0,0 +1,3 @@'].join('\n'),
    );
    assert.deepEqual([...ranges.keys()], ['x.py']);
    assert.deepEqual(ranges.get('x.py')!.ranges, [[3, 4], [10, 11]]);
    assert.deepEqual([...ranges.get('x.py')!.symbols], ['parse', 'Foo']);
  });
});

describe('an untrusted repository\'s history is read without running anything from it', () => {
  let dir: string;
  let cleanup: () => void;
  let base: string;

  before(() => {
    ({ dir, cleanup } = tempDir('sift-git-hostile-'));
    base = path.join(dir, 'base');
    makeHistoryRepo(base);
  });
  after(() => cleanup());

  /** Everything `sift eval --from-git-history` does with a repository, in process. */
  async function evalLikeRun(repo: string, worktree: string): Promise<{ mined: number; files: string[] } | { error: string }> {
    try {
      const mined = await mineGitHistory(repo, { max: 5 });
      const parents = [...new Set(mined.questions.map((q) => q.parent))];
      await commitTimes(repo, parents);
      const tree = await EvalWorktree.create(repo, worktree, parents[0]!);
      let files: string[] = [];
      try {
        for (const p of parents) await tree.checkout(p);
        files = listAll(worktree);
      } finally {
        await tree.remove();
      }
      return { mined: mined.questions.length, files };
    } catch (err) {
      return { error: (err as Error).message };
    }
  }

  for (const [i, payload] of GIT_PAYLOADS.entries()) {
    it(`runs nothing: ${payload.name}`, async () => {
      const planted = plant(base, dir, payload, i);
      const saved = { ...process.env };
      Object.assign(process.env, planted.env);
      try {
        const r = await evalLikeRun(planted.repo, path.join(dir, `wt-${i}`));
        assert.ok(!executed(planted), `the payload ran: ${existsSync(planted.marker) ? readFileSync(planted.marker, 'utf8') : ''}`);
        if ('error' in r) {
          // A partial clone whose objects cannot be fetched: a clear message, not a crash.
          assert.match(payload.name, /promisor/, r.error);
          assert.match(r.error, /^git \S+ failed in /);
        } else assert.equal(r.mined, 2);
      } finally {
        for (const k of Object.keys(planted.env)) delete process.env[k];
        Object.assign(process.env, saved);
      }
    });
  }

  it('the work tree holds exactly the commit\'s regular files: contents, no exec bits, no symlinks or submodules', async () => {
    const repo = path.join(dir, 'kinds');
    mkdirSync(repo);
    fixtureGit(repo, 'init', '-q');
    writeTree(repo, { 'a.txt': 'alpha\n', 'bin/run.sh': '#!/bin/sh\necho hi\n', 'deep/er/x.py': 'x = 1\n', 'crlf.txt': 'one\r\ntwo $Id$\r\n' });
    chmodSync(path.join(repo, 'bin/run.sh'), 0o755);
    symlinkSync('/etc/passwd', path.join(repo, 'passwd-link'));
    symlinkSync('..', path.join(repo, 'up'));
    writeFileSync(path.join(repo, '.gitattributes'), '*.txt text eol=crlf ident\n');
    fixtureGit(repo, 'add', '-A');
    // A gitlink (submodule entry) without a checkout.
    fixtureGit(repo, 'update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},vendor/lib`);
    fixtureGit(repo, 'commit', '-q', '-m', 'first');
    const first = fixtureGit(repo, 'rev-parse', 'HEAD').trim();
    // Second commit: a file becomes a folder, a file is removed, one changes, one stays.
    fixtureGit(repo, 'rm', '-q', 'a.txt', 'deep/er/x.py');
    writeTree(repo, { 'a.txt/inner.md': '# now a folder\n', 'crlf.txt': 'one\r\ntwo $Id$\r\nthree\r\n' });
    fixtureGit(repo, 'add', '-A');
    fixtureGit(repo, 'commit', '-q', '-m', 'second');
    const second = fixtureGit(repo, 'rev-parse', 'HEAD').trim();

    const wt = path.join(dir, 'kinds-wt');
    const tree = await EvalWorktree.create(repo, wt, first);
    try {
      const files = listAll(wt).filter((f) => f !== '.git' && !f.startsWith('.git/'));
      assert.deepEqual(files.sort(), ['.gitattributes', 'a.txt', 'bin', 'bin/run.sh', 'crlf.txt', 'deep', 'deep/er', 'deep/er/x.py'].sort());
      assert.equal(readFileSync(path.join(wt, 'bin/run.sh'), 'utf8'), '#!/bin/sh\necho hi\n');
      assert.equal(statSync(path.join(wt, 'bin/run.sh')).mode & 0o111, 0, 'never executable');
      // Blobs as stored (normalised to LF by `text`): no eol conversion, no ident expansion on the way out.
      assert.equal(readFileSync(path.join(wt, 'crlf.txt'), 'utf8'), 'one\ntwo $Id$\n');
      assert.deepEqual(tree.skipped, { symlink: 2, submodule: 1 });
      const keptIno = lstatSync(path.join(wt, 'bin/run.sh')).ino;
      const keptMtime = lstatSync(path.join(wt, 'bin/run.sh')).mtimeMs;

      await tree.checkout(second);
      const after2 = listAll(wt).filter((f) => f !== '.git' && !f.startsWith('.git/'));
      assert.deepEqual(after2.sort(), ['.gitattributes', 'a.txt', 'a.txt/inner.md', 'bin', 'bin/run.sh', 'crlf.txt'].sort(), 'removed files and emptied folders are gone');
      assert.equal(readFileSync(path.join(wt, 'crlf.txt'), 'utf8'), 'one\ntwo $Id$\nthree\n');
      const st = lstatSync(path.join(wt, 'bin/run.sh'));
      assert.equal(st.ino, keptIno, 'an unchanged file is not rewritten');
      assert.equal(st.mtimeMs, keptMtime);

      await tree.checkout(first);
      assert.equal(readFileSync(path.join(wt, 'a.txt'), 'utf8'), 'alpha\n', 'a folder becomes a file again');
    } finally {
      await tree.remove();
    }
    assert.ok(!existsSync(wt), 'the work tree Sift made is removed');
  });

  it('crafted trees cannot write outside the work tree or into a .git folder', async () => {
    const repo = path.join(dir, 'crafted');
    mkdirSync(repo);
    fixtureGit(repo, 'init', '-q');
    const blob = (text: string) => execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: repo, input: text, encoding: 'utf8' }).trim();
    const mktree = (entries: string[]) => execFileSync('git', ['mktree'], { cwd: repo, input: `${entries.join('\n')}\n`, encoding: 'utf8' }).trim();
    const evil = blob('#!/bin/sh\ntouch PWNED\n');
    const inner = mktree([`100755 blob ${evil}\tpost-checkout`, `100644 blob ${evil}\tpwned.txt`]);
    const hooks = mktree([`040000 tree ${inner}\thooks`]);
    const root = mktree([
      `040000 tree ${inner}\t..`,
      `040000 tree ${hooks}\t.git`,
      `040000 tree ${hooks}\t.GIT`,
      `040000 tree ${hooks}\t.git.`,
      `040000 tree ${mktree([`040000 tree ${hooks}\t.git`, `100644 blob ${blob('fine\n')}\tok.txt`])}\tsub`,
      `100644 blob ${blob('kept\n')}\tkept.txt`,
    ]);
    const commit = execFileSync('git', ['commit-tree', '-m', 'crafted', root], { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@e' }, encoding: 'utf8' }).trim();
    const outer = path.join(dir, 'crafted-outer');
    const wt = path.join(outer, 'wt');
    mkdirSync(outer);
    const tree = await EvalWorktree.create(repo, wt, commit);
    try {
      assert.deepEqual(listAll(outer).sort(), ['wt', 'wt/.git', 'wt/.git/sift-eval-worktree', 'wt/kept.txt', 'wt/sub', 'wt/sub/ok.txt'].sort());
      assert.equal(tree.skipped['".." component'], 2);
      assert.equal(tree.skipped['.git component'], 8);
    } finally {
      await tree.remove();
    }
    for (const p of ['..', '../x', '/etc/passwd', 'a/../b', '.git/config', 'x/.GIT/hooks/y', '.git ', 'git~1/x', 'a//b', './a']) assert.ok(unsafeTreePath(p), p);
    for (const p of ['a', '.github/workflows/ci.yml', '.gitignore', 'x/.gitmodules', '...', '..a']) assert.equal(unsafeTreePath(p), undefined, p);
  });

  it('refuses a --worktree folder that holds other files, and reuses its own', async () => {
    const repo = path.join(dir, 'reuse');
    makeHistoryRepo(repo);
    const head = fixtureGit(repo, 'rev-parse', 'HEAD').trim();
    const busy = path.join(dir, 'busy');
    writeTree(busy, { 'important.txt': 'keep me\n' });
    await assert.rejects(EvalWorktree.create(repo, busy, head), /is not empty and was not made by sift eval/);
    assert.equal(readFileSync(path.join(busy, 'important.txt'), 'utf8'), 'keep me\n');
    const mine = path.join(dir, 'mine');
    const a = await EvalWorktree.create(repo, mine, head);
    writeFileSync(path.join(mine, 'stray.txt'), 'left by a crash\n');
    const b = await EvalWorktree.create(repo, mine, head); // a second run over a crashed first one
    assert.ok(!existsSync(path.join(mine, 'stray.txt')));
    assert.ok(existsSync(path.join(mine, 'src/upload.py')));
    await b.remove();
    await a.remove();
  });

  it('runs only plumbing, with the caller\'s GIT_* variables dropped', async () => {
    await assert.rejects(safeGit(base, ['checkout', 'HEAD']), /not allowed/);
    await assert.rejects(safeGit(base, ['cat-file', '--filters', 'HEAD:README.md']), /no filters/);
    const env = gitEnv({ PATH: '/bin', GIT_DIR: '/elsewhere', GIT_EXTERNAL_DIFF: 'x', git_ssh_command: 'y', HOME: '/h' });
    assert.equal(env.GIT_DIR, undefined);
    assert.equal(env.GIT_EXTERNAL_DIFF, undefined);
    assert.equal(env.git_ssh_command, undefined);
    assert.equal(env.GIT_ALLOW_PROTOCOL, '');
    assert.equal(env.HOME, '/h');
  });
});

describe('issue-style gold: only the implementation files a commit changed (--gold-roles source)', () => {
  let repo: string;
  let cleanup: () => void;
  before(() => {
    const t = tempDir('sift-git-roles-');
    cleanup = t.cleanup;
    repo = path.join(t.dir, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q');
    writeTree(repo, { 'src/parser.py': `def parse(s):\n${lines(10, 'p')}\n`, 'tests/test_parser.py': `def test_parse():\n${lines(10, 't')}\n`, 'CHANGES.md': '# Changes\n\n- first\n' });
    commit(repo, 'Initial import of the parser');
    writeTree(repo, { 'src/parser.py': `def parse(s):\n${lines(10, 'p').replace('"p 3"', '"p three"')}\n`, 'tests/test_parser.py': `def test_parse():\n${lines(10, 't').replace('"t 3"', '"t three"')}\n`, 'CHANGES.md': '# Changes\n\n- first\n- parse empty input\n' });
    commit(repo, 'Fix parse crashing on empty input');
    writeTree(repo, { 'tests/test_parser.py': `def test_parse():\n${lines(10, 't').replace('"t 4"', '"t four"')}\n`, 'CHANGES.md': '# Changes\n\n- first\n- parse empty input\n- more tests\n' });
    commit(repo, 'Cover the parser with more tests');
  });
  after(() => cleanup());

  it('keeps the source file as gold, drops tests and docs, skips commits without an implementation change', async () => {
    const all = await mineGitHistory(repo, { max: 10 });
    assert.equal(all.questions.length, 2);
    const mined = await mineGitHistory(repo, { max: 10, goldRoles: ['source'] });
    assert.deepEqual(mined.questions.map((q) => [q.question, q.gold.map((g) => g.path)]), [['Fix parse crashing on empty input', ['src/parser.py']]]);
    assert.equal(mined.skipped['no-gold'], 1);
  });
});

describe('questions that carry their own commit (sift eval --questions with "commit")', () => {
  let repo: string;
  let plain: string;
  let cleanup: () => void;
  const c: string[] = [];
  before(() => {
    const t = tempDir('sift-qcommit-');
    cleanup = t.cleanup;
    repo = path.join(t.dir, 'repo');
    plain = path.join(t.dir, 'export');
    mkdirSync(repo);
    git(repo, 'init', '-q');
    writeTree(repo, { 'a.py': 'x = 1\n' });
    c.push(commit(repo, 'First'));
    writeTree(repo, { 'a.py': 'x = 2\n' });
    c.push(commit(repo, 'Second'));
    writeTree(repo, { 'a.py': 'x = 3\n' });
    c.push(commit(repo, 'Third'));
    writeTree(plain, { 'a.py': 'x = 3\n' });
  });
  after(() => cleanup());
  const q = (id: string, commitId?: string): EvalQuestion => ({ id, question: id, gold: [{ path: 'a.py', lineRanges: [] }], ...(commitId ? { commit: commitId } : {}) });

  it('groups by full commit id (abbreviated ids resolved); no commit or HEAD\'s own are asked at the checkout', async () => {
    const notices: string[] = [];
    const { here, byCommit } = await groupQuestionsByCommit(repo, [q('none'), q('head', c[2]), q('first', c[0]!.slice(0, 8)), q('second', c[1]), q('first-again', c[0])], (m) => notices.push(m));
    assert.deepEqual(here.map((x) => x.id), ['none', 'head']);
    assert.deepEqual([...byCommit.keys()].sort(), [c[0], c[1]].sort());
    assert.deepEqual(byCommit.get(c[0]!)!.map((x) => x.id), ['first', 'first-again']);
    assert.deepEqual(notices, []);
  });

  it('names every unknown commit and the questions that carry it, before anything is evaluated', async () => {
    await assert.rejects(
      groupQuestionsByCommit(repo, [q('ok', c[0]), q('gone', 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef'), q('typo', 'not-a-sha')], () => undefined),
      (err: Error) => /2 commit\(s\)/.test(err.message) && /deadbeefdeadbeef.*\(gone\)/.test(err.message) && /not-a-sha \(typo\)/.test(err.message) && !/\bok\b/.test(err.message),
    );
  });

  it('a folder that is not a git repository (an export) asks every question as it is, with a notice', async () => {
    const notices: string[] = [];
    const { here, byCommit } = await groupQuestionsByCommit(plain, [q('x', c[0]), q('y')], (m) => notices.push(m));
    assert.deepEqual(here.map((x) => x.id), ['x', 'y']);
    assert.equal(byCommit.size, 0);
    assert.match(notices.join('\n'), /not the top folder of a git repository/);
  });
});
