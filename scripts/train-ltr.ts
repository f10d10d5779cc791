/**
 * Trains Sift's learning-to-rank model offline (LambdaRank, see src/core/ltr/train.ts) from
 * candidate dumps written by `sift eval --ltr-dump FILE` (one JSON line per question: the top-K
 * candidates — chunk and provenance — their grades, the gold files, and their features).
 *
 *   node --import tsx scripts/train-ltr.ts --data DIR [--out DIR] [--base bm25|hybrid] [--ce] \
 *        [--extra FILE ...] [--ship src/core/ltr/model.json] [--grid default|small]
 *
 * DIR holds `<repo>.ltr.jsonl` per SWE-QA repository. For every repository R it trains a model on
 * all the OTHER repositories plus every `--extra` file (leave-one-repository-out) and writes
 * `<out>/ltr-loro-<R>.json`; `sift eval` on R with that model reports numbers on questions the
 * model never saw. `--extra` files (questions mined from other repositories' git history, one file
 * per repository) are added to every training set. `--ship FILE` also trains one model on
 * everything and writes it there.
 *
 * Features are recomputed from the dumped candidates with the current extractor (so a dump made
 * before a feature change still trains the current feature set); dumps without candidates must
 * have the current feature count.
 *
 * Hyper-parameters (the weight of the prior on the base ranking, the L2 pull towards it) are chosen
 * per fold on the fold's training groups only, never on the held-out repository: inner folds hold
 * out the extra (git-history) groups, dealt into at most 3 folds (or one SWE-QA repository at a time
 * when there are no extras), maximising the mean over held-out groups of (in-list nDCG@10 + file
 * Acc@5) / 2.
 * Deterministic: same data and options → byte-identical models.
 */
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { dcg } from '../src/core/eval/metrics';
import { FEATURE_COUNT, extractFeatures } from '../src/core/ltr/features';
import { LtrModel } from '../src/core/ltr/model';
import { type TrainOptions, type TrainQuery, trainLambdaRank } from '../src/core/ltr/train';
import type { Candidate } from '../src/core/retrieval/types';

interface Row {
  id: string;
  repo?: string;
  base: string;
  ce: boolean;
  features: number[][];
  grades: number[];
  paths: string[];
  question?: string;
  candidates?: Candidate[];
  goldFiles?: string[];
}

interface Query extends TrainQuery {
  paths: string[];
  goldFiles?: string[];
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
  process.stderr.write('usage: train-ltr.ts --data DIR [--out DIR] [--base bm25|hybrid] [--ce] [--extra FILE ...] [--ship FILE] [--grid default|small]\n');
  process.exit(2);
}
const outDir = arg('--out') ?? dataDir;
const base = arg('--base') ?? 'bm25';
const ce = process.argv.includes('--ce');
/**
 * The base ranking's own rank feature: the prior is a weight on it (the model then starts as the
 * base order). On bm25 candidates the fused rank is the BM25 rank; anchoring on fused_rr (and
 * leaving the identical lex_rr out) makes a bm25-trained model stay close to the hybrid order when
 * it runs after fusion in `sift ask`.
 */
const anchor = 'fused_rr';
type Hyper = { anchor: number; l2: number; epochs: number };
const GRID: Hyper[] =
  arg('--grid') === 'small'
    ? [
        { anchor: 1, l2: 0.1, epochs: 20 },
        { anchor: 0, l2: 0.001, epochs: 20 },
      ]
    : [
        { anchor: 0, l2: 0.001, epochs: 15 }, // the previous recipe: free linear model
        { anchor: 1, l2: 0.03, epochs: 15 },
        { anchor: 1, l2: 0.3, epochs: 15 },
        { anchor: 3, l2: 0.3, epochs: 15 },
        { anchor: 3, l2: 3, epochs: 15 }, // stays very close to the base order
      ];
// Flags that encode a data set's habits (where its gold usually is) more than relevance: shrunk harder.
const L2_SCALE: Record<string, number> = { is_test: 4, is_doc: 4, kind_doc: 4, is_example: 4, is_init: 4, path_depth: 4, symbol_depth: 4, log_lines: 4 };
const common: TrainOptions = {
  hidden: 0,
  learningRate: Number(arg('--lr') ?? 0.01),
  seed: Number(arg('--seed') ?? 7),
  ndcgAt: 10,
  l2Scale: L2_SCALE,
  // No training data has editor signals: leave them out rather than learn noise.
  exclude: ['ed_open', 'ed_recent', 'ed_near_cursor', ...(base === 'bm25' ? ['dense_has', 'dense_rr', 'dense_gap', 'lex_rr'] : []), ...(ce ? [] : ['ce_has', 'ce_rr', 'ce_z'])],
};
const optionsOf = (h: Hyper): TrainOptions => ({ ...common, l2: h.l2, epochs: h.epochs, prior: h.anchor ? { [anchor]: h.anchor } : undefined });

function load(file: string): Query[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row)
    .filter((r) => r.base === base && r.ce === ce)
    .map((r) => {
      let features = r.features;
      if (r.candidates && r.question !== undefined) features = extractFeatures(r.question, r.candidates);
      else if (features[0] && features[0].length !== FEATURE_COUNT) throw new Error(`${file}: dump without candidates has ${features[0].length} features, the extractor ${FEATURE_COUNT}; re-dump it`);
      return { id: r.id, features, grades: r.grades, paths: r.paths, goldFiles: r.goldFiles };
    });
}

const repos = readdirSync(dataDir)
  .filter((f) => f.endsWith('.ltr.jsonl'))
  .map((f) => f.slice(0, -'.ltr.jsonl'.length))
  .sort();
const groups = new Map<string, Query[]>(repos.map((r) => [r, load(path.join(dataDir, `${r}.ltr.jsonl`))]));
const extraFiles = args('--extra');
const extraNames = extraFiles.map((f) => `extra:${path.basename(f).replace(/\.ltr\.jsonl$/, '')}`);
extraFiles.forEach((f, i) => groups.set(extraNames[i]!, load(f)));

/** In-list nDCG@10 and file Acc@5 (all gold files among the first 5 files) of a model's order (none: the base order). */
function evaluate(model: LtrModel | undefined, qs: Query[]): { ndcg: number; acc5: number } {
  let ndcg = 0;
  let acc5 = 0;
  let accN = 0;
  for (const q of qs) {
    const order = q.grades.map((_, i) => i);
    if (model) {
      const s = q.features.map((x) => model.score(x));
      order.sort((a, b) => s[b]! - s[a]! || a - b);
    }
    const ideal = dcg([...q.grades].sort((a, b) => b - a), 10);
    ndcg += ideal > 0 ? dcg(order.map((i) => q.grades[i]!), 10) / ideal : 0;
    if (q.goldFiles?.length) {
      const files: string[] = [];
      for (const i of order) {
        const p = q.paths[i]!;
        if (!files.includes(p)) files.push(p);
        if (files.length === 5) break;
      }
      accN++;
      if (q.goldFiles.every((g) => files.includes(g))) acc5++;
    }
  }
  return { ndcg: qs.length ? ndcg / qs.length : 0, acc5: accN ? acc5 / accN : 0 };
}
const objective = (m: { ndcg: number; acc5: number }) => (m.ndcg + m.acc5) / 2;

/**
 * Inner validation folds over a fold's training groups. With extra (git-history) groups, those are
 * the validation groups — dealt round-robin into at most 3 folds, to keep training time down —
 * because they are the kind of question an unseen user repository asks; otherwise one fold per group.
 */
function innerFolds(names: string[]): string[][] {
  const extras = names.filter((g) => g.startsWith('extra:'));
  if (extras.length < 2) return names.map((g) => [g]);
  const k = Math.min(3, extras.length);
  return Array.from({ length: k }, (_, i) => extras.filter((_, j) => j % k === i));
}

/** The grid point with the best mean objective (groups weigh the same) over the inner folds of `names`. */
function select(names: string[]): Hyper & { inner: number } {
  let best = { ...GRID[0]!, inner: -1 };
  if (GRID.length === 1 || names.length < 2) return best;
  const folds = innerFolds(names);
  const baseScore = folds.flat().reduce((a, g) => a + objective(evaluate(undefined, groups.get(g)!)), 0) / folds.flat().length;
  process.stderr.write(`  inner folds ${JSON.stringify(folds)}; base order → ${baseScore.toFixed(4)}\n`);
  for (const h of GRID) {
    let sum = 0;
    let count = 0;
    for (const fold of folds) {
      const train = names.filter((r) => !fold.includes(r)).flatMap((r) => groups.get(r)!);
      const model = new LtrModel(trainLambdaRank(train, optionsOf(h)));
      for (const g of fold) {
        sum += objective(evaluate(model, groups.get(g)!));
        count++;
      }
    }
    const mean = sum / count;
    process.stderr.write(`  ${JSON.stringify(h)} → ${mean.toFixed(4)}\n`);
    if (mean > best.inner + 1e-9) best = { ...h, inner: mean };
  }
  return best;
}

mkdirSync(outDir, { recursive: true });
const variant = `${base}${ce ? '+ce' : ''}`;
const fmt = (m: { ndcg: number; acc5: number }) => `nDCG@10 ${m.ndcg.toFixed(3)}, Acc@5 ${(m.acc5 * 100).toFixed(1)}`;
process.stdout.write(`LambdaRank on ${variant} candidates, prior on ${anchor}; grid ${JSON.stringify(GRID)}; groups ${[...groups.keys()].map((g) => `${g} (${groups.get(g)!.length})`).join(', ')}\n`);
process.stdout.write('held-out repo | train questions | in-list before → after | selected\n');
const only = args('--only');
for (const held of repos) {
  if (only.length && !only.includes(held)) continue;
  const trainOn = [...groups.keys()].filter((g) => g !== held);
  const train = trainOn.flatMap((g) => groups.get(g)!);
  const chosen = select(trainOn);
  const model = trainLambdaRank(train, {
    ...optionsOf(chosen),
    meta: { name: `loro-without-${held}`, selectedBy: `inner folds ${JSON.stringify(innerFolds(trainOn))}: mean (in-list nDCG@10 + file Acc@5)/2 ${chosen.inner.toFixed(3)}`, candidates: variant, trainedOn: trainOn.map((g) => (g.startsWith('extra:') ? g.slice(6) : `swe-qa:${g}`)), heldOut: held },
  });
  writeFileSync(path.join(outDir, `ltr-loro-${held}.json`), `${JSON.stringify(model)}\n`);
  const test = groups.get(held)!;
  process.stdout.write(`${held} | ${train.length} | ${fmt(evaluate(undefined, test))} → ${fmt(evaluate(new LtrModel(model), test))} | ${JSON.stringify(chosen)}\n`);
}
const ship = arg('--ship');
if (ship) {
  const names = [...groups.keys()];
  const all = names.flatMap((g) => groups.get(g)!);
  const chosen = select(names);
  const model = trainLambdaRank(all, {
    ...optionsOf(chosen),
    meta: { name: 'sift-ltr-shipped', selectedBy: `inner folds ${JSON.stringify(innerFolds(names))}: mean (in-list nDCG@10 + file Acc@5)/2 ${chosen.inner.toFixed(3)}`, candidates: variant, trainedOn: names.map((g) => (g.startsWith('extra:') ? g.slice(6) : `swe-qa:${g}`)) },
  });
  writeFileSync(ship, `${JSON.stringify(model)}\n`);
  process.stdout.write(`shipped model (all ${all.length} questions, ${JSON.stringify(chosen)}) → ${ship}\n`);
}
