/**
 * `npm run bench [-- options]`: Sift's performance benchmark (see docs/performance.md).
 *
 *   --quick             smaller corpora and index sizes, fewer runs (a few minutes)
 *   --only P1,P3        run a subset of P1 (indexing), P2 (reranking), P3 (search), P4 (editor),
 *                       P5 (time to first answer on a fresh corpus), P5b (small edits → searchable),
 *                       P7 (team index on PostgreSQL + pgvector at scale; only when asked: --only P7)
 *   --p7-size N[,N…]    P7 chunk counts, stepped up until the engine fails (default 1000000; 20000 with --quick)
 *   --p5-files N        P5 corpus size in files (default 10000; 2000 with --quick)
 *   --p6-files N        P6 (remote embedding throughput) corpus size in files (default 3000; 600 with --quick)
 *   --p5b-files N       P5b corpus size in files (default 10000; 2000 with --quick)
 *   --sizes 10000,50000 P3 index sizes in chunks
 *   --runs N            P2 timed reranks
 *   --files N           P1 source files indexed end to end in each round
 *   --rounds N          P1 rounds of (end to end, raw onnxruntime), alternating (default 3)
 *   --models DIR        where the MiniLM-shaped models are made (default ~/.cache/sift/bench-models)
 *   --dtype q8|fp32     default q8 (int8, Sift's default)
 *   --no-write          print only; do not write docs/bench/<date>.json or docs/performance.md
 *   --json-out FILE     also write the raw results to FILE
 *
 * The models have the exact shape of the defaults (MiniLM-L6: 6 layers, hidden 384, vocab 30522)
 * with random weights: same cost as the real ones. They are made once with
 * scripts/make-tiny-models.py (Debian's python3-torch and python3-onnx, installed by
 * scripts/python-models.sh when missing) outside the repository.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ALL_SECTIONS, type BenchConfig, type Section, formatTable, markdownTable, runBench } from './bench';
import { benchFirstAnswer } from './firstAnswer';
import { benchRemoteEmbeddingInChild } from './remoteEmbedding';
import { benchSmallEdits } from './smallEdits';
import { benchTeamScale } from './teamScale';

const REPO = path.resolve(__dirname, '..', '..');

function ensureModels(dir: string): { embedder: string; reranker: string } {
  const embedder = path.join(dir, 'minilm-embedder');
  const reranker = path.join(dir, 'minilm-reranker');
  if (!existsSync(path.join(embedder, 'onnx', 'model_quantized.onnx')) || !existsSync(path.join(reranker, 'onnx', 'model_quantized.onnx'))) {
    process.stderr.write(`Making MiniLM-shaped models in ${dir} (once)…\n`);
    // Installs Debian's python3-torch / python3-onnx first when they are missing.
    execFileSync('bash', [path.join(REPO, 'scripts', 'python-models.sh'), '--shape', 'minilm', dir], { stdio: 'inherit' });
  }
  return { embedder, reranker };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      only: { type: 'string' },
      sizes: { type: 'string' },
      runs: { type: 'string' },
      files: { type: 'string' },
      models: { type: 'string' },
      dtype: { type: 'string', default: 'q8' },
      'no-write': { type: 'boolean', default: false },
      'json-out': { type: 'string' },
      'keep-workdir': { type: 'boolean', default: false },
      'p5-files': { type: 'string' },
      'p5b-files': { type: 'string' },
      'p6-files': { type: 'string' },
      'p7-size': { type: 'string' },
    },
  });
  const quick = values.quick!;
  const requested = (values.only ? values.only.split(',').map((s) => s.trim().toUpperCase()) : [...ALL_SECTIONS, 'P5', 'P5B', 'P6']) as Section[];
  const p5 = requested.includes('P5');
  // P5b (small edits, scripts/bench/smallEdits.ts) reports rows of section P5.
  const p5b = (requested as string[]).includes('P5B');
  // P7 (team index at scale, scripts/bench/teamScale.ts) needs no models: it runs alone.
  const p7 = requested.includes('P7');
  // P6 (remote embedding throughput, scripts/bench/remoteEmbedding.ts): a loopback server of fixed capacity.
  const p6 = requested.includes('P6');
  const sections = requested.filter((s) => s !== 'P5' && (s as string) !== 'P5B' && s !== 'P6' && s !== 'P7');
  for (const s of sections) if (!ALL_SECTIONS.includes(s)) throw new Error(`unknown section ${s} (use ${[...ALL_SECTIONS, 'P5', 'P5b', 'P6'].join(', ')})`);
  if (p7 && requested.every((s) => s === 'P7')) return runP7Only(values['p7-size'], quick, !values['no-write']);
  const modelsDir = path.resolve(values.models ?? process.env.SIFT_BENCH_MODELS ?? path.join(os.homedir(), '.cache', 'sift', 'bench-models'));
  const worker = path.join(REPO, 'dist', 'worker.js');
  if (!existsSync(worker)) throw new Error('dist/worker.js is missing: run `npm run build` first');
  const models = ensureModels(modelsDir);
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'sift-bench-'));
  const cfg: BenchConfig = {
    ...models,
    workerScript: worker,
    indexerScript: path.join(REPO, 'dist', 'indexer.js'),
    workDir,
    sections,
    threads: 2,
    dtype: values.dtype === 'fp32' ? 'fp32' : 'q8',
    p1Files: Number(values.files ?? (quick ? 40 : 100)),
    p1Rounds: Number(values.rounds ?? (quick ? 1 : 3)),
    reopenFiles: quick ? 2000 : 10_000,
    p2Runs: Number(values.runs ?? (quick ? 5 : 15)),
    p2Candidates: 50,
    p2MaxLength: 256,
    p2Batch: 5,
    p2Variants: !quick,
    p3Sizes: values.sizes ? values.sizes.split(',').map(Number) : quick ? [10_000, 50_000] : [10_000, 50_000, 100_000, 200_000],
    p3Queries: quick ? 10 : 20,
    p4Chunks: quick ? 50_000 : 100_000,
    log: (line) => process.stderr.write(`${line}\n`),
  };
  try {
    const result = await runBench(cfg);
    if (p5) {
      const p5Files = Number(values['p5-files'] ?? (quick ? 2000 : 10_000));
      result.rows.push(...(await benchFirstAnswer({ ...cfg, files: p5Files, denseSeconds: quick ? 10 : 20 })));
    }
    if (p5b) {
      const files = Number(values['p5b-files'] ?? (quick ? 2000 : 10_000));
      result.rows.push(...(await benchSmallEdits({ ...cfg, files, edits: [1, 10, 100], rounds: quick ? 3 : 5 })));
    }
    if (p6) result.rows.push(...(await benchRemoteEmbeddingInChild({ ...cfg, files: Number(values['p6-files'] ?? (quick ? 600 : 3000)) })));
    process.stdout.write(`\n${formatTable(result.rows)}\n\n`);
    const m = result.machine;
    process.stdout.write(`${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB, Node ${m.node}; load average ${m.loadBefore} → ${m.loadAfter}; ${result.seconds} s\n`);
    if (values['json-out']) writeFileSync(values['json-out'], `${JSON.stringify(result, null, 2)}\n`);
    if (!values['no-write']) {
      const day = result.date.slice(0, 10);
      const dir = path.join(REPO, 'docs', 'bench');
      mkdirSync(dir, { recursive: true });
      const jsonFile = path.join(dir, `${day}${quick ? '-quick' : ''}.json`);
      writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
      const doc = path.join(REPO, 'docs', 'performance.md');
      const begin = '<!-- bench:begin -->';
      const end = '<!-- bench:end -->';
      const block = `${begin}\n${markdownTable(result)}\n\nRaw results: [\`docs/bench/${path.basename(jsonFile)}\`](bench/${path.basename(jsonFile)}).\n${end}`;
      const text = existsSync(doc) ? readFileSync(doc, 'utf8') : `# Performance\n\n${begin}\n${end}\n`;
      const i = text.indexOf(begin);
      const j = text.indexOf(end);
      writeFileSync(doc, i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text}\n${block}\n`);
      process.stdout.write(`wrote ${path.relative(REPO, jsonFile)} and docs/performance.md\n`);
    }
  } finally {
    if (!values['keep-workdir']) rmSync(workDir, { recursive: true, force: true });
    else process.stderr.write(`work dir kept: ${workDir}\n`);
  }
}

/** `--only P7`: the team index at scale, printed beside its goals (and kept in docs/bench/<date>-p7.json). */
async function runP7Only(sizes: string | undefined, quick: boolean, write: boolean): Promise<void> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'sift-bench-p7-'));
  const started = performance.now();
  try {
    const rows = await benchTeamScale({
      workDir,
      sizes: sizes ? sizes.split(',').map(Number) : quick ? [20_000] : [1_000_000],
      queries: quick ? 30 : 100,
      efSearch: [40, 100, 200],
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(`\n${formatTable(rows)}\n`);
    if (write) {
      const file = path.join(REPO, 'docs', 'bench', `${new Date().toISOString().slice(0, 10)}-p7.json`);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), seconds: Math.round((performance.now() - started) / 1000), rows }, null, 2)}\n`);
      process.stdout.write(`wrote ${path.relative(REPO, file)}\n`);
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
