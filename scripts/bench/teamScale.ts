/**
 * P7 team index at scale (issue 21 item 4): N synthetic chunks of dimension 384 in the real engine
 * — PostgreSQL 18 compiled to WebAssembly (PGlite) with pgvector, data directory on disk, served
 * over the wire protocol (pglite-socket) and used through `pg` and Sift's own schema, migrations
 * and reader (src/core/team) exactly as a developer's Sift uses a server.
 *
 * Vectors are seeded and clustered (unit centroids plus Gaussian noise, like embeddings of code:
 * uniform random vectors in 384 dimensions have no neighbourhood structure and are a worst case no
 * real index sees). Rows are loaded in batches (ingest rate), then the HNSW index is built
 * (cosine, m = 16, ef_construction = 64: pgvector's defaults) and timed. Queries (fresh draws from
 * the same mixture) run through TeamReader.dense with hnsw.ef_search 40 / 100 / 200 and as an
 * exact scan (indexes off); recall@10 is HNSW's top 10 against the exact top 10.
 *
 * The WebAssembly build is 32-bit (at most 4 GiB of memory for the whole database engine): sizes
 * are stepped up (--p7-size 100000,200000,…) until one fails, and the largest that worked is
 * reported with the failure.
 */
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { Client } from 'pg';
import { TeamReader, denseSql } from '../../src/core/team/reader';
import { hnswIndexSql, migrate } from '../../src/core/team/schema';
import { errorMessage } from '../../src/core/util/errors';
import type { Row } from './bench';
import { rng } from './corpus';

export interface TeamScaleConfig {
  workDir: string;
  /** Chunk counts, tried in order (stepping up); the run stops at the first size the engine cannot hold. */
  sizes: number[];
  queries: number;
  efSearch: number[];
  seed?: number;
  log?: (line: string) => void;
}

const DIM = 384;
const K = 10;
const CHUNKS_PER_FILE = 10;
const BATCH = 2000;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** Seeded clustered unit vectors: centroid + N(0, σ²/d) noise, normalised. */
export class ClusteredVectors {
  private readonly r: () => number;
  private readonly centroids: Float32Array[];

  constructor(seed: number, clusters: number, private readonly sigma = 1) {
    this.r = rng(seed);
    this.centroids = Array.from({ length: clusters }, () => this.unit(Array.from({ length: DIM }, () => this.gauss())));
  }

  private gauss(): number {
    const u = Math.max(this.r(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.r());
  }

  private unit(v: number[]): Float32Array {
    const n = Math.hypot(...v) || 1;
    return Float32Array.from(v, (x) => x / n);
  }

  next(): Float32Array {
    const c = this.centroids[Math.floor(this.r() * this.centroids.length)]!;
    const s = this.sigma / Math.sqrt(DIM);
    return this.unit(Array.from(c, (x) => x + s * this.gauss()));
  }
}

const vectorText = (v: Float32Array) => `[${Array.from(v, (x) => x.toFixed(6)).join(',')}]`;

interface SizeResult {
  n: number;
  ingestPerS: number;
  buildMs: number;
  bytesPerChunk: number;
  tableMiB: number;
  indexMiB: number;
  rssMiB: number;
  usesHnsw: boolean;
  exact: { p50: number; p95: number };
  hnsw: { ef: number; p50: number; p95: number; recall: number }[];
}

async function measureSize(cfg: TeamScaleConfig, n: number, log: (l: string) => void): Promise<SizeResult> {
  const dataDir = path.join(cfg.workDir, `p7-${n}`);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir, extensions: { vector } });
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1' });
  await server.start();
  const port = Number(server.getServerConn().split(':').pop());
  const client = new Client({ connectionString: `postgres://sift@127.0.0.1:${port}/postgres?sslmode=disable`, query_timeout: 0 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await migrate(client);
    await client.query("INSERT INTO sift_repos (key) VALUES ('p7') RETURNING id");
    const gen = new ClusteredVectors(cfg.seed ?? 7, Math.max(64, Math.round(n / 1000)));
    // Load: files and chunks of one commit, in batches (no vector index yet: it is built after, as for a bulk load).
    const t0 = performance.now();
    await client.query('BEGIN');
    await client.query("INSERT INTO sift_commits (repo_id, commit, model, dim, chunker, files, chunks) VALUES (1, 'c1', 'synthetic-384', $1, 'bench', $2, $3)", [DIM, Math.ceil(n / CHUNKS_PER_FILE), n]);
    for (let i = 0; i < n; i += BATCH) {
      const m = Math.min(BATCH, n - i);
      const ids = Array.from({ length: m }, (_, j) => i + j);
      await client.query(
        `INSERT INTO sift_chunks (repo_id, path, file_hash, chunk_id, ordinal, start_line, end_line, language, kind, symbols, header, text, hash, dim, embedding, tsv)
         SELECT 1, 'src/f' || (t.i / ${CHUNKS_PER_FILE}) || '.ts', 'h' || (t.i / ${CHUNKS_PER_FILE}), 'c' || t.i, t.i % ${CHUNKS_PER_FILE}, 1, 20, 'typescript', 'function',
                ARRAY['fn' || t.i], '', 'function fn' || t.i, 'x' || t.i, ${DIM}, t.v::vector, to_tsvector('simple', 'fn' || t.i)
           FROM unnest($1::int[], $2::text[]) AS t(i, v)`,
        [ids, ids.map(() => vectorText(gen.next()))],
      );
      if ((i / BATCH) % 50 === 0) log(`P7 ${n}: loaded ${i + m}`);
    }
    await client.query(`INSERT INTO sift_files (repo_id, commit, path, hash) SELECT 1, 'c1', 'src/f' || f || '.ts', 'h' || f FROM generate_series(0, $1::int - 1) AS f`, [Math.ceil(n / CHUNKS_PER_FILE)]);
    await client.query('COMMIT');
    const ingestMs = performance.now() - t0;
    log(`P7 ${n}: ${round(n / (ingestMs / 1000), 0)} chunks/s loaded; building HNSW…`);
    await client.query("SET maintenance_work_mem = '1GB'").catch(() => client.query("SET maintenance_work_mem = '512MB'"));
    const t1 = performance.now();
    await client.query(hnswIndexSql(DIM));
    const buildMs = performance.now() - t1;
    await client.query('ANALYZE sift_chunks');
    await client.query('ANALYZE sift_files');
    const size = (
      await client.query<{ t: string; i: string }>(`SELECT pg_total_relation_size('sift_chunks') AS t, pg_relation_size('sift_chunks_hnsw_${DIM}') AS i`)
    ).rows[0]!;
    log(`P7 ${n}: HNSW built in ${round(buildMs / 1000, 1)} s; sift_chunks ${round(Number(size.t) / 2 ** 20, 1)} MiB (${round(Number(size.t) / n, 0)} B/chunk), HNSW ${round(Number(size.i) / 2 ** 20, 1)} MiB; RSS ${round(process.memoryUsage().rss / 2 ** 20, 0)} MiB`);
    const reader = await TeamReader.open(client, 'p7', ['c1']);
    // Fresh draws from the data's mixture (the generator continues past the loaded rows).
    const queries = Array.from({ length: cfg.queries }, () => gen.next());
    const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${denseSql(DIM)}`, [1, 'c1', vectorText(queries[0]!), [], K, K * 4]);
    const usesHnsw = plan.rows.some((r) => r['QUERY PLAN'].includes(`sift_chunks_hnsw_${DIM}`));
    log(`P7 ${n}: the dense query ${usesHnsw ? 'uses' : 'does NOT use'} the HNSW index`);
    const timed = async (tune: { efSearch?: number; exact?: boolean }) => {
      const ms: number[] = [];
      const ids: string[][] = [];
      await reader.dense(queries[0]!, [], K, tune); // warm
      for (const v of queries) {
        const t = performance.now();
        const hits = await reader.dense(v, [], K, tune);
        ms.push(performance.now() - t);
        ids.push(hits.map((h) => h.chunk.id));
      }
      return { ms, ids };
    };
    const exact = await timed({ exact: true });
    log(`P7 ${n}: exact p50 ${round(pct(exact.ms, 50))} ms, p95 ${round(pct(exact.ms, 95))} ms`);
    const hnsw = [];
    for (const ef of cfg.efSearch) {
      const r = await timed({ efSearch: ef });
      const recall = r.ids.reduce((s, got, i) => s + got.filter((id) => exact.ids[i]!.includes(id)).length / K, 0) / queries.length;
      hnsw.push({ ef, p50: round(pct(r.ms, 50)), p95: round(pct(r.ms, 95)), recall: round(recall, 3) });
      log(`P7 ${n}: ef_search ${ef}: p50 ${round(pct(r.ms, 50))} ms, p95 ${round(pct(r.ms, 95))} ms, recall@10 ${round(recall, 3)}`);
    }
    return {
      n,
      ingestPerS: round(n / (ingestMs / 1000), 0),
      buildMs: round(buildMs, 0),
      bytesPerChunk: round(Number(size.t) / n, 0),
      tableMiB: round(Number(size.t) / 2 ** 20, 1),
      indexMiB: round(Number(size.i) / 2 ** 20, 1),
      rssMiB: round(process.memoryUsage().rss / 2 ** 20, 0),
      usesHnsw,
      exact: { p50: round(pct(exact.ms, 50)), p95: round(pct(exact.ms, 95)) },
      hnsw,
    };
  } finally {
    await client.end().catch(() => undefined);
    await server.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchTeamScale(cfg: TeamScaleConfig): Promise<Row[]> {
  const log = cfg.log ?? (() => undefined);
  const results: SizeResult[] = [];
  let failure: { n: number; message: string } | undefined;
  for (const n of cfg.sizes) {
    try {
      results.push(await measureSize(cfg, n, log));
    } catch (err) {
      failure = { n, message: errorMessage(err).split('\n')[0]! };
      log(`P7 ${n}: FAILED: ${failure.message}`);
      break;
    }
  }
  const rows: Row[] = [];
  for (const r of results) {
    const id = `P7-${r.n >= 1e6 ? `${r.n / 1e6}M` : `${r.n / 1000}k`}`;
    const best = r.hnsw.find((h) => h.recall >= 0.95) ?? r.hnsw[r.hnsw.length - 1]!;
    for (const h of r.hnsw) {
      rows.push({
        id,
        section: 'P7',
        metric: `HNSW search p50 (ef_search ${h.ef}, top 10)`,
        value: h.p50,
        unit: 'ms',
        baseline: { label: 'exact scan p50', value: r.exact.p50, unit: 'ms' },
        ratio: round(r.exact.p50 / Math.max(h.p50, 0.01), 1),
        goal: 'p50 ≤ 100 ms',
        met: h.p50 <= 100,
        note: `p95 ${h.p95} ms (exact p95 ${r.exact.p95} ms); recall@10 ${h.recall}${r.usesHnsw ? '' : '; the planner did NOT use the HNSW index'}`,
      });
      rows.push({ id, section: 'P7', metric: `recall@10 HNSW vs exact (ef_search ${h.ef})`, value: h.recall, unit: '', goal: '≥ 0.95', met: h.recall >= 0.95 });
    }
    rows.push({ id, section: 'P7', metric: 'exact scan p50 (no index)', value: r.exact.p50, unit: 'ms', goal: 'p50 ≤ 100 ms', met: r.exact.p50 <= 100, note: `p95 ${r.exact.p95} ms` });
    rows.push({ id, section: 'P7', metric: 'ingest (batched INSERT, one transaction)', value: r.ingestPerS, unit: 'chunks/s', goal: '', note: `${r.n} chunks of ${DIM} dims` });
    rows.push({ id, section: 'P7', metric: 'HNSW build (m 16, ef_construction 64)', value: round(r.buildMs / 1000, 1), unit: 's', goal: '' });
    rows.push({
      id,
      section: 'P7',
      metric: 'bytes per chunk (table + indexes)',
      value: r.bytesPerChunk,
      unit: 'B',
      goal: '',
      note: `sift_chunks ${r.tableMiB} MiB total, HNSW ${r.indexMiB} MiB; process RSS ${r.rssMiB} MiB (the WebAssembly engine runs in-process); smallest ef_search with recall ≥ 0.95: ${best.recall >= 0.95 ? best.ef : 'none tried'}`,
    });
  }
  if (failure) {
    rows.push({
      id: `P7-${failure.n / 1000}k`,
      section: 'P7',
      metric: 'largest size the WebAssembly engine holds',
      value: results.at(-1)?.n ?? 0,
      unit: 'chunks',
      goal: '1M chunks',
      met: false,
      note: `${failure.n} chunks failed: ${failure.message}`,
    });
  }
  return rows;
}
