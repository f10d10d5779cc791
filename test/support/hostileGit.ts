/**
 * Repositories whose git configuration tries to run commands while Sift reads their history
 * (`sift eval --from-git-history`). Each payload is a shell script that creates a marker file
 * when git runs it; the tests check that no marker appears.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeTree } from '../helpers';

/** A clean environment for the git commands that BUILD the fixtures (never the user's config). */
export const FIXTURE_GIT_ENV: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_'))),
  GIT_AUTHOR_NAME: 'T',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 'T',
  GIT_COMMITTER_EMAIL: 't@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export function fixtureGit(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null', ...args], { cwd, env: FIXTURE_GIT_ENV, encoding: 'utf8' });
}

const body = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `    value_${i} = "${tag} ${i}"`).join('\n');

/**
 * A small history: an LFS-style `.gitattributes` (`*.py filter=lfs diff=lfs merge=lfs`, as real
 * LFS repositories commit it), then two real fixes that `mineGitHistory` turns into questions.
 */
export function makeHistoryRepo(repo: string): void {
  mkdirSync(repo, { recursive: true });
  fixtureGit(repo, 'init', '-q');
  writeTree(repo, {
    '.gitattributes': '*.py filter=lfs diff=lfs merge=lfs\n',
    'src/upload.py': `def retry_failed_uploads(queue):\n${body('a', 20)}\n    return queue\n`,
    'src/session.py': `class SessionStore:\n    def expire(self):\n${body('b', 12)}\n`,
    'README.md': '# demo\n',
  });
  let tick = 0;
  const commit = (message: string) => {
    tick++;
    const date = `2024-01-01T00:00:${String(tick).padStart(2, '0')}Z`;
    execFileSync('git', ['add', '-A'], { cwd: repo, env: FIXTURE_GIT_ENV });
    execFileSync('git', ['-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null', 'commit', '-q', '-m', message], { cwd: repo, env: { ...FIXTURE_GIT_ENV, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
  };
  commit('Initial import of the project');
  const up = path.join(repo, 'src/upload.py');
  writeFileSync(up, readFileSync(up, 'utf8').replace('"a 7"', '"a seven"'));
  commit('Fix retry of failed uploads when the queue is empty');
  const se = path.join(repo, 'src/session.py');
  writeFileSync(se, readFileSync(se, 'utf8').replace('"b 3"', '"b three"'));
  commit('Keep sessions that expire exactly now when invalidating');
}

export interface GitPayload {
  name: string;
  /** Plants the payload in `repo` (a copy of the history repo); `script` is an executable that creates the marker. */
  apply(repo: string, script: string, dir: string): void;
  /** Extra environment for the process that reads the repository (a caller that leaks GIT_* variables). */
  env?(script: string): Record<string, string>;
}

const config = (repo: string, text: string) => appendFileSync(path.join(repo, '.git', 'config'), `\n${text}\n`);
const attributes = (repo: string, text: string) => {
  mkdirSync(path.join(repo, '.git', 'info'), { recursive: true });
  appendFileSync(path.join(repo, '.git', 'info', 'attributes'), `${text}\n`);
};
const hook = (dir: string, name: string, script: string) => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, name), `#!/bin/sh\nexec "${script}" "$@"\n`);
  chmodSync(path.join(dir, name), 0o755);
};

/** Makes the repository a partial clone whose promisor remote is `url`, and drops a blob the history diff needs. */
function promisor(repo: string, url: string, extra: string): void {
  config(repo, `[core]\n\trepositoryformatversion = 1\n[extensions]\n\tpartialClone = origin\n[remote "origin"]\n\turl = ${url}\n\tpromisor = true\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n${extra}`);
  // The old side of src/upload.py in the first fix: reading it (diff, checkout) triggers a lazy fetch.
  const oid = fixtureGit(repo, 'rev-parse', 'HEAD~2:src/upload.py').trim();
  rmSync(path.join(repo, '.git', 'objects', oid.slice(0, 2), oid.slice(2)));
}

/** Rewrites HEAD as a commit carrying a (fake) PGP signature, so signature display would call gpg.program. */
function signHead(repo: string): void {
  const raw = fixtureGit(repo, 'cat-file', 'commit', 'HEAD');
  const sig = 'gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEEfakefakefakefakefakefakefakefakeFAKE=\n =fake\n -----END PGP SIGNATURE-----\n';
  const signed = raw.replace(/^(committer [^\n]*\n)/m, `$1${sig}`);
  const oid = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: repo, env: FIXTURE_GIT_ENV, input: signed, encoding: 'utf8' }).trim();
  fixtureGit(repo, 'update-ref', 'refs/heads/main', oid);
}

export const GIT_PAYLOADS: GitPayload[] = [
  { name: 'filter smudge (info/attributes)', apply: (r, s) => (config(r, `[filter "evil"]\n\tsmudge = "${s}" --filter`), attributes(r, '* filter=evil')) },
  { name: 'filter clean (info/attributes)', apply: (r, s) => (config(r, `[filter "evil"]\n\tclean = "${s}" --filter`), attributes(r, '* filter=evil')) },
  { name: 'filter process (long-running)', apply: (r, s) => (config(r, `[filter "evil"]\n\tprocess = "${s}"`), attributes(r, '* filter=evil')) },
  { name: 'lfs-like process filter (committed .gitattributes)', apply: (r, s) => config(r, `[filter "lfs"]\n\tprocess = "${s}"\n\tsmudge = "${s}" --filter\n\tclean = "${s}" --filter\n\trequired = true`) },
  { name: 'diff.external', apply: (r, s) => config(r, `[diff]\n\texternal = "${s}"`) },
  { name: 'external diff driver (diff=<driver> command)', apply: (r, s) => config(r, `[diff "lfs"]\n\tcommand = "${s}"`) },
  { name: 'textconv', apply: (r, s) => (config(r, `[diff "evil"]\n\ttextconv = "${s}"\n\tcachetextconv = false`), attributes(r, '* diff=evil')) },
  { name: 'merge driver', apply: (r, s) => config(r, `[merge "lfs"]\n\tdriver = "${s}" %O %A %B`) },
  { name: 'core.fsmonitor', apply: (r, s) => config(r, `[core]\n\tfsmonitor = "${s}"`) },
  { name: 'hooks (post-checkout, reference-transaction, post-index-change)', apply: (r, s) => ['post-checkout', 'reference-transaction', 'post-index-change', 'pre-auto-gc'].forEach((h) => hook(path.join(r, '.git', 'hooks'), h, s)) },
  {
    name: 'core.hooksPath',
    apply: (r, s, d) => {
      const dir = path.join(d, 'hooks-elsewhere');
      for (const h of ['post-checkout', 'reference-transaction', 'post-index-change']) hook(dir, h, s);
      config(r, `[core]\n\thooksPath = ${dir}`);
    },
  },
  { name: 'core.pager / pager.*', apply: (r, s) => config(r, `[core]\n\tpager = "${s}"\n[pager]\n\tlog = "${s}"\n\tdiff = "${s}"\n\tshow = "${s}"`) },
  { name: 'log.showSignature + gpg.program', apply: (r, s) => (signHead(r), config(r, `[log]\n\tshowSignature = true\n[gpg]\n\tprogram = "${s}"`)) },
  {
    name: 'includeIf-pulled config (filter + fsmonitor)',
    apply: (r, s, d) => {
      const inc = path.join(d, 'included.config');
      writeFileSync(inc, `[filter "evil"]\n\tsmudge = "${s}" --filter\n\tclean = "${s}" --filter\n[core]\n\tfsmonitor = "${s}"\n[diff]\n\texternal = "${s}"\n`);
      config(r, `[includeIf "gitdir:/"]\n\tpath = ${inc}\n[include]\n\tpath = ${inc}`);
      attributes(r, '* filter=evil');
    },
  },
  { name: 'promisor lazy fetch over ext::', apply: (r, s) => promisor(r, `ext::${s}`, '[protocol "ext"]\n\tallow = always\n[protocol]\n\tallow = always') },
  { name: 'promisor lazy fetch with core.sshCommand', apply: (r, s) => promisor(r, 'ssh://example.invalid/repo.git', `[core]\n\tsshCommand = "${s}"\n[protocol "ssh"]\n\tallow = always`) },
  {
    name: 'promisor lazy fetch with remote uploadpack',
    apply: (r, s, d) => {
      const other = path.join(d, 'other.git');
      fixtureGit(d, 'init', '-q', '--bare', other);
      promisor(r, `file://${other}`, `\tuploadpack = "${s}"\n[protocol "file"]\n\tallow = always`);
    },
  },
  {
    name: 'caller GIT_* environment (GIT_EXTERNAL_DIFF, GIT_CONFIG_COUNT filter, GIT_PAGER)',
    apply: (r) => attributes(r, '* filter=evil'),
    env: (s) => ({ GIT_EXTERNAL_DIFF: s, GIT_PAGER: s, GIT_CONFIG_COUNT: '2', GIT_CONFIG_KEY_0: 'filter.evil.smudge', GIT_CONFIG_VALUE_0: `${s} --filter`, GIT_CONFIG_KEY_1: 'core.fsmonitor', GIT_CONFIG_VALUE_1: s }),
  },
];

export interface PlantedPayload {
  payload: GitPayload;
  repo: string;
  marker: string;
  env: Record<string, string>;
}

/** A copy of `base` with `payload` planted; the payload's script creates `marker` (and passes stdin through, as a filter would). */
export function plant(base: string, dir: string, payload: GitPayload, index: number): PlantedPayload {
  const slot = path.join(dir, `payload-${index}`);
  mkdirSync(slot, { recursive: true });
  const repo = path.join(slot, 'repo');
  cpSync(base, repo, { recursive: true });
  const marker = path.join(slot, 'EXECUTED');
  const script = path.join(slot, 'payload.sh');
  // Filters (called with --filter) pass their input through; anything else (a transport, a hook) must not wait on stdin.
  writeFileSync(script, `#!/bin/sh\necho "$0 $*" >> "${marker}"\nif [ "$1" = "--filter" ]; then cat; fi\nexit 0\n`);
  chmodSync(script, 0o755);
  payload.apply(repo, script, slot);
  return { payload, repo, marker, env: payload.env?.(script) ?? {} };
}

export const executed = (p: PlantedPayload): boolean => existsSync(p.marker);

/** Every path under `dir` (relative), for checking that nothing was written outside a work tree. */
export function listAll(dir: string, rel = ''): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    out.push(r);
    if (e.isDirectory()) out.push(...listAll(path.join(dir, e.name), r));
  }
  return out;
}
