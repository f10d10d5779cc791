import { readFileSync } from 'node:fs';
import type { Candidate } from '../search/types';
import { SiftError, errorMessage } from '../util/errors';
import { type EditorSignals, FEATURE_NAMES, extractFeatures } from './features';

/**
 * A small learning-to-rank model: standardised features → linear term + one hidden tanh layer.
 * score(x) = w·z + Σ_h v_h tanh(W_h·z + b_h) + c, with z = (x − mean) / std.
 * With no hidden units it is a linear model. Stored as JSON (a few KB), scored in-process.
 */
export interface LtrModelJson {
  format: 'sift-ltr/1';
  /** Feature names, in the order of every weight vector. Unknown names read as 0. */
  features: string[];
  mean: number[];
  std: number[];
  linear: number[];
  hidden: { w: number[]; b: number }[];
  out: number[];
  bias: number;
  /** Free-form: what it was trained on, objective, hyper-parameters, validation numbers. */
  meta?: Record<string, unknown>;
}

export class LtrModel {
  private readonly index: number[];

  /**
   * Feature names are the contract between a stored model and this version's extractor (a feature
   * whose meaning changes gets a new name; new features are appended). A model that names only
   * features this version computes scores exactly as trained — an older model simply has no weight
   * on newer features. A model naming features this version does not compute (made by a newer
   * Sift, or for another feature set) is refused with a message that says so: scoring it with
   * those features read as 0 would silently rank by a different function than the one trained.
   */
  constructor(readonly json: LtrModelJson) {
    if (json.format !== 'sift-ltr/1') throw new SiftError(`unsupported learning-to-rank model format ${String(json.format)} (this Sift reads sift-ltr/1)`, 'bad-input');
    const n = json.features.length;
    if (json.mean.length !== n || json.std.length !== n || json.linear.length !== n || json.hidden.some((h) => h.w.length !== n) || json.out.length !== json.hidden.length) {
      throw new SiftError('learning-to-rank model: weight shapes do not match its feature list', 'bad-input');
    }
    this.index = json.features.map((name) => (FEATURE_NAMES as readonly string[]).indexOf(name));
    const unknown = json.features.filter((_, i) => this.index[i]! < 0);
    if (unknown.length) {
      throw new SiftError(
        `learning-to-rank model ${String(json.meta?.name ?? '')}`.trimEnd() +
          `: ${unknown.length} of its ${n} features are not computed by this version of Sift (${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}; this version computes ${FEATURE_NAMES.length}) — it was trained by another version; retrain it with scripts/train-ltr.ts`,
        'bad-input',
      );
    }
  }

  static fromJson(value: unknown): LtrModel {
    if (typeof value !== 'object' || value === null || !Array.isArray((value as LtrModelJson).features)) throw new SiftError('learning-to-rank model: not a sift-ltr model (no feature list)', 'bad-input');
    return new LtrModel(value as LtrModelJson);
  }

  /** Scores one feature vector in FEATURE_NAMES order. */
  score(x: readonly number[]): number {
    const m = this.json;
    const z = this.index.map((j, i) => (j < 0 ? 0 : ((x[j] ?? 0) - m.mean[i]!) / (m.std[i]! || 1)));
    let s = m.bias;
    for (let i = 0; i < z.length; i++) s += m.linear[i]! * z[i]!;
    for (let h = 0; h < m.hidden.length; h++) {
      const unit = m.hidden[h]!;
      let a = unit.b;
      for (let i = 0; i < z.length; i++) a += unit.w[i]! * z[i]!;
      s += m.out[h]! * Math.tanh(a);
    }
    return s;
  }
}

/**
 * A bounded per-workspace correction learned on the user's machine from the sources they open
 * (src/core/ltr/feedback.ts): weights on the raw features in FEATURE_NAMES order, added to the
 * model's score.
 */
export interface LtrResidual {
  weights: readonly number[];
}

export function residualScore(residual: LtrResidual | undefined, x: readonly number[]): number {
  if (!residual) return 0;
  let s = 0;
  for (let j = 0; j < residual.weights.length; j++) s += residual.weights[j]! * (x[j] ?? 0);
  return s;
}

/** Features and scores of a candidate list (model score plus the residual when given). */
export function ltrScores(model: LtrModel, question: string, candidates: readonly Candidate[], editor?: EditorSignals, residual?: LtrResidual): { features: number[][]; scores: number[] } {
  const features = extractFeatures(question, candidates, editor);
  return { features, scores: features.map((x) => model.score(x) + residualScore(residual, x)) };
}

/**
 * Reorders candidates by the learning-to-rank score. Each candidate gets `provenance.ltr`
 * ({rank, score}) and `rankAfter` = its new rank; ties keep the incoming order (stable). Use after
 * fusion, or after the cross-encoder (its score is then a feature). In the editor, `editor` holds
 * the open / recently edited files and the cursor, and `residual` what was learned from the
 * sources the user opened.
 */
export function ltrRerank(model: LtrModel, question: string, candidates: readonly Candidate[], editor?: EditorSignals, residual?: LtrResidual): Candidate[] {
  const { scores } = ltrScores(model, question, candidates, editor, residual);
  const scored = candidates.map((c, i) => ({ c, i, score: scores[i]! }));
  scored.sort((a, b) => b.score - a.score || a.i - b.i);
  return scored.map(({ c, score }, r) => ({ ...c, provenance: { ...c.provenance, ltr: { rank: r + 1, score } }, rankAfter: r + 1 }));
}

/**
 * A stored model (`--ltr-model FILE`) for answering questions: when it cannot be read or does not
 * fit this version's features, `notice` says why and the shipped model is used instead (`sift
 * eval` refuses instead — a measurement of another model than the one asked for would mislead).
 */
export function loadLtrModelFile(file: string, notice: (message: string) => void): LtrModel {
  try {
    return LtrModel.fromJson(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    notice(`cannot use the learning-to-rank model ${file}: ${errorMessage(err)}; using the shipped model instead.`);
    return shippedLtrModel();
  }
}

let shipped: LtrModel | undefined;

/** The model shipped with Sift (src/core/ltr/model.json, bundled). */
export function shippedLtrModel(): LtrModel {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  shipped ??= LtrModel.fromJson(require('./model.json'));
  return shipped;
}
