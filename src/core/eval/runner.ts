import type { IndexStore } from '../store/store';
import { extractFeatures, queryInfo } from '../ltr/features';
import { type LtrModel, ltrRerank } from '../ltr/model';
import { priorDepth } from '../search/namedFiles';
import type { DefinitionHit } from '../search/definitionLookup';
import { type FeedbackResult, feedbackSearch } from '../search/feedback';
import { type Neighbour, lookupNeighbours } from '../search/neighbours';
import { FEEDBACK_DEPTH, type PriorLookups, lookupForPrior, widenForPrior } from '../search/priorPool';
import { applyQuestionPrior } from '../search/questionPrior';
import { type QuestionKind, understandQuestion } from '../query/understand';
import type { RerankScorer } from '../rerank/reranker';
import { DEFAULT_RRF_K } from '../search/fusion';
import { type SearchWorker, retrieve } from '../search/retriever';
import type { Candidate } from '../search/types';
import { throwIfAborted } from '../util/errors';
import { type QuestionMetrics, type RankedChunk, chunkGrade, fileRanking, meanMetrics, scoreRanking } from './metrics';
import type { EvalQuestion, GoldFile } from './questions';

/**
 * Runs every pipeline variant on the same index (the same chunk ids) for a list of questions.
 *
 * Retrieval runs once per question (`retrieve` with a candidate list deep enough to hold both
 * retrievers' full lists); the variants are cut from it:
 *   bm25    the BM25 list alone (as a lexical-only index would rank it)
 *   dense   the vector list alone
 *   hybrid  reciprocal rank fusion of both (what `sift ask` retrieves)
 *   +ce     the top K of the base list reordered by the cross-encoder
 *   +ltr    the top K reordered by the learning-to-rank model (after the cross-encoder in +ce+ltr)
 * Reordered top K is followed by the rest of the base list, so every variant ranks the same set.
 */
export type BaseName = 'bm25' | 'dense' | 'hybrid';
export interface VariantSpec {
  name: string;
  base: BaseName;
  ce: boolean;
  ltr: boolean;
  /** `+q`: question understanding's file-level prior last (src/core/search/questionPrior.ts; on in `sift ask`). */
  q?: boolean;
}

/**
 * The rows `sift eval` prints unless told otherwise. `hybrid+ce+q` is what `sift ask` ranks by default
 * with an embedding model and a reranker, `bm25+q` what it ranks on a lexical-only index; the rows
 * without `+q` show what each stage adds.
 */
export const DEFAULT_VARIANTS = ['bm25', 'dense', 'hybrid', 'hybrid+ce', 'hybrid+ltr', 'hybrid+ce+ltr', 'bm25+ltr', 'bm25+q', 'hybrid+q', 'hybrid+ce+q'];

export function parseVariant(name: string): VariantSpec | undefined {
  const parts = name.trim().toLowerCase().split('+');
  const base = parts[0] as BaseName;
  if (!['bm25', 'dense', 'hybrid'].includes(base)) return undefined;
  const rest = new Set(parts.slice(1));
  for (const r of rest) if (r !== 'ce' && r !== 'ltr' && r !== 'q') return undefined;
  const ce = rest.has('ce');
  const ltr = rest.has('ltr');
  const q = rest.has('q');
  return { name: [base, ...(ce ? ['ce'] : []), ...(ltr ? ['ltr'] : []), ...(q ? ['q'] : [])].join('+'), base, ce, ltr, ...(q ? { q } : {}) };
}

export interface EvalEngine {
  store: IndexStore;
  /** Worker with the index's embedding model loaded (omit: no dense variants). */
  /** The index's embedder (the worker, or an embedding server beside it: src/core/worker/embedder.ts). */
  embedder?: SearchWorker;
  reranker?: RerankScorer;
  ltr?: LtrModel;
  /** Replaces the first-stage retrieval (the team index with its local overlay, src/core/team); defaults to `retrieve`. */
  retrieve?: typeof retrieve;
}

export interface EvalRunOptions {
  variants: VariantSpec[];
  /** Candidates reordered by the cross-encoder / learning-to-rank (K, as `sift ask --candidates`). */
  candidates: number;
  /** How deep each retriever looks. */
  depth: number;
  /** How deep `+q` looks (default by the question's kind, src/core/search/namedFiles.ts priorDepth, as `sift ask`). */
  priorDepth?: number;
  /** Tokens the cross-encoder reads per pair (as `sift ask --rerank-max-tokens`; default the worker's 256). */
  rerankMaxLength?: number;
  /** Keep the top-K feature rows and grades of these bases (for training the LTR model). */
  collectLtr?: BaseName[];
  signal?: AbortSignal;
  onQuestion?: (done: number, total: number) => void;
}

export interface StageTimings {
  embed: number;
  dense: number;
  lexical: number;
  fuse: number;
  ce: number;
  ltr: number;
}

export interface VariantOutcome {
  metrics: QuestionMetrics;
  /** 1-based rank of each gold file in the file ranking (null: not retrieved). */
  goldFileRanks: Record<string, number | null>;
  topFiles: string[];
  topChunks: { id: string; path: string; startLine: number; endLine: number; grade: number; symbols: string[] }[];
  ms: number;
  /** The reranker failed for this question: the row scores the base ranking unreranked (as `sift ask` falls back). */
  rerankFallback?: boolean;
}

export interface QuestionOutcome {
  id: string;
  question: string;
  repo?: string;
  commit?: string;
  gold: GoldFile[];
  /** Gold files the index does not contain (not discoverable: skipped, deleted, …). */
  goldNotIndexed: string[];
  /** The question's kind as question understanding sees it (src/core/query): results are reported per kind too. */
  kind: QuestionKind;
  variants: Record<string, VariantOutcome>;
  timings: StageTimings;
  /** Why reranking failed for this question (a rerank server down, a timeout); its +ce rows fell back. */
  rerankFailure?: string;
}

export interface LtrRows {
  id: string;
  repo?: string;
  base: BaseName;
  ce: boolean;
  features: number[][];
  grades: number[];
  paths: string[];
  /** The question and the candidates as scored (chunk + provenance), so features can be recomputed offline. */
  question?: string;
  candidates?: Candidate[];
  /** The question's gold files (for file-level metrics offline). */
  goldFiles?: string[];
  /** Chunks of files the question names by path that the candidates lack (src/core/search/namedFiles.ts): `+q` appends them. */
  named?: { chunk: Candidate['chunk']; folder?: string }[];
  /** Files defining the symbols the question names, from the whole index (src/core/search/definitionLookup.ts), before the N-files rule: `+q` adds the ones it keeps. */
  defined?: DefinitionHit[];
  /** Neighbours of the first stage's first NEIGHBOURS_DUMPED files (src/core/search/neighbours.ts): `+q` adds them with EvidenceWeights nbFrom > 0. */
  neighbours?: Neighbour[];
  /** A feedback search's terms and the files it found that the list lacks (FEEDBACK_DUMPED). */
  feedback?: FeedbackResult;
}

/** How many top files' neighbours a candidate dump carries. */
const NEIGHBOURS_DUMPED = 10;
/** The feedback search a candidate dump carries (src/core/search/feedback.ts). */
const FEEDBACK_DUMPED = { files: 3, terms: 12 };

export interface VariantSummary {
  name: string;
  available: boolean;
  reason?: string;
  n: number;
  metrics?: QuestionMetrics;
  /** Mean milliseconds per question of the stages this variant uses, and their sum. */
  latency?: Partial<StageTimings> & { total: number };
  /** Questions whose reranking failed and were scored on the unreranked ranking, with the first failure. */
  rerankFallbacks?: { count: number; reason: string };
}

export interface EvalRun {
  questions: QuestionOutcome[];
  ltrRows: LtrRows[];
  unavailable: Record<string, string>;
}

function round(v: number, d = 4): number {
  const f = 10 ** d;
  return Math.round(v * f) / f;
}

/** Candidates as a single-retriever (lexical-only or dense-only) pipeline would produce them. */
function restrict(all: Candidate[], which: 'lexical' | 'dense', depth: number): Candidate[] {
  return all
    .filter((c) => c.provenance[which])
    .sort((a, b) => a.provenance[which]!.rank - b.provenance[which]!.rank)
    .slice(0, depth)
    .map((c, i) => ({
      ...c,
      provenance: { [which]: c.provenance[which], fused: { rank: i + 1, score: 1 / (DEFAULT_RRF_K + i + 1) } } as Candidate['provenance'],
      rankBefore: i + 1,
      rankAfter: i + 1,
    }));
}

export function availability(spec: VariantSpec, engine: EvalEngine): string | undefined {
  const dense = Boolean(engine.embedder && engine.store.manifest.embedding);
  if ((spec.base === 'dense' || spec.base === 'hybrid') && !dense) return 'no embedding model for this index';
  if (spec.ce && !engine.reranker) return 'no cross-encoder model';
  if (spec.ltr && !engine.ltr) return 'no learning-to-rank model';
  return undefined;
}

/** Chunks of the gold files present in the index (for the ideal DCG), by path. */
async function chunksByPath(store: IndexStore, paths: Set<string>): Promise<Map<string, RankedChunk[]>> {
  const out = new Map<string, RankedChunk[]>();
  for await (const c of store.allChunks()) {
    if (!paths.has(c.path)) continue;
    const list = out.get(c.path) ?? [];
    list.push({ path: c.path, startLine: c.startLine, endLine: c.endLine });
    out.set(c.path, list);
  }
  return out;
}

export async function runEval(engine: EvalEngine, questions: readonly EvalQuestion[], opts: EvalRunOptions): Promise<EvalRun> {
  const unavailable: Record<string, string> = {};
  const runnable = opts.variants.filter((v) => {
    const why = availability(v, engine);
    if (why) unavailable[v.name] = why;
    return !why;
  });
  const goldPaths = new Set(questions.flatMap((q) => q.gold.map((g) => g.path)));
  const indexChunks = await chunksByPath(engine.store, goldPaths);
  const K = opts.candidates;
  const out: QuestionOutcome[] = [];
  const ltrRows: LtrRows[] = [];
  const hasDense = Boolean(engine.embedder && engine.store.manifest.embedding);

  for (const [qi, q] of questions.entries()) {
    throwIfAborted(opts.signal);
    const retrieved = await (engine.retrieve ?? retrieve)(engine.store, q.question, {
      candidates: opts.depth * 2,
      depth: opts.depth,
      embedder: hasDense ? engine.embedder : undefined,
      signal: opts.signal,
    });
    const rt = retrieved.timings;
    const timings: StageTimings = { embed: rt.embed, dense: rt.dense, lexical: rt.lexical, fuse: rt.fuse, ce: 0, ltr: 0 };
    const bases = new Map<BaseName, Candidate[]>();
    bases.set('bm25', restrict(retrieved.candidates, 'lexical', opts.depth));
    if (hasDense) {
      bases.set('dense', restrict(retrieved.candidates, 'dense', opts.depth));
      bases.set('hybrid', retrieved.candidates);
    }
    const qinfo = queryInfo(q.question);
    const ceCache = new Map<BaseName, Candidate[]>();
    let rerankFailure: string | undefined;
    const ceFailed = new Set<BaseName>();
    const ceStage = async (base: BaseName): Promise<Candidate[]> => {
      let top = ceCache.get(base);
      if (!top) {
        const t = performance.now();
        try {
          top = (await engine.reranker!.rerank(q.question, bases.get(base)!.slice(0, K), { signal: opts.signal, maxLength: opts.rerankMaxLength })).candidates;
        } catch (err) {
          // As `sift ask` does: a failing reranker (a server down, a timeout) costs the reranking of this
          // question, not the run; the row scores the base ranking and says so. Cancelling still cancels.
          if (opts.signal?.aborted) throw err;
          rerankFailure ??= err instanceof Error ? err.message : String(err);
          ceFailed.add(base);
          top = bases.get(base)!.slice(0, K);
        }
        const ms = performance.now() - t;
        if (base === 'hybrid' || !timings.ce) timings.ce = ms;
        ceCache.set(base, top);
      }
      return top;
    };
    const goldFiles = q.gold.map((g) => g.path);
    const allGold = goldFiles.flatMap((p) => indexChunks.get(p) ?? []);
    const understood = understandQuestion(q.question);
    // What `+q` adds from the index (src/core/search/priorPool.ts, as `sift ask`): files the question names by path that
    // the list down to D lacks, once per base list; files defining the symbols it names, once per question.
    const lookupCache = new Map<BaseName, PriorLookups>();
    const D = opts.priorDepth ?? priorDepth(understood, K);
    const lookupsOf = async (base: BaseName) => {
      let l = lookupCache.get(base);
      if (!l) {
        const defined = [...lookupCache.values()][0]?.defined;
        lookupCache.set(base, (l = await lookupForPrior(engine.store, understood, bases.get(base)!.slice(0, Math.max(K, D)), { question: q.question, ...(defined ? { defined } : {}) })));
      }
      return l;
    };
    const variants: Record<string, VariantOutcome> = {};
    for (const spec of runnable) {
      const base = bases.get(spec.base)!;
      let top = base.slice(0, K);
      let ms = 0;
      if (spec.ce) top = await ceStage(spec.base);
      if (spec.ltr) {
        const t = performance.now();
        top = ltrRerank(engine.ltr!, q.question, top);
        ms = performance.now() - t;
        if (spec.base === 'hybrid' || !timings.ltr) timings.ltr = ms;
      }
      // `+q` as `sift ask`: the prior weighs the reranked top K, the next candidates down to D, and named files the list lacks.
      if (spec.q) {
        top = applyQuestionPrior(widenForPrior(top, base.slice(K, D), spec.ce || spec.ltr, await lookupsOf(spec.base)), understood);
      }
      const inTop = new Set(top.map((c) => c.chunk.id));
      const ranking = [...top, ...base.slice(K).filter((c) => !inTop.has(c.chunk.id))];
      const chunks = ranking.map((c) => c.chunk);
      const files = fileRanking(chunks);
      const rankOf = new Map(files.map((f, i) => [f, i + 1]));
      variants[spec.name] = {
        metrics: scoreRanking(chunks, q.gold, allGold),
        goldFileRanks: Object.fromEntries(goldFiles.map((g) => [g, rankOf.get(g) ?? null])),
        topFiles: files.slice(0, 10),
        topChunks: chunks.slice(0, 10).map((c) => ({ id: c.id, path: c.path, startLine: c.startLine, endLine: c.endLine, grade: chunkGrade(c, q.gold), symbols: c.symbols })),
        ms: round(ms, 3),
        ...(spec.ce && ceFailed.has(spec.base) ? { rerankFallback: true } : {}),
      };
    }
    for (const base of opts.collectLtr ?? []) {
      const list = bases.get(base);
      if (!list) continue;
      const variantsToDump: boolean[] = [false, ...(engine.reranker ? [true] : [])];
      for (const ce of variantsToDump) {
        const top = ce ? await ceStage(base) : list.slice(0, K);
        ltrRows.push({
          id: q.id,
          ...(q.repo ? { repo: q.repo } : {}),
          base,
          ce,
          features: extractFeatures(qinfo, top).map((x) => x.map((v) => round(v, 5))),
          grades: top.map((c) => chunkGrade(c.chunk, q.gold)),
          paths: top.map((c) => c.chunk.path),
          question: q.question,
          goldFiles,
          named: (await lookupsOf(base)).named,
          defined: (await lookupsOf(base)).defined,
          // Neighbours of the first NEIGHBOURS_DUMPED files, whatever the weights say, for scripts/issue-eval.ts --set nbFrom=… to replay.
          neighbours: await lookupNeighbours(engine.store, understood, list.slice(0, Math.max(K, D)), NEIGHBOURS_DUMPED, q.question),
          // Feedback search of the first FEEDBACK_DUMPED files' terms, for --set prfFiles=1 --set prfScore=… to replay.
          feedback: await feedbackSearch(engine.store, q.question, list.slice(0, Math.max(K, D)), { files: FEEDBACK_DUMPED.files, terms: FEEDBACK_DUMPED.terms, depth: FEEDBACK_DEPTH }),
          candidates: top.map((c) => ({ chunk: c.chunk, ...(c.folder ? { folder: c.folder } : {}), provenance: c.provenance, rankBefore: c.rankBefore, rankAfter: c.rankAfter })),
        });
      }
    }
    out.push({
      id: q.id,
      question: q.question,
      ...(q.repo ? { repo: q.repo } : {}),
      ...(q.commit ? { commit: q.commit } : {}),
      gold: q.gold,
      goldNotIndexed: goldFiles.filter((g) => !engine.store.file(g)),
      kind: understandQuestion(q.question).kind,
      variants,
      ...(rerankFailure ? { rerankFailure } : {}),
      timings: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, round(v as number, 3)])) as unknown as StageTimings,
    });
    opts.onQuestion?.(qi + 1, questions.length);
  }
  return { questions: out, ltrRows, unavailable };
}

const STAGES_OF: Record<BaseName, (keyof StageTimings)[]> = {
  bm25: ['lexical'],
  dense: ['embed', 'dense'],
  hybrid: ['embed', 'dense', 'lexical', 'fuse'],
};

/** Mean metrics and latency per variant over the questions (in the order of `variants`). */
export function summarize(variants: VariantSpec[], questions: readonly QuestionOutcome[], unavailable: Record<string, string>): VariantSummary[] {
  return variants.map((spec) => {
    if (unavailable[spec.name]) return { name: spec.name, available: false, reason: unavailable[spec.name], n: 0 };
    const rows = questions.filter((q) => q.variants[spec.name]);
    const stages: (keyof StageTimings)[] = [...STAGES_OF[spec.base], ...(spec.ce ? (['ce'] as const) : []), ...(spec.ltr ? (['ltr'] as const) : [])];
    const latency: Partial<StageTimings> & { total: number } = { total: 0 };
    for (const s of stages) {
      const mean = rows.length ? rows.reduce((a, q) => a + (s === 'ltr' ? q.variants[spec.name]!.ms : q.timings[s]), 0) / rows.length : 0;
      latency[s] = round(mean, 2);
      latency.total += mean;
    }
    latency.total = round(latency.total, 2);
    const metrics = meanMetrics(rows.map((q) => q.variants[spec.name]!.metrics));
    const fellBack = rows.filter((q) => q.variants[spec.name]!.rerankFallback);
    const rerankFallbacks = fellBack.length ? { rerankFallbacks: { count: fellBack.length, reason: fellBack[0]!.rerankFailure ?? 'reranking failed' } } : {};
    return { name: spec.name, available: true, n: rows.length, metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, round(v, 6)])) as unknown as QuestionMetrics, latency, ...rerankFallbacks };
  });
}
