/**
 * The command line of a benchmark script that compares builds in one run:
 * `[positional…] [--builds A/dist,B/dist] [--rounds N]` (bundles of other commits from
 * scripts/bench/bundlesAt.mjs; default this checkout's dist/). The builds alternate, round after
 * round, each run in a fresh temporary folder; the load average is logged before and after, and the
 * results are printed as JSON on stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

export interface BuildRun {
  build: string;
  round: number;
  workDir: string;
}

export function runBuildRounds<T>(tmpPrefix: string, run: (r: BuildRun, positional: string[], log: (l: string) => void) => Promise<T>, print: (results: ({ build: string; round: number } & { result: T })[]) => unknown = (r) => r): void {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i < 0 ? undefined : args.splice(i, 2)[1];
  };
  const repo = path.resolve(__dirname, '..', '..');
  const builds = (flag('--builds') ?? path.join(repo, 'dist')).split(',').map((d) => path.resolve(d));
  const rounds = Number(flag('--rounds') ?? 1);
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const load = () => log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  (async () => {
    load();
    const results: ({ build: string; round: number } & { result: T })[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const build of builds) {
        const workDir = mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
        try {
          results.push({ build, round, result: await run({ build, round, workDir }, args, log) });
        } finally {
          rmSync(workDir, { recursive: true, force: true });
        }
      }
    }
    load();
    process.stdout.write(`${JSON.stringify(print(results), null, 2)}\n`);
  })().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}

/** What a stop benchmark reports per run (denseStop.ts and inlineStop.ts add their own fields). */
export interface StopRunResult {
  /** The finished index's chunks. */
  chunks: number;
  /** Progress when the run was aborted (the script says which count). */
  stopAt: number;
  /** From the abort to the run's end, its commit included. */
  stopMs: number;
  /** Chunks the index held with vectors after the stop. */
  kept: number;
  /** Chunks the second run embedded. */
  resumed: number;
}

/**
 * Stops an indexing run at the first event `stopWhen` accepts (its `onStop` records what it needs
 * from that event), reopens the index to see what the stop kept, then runs a second pass to the
 * end: the shape of the stop benchmarks (denseStop.ts, inlineStop.ts).
 */
export async function stopThenResume<E extends { type: string }, R>(opts: {
  start: (signal?: AbortSignal) => AsyncGenerator<E, R>;
  stopWhen: (e: E) => boolean;
  onEvent?: (e: E) => void;
  /** What the stopped run left, read from the reopened index. */
  kept: () => Promise<number>;
  what: string;
}): Promise<{ stopEvent: E; stopMs: number; kept: number; second: R; resumeMs: number }> {
  const controller = new AbortController();
  const run = opts.start(controller.signal);
  let abortedAt = 0;
  let stopEvent: E | undefined;
  try {
    for (let r = await run.next(); !r.done; r = await run.next()) {
      opts.onEvent?.(r.value);
      if (!stopEvent && opts.stopWhen(r.value)) {
        stopEvent = r.value;
        abortedAt = performance.now();
        controller.abort();
      }
    }
    throw new Error(`the ${opts.what} ended before it was stopped`);
  } catch (err) {
    if (!stopEvent) throw err;
  }
  const stopMs = performance.now() - abortedAt;
  const kept = await opts.kept();
  const started = performance.now();
  const second = opts.start();
  let r = await second.next();
  while (!r.done) r = await second.next();
  return { stopEvent, stopMs, kept, second: r.value, resumeMs: performance.now() - started };
}
