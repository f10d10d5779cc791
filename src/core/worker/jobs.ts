/**
 * The requests an inference worker is running, so they can be cancelled between batches and the
 * worker can wait for them before it exits (onnxruntime does not survive its thread being
 * terminated inside a model call: the whole process aborts).
 */
export interface Job {
  cancelled: boolean;
}

export class Jobs {
  private readonly running = new Map<object, Map<number, { job: Job; done: Promise<unknown> }>>();

  /** Runs `work` as request `id` of `channel`; it is tracked until it settles. */
  run<T>(channel: object, id: number, work: (job: Job) => Promise<T>): Promise<T> {
    let byId = this.running.get(channel);
    if (!byId) this.running.set(channel, (byId = new Map()));
    const job: Job = { cancelled: false };
    const done = work(job);
    const entry = { job, done };
    byId.set(id, entry);
    const forget = () => {
      if (byId.get(id) === entry) byId.delete(id);
      if (!byId.size && this.running.get(channel) === byId) this.running.delete(channel);
    };
    done.then(forget, forget);
    return done;
  }

  cancel(channel: object, id: number): void {
    const entry = this.running.get(channel)?.get(id);
    if (entry) entry.job.cancelled = true;
  }

  /** Cancels the requests of a channel that closed (a thread that stopped): nobody reads their answers. */
  cancelChannel(channel: object): void {
    for (const e of this.running.get(channel)?.values() ?? []) e.job.cancelled = true;
  }

  /** Cancels every request (each stops at its next batch) and resolves once all have settled. */
  async cancelAll(): Promise<void> {
    const all = [...this.running.values()].flatMap((m) => [...m.values()]);
    for (const e of all) e.job.cancelled = true;
    await Promise.allSettled(all.map((e) => e.done));
  }
}

/** Thrown between batches of a cancelled request (the client already rejected the call). */
export function throwIfCancelled(job: Job | undefined): void {
  if (!job?.cancelled) return;
  const err = new Error('Cancelled.');
  err.name = 'AbortError';
  throw err;
}
