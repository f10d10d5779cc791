import { Client, type ClientConfig } from 'pg';
import { SiftError } from '../util/errors';

/**
 * The team index's schema, migrated by Sift itself. Each migration runs once, in order, in one
 * transaction with its row in `sift_migrations`; a reader checks the version at connect and says
 * which Sift to run when it is too old or too new. Append migrations; never edit a shipped one.
 */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE sift_repos (
  id serial PRIMARY KEY,
  key text NOT NULL UNIQUE
);
CREATE TABLE sift_commits (
  repo_id int NOT NULL REFERENCES sift_repos(id),
  commit text NOT NULL,
  model text,
  dim int,
  chunker text NOT NULL,
  files int NOT NULL,
  chunks int NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repo_id, commit)
);
-- One row per (commit, path): the file's content hash names its chunks, which commits share.
CREATE TABLE sift_files (
  repo_id int NOT NULL,
  commit text NOT NULL,
  path text NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (repo_id, commit, path),
  FOREIGN KEY (repo_id, commit) REFERENCES sift_commits(repo_id, commit) DEFERRABLE INITIALLY DEFERRED
);
-- Content-addressed: a chunk is written once per (path, file hash) and shared by every commit holding that file version.
CREATE TABLE sift_chunks (
  repo_id int NOT NULL,
  path text NOT NULL,
  file_hash text NOT NULL,
  chunk_id text NOT NULL,
  ordinal int NOT NULL,
  start_line int NOT NULL,
  end_line int NOT NULL,
  language text NOT NULL,
  kind text NOT NULL,
  symbols text[] NOT NULL,
  header text NOT NULL,
  text text NOT NULL,
  hash text NOT NULL,
  dim int,
  embedding vector,
  tsv tsvector NOT NULL,
  PRIMARY KEY (repo_id, path, file_hash, chunk_id)
);
CREATE INDEX sift_chunks_tsv ON sift_chunks USING gin (tsv);
CREATE INDEX sift_files_blob ON sift_files (repo_id, path, hash);
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Dimensions an HNSW index accepts for `vector` (pgvector limit 2000). */
export function checkDim(dim: number): number {
  if (!Number.isInteger(dim) || dim < 1 || dim > 2000) throw new SiftError(`The team index stores vectors of 1 to 2000 dimensions, not ${dim}.`);
  return dim;
}

/** SQL for the per-dimension HNSW index (a partial expression index: one table holds every model's vectors). */
export function hnswIndexSql(dim: number): string {
  const d = checkDim(dim);
  return `CREATE INDEX IF NOT EXISTS sift_chunks_hnsw_${d} ON sift_chunks USING hnsw ((embedding::vector(${d})) vector_cosine_ops) WHERE dim = ${d}`;
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable store URL)';
  }
}

export function storeConfig(url: string): ClientConfig {
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new SiftError(`The store must be a postgres:// URL, not ${redactUrl(url)}.`);
  return { connectionString: url, connectionTimeoutMillis: 10_000, query_timeout: 120_000, application_name: 'sift' };
}

/** Connects, turning the driver's errors into one clear sentence (the password never appears). */
export async function connect(url: string): Promise<Client> {
  const client = new Client(storeConfig(url));
  client.on('error', () => undefined); // a dropped connection fails the pending query; no crash on the idle socket
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw storeError(url, err);
  }
  return client;
}

export function storeError(url: string, err: unknown): SiftError {
  if (err instanceof SiftError) return err;
  const e = err as Error & { code?: string };
  const where = redactUrl(url);
  const reason =
    e.code === '28P01' || e.code === '28000'
      ? 'the user name or password was refused'
      : e.code === 'ECONNREFUSED'
        ? 'nothing is listening there (is the server running?)'
        : e.code === 'ENOTFOUND'
          ? 'the host name does not resolve'
          : e.code === '3D000'
            ? 'the database does not exist'
            : (e.message || String(err)).split('\n')[0]!;
  return new SiftError(`The team index at ${where} is unavailable: ${reason}.`, 'general', { cause: err });
}

async function currentVersion(client: Client): Promise<number> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('sift_migrations')::text AS t");
  if (!exists.rows[0]?.t) return 0;
  const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM sift_migrations');
  return r.rows[0]?.v ?? 0;
}

/** A reader's check: the schema must be exactly the one this Sift knows. */
export async function checkSchema(client: Client): Promise<void> {
  const v = await currentVersion(client);
  if (v === SCHEMA_VERSION) return;
  if (v === 0) throw new SiftError('The team index is empty: run `sift index DIR --store URL` (in CI) to create it.');
  if (v > SCHEMA_VERSION)
    throw new SiftError(`The team index has schema version ${v}; this Sift reads version ${SCHEMA_VERSION}. Upgrade Sift to a release that reads schema ${v}.`);
  throw new SiftError(
    `The team index has schema version ${v}; this Sift reads version ${SCHEMA_VERSION}. Run \`sift index --store\` with this Sift to migrate it, or use a Sift release that reads schema ${v}.`,
  );
}

/** A writer's step: applies missing migrations (each in its own transaction, serialised by an advisory lock). */
export async function migrate(client: Client): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('sift:migrate'))");
    await client.query('CREATE TABLE IF NOT EXISTS sift_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const v = await currentVersion(client);
    if (v > SCHEMA_VERSION)
      throw new SiftError(`The team index has schema version ${v}; this Sift writes version ${SCHEMA_VERSION}. Upgrade Sift to a release that writes schema ${v}.`);
    for (const m of MIGRATIONS) {
      if (m.version <= v) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO sift_migrations (version) VALUES ($1)', [m.version]);
    }
    await client.query('COMMIT');
    return v;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
