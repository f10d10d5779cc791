import { type AskContext, rankCandidates } from '../answer/ask';
import { type Conversation, newConversation } from '../conversation/conversation';
import { askTurn, prepareTurn } from '../conversation/turn';
import type { LlmConfig } from '../llm/llm';
import type { IndexStore } from '../store/store';
import { throwIfAborted } from '../util/errors';
import type { InferenceClient } from '../worker/client';
import type { EvalConversation } from './conversations';
import { accuracyAt, fileRanking, mrrAt } from './metrics';

/**
 * `sift eval --conversations`: for each conversation, turn 1 asked alone, then every later turn
 * (the follow-up) ranked three or four ways — alone, with the conversation through the
 * deterministic fallback, with the conversation through the LLM rewrite (when an LLM is
 * configured), and with the fallback but without the tests-first step (ablation) — on the lexical
 * and the hybrid path. Rankings only (no answers are written; reranking off): turn 1's sources
 * are the ones `sift chat` without an LLM would carry forward.
 */
export type ConversationBase = 'lexical' | 'hybrid';
export const CONVERSATION_ROWS = ['turn 1 alone', 'follow-up alone', 'follow-up + conversation (fallback)', 'follow-up + conversation (LLM rewrite)', 'follow-up + conversation (fallback, no tests-first)'] as const;
export type ConversationRow = (typeof CONVERSATION_ROWS)[number];

export interface ConversationRowSummary {
  base: ConversationBase;
  row: ConversationRow;
  n: number;
  acc1: number;
  acc5: number;
  mrr10: number;
  /** Why the row has no numbers (no embedding model, no LLM configured). */
  unavailable?: string;
}

export interface ConversationOutcome {
  id: string;
  split?: 'tune' | 'report';
  /** Per base and row: one entry per scored turn (rank of the best gold file, 1-based, or null). */
  results: Partial<Record<ConversationBase, Partial<Record<ConversationRow, ScoredTurn[]>>>>;
}

/** One turn ranked one way: its metrics, the rank of its first gold file (1-based, or null), and the top files ranked. */
export interface ScoredTurn {
  turn: number;
  acc1: number;
  acc5: number;
  mrr10: number;
  firstGoldRank: number | null;
  /** The first 10 files of the ranking (for reading failures in `--json`). */
  top: string[];
  searchedFor?: string;
}

export interface ConversationEvalOptions {
  bases: ConversationBase[];
  /** The LLM rewrite row: an OpenAI-compatible endpoint (only the rewrite call is made). */
  llm?: Partial<LlmConfig>;
  /** Adds the "no tests-first" ablation row. */
  ablation?: boolean;
  signal?: AbortSignal;
  onConversation?: (done: number, total: number) => void;
  log?: (line: string) => void;
}

export interface ConversationEvalRun {
  outcomes: ConversationOutcome[];
  /** Follow-ups whose LLM rewrite failed (scored with the fallback the turn then uses). */
  rewriteFailures: number;
  unavailable: Partial<Record<ConversationBase | 'llm', string>>;
}

export async function runConversationEval(engine: { store: IndexStore; embedder?: InferenceClient }, conversations: readonly EvalConversation[], opts: ConversationEvalOptions): Promise<ConversationEvalRun> {
  const unavailable: ConversationEvalRun['unavailable'] = {};
  if (!engine.embedder && opts.bases.includes('hybrid')) unavailable.hybrid = 'the index has no embedding model (lexical-only)';
  if (!opts.llm) unavailable.llm = 'no LLM configured (--llm-base-url or OPENAI_BASE_URL)';
  const outcomes: ConversationOutcome[] = conversations.map((c) => ({ id: c.id, ...(c.split ? { split: c.split } : {}), results: {} }));
  const rewriteCache = new Map<string, string>();
  let rewriteFailures = 0;
  let done = 0;
  const total = conversations.length * opts.bases.filter((b) => !unavailable[b]).length;
  for (const base of opts.bases) {
    if (unavailable[base]) continue;
    const ctx: AskContext = { store: engine.store, ...(base === 'hybrid' ? { embedder: engine.embedder } : {}), settings: {}, signal: opts.signal };
    for (const [ci, spec] of conversations.entries()) {
      throwIfAborted(opts.signal);
      const rows: NonNullable<ConversationOutcome['results'][ConversationBase]> = {};
      const record = (row: ConversationRow, turn: number, files: string[], gold: string[], searchedFor?: string) => {
        const g = new Set(gold);
        const at = files.findIndex((f) => g.has(f));
        (rows[row] ??= []).push({ turn, acc1: accuracyAt(files, gold, 1), acc5: accuracyAt(files, gold, 5), mrr10: mrrAt(files, gold, 10), firstGoldRank: at < 0 ? null : at + 1, top: files.slice(0, 10), ...(searchedFor ? { searchedFor } : {}) });
      };
      let conversation: Conversation = newConversation(spec.id);
      for (const [ti, turn] of spec.turns.entries()) {
        const gold = turn.gold.map((g) => g.path);
        if (ti === 0) {
          const first = await askTurn(ctx, conversation, turn.question, { rerank: false });
          record('turn 1 alone', 1, filesOf(first.result.ranking), gold);
          conversation = first.conversation;
          continue;
        }
        const alone = await rankCandidates(ctx, turn.question, { rerank: false });
        record('follow-up alone', ti + 1, filesOf(alone.candidates), gold);
        const fallback = await prepareTurn(ctx, conversation, turn.question, { rerank: false, log: opts.log });
        record('follow-up + conversation (fallback)', ti + 1, filesOf((await rankCandidates(fallback.ctx, turn.question, fallback.rankOptions)).candidates), gold, fallback.standalone.query);
        if (opts.ablation) {
          const plain = await prepareTurn(ctx, conversation, turn.question, { rerank: false, testsFirst: false });
          record('follow-up + conversation (fallback, no tests-first)', ti + 1, filesOf((await rankCandidates(plain.ctx, turn.question, plain.rankOptions)).candidates), gold);
        }
        if (opts.llm) {
          const llmCtx: AskContext = { ...ctx, settings: { ...ctx.settings, llm: opts.llm } };
          const viaLlm = await prepareTurn(llmCtx, conversation, turn.question, { rerank: false, rewriteCache, log: opts.log });
          if (viaLlm.standalone.rewriteError) rewriteFailures++;
          record('follow-up + conversation (LLM rewrite)', ti + 1, filesOf((await rankCandidates(viaLlm.ctx, turn.question, viaLlm.rankOptions)).candidates), gold, viaLlm.standalone.query);
        }
        // The next turn follows this one as a conversation without an LLM would (the fallback's sources).
        if (ti < spec.turns.length - 1) conversation = (await askTurn(ctx, conversation, turn.question, { rerank: false })).conversation;
      }
      outcomes[ci]!.results[base] = rows;
      opts.onConversation?.(++done, total);
    }
  }
  return { outcomes, rewriteFailures, unavailable };
}

function filesOf(ranking: readonly ({ path: string } | { chunk: { path: string } })[]): string[] {
  return fileRanking(ranking.map((r) => ('chunk' in r ? { path: r.chunk.path } : r)));
}

/** Mean metrics per base and row over `outcomes` (rows without numbers say why). */
export function summarizeConversations(outcomes: readonly ConversationOutcome[], opts: Pick<ConversationEvalOptions, 'bases' | 'ablation'>, unavailable: ConversationEvalRun['unavailable']): ConversationRowSummary[] {
  const out: ConversationRowSummary[] = [];
  for (const base of opts.bases) {
    for (const row of CONVERSATION_ROWS) {
      if (row.includes('no tests-first') && !opts.ablation) continue;
      const why = unavailable[base] ?? (row.includes('LLM') ? unavailable.llm : undefined);
      const scored = outcomes.flatMap((o) => o.results[base]?.[row] ?? []);
      const n = scored.length;
      const mean = (f: (s: (typeof scored)[number]) => number) => (n ? scored.reduce((a, s) => a + f(s), 0) / n : 0);
      out.push({ base, row, n, acc1: mean((s) => s.acc1), acc5: mean((s) => s.acc5), mrr10: mean((s) => s.mrr10), ...(why ? { unavailable: why } : {}) });
    }
  }
  return out;
}

/** The with/without table (markdown). */
export function formatConversationTable(rows: readonly ConversationRowSummary[], title?: string): string {
  const lines = title ? [title, ''] : [];
  lines.push('| retrieval | ranked | n | file Acc@1 | file Acc@5 | MRR@10 |', '|---|---|---|---|---|---|');
  const said = new Set<string>();
  for (const r of rows) {
    // A base without numbers at all (no embedding model) takes one line, not one per row.
    const whole = rows.filter((x) => x.base === r.base).every((x) => x.unavailable === r.unavailable);
    if (r.unavailable && whole && said.has(r.base)) continue;
    said.add(r.base);
    if (r.unavailable) lines.push(`| ${r.base} | ${whole ? 'every row' : r.row} | – | unavailable: ${r.unavailable} | | |`);
    else lines.push(`| ${r.base} | ${r.row} | ${r.n} | ${(r.acc1 * 100).toFixed(1)} | ${(r.acc5 * 100).toFixed(1)} | ${r.mrr10.toFixed(3)} |`);
  }
  return `${lines.join('\n')}\n`;
}
