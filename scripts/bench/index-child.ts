/**
 * Child process of the benchmark's P1 rounds: a fresh Node process whose main thread does what the
 * extension host does for an indexing run — starts the inference worker and the indexing thread
 * (`indexWorkspaceInThread`, here Sift's own thread body wrapped by indexer-spy.ts to record the
 * token batches) and receives its events — while its event loop is watched (P4). The benchmark's
 * own process holds the raw baseline's session, tokenizer and token logs; their garbage is not the
 * extension host's, so the round does not run there. Prints one JSON line (IndexRoundReport).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { InferenceClient } from '../../src/core/embedding/client';
import type { IndexEvent } from '../../src/core/index/indexer';
import { indexWorkspaceInThread } from '../../src/core/index/thread';
import type { IndexRoundArgs, IndexRoundReport } from './bench';

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as IndexRoundArgs;
  const client = new InferenceClient(args.worker);
  await client.call('configure', { cacheDir: args.cacheDir, allowRemote: false, threads: args.threads });
  // Start from a collected heap, as a long-running extension host would be (the process start and
  // module loading are not part of an indexing run); --expose-gc is passed by the parent.
  (globalThis as { gc?: () => void }).gc?.();
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const loadStart = performance.now();
  let t0 = 0;
  let cpu0 = process.cpuUsage();
  let threads0 = new Map<number, number>();
  const run = indexWorkspaceInThread({ root: args.root, indexDir: args.indexDir, embedding: { model: args.model, dtype: args.dtype }, client }, args.entry);
  let r = await run.next();
  let modelMs = 0;
  while (!r.done) {
    const e: IndexEvent = r.value;
    if (e.type === 'model') {
      threads0 = threadCpu();
      cpu0 = process.cpuUsage();
      t0 = performance.now();
      modelMs = t0 - loadStart;
    }
    r = await run.next();
  }
  const end = performance.now();
  const wallMs = end - t0;
  h.disable();
  const cpu = process.cpuUsage(cpu0);
  const threads: Record<number, number> = {};
  for (const [tid, ms] of threadCpu()) if (ms - (threads0.get(tid) ?? 0) > 0) threads[tid] = ms - (threads0.get(tid) ?? 0);
  const summary = r.value;
  await client.dispose();
  const report: IndexRoundReport = {
    embedded: summary.embedded,
    filesIndexed: summary.files.indexed.length,
    embedding: summary.embedding,
    tokenizer: summary.tokenizer,
    notices: summary.notices,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    pid: process.pid,
    threads,
    modelMs,
    startedAt: performance.timeOrigin + t0,
    endedAt: performance.timeOrigin + end,
    loop: { max: h.max / 1e6, p99: h.percentile(99) / 1e6, mean: h.mean / 1e6 },
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** CPU time of each of this process's threads so far (ms; Linux, else empty). */
function threadCpu(): Map<number, number> {
  const out = new Map<number, number>();
  if (process.platform !== 'linux') return out;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), ((Number(fields[11]) + Number(fields[12])) * 1000) / 100); // utime + stime, in USER_HZ (100/s)
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
