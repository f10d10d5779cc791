import type { Client } from 'pg';
import type { Chunk, ChunkKind } from '../types';
import { SiftError } from '../util/errors';
import { checkDim, checkSchema } from './schema';

export interface TeamCommitInfo {
  repoId: number;
  commit: string;
  model: string | null;
  dim: number | null;
  /** Chunks of the commit (sift_commits.chunks). */
  chunks: number;
}

export interface TeamHit {
  chunk: Chunk;
  score: number;
}

interface ChunkRow {
  chunk_id: string;
  path: string;
  start_line: number;
  end_line: number;
  language: string;
  kind: string;
  symbols: string[];
  header: string;
  text: string;
  hash: string;
  score: number;
}

const COLUMNS = 'c.chunk_id, c.path, c.start_line, c.end_line, c.language, c.kind, c.symbols, c.header, c.text, c.hash';
/** Field weights {D text, C header, B path, A symbols}, as Sift's BM25 boosts (1, 1.5, 2, 3) scaled to ≤ 1. */
const WEIGHTS = '{0.333,0.5,0.667,1.0}';

const toHit = (r: ChunkRow): TeamHit => ({
  chunk: {
    id: r.chunk_id,
    path: r.path,
    startLine: r.start_line,
    endLine: r.end_line,
    language: r.language,
    kind: r.kind as ChunkKind,
    symbols: r.symbols,
    header: r.header,
    text: r.text,
    hash: r.hash,
  },
  score: Number(r.score),
});

/** Nearest neighbours fetched per wanted hit before the commit filter (chunks of other commits' file versions drop out). */
const DENSE_OVERFETCH = 4;

/**
 * The dense query: the HNSW index scan runs on `sift_chunks` alone (ORDER BY distance LIMIT, in a
 * materialised CTE) and only then are the hits joined with the commit's file table. Joining first
 * (one SELECT … JOIN sift_files … ORDER BY … LIMIT) let the planner pick a hash join and a full
 * sort — an exact scan of every vector on each question (found by bench P7: no faster than exact
 * at any size). Parameters: $1 repo id, $2 commit, $3 vector, $4 excluded paths, $5 depth, $6 over-fetch.
 */
export function denseSql(dim: number): string {
  const d = checkDim(dim);
  return `WITH nn AS MATERIALIZED (
      SELECT c.*, c.embedding::vector(${d}) <=> $3::vector(${d}) AS distance FROM sift_chunks c
       WHERE c.repo_id = $1 AND c.dim = ${d} AND NOT (c.path = ANY($4::text[]))
       ORDER BY c.embedding::vector(${d}) <=> $3::vector(${d}) LIMIT $6)
    SELECT ${COLUMNS}, 1 - c.distance AS score
      FROM nn c JOIN sift_files f ON f.repo_id = c.repo_id AND f.path = c.path AND f.hash = c.file_hash
     WHERE f.commit = $2
     ORDER BY c.distance, c.chunk_id LIMIT $5`;
}

/** Read access to one indexed commit of the team index. Every query is parameterised. */
export class TeamReader {
  private constructor(
    private readonly client: Client,
    readonly info: TeamCommitInfo,
  ) {}

  /**
   * Opens the first of `commits` (nearest first: HEAD, then its ancestors) that the team index
   * holds for the repository `repoKey`.
   */
  static async open(client: Client, repoKey: string, commits: readonly string[]): Promise<TeamReader> {
    await checkSchema(client);
    const repo = await client.query<{ id: number }>('SELECT id FROM sift_repos WHERE key = $1', [repoKey]);
    const repoId = repo.rows[0]?.id;
    if (repoId === undefined) throw new SiftError(`The team index holds no commit of this repository (key ${repoKey}): index it in CI with \`sift index --store\`.`);
    const found = await client.query<{ commit: string; model: string | null; dim: number | null; chunks: number }>(
      'SELECT commit, model, dim, chunks FROM sift_commits WHERE repo_id = $1 AND commit = ANY($2::text[])',
      [repoId, [...commits]],
    );
    const byCommit = new Map(found.rows.map((r) => [r.commit, r]));
    const hit = commits.map((c) => byCommit.get(c)).find(Boolean);
    if (!hit) throw new SiftError(`The team index holds none of the last ${commits.length} commits of this branch: index a recent commit in CI.`);
    return new TeamReader(client, { repoId, commit: hit.commit, model: hit.model, dim: hit.dim, chunks: Number(hit.chunks) });
  }

  /** path → content hash of every file in the commit. */
  async files(): Promise<Map<string, string>> {
    const r = await this.client.query<{ path: string; hash: string }>('SELECT path, hash FROM sift_files WHERE repo_id = $1 AND commit = $2', [this.info.repoId, this.info.commit]);
    return new Map(r.rows.map((row) => [row.path, row.hash]));
  }

  /**
   * Nearest chunks by cosine (HNSW), leaving out `exclude`d paths (the local overlay replaces them).
   * `tune` is for measurement (bench P7): another HNSW candidate list, or an exact scan without the index.
   */
  async dense(vector: Float32Array, exclude: readonly string[], depth: number, tune: { efSearch?: number; exact?: boolean } = {}): Promise<TeamHit[]> {
    if (!this.info.dim) return [];
    const d = checkDim(this.info.dim);
    if (vector.length !== d) return [];
    await this.client.query('BEGIN');
    try {
      // Per transaction: a wider candidate list, and iterative scans so the commit filter still fills `depth`.
      const ef = Math.min(1000, Math.max(1, Math.round(tune.efSearch ?? Math.max(100, depth * 2))));
      await this.client.query(`SET LOCAL hnsw.ef_search = ${ef}`);
      await this.client.query("SET LOCAL hnsw.iterative_scan = 'relaxed_order'").catch(() => undefined);
      if (tune.exact) for (const off of ['enable_indexscan', 'enable_bitmapscan', 'enable_indexonlyscan']) await this.client.query(`SET LOCAL ${off} = off`);
      const params = [this.info.repoId, this.info.commit, `[${Array.from(vector).join(',')}]`, [...exclude], depth, depth * DENSE_OVERFETCH];
      let r = await this.client.query<ChunkRow>(denseSql(d), params);
      // HNSW is approximate: a graph region it cannot leave (many identical vectors, other
      // repositories' chunks, dead rows) can return too few hits. Then this question scans exactly.
      if (!tune.exact && r.rows.length < Math.min(depth, this.info.chunks - exclude.length)) {
        for (const off of ['enable_indexscan', 'enable_bitmapscan', 'enable_indexonlyscan']) await this.client.query(`SET LOCAL ${off} = off`);
        r = await this.client.query<ChunkRow>(denseSql(d), params);
      }
      await this.client.query('COMMIT');
      return r.rows.map(toHit);
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Full-text search on Sift's code-aware tokens (any term matches; ranked with field weights). */
  async lexical(terms: readonly string[], exclude: readonly string[], depth: number): Promise<(TeamHit & { terms: string[] })[]> {
    const clean = [...new Set(terms.map((t) => t.replace(/[^\p{L}\p{N}_]/gu, '')).filter(Boolean))];
    if (!clean.length) return [];
    const r = await this.client.query<ChunkRow & { matched: string[] }>(
      `SELECT ${COLUMNS}, ts_rank($6::float4[], c.tsv, q) AS score,
              ARRAY(SELECT t FROM unnest($3::text[]) AS t WHERE c.tsv @@ to_tsquery('simple', quote_literal(t))) AS matched
         FROM sift_chunks c JOIN sift_files f ON f.repo_id = c.repo_id AND f.path = c.path AND f.hash = c.file_hash,
              to_tsquery('simple', array_to_string(ARRAY(SELECT quote_literal(t) FROM unnest($3::text[]) AS t), ' | ')) AS q
        WHERE c.repo_id = $1 AND f.commit = $2 AND c.tsv @@ q AND NOT (c.path = ANY($4::text[]))
        ORDER BY score DESC, c.chunk_id LIMIT $5`,
      [this.info.repoId, this.info.commit, clean, [...exclude], depth, WEIGHTS],
    );
    return r.rows.map((row) => ({ ...toHit(row), terms: row.matched }));
  }
}
