import type { Client } from 'pg';
import { type NamedStore, type RetrieveOptions, type RetrieveResult, retrieve } from '../search/retriever';
import type { IndexStore } from '../store/store';
import { SiftError } from '../util/errors';
import { git } from '../util/git';
import { type Overlay, overlayOf, retrieveWithTeam } from './overlay';
import { type TeamCommitInfo, TeamReader } from './reader';
import { connect, storeError } from './schema';

/** How far back in HEAD's history the team index is looked up (nearest indexed commit first). */
export const TEAM_HISTORY_DEPTH = 200;

/** The repository's key in the team index: its root commit, the same in every clone (CI's and each developer's). */
export async function repoKey(root: string): Promise<string> {
  // A shallow clone's "root" is its cut-off commit, different in every clone: refuse it.
  if ((await git(root, ['rev-parse', '--is-shallow-repository'])).trim() === 'true')
    throw new SiftError(`${root} is a shallow clone: the team index is keyed by the repository's first commit. Clone with full history (actions/checkout: fetch-depth: 0).`);
  const roots = (await git(root, ['rev-list', '--max-parents=0', 'HEAD'])).split('\n').filter(Boolean).sort();
  if (!roots[0]) throw new SiftError(`${root} has no commits: the team index is keyed by the repository's history.`);
  return roots[0];
}

/**
 * One connection to the team index, opened at the nearest indexed commit of `root`'s HEAD
 * history (the commit the developer's branch shares with what CI indexed), with that commit's
 * file table. The CLI opens one per question; the editor keeps one while HEAD and the URL stay.
 */
export class TeamSession {
  /** Set when a query failed (a dropped connection, a restart): the session answers locally from then on. */
  private failure?: string;

  private constructor(
    private readonly client: Client,
    private readonly url: string,
    readonly reader: TeamReader,
    /** path → content hash of the team commit. */
    readonly files: Map<string, string>,
    /** HEAD when the session was opened (the editor reopens when it moves). */
    readonly head: string,
  ) {}

  get info(): TeamCommitInfo {
    return this.reader.info;
  }

  get broken(): string | undefined {
    return this.failure;
  }

  /** Connects and finds the commit; every failure is one clear SiftError (the password never appears). */
  static async open(url: string, root: string): Promise<TeamSession> {
    const key = await repoKey(root);
    const history = (await git(root, ['rev-list', `--max-count=${TEAM_HISTORY_DEPTH}`, 'HEAD'])).split('\n').filter(Boolean);
    const client = await connect(url);
    try {
      const reader = await TeamReader.open(client, key, history);
      return new TeamSession(client, url, reader, await reader.files(), history[0] ?? '');
    } catch (err) {
      await client.end().catch(() => undefined);
      throw storeError(url, err);
    }
  }

  /** The developer's changed, new and deleted files relative to the team commit (by content hash). */
  overlay(local: IndexStore): Overlay {
    return overlayOf(local.manifest.files, this.files);
  }

  /**
   * The first-stage retrieval for `ask`: the team commit minus the overlay, fused with the local
   * index's hits on the overlay. A failing query (connection dropped, server restarted) marks the
   * session broken and answers from the local index with a notice.
   */
  retrieval(local: IndexStore): TeamRetrieval {
    const overlay = this.overlay(local);
    return {
      overlay,
      retrieve: async (stores, query, opts) => {
        if (this.failure) return localWithNotice(this.failure, stores, query, opts);
        try {
          return await retrieveWithTeam(this.reader, local, overlay, query, opts ?? {});
        } catch (err) {
          if (opts?.signal?.aborted) throw err;
          this.failure = storeError(this.url, err).message;
          await this.close();
          return localWithNotice(this.failure, stores, query, opts);
        }
      },
    };
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

export interface TeamRetrieval {
  /** Set when the team index is used. */
  overlay?: Overlay;
  /** Why the team index is not used (the local index answers, and the answer says so). */
  problem?: string;
  /** Replaces `retrieve` in the ask context (AskContext.retrieve). */
  retrieve: typeof retrieve;
}

/** The notice an answer carries when the team index could not be used. */
export function localNotice(problem: string): string {
  return `${problem.replace(/\.?$/, '.')} Answering from the local index.`;
}

async function localWithNotice(problem: string, stores: IndexStore | NamedStore[], query: string, opts?: RetrieveOptions): Promise<RetrieveResult> {
  const r = await retrieve(stores, query, opts);
  return { ...r, notices: [...(r.notices ?? []), localNotice(problem)] };
}

/** The local index alone, with a notice saying why the team index is not used (it could not be opened). */
export function localRetrieval(problem: string): TeamRetrieval {
  return { problem, retrieve: (stores, query, opts) => localWithNotice(problem, stores, query, opts) };
}

/**
 * Opens the team index for `root` and returns the retrieval to ask with: team + overlay, or the
 * local index with a notice when the server is unreachable, refuses, or has another schema version.
 */
export async function openTeamRetrieval(url: string, root: string, local: IndexStore): Promise<{ session?: TeamSession; retrieval: TeamRetrieval }> {
  try {
    const session = await TeamSession.open(url, root);
    return { session, retrieval: session.retrieval(local) };
  } catch (err) {
    return { retrieval: localRetrieval(err instanceof SiftError ? err.message : storeError(url, err).message) };
  }
}
