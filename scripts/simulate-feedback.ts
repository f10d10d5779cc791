/**
 * How much learning from opened sources (src/core/ltr/feedback.ts) helps, with a simulated user.
 *
 *   node --import tsx scripts/simulate-feedback.ts --data DIR [--models DIR | --model FILE] [--seeds 5] \
 *        [--shown 8] [--repos a,b] [--features editor|content] [--json FILE]
 *
 * DIR holds `<repo>.ltr.jsonl` dumps (`sift eval --ltr-dump`: each question's top-K candidates
 * with their grades and gold files). The ranking model for repo R is `<models>/ltr-loro-R.json`
 * (a model that never saw R) or `--model FILE` for every repository.
 *
 * For each repository and seed: the questions are shuffled and split in half. On the first half a
 * simulated user asks each question, sees the top `--shown` (default 8, Sift's default number of
 * sources) candidates of the current ranking (shipped model + what was learned so far), and opens
 * some of them, top to bottom, following a position-biased click model: position r is looked at
 * with probability 1/r; a looked-at candidate is opened with probability 0.9 when it overlaps the
 * gold lines (grade 2), 0.5 when it is another chunk of a gold file (grade 1), 0.05 otherwise
 * (noise). Every open is recorded exactly as the extension records it (skip-above pairs). On the
 * other half — questions never clicked — the ranking with the learned residual is compared with
 * the model alone: file Acc@5 and in-list chunk nDCG@10 (ideal from the list's grades). Mean over
 * seeds, and the per-seed spread.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { dcg } from '../src/core/eval/metrics';
import { extractFeatures } from '../src/core/ltr/features';
import { FeedbackLearner, LEARNABLE } from '../src/core/ltr/feedback';
import { LtrModel, residualScore } from '../src/core/ltr/model';
import { mulberry32 } from './ltr/train';
import type { Candidate } from '../src/core/search/types';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Q {
  id: string;
  question: string;
  candidates: Candidate[];
  features: number[][];
  grades: number[];
  paths: string[];
  goldFiles: string[];
}

const dataDir = arg('--data');
if (!dataDir) {
  process.stderr.write('usage: simulate-feedback.ts --data DIR [--models DIR | --model FILE] [--seeds N] [--shown N] [--repos a,b] [--json FILE]\n');
  process.exit(2);
}
const seeds = Number(arg('--seeds') ?? 5);
const shownN = Number(arg('--shown') ?? 8);
const repos = (arg('--repos') ?? 'flask,requests,pytest,xarray,sphinx,pylint').split(',');
// editor: the default residual (editor signals + files opened before); content: every LEARNABLE feature.
const learnerFeatures = arg('--features') === 'content' ? [...LEARNABLE] : undefined;
const modelFor = (repo: string) => {
  const file = arg('--model') ?? path.join(arg('--models') ?? 'eval/ltr-models', `ltr-loro-${repo}.json`);
  return new LtrModel(JSON.parse(readFileSync(file, 'utf8')));
};

function load(repo: string): Q[] {
  return readFileSync(path.join(dataDir!, `${repo}.ltr.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { id: string; base: string; ce: boolean; question: string; candidates: Candidate[]; grades: number[]; paths: string[]; goldFiles: string[] })
    .filter((r) => r.base === 'bm25' && !r.ce && r.goldFiles?.length)
    .map((r) => ({ id: r.id, question: r.question, candidates: r.candidates, features: extractFeatures(r.question, r.candidates), grades: r.grades, paths: r.paths, goldFiles: r.goldFiles }));
}

/** The ranking of a question: model alone, or with what the learner knows (opened files and residual). */
function order(model: LtrModel, q: Q, learner?: FeedbackLearner): { idx: number[]; base: number[]; features: number[][] } {
  const features = learner ? extractFeatures(q.question, q.candidates, { openedBefore: learner.openedBefore() }) : q.features;
  const residual = learner?.residual();
  const base = features.map((x) => model.score(x));
  const s = features.map((x, i) => base[i]! + residualScore(residual, x));
  return { idx: q.grades.map((_, i) => i).sort((a, b) => s[b]! - s[a]! || a - b), base, features };
}

function metrics(q: Q, idx: number[]): { ndcg: number; acc5: number } {
  const ideal = dcg([...q.grades].sort((a, b) => b - a), 10);
  const files: string[] = [];
  for (const i of idx) {
    if (!files.includes(q.paths[i]!)) files.push(q.paths[i]!);
    if (files.length === 5) break;
  }
  return { ndcg: ideal > 0 ? dcg(idx.map((i) => q.grades[i]!), 10) / ideal : 0, acc5: q.goldFiles.every((g) => files.includes(g)) ? 1 : 0 };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
const rows: Record<string, unknown>[] = [];
process.stdout.write(`Simulated opens (residual over ${learnerFeatures ? 'every learnable feature' : 'editor signals + files opened before'}): ${seeds} seeds, half of each repository's questions clicked, the other half evaluated; top ${shownN} shown; look-at 1/rank, open 0.9 / 0.5 / 0.05 (grade 2 / 1 / 0)\n\n`);
process.stdout.write('| repo | learn / test questions | opens | pairs | file Acc@5 before → after | in-list nDCG@10 before → after | ΔnDCG per seed |\n|---|---|---|---|---|---|---|\n');
const all = { b5: [] as number[], a5: [] as number[], bn: [] as number[], an: [] as number[] };
for (const repo of repos) {
  const qs = load(repo);
  const model = modelFor(repo);
  const per: { b5: number; a5: number; bn: number; an: number; opens: number; pairs: number }[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const rand = mulberry32(1000 * seed + 17);
    const shuffled = [...qs];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const half = Math.floor(shuffled.length / 2);
    const learn = shuffled.slice(0, half);
    const test = shuffled.slice(half);
    const learner = new FeedbackLearner(model, undefined, { features: learnerFeatures });
    for (const q of learn) {
      const { idx, base, features } = order(model, q, learner);
      const shown = idx.slice(0, shownN).map((i) => ({ features: features[i]!, score: base[i]!, file: { path: q.paths[i]! } }));
      const opened = new Set<number>();
      shown.forEach((_, r) => {
        if (rand() >= 1 / (r + 1)) return;
        const g = q.grades[idx[r]!]!;
        if (rand() < (g === 2 ? 0.9 : g === 1 ? 0.5 : 0.05)) {
          learner.recordOpen(shown, r, opened);
          opened.add(r);
        }
      });
    }
    const before = test.map((q) => metrics(q, order(model, q).idx));
    const after = test.map((q) => metrics(q, order(model, q, learner).idx));
    per.push({ b5: mean(before.map((m) => m.acc5)), a5: mean(after.map((m) => m.acc5)), bn: mean(before.map((m) => m.ndcg)), an: mean(after.map((m) => m.ndcg)), opens: learner.opens, pairs: learner.pairCount });
    rows.push({ repo, seed, learn: learn.length, test: test.length, top: learner.topWeights(5), ...per[per.length - 1] });
  }
  const m = (k: 'b5' | 'a5' | 'bn' | 'an') => mean(per.map((p) => p[k]));
  for (const k of ['b5', 'a5', 'bn', 'an'] as const) all[k].push(m(k));
  const spread = per.map((p) => `${p.an - p.bn >= 0 ? '+' : ''}${(p.an - p.bn).toFixed(3)}`).join(' ');
  process.stdout.write(
    `| ${repo} | ${Math.floor(qs.length / 2)} / ${qs.length - Math.floor(qs.length / 2)} | ${mean(per.map((p) => p.opens)).toFixed(1)} | ${mean(per.map((p) => p.pairs)).toFixed(1)} | ${(100 * m('b5')).toFixed(1)} → ${(100 * m('a5')).toFixed(1)} | ${m('bn').toFixed(3)} → ${m('an').toFixed(3)} | ${spread} |\n`,
  );
}
process.stdout.write(`| **mean of repos** | | | | ${(100 * mean(all.b5)).toFixed(1)} → ${(100 * mean(all.a5)).toFixed(1)} | ${mean(all.bn).toFixed(3)} → ${mean(all.an).toFixed(3)} | |\n`);
const jsonOut = arg('--json');
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(rows, null, 1)}\n`);
