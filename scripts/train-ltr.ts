/**
 * Trains Sift's learning-to-rank model offline (LambdaRank, see src/core/ltr/train.ts) from
 * candidate dumps written by `sift eval --ltr-dump FILE` (one JSON line per question: the top-K
 * candidates' features and grades).
 *
 *   node --import tsx scripts/train-ltr.ts --data DIR [--out DIR] [--base bm25|hybrid] [--ce] \
 *        [--extra FILE ...] [--ship src/core/ltr/model.json]
 *
 * DIR holds `<repo>.ltr.jsonl` per repository. For every repository R it trains a model on all the
 * OTHER repositories (leave-one-repository-out) and writes `<out>/ltr-loro-<R>.json`; `sift eval`
 * on R with that model then reports numbers on questions the model never saw. `--extra` files
 * (e.g. questions mined from other repositories' git history) are added to every training set.
 * `--ship FILE` also trains one model on everything and writes it there.
 * Hyper-parameters (hidden units, epochs) are chosen per fold by an inner leave-one-repository-out
 * over the training repositories only (mean in-list nDCG@10), never by looking at the held-out one.
 * Deterministic: same data and options → byte-identical models.
 */
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { dcg } from '../src/core/eval/metrics';
import { LtrModel } from '../src/core/ltr/model';
import { type TrainOptions, type TrainQuery, trainLambdaRank } from '../src/core/ltr/train';

interface Row {
  id: string;
  repo?: string;
  base: string;
  ce: boolean;
  features: number[][];
  grades: number[];
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function args(name: string): string[] {
  const out: string[] = [];
  process.argv.forEach((a, i) => {
    if (a === name && process.argv[i + 1]) out.push(process.argv[i + 1]!);
  });
  return out;
}

const dataDir = arg('--data');
if (!dataDir) {
  process.stderr.write('usage: train-ltr.ts --data DIR [--out DIR] [--base bm25|hybrid] [--ce] [--extra FILE ...] [--ship FILE]\n');
  process.exit(2);
}
const outDir = arg('--out') ?? dataDir;
const base = arg('--base') ?? 'bm25';
const ce = process.argv.includes('--ce');
const GRID: { hidden: number; epochs: number }[] = arg('--hidden')
  ? [{ hidden: Number(arg('--hidden')), epochs: Number(arg('--epochs') ?? 40) }]
  : // Linear models: ~240 training questions per fold do not support more (a first look at a
    // hidden layer of 8 overfitted); the number of epochs is chosen per fold.
    [
      { hidden: 0, epochs: 10 },
      { hidden: 0, epochs: 20 },
      { hidden: 0, epochs: 40 },
    ];
const options: TrainOptions = {
  learningRate: Number(arg('--lr') ?? 0.01),
  l2: Number(arg('--l2') ?? 1e-3),
  seed: Number(arg('--seed') ?? 7),
  ndcgAt: 10,
  // No training data has editor signals: leave them out rather than learn noise.
  exclude: ['ed_open', 'ed_recent', 'ed_near_cursor', ...(base === 'bm25' ? ['dense_has', 'dense_rr', 'dense_gap'] : []), ...(ce ? [] : ['ce_has', 'ce_rr', 'ce_z'])],
};

function load(file: string): TrainQuery[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row)
    .filter((r) => r.base === base && r.ce === ce)
    .map((r) => ({ id: r.id, features: r.features, grades: r.grades }));
}

const repos = readdirSync(dataDir)
  .filter((f) => f.endsWith('.ltr.jsonl'))
  .map((f) => f.slice(0, -'.ltr.jsonl'.length))
  .sort();
const data = new Map(repos.map((r) => [r, load(path.join(dataDir, `${r}.ltr.jsonl`))]));
const extraFiles = args('--extra');
const extra = extraFiles.flatMap((f) => load(f));

function inListNdcg(model: LtrModel | undefined, qs: TrainQuery[]): number {
  let sum = 0;
  for (const q of qs) {
    const order = q.grades.map((_, i) => i);
    if (model) {
      const s = q.features.map((x) => model.score(x));
      order.sort((a, b) => s[b]! - s[a]! || a - b);
    }
    const ideal = dcg([...q.grades].sort((a, b) => b - a), 10);
    sum += ideal > 0 ? dcg(order.map((i) => q.grades[i]!), 10) / ideal : 0;
  }
  return qs.length ? sum / qs.length : 0;
}

/** The grid point with the best mean in-list nDCG@10 over an inner leave-one-repository-out of `repoNames`. */
function select(repoNames: string[]): { hidden: number; epochs: number; inner: number } {
  let best = { ...GRID[0]!, inner: -1 };
  if (GRID.length === 1 || repoNames.length < 2) return best;
  for (const g of GRID) {
    let sum = 0;
    for (const inner of repoNames) {
      const train = [...repoNames.filter((r) => r !== inner).flatMap((r) => data.get(r)!), ...extra];
      sum += inListNdcg(new LtrModel(trainLambdaRank(train, { ...options, ...g })), data.get(inner)!);
    }
    const mean = sum / repoNames.length;
    if (mean > best.inner + 1e-9) best = { ...g, inner: mean };
  }
  return best;
}

mkdirSync(outDir, { recursive: true });
const variant = `${base}${ce ? '+ce' : ''}`;
process.stdout.write(`LambdaRank on ${variant} candidates; ${JSON.stringify({ ...options, exclude: undefined })}; grid ${JSON.stringify(GRID)}\n`);
process.stdout.write('held-out repo | train questions | in-list nDCG@10 before → after | selected\n');
for (const held of repos) {
  const trainOn = repos.filter((r) => r !== held);
  const train = [...trainOn.flatMap((r) => data.get(r)!), ...extra];
  const chosen = select(trainOn);
  const model = trainLambdaRank(train, {
    ...options,
    hidden: chosen.hidden,
    epochs: chosen.epochs,
    meta: { name: `loro-without-${held}`, selectedBy: `inner leave-one-repository-out over ${trainOn.join(', ')}: mean in-list nDCG@10 ${chosen.inner.toFixed(3)}`, candidates: variant, trainedOn: [...trainOn.map((r) => `swe-qa:${r}`), ...extraFiles.map((f) => path.basename(f))], heldOut: held },
  });
  writeFileSync(path.join(outDir, `ltr-loro-${held}.json`), `${JSON.stringify(model)}\n`);
  const test = data.get(held)!;
  process.stdout.write(`${held} | ${train.length} | ${inListNdcg(undefined, test).toFixed(3)} → ${inListNdcg(new LtrModel(model), test).toFixed(3)} | hidden ${chosen.hidden}, epochs ${chosen.epochs}\n`);
}
const ship = arg('--ship');
if (ship) {
  const all = [...repos.flatMap((r) => data.get(r)!), ...extra];
  const chosen = select(repos);
  const model = trainLambdaRank(all, { ...options, hidden: chosen.hidden, epochs: chosen.epochs, meta: { name: 'sift-ltr-shipped', selectedBy: `leave-one-repository-out over all six: mean in-list nDCG@10 ${chosen.inner.toFixed(3)}`, candidates: variant, trainedOn: [...repos.map((r) => `swe-qa:${r}`), ...extraFiles.map((f) => path.basename(f))] } });
  writeFileSync(ship, `${JSON.stringify(model)}\n`);
  process.stdout.write(`shipped model (all ${all.length} questions) → ${ship}\n`);
}
