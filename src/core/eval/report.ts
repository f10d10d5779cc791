import type { VariantSummary } from './runner';

const pct = (v: number) => (v * 100).toFixed(1);
const dec = (v: number) => v.toFixed(3);

/**
 * The results table (markdown): one row per variant, columns as in the SWE-QA README — file
 * Acc@1/3/5 and Recall@5/10 in percent, MRR@10 and chunk nDCG@10 — plus mean latency per question
 * of the variant's stages. Unavailable variants are listed with the reason.
 */
export function formatTable(rows: readonly VariantSummary[], title?: string): string {
  const lines: string[] = [];
  if (title) lines.push(title, '');
  lines.push('| variant | n | file Acc@1 | Acc@3 | Acc@5 | Recall@5 | Recall@10 | MRR@10 | chunk nDCG@10 | ms/question (stages) |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    if (!r.available || !r.metrics) {
      lines.push(`| ${r.name} | – | unavailable: ${r.reason ?? ''} | | | | | | | |`);
      continue;
    }
    const m = r.metrics;
    const lat = r.latency ? `${r.latency.total.toFixed(1)} (${stageText(r.latency)})` : '';
    lines.push(`| ${r.name} | ${r.n} | ${pct(m.acc1)} | ${pct(m.acc3)} | ${pct(m.acc5)} | ${pct(m.recall5)} | ${pct(m.recall10)} | ${dec(m.mrr10)} | ${dec(m.ndcg10)} | ${lat} |`);
  }
  // A reranker that failed for some questions: those rows scored the unreranked ranking (as `sift ask` falls back).
  const notes = rows.filter((r) => r.rerankFallbacks).map((r) => `${r.name}: reranking failed for ${r.rerankFallbacks!.count} of ${r.n} questions (${r.rerankFallbacks!.reason}); those were scored on the ranking without reranking.`);
  if (notes.length) lines.push('', ...notes.map((n) => `Note — ${n}`));
  return `${lines.join('\n')}\n`;
}

function stageText(l: NonNullable<VariantSummary['latency']>): string {
  return Object.entries(l)
    .filter(([k]) => k !== 'total')
    .map(([k, v]) => `${k} ${(v as number).toFixed(1)}`)
    .join(', ');
}
