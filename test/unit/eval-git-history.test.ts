import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, renameSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { classifyCommit, commitQuestion, mineGitHistory, parseOldRanges } from '../../src/core/eval/gitHistory';
import { tempDir, writeTree } from '../helpers';

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
