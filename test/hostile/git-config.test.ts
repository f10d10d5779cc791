import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers';
import { GIT_PAYLOADS, executed, listAll, makeHistoryRepo, plant } from '../support/hostileGit';
import { hasStackTrace, runCli, tally } from './tally';

/**
 * `sift eval --from-git-history` on repositories whose git configuration (config, includes,
 * info/attributes, committed .gitattributes, hooks, promisor remotes) or the caller's GIT_*
 * environment names a command. Nothing may run; each payload's script would leave a marker.
 */
describe('hostile git configuration during sift eval --from-git-history', () => {
  it('runs none of the repository\'s commands, and still evaluates (or says why not)', async () => {
    const { dir, cleanup } = tempDir('sift-hostile-git-');
    try {
      const base = path.join(dir, 'base');
      makeHistoryRepo(base);
      const ran: string[] = [];
      const problems: string[] = [];
      for (const [i, payload] of GIT_PAYLOADS.entries()) {
        const planted = plant(base, dir, payload, i);
        const slot = path.dirname(planted.repo);
        const before = listAll(slot).filter((p) => !p.startsWith('repo/'));
        const out = path.join(slot, 'report.json');
        const r = await runCli(
          ['eval', planted.repo, '--from-git-history', '5', '--index-dir', path.join(slot, 'idx'), '--lexical-only', '--offline', '--variants', 'bm25', '--no-ltr', '--json-out', out, '--quiet'],
          { HOME: path.join(dir, 'home'), XDG_CACHE_HOME: path.join(dir, 'home', '.cache'), ...planted.env },
        );
        if (executed(planted)) ran.push(`${payload.name}: ${readFileSync(planted.marker, 'utf8').trim().split('\n')[0]}`);
        if (r.signal || hasStackTrace(r.stderr)) problems.push(`${payload.name}: crashed (${r.signal ?? r.code}) ${r.stderr.slice(0, 300)}`);
        if (/promisor/.test(payload.name)) {
          // Objects of a partial clone that can only come from its remote: refused, with a message.
          if (r.code === 0 && !readFileSync(out, 'utf8').includes('"mined": 2')) problems.push(`${payload.name}: ${r.stderr.slice(0, 300)}`);
          if (r.code !== 0 && !/git \S+ failed in /.test(r.stderr)) problems.push(`${payload.name}: unclear failure: ${r.stderr.slice(0, 300)}`);
        } else if (r.code !== 0) problems.push(`${payload.name}: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
        else {
          const report = JSON.parse(readFileSync(out, 'utf8')) as { fromGitHistory: { mined: number }; index: unknown[] };
          if (report.fromGitHistory.mined !== 2 || report.index.length !== 2) problems.push(`${payload.name}: mined ${report.fromGitHistory.mined}, evaluated ${report.index.length} commits`);
        }
        // Nothing new next to the repository but the index, the report and (the payload's) marker; the work tree is gone.
        const after = listAll(slot).filter((p) => !p.startsWith('repo/') && !p.startsWith('idx') && p !== 'report.json' && p !== 'EXECUTED');
        const extra = after.filter((p) => !before.includes(p));
        if (extra.length) problems.push(`${payload.name}: left ${extra.slice(0, 5).join(', ')}`);
      }
      tally({ area: 'git configuration', payloadsTried: GIT_PAYLOADS.length, payloadsExecuted: ran.length, note: ran.length ? `executed: ${ran.join('; ')}` : undefined });
      assert.deepEqual(ran, [], 'repository-controlled commands ran');
      assert.deepEqual(problems, []);
    } finally {
      cleanup();
    }
  });
});
