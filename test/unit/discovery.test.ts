import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  DEFAULT_SECRET_PATTERNS,
  type DiscoveryEvent,
  DiscoveryMatcher,
  type DiscoveryOptions,
  type DiscoveryResult,
  discover,
  discoverFiles,
  SKIP_REASONS,
  type WalkOptions,
} from '../../src/core/discovery';
import { isAbortError, SiftError } from '../../src/core/util/errors';
import { REPO_ROOT, writeTree } from '../helpers';

// -------------------------------------------------------------------------------------------------
// helpers

const temps: string[] = [];
after(() => {
  for (const dir of temps) {
    chmodTree(dir);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A fresh temp root (removed after all tests). */
function tempRoot(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sift-discovery-'));
  temps.push(dir);
  return dir;
}

/** Restores permissions so cleanup works after chmod 000 tests. */
function chmodTree(dir: string): void {
  try {
    execFileSync('chmod', ['-R', 'u+rwx', dir], { stdio: 'ignore' });
  } catch {
    /* best effort */
  }
}

interface Outcome {
  result: DiscoveryResult;
  files: string[];
  /** path → reason, for every skip */
  skipped: Record<string, string>;
  /** path → detail */
  detail: Record<string, string | undefined>;
}

function summarize(result: DiscoveryResult): Outcome {
  const skipped: Record<string, string> = {};
  const detail: Record<string, string | undefined> = {};
  const files = result.files.map((f) => f.path);
  for (const s of result.skipped) {
    assert.ok(SKIP_REASONS.includes(s.reason), `unknown reason ${s.reason} for ${s.path}`);
    assert.ok(!(s.path in skipped), `${s.path} skipped twice`);
    assert.ok(!files.includes(s.path), `${s.path} both indexed and skipped`);
    skipped[s.path] = s.reason;
    detail[s.path] = s.detail;
  }
  assert.equal(new Set(files).size, files.length, 'a file is reported twice');
  return { result, files, skipped, detail };
}

async function run(root: string, opts: DiscoveryOptions = {}, walk: WalkOptions = {}): Promise<Outcome> {
  return summarize(await discover(root, opts, undefined, walk));
}

const isWindows = process.platform === 'win32';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function lines(n: number, width: number): string {
  return `${Array.from({ length: n }, (_, i) => `${String(i).padStart(6, '0')} ${'x'.repeat(Math.max(0, width - 7))}`).join('\n')}\n`;
}

// -------------------------------------------------------------------------------------------------

void describe('discovery: ignore files', () => {
  void it('applies nested .gitignore files with git semantics (levels, anchoring, negation, excluded parents)', async () => {
    const root = tempRoot();
    writeTree(root, {
      '.gitignore': [
        '# a comment',
        '*.log',
        '!important.log',
        'gen/',
        '!gen/keep.txt', // cannot re-include: its parent directory is excluded
        'tmp/*',
        '!tmp/keep.txt', // can re-include: tmp/ itself is not excluded, only its entries
        '/root-only.txt',
        'cache/',
        '**/foo/bar',
        'a/**/b',
        '\\#literal.ts',
        '',
      ].join('\n'),
      'main.ts': 'x\n',
      'a.log': 'x\n',
      'important.log': 'x\n',
      'gen/keep.txt': 'x\n',
      'gen/x.ts': 'x\n',
      'tmp/keep.txt': 'x\n',
      'tmp/drop.ts': 'x\n',
      'root-only.txt': 'x\n',
      'cache/c.ts': 'x\n',
      // a deeper .gitignore re-includes a directory a shallower one excludes: its files are back
      'pkg/.gitignore': '!cache/\n',
      'pkg/cache/x.ts': 'x\n',
      'sub/.gitignore': '!debug.log\n*.txt\n!notes.txt\ndocs/*.md\n',
      'sub/debug.log': 'x\n',
      'sub/other.log': 'x\n',
      'sub/a.txt': 'x\n',
      'sub/notes.txt': 'x\n',
      'sub/root-only.txt': 'x\n',
      'sub/docs/a.md': 'x\n', // sub/.gitignore `docs/*.md` is anchored to sub/
      'docs/a.md': 'x\n',
      'sub/deeper/.gitignore': 'notes.txt\n!*.log\n',
      'sub/deeper/notes.txt': 'x\n',
      'sub/deeper/z.log': 'x\n',
      'sub/foo/bar': 'x\n',
      'a/x/y/b/q.ts': 'x\n',
      'a/b': 'x\n',
      '#literal.ts': 'x\n',
      'crlf/.gitignore': 'x.ts\r\ny.ts\r\n',
      'crlf/x.ts': 'x\n',
      'crlf/z.ts': 'x\n',
    });
    const o = await run(root);
    assert.deepEqual(o.files, [
      '.gitignore',
      'crlf/.gitignore',
      'crlf/z.ts',
      'docs/a.md',
      'important.log',
      'main.ts',
      'pkg/.gitignore',
      'pkg/cache/x.ts',
      'sub/.gitignore',
      'sub/debug.log',
      'sub/deeper/.gitignore',
      'sub/deeper/z.log',
      'sub/notes.txt',
      'tmp/keep.txt',
    ]);
    assert.deepEqual(o.skipped, {
      '#literal.ts': 'ignored',
      'a.log': 'ignored',
      'a/b': 'ignored',
      'a/x/y/b': 'ignored',
      cache: 'ignored',
      'crlf/x.ts': 'ignored',
      gen: 'ignored',
      'root-only.txt': 'ignored',
      'sub/a.txt': 'ignored',
      'sub/deeper/notes.txt': 'ignored',
      'sub/docs/a.md': 'ignored',
      'sub/foo/bar': 'ignored',
      'sub/other.log': 'ignored',
      'sub/root-only.txt': 'ignored',
      'tmp/drop.ts': 'ignored',
    });
    // The detail names the ignore file whose rule decided.
    assert.equal(o.detail['sub/a.txt'], 'sub/.gitignore');
    assert.equal(o.detail['sub/deeper/notes.txt'], 'sub/deeper/.gitignore');
    assert.equal(o.detail['gen'], '.gitignore');
    assert.equal(o.detail['crlf/x.ts'], 'crlf/.gitignore');
  });

  void it('agrees with `git ls-files --others --exclude-standard` on generated trees', async (t) => {
    try {
      execFileSync('git', ['--version'], { stdio: 'ignore' });
    } catch {
      t.skip('git is not installed');
      return;
    }
    const NAMES = ['a', 'b', 'c', 'foo', 'bar', 'x.ts', 'y.js', 'z.md', 'keep.me', 'a.log', 'A', 'Foo', 'X.TS'];
    const DIRS = ['a', 'b', 'foo', 'bar', 'lib', 'src'];
    // (`\\*`, an escaped wildcard, is left out: a known `ignore@7` deviation, see RuleList.)
    const PATTERNS = [
      '*.log', '!*.log', 'a', '!a', 'a/', '!a/', '/a', '!/b', 'foo/', '!foo/', 'FOO/', 'foo/*', '!foo/keep.me', '**/b', 'b/**', '!b/**',
      'a/**/c', 'a/**', '*.ts', '*.TS', '!x.ts', '**/x.ts', 'src/', '/src/*.js', 'src/**/x*', '!keep.me', 'lib/**/*.md', '!lib/', '*', '!*/',
      '*/*', '!*/*.md', 'bar', 'Bar', '!bar/a', 'foo/bar', '**/foo/**', '!**/foo', 'foo/**/', '!foo/**/', '\\!a', 'a?', '[ab]', '!*.md', '!A',
    ];
    let state = 12345;
    const rand = () => ((state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
    let compared = 0;
    for (let round = 0; round < 60; round++) {
      const root = tempRoot();
      execFileSync('git', ['init', '-q', root]);
      const dirs = [''];
      for (let i = 0; i < 6; i++) {
        const d = [pick(dirs), pick(DIRS)].filter(Boolean).join('/');
        if (!dirs.includes(d) && d.split('/').length < 4) dirs.push(d);
      }
      for (const d of dirs) {
        try {
          mkdirSync(path.join(root, d), { recursive: true });
        } catch {
          continue; // a file already has that name
        }
        for (let k = 0; k < 3; k++) {
          try {
            writeFileSync(path.join(root, d, pick(NAMES)), 'x\n');
          } catch {
            /* a directory already has that name */
          }
        }
        if (rand() < 0.6) writeFileSync(path.join(root, d, '.gitignore'), `${Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(PATTERNS)).join('\n')}\n`);
      }
      if (rand() < 0.3) writeFileSync(path.join(root, '.git', 'info', 'exclude'), `${pick(PATTERNS)}\n`);
      const ignoreCase = round % 3 === 2;
      const git = execFileSync('git', ['-c', `core.ignorecase=${ignoreCase}`, 'ls-files', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .sort();
      const ours = (await run(root, { defaultExcludedDirs: ['.git'], generatedPatterns: [], minifiedPatterns: [], ignoreCase })).files;
      assert.deepEqual(ours, git, `tree ${root} (ignoreCase ${ignoreCase})`);
      compared++;
    }
    assert.equal(compared, 60);
  });

  void it('honours .siftignore (above .gitignore), .git/info/exclude (below it) and extraIgnorePatterns (above all)', async () => {
    const root = tempRoot();
    writeTree(root, {
      '.gitignore': 'generated.ts\nout-dir/\n*.md\n!keep.cfg\n',
      '.siftignore': 'fixtures/\n!generated.ts\n!out-dir/x.ts\n',
      'docs/.siftignore': 'draft-*\n',
      '.git/info/exclude': 'local-notes.txt\n*.cfg\n',
      '.git/HEAD': 'ref: refs/heads/main\n',
      'generated.ts': 'x\n',
      'out-dir/x.ts': 'x\n',
      'fixtures/f.ts': 'x\n',
      'src/fixtures/g.ts': 'x\n',
      'docs/draft-1.txt': 'x\n',
      'docs/final.txt': 'x\n',
      'local-notes.txt': 'x\n',
      'a.cfg': 'x\n',
      'keep.cfg': 'x\n',
      'README.md': 'x\n',
      'snap/a.snap': 'x\n',
      'snap/keep.snap': 'x\n',
      'main.ts': 'x\n',
    });
    const opts: DiscoveryOptions = { extraIgnorePatterns: ['*.snap', '!keep.snap', '!README.md'] };
    const o = await run(root, opts);
    assert.deepEqual(o.files, ['.gitignore', '.siftignore', 'README.md', 'docs/.siftignore', 'docs/final.txt', 'generated.ts', 'keep.cfg', 'main.ts', 'snap/keep.snap']);
    assert.deepEqual(o.skipped, {
      '.git': 'default-excluded',
      'a.cfg': 'ignored',
      'docs/draft-1.txt': 'ignored',
      fixtures: 'ignored',
      'local-notes.txt': 'ignored',
      'out-dir': 'ignored', // a .siftignore negation cannot re-include a file of an ignored directory
      'snap/a.snap': 'ignored',
      'src/fixtures': 'ignored',
    });
    assert.equal(o.detail['a.cfg'], '.git/info/exclude');
    assert.equal(o.detail['docs/draft-1.txt'], 'docs/.siftignore');
    assert.equal(o.detail['src/fixtures'], '.siftignore');
    assert.equal(o.detail['snap/a.snap'], 'extraIgnorePatterns');

    // useGitignore: false turns off .gitignore and info/exclude, not .siftignore.
    const o2 = await run(root, { ...opts, useGitignore: false });
    assert.deepEqual(o2.files, ['.gitignore', '.siftignore', 'README.md', 'a.cfg', 'docs/.siftignore', 'docs/final.txt', 'generated.ts', 'keep.cfg', 'local-notes.txt', 'main.ts', 'out-dir/x.ts', 'snap/keep.snap']);
    assert.deepEqual(o2.skipped, {
      '.git': 'default-excluded',
      'docs/draft-1.txt': 'ignored',
      fixtures: 'ignored',
      'snap/a.snap': 'ignored',
      'src/fixtures': 'ignored',
    });
  });

  void it('reads info/exclude through a `.git` file (worktrees, submodules) and skips that file', async () => {
    const dir = tempRoot();
    const root = path.join(dir, 'wt');
    writeTree(dir, {
      'gitdirs/wt/commondir': '../main\n',
      'gitdirs/main/info/exclude': 'wt-only.txt\n',
      'wt/.git': `gitdir: ${path.join(dir, 'gitdirs', 'wt')}\n`,
      'wt/wt-only.txt': 'x\n',
      'wt/a.ts': 'x\n',
    });
    const o = await run(root);
    assert.deepEqual(o.files, ['a.ts']);
    assert.deepEqual(o.skipped, { '.git': 'default-excluded', 'wt-only.txt': 'ignored' });
  });

  void it('uses the enclosing repository ignore files only with useParentIgnoreFiles', async () => {
    const repo = tempRoot();
    writeTree(repo, {
      '.git/info/exclude': 'local.txt\n',
      '.gitignore': '*.gen.ts\n',
      'packages/.gitignore': '/app/tmp/\n',
      'packages/app/a.ts': 'x\n',
      'packages/app/b.gen.ts': 'x\n',
      'packages/app/local.txt': 'x\n',
      'packages/app/tmp/t.ts': 'x\n',
      'packages/app/.gitignore': '!keep.gen.ts\n',
      'packages/app/keep.gen.ts': 'x\n',
    });
    const root = path.join(repo, 'packages', 'app');
    const plain = await run(root);
    assert.deepEqual(plain.files, ['.gitignore', 'a.ts', 'b.gen.ts', 'keep.gen.ts', 'local.txt', 'tmp/t.ts']);
    assert.deepEqual(plain.skipped, {});

    const withParents = await run(root, { useParentIgnoreFiles: true });
    assert.deepEqual(withParents.files, ['.gitignore', 'a.ts', 'keep.gen.ts']);
    assert.deepEqual(withParents.skipped, { 'b.gen.ts': 'ignored', 'local.txt': 'ignored', tmp: 'ignored' });
    assert.equal(withParents.detail['tmp'], path.join(await realpath(repo), 'packages', '.gitignore'));
  });
});

async function realpath(p: string): Promise<string> {
  const { promises } = await import('node:fs');
  return promises.realpath(p);
}

void describe('discovery: include / exclude / default-excluded', () => {
  const tree = {
    'src/a.ts': 'x\n',
    'src/a.test.ts': 'x\n',
    'src/b.js': 'x\n',
    'src/fixtures/f.ts': 'x\n',
    'src/deep/c.ts': 'x\n',
    'docs/guide.md': 'x\n',
    'README.md': 'x\n',
    'scripts/build.sh': 'x\n',
    '.env': 'TOKEN=1\n',
  };

  void it('include globs restrict, exclude globs remove (directories pruned as one entry)', async () => {
    const root = tempRoot();
    writeTree(root, tree);
    const o = await run(root, { include: ['src/**/*.ts'], exclude: ['*.test.ts', 'fixtures/'] });
    assert.deepEqual(o.files, ['src/a.ts', 'src/deep/c.ts']);
    assert.deepEqual(o.skipped, {
      '.env': 'secret',
      'README.md': 'excluded',
      docs: 'excluded',
      scripts: 'excluded',
      'src/a.test.ts': 'excluded',
      'src/b.js': 'excluded',
      'src/fixtures': 'excluded',
    });
    assert.equal(o.detail['docs'], 'outside the include globs');
    assert.equal(o.detail['README.md'], 'not matched by the include globs');
    assert.equal(o.detail['src/fixtures'], 'exclude globs');
  });

  void it('a glob without a slash matches at any depth; a leading slash anchors it', async () => {
    const root = tempRoot();
    writeTree(root, tree);
    const o = await run(root, { include: ['*.md'] });
    assert.deepEqual(o.files, ['README.md', 'docs/guide.md']);
    assert.deepEqual(o.skipped, {
      '.env': 'secret',
      'scripts/build.sh': 'excluded',
      'src/a.test.ts': 'excluded',
      'src/a.ts': 'excluded',
      'src/b.js': 'excluded',
      'src/deep/c.ts': 'excluded',
      'src/fixtures/f.ts': 'excluded',
    });
    const anchored = await run(root, { exclude: ['/src/deep', '/guide.md', 'scripts/**'] });
    assert.deepEqual(anchored.files, ['README.md', 'docs/guide.md', 'src/a.test.ts', 'src/a.ts', 'src/b.js', 'src/fixtures/f.ts']);
    assert.deepEqual(anchored.skipped, { '.env': 'secret', scripts: 'excluded', 'src/deep': 'excluded' });
  });

  void it('skips dependency, build, VCS and cache directories by name, once each, and the list is configurable', async () => {
    const root = tempRoot();
    writeTree(root, {
      'node_modules/x/index.js': 'x\n',
      '.git/HEAD': 'x\n',
      'dist/app.js': 'x\n',
      'build/out.txt': 'x\n',
      'packages/a/node_modules/y.js': 'x\n',
      'packages/a/src/i.ts': 'x\n',
      'packages/sub/.git': 'gitdir: ../../.git/modules/sub\n',
      'packages/sub/s.ts': 'x\n',
      '__pycache__/m.pyc': 'x\n',
      '.venv/bin/activate': 'x\n',
      '.sift/index.json': '{}\n',
      'coverage/lcov.info': 'x\n',
      'src/build.ts': 'x\n',
      'tools/build': 'x\n', // a FILE named like a default-excluded directory is indexed
    });
    const o = await run(root);
    assert.deepEqual(o.files, ['packages/a/src/i.ts', 'packages/sub/s.ts', 'src/build.ts', 'tools/build']);
    assert.deepEqual(o.skipped, {
      '.git': 'default-excluded',
      '.sift': 'default-excluded',
      '.venv': 'default-excluded',
      __pycache__: 'default-excluded',
      build: 'default-excluded',
      coverage: 'default-excluded',
      dist: 'default-excluded',
      node_modules: 'default-excluded',
      'packages/a/node_modules': 'default-excluded',
      'packages/sub/.git': 'default-excluded',
    });
    const custom = await run(root, { defaultExcludedDirs: ['dist', '.git', '__pycache__'], binaryExtensions: [] });
    assert.deepEqual(custom.files, [
      '.sift/index.json',
      '.venv/bin/activate',
      'build/out.txt',
      'coverage/lcov.info',
      'node_modules/x/index.js',
      'packages/a/node_modules/y.js',
      'packages/a/src/i.ts',
      'packages/sub/s.ts',
      'src/build.ts',
      'tools/build',
    ]);
    assert.deepEqual(custom.skipped, { '.git': 'default-excluded', __pycache__: 'default-excluded', dist: 'default-excluded', 'packages/sub/.git': 'default-excluded' });
  });
});

void describe('discovery: secrets', () => {
  void it('never indexes secret-bearing files, whatever ignore files and include globs say', async () => {
    const root = tempRoot();
    const secrets = [
      '.env',
      '.env.local',
      '.env.production',
      'config/prod.env',
      '.envrc',
      'certs/server.pem',
      'server.key',
      'a.p12',
      'a.pfx',
      'AuthKey_ABC.p8',
      'a.jks',
      'release.keystore',
      'putty.ppk',
      'id_rsa',
      'id_rsa.pub',
      'upper/ID_RSA',
      'id_dsa',
      'id_ecdsa',
      'keys/id_ed25519',
      '.npmrc',
      '.pypirc',
      '.netrc',
      '.pgpass',
      'web/.htpasswd',
      '.git-credentials',
      'credentials',
      'credentials.json',
      'gcp-credentials-prod.json',
      'service-account-prod.json',
      'client_secret_123.json',
      '.docker/config.json',
      'config/secrets.yml',
      'config/secrets.yaml',
      'config/secrets.json',
      'infra/terraform.tfstate',
      'infra/terraform.tfstate.backup',
      'infra/prod.tfvars',
      'vault.kdbx',
      'src/a.secret.ts', // extraSecretPatterns
    ];
    const allowed = [
      '.env.example',
      '.env.sample',
      '.env.template',
      '.env.local.example',
      'src/credentials/index.ts', // a folder called credentials is not a secret, a file is
      'src/keyboard.ts',
      'src/secrets.ts',
      'docs/env.md',
      'environment.ts',
      'test/fixtures/cert.pem', // allowed by a negated extraSecretPatterns rule
      '.gitignore',
    ];
    const files: Record<string, string> = {};
    for (const p of [...secrets, ...allowed]) files[p] = 'SECRET=hunter2\n';
    files['.gitignore'] = '!.env\n!*.pem\n';
    files['.ssh/config'] = 'Host x\n';
    files['.ssh/id_rsa'] = 'KEY\n';
    files['.gnupg/pubring.kbx'] = 'x\n';
    files['home/.aws/credentials'] = '[default]\n';
    writeTree(root, files);
    const o = await run(root, { include: ['**', '.env'], extraSecretPatterns: ['*.secret.ts', '!test/fixtures/*.pem'] });
    assert.deepEqual(o.files, [...allowed].sort());
    const expected: Record<string, string> = { '.ssh': 'secret', '.gnupg': 'secret', 'home/.aws': 'secret' };
    for (const p of secrets) expected[p] = 'secret';
    assert.deepEqual(o.skipped, expected);
    // The default list is exported and documented.
    assert.ok(DEFAULT_SECRET_PATTERNS.includes('.env') && DEFAULT_SECRET_PATTERNS.includes('!.env.example'));
  });

  void it('skips secret files by family (env variants, secret-like names, secret folders, tool credentials) but indexes code named like them', async () => {
    const root = tempRoot();
    const secrets = [
      // `.env` as a dotted, dashed or underscored part of the name; `.envs/` folders
      '.env-local',
      '.env_production',
      'config.env.local',
      'deploy/app.env.bak',
      'web/.ENV.Staging',
      // secret-like names with config/data extensions or none
      'credentials.toml',
      '.cargo/credentials.toml',
      'token.json',
      'deploy/github_token',
      'auth/refresh-token.txt',
      'secret.yml',
      'config/secrets.ini',
      'app/db_password.txt',
      'ops/passwords.csv',
      'htpasswd',
      '.passwd-s3fs',
      'api_key.cfg',
      'ops/apikey',
      'aws/access_keys.properties',
      'keys/private-key.json',
      'app.secret',
      '.smbcredentials',
      'ansible/.vault_pass',
      // every non-code file under a secret folder
      'k8s/secrets/db.yaml',
      'deploy/.secrets/prod.conf',
      'ci/credentials/registry.json',
      // tool credentials
      '.my.cnf',
      'pgpass.conf',
      'rclone.conf',
      '.config/rclone/rclone.conf',
      '_netrc',
      '.dockercfg',
      'kubeconfig.yaml',
      'clusters/prod.kubeconfig',
      'home/.boto',
      '.s3cfg',
      '.vault-token',
      'composer/auth.json',
      'firebase-adminsdk-abc12.json',
      'keys/deploy_rsa',
      'etc/ssh_host_ed25519_key',
      'signing/release.jceks',
      'krb5.keytab',
      'infra/prod.tfvars.json',
      'passwords.kdb',
    ];
    const dirs = ['.envs', 'home/.aws'];
    const allowed = [
      // code and docs named like secrets are indexed (their content is redacted instead)
      'src/tokenizer.ts',
      'src/token.py',
      'src/tokens.test.ts',
      'src/auth/passwordReset.tsx',
      'src/secrets/manager.go',
      'lib/credentials_provider.rb',
      'web/password-reset.html',
      'db/migrations/001_create_tokens.sql',
      'docs/secrets.md',
      'scripts/rotate_token.sh',
      'src/environment.ts',
      'src/env.ts',
      // model tokenizers, templates
      'models/tiny/tokenizer.json',
      'models/tiny/tokenizer_config.json',
      'models/tiny/special_tokens_map.json',
      '.env.dist',
      'config/secrets.yml.example',
      'app.env.sample',
      // unrelated names
      'src/keyboard.ts',
      'docs/environment.md',
      'config/settings.yml',
      'envoy.yaml',
    ];
    const files: Record<string, string> = {};
    for (const p of [...secrets, ...allowed]) files[p] = 'SECRET=hunter2\n';
    files['.envs/.production/.django'] = 'DJANGO_SECRET_KEY=x\n';
    files['home/.aws/config'] = '[default]\nregion = x\n';
    writeTree(root, files);
    const o = await run(root);
    assert.deepEqual(o.files, [...allowed].sort());
    const expected: Record<string, string> = {};
    for (const p of [...secrets, ...dirs]) expected[p] = 'secret';
    assert.deepEqual(o.skipped, expected);
  });

  void it('decides secrets before opening anything (a FIFO named .env does not block)', async (t) => {
    if (isWindows) {
      t.skip('no FIFOs on Windows');
      return;
    }
    const root = tempRoot();
    writeTree(root, { 'a.ts': 'x\n' });
    execFileSync('mkfifo', [path.join(root, '.env')]);
    writeFileSync(path.join(root, 'huge.pem'), Buffer.alloc(2_000_000, 0));
    const o = await run(root);
    assert.deepEqual(o.files, ['a.ts']);
    assert.deepEqual(o.skipped, { '.env': 'secret', 'huge.pem': 'secret' });
  });
});

void describe('discovery: content', () => {
  void it('detects binary files by extension (unread) and by content; invalid UTF-8 is text', async () => {
    const root = tempRoot();
    const utf16 = Buffer.from('hello\nworld\n', 'utf16le');
    const utf16be = Buffer.from(utf16).swap16();
    writeTree(root, {
      'nul.txt': Buffer.concat([Buffer.from('looks like text\n'), Buffer.from([0]), Buffer.from('more\n')]),
      'control.txt': Buffer.concat([Buffer.from('a'.repeat(80)), Buffer.alloc(20, 1)]),
      'utf16le.txt': Buffer.concat([Buffer.from([0xff, 0xfe]), utf16]),
      'utf16be.txt': Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be]),
      'utf16-nobom.txt': utf16,
      'utf32.txt': Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), Buffer.from('h\0\0\0')]),
      'img.png': 'not really a png, never read\n',
      'UPPER.PNG': 'x\n',
      'archive.tar.gz': 'x\n',
      'lib.so': 'x\n',
      'model.onnx': 'x\n',
      'font.woff2': 'x\n',
      'latin1.txt': Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0xff, 0xfe, 0x41, 0x0a]), // invalid UTF-8, not a BOM (offset 5)
      'truncated-utf8.ts': Buffer.concat([Buffer.from('const s = "'), Buffer.from([0xe2, 0x82]), Buffer.from('";\n')]),
      'bom-utf8.ts': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('export const a = 1;\n')]),
      'colors.log': '\x1b[31mred\x1b[0m\tline\r\n'.repeat(50),
      'empty.ts': '',
    });
    const o = await run(root);
    assert.deepEqual(o.files, ['bom-utf8.ts', 'colors.log', 'empty.ts', 'latin1.txt', 'truncated-utf8.ts']);
    assert.deepEqual(o.skipped, {
      'UPPER.PNG': 'binary',
      'archive.tar.gz': 'binary',
      'control.txt': 'binary',
      'font.woff2': 'binary',
      'img.png': 'binary',
      'lib.so': 'binary',
      'model.onnx': 'binary',
      'nul.txt': 'binary',
      'utf16-nobom.txt': 'binary',
      'utf16be.txt': 'binary',
      'utf16le.txt': 'binary',
      'utf32.txt': 'binary',
    });
    assert.equal(o.detail['img.png'], 'extension .png');
    assert.equal(o.detail['nul.txt'], 'NUL byte at offset 16');
    assert.equal(o.detail['control.txt'], '20 control bytes in the first 100');
    assert.equal(o.detail['utf16le.txt'], 'utf-16 (byte-order mark)');
    assert.equal(o.detail['utf16be.txt'], 'utf-16 (byte-order mark)');
    assert.equal(o.detail['utf32.txt'], 'utf-32 (byte-order mark)');
    assert.equal(o.detail['utf16-nobom.txt'], 'NUL byte at offset 1');
  });

  void it('skips files over maxFileBytes from stat alone (default 1 MiB; exactly the limit is fine)', async () => {
    const root = tempRoot();
    writeTree(root, {
      'small/exact.ts': 'a'.repeat(99) + '\n',
      'small/big.ts': 'a'.repeat(100) + '\n',
      'small/big-binary.dat': Buffer.alloc(500, 0), // too large wins: content never read
      'onemeg.ts': lines(8192, 127), // 8192 lines × 128 bytes = 1 MiB exactly
      'huge.txt': `${lines(8192, 127)}x`,
    });
    const small = await run(path.join(root, 'small'), { maxFileBytes: 100 });
    assert.deepEqual(small.files, ['exact.ts']);
    assert.deepEqual(small.skipped, { 'big-binary.dat': 'too-large', 'big.ts': 'too-large' });
    assert.equal(small.detail['big.ts'], '101 bytes (limit 100)');

    const o = await run(root);
    assert.deepEqual(o.files, ['onemeg.ts', 'small/big.ts', 'small/exact.ts']);
    assert.deepEqual(o.skipped, { 'huge.txt': 'too-large', 'small/big-binary.dat': 'binary' });
    assert.equal(o.detail['huge.txt'], '1048577 bytes (limit 1048576)');
    const onemeg = o.result.files.find((f) => f.path === 'onemeg.ts')!;
    assert.equal(onemeg.size, 1_048_576);
    assert.equal(onemeg.absPath, path.join(root, 'onemeg.ts'));
    assert.ok(onemeg.mtimeMs > 0);
  });

  void it('skips minified content, minified names and lockfiles; prose gets a longer line limit', async () => {
    const root = tempRoot();
    const bundle = `var a=${'1+'.repeat(750)}1;`;
    writeTree(root, {
      'bundle.js': `${bundle}\n`,
      'wide.ts': lines(10, 400), // 4 KB, lines of 400 < 1000 but average > 300
      'small-wide.ts': lines(4, 400), // < 2 KB: the average rule does not apply
      'late-long-line.ts': lines(700, 100) + 'y'.repeat(5000) + '\n', // long line after the first 64 KiB
      'app.min.js': 'x\n',
      'style.min.css': 'x\n',
      'app.js.map': '{}\n',
      'package-lock.json': '{}\n',
      'yarn.lock': 'x\n',
      'pnpm-lock.yaml': 'x\n',
      'Cargo.lock': 'x\n',
      'go.sum': 'x\n',
      'README.md': `# Title\n\n${'A long paragraph written on one line. '.repeat(60)}\n`,
      'wide.md': lines(10, 400),
      'notes.md': `${'z'.repeat(12_000)}\n`,
      'crlf.ts': 'const a = 1;\r\n'.repeat(10),
      'main.ts': 'export {};\n',
    });
    const o = await run(root);
    assert.deepEqual(o.files, ['README.md', 'crlf.ts', 'late-long-line.ts', 'main.ts', 'small-wide.ts', 'wide.md']);
    assert.deepEqual(o.skipped, {
      'Cargo.lock': 'generated',
      'app.js.map': 'minified',
      'app.min.js': 'minified',
      'bundle.js': 'minified',
      'go.sum': 'generated',
      'notes.md': 'minified',
      'package-lock.json': 'generated',
      'pnpm-lock.yaml': 'generated',
      'style.min.css': 'minified',
      'wide.ts': 'minified',
      'yarn.lock': 'generated',
    });
    assert.equal(o.detail['bundle.js'], `a line of at least ${bundle.length} characters (limit 1000)`);
    assert.equal(o.detail['wide.ts'], 'average line length 400 (limit 300)');
    assert.equal(o.detail['app.min.js'], 'minified file name');

    const strict = await run(root, { maxLineLength: 20, include: ['main.ts', 'crlf.ts', 'late-long-line.ts'] });
    assert.deepEqual(strict.files, ['crlf.ts', 'main.ts']); // CRLF does not count towards the length
    assert.equal(strict.skipped['late-long-line.ts'], 'minified');
  });

  void it('skips content sniffing for files the caller already knows (isKnownFile)', async () => {
    const root = tempRoot();
    writeTree(root, { 'known.txt': Buffer.from([0x61, 0, 0x62]), 'other.txt': Buffer.from([0x61, 0, 0x62]) });
    const o = await run(root, { isKnownFile: (f) => f.path === 'known.txt' && f.size === 3 });
    assert.deepEqual(o.files, ['known.txt']);
    assert.deepEqual(o.skipped, { 'other.txt': 'binary' });
  });
});

void describe('discovery: symlinks, special files, errors', { skip: isWindows ? 'symlinks need privileges on Windows' : false }, () => {
  void it('never follows symlinks: loops, outside targets, inside targets and dangling links are reported', async () => {
    const dir = tempRoot();
    const root = path.join(dir, 'root');
    writeTree(dir, {
      'outside/secret.txt': 'outside\n',
      'root/src/real.ts': 'x\n',
      'root/sub/file.ts': 'x\n',
      'root/.gitignore': 'ignored-link\n',
    });
    const link = (target: string, at: string) => symlinkSync(target, path.join(root, at));
    link('.', 'loop');
    link('..', 'sub/up');
    link('chain2', 'chain1');
    link('chain1', 'chain2');
    link(path.join(dir, 'outside', 'secret.txt'), 'outside-file');
    link(path.join(dir, 'outside'), 'outside-dir');
    link('../outside', 'node_modules'); // a default-excluded name wins over the symlink verdict
    link('src/real.ts', 'alias.ts');
    link('src', 'src-link');
    link('missing.ts', 'dangling.ts');
    link('src/real.ts', 'ignored-link');
    link('src/real.ts', '.env');

    const o = await run(root);
    assert.deepEqual(o.files, ['.gitignore', 'src/real.ts', 'sub/file.ts']);
    assert.deepEqual(o.skipped, {
      '.env': 'secret',
      'alias.ts': 'not-a-file',
      chain1: 'symlink-loop',
      chain2: 'symlink-loop',
      'dangling.ts': 'unreadable',
      'ignored-link': 'ignored',
      loop: 'symlink-loop',
      node_modules: 'default-excluded',
      'outside-dir': 'symlink-outside',
      'outside-file': 'symlink-outside',
      'src-link': 'not-a-file',
      'sub/up': 'symlink-loop',
    });
    assert.match(o.detail['dangling.ts']!, /^ENOENT/);
    assert.match(o.detail['alias.ts']!, /symlink to src\/real\.ts/);

    // A root given through a symlink: paths stay relative, absPath keeps the given spelling.
    const viaLink = path.join(dir, 'root-link');
    symlinkSync(root, viaLink);
    const o2 = await run(viaLink);
    assert.deepEqual(o2.files, o.files);
    assert.deepEqual(o2.skipped, o.skipped);
    assert.equal(o2.result.files[1]!.absPath, path.join(viaLink, 'src', 'real.ts'));
  });

  void it('reports FIFOs as not-a-file without blocking', async () => {
    const root = tempRoot();
    writeTree(root, { 'a.ts': 'x\n' });
    execFileSync('mkfifo', [path.join(root, 'pipe')]);
    const o = await run(root);
    assert.deepEqual(o.files, ['a.ts']);
    assert.deepEqual(o.skipped, { pipe: 'not-a-file' });
    assert.equal(o.detail['pipe'], 'fifo');
  });

  void it('reports unreadable files and directories with their error code (EACCES), also when run as root', async () => {
    const root = tempRoot();
    writeTree(root, { 'a.ts': 'x\n', 'locked.ts': 'x\n', 'locked-dir/b.ts': 'x\n' });
    chmodSync(path.join(root, 'locked.ts'), 0o000);
    chmodSync(path.join(root, 'locked-dir'), 0o000);
    let outcome: Outcome;
    if (!isRoot) {
      outcome = await run(root);
    } else {
      // root reads through chmod 000: run discovery as an unprivileged user in a child process.
      chmodSync(root, 0o755); // mkdtemp makes it 0700
      const code = `
        const { discover } = require(${JSON.stringify(path.join(REPO_ROOT, 'src', 'core', 'discovery'))});
        discover(${JSON.stringify(root)}).then((r) => process.stdout.write(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });`;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { uid: 65534, gid: 65534, cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
      assert.equal(child.status, 0, `unprivileged child failed: ${child.error ?? ''} ${child.stderr}`);
      outcome = summarize(JSON.parse(child.stdout) as DiscoveryResult);
    }
    assert.deepEqual(outcome.files, ['a.ts']);
    assert.deepEqual(outcome.skipped, { 'locked-dir': 'unreadable', 'locked.ts': 'unreadable' });
    assert.equal(outcome.detail['locked.ts'], 'EACCES');
    assert.equal(outcome.detail['locked-dir'], 'EACCES');
  });

  void it('reports files and directories deleted during the walk as unreadable (ENOENT)', async () => {
    const root = tempRoot();
    writeTree(root, { 'a.ts': 'x\n', 'b.ts': 'x\n', 'c-dir/x.ts': 'x\n', 'd.ts': 'x\n' });
    const events: DiscoveryEvent[] = [];
    for await (const event of discoverFiles(root, {}, undefined, { concurrency: 1 })) {
      events.push(event);
      if (event.type === 'file' && event.file.path === 'a.ts') {
        rmSync(path.join(root, 'b.ts'));
        rmSync(path.join(root, 'c-dir'), { recursive: true });
      }
    }
    const summary = events.map((e) => (e.type === 'file' ? `file:${e.file.path}` : `skip:${e.skip.path}:${e.skip.reason}:${e.skip.detail}`));
    assert.deepEqual(summary, ['file:a.ts', 'skip:b.ts:unreadable:ENOENT', 'skip:c-dir:unreadable:ENOENT', 'file:d.ts']);
  });
});

void describe('discovery: order, cancellation, bad input', () => {
  void it('walks depth-first in name order, identically with any concurrency', async () => {
    const root = tempRoot();
    writeTree(root, { 'b.ts': 'x\n', 'a/z.ts': 'x\n', 'a.ts': 'x\n', 'Z.ts': 'x\n', 'a/b/c.ts': 'x\n', 'c.png': 'x\n', '_.ts': 'x\n' });
    const seq = async (concurrency: number) => {
      const out: string[] = [];
      for await (const e of discoverFiles(root, {}, undefined, { concurrency })) out.push(e.type === 'file' ? e.file.path : `skip:${e.skip.path}`);
      return out;
    };
    const expected = ['Z.ts', '_.ts', 'a/b/c.ts', 'a/z.ts', 'a.ts', 'b.ts', 'skip:c.png'];
    assert.deepEqual(await seq(1), expected);
    assert.deepEqual(await seq(16), expected);
    // discover() returns both lists sorted by path
    const r = await discover(root);
    assert.deepEqual(r.files.map((f) => f.path), ['Z.ts', '_.ts', 'a.ts', 'a/b/c.ts', 'a/z.ts', 'b.ts']);
  });

  void it('stops promptly with an AbortError', async () => {
    const root = tempRoot();
    const files: Record<string, string> = {};
    for (let i = 0; i < 50; i++) files[`d${i % 5}/f${i}.ts`] = 'x\n';
    writeTree(root, files);

    const pre = new AbortController();
    pre.abort();
    await assert.rejects(discover(root, {}, pre.signal), (err: unknown) => isAbortError(err) && (err as Error).name === 'AbortError');

    const ac = new AbortController();
    const gen = discoverFiles(root, {}, ac.signal);
    const first = await gen.next();
    assert.equal(first.done, false);
    ac.abort();
    await assert.rejects(gen.next(), (err: unknown) => isAbortError(err));

    const ac2 = new AbortController();
    let seen = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of discoverFiles(root, {}, ac2.signal)) if (++seen === 3) ac2.abort();
      })(),
      (err: unknown) => isAbortError(err),
    );
    assert.equal(seen, 3);
  });

  void it('rejects a root that is not a readable folder', async () => {
    const root = tempRoot();
    writeTree(root, { 'file.ts': 'x\n' });
    await assert.rejects(discover(path.join(root, 'file.ts')), (err: unknown) => err instanceof SiftError && err.code === 'bad-input');
    await assert.rejects(discover(path.join(root, 'missing')), (err: unknown) => err instanceof SiftError && err.code === 'bad-input');
  });
});

void describe('DiscoveryMatcher (for file watchers)', () => {
  void it('checks single paths including their ancestors, and reloads ignore files on invalidate()', async () => {
    const root = tempRoot();
    writeTree(root, {
      '.gitignore': 'gen/\n*.log\n',
      'src/.gitignore': '!debug.log\n',
      'src/a.ts': 'x\n',
      'src/debug.log': 'x\n',
      'src/nul.ts': Buffer.from([0x61, 0, 0x62]),
      'gen/keep.ts': 'x\n',
      'node_modules/x/y.js': 'x\n',
    });
    const m = await DiscoveryMatcher.create(root, { exclude: ['*.test.ts'] });
    assert.deepEqual(m.check('src/a.ts'), { ok: true });
    assert.deepEqual(m.check('src/debug.log'), { ok: true });
    assert.deepEqual(m.check('other.log'), { ok: false, reason: 'ignored', path: 'other.log', detail: '.gitignore' });
    assert.deepEqual(m.check('gen/keep.ts'), { ok: false, reason: 'ignored', path: 'gen', detail: '.gitignore' });
    assert.deepEqual(m.check('node_modules/x/y.js'), { ok: false, reason: 'default-excluded', path: 'node_modules' });
    assert.deepEqual(m.check('deep/.env'), { ok: false, reason: 'secret', path: 'deep/.env' });
    assert.deepEqual(m.check('src/a.test.ts'), { ok: false, reason: 'excluded', path: 'src/a.test.ts', detail: 'exclude globs' });
    assert.deepEqual(m.check(path.join(root, 'src', 'a.ts')), { ok: true }, 'absolute paths inside the root are accepted');
    assert.equal(m.check('../elsewhere.ts').ok, false);
    assert.deepEqual(m.check('..dots.ts'), { ok: true }, 'a name starting with two dots is inside the root');
    assert.deepEqual(m.check('gen', { isDirectory: true }), { ok: false, reason: 'ignored', path: 'gen', detail: '.gitignore' });

    // Full verdicts, content included.
    const nul = await m.inspect('src/nul.ts');
    assert.deepEqual(nul, { type: 'skip', skip: { path: 'src/nul.ts', reason: 'binary', detail: 'NUL byte at offset 1' } });
    const a = await m.inspect('src/a.ts');
    assert.equal(a.type === 'file' && a.file.path, 'src/a.ts');
    assert.deepEqual(await m.inspect('src/gone.ts'), { type: 'skip', skip: { path: 'src/gone.ts', reason: 'unreadable', detail: 'ENOENT' } });
    assert.deepEqual(await m.inspect('gen/keep.ts'), { type: 'skip', skip: { path: 'gen', reason: 'ignored', detail: '.gitignore' } });

    // A rule file changes: cached until invalidated.
    assert.equal(m.isRuleFile('src/.gitignore'), true);
    assert.equal(m.isRuleFile('src/a.ts'), false);
    writeFileSync(path.join(root, 'src', '.gitignore'), '!debug.log\na.ts\n');
    assert.deepEqual(m.check('src/a.ts'), { ok: true });
    assert.equal(m.invalidate('src/a.ts'), false);
    assert.equal(m.invalidate('src/.gitignore'), true);
    assert.deepEqual(m.check('src/a.ts'), { ok: false, reason: 'ignored', path: 'src/a.ts', detail: 'src/.gitignore' });
    writeFileSync(path.join(root, '.siftignore'), 'src/\n');
    assert.equal(m.invalidate(), true);
    assert.deepEqual(m.check('src/debug.log'), { ok: false, reason: 'ignored', path: 'src', detail: '.siftignore' });
  });

  void it('inspect() does not look through symlinked directories', { skip: isWindows ? 'symlinks need privileges on Windows' : false }, async () => {
    const root = tempRoot();
    writeTree(root, { 'src/a.ts': 'x\n' });
    symlinkSync('src', path.join(root, 'link'));
    const m = await DiscoveryMatcher.create(root);
    const ev = await m.inspect('link/a.ts');
    assert.equal(ev.type === 'skip' && `${ev.skip.path}:${ev.skip.reason}`, 'link:not-a-file');
  });
});
