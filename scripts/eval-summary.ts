/**
 * Combines `sift eval --json-out` files into one markdown table in the SWE-QA README's layout:
 * one row per repository and variant, plus "all" (means over every question).
 *
 *   node --import tsx scripts/eval-summary.ts OUT_DIR/flask.json OUT_DIR/requests.json …
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { METRIC_KEYS, type QuestionMetrics, meanMetrics } from '../src/core/eval/metrics';

interface Report {
  variants: { name: string; available: boolean }[];
  questions: { variants: Record<string, { metrics: QuestionMetrics }> }[];
}

const files = process.argv.slice(2);
const reports = files.map((f) => ({ name: path.basename(f, '.json'), report: JSON.parse(readFileSync(f, 'utf8')) as Report }));
const variants = [...new Set(reports.flatMap((r) => r.report.variants.filter((v) => v.available).map((v) => v.name)))];
const fmt = (m: QuestionMetrics) =>
  METRIC_KEYS.map((k) => (k === 'mrr10' || k === 'ndcg10' ? m[k].toFixed(3) : (m[k] * 100).toFixed(1))).join(' | ');
const lines = ['| repo | variant | n | file Acc@1 | Acc@3 | Acc@5 | Recall@5 | Recall@10 | MRR@10 | chunk nDCG@10 |', '|---|---|---|---|---|---|---|---|---|---|'];
const all = new Map<string, QuestionMetrics[]>();
for (const { name, report } of reports) {
  for (const v of variants) {
    const rows = report.questions.map((q) => q.variants[v]?.metrics).filter((m): m is QuestionMetrics => Boolean(m));
    if (!rows.length) continue;
    all.set(v, [...(all.get(v) ?? []), ...rows]);
    lines.push(`| ${name} | ${v} | ${rows.length} | ${fmt(meanMetrics(rows))} |`);
  }
}
for (const v of variants) if (all.get(v)?.length) lines.push(`| **all** | ${v} | ${all.get(v)!.length} | ${fmt(meanMetrics(all.get(v)!))} |`);
process.stdout.write(`${lines.join('\n')}\n`);
