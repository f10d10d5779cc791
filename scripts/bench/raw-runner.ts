/**
 * The raw onnxruntime baseline of P1 and P2, on a thread of its own at the same background CPU
 * priority as Sift's inference worker (nice 10 on Linux, `runInBackground`; the session's intra-op
 * threads inherit it). On a machine shared with other jobs, a baseline at normal priority would get
 * CPU time that Sift's worker deliberately yields to them, and the ratio would measure the
 * scheduler's policy instead of Sift's overhead. Only `session.run` is timed.
 */
import { Worker, parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { runInBackground } from '../../src/core/util/priority';

/** Model inputs as plain int64 arrays (built by the caller, turned into tensors on the thread). */
export type PlainFeeds = Record<string, { data: BigInt64Array; dims: number[] }>;

type Reply = { ok: true; inputNames?: string[]; background?: boolean; ms?: number[]; cpuMs?: number } | { ok: false; message: string };

export class RawRunner {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly worker: Worker,
    readonly inputNames: readonly string[],
    /** Whether the thread runs at background priority (Linux). */
    readonly background: boolean,
  ) {}

  /**
   * @param threadScript this file bundled to plain JavaScript (bundleChild.ts): the thread runs it with
   * no tsx loader (`execArgv: []`, not this process's `--import tsx`), as Sift's inference worker runs dist/worker.js
   */
  static async start(threadScript: string, modelFile: string, options: ort.InferenceSession.SessionOptions): Promise<RawRunner> {
    const worker = new Worker(`require(${JSON.stringify(threadScript)}).serveRawRunner();`, { eval: true, execArgv: [] });
    const reply = await ask(worker, { type: 'create', file: modelFile, options });
    return new RawRunner(worker, reply.inputNames ?? [], reply.background ?? false);
  }

  /** Runs the feeds one after another; the time of each `session.run` and the process's CPU time over all of them. */
  async run(feeds: PlainFeeds[]): Promise<{ ms: number[]; cpuMs: number }> {
    const next = this.queue.then(() => ask(this.worker, { type: 'run', feeds }));
    this.queue = next.catch(() => undefined);
    const reply = await next;
    return { ms: reply.ms ?? [], cpuMs: reply.cpuMs ?? 0 };
  }

  async release(): Promise<void> {
    await ask(this.worker, { type: 'release' }).catch(() => undefined);
    await this.worker.terminate();
  }
}

function ask(worker: Worker, message: object): Promise<Extract<Reply, { ok: true }>> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    worker.once('error', onError);
    worker.once('message', (reply: Reply) => {
      worker.off('error', onError);
      if (reply.ok) resolve(reply);
      else reject(new Error(`raw onnxruntime baseline: ${reply.message}`));
    });
    worker.postMessage(message);
  });
}

/** The thread's side (started by RawRunner.start). */
export function serveRawRunner(): void {
  const background = runInBackground(); // before the session exists: its intra-op threads inherit it
  let session: ort.InferenceSession | undefined;
  parentPort!.on('message', (m: { type: string; file?: string; options?: ort.InferenceSession.SessionOptions; feeds?: PlainFeeds[] }) => {
    void (async (): Promise<Reply> => {
      if (m.type === 'create') {
        session = await ort.InferenceSession.create(m.file!, m.options);
        return { ok: true, inputNames: [...session.inputNames], background };
      }
      if (m.type === 'run') {
        const ms: number[] = [];
        const c0 = process.cpuUsage();
        for (const f of m.feeds!) {
          const tensors: Record<string, ort.Tensor> = {};
          for (const [name, v] of Object.entries(f)) tensors[name] = new ort.Tensor('int64', v.data, v.dims);
          const t = performance.now();
          await session!.run(tensors);
          ms.push(performance.now() - t);
        }
        const c = process.cpuUsage(c0);
        return { ok: true, ms, cpuMs: (c.user + c.system) / 1000 };
      }
      await session?.release();
      session = undefined;
      return { ok: true };
    })()
      .catch((err: unknown): Reply => ({ ok: false, message: err instanceof Error ? (err.stack ?? err.message) : String(err) }))
      .then((reply) => parentPort!.postMessage(reply));
  });
}
