import type { InferenceClient } from '../core/worker/client';
import { type RemoteEmbeddingOptions, RemoteEmbedder, searchWorkerFor } from '../core/worker/embedder';
import type { SearchWorker } from '../core/search/retriever';
import type { DownloadProgress } from '../core/worker/protocol';
import { detectOnnxBackend } from '../core/worker/onnxBackend';
import { type RerankScorer, Reranker } from '../core/rerank/reranker';
import { HttpReranker } from '../core/rerank/http';
import { errorMessage } from '../core/util/errors';
import type { IndexStatus } from '../protocol/messages';
import { DownloadNotices } from './downloads';
import { type Disposable, DisposableStore, Emitter, toDisposable } from './lifecycle';
import type { WorkspacePort } from './ports';
import { modelFromSettings } from './trust';

export type MissingModel = IndexStatus['missingModels'][number];

export interface ModelHostOptions {
  /** Starts an inference worker (the extension: `new InferenceClient(<dist/worker.js>)`). */
  createClient: () => InferenceClient;
  /** Where downloaded models are cached (the extension's global storage). */
  cacheDir: string;
  port: Pick<WorkspacePort, 'readSettings' | 'withProgress' | 'log'>;
  /** The rerank server's API key (secret storage, bound to its origin; src/vscode/rerankKey.ts). */
  rerankApiKey?: () => Promise<string | undefined>;
  /** The embedding server's API key (the same, for `sift.embedding.baseUrl`). */
  embeddingApiKey?: () => Promise<string | undefined>;
}

/**
 * The one inference worker of the window (started on first use; the promise is memoised, so two
 * concurrent first uses start one worker), its model downloads, the reranker, and which models
 * could not be loaded. Model settings are user-only (machine-scoped), so they are read for the
 * window, not per folder.
 */
export class ModelHost implements Disposable {
  private readonly disposables = new DisposableStore();
  private clientPromise: Promise<InferenceClient> | undefined;
  private rerankerPromise: Promise<RerankScorer | undefined> | undefined;
  private missing: MissingModel[] = [];
  /** Workers this host stopped that are still closing (finishing a model call, releasing sessions). */
  private readonly stopping = new Set<Promise<void>>();
  private readonly changed = this.disposables.add(new Emitter<void>());
  /** The missing models changed. */
  readonly onDidChangeMissing = this.changed.event;
  private readonly downloads: DownloadNotices;

  constructor(private readonly opts: ModelHostOptions) {
    this.downloads = this.disposables.add(
      new DownloadNotices(opts.port.withProgress.bind(opts.port), (model) => {
        opts.port.log.warn(`Download of ${model} cancelled; Sift continues without it (keyword search).`);
        this.stopWorker();
      }),
    );
    this.disposables.add(toDisposable(() => this.stopWorker()));
  }

  dispose(): void {
    this.disposables.dispose();
  }

  /** The worker, started (and configured) on first use. */
  client(): Promise<InferenceClient> {
    if (!this.clientPromise) {
      const starting = startWorker(this.opts, (p) => this.downloads.onProgress(p));
      this.clientPromise = starting;
      // A worker that failed to start is not kept: the next use tries again.
      starting.catch(() => {
        if (this.clientPromise === starting) this.clientPromise = undefined;
      });
    }
    return this.clientPromise;
  }

  /**
   * The worker with the embedding model of the settings loaded, for questions over an embedded
   * index (a worker started after the index was built, e.g. after a cancelled download or a model
   * setting change, has none yet); undefined when it does not load. The worker keeps a loaded model.
   */
  async embedder(): Promise<{ client: SearchWorker; model: string } | undefined> {
    const settings = this.opts.port.readSettings(undefined);
    const client = await this.client();
    const remote = await this.remoteEmbedding();
    // An embedding server: the question goes to it (the model name is what the index records); shards are searched by the worker.
    if (remote) {
      const embedder = new RemoteEmbedder(remote);
      return { client: searchWorkerFor(embedder, client), model: embedder.http.model };
    }
    const loaded = await client.call('loadEmbedder', { model: modelFromSettings(settings['models.embedding'], settings) }).finally(() => this.downloads.finish());
    return loaded.ok ? { client, model: loaded.info.model } : undefined;
  }

  /**
   * The embedding server of the user settings (`sift.embedding.*`, user-only) with its key, or undefined
   * for the local model. Read for each index run and question, so a settings change applies at once.
   */
  async remoteEmbedding(): Promise<RemoteEmbeddingOptions | undefined> {
    const s = this.opts.port.readSettings(undefined);
    if (s['embedding.provider'] !== 'openai-compatible') return undefined;
    if (!s['embedding.baseUrl']) throw new Error('Set sift.embedding.baseUrl in your user settings to the embedding server (e.g. http://localhost:11434/v1), or sift.embedding.provider back to local.');
    const apiKey = this.opts.embeddingApiKey ? await this.opts.embeddingApiKey() : process.env.SIFT_EMBEDDING_API_KEY || undefined;
    return {
      provider: 'openai-compatible',
      baseUrl: s['embedding.baseUrl'],
      model: s['embedding.model'],
      ...(apiKey ? { apiKey } : {}),
      ...(s['embedding.dimensions'] > 0 ? { dimensions: s['embedding.dimensions'] } : {}),
      batchSize: s['embedding.batchSize'],
      concurrency: s['embedding.concurrency'],
      queryPrefix: s['embedding.queryPrefix'],
      documentPrefix: s['embedding.documentPrefix'],
    };
  }

  /** The cross-encoder, loaded on first use; undefined when it cannot be loaded (tried once per settings). */
  reranker(): Promise<RerankScorer | undefined> {
    this.rerankerPromise ??= this.loadReranker();
    return this.rerankerPromise;
  }

  private async loadReranker(): Promise<RerankScorer | undefined> {
    const settings = this.opts.port.readSettings(undefined);
    const log = this.opts.port.log;
    try {
      if (settings['rerank.provider'] === 'http') {
        // User-only settings (trust.ts); the key (secret storage, else the environment) goes only to that origin.
        const apiKey = this.opts.rerankApiKey ? await this.opts.rerankApiKey() : process.env.SIFT_RERANK_API_KEY || undefined;
        const http = new HttpReranker({ baseUrl: settings['rerank.baseUrl'], model: settings['rerank.model'], apiKey });
        log.info(`Reranking by the server ${http.server} (model ${http.model})`);
        return http;
      }
      const client = await this.client();
      const loaded = await client.call('loadReranker', { model: modelFromSettings(settings['models.reranker'], settings) }).finally(() => this.downloads.finish());
      if (loaded.ok) {
        this.modelLoaded('reranker');
        log.info(`Reranker loaded: ${loaded.info.model} (${loaded.info.dtype})`);
        return new Reranker(client, loaded.info.model);
      }
      log.warn(loaded.message);
      this.noteMissing('reranker', settings['models.reranker'], loaded.message);
    } catch (err) {
      log.warn(`The reranker could not be loaded: ${errorMessage(err)}`);
      this.noteMissing('reranker', settings['models.reranker'], errorMessage(err));
    }
    return undefined;
  }

  missingModels(): MissingModel[] {
    return this.missing;
  }

  noteMissing(role: MissingModel['role'], model: string, message: string): void {
    this.missing = [...this.missing.filter((m) => m.role !== role), { role, model, message }];
    this.changed.fire();
  }

  modelLoaded(role: MissingModel['role']): void {
    if (!this.missing.some((m) => m.role === role)) return;
    this.missing = this.missing.filter((m) => m.role !== role);
    this.changed.fire();
  }

  /** Closes download notifications left open (a run that ended without a 'ready' from the worker). */
  downloadsDone(): void {
    this.downloads.finish();
  }

  /** A model setting changed: forget what was loaded or missing; the worker reads its environment once, so it restarts. */
  reload(): void {
    this.missing = [];
    this.rerankerPromise = undefined;
    this.stopWorker();
    this.changed.fire();
  }

  /** The rerank server's key changed: the next question makes a new HTTP reranker with it. */
  resetReranker(): void {
    this.rerankerPromise = undefined;
  }

  /** Stops the worker (a cancelled download); the next use starts a new one. The reranker lived in it. */
  stopWorker(): void {
    const current = this.clientPromise;
    this.clientPromise = undefined;
    this.rerankerPromise = undefined;
    if (!current) return;
    // Closed, not terminated (the model call in progress finishes first; see InferenceClient.dispose).
    const stop = current.then(
      (c) => c.dispose(),
      () => undefined,
    );
    this.stopping.add(stop);
    void stop.finally(() => this.stopping.delete(stop));
  }

  /** Resolves when every worker this host stopped has exited (deactivate waits for it). */
  async stopped(): Promise<void> {
    await Promise.allSettled([...this.stopping]);
  }
}

/** Starts and configures a worker (model settings are user-only: read for the window). */
async function startWorker(opts: ModelHostOptions, onProgress: (p: DownloadProgress) => void): Promise<InferenceClient> {
  const settings = opts.port.readSettings(undefined);
  const client = opts.createClient();
  try {
    await client.call('configure', {
      cacheDir: opts.cacheDir,
      allowRemote: settings['models.allowDownloads'],
      remoteHost: settings['models.hubUrl'] || undefined,
      threads: 2,
    });
  } catch (err) {
    void client.dispose();
    throw err;
  }
  client.onProgress(onProgress);
  // Native onnxruntime, or WebAssembly where this platform has none (the universal package).
  opts.port.log.info(`Models run on ${detectOnnxBackend().label}`);
  return client;
}
