import type { Client } from 'pg';
import type { Chunk } from '../types';
import { codeTokens, pathTokens } from '../lexical/tokenize';
import { SiftError } from '../util/errors';
import { checkDim, hnswIndexSql, migrate } from './schema';

/** One file of the commit being written: its content hash names its chunks. */
export interface TeamFile {
  path: string;
  hash: string;
}

export interface TeamCommit {
  /** Stable repository key (e.g. the root commit's id): many repositories share one database. */
  repoKey: string;
  commit: string;
  embedding: { model: string; dim: number } | null;
  chunker: string;
  files: TeamFile[];
  /** Yields the chunks (and vectors) of the given files; called only for file versions the database lacks. */
  chunksOf(files: TeamFile[]): AsyncIterable<{ file: TeamFile; chunks: { chunk: Chunk; vector?: ArrayLike<number> }[] }>;
  /** Called after each batch of chunk rows (progress; tests use it to stop a writer mid-commit). */
  onBatch?: (written: number) => Promise<void> | void;
}

export interface TeamWriteSummary {
  repoId: number;
  commit: string;
  files: number;
  /** File versions whose chunks were written by this commit (the rest were shared with earlier commits). */
  newFiles: number;
  chunksWritten: number;
  migratedFrom: number;
}

const BATCH = 250;

/** The lexical document as PostgreSQL text: Sift's code-aware tokens, pre-split, one weight per field. */
function lexicalFields(c: Chunk): [string, string, string, string] {
  return [codeTokens(c.symbols.join(' ')).join(' '), pathTokens(c.path).join(' '), codeTokens(c.header).join(' '), codeTokens(c.text).join(' ')];
}

const vectorText = (v: ArrayLike<number>) => `[${Array.from(v, (x) => (Number.isFinite(x) ? x : 0)).join(',')}]`;

/**
 * Writes one commit in ONE transaction: readers see the previous state until COMMIT, and a writer
 * that dies mid-way leaves nothing behind. A second writer of the same repository fails at once
 * with a clear message (transaction-scoped advisory lock). Only file versions the database does
 * not hold yet get chunk rows; every query is parameterised.
 */
export async function writeTeamCommit(client: Client, c: TeamCommit): Promise<TeamWriteSummary> {
  const migratedFrom = await migrate(client);
  const dim = c.embedding ? checkDim(c.embedding.dim) : null;
  await client.query('BEGIN');
  try {
    await client.query('INSERT INTO sift_repos (key) VALUES ($1) ON CONFLICT (key) DO NOTHING', [c.repoKey]);
    const repoId = (await client.query<{ id: number }>('SELECT id FROM sift_repos WHERE key = $1', [c.repoKey])).rows[0]!.id;
    const locked = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock(hashtext('sift:repo'), $1) AS ok", [repoId]);
    if (!locked.rows[0]?.ok) throw new SiftError(`Another writer is indexing this repository (${c.repoKey}) in the team index; try again when it has finished.`);
    if (dim) await client.query(hnswIndexSql(dim));
    // Re-indexing a commit replaces its file list; chunk rows stay shared.
    await client.query('DELETE FROM sift_files WHERE repo_id = $1 AND commit = $2', [repoId, c.commit]);
    await client.query('DELETE FROM sift_commits WHERE repo_id = $1 AND commit = $2', [repoId, c.commit]);
    const have = new Set<string>();
    for (let i = 0; i < c.files.length; i += 5000) {
      const part = c.files.slice(i, i + 5000);
      const r = await client.query<{ path: string; file_hash: string }>(
        `SELECT DISTINCT c.path, c.file_hash FROM sift_chunks c JOIN unnest($2::text[], $3::text[]) AS f(path, hash)
           ON c.path = f.path AND c.file_hash = f.hash WHERE c.repo_id = $1 AND c.dim IS NOT DISTINCT FROM $4::int`,
        [repoId, part.map((f) => f.path), part.map((f) => f.hash), dim],
      );
      for (const row of r.rows) have.add(`${row.path}\u0000${row.file_hash}`);
      const hashes = (await client.query<{ path: string; hash: string }>(
        `SELECT DISTINCT f.path, f.hash FROM sift_files f JOIN unnest($2::text[], $3::text[]) AS n(path, hash) ON f.path = n.path AND f.hash = n.hash
           WHERE f.repo_id = $1 AND NOT EXISTS (SELECT 1 FROM sift_chunks c WHERE c.repo_id = f.repo_id AND c.path = f.path AND c.file_hash = f.hash)`,
        [repoId, part.map((f) => f.path), part.map((f) => f.hash)],
      )).rows;
      // A file version stored earlier with no chunks (empty file) counts as present too.
      for (const row of hashes) have.add(`${row.path}\u0000${row.hash}`);
    }
    const missing = c.files.filter((f) => !have.has(`${f.path}\u0000${f.hash}`));
    let written = 0;
    let rows: unknown[][] = [];
    const flush = async () => {
      if (!rows.length) return;
      const col = (i: number) => rows.map((r) => r[i]);
      await client.query(
        `INSERT INTO sift_chunks (repo_id, path, file_hash, chunk_id, ordinal, start_line, end_line, language, kind, symbols, header, text, hash, dim, embedding, tsv)
         SELECT $1, t.path, t.file_hash, t.chunk_id, t.ordinal, t.start_line, t.end_line, t.language, t.kind,
                ARRAY(SELECT jsonb_array_elements_text(t.symbols::jsonb)), t.header, t.text, t.hash, $2::int, t.embedding::vector,
                setweight(to_tsvector('simple', t.s), 'A') || setweight(to_tsvector('simple', t.p), 'B') ||
                setweight(to_tsvector('simple', t.h), 'C') || setweight(to_tsvector('simple', t.x), 'D')
         FROM unnest($3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
                     $16::text[], $17::text[], $18::text[], $19::text[])
           AS t(path, file_hash, chunk_id, ordinal, start_line, end_line, language, kind, symbols, header, text, hash, embedding, s, p, h, x)
         ON CONFLICT (repo_id, path, file_hash, chunk_id) DO UPDATE SET dim = excluded.dim, embedding = excluded.embedding`,
        [repoId, dim, ...Array.from({ length: 17 }, (_, i) => col(i))],
      );
      written += rows.length;
      rows = [];
      await c.onBatch?.(written);
    };
    for await (const { file, chunks } of c.chunksOf(missing)) {
      for (const [ordinal, { chunk, vector }] of chunks.entries()) {
        if (dim && (!vector || vector.length !== dim)) throw new SiftError(`internal: chunk ${chunk.id} of ${file.path} has no ${dim}-dimension vector`);
        const strip = (s: string) => s.replace(/\0/g, '');
        rows.push([
          file.path, file.hash, chunk.id, ordinal, chunk.startLine, chunk.endLine, chunk.language, chunk.kind, JSON.stringify(chunk.symbols.map(strip)),
          strip(chunk.header), strip(chunk.text), chunk.hash, dim && vector ? vectorText(vector) : null, ...lexicalFields(chunk),
        ]);
        if (rows.length >= BATCH) await flush();
      }
    }
    await flush();
    const chunkCount = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM sift_chunks c JOIN unnest($2::text[], $3::text[]) AS f(path, hash) ON c.path = f.path AND c.file_hash = f.hash WHERE c.repo_id = $1`,
      [repoId, c.files.map((f) => f.path), c.files.map((f) => f.hash)],
    );
    await client.query('INSERT INTO sift_commits (repo_id, commit, model, dim, chunker, files, chunks) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      repoId, c.commit, c.embedding?.model ?? null, dim, c.chunker, c.files.length, Number(chunkCount.rows[0]!.n),
    ]);
    for (let i = 0; i < c.files.length; i += 5000) {
      const part = c.files.slice(i, i + 5000);
      await client.query('INSERT INTO sift_files (repo_id, commit, path, hash) SELECT $1, $2, p, h FROM unnest($3::text[], $4::text[]) AS t(p, h)', [
        repoId, c.commit, part.map((f) => f.path), part.map((f) => f.hash),
      ]);
    }
    await client.query('COMMIT');
    return { repoId, commit: c.commit, files: c.files.length, newFiles: missing.length, chunksWritten: written, migratedFrom };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
