import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { SiftError } from '../util/errors';
import type { DownloadProgress, MethodName, WorkerControl, WorkerMethods, WorkerRequest, WorkerResponse } from './protocol';

/**
 * How long `dispose()` waits for the worker to finish the model call in progress and exit. A batch
 * takes well under a second with the default models; a slow machine may take longer. After that the
 * worker is left to finish on its own (unref'd), never terminated: terminating a thread inside an
 * onnxruntime call aborts the whole process (the extension host, the CLI, the MCP server).
 */
export const CLOSE_WAIT_MS = 30_000;

/**
 * Typed proxy to the inference worker. One worker per client; requests are queued by the worker
 * in order. `dispose()` closes it gracefully (pending calls reject at once; the worker stops between
 * batches and exits). Another thread can talk to the same worker through `connect()` and
 * `InferenceClient.overPort()`.
 */
export class InferenceClient {
  private readonly worker: Worker | MessagePort;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly progressListeners = new Set<(p: DownloadProgress) => void>();
  private exited: Error | undefined;
  /** Resolves when the worker thread has exited (owner only). */
  private readonly gone: Promise<void> | undefined;

  /** @param workerScript absolute path of the bundled worker (dist/worker.js). */
  constructor(workerScript: string | MessagePort) {
    if (typeof workerScript !== 'string') {
      this.worker = workerScript;
      this.worker.on('message', (msg: WorkerResponse) => this.onMessage(msg));
      this.worker.on('close', () => this.failAll(new SiftError('The inference worker stopped.')));
      return;
    }
    // onnxruntime-node's Linux build starts Microsoft 1DS telemetry when the worker creates its
    // environment: it keeps a device id and an event database under
    // ~/.cache/Microsoft/DeveloperTools/.onnxruntime, uploads when it can, and matches
    // /proc/self/cmdline with a recursive std::regex (about three native frames per character).
    // A command line over ~13 000 characters (`sift ask DIR "<a long question>"`) overflowed the
    // worker's stack there: SIGSEGV before any model ran, and no stack size bounds a command line
    // of up to 2 MB. Switched off at the cause. The native code reads the process environment,
    // which a worker's own process.env does not reach, so it is set here, before the worker starts.
    process.env.ORT_DISABLE_TELEMETRY = '1';
    const worker = (this.worker = new Worker(workerScript));
    worker.on('message', (msg: WorkerResponse) => this.onMessage(msg));
    worker.on('error', (err) => this.failAll(new SiftError(`The inference worker crashed: ${err.message}`, 'general', { cause: err })));
    this.gone = new Promise((resolve) =>
      worker.on('exit', (code) => {
        this.failAll(new SiftError(`The inference worker stopped (exit code ${code}).`));
        resolve();
      }),
    );
  }

  /** A client on a port from `connect()`, in another thread. Download progress is not forwarded to it. */
  static overPort(port: MessagePort): InferenceClient {
    return new InferenceClient(port);
  }

  /** A new channel to this client's worker, to hand (transfer) to another thread. */
  connect(): MessagePort {
    if (!(this.worker instanceof Worker)) throw new Error('connect() needs the client that owns the worker');
    const { port1, port2 } = new MessageChannel();
    this.worker.postMessage({ connect: port1 }, [port1]);
    return port2;
  }

  call<M extends MethodName>(method: M, params: WorkerMethods[M][0], signal?: AbortSignal): Promise<WorkerMethods[M][1]> {
    if (this.exited) return Promise.reject(this.exited);
    if (signal?.aborted) return Promise.reject(abortError());
    const id = this.nextId++;
    return new Promise<WorkerMethods[M][1]>((resolve, reject) => {
      const onAbort = () => {
        // The worker stops the request at its next batch (the model call in progress finishes).
        this.pending.delete(id);
        this.worker.postMessage({ cancel: id } satisfies WorkerControl);
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (v) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(v as WorkerMethods[M][1]);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      const request: WorkerRequest<M> = { id, method, params };
      this.worker.postMessage(request);
    });
  }

  onProgress(listener: (p: DownloadProgress) => void): { dispose(): void } {
    this.progressListeners.add(listener);
    return { dispose: () => this.progressListeners.delete(listener) };
  }

  /** Keeps the process alive only while requests are in flight. */
  unref(): void {
    this.worker.unref();
  }

  /**
   * Pending calls reject now. The owner's worker is closed, not terminated: it takes no more work,
   * lets the onnxruntime call in progress finish, releases its sessions and exits; this waits for
   * that up to `waitMs`, then leaves the worker to end by itself without holding the process open.
   */
  async dispose(waitMs = CLOSE_WAIT_MS): Promise<void> {
    this.failAll(new SiftError('The inference worker was shut down.'));
    if (!(this.worker instanceof Worker)) {
      this.worker.close();
      return;
    }
    // Held open until the worker has exited (an unref'd worker would be stopped at process exit,
    // mid-run, as terminate() would), or until the wait is over.
    this.worker.ref();
    this.worker.postMessage({ close: true } satisfies WorkerControl);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), waitMs)));
    const timedOut = await Promise.race([this.gone!.then(() => false), late]);
    clearTimeout(timer);
    if (timedOut) this.worker.unref();
  }

  private onMessage(msg: WorkerResponse): void {
    if (msg.kind === 'progress') {
      for (const l of this.progressListeners) l(msg.progress);
      return;
    }
    const entry = this.pending.get(msg.id);
    if (!entry) return;
    this.pending.delete(msg.id);
    if (msg.kind === 'result') entry.resolve(msg.result);
    else entry.reject(new SiftError(msg.message));
  }

  private failAll(err: Error): void {
    this.exited ??= err;
    for (const entry of this.pending.values()) entry.reject(err);
    this.pending.clear();
  }
}

function abortError(): Error {
  const err = new SiftError('Cancelled.', 'aborted');
  err.name = 'AbortError';
  return err;
}
