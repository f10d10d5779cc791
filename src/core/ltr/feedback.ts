import { z } from 'zod';
import type { Candidate } from '../search/types';
import { type EditorFile, type EditorSignals, FEATURE_COUNT, FEATURE_NAMES, extractFeatures } from './features';
import type { LtrModel, LtrResidual } from './model';

/**
 * Learning from the sources a user opens after an answer (implicit relevance judgements), on the
 * user's machine only.
 *
 * Clicks are biased by position: people open what is shown on top. Each open is therefore turned
 * into pairs "opened > every other source shown that was not opened" weighted by the inverse of
 * the chance that the user looked at the opened position (propensity 1/rank, the usual
 * position-bias model; Joachims et al. 2017, "Unbiased learning-to-rank with biased feedback"),
 * clipped at 4 and shared among the open's pairs, so an open far down counts more than an open of
 * the first source, but no single open dominates. Plain skip-above pairs (opened >
 * unopened above it) always disagree with the ranking shown; in simulation, learning from them
 * turned good rankings upside down. For the same reason the residual only sees features that do not
 * encode the base ranking (LEARNABLE: what the chunk is, which file, what the question names, the
 * editor signals), never the retrievers' scores and ranks.
 * Each pair keeps the difference of the two candidates' features (scaled by the shipped
 * model's standard deviations) and of their model scores; the residual is a linear correction
 * fitted to the stored pairs (logistic pairwise loss, L2 towards 0, every weight clipped to
 * ±bound), added to the shipped model's score in `ltrRerank`. Few pairs barely move it; the clip
 * bounds how far any amount of feedback can move a ranking. The pairs are bounded (the oldest are
 * dropped) and tied to the model they were recorded with: when the shipped model changes they are
 * discarded.
 */

/**
 * Features the residual may weigh: not the retrievers' scores and ranks (nor file aggregates of
 * them), which skip-above pairs are biased against.
 */
export const LEARNABLE: ReadonlySet<string> = new Set(
  FEATURE_NAMES.filter(
    (f) => !/^(lex_|dense_|ce_|fused_)/.test(f) && !['file_best_rr', 'file_lex_sum', 'file_rank_in_file', 'file_lex_max', 'file_rank_rr', 'file_share', 'file_chunks'].includes(f),
  ),
);
/**
 * What the residual weighs by default: the editor's signals and the files opened before. In the
 * simulation (scripts/simulate-feedback.ts) a residual over every LEARNABLE feature overfitted the
 * few judgements a user gives (weights at the bound, held-out nDCG down); this one is near neutral.
 */
export const DEFAULT_LEARNED: readonly string[] = ['ed_open', 'ed_recent', 'ed_near_cursor', 'ed_opened_before'];

export interface FeedbackPair {
  /** (opened − skipped) features, scaled by the model's std, FEATURE_NAMES order, rounded. */
  d: number[];
  /** Model score of the opened candidate minus that of the skipped one (without residual). */
  base: number;
  /** The open's inverse propensity (its 1-based position, clipped at 4) shared among its pairs. */
  weight: number;
}

export interface FeedbackState {
  format: 'sift-ltr-feedback/1';
  /** Identifies the model the pairs were recorded with. */
  model: string;
  /** Judgements (opens that produced pairs) since the last clear. */
  opens: number;
  pairs: FeedbackPair[];
  /** Files opened from Sift's sources, with counts (most recently opened last); the `ed_opened_before` feature. */
  files: (EditorFile & { count: number })[];
}

export interface FeedbackOptions {
  /** Stored pairs at most (oldest dropped). Default 500. */
  maxPairs?: number;
  /** L2 strength (on the summed, propensity-weighted loss): with few pairs the residual stays near 0. Default 20. */
  l2?: number;
  /** Largest absolute weight per scaled feature. Default 0.5. */
  bound?: number;
  /** Gradient steps per fit. Default 150. */
  iterations?: number;
  /** Files remembered at most (least recently opened dropped). Default 200. */
  maxFiles?: number;
  /** Features the residual may weigh (a subset of LEARNABLE). Default DEFAULT_LEARNED. */
  features?: readonly string[];
}

/** One shown candidate: its raw features (FEATURE_NAMES order) and its model score (without residual). */
export interface ShownCandidate {
  features: readonly number[];
  score: number;
  /** Its file (folder-qualified in multi-root): opening it counts towards `ed_opened_before`. */
  file?: EditorFile;
}

export function modelId(model: LtrModel): string {
  const m = model.json;
  let h = 0;
  for (const v of [...m.linear, ...m.std]) h = (Math.imul(h, 31) + Math.round(v * 1e6)) | 0;
  return `${String(m.meta?.name ?? 'ltr')}:${(h >>> 0).toString(16)}`;
}

/** Per-feature scale (the model's std where it has the feature, else 1), FEATURE_NAMES order. */
function scalesOf(model: LtrModel): number[] {
  const m = model.json;
  return FEATURE_NAMES.map((name) => {
    const i = m.features.indexOf(name);
    return i >= 0 ? m.std[i]! || 1 : 1;
  });
}

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;
/** Clip of the inverse propensity 1/(1/rank): an open below position 4 counts as much as one at 4. */
const MAX_INVERSE_PROPENSITY = 4;

/**
 * The residual fitted to pairs: minimises Σ weight · log(1 + exp(−(base + w·d))) + l2/2 ‖w‖² by projected
 * gradient descent (|w_j| ≤ bound). Deterministic; ≤ 500 pairs × 46 features × 150 steps ≈ a few ms.
 */
export function fitResidual(pairs: readonly FeedbackPair[], opts: FeedbackOptions = {}): number[] {
  const l2 = opts.l2 ?? 20;
  const bound = opts.bound ?? 0.5;
  const iterations = opts.iterations ?? 150;
  const w = new Array<number>(FEATURE_COUNT).fill(0);
  if (!pairs.length) return w;
  // Step size from a bound on the curvature: 1/4 Σ‖d‖² + l2.
  const curvature = pairs.reduce((s, p) => s + (p.weight * p.d.reduce((a, v) => a + v * v, 0)), 0) / 4 + l2;
  const lr = 1 / curvature;
  const grad = new Array<number>(FEATURE_COUNT);
  for (let it = 0; it < iterations; it++) {
    for (let j = 0; j < FEATURE_COUNT; j++) grad[j] = l2 * w[j]!;
    for (const p of pairs) {
      let m = p.base;
      for (let j = 0; j < FEATURE_COUNT; j++) m += w[j]! * (p.d[j] ?? 0);
      const g = -p.weight / (1 + Math.exp(m)); // weight · d/dm log(1 + e^{-m})
      for (let j = 0; j < FEATURE_COUNT; j++) grad[j]! += g * (p.d[j] ?? 0);
    }
    for (let j = 0; j < FEATURE_COUNT; j++) w[j] = Math.max(-bound, Math.min(bound, w[j]! - lr * grad[j]!));
  }
  return w;
}

export class FeedbackLearner {
  private state: FeedbackState;
  private readonly scales: number[];
  private readonly mask: number[];
  private cached: LtrResidual | undefined;

  /** `saved` is what `toJSON()` returned earlier (anything else, or another model's pairs, starts empty). */
  constructor(
    model: LtrModel,
    saved?: unknown,
    private readonly opts: FeedbackOptions = {},
  ) {
    this.scales = scalesOf(model);
    const learned = new Set((opts.features ?? DEFAULT_LEARNED).filter((f) => LEARNABLE.has(f)));
    this.mask = FEATURE_NAMES.map((f) => (learned.has(f) ? 1 : 0));
    const id = modelId(model);
    const state = parseState(saved);
    this.state =
      state && state.model === id
        ? { ...state, pairs: state.pairs.slice(-this.maxPairs), files: state.files.slice(-(this.opts.maxFiles ?? 200)) }
        : { format: 'sift-ltr-feedback/1', model: id, opens: 0, pairs: [], files: [] };
  }

  private get maxPairs(): number {
    return this.opts.maxPairs ?? 500;
  }

  get opens(): number {
    return this.state.opens;
  }

  get pairCount(): number {
    return this.state.pairs.length;
  }

  /**
   * Records that the user opened `shown[opened]` (display order) after an answer. `alreadyOpened`
   * holds the positions opened earlier for the same answer: they are not counted as not opened.
   * Returns the number of pairs added.
   */
  recordOpen(shown: readonly ShownCandidate[], opened: number, alreadyOpened: ReadonlySet<number> = new Set()): number {
    const o = shown[opened];
    if (!o) return 0;
    const others = [...shown.keys()].filter((i) => i !== opened && !alreadyOpened.has(i));
    // One open is one judgement: its inverse-propensity weight (clipped, as single far-down opens
    // would otherwise dominate) is shared by its pairs.
    const weight = round4(Math.min(opened + 1, MAX_INVERSE_PROPENSITY) / (others.length || 1));
    let added = 0;
    for (const i of others) {
      const s = shown[i]!;
      this.state.pairs.push({ d: FEATURE_NAMES.map((_, j) => (this.mask[j] ? round4(((o.features[j] ?? 0) - (s.features[j] ?? 0)) / this.scales[j]!) : 0)), base: round4(o.score - s.score), weight });
      added++;
    }
    if (o.file) {
      const f = o.file;
      const files = this.state.files;
      const at = files.findIndex((x) => (x.folder ?? '') === (f.folder ?? '') && x.path === f.path);
      const count = at >= 0 ? files.splice(at, 1)[0]!.count + 1 : 1;
      files.push({ ...(f.folder ? { folder: f.folder } : {}), path: f.path, count });
      if (files.length > (this.opts.maxFiles ?? 200)) files.splice(0, files.length - (this.opts.maxFiles ?? 200));
    }
    if (added) {
      this.state.opens++;
      if (this.state.pairs.length > this.maxPairs) this.state.pairs.splice(0, this.state.pairs.length - this.maxPairs);
      this.cached = undefined;
    }
    return added;
  }

  /** Files opened before, for `EditorSignals.openedBefore`. */
  openedBefore(): readonly (EditorFile & { count: number })[] {
    return this.state.files;
  }

  /** The learned correction (raw-feature weights for `ltrRerank`), or undefined with no pairs yet. */
  residual(): LtrResidual | undefined {
    if (!this.state.pairs.length) return undefined;
    if (!this.cached) {
      const w = fitResidual(this.state.pairs, this.opts);
      this.cached = { weights: w.map((v, j) => v / this.scales[j]!) };
    }
    return this.cached;
  }

  /** The largest learned weights by magnitude (scaled units), for logs and docs. */
  topWeights(k = 5): { feature: string; weight: number }[] {
    const r = this.residual();
    if (!r) return [];
    return r.weights
      .map((v, j) => ({ feature: FEATURE_NAMES[j]!, weight: round4(v * this.scales[j]!) }))
      .filter((x) => x.weight !== 0)
      .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight))
      .slice(0, k);
  }

  clear(): void {
    this.state = { ...this.state, opens: 0, pairs: [], files: [] };
    this.cached = undefined;
  }

  toJSON(): FeedbackState {
    return this.state;
  }
}

/** A stored pair: finite numbers only, FEATURE_COUNT differences, a positive bounded weight. */
const pairSchema = z.object({
  d: z.array(z.number()).length(FEATURE_COUNT),
  base: z.number(),
  weight: z.number().gt(0).max(MAX_INVERSE_PROPENSITY),
});
const fileSchema = z.object({
  folder: z.string().max(4096).optional(),
  path: z.string().min(1).max(4096),
  count: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
});
/**
 * What storage may hand back (another version's state, or a damaged one): parsed, never cast.
 * zod's numbers are finite. The lists are cut to their bounds by the constructor.
 */
const stateSchema = z.object({
  format: z.literal('sift-ltr-feedback/1'),
  model: z.string().max(200),
  opens: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  pairs: z.array(pairSchema).max(100_000),
  files: z.array(fileSchema).max(100_000),
});

function parseState(v: unknown): FeedbackState | undefined {
  const parsed = stateSchema.safeParse(v);
  return parsed.success ? (parsed.data as FeedbackState) : undefined;
}

interface RememberedAnswer {
  /** The sources shown, in order: each one's best candidate's features, model score and file. */
  shown: ShownCandidate[];
  opened: Set<number>;
}

/**
 * Connects answers to opens: remembers the sources of the last few answers (their candidates'
 * features and model scores, computed once when the answer is shown) and, when the user opens
 * source n of an answer, records the judgement in the learner.
 */
export class OpenRecorder {
  private readonly answers = new Map<string, RememberedAnswer>();

  constructor(
    readonly learner: FeedbackLearner,
    private readonly model: LtrModel,
    private readonly maxAnswers = 20,
  ) {}

  /**
   * An answer was shown. `candidates` is its final ranking, `sources` its sources in display order
   * (each identified by the rank of its best candidate), `editor` the signals it was ranked with.
   */
  remember(id: string, question: string, candidates: readonly Candidate[], sources: readonly { rankAfter: number }[], editor?: EditorSignals): void {
    const features = extractFeatures(question, candidates, { ...editor, openedBefore: this.learner.openedBefore() });
    const byRank = new Map(candidates.map((c, i) => [c.rankAfter, i]));
    const shown: ShownCandidate[] = [];
    for (const s of sources) {
      const i = byRank.get(s.rankAfter);
      if (i === undefined) continue;
      const c = candidates[i]!;
      shown.push({ features: features[i]!, score: this.model.score(features[i]!), file: { ...(c.folder ? { folder: c.folder } : {}), path: c.chunk.path } });
    }
    this.answers.delete(id);
    this.answers.set(id, { shown, opened: new Set() });
    while (this.answers.size > this.maxAnswers) this.answers.delete(this.answers.keys().next().value!);
  }

  /** The user opened source `n` (1-based) of answer `id`. Returns the pairs recorded (0 for unknown answers or repeated opens). */
  opened(id: string, n: number): number {
    const a = this.answers.get(id);
    const at = n - 1;
    if (!a || at < 0 || at >= a.shown.length || a.opened.has(at)) return 0;
    const added = this.learner.recordOpen(a.shown, at, a.opened);
    a.opened.add(at);
    return added;
  }

  forget(): void {
    this.answers.clear();
  }
}
