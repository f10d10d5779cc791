import * as path from 'node:path';
import { type AnswerResult, type AskContext, type AskSettings, ask } from '../../core/answer/ask';
import { type SearchResult, redactForAgent, searchChunks } from '../../core/answer/search';
import { type DiscoveryOptions, GlobSet } from '../../core/discovery';
import { retryIfIndexChanged } from '../../core/store/indexChanged';
import type { InferenceClient } from '../../core/worker/client';
import type { KeywordCoverage } from '../../core/indexing/keywordCoverage';
import type { LtrModel } from '../../core/ltr/model';
import type { RerankScorer } from '../../core/rerank/reranker';
import type { NamedStore } from '../../core/search/retriever';
import { SiftError, errorMessage } from '../../core/util/errors';
import { type AskCommandOptions, answerJson, llmConfigFromEnv, loadReranker, ltrFromOptions } from '../askCommand';
import { embeddingRequest, queryEmbedder, remoteEmbedding } from '../engine';
import { defaultIndexDir } from '../paths';
import { type FolderStatus, type Searchable, ServedFolder } from './folders';
import { type RangeResult, readRange } from './readRange';

export interface McpOptions extends AskCommandOptions {
  /** Search results per call when the agent does not say (default 10). */
  limit?: number;
}

export interface Coverage {
  /** Share of the searched chunks that dense (semantic) search covers, 0..1. */
  denseShare: number;
  /** Set when dense search does not cover everything yet, and why. */
  note?: string;
  /** Set when a folder's keyword pass was still running: files searched, of the folders' total (summed over those folders). */
  keyword?: KeywordCoverage;
}

export type SearchToolResult = SearchResult & { coverage: Coverage };

export interface ServiceStatus {
  folders: FolderStatus[];
  models: { embedding: string | null; reranker: string | null; llm: string | null };
}

/**
 * What the MCP tools call: the served folders (kept fresh, see `ServedFolder`) and the engine's
 * core calls (`searchChunks`, `ask`) with the CLI's model options. No MCP types here.
 */
export class McpService {
  readonly folders: ServedFolder[];
  private rerankerLoad?: Promise<RerankScorer | undefined>;
  private readonly ltr: LtrModel | undefined;
  readonly llm: ReturnType<typeof llmConfigFromEnv>;
  private readonly discovery: DiscoveryOptions;
  private disposed = false;

  constructor(
    roots: string[],
    private readonly client: InferenceClient,
    private readonly options: McpOptions,
    private readonly log: (message: string) => void,
  ) {
    this.discovery = {
      maxFileBytes: options.maxFileSize,
      include: options.include,
      exclude: options.exclude,
      extraSecretPatterns: options.secretPattern,
    };
    const names = folderNames(roots);
    const indexerScript = path.join(__dirname, 'indexer.js');
    this.folders = roots.map(
      (root, i) =>
        new ServedFolder(roots.length > 1 ? names[i]! : '', root, path.resolve(options.indexDir ?? defaultIndexDir(root)), client, {
          embedding: embeddingRequest(options),
          remoteEmbedding: options.lexicalOnly ? undefined : remoteEmbedding(options),
          discovery: this.discovery,
          maxTokens: options.maxTokens,
          indexerScript,
          log,
        }),
    );
    this.ltr = ltrFromOptions(options);
    this.llm = llmConfigFromEnv(options);
  }

  /** Loads the cross-encoder now, so that the first search does not wait for it. */
  warmUp(): void {
    if (this.options.rerank !== false) void this.reranker();
  }

  private reranker(): Promise<RerankScorer | undefined> {
    this.rerankerLoad ??= loadReranker(this.client, this.options, (m) => this.log(m)).catch((err: unknown) => {
      if (!this.disposed) this.log(`the reranker could not be loaded: ${errorMessage(err)}`);
      this.rerankerLoad = undefined; // try again on the next search
      return undefined;
    });
    return this.rerankerLoad;
  }

  private settings(): AskSettings {
    return {
      candidates: this.options.candidates,
      topN: this.options.top,
      tokenBudget: this.options.tokenBudget,
      rerankMaxLength: this.options.rerankMaxTokens,
      redactSecrets: this.options.redact !== false,
      llm: this.llm,
    };
  }

  /**
   * Brings every folder's index up to date and runs `fn` on them; the stores stay valid until it
   * returns. Run again on newly leased stores when the index changed while `fn` read it
   * (`retryIfIndexChanged`: a background pass commits meanwhile).
   */
  private withStores<T>(fn: (ctx: AskContext, leases: Searchable[]) => Promise<T>, wantRerank: boolean, signal?: AbortSignal): Promise<T> {
    return retryIfIndexChanged(() => this.withStoresOnce(fn, wantRerank, signal));
  }

  private async withStoresOnce<T>(fn: (ctx: AskContext, leases: Searchable[]) => Promise<T>, wantRerank: boolean, signal?: AbortSignal): Promise<T> {
    const settled = await Promise.allSettled(this.folders.map((f) => f.searchable()));
    const leases = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    try {
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      const stores: NamedStore[] = leases.map((l, i) => ({ name: this.folders[i]!.name, store: l.store }));
      const embedded = stores.every((s) => s.store.manifest.embedding);
      const ctx: AskContext = {
        store: stores,
        embedder: embedded ? queryEmbedder(this.client, this.options, stores[0]!.store.manifest.embedding) : undefined,
        reranker: wantRerank ? await this.reranker() : undefined,
        ltr: wantRerank ? this.ltr : undefined,
        signal,
        settings: this.settings(),
      };
      return await fn(ctx, leases);
    } finally {
      for (const l of leases) l.release();
    }
  }

  async search(query: string, opts: { limit: number; rerank: boolean; paths?: string[] }, signal?: AbortSignal): Promise<SearchToolResult> {
    const globs = opts.paths?.length ? new GlobSet(opts.paths, false) : undefined;
    const filter = globs ? (c: { folder?: string; chunk: { path: string } }) => globs.matches(c.chunk.path) || Boolean(c.folder && globs.matches(`${c.folder}/${c.chunk.path}`)) : undefined;
    return this.withStores(
      async (ctx, leases) => {
        const result = await searchChunks(ctx, query, { limit: opts.limit, rerank: opts.rerank, filter });
        const coverage = coverageOf(leases.map((l) => ({ chunks: l.store.chunkCount, denseShare: ctx.embedder ? l.denseShare : 0, note: l.note, keyword: l.keyword })));
        if (!ctx.embedder && leases.some((l) => l.denseShare > 0)) {
          coverage.note = [coverage.note, 'Some folders have no embeddings yet, so all were searched by keywords (BM25) only.'].filter(Boolean).join(' ');
        }
        return { ...result, coverage };
      },
      opts.rerank,
      signal,
    );
  }

  /** A cited answer from the configured LLM (the `ask` tool; only offered when an LLM is configured). */
  async ask(question: string, rerank: boolean, signal?: AbortSignal): Promise<{ answer: ReturnType<typeof answerJson>; coverage: Coverage; result: AnswerResult }> {
    if (!this.llm) throw new SiftError('No LLM is configured for Sift (set OPENAI_BASE_URL and/or OPENAI_API_KEY, and --llm-model).', 'bad-input');
    return this.withStores(
      async (ctx, leases) => {
        const result = await ask(ctx, question, { rerank });
        const redact = this.options.redact !== false;
        const json = answerJson(result);
        // The sources go to the agent (and its LLM): redacted like search results.
        const sources = json.sources.map((s) => {
          const clean = redactForAgent(s.text, redact, s.path);
          return { ...s, text: clean.text, ...(clean.redacted ? { redacted: clean.redacted } : {}) };
        });
        const coverage = coverageOf(leases.map((l) => ({ chunks: l.store.chunkCount, denseShare: ctx.embedder ? l.denseShare : 0, note: l.note, keyword: l.keyword })));
        return { answer: { ...json, sources }, coverage, result };
      },
      rerank,
      signal,
    );
  }

  /**
   * Lines of a file in a served folder. With several folders, `folder` names one; without it, the
   * path must exist in exactly one of them.
   */
  async readRange(relPath: string, startLine: number, endLine: number | undefined, folder?: string): Promise<RangeResult> {
    const redact = this.options.redact !== false;
    const candidates = folder ? this.folders.filter((f) => f.name === folder || (!f.name && path.basename(f.root) === folder)) : this.folders;
    if (!candidates.length) throw new SiftError(`No served folder is named "${folder}". Served: ${this.folderList()}.`, 'bad-input');
    if (candidates.length === 1) {
      const f = candidates[0]!;
      return readRange(f.root, relPath, startLine, endLine, { discovery: this.discovery, redact, ...(f.name ? { folder: f.name } : {}) });
    }
    const found: RangeResult[] = [];
    let firstError: unknown;
    for (const f of candidates) {
      try {
        found.push(await readRange(f.root, relPath, startLine, endLine, { discovery: this.discovery, redact, folder: f.name }));
      } catch (err) {
        firstError ??= err;
      }
    }
    if (found.length === 1) return found[0]!;
    if (found.length > 1) throw new SiftError(`"${relPath}" exists in several served folders (${found.map((r) => r.folder).join(', ')}): name one with "folder".`, 'bad-input');
    throw firstError;
  }

  async status(): Promise<ServiceStatus> {
    const reranker = this.options.rerank === false ? null : ((await this.rerankerLoad)?.model ?? this.options.rerankerModel ?? process.env.SIFT_RERANKER_MODEL ?? null);
    return {
      folders: await Promise.all(this.folders.map((f) => f.status())),
      models: {
        embedding: embeddingModelLabel(this.options),
        reranker,
        llm: this.llm?.model ?? null,
      },
    };
  }

  private folderList(): string {
    return this.folders.map((f) => f.name || path.basename(f.root)).join(', ');
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all(this.folders.map((f) => f.dispose()));
  }
}

/** Folder labels for results: base names, made unique. */
function folderNames(roots: string[]): string[] {
  const used = new Set<string>();
  return roots.map((root) => {
    const base = path.basename(root) || 'root';
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}-${n}`;
    used.add(name);
    return name;
  });
}

function coverageOf(parts: { chunks: number; denseShare: number; note?: string; keyword?: KeywordCoverage }[]): Coverage {
  const total = parts.reduce((n, p) => n + p.chunks, 0);
  const dense = parts.reduce((n, p) => n + p.chunks * p.denseShare, 0);
  const notes = parts.map((p) => p.note).filter(Boolean);
  const partial = parts.flatMap((p) => (p.keyword ? [p.keyword] : []));
  const keyword = partial.length ? { searchable: partial.reduce((n, k) => n + k.searchable, 0), total: partial.reduce((n, k) => n + k.total, 0) } : undefined;
  return { denseShare: total ? Math.round((dense / total) * 1000) / 1000 : 0, ...(notes.length ? { note: notes.join(' ') } : {}), ...(keyword ? { keyword } : {}) };
}

/** The embedding model `index_status` names: the local model, or `openai-compatible <model> at <server>`. */
function embeddingModelLabel(options: McpOptions): string | null {
  const request = embeddingRequest(options);
  if (!request) return null;
  const remote = remoteEmbedding(options);
  return remote ? `openai-compatible ${remote.model || '(server default)'} at ${new URL(remote.baseUrl).origin}` : request.model;
}
