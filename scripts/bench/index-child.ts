/**
 * Child process of the benchmark's P1 rounds: a fresh Node process whose main thread does what the
 * extension host does for an indexing run — starts the inference worker and the indexing thread
 * (`indexWorkspaceInThread`, here Sift's own thread body wrapped by indexer-spy.ts to record the
 * token batches) and receives its events — while its event loop is watched (P4). The benchmark's
 * own process holds the raw baseline's session, tokenizer and token logs; their garbage is not the
 * extension host's, so the round does not run there. Prints one JSON line (IndexRoundReport).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { InferenceClient } from '../../src/core/worker/client';
import type { IndexEvent } from '../../src/core/indexing/indexer';
import { indexWorkspaceInThread } from '../../src/core/indexing/thread';
import type { IndexRoundArgs, IndexRoundReport, Stall } from './bench';

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
  const stalls = stallRecorder(loadStart);
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
  stalls.stop();
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
    stalls: stalls.worst(),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/**
 * What each late tick of a 20 ms timer on this thread coincided with, to tell the causes of an
 * event-loop stall apart: the machine's steal time (the hypervisor running something else on these
 * vCPUs; /proc/stat, all CPUs), this thread's own CPU time (it was running: JS or its GC) and its
 * garbage collections. Linux only (elsewhere steal and CPU read 0).
 */
function stallRecorder(origin: number): { stop(): void; worst(): Stall[] } {
  const stalls: Stall[] = [];
  const gcs: { start: number; ms: number }[] = [];
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: e.startTime, ms: e.duration });
    if (gcs.length > 1000) gcs.splice(0, gcs.length - 100);
  });
  gc.observe({ entryTypes: ['gc'] });
  const linux = process.platform === 'linux';
  const steal = () => (linux ? Number(/^cpu\s+(?:\d+\s+){7}(\d+)/.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0) * 10 : 0);
  const ownCpu = () => (linux ? threadCpu(process.pid).get(process.pid) ?? 0 : 0);
  // /proc is read every 10th tick (and at a stall), not every tick: reading it costs this thread
  // CPU time, which would come out of the indexing run being measured.
  const sample = () => ({ at: performance.now(), steal: steal(), cpu: ownCpu() });
  let base = sample();
  let last = base.at;
  let ticks = 0;
  const timer = setInterval(() => {
    const at = performance.now();
    const late = at - last - 20;
    if (late > 15) {
      const now = sample();
      const gcMs = gcs.filter((g) => g.start + g.ms >= last && g.start <= at).reduce((a, g) => a + g.ms, 0);
      stalls.push({ atMs: Math.round(last - origin), lateMs: Math.round(late), windowMs: Math.round(now.at - base.at), stealMs: now.steal - base.steal, ownCpuMs: now.cpu - base.cpu, gcMs: Math.round(gcMs) });
      base = now;
    } else if (++ticks % 10 === 0) {
      base = sample();
    }
    last = at;
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      gc.disconnect();
    },
    worst: () => [...stalls].sort((a, b) => b.lateMs - a.lateMs).slice(0, 5),
  };
}

/** CPU time of each of this process's threads so far (ms; Linux, else empty). */
function threadCpu(only?: number): Map<number, number> {
  const out = new Map<number, number>();
  if (process.platform !== 'linux') return out;
  for (const tid of only === undefined ? readdirSync('/proc/self/task') : [String(only)]) {
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
