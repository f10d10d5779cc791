import { FEATURE_NAMES } from '../../src/core/ltr/features';
import type { LtrModelJson } from '../../src/core/ltr/model';
import { mulberry32 } from '../../src/core/util/random';

/**
 * LambdaRank training (Burges et al.: pairwise logistic loss on score differences, each pair's
 * gradient weighted by the |ΔnDCG| of swapping the two documents), for the model in model.ts.
 * Plain TypeScript, deterministic for a given seed (seeded PRNG, fixed query order per epoch).
 */
export interface TrainQuery {
  id: string;
  /** Feature vectors in FEATURE_NAMES order, one per candidate. */
  features: number[][];
  /** Relevance grade per candidate (0, 1, 2). */
  grades: number[];
}

export interface TrainOptions {
  hidden?: number;
  epochs?: number;
  learningRate?: number;
  l2?: number;
  seed?: number;
  /** Queries per optimiser step (their gradients summed); larger batches make training less seed-dependent. Default 1. */
  batch?: number;
  /** nDCG truncation for the ΔnDCG weights (pairs both below it still count a little). Default 10. */
  ndcgAt?: number;
  /** Features to leave out (e.g. editor signals with no training data). */
  exclude?: readonly string[];
  /**
   * A prior linear model (weights on standardised features, by name) that training starts from
   * and the L2 penalty pulls towards: ‖θ − prior‖². With a prior on the base ranking's own rank
   * feature (e.g. lex_rr for BM25), a strongly regularised model stays close to the base order and
   * moves away from it only as far as the training data supports.
   */
  prior?: Readonly<Record<string, number>>;
  /** Per-feature multipliers of the L2 penalty (e.g. more shrinkage for dataset-prior flags such as is_test). */
  l2Scale?: Readonly<Record<string, number>>;
  meta?: Record<string, unknown>;
}

export { mulberry32 };

class Adam {
  private m: Float64Array;
  private v: Float64Array;
  private t = 0;
  constructor(
    size: number,
    private readonly lr: number,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }
  step(params: Float64Array, grad: Float64Array): void {
    this.t++;
    const b1 = 0.9;
    const b2 = 0.999;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    for (let i = 0; i < params.length; i++) {
      this.m[i] = b1 * this.m[i]! + (1 - b1) * grad[i]!;
      this.v[i] = b2 * this.v[i]! + (1 - b2) * grad[i]! ** 2;
      params[i]! -= (this.lr * (this.m[i]! / c1)) / (Math.sqrt(this.v[i]! / c2) + 1e-8);
    }
  }
}

const EMPTY = new Float64Array(0);
const gain = (g: number) => 2 ** g - 1;
const disc = (rank: number) => 1 / Math.log2(rank + 1);

export function trainLambdaRank(queries: readonly TrainQuery[], opts: TrainOptions = {}): LtrModelJson {
  const H = opts.hidden ?? 8;
  const epochs = opts.epochs ?? 30;
  const lr = opts.learningRate ?? 0.01;
  const l2 = opts.l2 ?? 1e-4;
  const k = opts.ndcgAt ?? 10;
  const batch = Math.max(1, opts.batch ?? 1);
  const rand = mulberry32(opts.seed ?? 1);
  const exclude = new Set(opts.exclude ?? []);
  const used = FEATURE_NAMES.map((name, j) => ({ name, j })).filter(({ name }) => !exclude.has(name));
  const F = used.length;

  // Standardise with the training set's statistics.
  const mean = new Array<number>(F).fill(0);
  const std = new Array<number>(F).fill(0);
  let rows = 0;
  for (const q of queries) for (const x of q.features) {
    rows++;
    used.forEach(({ j }, i) => (mean[i]! += x[j] ?? 0));
  }
  for (let i = 0; i < F; i++) mean[i]! /= rows || 1;
  for (const q of queries) for (const x of q.features) used.forEach(({ j }, i) => (std[i]! += ((x[j] ?? 0) - mean[i]!) ** 2));
  for (let i = 0; i < F; i++) std[i] = Math.sqrt(std[i]! / (rows || 1)) || 1;
  const data = queries
    .filter((q) => q.grades.some((g) => g > 0) && q.grades.some((g) => g === 0))
    .map((q) => ({ z: q.features.map((x) => used.map(({ j }, i) => ((x[j] ?? 0) - mean[i]!) / std[i]!)), y: q.grades }));

  // Parameters, flat: linear[F], W[H*F], b[H], out[H], bias.
  const P = F + H * F + H + H + 1;
  const theta = new Float64Array(P);
  const oW = F;
  const oB = F + H * F;
  const oOut = oB + H;
  const oBias = oOut + H;
  for (let i = 0; i < H * F; i++) theta[oW + i] = (rand() - 0.5) * 0.2;
  for (let h = 0; h < H; h++) theta[oOut + h] = (rand() - 0.5) * 0.2;
  const prior = new Float64Array(P);
  const l2w = new Float64Array(P).fill(1);
  used.forEach(({ name }, i) => {
    prior[i] = opts.prior?.[name] ?? 0;
    theta[i] = prior[i]!;
    l2w[i] = opts.l2Scale?.[name] ?? 1;
  });
  const adam = new Adam(P, lr);
  const grad = new Float64Array(P);

  const forward = (z: number[], act: Float64Array): number => {
    let s = theta[oBias]!;
    for (let i = 0; i < F; i++) s += theta[i]! * z[i]!;
    for (let h = 0; h < H; h++) {
      let a = theta[oB + h]!;
      for (let i = 0; i < F; i++) a += theta[oW + h * F + i]! * z[i]!;
      act[h] = Math.tanh(a);
      s += theta[oOut + h]! * act[h]!;
    }
    return s;
  };

  /** One optimiser step on the summed gradient of the batch (mean over its queries) plus the L2 pull. */
  let inBatch = 0;
  const step = () => {
    for (let p = 0; p < oBias; p++) grad[p] = grad[p]! / inBatch + l2 * l2w[p]! * (theta[p]! - prior[p]!);
    adam.step(theta, grad);
    grad.fill(0);
    inBatch = 0;
  };
  const order = data.map((_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let oi = 0; oi < order.length; oi++) {
      const { z, y } = data[order[oi]!]!;
      const last = oi === order.length - 1;
      const n = z.length;
      const acts = H ? z.map(() => new Float64Array(H)) : undefined;
      const s = z.map((zi, i) => forward(zi, acts ? acts[i]! : EMPTY));
      const rankOf = new Array<number>(n);
      const idx = s.map((_, i) => i).sort((a, b) => s[b]! - s[a]! || a - b);
      for (let r = 0; r < n; r++) rankOf[idx[r]!] = r + 1;
      const ideal = [...y].sort((a, b) => b - a);
      let idcg = 0;
      for (let r = 0; r < Math.min(k, n); r++) idcg += gain(ideal[r]!) * disc(r + 1);
      if (idcg <= 0) {
        if (last && inBatch) step();
        continue;
      }
      const lambda = new Float64Array(n);
      const d = (r: number) => (r <= k ? disc(r) : disc(r) * 0.1);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (y[i]! <= y[j]!) continue;
          const delta = Math.abs((gain(y[i]!) - gain(y[j]!)) * (d(rankOf[i]!) - d(rankOf[j]!))) / idcg;
          const rho = 1 / (1 + Math.exp(s[i]! - s[j]!));
          lambda[i]! -= rho * delta;
          lambda[j]! += rho * delta;
        }
      }
      for (let i = 0; i < n; i++) {
        const li = lambda[i]!;
        if (li === 0) continue;
        const zi = z[i]!;
        for (let f = 0; f < F; f++) grad[f]! += li * zi[f]!;
        for (let h = 0; h < H; h++) {
          const t = acts![i]![h]!;
          grad[oOut + h]! += li * t;
          const back = li * theta[oOut + h]! * (1 - t * t);
          grad[oB + h]! += back;
          for (let f = 0; f < F; f++) grad[oW + h * F + f]! += back * zi[f]!;
        }
      }
      inBatch++;
      if (inBatch === batch || last) step();
    }
  }

  const round = (v: number) => Math.round(v * 1e6) / 1e6;
  return {
    format: 'sift-ltr/1',
    features: used.map(({ name }) => name),
    mean: mean.map(round),
    std: std.map(round),
    linear: Array.from(theta.subarray(0, F), round),
    hidden: Array.from({ length: H }, (_, h) => ({ w: Array.from(theta.subarray(oW + h * F, oW + (h + 1) * F), round), b: round(theta[oB + h]!) })),
    out: Array.from(theta.subarray(oOut, oOut + H), round),
    bias: 0,
    meta: {
      objective: `LambdaRank (pairwise logistic, |ΔnDCG@${k}| weights)`,
      hidden: H,
      epochs,
      learningRate: lr,
      l2,
      ...(batch > 1 ? { batch } : {}),
      ...(opts.prior ? { prior: opts.prior } : {}),
      ...(opts.l2Scale ? { l2Scale: opts.l2Scale } : {}),
      seed: opts.seed ?? 1,
      queries: data.length,
      candidates: data.reduce((a, q) => a + q.y.length, 0),
      ...opts.meta,
    },
  };
}

/**
 * The average of linear models trained on the same data (same standardisation), as one model:
 * a seed ensemble, or models over different feature subsets (a feature a model leaves out counts
 * as weight 0). Averaging the weights is the same as averaging the scores, so the ensemble costs
 * no more to score than one model.
 */
export function averageLinearModels(models: readonly LtrModelJson[], meta?: Record<string, unknown>): LtrModelJson {
  if (!models.length) throw new Error('averageLinearModels: no models');
  if (models.some((m) => m.hidden.length)) throw new Error('averageLinearModels: linear models only');
  const names = FEATURE_NAMES.filter((f) => models.some((m) => m.features.includes(f)));
  const stat = (name: string, key: 'mean' | 'std') => {
    const m = models.find((x) => x.features.includes(name))!;
    return m[key][m.features.indexOf(name)]!;
  };
  const round = (v: number) => Math.round(v * 1e6) / 1e6;
  return {
    format: 'sift-ltr/1',
    features: [...names],
    mean: names.map((n) => stat(n, 'mean')),
    std: names.map((n) => stat(n, 'std')),
    linear: names.map((n) => round(models.reduce((s, m) => s + (m.features.includes(n) ? m.linear[m.features.indexOf(n)]! : 0), 0) / models.length)),
    hidden: [],
    out: [],
    bias: 0,
    meta: { ...models[0]!.meta, ensemble: models.length, ...meta },
  };
}
