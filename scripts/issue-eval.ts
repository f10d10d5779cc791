/**
 * Issue-style questions, offline (issue 19): scores the candidate dumps written by
 * `scripts/eval-issues.sh` (`sift eval --ltr-dump`, lexical top K per question) with every
 * reordering, per repository, pooled and per question kind — file Acc@1/3/5 and MRR@10 on exactly
 * the candidates `sift eval` ranked, so these numbers equal its `+q` / `+ltr` rows.
 *
 *   node --import tsx scripts/issue-eval.ts DUMP.ltr.jsonl … [--ltr-model FILE] [--set key=value …] [--kinds] [--per-question NAME]
 *
 * `--set` overrides a weight of the question prior (src/core/search/fileEvidence.ts
 * DEFAULT_EVIDENCE_WEIGHTS) — for tuning on the tuning split only. `--per-question NAME` prints
 * each question of repository NAME with its gold files' ranks under bm25 and bm25+q.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { accuracyAt, fileRanking, mrrAt } from '../src/core/eval/metrics';
import { LtrModel, ltrRerank, shippedLtrModel } from '../src/core/ltr/model';
import { understandQuestion } from '../src/core/query/understand';
import { DEFAULT_EVIDENCE_WEIGHTS, type EvidenceWeights } from '../src/core/search/fileEvidence';
import { applyQuestionPrior } from '../src/core/search/questionPrior';
import type { Candidate } from '../src/core/search/types';

interface Row {
  id: string;
  base: string;
  ce: boolean;
  question: string;
  candidates: Candidate[];
  goldFiles: string[];
}

const argv = process.argv.slice(2);
const files: string[] = [];
const weights: EvidenceWeights = { ...DEFAULT_EVIDENCE_WEIGHTS };
let ltrPath: string | undefined;
let perQuestion: string | undefined;
let byKind = false;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--set') {
    const [k, v] = argv[++i]!.split('=');
    if (!(k! in weights)) throw new Error(`unknown weight ${k}`);
    (weights as unknown as Record<string, number>)[k!] = Number(v);
  } else if (a === '--ltr-model') ltrPath = argv[++i];
  else if (a === '--kinds') byKind = true;
  else if (a === '--per-question') perQuestion = argv[++i];
  else files.push(a);
}
const ltr = ltrPath ? LtrModel.fromJson(JSON.parse(readFileSync(ltrPath, 'utf8'))) : shippedLtrModel();

type Variant = (q: string, c: Candidate[]) => Candidate[];
const VARIANTS: Record<string, Variant> = {
  bm25: (_q, c) => c,
  'bm25+q': (q, c) => applyQuestionPrior(c, understandQuestion(q), weights),
  'bm25+ltr': (q, c) => ltrRerank(ltr, q, c),
  'bm25+ltr+q': (q, c) => applyQuestionPrior(ltrRerank(ltr, q, c), understandQuestion(q), weights),
};

interface Score {
  acc1: number;
  acc3: number;
  acc5: number;
  mrr: number;
}
const results: { repo: string; kind: string; id: string; question: string; gold: string[]; scores: Record<string, Score>; ranks: Record<string, string> }[] = [];
for (const file of files) {
  const repo = path.basename(file).replace(/\.ltr\.jsonl$/, '');
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as Row;
    if (row.base !== 'bm25' || row.ce || !row.goldFiles?.length) continue;
    const kind = understandQuestion(row.question).kind;
    const scores: Record<string, Score> = {};
    const ranks: Record<string, string> = {};
    for (const [name, v] of Object.entries(VARIANTS)) {
      const ranked = fileRanking(v(row.question, row.candidates).map((c) => c.chunk));
      scores[name] = { acc1: accuracyAt(ranked, row.goldFiles, 1), acc3: accuracyAt(ranked, row.goldFiles, 3), acc5: accuracyAt(ranked, row.goldFiles, 5), mrr: mrrAt(ranked, row.goldFiles, 10) };
      ranks[name] = row.goldFiles.map((g) => ranked.indexOf(g) + 1 || '-').join(',') + `  top: ${ranked.slice(0, 3).join(' ')}`;
    }
    results.push({ repo, kind, id: row.id, question: row.question, gold: row.goldFiles, scores, ranks });
  }
}

const pct = (v: number) => (100 * v).toFixed(1);
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
