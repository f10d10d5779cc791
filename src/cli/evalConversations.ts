import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { type ConversationBase, formatConversationTable, runConversationEval, summarizeConversations } from '../core/eval/conversationRunner';
import { conversationsJsonl, mineConversations, parseConversations } from '../core/eval/conversations';
import { IndexStore } from '../core/store/store';
import { SiftError } from '../core/util/errors';
import { type AskCommandOptions, llmConfigFromEnv } from './askCommand';
import { interruptSignal, startWorker } from './engine';
import type { EvalCommandOptions } from './evalCommand';
import { buildIndex, reportFailure } from './indexCommand';
import { defaultIndexDir } from './paths';

/** Options of `sift eval --conversations FILE` / `--mine-conversations N --out FILE`. */
export interface ConversationEvalCommandOptions {
  conversations?: string;
  mineConversations?: number;
  out?: string;
  seed?: number;
  /** tune, report or all (default): which half of a mined file is scored. */
  split?: string;
  ablation?: boolean;
}

type Options = EvalCommandOptions & ConversationEvalCommandOptions & Pick<AskCommandOptions, 'llmModel' | 'llmBaseUrl' | 'llmTimeout' | 'llmDeadline'>;

const err = (m: string) => process.stderr.write(m);

/** `sift eval DIR --mine-conversations N --out FILE`: conversations from DIR's git history (see src/core/eval/conversations.ts). */
export async function runMineConversationsCommand(root: string, options: Options): Promise<number> {
  if (!options.out) {
    err('sift: --mine-conversations needs --out FILE (the conversations file to write)\n');
    return 2;
  }
  try {
    const mined = await mineConversations(root, { max: options.mineConversations!, seed: options.seed, maxFiles: options.maxFilesPerCommit });
    const repo = path.basename(root);
    await fsp.mkdir(path.dirname(path.resolve(options.out)), { recursive: true });
    await fsp.writeFile(options.out, conversationsJsonl(mined.conversations.map((c) => ({ ...c, repo }))));
    const halves = ['tune', 'report'].map((s) => `${mined.conversations.filter((c) => c.split === s).length} ${s}`).join(', ');
    const skipped = Object.entries(mined.skipped).map(([r, n]) => `${r} ${n}`).join(', ') || 'none';
    if (!options.quiet) err(`sift eval: ${mined.conversations.length} conversations (${halves}) from ${mined.scanned} commits written to ${options.out} (skipped: ${skipped})\n`);
    if (!mined.conversations.length) err('sift: no commit changed both a source file and a test file that are still in the tree\n');
    return mined.conversations.length ? 0 : 1;
  } catch (e) {
    return reportFailure(e, 'mining conversations');
  }
}

/** `sift eval DIR --conversations FILE`: the with/without-conversation table (src/core/eval/conversationRunner.ts). */
export async function runConversationsEvalCommand(root: string, options: Options): Promise<number> {
  let text: string;
  try {
    text = await fsp.readFile(options.conversations!, 'utf8');
  } catch (e) {
    err(`sift: cannot read the conversations file ${options.conversations}: ${(e as Error).message}\n`);
    return 2;
  }
  const parsed = parseConversations(text);
  for (const d of parsed.dropped.slice(0, 20)) err(`sift: ${options.conversations} ${d}\n`);
  if (parsed.dropped.length > 20) err(`sift: … and ${parsed.dropped.length - 20} more lines dropped\n`);
  const split = options.split ?? 'all';
  if (!['all', 'tune', 'report'].includes(split)) {
    err(`sift: --split must be tune, report or all (got "${split}")\n`);
    return 2;
  }
  let conversations = parsed.conversations.filter((c) => split === 'all' || c.split === split);
  if (options.limit) conversations = conversations.slice(0, options.limit);
  if (!conversations.some((c) => c.turns.length >= 2)) {
    err(`sift: no conversation with a follow-up in ${options.conversations}${split === 'all' ? '' : ` (split ${split})`}\n`);
    return 2;
  }
  const llm = llmConfigFromEnv(options);
  const bases: ConversationBase[] = ['lexical', 'hybrid'];
  const signal = interruptSignal();
  const client = await startWorker(options);
  try {
    const indexDir = path.resolve(options.indexDir ?? defaultIndexDir(root));
    if (!options.quiet) err(`sift eval: indexing ${path.basename(root)} …\n`);
    const summary = await buildIndex(client, root, indexDir, { ...options, quiet: true }, signal);
    for (const n of summary.notices) err(`sift: ${n}\n`);
    const { store, problem } = await IndexStore.openForRead(indexDir);
    if (!store) throw new SiftError(`The index in ${indexDir} cannot be read: ${problem}.`);
    try {
      const run = await runConversationEval({ store, embedder: summary.embedding ? client : undefined }, conversations, {
        bases,
        ...(llm ? { llm } : {}),
        ablation: options.ablation,
        signal,
        onConversation: (done, total) => {
          if (!options.quiet) err(`\r sift eval: ${done}/${total} conversations`);
        },
      });
      if (!options.quiet) err('\n');
      const opts = { bases, ablation: options.ablation };
      const groups: [string, typeof run.outcomes][] = [[split === 'all' ? 'all' : split, run.outcomes]];
      if (split === 'all' && run.outcomes.some((o) => o.split)) for (const s of ['tune', 'report'] as const) groups.push([s, run.outcomes.filter((o) => o.split === s)]);
      const tables = groups.map(([name, outcomes]) => ({ split: name, conversations: outcomes.length, rows: summarizeConversations(outcomes, opts, run.unavailable) }));
      const model = summary.embedding ? path.basename(summary.embedding.model) : 'none (lexical-only)';
      const title = `Follow-ups on ${path.basename(root)}: ${conversations.length} conversations from ${path.basename(options.conversations!)}; index ${summary.chunks} chunks, embedding ${model}; reranking off${llm ? `; LLM rewrite ${llm.model} at ${llm.baseURL ?? 'the default endpoint'}${run.rewriteFailures ? ` (${run.rewriteFailures} rewrites failed: fallback used)` : ''}` : ''}`;
      if (options.json) process.stdout.write(`${JSON.stringify({ title, dropped: parsed.dropped, tables, conversations: run.outcomes }, null, 1)}\n`);
      else process.stdout.write(`\n${title}\n\n${tables.map((t) => formatConversationTable(t.rows, `Split ${t.split} (${t.conversations} conversations):`)).join('\n')}`);
      return 0;
    } finally {
      await store.close();
    }
  } catch (e) {
    return reportFailure(e, 'the evaluation');
  } finally {
    await client.dispose();
  }
}
