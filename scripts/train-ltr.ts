/**
 * Trains Sift's learning-to-rank model offline (LambdaRank, see scripts/ltr/train.ts) from
 * candidate dumps written by `sift eval --ltr-dump FILE` (one JSON line per question: the top-K
 * candidates — chunk and provenance — their grades, the gold files, and their features).
 *
 *   node --import tsx scripts/train-ltr.ts --data DIR [--out DIR] [--base bm25|hybrid] [--ce] \
 *        [--extra FILE ...] [--ship src/core/ltr/model.json] [--recipes all,query,mix] [--seeds 1,2,3] [--epochs 40] [--only REPO] [--k 50] [--drop-features role_,ev_]
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
 * The recipe (feature set, see RECIPES) is chosen per model on that model's training groups only,
 * never on the held-out repository: leave-one-group-out over the training groups, maximising mean +
 * minimum over groups of the gain in (in-list nDCG@10 + file Acc@5) / 2 over the base order.
 * Deterministic: same data and options → byte-identical models.
 */
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { dcg } from '../src/core/eval/metrics';
import { FEATURE_COUNT, FEATURE_NAMES, extractFeatures } from '../src/core/ltr/features';
import { type LtrModelJson, LtrModel } from '../src/core/ltr/model';
import { type TrainOptions, type TrainQuery, averageLinearModels, trainLambdaRank } from './ltr/train';
import type { Candidate } from '../src/core/search/types';

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
/** Every value of a repeatable option; `--extra a b c` (a shell glob) counts as `--extra a --extra b --extra c`. */
function args(name: string): string[] {
  const out: string[] = [];
  process.argv.forEach((a, i) => {
    if (a !== name) return;
    for (let j = i + 1; j < process.argv.length && !process.argv[j]!.startsWith('--'); j++) out.push(process.argv[j]!);
  });
  return out;
}

const dataDir = arg('--data');
if (!dataDir) {
  process.stderr.write('usage: train-ltr.ts --data DIR [--out DIR] [--base bm25|hybrid] [--ce] [--extra FILE ...] [--ship FILE] [--recipes all,query,mix] [--seeds 1,2,3] [--epochs N] [--only REPO] [--k 50] [--drop-features PREFIX,...]\n');
  process.exit(2);
}
const outDir = arg('--out') ?? dataDir;
const base = arg('--base') ?? 'bm25';
const ce = process.argv.includes('--ce');
/**
 * Recipes. Every one is a linear LambdaRank model whose L2 penalty pulls it towards a prior of
 * weight 3 on `lex_rel` (the BM25 score relative to the list's best — the base order's own score,
 * which keeps more of its information than the rank), so it moves away from the base order only as
 * far as the data supports; three seeds are trained with mini-batches of 16 queries and their
 * weights averaged (one linear model), because single-seed models differed by several questions
 * of Acc@5 on the same data. They differ in their features:
 *   all    every feature;
 *   query  only features that depend on the question or the base ranking — without the
 *          query-independent flags (kind, test/doc/example/__init__ paths, length, depths) that
 *          mostly encode where a data set's gold usually lies;
 *   mix    the average of the two.
 * Which one a model uses is chosen on its own training groups only (see select()).
 */
const anchor = 'lex_rel';
const QUERY_INDEPENDENT = ['role_test', 'role_doc', 'role_example', 'role_config', 'role_generated', 'kind_function', 'kind_class', 'kind_module', 'kind_doc', 'kind_lines', 'is_test', 'is_doc', 'is_init', 'is_example', 'log_lines', 'symbol_depth', 'path_depth', 'test_match', 'doc_match'];
type Recipe = 'all' | 'query' | 'mix';
const RECIPES: Recipe[] = arg('--recipes') ? (arg('--recipes')!.split(',') as Recipe[]) : ['all', 'query', 'mix'];
const SEEDS = (arg('--seeds') ?? '1,2,3').split(',').map(Number);
const EPOCHS = Number(arg('--epochs') ?? 40);
/** Candidates per question used for training: the top K the stage reorders (deeper dumps, e.g. eval-issues.sh --candidates 100, are cut to it). */
const K = Number(arg('--k') ?? 50);
/** Features left out of every recipe (e.g. `--drop-features role_,ev_` trains the pre-issue-19 feature set for comparison; prefixes). */
const DROP = (arg('--drop-features') ?? '').split(',').filter(Boolean);
// Flags that encode a data set's habits (where its gold usually is) more than relevance: shrunk harder.
const L2_SCALE: Record<string, number> = { role_test: 4, role_doc: 4, role_example: 4, role_config: 4, role_generated: 4, is_test: 4, is_doc: 4, kind_doc: 4, is_example: 4, is_init: 4, path_depth: 4, symbol_depth: 4, log_lines: 4 };
const common: TrainOptions = {
  hidden: 0,
  learningRate: Number(arg('--lr') ?? 0.01),
  batch: 16,
  epochs: EPOCHS,
  l2: 0.3,
  prior: { [anchor]: 3 },
  ndcgAt: 10,
  l2Scale: L2_SCALE,
  // No training data has editor signals: leave them out rather than learn noise. With bm25
  // candidates lex_rr is the same ranking as fused_rr.
  exclude: [...FEATURE_NAMES.filter((f) => DROP.some((d) => f.startsWith(d))), 'ed_open', 'ed_recent', 'ed_near_cursor', 'ed_opened_before', ...(base === 'bm25' ? ['dense_has', 'dense_rr', 'dense_gap', 'lex_rr'] : []), ...(ce ? [] : ['ce_has', 'ce_rr', 'ce_z'])],
};

/** Trains the parts a recipe needs ('all' and/or 'query', each a seed average), memoised per training set. */
function trainParts(queries: Query[]): Record<'all' | 'query', () => LtrModelJson> {
  const memo: Partial<Record<'all' | 'query', LtrModelJson>> = {};
  const part = (p: 'all' | 'query') => () =>
    (memo[p] ??= averageLinearModels(
      SEEDS.map((seed) => trainLambdaRank(queries, { ...common, seed, exclude: [...common.exclude!, ...(p === 'query' ? QUERY_INDEPENDENT : [])] })),
      { seeds: SEEDS, features: p },
    ));
  return { all: part('all'), query: part('query') };
}
function trainRecipe(recipe: Recipe, parts: Record<'all' | 'query', () => LtrModelJson>, meta?: Record<string, unknown>): LtrModelJson {
  if (recipe === 'mix') return averageLinearModels([parts.all(), parts.query()], { features: 'mix (average of all and query)', ...meta });
  const m = parts[recipe]();
  return { ...m, meta: { ...m.meta, ...meta } };
}

function load(file: string): Query[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row)
    .filter((r) => r.base === base && r.ce === ce)
    .map((r) => {
      if (r.candidates && r.candidates.length > K) {
        r.candidates = r.candidates.slice(0, K);
        r.grades = r.grades.slice(0, K);
        r.paths = r.paths.slice(0, K);
      }
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
/** A group's gain over the base order: the mean of its in-list nDCG@10 and file Acc@5 gains. */
const gainOver = (m: { ndcg: number; acc5: number }, b: { ndcg: number; acc5: number }) => (m.ndcg - b.ndcg + (m.acc5 - b.acc5)) / 2;

/**
 * The recipe for a model trained on `names`, chosen by leave-one-group-out over those groups only
 * (never the held-out repository): each recipe is trained on all but one group and scored on it;
 * the criterion is mean + minimum over groups of the gain over the base order, so a recipe that
 * helps on average but loses badly on one repository is not preferred — the point is to beat the
 * base ranking on every unseen repository, not on average.
 */
function select(names: string[]): { recipe: Recipe; inner: number; table: Record<string, string> } {
  if (RECIPES.length === 1 || names.length < 2) return { recipe: RECIPES[0]!, inner: NaN, table: {} };
  const gains: Record<string, number[]> = Object.fromEntries(RECIPES.map((r) => [r, []]));
  for (const held of names) {
    const test = groups.get(held)!;
    const b = evaluate(undefined, test);
    const parts = trainParts(names.filter((g) => g !== held).flatMap((g) => groups.get(g)!));
    for (const r of RECIPES) gains[r]!.push(gainOver(evaluate(new LtrModel(trainRecipe(r, parts)), test), b));
  }
  const table: Record<string, string> = {};
  let best: { recipe: Recipe; inner: number } = { recipe: RECIPES[0]!, inner: -Infinity };
  for (const r of RECIPES) {
    const g = gains[r]!;
    const score = g.reduce((a, x) => a + x, 0) / g.length + Math.min(...g);
    table[r] = `mean+min ${score.toFixed(4)} (${names.map((n, i) => `${n.replace('extra:', '')} ${g[i]! >= 0 ? '+' : ''}${g[i]!.toFixed(3)}`).join(', ')})`;
    process.stderr.write(`  ${r}: ${table[r]}\n`);
    if (score > best.inner + 1e-9) best = { recipe: r, inner: score };
  }
  return { ...best, table };
}

mkdirSync(outDir, { recursive: true });
const variant = `${base}${ce ? '+ce' : ''}`;
const fmt = (m: { ndcg: number; acc5: number }) => `nDCG@10 ${m.ndcg.toFixed(3)}, Acc@5 ${(m.acc5 * 100).toFixed(1)}`;
const trainedOn = (names: string[]) => names.map((g) => (g.startsWith('extra:') ? g.slice(6) : `swe-qa:${g}`));
process.stdout.write(
  `LambdaRank on ${variant} candidates, prior ${anchor} × 3, L2 ${common.l2}, batch ${common.batch}, ${EPOCHS} epochs, seeds ${SEEDS.join('/')}; recipes ${RECIPES.join(', ')}; groups ${[...groups.keys()].map((g) => `${g} (${groups.get(g)!.length})`).join(', ')}\n`,
);
process.stdout.write('held-out repo | train questions | in-list before → after | selected recipe (inner mean+min)\n');
const only = args('--only');
for (const held of repos) {
  if (only.length && !only.includes(held)) continue;
  const trainOn = [...groups.keys()].filter((g) => g !== held);
  const train = trainOn.flatMap((g) => groups.get(g)!);
  process.stderr.write(`fold without ${held}:\n`);
  const chosen = select(trainOn);
  const model = trainRecipe(chosen.recipe, trainParts(train), {
    name: `loro-without-${held}`,
    recipe: chosen.recipe,
    selectedBy: `leave-one-group-out over its training groups, mean+min gain of (in-list nDCG@10 + file Acc@5)/2: ${JSON.stringify(chosen.table)}`,
    candidates: variant,
    trainedOn: trainedOn(trainOn),
    heldOut: held,
  });
  writeFileSync(path.join(outDir, `ltr-loro-${held}.json`), `${JSON.stringify(model)}\n`);
  const test = groups.get(held)!;
  process.stdout.write(`${held} | ${train.length} | ${fmt(evaluate(undefined, test))} → ${fmt(evaluate(new LtrModel(model), test))} | ${chosen.recipe} (${chosen.inner.toFixed(4)})\n`);
}
const ship = arg('--ship');
if (ship) {
  const names = [...groups.keys()];
  const all = names.flatMap((g) => groups.get(g)!);
  process.stderr.write('shipped model:\n');
  const chosen = select(names);
  const model = trainRecipe(chosen.recipe, trainParts(all), {
    name: 'sift-ltr-shipped',
    recipe: chosen.recipe,
    selectedBy: `leave-one-group-out over its training groups, mean+min gain of (in-list nDCG@10 + file Acc@5)/2: ${JSON.stringify(chosen.table)}`,
    candidates: variant,
    candidatesPerQuestion: K,
    trainedOn: trainedOn(names),
    // How to make it again (file names only: the dumps live wherever eval-issues.sh / eval-swe-qa.sh wrote them).
    command: `scripts/train-ltr.ts ${process.argv.slice(2).map((a) => (a.includes('/') ? path.basename(a) : a)).join(' ')}`,
  });
  writeFileSync(ship, `${JSON.stringify(model)}\n`);
  process.stdout.write(`shipped model (all ${all.length} questions, recipe ${chosen.recipe}, inner ${chosen.inner.toFixed(4)}) → ${ship}\n`);
}
