import * as path from 'node:path';
import { type AnswerResult, type AskContext, type AskEvent, type CompareResult, ask, askCompare } from '../core/answer/ask';
import { type SearchResult, searchChunks } from '../core/answer/search';
import { GlobSet } from '../core/discovery';
import { retryIfIndexChanged } from '../core/store/indexChanged';
import { type KeywordCoverage, keywordCoverageNotice } from '../core/indexing/keywordCoverage';
import type { ChatModel } from '../core/llm/chatModel';
import type { EditorSignals } from '../core/ltr/features';
import type { WorkspaceRoot } from '../core/ltr/editor';
import { shippedLtrModel } from '../core/ltr/model';
import type { NamedStore } from '../core/search/retriever';
import type { Candidate } from '../core/search/types';
import type { Conversation } from '../core/conversation/conversation';
import { askTurn, compareTurn } from '../core/conversation/turn';
import { type PinnedRange, withPins } from '../core/conversation/pins';
import type { RankingFeedback } from './feedback';
import type { FolderIndexer } from './folderIndexer';
import { type Disposable, DisposableStore } from './lifecycle';
import type { LlmSettings } from './llmSettings';
import type { ModelHost } from './modelHost';
import type { WorkspacePort } from './ports';
import { StoreReaders } from './storeReaders';
import type { TeamIndex } from './teamIndex';

export interface AskServiceDeps {
  port: WorkspacePort;
  indexer: FolderIndexer;
  models: ModelHost;
  llm: LlmSettings;
  feedback: RankingFeedback;
  /** What the editor knows (open files, recent edits, cursor) in the index's terms. */
  editor: { signals(roots: readonly WorkspaceRoot[]): EditorSignals };
  /** The editor's chat model when `sift.llm.provider` chooses it (undefined: the OpenAI-compatible endpoint). */
  answerModel?: () => Promise<ChatModel | undefined>;
  /** The team index (`sift.index.store`): questions search it with the local overlay. */
  team?: Pick<TeamIndex, 'retrieval'>;
}

export interface AskOptions {
  /** Names the answer for `noteOpened`. */
  id?: string;
  rerank: boolean;
  compare: boolean;
  signal: AbortSignal;
  onEvent: (e: AskEvent) => void;
  /** The model that answers (the chat view's `request.model`); default: from the settings. */
  model?: ChatModel;
  /** Earlier turns: the question is made standalone for retrieval and the LLM sees them. */
  conversation?: Conversation;
  /** Files, folders or globs the question is scoped to besides its `@path` mentions (files: always in the context; folders: restrict). */
  paths?: string[];
  /** Editor ranges pinned as sources (always in the context, exact lines). */
  pins?: PinnedRange[];
}

export interface SearchOptions {
  limit: number;
  rerank: boolean;
  /** Globs the chunk's path (or `folder/path` in multi-root) must match. */
  paths?: string[];
  signal?: AbortSignal;
}

/**
 * Answers questions over every ready folder: the stores, the worker, the reranker, the LLM
 * configuration, and learning-to-rank with the editor's context and what was learned from opens.
 */
export class AskService implements Disposable {
  private readonly disposables = new DisposableStore();
  private readonly readers = this.disposables.add(new StoreReaders());
  /** Follow-up rewrites by content hash, for this window. */
  private readonly rewrites = new Map<string, string>();

  constructor(private readonly deps: AskServiceDeps) {}

  dispose(): void {
    this.disposables.dispose();
  }

  /** `compare` ranks and answers both ways. */
  async ask(question: string, opts: AskOptions): Promise<{ single?: AnswerResult; compare?: CompareResult }> {
    return retryIfIndexChanged(() => this.askOnce(question, opts));
  }

  private async askOnce(question: string, opts: AskOptions): Promise<{ single?: AnswerResult; compare?: CompareResult }> {
    const { ctx, editor, recorder, ranked, notices } = await this.context({ rerank: opts.rerank || opts.compare, signal: opts.signal, model: opts.model, answer: true });
    for (const message of notices) opts.onEvent({ type: 'notice', message });
    const result = opts.compare ? { compare: await this.compare(ctx, question, opts) } : { single: await this.single(ctx, question, opts) };
    // The answer says what it was given from (before the dense-coverage notice, which is about the same files).
    for (const r of result.compare ? [result.compare.notReranked, result.compare.reranked] : [result.single]) r.notices.unshift(...notices);
    const answer = result.compare ? result.compare.reranked : result.single;
    const candidates = ranked.get('reranked');
    if (recorder && opts.id && answer?.reranked && candidates) this.deps.feedback.remember(recorder, opts.id, question, candidates, answer.sources, editor);
    return result;
  }

  private async single(ctx: AskContext, question: string, opts: AskOptions): Promise<AnswerResult> {
    const pins = opts.pins ?? [];
    // A pin's file is mentioned too: it passes a folder mention's filter and goes first.
    const paths = [...(opts.paths ?? []), ...pins.map((p) => (p.folder ? `${p.folder}/${p.path}` : p.path))];
    if (!opts.conversation && !paths.length) return ask(ctx, question, { rerank: opts.rerank, onEvent: opts.onEvent });
    const log = (line: string) => this.deps.port.log.info(line);
    const conversation = opts.conversation ?? { id: '', turns: [] };
    return (await askTurn(withPins(ctx, pins), conversation, question, { rerank: opts.rerank, onEvent: opts.onEvent, rewriteCache: this.rewrites, log, ...(paths.length ? { paths } : {}) })).result;
  }

  /** Every folder's index that can be read now (for `@` completion); none in an untrusted workspace. */
  async indexes(): Promise<NamedStore[]> {
    const { port, indexer } = this.deps;
    if (!port.isTrusted()) return [];
    const out: NamedStore[] = [];
    for (const f of indexer.folders.entries()) {
      const { store } = await this.readers.open(f.indexDir);
      if (store) out.push({ name: indexer.folders.indexName(f), store });
    }
    return out;
  }

  /** A comparison ranks like a single answer: the follow-up made standalone, mentions and pins narrow both sides. */
  private async compare(ctx: AskContext, question: string, opts: AskOptions): Promise<CompareResult> {
    const pins = opts.pins ?? [];
    const paths = [...(opts.paths ?? []), ...pins.map((p) => (p.folder ? `${p.folder}/${p.path}` : p.path))];
    if (!opts.conversation && !paths.length) return askCompare(ctx, question, { onEvent: opts.onEvent });
    const log = (line: string) => this.deps.port.log.info(line);
    const conversation = opts.conversation ?? { id: '', turns: [] };
    return (await compareTurn(withPins(ctx, pins), conversation, question, { onEvent: opts.onEvent, rewriteCache: this.rewrites, log, ...(paths.length ? { paths } : {}) })).compare;
  }

  /**
   * Ranked chunks for a search tool (the editor's language-model tool): the same indexes, models,
   * ranking and redaction as the panel and the MCP server (core `searchChunks`).
   */
  async search(query: string, opts: SearchOptions): Promise<SearchResult> {
    const globs = opts.paths?.length ? new GlobSet(opts.paths, false) : undefined;
    const filter = globs ? (c: { folder?: string; chunk: { path: string } }) => globs.matches(c.chunk.path) || Boolean(c.folder && globs.matches(`${c.folder}/${c.chunk.path}`)) : undefined;
    return retryIfIndexChanged(async () => {
      const { ctx, notices } = await this.context({ rerank: opts.rerank, signal: opts.signal, answer: false });
      const result = await searchChunks(ctx, query, { limit: opts.limit, rerank: opts.rerank, filter });
      return { ...result, notices: [...notices, ...result.notices] };
    });
  }

  /** The file a source names: its folder (by index name; '' or absent for a single folder) joined with its path. */
  fileOf(folder: string | undefined, relPath: string): string | undefined {
    const entries = this.deps.indexer.folders.entries();
    const entry = entries.find((f) => this.deps.indexer.folders.indexName(f) === (folder ?? ''));
    return entry ? path.join(entry.folder.fsPath, relPath) : undefined;
  }

  private async context(opts: { rerank: boolean; signal?: AbortSignal; model?: ChatModel; answer: boolean }) {
    const { port, indexer, models, feedback } = this.deps;
    if (!port.isTrusted()) throw new Error('This workspace is not trusted, so Sift has not indexed it. Trust the workspace to ask questions.');
    const folders = indexer.folders.entries();
    if (!folders.length) throw new Error('Open a folder first: Sift answers questions about the folders in your workspace.');
    // Lexical first, answered from what is ready: every folder keyword-searchable, or after a short
    // grace what its keyword pass has committed so far; dense search covers what is embedded so far.
    const partial = await indexer.whenAnswerable(async (f) => {
      const { store } = await this.readers.open(f.indexDir);
      return Boolean(store && Object.keys(store.manifest.files).length);
    });
    const stores: NamedStore[] = [];
    for (const f of folders) {
      const { store, problem } = await this.readers.open(f.indexDir);
      if (store) stores.push({ name: indexer.folders.indexName(f), store });
      else port.log.warn(`[${f.folder.name}] no usable index (${problem})`);
    }
    const notices = readinessNotices(
      partial.map((p) => ({ ...p, name: folders.length > 1 ? p.entry.folder.name : '' })),
      indexer.isPaused,
    );
    for (const n of notices) port.log.info(n);
    if (!stores.length) throw new Error(indexer.isPaused ? 'Indexing is paused and no index exists yet. Resume indexing (Sift: Resume Indexing) to ask.' : 'No index is available yet. See Sift: Show Logs for why.');
    // Dense retrieval when every index has vectors of the model the worker holds; otherwise keyword search.
    const embedder = stores.every((s) => s.store.manifest.embedding) ? await models.embedder() : undefined;
    const embedded = Boolean(embedder && stores.every((s) => s.store.manifest.embedding?.model === embedder.model));
    const reranker = opts.rerank ? await models.reranker() : undefined;
    // A question spans every folder: window-scoped settings.
    const s = port.readSettings(undefined);
    // Learning-to-rank: the shipped model with the editor's context and, when allowed, what was
    // learned from the sources opened after earlier answers in this workspace.
    const ltr = s['ltr.enabled'] ? shippedLtrModel() : undefined;
    const recorder = ltr ? feedback.active(s) : undefined;
    const roots = folders.map((f) => ({ name: indexer.folders.indexName(f), root: f.folder.fsPath }));
    const editor = ltr ? { ...this.deps.editor.signals(roots), ...(recorder ? { openedBefore: recorder.learner.openedBefore() } : {}) } : undefined;
    const ranked = new Map<string, readonly Candidate[]>();
    const team = await this.deps.team?.retrieval(folders.length === 1 ? folders[0]!.folder.fsPath : undefined, stores[0]!.store);
    const ctx: AskContext = {
      store: stores,
      retrieve: team?.retrieve,
      embedder: embedded ? embedder?.client : undefined,
      reranker,
      ltr,
      editor,
      ltrResidual: recorder?.learner.residual(),
      onCandidates: (variant, candidates) => ranked.set(variant, candidates),
      signal: opts.signal,
      settings: {
        candidates: s['retrieval.candidates'],
        topN: s['retrieval.topN'],
        tokenBudget: s['retrieval.tokenBudget'],
        questionPrior: s['retrieval.questionPrior'],
        rerankMaxLength: s['rerank.maxTokens'],
        redactSecrets: s['llm.redactSecrets'],
        ...(opts.answer ? { llm: await this.deps.llm.config(), chatModel: opts.model ?? (await this.deps.answerModel?.()) } : {}),
      },
    };
    if (editor) port.log.info(`Editor context: ${editor.openFiles?.length ?? 0} open, ${editor.recentFiles?.length ?? 0} recently edited, cursor ${editor.cursor ? `${editor.cursor.path}:${editor.cursor.line}` : 'none'}`);
    return { ctx, editor, recorder, ranked, notices };
  }

  /** The user opened source `n` of answer `id` (ranking feedback, when learning is on). */
  noteOpened(id: string, variant: 'reranked' | 'notReranked', n: number): Promise<void> {
    return this.deps.feedback.opened(this.deps.port.readSettings(undefined), id, variant, n);
  }
}

/**
 * What an answer given before every folder was keyword-searchable says: the keyword coverage of each
 * folder answered from part of its files, and folders whose recent changes are not indexed yet.
 */
function readinessNotices(partial: { name: string; keyword?: KeywordCoverage; unindexedChanges: number }[], paused: boolean): string[] {
  const covered = partial.flatMap((p) => (p.keyword ? [{ name: p.name, ...p.keyword }] : []));
  const notice = keywordCoverageNotice(covered);
  const stale = partial.filter((p) => !p.keyword);
  const changes = stale.map((p) => `${p.unindexedChanges ? `${p.unindexedChanges} changed file${p.unindexedChanges === 1 ? '' : 's'}` : 'recent changes'}${p.name ? ` in ${p.name}` : ''}`);
  return [
    ...(notice ? [notice] : []),
    ...(changes.length ? [`Answered from the index as it was; not indexed yet: ${changes.join(', ')}${paused ? ' (indexing is paused: Sift: Resume Indexing)' : ''}.`] : []),
  ];
}
