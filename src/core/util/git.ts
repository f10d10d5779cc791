import { execFile, spawn } from 'node:child_process';
import { SiftError } from './errors';

/**
 * Every git command Sift runs goes through this module. The repository is untrusted input: its
 * `.git/config` (and whatever that config includes), `.git/info/attributes`, `.gitattributes`
 * and hooks can all name programs that git would run — clean/smudge/process filters (git-lfs
 * style), external diff and merge drivers, textconv, `core.fsmonitor`, hooks (post-checkout,
 * reference-transaction, …), `core.pager`/`pager.*`, `gpg.program` (signature display),
 * `core.sshCommand`/`core.gitProxy`/`ext::` remotes reached by a lazy (promisor) fetch,
 * credential helpers, `core.askPass`. Command-line `-c` cannot switch all of them off (a repository
 * can always name a new filter or driver), so the defence is what git is asked to do:
 *
 * 1. Only plumbing that never checks out, never refreshes an index and never runs drivers:
 *    `rev-list`, `diff-tree` (with `--no-ext-diff --no-textconv`), `ls-tree`, `cat-file --batch`
 *    (without `--filters`/`--textconv`), `rev-parse`. Anything else is refused here. Files of a
 *    commit are read as blobs and written by Sift itself (see eval/gitHistory.ts), never by
 *    `git checkout`/`worktree add`.
 * 2. `-c` overrides (command-line config wins over every file, includes too) for what the allowed
 *    commands could still reach: hooks, fsmonitor, external diff, pager, signature display, auto gc.
 * 3. A clean environment: the caller's `GIT_*` variables are dropped (GIT_DIR, GIT_EXTERNAL_DIFF,
 *    GIT_SSH_COMMAND, GIT_CONFIG_PARAMETERS, GIT_EXEC_PATH, …); no system config (as before);
 *    `GIT_ALLOW_PROTOCOL=` (empty) makes git refuse every transport, whatever `protocol.*.allow`
 *    the repository sets, so a lazy fetch of a missing object cannot reach `ext::`, ssh or a proxy
 *    command; pathspecs are literal (a file named `*` or `:(exclude)x` is just a name).
 *
 * The user's global config is still read: it is the user's own (and where `safe.directory` lives).
 */
const ALLOWED = new Set(['rev-list', 'diff-tree', 'ls-tree', 'cat-file', 'rev-parse']);

export const GIT_HARDENING: readonly string[] = [
  '--no-pager',
  '--literal-pathspecs',
  ...['core.hooksPath=/dev/null', 'core.fsmonitor=false', 'core.untrackedCache=false', 'diff.external=', 'core.pager=cat', 'log.showSignature=false', 'gc.auto=0', 'maintenance.auto=false', 'protocol.allow=never', 'credential.helper=', 'core.sshCommand=', 'core.gitProxy=', 'core.askPass=', 'submodule.recurse=false', 'fetch.recurseSubmodules=false'].flatMap((kv) => ['-c', kv]),
];

/** The environment git runs with: the caller's minus every `GIT_*` variable, plus the hardening above. */
export function gitEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!/^GIT_/i.test(k) && k !== 'SSH_ASKPASS' && k !== 'PAGER') env[k] = v;
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ALLOW_PROTOCOL: '',
    GIT_LITERAL_PATHSPECS: '1',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
  };
}

function argv(repo: string, args: readonly string[]): string[] {
  const command = args[0];
  if (!command || !ALLOWED.has(command)) throw new Error(`git ${command ?? ''} is not allowed: only plumbing that runs no filters, hooks or drivers (${[...ALLOWED].join(', ')})`);
  if (command === 'cat-file' && args.some((a) => a === '--filters' || a === '--textconv' || a.startsWith('--path'))) throw new Error('git cat-file: no filters or textconv');
  const rest = command === 'diff-tree' ? ['--no-ext-diff', '--no-textconv', ...args.slice(1)] : args.slice(1);
  return [...GIT_HARDENING, '-C', repo, command, ...rest];
}

function failure(repo: string, command: string | undefined, err: unknown): SiftError {
  const e = err as Error & { stderr?: string; code?: string | number };
  const detail = (e.stderr?.trim() || e.message).split('\n').find((l) => l.trim()) ?? '';
  if (e.code === 'ENOENT') return new SiftError('git is not installed (or not on PATH): it is needed to read the repository history.', 'general', { cause: err });
  const hint = /dubious ownership/.test(detail)
    ? ' (the repository belongs to another user; git refuses it unless it is listed in safe.directory in your global git config)'
    : /transport '.*' not allowed|promisor|lazy fetch/i.test(detail)
      ? ' (objects are missing from this partial clone and Sift never fetches: fetch them with git first, or use a full clone)'
      : '';
  return new SiftError(`git ${command} failed in ${repo}: ${detail.replace(/^fatal:\s*/, '')}${hint}`, 'general', { cause: err });
}

/** Runs an allowed plumbing command in `repo` and returns its stdout (UTF-8). */
export async function git(repo: string, args: readonly string[], opts: { input?: string } = {}): Promise<string> {
  const full = argv(repo, args);
  return new Promise((resolve, reject) => {
    const child = execFile('git', full, { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8', env: gitEnv() }, (err, stdout, stderr) => {
      if (err) reject(failure(repo, args[0], Object.assign(err, { stderr })));
      else resolve(stdout);
    });
    child.stdin?.on('error', () => undefined); // git may exit before reading all input; the exit code tells
    child.stdin?.end(opts.input ?? '');
  });
}

export interface TreeEntry {
  /** Octal mode as git prints it: 100644, 100755, 120000 (symlink), 160000 (gitlink). */
  mode: string;
  type: string;
  oid: string;
  /** Path from the repository's top, '/'-separated, as stored (not quoted). */
  path: string;
}

/** Every entry of a commit's tree, recursively (`ls-tree -r -z --full-tree`). */
export async function listTree(repo: string, commit: string): Promise<TreeEntry[]> {
  const out = await git(repo, ['ls-tree', '-r', '-z', '--full-tree', '--end-of-options', commit]);
  const entries: TreeEntry[] = [];
  for (const record of out.split('\0')) {
    if (!record) continue;
    const tab = record.indexOf('\t');
    const [mode, type, oid] = record.slice(0, tab).split(' ') as [string, string, string];
    entries.push({ mode, type, oid, path: record.slice(tab + 1) });
  }
  return entries;
}

/**
 * Reads objects with one `git cat-file --batch` (raw contents: no filters, no textconv) and hands
 * each to `onObject` in order (`undefined` when missing). The next object is not read from git
 * until `onObject` has finished, so memory holds one object at a time.
 */
export async function readObjects(repo: string, oids: readonly string[], onObject: (index: number, data: Buffer | undefined) => Promise<void>): Promise<void> {
  if (!oids.length) return;
  const child = spawn('git', argv(repo, ['cat-file', '--batch']), { env: gitEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  exited.catch(() => undefined);
  child.stdin.on('error', () => undefined);
  child.stdin.end(oids.map((o) => `${o}\n`).join(''));

  const chunks: Buffer[] = [];
  let buffered = 0;
  const take = (n: number): Buffer => {
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    chunks.length = 0;
    const head = all.subarray(0, n);
    if (all.length > n) chunks.push(all.subarray(n));
    buffered = all.length - n;
    return head;
  };
  const newline = (): number => {
    let offset = 0;
    for (const c of chunks) {
      const i = c.indexOf(10);
      if (i >= 0) return offset + i;
      offset += c.length;
    }
    return -1;
  };
  let index = 0;
  let want: { size: number } | undefined;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      buffered += chunk.length;
      for (;;) {
        if (!want) {
          const nl = newline();
          if (nl < 0) break;
          const header = take(nl + 1).toString('utf8').trim();
          if (/ missing$/.test(header)) {
            await onObject(index++, undefined);
            continue;
          }
          const size = Number(header.split(' ')[2]);
          if (!Number.isSafeInteger(size) || size < 0) throw new Error(`unexpected cat-file output: ${header.slice(0, 100)}`);
          want = { size };
        }
        if (buffered < want.size + 1) break;
        const data = take(want.size + 1).subarray(0, want.size);
        want = undefined;
        await onObject(index++, data);
      }
    }
  } catch (err) {
    child.kill();
    throw err;
  }
  let code: number | null;
  try {
    code = await exited;
  } catch (err) {
    throw failure(repo, 'cat-file', err);
  }
  if (code !== 0 || index !== oids.length) throw failure(repo, 'cat-file', Object.assign(new Error(`exit code ${code}`), { stderr }));
}
