/**
 * P5 A/B in one run: the keyword pass of a fresh corpus with two (or more) builds' bundles, alternating
 * (ABBA…), each run a fresh process (first-answer-child.ts bundled to plain JavaScript by bundleChild.ts,
 * the MiniLM-shaped model, lexical first).
 *   node scripts/bench/bundlesAt.mjs <commitA> /tmp/a && node scripts/bench/bundlesAt.mjs <commitB> /tmp/b   (each writes <dir>/dist)
 *   flock /tmp/sift-cpu.lock node --import tsx scripts/bench/firstAnswerAB.ts --files 10000 --rounds 2 --work /tmp/p5ab /tmp/a /tmp/b
 * Prints per run the time to keyword-searchable and to the answer, and the child's CPU time (all its
 * threads, from /usr/bin/time; it includes ~1 s of dense pass after the answer) — on a shared machine
 * CPU seconds move less than wall time. Then each build's last index: a checksum of every file but the
 * manifest (whose timestamps differ), which must be equal when a change keeps the index.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_BUNDLES, bundleChild } from './bundleChild';
import { writeSourceRepo } from './corpus';

const { values, positionals: dirs } = parseArgs({ allowPositionals: true, options: { files: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '2' }, work: { type: 'string', default: path.join(os.tmpdir(), 'sift-p5ab') }, models: { type: 'string', default: path.join(os.homedir(), '.cache', 'sift', 'bench-models') } } });
if (dirs.length < 2) throw new Error('usage: firstAnswerAB.ts [--files N] [--rounds N] [--work DIR] <bundleDirA> <bundleDirB> …');
const root = path.join(values.work, `corpus-${values.files}`);
if (!existsSync(root)) writeSourceRepo(root, Number(values.files), { seed: 55, functionsPerFile: 3 });
async function main(): Promise<void> {
  // Plain JavaScript, not `--import tsx`: tsx's loader would run in every thread the child starts (bundleChild.ts).
  const child = await bundleChild(path.join(__dirname, 'first-answer-child.ts'), BENCH_BUNDLES);
  const indexOf = (d: string, k: number) => path.join(values.work, `index-${k}-${path.basename(d)}`);
  for (let r = 0; r < Number(values.rounds); r++) {
    const order = dirs.map((d, k) => [d, k] as const);
    for (const [d, k] of r % 2 ? order.reverse() : order) {
      const indexDir = indexOf(d, k);
      rmSync(indexDir, { recursive: true, force: true });
      const args = { worker: path.join(d, 'dist', 'worker.js'), indexer: path.join(d, 'dist', 'indexer.js'), root, indexDir, model: path.join(values.models, 'minilm-embedder'), dtype: 'q8', threads: 2, cacheDir: path.join(values.work, 'cache'), question: 'where do we retry the upload when the session token fails', denseSeconds: 1 };
      const load = os.loadavg()[0]!.toFixed(2);
      const res = spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', process.execPath, '--expose-gc', child, JSON.stringify(args)], { maxBuffer: 1 << 22 });
      if (res.status !== 0) throw new Error(res.stderr.toString());
      const [, user, sys] = res.stderr.toString().split('\n').find((l) => l.startsWith('CPU '))!.split(' ');
      const rep = JSON.parse(res.stdout.toString().trim().split('\n').pop()!) as { lexicalReadyMs: number; answerMs: number; chunks: number; loop: { max: number } };
      console.log(`${d} round ${r}: keyword-searchable ${(rep.lexicalReadyMs / 1000).toFixed(2)} s, answered ${(rep.answerMs / 1000).toFixed(2)} s, event loop max ${rep.loop.max.toFixed(1)} ms, ${rep.chunks} chunks, process CPU ${(Number(user) + Number(sys)).toFixed(1)} s, load ${load}`);
    }
  }
  for (const [k, d] of dirs.entries()) {
    const sum = execFileSync('bash', ['-c', "find . -type f ! -name 'manifest*' | sort | xargs sha256sum | sha256sum"], { cwd: indexOf(d, k) }).toString().split(' ')[0];
    console.log(`${d}: index files but the manifest ${sum}`);
  }
}
main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
