/**
 * P6 remote embedding throughput (issue 17): the dense pass of a lexical-first index against an
 * OpenAI-compatible embeddings server of fixed capacity — `slots` requests at a time, each taking
 * `latencyMs` (more wait in line), so the most any client can get is slots / latency batches per
 * second. The server runs in its own process (remoteEmbeddingServer.ts: one precomputed body per batch
 * size, so its own CPU never limits it); the indexer runs on its indexing thread as in the editor.
 * Reported beside the goal: achieved ÷ capacity (≥ 0.9), with the client's CPU (all threads) and the
 * host thread's event-loop utilisation meanwhile. The client is a fresh process
 * (remote-embedding-child.ts, bundled to plain JavaScript: `benchRemoteEmbeddingInChild`), not the
 * benchmark's own `--import tsx` process, whose loader every thread it starts would inherit, as the
 * product's threads never do (bundleChild.ts); the server stays under tsx: it starts no Sift thread,
 * and its pace is its timers'.
 *
 * Standalone: `node --import tsx scripts/bench/remoteEmbedding.ts [files] [concurrency]` (needs `npm run
 * build`); an A/B of two commits in one run: `node scripts/bench/bundlesAt.mjs <commit> /tmp/a` for each,
 * then `… remoteEmbedding.ts 1500 --builds /tmp/a/dist,/tmp/b/dist --rounds 3`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runBundledChild } from './bundleChild';
import { runBuildRounds } from './buildRounds';
import { writeSourceRepo } from './corpus';
import type { Row } from './bench';
import { InferenceClient } from '../../src/core/worker/client';
import { indexWorkspaceInThread } from '../../src/core/indexing/thread';
import { HttpEmbedder } from '../../src/core/models/httpEmbedder';

export interface RemoteEmbeddingBenchConfig {
  workerScript: string;
  indexerScript: string;
  workDir: string;
  /** Source files in the corpus (about six chunks each). */
  files: number;
  slots?: number;
  latencyMs?: number;
  batch?: number;
  dim?: number;
  /** Client requests in flight (default slots + 2: a server queues, so a few more than its slots keep it busy across the client's turnaround). */
  concurrency?: number;
  /** remoteEmbeddingServer.ts (default: beside this file; a bundled child is elsewhere). */
  serverScript?: string;
  log?: (line: string) => void;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** Starts the capacity-limited server in a child process; resolves with its base URL. */
export function startServer(
  slots: number,
  latencyMs: number,
  dim: number,
  jitterMs = 0,
  script = path.join(__dirname, 'remoteEmbeddingServer.ts'),
): Promise<{ child: ChildProcess; baseUrl: string; stats: () => Promise<{ requests: number; maxActive: number; texts: number }> }> {
  const child = fork(script, [String(slots), String(latencyMs), String(dim), String(jitterMs)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (m: { port: number }) =>
      resolve({
        child,
        baseUrl: `http://127.0.0.1:${m.port}/v1`,
        stats: () =>
          new Promise((res) => {
            child.once('message', (s: { requests: number; maxActive: number; texts: number }) => res(s));
            child.send('stats');
          }),
      }),
    );
  });
}

export async function benchRemoteEmbedding(cfg: RemoteEmbeddingBenchConfig): Promise<Row[]> {
  const slots = cfg.slots ?? 8;
  const latencyMs = cfg.latencyMs ?? 50;
  const batch = cfg.batch ?? 64;
  const dim = cfg.dim ?? 384;
  const concurrency = cfg.concurrency ?? slots + 2;
  const log = cfg.log ?? (() => undefined);
  const root = path.join(cfg.workDir, 'p6-repo');
  const indexDir = path.join(cfg.workDir, 'p6-index');
  writeSourceRepo(root, cfg.files, { seed: 6 });
  const server = await startServer(slots, latencyMs, dim, 0, cfg.serverScript);
  const client = new InferenceClient(cfg.workerScript);
  try {
    log(`P6: ${cfg.files} files, server of ${slots} slots × ${latencyMs} ms, batch ${batch}, ${dim} dims, ${concurrency} requests in flight`);
    const run = indexWorkspaceInThread(
      {
        root,
        indexDir,
        embedding: { model: 'remote' },
        remoteEmbedding: { provider: 'openai-compatible', baseUrl: server.baseUrl, model: 'bench', batchSize: batch, concurrency },
        lexicalFirst: true,
        client,
      },
      cfg.indexerScript,
    );
    let denseStart: { t: number; cpu: NodeJS.CpuUsage; elu: ReturnType<typeof performance.eventLoopUtilization> } | undefined;
    let requestsBefore = 0;
    let r = await run.next();
    while (!r.done) {
      if (r.value.type === 'lexical-ready') {
        requestsBefore = (await server.stats()).requests;
        denseStart = { t: performance.now(), cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() };
      }
      r = await run.next();
    }
    const wallMs = performance.now() - denseStart!.t;
    const cpu = process.cpuUsage(denseStart!.cpu);
    const elu = performance.eventLoopUtilization(denseStart!.elu);
    const { requests, maxActive } = await server.stats();
    const summary = r.value;
    const batches = requests - requestsBefore;
    const achieved = batches / (wallMs / 1000);
    const capacity = slots / (latencyMs / 1000);
    const cpuCores = (cpu.user + cpu.system) / 1000 / wallMs;
    // The HTTP client alone (same batches, no store): what the client could reach without commits,
    // with vectors as base64 (what the dense pass asks for) and as JSON numbers (servers that ignore `encoding_format`).
    const texts = Array.from({ length: batches * batch }, (_, i) => `function f${i}() {\n  return ${i};\n}\n`.repeat(12));
    const alone = async (encodingFormat: 'base64' | 'float') => {
      const http = new HttpEmbedder({ baseUrl: server.baseUrl, model: 'bench', batchSize: batch, concurrency, encodingFormat });
      const start = { t: performance.now(), cpu: process.cpuUsage() };
      await http.embed(texts, 'document');
      const ms = performance.now() - start.t;
      const used = process.cpuUsage(start.cpu);
      return { rate: batches / (ms / 1000), cores: (used.user + used.system) / 1000 / ms };
    };
    const httpBase64 = await alone('base64');
    const httpFloat = await alone('float');
    return [
      ...([['base64', httpBase64], ['float', httpFloat]] as const).map(([format, r]) => ({
        id: format === 'base64' ? 'P6.remote.client' : 'P6.remote.client.float',
        section: 'P6' as const,
        metric: `embedding HTTP client alone (${batches} batches of ${batch}, ${dim} dims, ${format === 'base64' ? 'base64 vectors' : 'vectors as JSON numbers'}, no store)`,
        value: round(r.rate * batch, 0),
        unit: 'chunks/s',
        baseline: { label: `server capacity (${slots} × ${latencyMs} ms)`, value: round(capacity * batch, 0), unit: 'chunks/s' },
        ratio: round(r.rate / capacity, 2),
        goal: 'informational',
        note: `client CPU ${round(r.cores, 2)} cores (request JSON, response parse and checks)`,
      })),
      {
        id: 'P6.remote.embedding',
        section: 'P6',
        metric: `remote embedding throughput (${summary.embedded} chunks, ${batches} batches of ≤ ${batch}, ${dim} dims)`,
        value: round(achieved * batch, 0),
        unit: 'chunks/s',
        baseline: { label: `server capacity (${slots} × ${latencyMs} ms)`, value: round(capacity * batch, 0), unit: 'chunks/s' },
        ratio: round(achieved / capacity, 2),
        goal: '≥ 0.9×',
        met: achieved / capacity >= 0.9,
        note: `${round(achieved, 1)} of ${capacity} batches/s; dense pass ${Math.round(wallMs)} ms; client CPU ${round(cpuCores, 2)} cores (all threads: indexing thread parses and commits); host thread event-loop utilisation ${round(elu.utilization * 100, 1)} %; ${concurrency} requests in flight; server saw at most ${maxActive} at once; the rest of the wall time: the first requests and the last round, the last shard's commit (vectors only; the others overlap the next batches), and stalls of the indexing thread (GC, other processes on the cores)`,
      },
    ];
  } finally {
    await client.dispose();
    server.child.kill();
    rmSync(root, { recursive: true, force: true });
    rmSync(indexDir, { recursive: true, force: true });
  }
}

/**
 * `benchRemoteEmbedding` in a fresh process running remote-embedding-child.ts bundled to plain
 * JavaScript, so that its indexing thread and inference worker run as the product's do, without
 * tsx's loader. Its log lines go to this process's stderr.
 */
export function benchRemoteEmbeddingInChild(cfg: RemoteEmbeddingBenchConfig): Promise<Row[]> {
  const { workerScript, indexerScript, workDir, files, slots, latencyMs, batch, dim, concurrency } = cfg;
  const args: RemoteEmbeddingBenchConfig = { workerScript, indexerScript, workDir, files, slots, latencyMs, batch, dim, concurrency, serverScript: cfg.serverScript ?? path.join(__dirname, 'remoteEmbeddingServer.ts') };
  return runBundledChild<Row[]>(path.join(__dirname, 'remote-embedding-child.ts'), args, { stderr: true });
}

// Run as a script (not when bundled into remote-embedding-child.js, where `module` is the bundle's own).
if (require.main === module && path.basename(__filename) === 'remoteEmbedding.ts') {
  // [files] [concurrency], and for an A/B in one run `--builds A/dist,B/dist [--rounds N]`.
  runBuildRounds(
    'sift-p6-',
    async ({ build, round, workDir }, [files, concurrency], log) => {
      const rows = await benchRemoteEmbeddingInChild({
        workerScript: path.join(build, 'worker.js'),
        indexerScript: path.join(build, 'indexer.js'),
        workDir,
        files: Number(files ?? 3000),
        ...(concurrency ? { concurrency: Number(concurrency) } : {}),
      });
      const row = rows.find((r) => r.id === 'P6.remote.embedding')!;
      log(`round ${round + 1} ${build}: ${row.ratio}× — ${row.note}`);
      return rows;
    },
    (results) => (results.length === 1 ? results[0]!.result : results.map(({ build, round, result }) => ({ build, round, rows: result }))),
  );
}
