/**
 * The team index in the editor (`sift.index.store`, docs/team-index.md): the URL comes from user
 * settings only (a machine-scoped setting, read through trust.ts), the password from SecretStorage,
 * bound to the server it was entered for. Questions in a single-folder workspace search the team
 * index at the nearest indexed commit of HEAD with the local overlay (core TeamSession, the same
 * code as `sift ask --store`); any failure answers from the local index with a notice.
 */
import type { IndexStore } from '../core/store/store';
import { redactUrl } from '../core/team/schema';
import { type TeamRetrieval, TeamSession, localRetrieval } from '../core/team/session';
import { errorMessage } from '../core/util/errors';
import { git } from '../core/util/git';
import type { Log, SecretStore } from './ports';
import type { SiftSettings } from './settingsSchema';

export const TEAM_PASSWORD_SECRET = 'sift.index.storePassword';

/** After a failed connection, questions answer locally without retrying for this long (a blackholed host costs the connect timeout). */
export const RETRY_AFTER_MS = 30_000;

/** What TeamIndex needs of a core TeamSession (a fake in unit tests). */
export interface TeamSessionLike {
  readonly head: string;
  readonly info: { commit: string };
  readonly broken: string | undefined;
  retrieval(local: IndexStore): TeamRetrieval;
  close(): Promise<void>;
}

export interface TeamIndexDeps {
  settings: () => Pick<SiftSettings, 'index.store'>;
  secrets: SecretStore;
  log: Log;
  /** Shows a warning once per distinct message (a button runs Set Team Index Password). */
  warn: (message: string) => void;
  open?: (url: string, root: string) => Promise<TeamSessionLike>;
  /** HEAD of the folder (the session reopens when it moves). */
  head?: (root: string) => Promise<string>;
  now?: () => number;
}

/** The setting checked: the server it names (`postgres://user@host:port/db`, no password), or why it cannot be used. */
export function storeTarget(raw: string): { url: string; server: string } | { problem: string } | undefined {
  const value = raw.trim();
  if (!value) return undefined;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return { problem: 'sift.index.store is not a URL: expected postgres://user@host:5432/database.' };
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') return { problem: `sift.index.store must be a postgres:// URL, not ${u.protocol}// (the team index is PostgreSQL with pgvector).` };
  if (u.password || /^[^/]*\/\/[^/@]*:[^/@]*@/.test(value))
    return { problem: 'sift.index.store contains a password: Sift does not use a password from a settings file (it is not secret there). Remove it from the URL and run "Sift: Set Team Index Password".' };
  if (!u.hostname) return { problem: 'sift.index.store names no host: expected postgres://user@host:5432/database.' };
  return { url: value, server: `${u.protocol}//${u.username ? `${u.username}@` : ''}${u.host}${u.pathname}` };
}

interface StoredPassword {
  password: string;
  server: string;
}

function parseStored(raw: string | undefined): StoredPassword | undefined {
  try {
    const v = raw ? (JSON.parse(raw) as Partial<StoredPassword>) : undefined;
    return typeof v?.password === 'string' && typeof v.server === 'string' ? { password: v.password, server: v.server } : undefined;
  } catch {
    return undefined;
  }
}

export class TeamIndex {
  private session?: { key: string; value: TeamSessionLike };
  private failed?: { key: string; at: number; problem: string };
  private readonly warned = new Set<string>();

  constructor(private readonly deps: TeamIndexDeps) {}

  /** True when `sift.index.store` is set (valid or not: an invalid one is reported in the answer). */
  get configured(): boolean {
    return Boolean(this.deps.settings()['index.store'].trim());
  }

  /** The server a password entered now would belong to, or why the setting cannot be used. */
  target(): { url: string; server: string } | { problem: string } | undefined {
    return storeTarget(this.deps.settings()['index.store']);
  }

  async setPassword(password: string | undefined): Promise<void> {
    const t = this.target();
    if (!password) {
      await this.deps.secrets.delete(TEAM_PASSWORD_SECRET);
      return;
    }
    if (!t || 'problem' in t) throw new Error(t ? t.problem : 'Set sift.index.store in your user settings first (postgres://user@host:5432/database).');
    await this.deps.secrets.store(TEAM_PASSWORD_SECRET, JSON.stringify({ password, server: t.server }));
    this.warned.clear();
    await this.reset();
  }

  /**
   * The retrieval for a question over `root` (one folder): the team index with the overlay, or the
   * local index with a notice. Undefined when no team index is configured.
   */
  async retrieval(root: string | undefined, local: IndexStore): Promise<TeamRetrieval | undefined> {
    const t = this.target();
    if (!t) return undefined;
    if ('problem' in t) return this.problem(t.problem);
    if (!root) return this.problem('The team index (sift.index.store) is used in a single-folder workspace; this window has several folders.');
    const url = await this.connectionUrl(t);
    const key = `${url}\u0000${root}`;
    const head = await (this.deps.head ?? gitHead)(root).catch(() => '');
    const now = (this.deps.now ?? Date.now)();
    const cached = this.session;
    if (cached && (cached.key !== key || cached.value.head !== head || cached.value.broken)) await this.reset();
    if (!this.session) {
      if (this.failed?.key === key && now - this.failed.at < RETRY_AFTER_MS) return localRetrieval(this.failed.problem);
      try {
        const value = await (this.deps.open ?? TeamSession.open)(url, root);
        this.session = { key, value };
        this.failed = undefined;
        this.deps.log.info(`Team index ${redactUrl(url)}: commit ${value.info.commit.slice(0, 12)} (nearest indexed commit of HEAD).`);
      } catch (err) {
        const problem = errorMessage(err);
        this.failed = { key, at: now, problem };
        this.deps.log.warn(`${problem} Answering from the local index.`);
        return localRetrieval(problem);
      }
    }
    return this.session.value.retrieval(local);
  }

  private problem(message: string): TeamRetrieval {
    if (!this.warned.has(message)) {
      this.warned.add(message);
      this.deps.log.warn(message);
      this.deps.warn(message);
    }
    return localRetrieval(message);
  }

  /** The URL with the stored password when it was stored for this server; a password for another server is never sent. */
  private async connectionUrl(t: { url: string; server: string }): Promise<string> {
    const stored = parseStored(await this.deps.secrets.get(TEAM_PASSWORD_SECRET));
    if (!stored) return t.url;
    if (stored.server !== t.server) {
      const message = `Sift did not send the team index password to ${t.server}: it was stored for ${stored.server}. Run "Sift: Set Team Index Password" to enter one for this server.`;
      if (!this.warned.has(message)) {
        this.warned.add(message);
        this.deps.log.warn(message);
        this.deps.warn(message);
      }
      return t.url;
    }
    const u = new URL(t.url);
    u.password = encodeURIComponent(stored.password);
    return u.toString();
  }

  async reset(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    this.failed = undefined;
    await s?.value.close();
  }

  dispose(): void {
    void this.reset();
  }
}

async function gitHead(root: string): Promise<string> {
  return (await git(root, ['rev-parse', 'HEAD'])).trim();
}
