/**
 * Issue-style questions, offline (issue 19): scores the candidate dumps written by
 * `scripts/eval-issues.sh` (`sift eval --ltr-dump`, lexical top K per question) with every
 * reordering, per repository, pooled and per question kind — file Acc@1/3/5 and MRR@10 on exactly
 * the candidates `sift eval` ranked, so these numbers equal its `+q` / `+ltr` rows.
 *
 *   node --import tsx scripts/issue-eval.ts DUMP.ltr.jsonl … [--ltr-model FILE | --ltr-dir DIR] [--set key=value …] [--kinds] [--per-question NAME]
 *                                          [--loro key=v1,v2,…] [--k K] [--no-named]
 *
 * `--set` overrides a weight of the question prior (src/core/search/fileEvidence.ts
 * DEFAULT_EVIDENCE_WEIGHTS) — for tuning on the tuning split only. `--per-question NAME` prints
 * each question of repository NAME with its gold files' ranks under bm25 and bm25+q. `--ltr-dir`
 * scores each repository R's `+ltr` rows with DIR/ltr-loro-R.json when it exists (SWE-QA's
 * leave-one-out models), else the shipped model. `--loro key=v1,v2,…` is leave-one-repository-out
 * selection of one weight: for each repository, the value with the best bm25+q Acc@5 (then MRR@10)
 * on the OTHER repositories' questions, and that value's result on the held-out one. `--no-named`:
 * `+q` without the chunks of named files the list lacked (dumps made before they existed have none).
 * `--k K` (default 50): K as in `sift ask` — `+ltr` reorders the top K, `+q` weighs them and the next
 * candidates down to priorDepth(kind, K) (`--prior-depth D` for every question, `--all-deep` for
 * PRIOR_DEPTH_FACTOR × K whatever the kind), as far as the dump reaches; dump
 * deeper than that (`eval-issues.sh --candidates 100`) to score K = 50 exactly as `sift ask` ranks it.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { accuracyAt, fileRanking, mrrAt } from '../src/core/eval/metrics';
import { LtrModel, ltrRerank, shippedLtrModel } from '../src/core/ltr/model';
import { understandQuestion } from '../src/core/query/understand';
import { fileRole } from '../src/core/query/roles';
import { DEFAULT_EVIDENCE_WEIGHTS, type EvidenceWeights } from '../src/core/search/fileEvidence';
import { pathMatches } from '../src/core/search/fileEvidence';
import { PRIOR_DEPTH_FACTOR, priorDepth } from '../src/core/search/namedFiles';
import type { FeedbackResult } from '../src/core/search/feedback';
import type { Neighbour } from '../src/core/search/neighbours';
import { feedbackApplies, widenForPrior } from '../src/core/search/priorPool';
import { applyQuestionPrior } from '../src/core/search/questionPrior';
import type { DefinitionHit } from '../src/core/search/definitionLookup';
import type { Candidate } from '../src/core/search/types';

interface Row {
  id: string;
  base: string;
  ce: boolean;
  question: string;
  candidates: Candidate[];
  goldFiles: string[];
  named?: { chunk: Candidate['chunk']; folder?: string }[];
  defined?: DefinitionHit[];
  neighbours?: Neighbour[];
  /** The dump's feedback search (the first 3 files' 12 terms, whatever prfFiles / prfTerms say: --set prfFiles=1 switches it on). */
  feedback?: FeedbackResult;
  /** The dumped candidates below K, down to the prior's depth. */
  tail?: Candidate[];
  /** Every dumped candidate, before the cut to K and the prior's depth (the reference variant's list). */
  all?: Candidate[];
}

const argv = process.argv.slice(2);
const files: string[] = [];
const weights: EvidenceWeights = { ...DEFAULT_EVIDENCE_WEIGHTS };
let ltrPath: string | undefined;
let ltrDir: string | undefined;
let K = 50;
let priorDepthOpt: number | undefined;
let allDeep = false;
let loro: { key: string; values: number[] } | undefined;
let perQuestion: string | undefined;
let byKind = false;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--set') {
    const [k, v] = argv[++i]!.split('=');
    if (!(k! in weights)) throw new Error(`unknown weight ${k}`);
    (weights as unknown as Record<string, number>)[k!] = Number(v);
  } else if (a === '--ltr-model') ltrPath = argv[++i];
  else if (a === '--ltr-dir') ltrDir = argv[++i];
  else if (a === '--loro') {
    const [k, v] = argv[++i]!.split('=');
    if (!(k! in weights)) throw new Error(`unknown weight ${k}`);
    loro = { key: k!, values: v!.split(',').map(Number) };
  }
  else if (a === '--kinds') byKind = true;
  else if (a === '--per-question') perQuestion = argv[++i];
  else if (a === '--no-named') continue;
  else if (a === '--k') K = Number(argv[++i]);
  else if (a === '--prior-depth') priorDepthOpt = Number(argv[++i]);
  else if (a === '--all-deep') allDeep = true;
  else files.push(a);
}
const shipped = ltrPath ? LtrModel.fromJson(JSON.parse(readFileSync(ltrPath, 'utf8'))) : shippedLtrModel();
const loroModels = new Map<string, LtrModel>();
function ltrFor(repo: string): LtrModel {
  if (!ltrDir) return shipped;
  let m = loroModels.get(repo);
  if (!m) {
    const file = path.join(ltrDir, `ltr-loro-${repo}.json`);
    m = existsSync(file) ? LtrModel.fromJson(JSON.parse(readFileSync(file, 'utf8'))) : shipped;
    loroModels.set(repo, m);
  }
  return m;
}

// `+q` appends the chunks of files the question names by path that the list lacks (the dump's `named`), as `sift eval` and `sift ask` do; --no-named leaves them out.
const noNamed = argv.includes('--no-named');
type Variant = (q: string, c: Candidate[], repo: string, row: Row) => Candidate[];
// … and the files defining the symbols it names that the list lacks (the dump's `defined`, src/core/search/definitionLookup.ts; `--set lookupFiles=0` leaves them out).
// The pool as sift ask and sift eval widen it (src/core/search/priorPool.ts), from the dump's look-ups.
// Neighbours (src/core/search/neighbours.ts): the dump's, of the first nbFrom files of the first stage's list.
const neighboursOf = (row: Row, w: Readonly<EvidenceWeights>) => {
  if (!(w.nbFrom > 0) || !row.neighbours?.length) return [];
  const tops: string[] = [];
  for (const c of [...row.candidates, ...(row.tail ?? [])]) if (!tops.includes(c.chunk.path) && tops.push(c.chunk.path) >= w.nbFrom) break;
  return row.neighbours.filter((n) => tops.includes(n.from));
};
const widen = (c: Candidate[], row: Row, reranked: boolean, w: Readonly<EvidenceWeights> = weights) =>
  widenForPrior(c, row.tail ?? [], reranked, { named: noNamed ? [] : (row.named ?? []), defined: row.defined ?? [], neighbours: neighboursOf(row, w), feedback: feedbackApplies(understandQuestion(row.question), w) ? (row.feedback?.hits ?? []) : [] }, w);
const VARIANTS: Record<string, Variant> = {
  bm25: (_q, c) => c,
  'bm25+q': (q, c, _r, row) => applyQuestionPrior(widen(c, row, false), understandQuestion(q), weights),
  'bm25+ltr': (q, c, repo) => ltrRerank(ltrFor(repo), q, c),
  'bm25+ltr+q': (q, c, repo, row) => applyQuestionPrior(widen(ltrRerank(ltrFor(repo), q, c), row, true), understandQuestion(q), weights),
  // An approximation of the held-out check's reference (plain BM25 over implementation files only):
  // the dumped plain-bm25 candidates, every one the dump holds, restricted to source-role files.
  'impl-only bm25': (_q, c, _r, row) => (row.all ?? c).filter((x) => fileRole(x.chunk.path) === 'source'),
};

interface Score {
  acc1: number;
  acc3: number;
  acc5: number;
  mrr: number;
}
const pct = (v: number) => (100 * v).toFixed(1);
const rows: { repo: string; row: Row }[] = [];
for (const file of files) {
  const repo = path.basename(file).replace(/\.ltr\.jsonl$/, '');
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as Row;
    if (row.base !== 'bm25' || row.ce || !row.goldFiles?.length) continue;
    // K reordered by +ltr, the prior down to D = PRIOR_DEPTH_FACTOR × K (as sift ask); a deeper dump's files named by
    // path below D count as named files the list lacks (their best chunk), as sift eval's `named` would at that depth.
    const D = Math.min(row.candidates.length, priorDepthOpt ?? (allDeep ? PRIOR_DEPTH_FACTOR * K : priorDepth(understandQuestion(row.question), K, weights)));
    if (row.candidates.length > D) {
      const u = understandQuestion(row.question);
      const mentioned = [...u.frames.map((f) => f.path), ...u.paths];
      const inHead = new Set(row.candidates.slice(0, D).map((c) => c.chunk.path));
      const below = new Map<string, Candidate>();
      for (const c of row.candidates.slice(D)) if (!inHead.has(c.chunk.path) && !below.has(c.chunk.path) && mentioned.some((m) => pathMatches(c.chunk.path, m))) below.set(c.chunk.path, c);
      row.named = [...[...below.values()].map((c) => ({ chunk: c.chunk })), ...(row.named ?? [])];
    }
    row.all = row.candidates;
    row.tail = row.candidates.slice(K, D);
    row.candidates = row.candidates.slice(0, K);
    rows.push({ repo, row });
  }
}
function score(ranked: string[], gold: string[]): Score {
  return { acc1: accuracyAt(ranked, gold, 1), acc3: accuracyAt(ranked, gold, 3), acc5: accuracyAt(ranked, gold, 5), mrr: mrrAt(ranked, gold, 10) };
}

if (loro) {
  // Leave-one-repository-out choice of one weight (bm25+q): chosen on the other repositories only.
  const { key, values } = loro;
  const per = values.map((v) => {
    const w = { ...weights, [key]: v };
    return rows.map(({ repo, row }) => ({ repo, s: score(fileRanking(applyQuestionPrior(widen(row.candidates, row, false, w), understandQuestion(row.question), w).map((c) => c.chunk)), row.goldFiles) }));
  });
  const base = rows.map(({ repo, row }) => ({ repo, s: score(fileRanking(row.candidates.map((c) => c.chunk)), row.goldFiles) }));
  const mean = (xs: { s: Score }[], k: keyof Score) => xs.reduce((a, x) => a + x.s[k], 0) / (xs.length || 1);
  console.log(`\nleave-one-repository-out choice of ${key} among ${values.join(', ')} (bm25+q; chosen on the other repositories' Acc@5, then MRR@10)\n`);
  console.log('| held-out | n | chosen | bm25 Acc@5 | bm25+q Acc@5 | bm25 MRR@10 | bm25+q MRR@10 | in-fold Acc@5 per value |\n|---|---|---|---|---|---|---|---|');
  const pooled: { s: Score }[] = [];
  for (const held of [...new Set(rows.map((r) => r.repo))]) {
    const inner = per.map((list) => list.filter((x) => x.repo !== held));
    let best = 0;
    inner.forEach((list, i) => {
      const a = mean(list, 'acc5');
      const b = mean(inner[best]!, 'acc5');
      if (a > b + 1e-9 || (Math.abs(a - b) <= 1e-9 && mean(list, 'mrr') > mean(inner[best]!, 'mrr') + 1e-9)) best = i;
    });
    const out = per[best]!.filter((x) => x.repo === held);
    const b = base.filter((x) => x.repo === held);
    pooled.push(...out);
    console.log(`| ${held} | ${out.length} | ${values[best]} | ${pct(mean(b, 'acc5'))} | ${pct(mean(out, 'acc5'))} | ${mean(b, 'mrr').toFixed(3)} | ${mean(out, 'mrr').toFixed(3)} | ${inner.map((l, i) => `${values[i]}: ${pct(mean(l, 'acc5'))}`).join(', ')} |`);
  }
  console.log(`| pooled | ${pooled.length} | | ${pct(mean(base, 'acc5'))} | ${pct(mean(pooled, 'acc5'))} | ${mean(base, 'mrr').toFixed(3)} | ${mean(pooled, 'mrr').toFixed(3)} | |`);
  process.exit(0);
}

const results: { repo: string; kind: string; id: string; question: string; gold: string[]; scores: Record<string, Score>; ranks: Record<string, string> }[] = [];
for (const { repo, row } of rows) {
  const kind = understandQuestion(row.question).kind;
  const scores: Record<string, Score> = {};
  const ranks: Record<string, string> = {};
  for (const [name, v] of Object.entries(VARIANTS)) {
    const ranked = fileRanking(v(row.question, row.candidates, repo, row).map((c) => c.chunk));
    scores[name] = score(ranked, row.goldFiles);
    ranks[name] = row.goldFiles.map((g) => ranked.indexOf(g) + 1 || '-').join(',') + `  top: ${ranked.slice(0, 3).join(' ')}`;
  }
  results.push({ repo, kind, id: row.id, question: row.question, gold: row.goldFiles, scores, ranks });
}

function table(title: string, rows: typeof results): void {
  if (!rows.length) return;
  console.log(`\n${title} (n = ${rows.length})\n\n| variant | Acc@1 | Acc@3 | Acc@5 | MRR@10 |\n|---|---|---|---|---|`);
  for (const name of Object.keys(VARIANTS)) {
    const m = (k: keyof Score) => rows.reduce((s, r) => s + r.scores[name]![k], 0) / rows.length;
    console.log(`| ${name} | ${pct(m('acc1'))} | ${pct(m('acc3'))} | ${pct(m('acc5'))} | ${m('mrr').toFixed(3)} |`);
  }
}

console.log(`weights: ${JSON.stringify(weights)}`);
const repos = [...new Set(results.map((r) => r.repo))];
const summary = (rows: typeof results, name: string) => rows.reduce((s, r) => s + r.scores[name]!.acc5, 0) / (rows.length || 1);
console.log('\n| repo | n | ' + Object.keys(VARIANTS).map((v) => `${v} Acc@5`).join(' | ') + ' | ' + Object.keys(VARIANTS).map((v) => `${v} MRR@10`).join(' | ') + ' |');
console.log('|---|---|' + Object.keys(VARIANTS).map(() => '---|').join('').repeat(2));
for (const repo of [...repos, 'pooled']) {
  const rows = repo === 'pooled' ? results : results.filter((r) => r.repo === repo);
  const mrr = (name: string) => rows.reduce((s, r) => s + r.scores[name]!.mrr, 0) / (rows.length || 1);
  console.log(`| ${repo} | ${rows.length} | ${Object.keys(VARIANTS).map((v) => pct(summary(rows, v))).join(' | ')} | ${Object.keys(VARIANTS).map((v) => mrr(v).toFixed(3)).join(' | ')} |`);
}
if (byKind) for (const kind of [...new Set(results.map((r) => r.kind))].sort()) table(`kind ${kind}, pooled`, results.filter((r) => r.kind === kind));
if (byKind) table('pooled', results);
if (perQuestion) {
  for (const r of results.filter((x) => x.repo === perQuestion)) {
    const d = r.scores['bm25+q']!.acc5 - r.scores.bm25!.acc5;
    console.log(`\n${d > 0 ? '+' : d < 0 ? '−' : '='} ${r.id} [${r.kind}] ${r.question.slice(0, 160)}\n   gold ${r.gold.join(' ')}\n   bm25   ${r.ranks.bm25}\n   bm25+q ${r.ranks['bm25+q']}`);
  }
}
