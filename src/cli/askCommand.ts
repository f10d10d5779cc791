import * as path from 'node:path';
import { type AnswerResult, type AskContext, type AskEvent, type CompareResult, type RankedResult, ask, askCompare, boundQuestion } from '../core/answer/ask';
import { newConversation } from '../core/conversation/conversation';
import { mentionsIn } from '../core/conversation/scope';
import { askTurn, compareTurn } from '../core/conversation/turn';
import type { InferenceClient } from '../core/worker/client';
import { DEFAULT_DTYPE, DEFAULT_RERANKER_MODEL } from '../core/models/models';
import { IndexStore } from '../core/store/store';
import type { LlmConfig } from '../core/llm/llm';
import { type LtrModel, loadLtrModelFile, shippedLtrModel } from '../core/ltr/model';
import { type RerankScorer, Reranker } from '../core/rerank/reranker';
import { type RerankProviderOptions, httpRerankerFromOptions } from './rerankProvider';
import { SiftError } from '../core/util/errors';
import { interruptSignal, queryEmbedder, startWorker } from './engine';
import { type IndexCommandOptions, buildIndex, buildLexicalFirst, reportFailure, resolveRoot } from './indexCommand';
import { humanErr, humanOut } from './format';
import { defaultIndexDir } from './paths';

export interface AskCommandOptions extends IndexCommandOptions, RerankProviderOptions {
  rerankerModel?: string;
  rerank?: boolean; // commander: --no-rerank sets false
  compare?: boolean;
  top?: number;
  candidates?: number;
  rerankMaxTokens?: number;
  tokenBudget?: number;
  llmModel?: string;
  llmBaseUrl?: string;
  temperature?: number;
  llmMaxTokens?: number;
  /** Seconds: --llm-timeout, --llm-idle-timeout, --llm-deadline (src/core/llm/limits.ts). */
  llmTimeout?: number;
  llmIdleTimeout?: number;
  llmDeadline?: number;
  llmMaxAnswerChars?: number;
  redact?: boolean; // commander: --no-redact sets false
  ltr?: boolean;
  ltrModel?: string;
  /** commander: --no-question-prior sets false (rank without question understanding's file-level prior). */
  questionPrior?: boolean;
  /** Embed every chunk before answering (default: answer after the keyword pass; dense search covers what is embedded). */
  waitForEmbeddings?: boolean;
  /** --path: files, folders or globs the question is scoped to (a file's best chunks are always in the context). */
  path?: string[];
}

/** Exit code when retrieval worked but the LLM call failed (partial answer kept). */
export const EXIT_LLM_FAILED = 3;

export function llmConfigFromEnv(options: AskCommandOptions): Partial<LlmConfig> | undefined {
  const baseURL = options.llmBaseUrl ?? process.env.OPENAI_BASE_URL;
  const apiKey = process.env.OPENAI_API_KEY;
  if (!baseURL && !apiKey) return undefined;
  return {
    baseURL,
    apiKey,
    model: options.llmModel ?? process.env.SIFT_LLM_MODEL ?? 'gpt-4o-mini',
    temperature: options.temperature,
    maxTokens: options.llmMaxTokens,
    timeoutMs: seconds(options.llmTimeout),
    idleTimeoutMs: seconds(options.llmIdleTimeout),
    deadlineMs: seconds(options.llmDeadline),
    maxAnswerChars: options.llmMaxAnswerChars,
  };
}

const seconds = (s: number | undefined) => (s === undefined ? undefined : s * 1000);

/** Most bytes `sift ask … -` reads from standard input; a question is cut to MAX_QUESTION_CHARS later anyway (with a notice). */
export const MAX_STDIN_QUESTION_BYTES = 1 << 20;

/**
 * The question argument, or — when it is `-` — standard input up to EOF: a pasted bug report or
 * stack trace keeps its lines, and is not bound by the argument length limit (~128 KiB on Linux).
 * Reading stops at MAX_STDIN_QUESTION_BYTES (what follows is dropped, as a long question is cut).
 */
export async function questionArgument(arg: string, input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin): Promise<string> {
  if (arg !== '-') return arg;
  if (input.isTTY) humanErr('sift: reading the question from standard input; end it with Ctrl-D\n');
  const parts: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of input) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    parts.push(b.subarray(0, MAX_STDIN_QUESTION_BYTES - bytes));
    bytes += Math.min(b.length, MAX_STDIN_QUESTION_BYTES - bytes);
    if (bytes >= MAX_STDIN_QUESTION_BYTES) break;
  }
  // A cut inside a UTF-8 sequence decodes to U+FFFD at the very end, past what the question keeps.
  return Buffer.concat(parts).toString('utf8');
}

export async function runAskCommand(dir: string, question: string, options: AskCommandOptions): Promise<number> {
  const root = resolveRoot(dir);
  if (!root) return 2;
  if (!question?.trim()) {
    humanErr('sift: the question is empty\n');
    return 2;
  }
  const indexDir = path.resolve(options.indexDir ?? defaultIndexDir(root));
  const signal = interruptSignal();
  const client = await startWorker(options);
  const notice = (m: string) => humanErr(`sift: ${m}\n`);
  try {
    const indexOptions = { ...options, quiet: options.quiet || options.json };
    // Lexical first: every file searchable by keywords, then the answer; dense search covers what is
    // already embedded (the answer says how much). --wait-for-embeddings embeds the rest first.
    if (options.waitForEmbeddings) await buildIndex(client, root, indexDir, indexOptions, signal);
    else await buildLexicalFirst(client, root, indexDir, indexOptions, signal);
    // The file table resolves --path and @mentions (files, folders); plain questions search without it.
    const scoped = Boolean(options.path?.length) || mentionsIn(question).length > 0;
    const { store, problem } = await IndexStore.openForRead(indexDir, { files: scoped });
    if (!store) throw new SiftError(`The index in ${indexDir} cannot be read: ${problem}.`);
    const ctx = await askContextFromOptions(client, store, options, signal, notice, options.compare || options.rerank !== false);
    const human = !options.json;
    if (options.compare) {
      // --path and @mentions narrow both sides, as they narrow a single answer.
      const onCompareEvent = (e: AskEvent) => {
        if (!human) return;
        if (e.type === 'ranked' && e.variant === 'reranked') printComparison(boundQuestion(question).question, ctx, e.ranking);
        if (e.type === 'sources' && ctx.settings.llm) humanOut(`\n── Answer ${e.variant === 'reranked' ? 'with' : 'without'} reranking ──\n`);
        if (e.type === 'token') humanOut(e.text);
      };
      const result = scoped
        ? (await compareTurn(ctx, newConversation(), question, { onEvent: onCompareEvent, paths: options.path })).compare
        : await askCompare(ctx, question, { onEvent: onCompareEvent });
      if (human) {
        printNotices(result.reranked.notices);
        for (const r of [result.notReranked, result.reranked]) printAnswerTail(r, r === result.reranked ? 'with reranking' : 'without reranking');
      } else process.stdout.write(`${JSON.stringify(compareJson(result), null, 2)}\n`);
      return result.reranked.answerKind === 'error' || result.notReranked.answerKind === 'error' ? EXIT_LLM_FAILED : 0;
    }
    const onEvent = (e: AskEvent) => {
      if (human && e.type === 'token') humanOut(e.text);
    };
    const result = scoped
      ? (await askTurn(ctx, newConversation(), question, { rerank: options.rerank !== false, onEvent, paths: options.path })).result
      : await ask(ctx, question, { rerank: options.rerank !== false, onEvent });
    if (human) {
      printNotices(result.notices);
      if (result.coverage && result.coverage.embedded < result.coverage.chunks && store.manifest.embedding) notice('the remaining chunks are embedded by `sift index` (or `sift ask --wait-for-embeddings`).');
      printAnswerTail(result);
      printSources(result);
    } else process.stdout.write(`${JSON.stringify(answerJson(result), null, 2)}\n`);
    return result.answerKind === 'error' ? EXIT_LLM_FAILED : 0;
  } catch (err) {
    return reportFailure(err, 'the question');
  } finally {
    await client.dispose();
  }
}

/** What a CLI question runs with (ask, chat): the index's embedder, the reranker when wanted, settings from the flags. */
export async function askContextFromOptions(client: InferenceClient, store: IndexStore, options: AskCommandOptions, signal: AbortSignal, notice: (m: string) => void, wantRerank: boolean): Promise<AskContext> {
  return {
    store,
    // The indexer loaded the index's model into the worker or checked its server (a lexical-only index has none).
    embedder: queryEmbedder(client, options, store.manifest.embedding),
    reranker: wantRerank ? await loadReranker(client, options, notice) : undefined,
    ltr: ltrFromOptions(options, notice),
    signal,
    settings: {
      candidates: options.candidates,
      topN: options.top,
      questionPrior: options.questionPrior !== false,
      tokenBudget: options.tokenBudget,
      rerankMaxLength: options.rerankMaxTokens,
      redactSecrets: options.redact !== false,
      llm: llmConfigFromEnv(options),
    },
  };
}

/** The learning-to-rank model the options ask for (--ltr-model FILE, or --ltr for the shipped one). */
export function ltrFromOptions(options: Pick<AskCommandOptions, 'ltr' | 'ltrModel'>, notice: (m: string) => void = (m) => process.stderr.write(`sift: ${m}\n`)): LtrModel | undefined {
  return options.ltrModel ? loadLtrModelFile(options.ltrModel, notice) : options.ltr ? shippedLtrModel() : undefined;
}

export async function loadReranker(client: InferenceClient, options: AskCommandOptions, notice: (m: string) => void): Promise<RerankScorer | undefined> {
  const http = httpRerankerFromOptions(options);
  if (http) return http;
  const model = options.rerankerModel ?? process.env.SIFT_RERANKER_MODEL ?? DEFAULT_RERANKER_MODEL;
  const loaded = await client.call('loadReranker', { model, dtype: process.env.SIFT_DTYPE ?? DEFAULT_DTYPE });
  if (!loaded.ok) {
    notice(`${loaded.message.replace(/local model folder$/, 'local model folder (--reranker-model DIR)')}. Answering without reranking.`);
    return undefined;
  }
  return new Reranker(client, loaded.info.model);
}

/** `sift ask --json` (see README for the schema). */
export function answerJson(r: AnswerResult) {
  return {
    question: r.question,
    coverage: r.coverage,
    retrieval: r.retrieval,
    reranked: r.reranked,
    answerKind: r.answerKind,
    answer: r.answer,
    ...(r.error ? { error: r.error } : {}),
    citations: r.citations.map(({ n, verified, count }) => ({ n, verified, count })),
    sources: r.sources.map((s) => ({
      n: s.n,
      path: s.path,
      startLine: s.startLine,
      endLine: s.endLine,
      symbols: s.symbols,
      retrievers: s.retrievers,
      rankBefore: s.rankBefore,
      rankAfter: s.rankAfter,
      scores: s.scores,
      chunks: s.chunks,
      text: s.text,
      ...(s.carried ? { carried: s.carried } : {}),
    })),
    ranking: r.ranking,
    timings: r.timings,
    notices: r.notices,
    ...(r.searchedFor ? { searchedFor: r.searchedFor } : {}),
  };
}

export function compareJson(r: CompareResult) {
  return { question: r.question, reranked: answerJson(r.reranked), notReranked: answerJson(r.notReranked) };
}

export function printNotices(notices: string[]): void {
  for (const n of new Set(notices)) humanErr(`sift: ${n}\n`);
}

export function printAnswerTail(r: AnswerResult, label?: string): void {
  const out = { write: humanOut };
  if (r.answerKind === 'retrieval-only') return;
  if (r.answer && !r.answer.endsWith('\n')) out.write('\n');
  if (r.error) humanErr(`sift: ${label ? `(${label}) ` : ''}${r.error.message}\n`);
  const bad = r.citations.filter((c) => !c.verified).map((c) => `[${c.n}]`);
  const good = r.citations.filter((c) => c.verified).length;
  out.write(`\n${label ? `${label}: ` : ''}${good} verified citation${good === 1 ? '' : 's'}${bad.length ? `; unverified (no such source): ${bad.join(' ')}` : ''}\n`);
}

function retrieverLabel(rs: string[]): string {
  return rs.map((r) => (r === 'lexical' ? 'bm25' : r)).join('+') || '-';
}

function movement(before: number, after: number): string {
  if (after < before) return `▲${before - after}`;
  if (after > before) return `▼${after - before}`;
  return '=';
}

function fmtScores(s: RankedResult['scores']): string {
  const parts: string[] = [];
  if (s.ltr !== undefined) parts.push(`ltr ${s.ltr.toFixed(3)}`);
  if (s.rerank !== undefined) parts.push(`ce ${s.rerank.toFixed(3)}`);
  if (s.dense !== undefined) parts.push(`cos ${s.dense.toFixed(3)}`);
  if (s.lexical !== undefined) parts.push(`bm25 ${s.lexical.toFixed(2)}`);
  parts.push(`rrf ${s.fused.toFixed(4)}`);
  return parts.join(' · ');
}

export function printSources(r: AnswerResult): void {
  const out = { write: humanOut };
  if (!r.sources.length) {
    out.write('\nNo sources found. Try other words, or check that the folder was indexed (sift index).\n');
    return;
  }
  out.write(`\nSources (${r.retrieval}${r.reranked ? ', reranked' : ''}):\n`);
  const loc = (s: { path: string; startLine: number; endLine: number }) => `${s.path}:${s.startLine}-${s.endLine}`;
  const width = Math.min(60, Math.max(...r.sources.map((s) => loc(s).length)));
  for (const s of r.sources) {
    const ranks = `${s.rankBefore} → ${s.rankAfter} ${movement(s.rankBefore, s.rankAfter)}`;
    out.write(` [${s.n}] ${loc(s).padEnd(width)}  ${retrieverLabel(s.retrievers).padEnd(10)}  ${ranks.padEnd(10)}  ${fmtScores(s.scores)}${s.carried ? `  (${s.carried})` : ''}\n`);
    if (r.answerKind === 'retrieval-only') {
      const lines = s.text.split('\n');
      for (const line of lines.slice(0, 6)) out.write(`      │ ${line.slice(0, 110)}\n`);
      if (lines.length > 6) out.write(`      │ … ${lines.length - 6} more lines\n`);
    }
  }
}

export function printComparison(question: string, ctx: AskContext, reranked: RankedResult[]): void {
  const out = { write: humanOut };
  const top = ctx.settings.topN ?? 8;
  const before = [...reranked].sort((a, b) => a.rankBefore - b.rankBefore).slice(0, top);
  const after = reranked.slice(0, top);
  const cell = (r: RankedResult) => `${r.path}:${r.startLine}-${r.endLine}`;
  const w = Math.min(56, Math.max(24, ...before.map((r) => cell(r).length + 4)));
  out.write(`\nQ: ${question}\n\n ${'Without reranking'.padEnd(w)}  With reranking${ctx.reranker || ctx.ltr ? ` (${[ctx.reranker ? path.basename(ctx.reranker.model) : '', ctx.ltr ? 'learning-to-rank' : ''].filter(Boolean).join(' + ')})` : ' (unavailable)'}\n`);
  for (let i = 0; i < Math.max(before.length, after.length); i++) {
    const b = before[i];
    const a = after[i];
    const left = b ? `${String(i + 1).padStart(2)} ${cell(b)}` : '';
    const right = a ? `${String(i + 1).padStart(2)} ${cell(a)}  ${movement(a.rankBefore, a.rankAfter)}${a.rankBefore > top ? ' (new)' : ''}` : '';
    out.write(` ${left.padEnd(w)}  ${right}\n`);
  }
  const dropped = before.filter((b) => !after.some((a) => a.chunkId === b.chunkId));
  if (dropped.length) out.write(` dropped from the top ${top} by reranking: ${dropped.map(cell).join(', ')}\n`);
}
