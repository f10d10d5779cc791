import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { InferenceClient } from '../core/worker/client';
import { DEFAULT_DTYPE, DEFAULT_RERANK_MAX_LENGTH, DEFAULT_RERANKER_MODEL } from '../core/models/models';
import { EvalWorktree, type MineResult, commitTimes, groupQuestionsByCommit, mineGitHistory } from '../core/eval/gitHistory';
import { type EvalQuestion, parseQuestions } from '../core/eval/questions';
import { formatTable } from '../core/eval/report';
import { DEFAULT_VARIANTS, type EvalRun, type LtrRows, type QuestionOutcome, type VariantSpec, parseVariant, runEval, summarize } from '../core/eval/runner';
import type { IndexSummary } from '../core/indexing/indexer';
import { IndexStore } from '../core/store/store';
import { LtrModel, shippedLtrModel } from '../core/ltr/model';
import { type RerankScorer, Reranker } from '../core/rerank/reranker';
import { type RerankProviderOptions, httpRerankerFromOptions } from './rerankProvider';
import { SiftError } from '../core/util/errors';
import type { FileRole } from '../core/query/roles';
import { interruptSignal, queryEmbedder, startWorker } from './engine';
import { type IndexCommandOptions, buildIndex, reportFailure, resolveRoot } from './indexCommand';
import { defaultIndexDir } from './paths';
import { type ConversationEvalCommandOptions, runConversationsEvalCommand, runMineConversationsCommand } from './evalConversations';
import { openTeamRetrieval } from '../core/team/session';
import { type TeamOptions, storeUrl } from './teamCommand';

export interface EvalCommandOptions extends IndexCommandOptions, RerankProviderOptions, ConversationEvalCommandOptions, TeamOptions {
  repo?: string;
  questions?: string;
  filter?: string;
  rerankerModel?: string;
  variants?: string;
  candidates?: number;
  rerankMaxTokens?: number;
  depth?: number;
  ltrModel?: string;
  ltr?: boolean; // --no-ltr
  jsonOut?: string;
  ltrDump?: string;
  fromGitHistory?: number;
  maxFilesPerCommit?: number;
  /** --gold-roles source,…: only files of these roles count as a mined question's gold. */
  goldRoles?: string;
  limit?: number;
  worktree?: string;
}

const ROLES: readonly FileRole[] = ['source', 'test', 'doc', 'example', 'generated', 'config'];

/** `--gold-roles source,test` → the roles; a wrong name is a clear error. */
function parseRoles(text: string | undefined): FileRole[] | undefined {
  if (!text) return undefined;
  const roles = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = roles.filter((r) => !ROLES.includes(r as FileRole));
  if (bad.length || !roles.length) throw new SiftError(`--gold-roles: unknown role "${bad[0] ?? text}" (use ${ROLES.join(', ')})`, 'bad-input');
  return roles as FileRole[];
}

function progress(options: EvalCommandOptions, text: string): void {
  if (!options.quiet) process.stderr.write(text);
}

export async function runEvalCommand(dirArg: string | undefined, options: EvalCommandOptions): Promise<number> {
  const root = resolveRoot(options.repo ?? dirArg ?? '.');
  if (!root) return 2;
  // Conversations (follow-ups with and without the earlier turns): src/cli/evalConversations.ts.
  if (options.mineConversations) return runMineConversationsCommand(root, options);
  if (options.conversations) return runConversationsEvalCommand(root, options);
  if (!options.questions && !options.fromGitHistory) {
    process.stderr.write('sift: give --questions FILE, --from-git-history N, --conversations FILE or --mine-conversations N --out FILE\n');
    return 2;
  }
  const specs: VariantSpec[] = [];
  for (const name of (options.variants ?? DEFAULT_VARIANTS.join(',')).split(',').filter((s) => s.trim())) {
    const spec = parseVariant(name);
    if (!spec) {
      process.stderr.write(`sift: unknown variant "${name}" (use bm25, dense or hybrid, optionally followed by +ce, +ltr and/or +q)\n`);
      return 2;
    }
    if (!specs.some((s) => s.name === spec.name)) specs.push(spec);
  }
  // --store: every variant also runs against the team index at HEAD's nearest indexed commit (with the local overlay), as NAME@team.
  const teamUrl = storeUrl(options);
  if (teamUrl && options.fromGitHistory) {
    process.stderr.write('sift: --store evaluates the team index at the checked-out commit; it cannot be combined with --from-git-history (mined questions are asked at older commits)\n');
    return 2;
  }
  const teamSpecs = teamUrl ? specs.map((s) => ({ ...s, name: `${s.name}@team` })) : [];
  let ltr: LtrModel | undefined;
  try {
    if (options.ltr !== false) ltr = options.ltrModel ? LtrModel.fromJson(JSON.parse(await fsp.readFile(options.ltrModel, 'utf8'))) : shippedLtrModel();
  } catch (err) {
    process.stderr.write(`sift: cannot load the learning-to-rank model ${options.ltrModel}: ${(err as Error).message}\n`);
    return 2;
  }

  const signal = interruptSignal();
  const client = await startWorker(options);
  const quietIndex = { ...options, quiet: true };
  const notice = (m: string) => process.stderr.write(`sift: ${m}\n`);
  try {
    const needCe = specs.some((s) => s.ce);
    const reranker = needCe ? await loadReranker(client, options, notice) : undefined;
    const candidates = options.candidates ?? 50;
    const depth = options.depth ?? Math.max(100, candidates);
    const collect = options.ltrDump ? (['bm25', 'hybrid'] as const) : undefined;
    const runs: { run: EvalRun; summary: IndexSummary; commit?: string }[] = [];
    let mined: MineResult | undefined;
    let droppedNoGold = 0;

    /** The same questions against the team index (with the local overlay): rows NAME@team beside the local ones. */
    const evaluateTeam = async (url: string, dir: string, store: IndexStore, embedding: IndexSummary['embedding'], run: EvalRun, questions: EvalQuestion[], label: string) => {
      const { session, retrieval } = await openTeamRetrieval(url, dir, store);
      const unavailable = (why: string) => {
        notice(`${why.replace(/\.?$/, '.')} Team rows are unavailable.`);
        for (const s of teamSpecs) run.unavailable[s.name] = why;
      };
      try {
        if (!session || !retrieval.overlay) return unavailable(retrieval.problem ?? 'the team index could not be opened');
        progress(options, `sift eval: team index at commit ${session.info.commit.slice(0, 12)}; local overlay: ${retrieval.overlay.changed.size} changed or new, ${retrieval.overlay.deleted.size} deleted file(s)\n`);
        const team = await runEval(
          { store, embedder: queryEmbedder(client, options, embedding), reranker, ltr, retrieve: retrieval.retrieve },
          questions,
          { variants: teamSpecs, candidates, depth, rerankMaxLength: options.rerankMaxTokens, signal, onQuestion: (done, total) => progress(options, `\r sift eval: ${label} (team): ${done}/${total} questions`) },
        );
        progress(options, '\n');
        if (session.broken) return unavailable(session.broken);
        Object.assign(run.unavailable, team.unavailable);
        for (const [i, q] of run.questions.entries()) Object.assign(q.variants, team.questions[i]?.variants ?? {});
      } finally {
        await session?.close();
      }
    };

    const evaluate = async (dir: string, indexDir: string, questions: EvalQuestion[], label: string) => {
      progress(options, `sift eval: indexing ${label} …\n`);
      const summary = await buildIndex(client, dir, indexDir, quietIndex, signal);
      for (const n of summary.notices) notice(n);
      const { store, problem } = await IndexStore.openForRead(indexDir);
      if (!store) throw new SiftError(`The index in ${indexDir} cannot be read: ${problem}.`);
      try {
        const run = await runEval(
          { store, embedder: queryEmbedder(client, options, summary.embedding), reranker, ltr },
          questions,
          {
            variants: specs,
            candidates,
            depth,
            rerankMaxLength: options.rerankMaxTokens,
            collectLtr: collect ? [...collect] : undefined,
            signal,
            onQuestion: (done, total) => progress(options, `\r sift eval: ${label}: ${done}/${total} questions`),
          },
        );
        progress(options, '\n');
        if (teamUrl) await evaluateTeam(teamUrl, dir, store, summary.embedding, run, questions, label);
        return { run, summary };
      } finally {
        await store.close();
      }
    };

    /**
     * Questions grouped by the commit to ask them at, each commit checked out in turn into one work
     * tree Sift owns (oldest first: consecutive checkouts change few files, so re-indexing is
     * incremental). Shared by --from-git-history and questions files whose questions carry a commit.
     */
    const evaluateAtCommits = async (byCommit: Map<string, EvalQuestion[]>, indexDir: string) => {
      const worktreeDir = path.resolve(options.worktree ?? `${indexDir}-worktree`);
      const times = await commitTimes(root, [...byCommit.keys()]);
      const commits = [...byCommit.keys()].sort((a, b) => (times.get(a) ?? 0) - (times.get(b) ?? 0) || (a < b ? -1 : 1));
      const tree = await EvalWorktree.create(root, worktreeDir, commits[0]!);
      try {
        for (const [i, commit] of commits.entries()) {
          await tree.checkout(commit);
          const r = await evaluate(tree.dir, indexDir, byCommit.get(commit)!, `commit ${i + 1}/${commits.length} (${commit.slice(0, 10)})`);
          runs.push({ ...r, commit });
        }
      } finally {
        await tree.remove();
      }
    };

    if (options.fromGitHistory) {
      const goldRoles = parseRoles(options.goldRoles);
      mined = await mineGitHistory(root, { max: options.fromGitHistory, maxFiles: options.maxFilesPerCommit, ...(goldRoles ? { goldRoles } : {}) });
      progress(options, `sift eval: mined ${mined.questions.length} questions from ${mined.scanned} commits (skipped: ${Object.entries(mined.skipped).filter(([, n]) => n).map(([r, n]) => `${r} ${n}`).join(', ') || 'none'})\n`);
      if (!mined.questions.length) throw new SiftError('no usable commits found in the history');
      const byParent = new Map<string, EvalQuestion[]>();
      for (const q of mined.questions) byParent.set(q.parent, [...(byParent.get(q.parent) ?? []), q]);
      await evaluateAtCommits(byParent, path.resolve(options.indexDir ?? `${defaultIndexDir(root)}-history`));
    } else {
      const parsed = parseQuestions(await fsp.readFile(options.questions!, 'utf8'), options.filter);
      droppedNoGold = parsed.droppedNoGold;
      let questions = parsed.questions;
      if (options.limit) questions = questions.slice(0, options.limit);
      if (!questions.length) throw new SiftError(`no questions with gold files in ${options.questions}${options.filter ? ` for ${options.filter}` : ''}`);
      const indexDir = path.resolve(options.indexDir ?? defaultIndexDir(root));
      // Questions that carry a commit other than the checkout's are asked at that commit.
      const { here, byCommit } = await groupQuestionsByCommit(root, questions, notice);
      if (byCommit.size && teamUrl) throw new SiftError('--store evaluates the team index at the checked-out commit; it cannot be combined with questions asked at other commits ("commit" in the questions file)', 'bad-input');
      if (here.length) runs.push(await evaluate(root, indexDir, here, path.basename(root)));
      if (byCommit.size) await evaluateAtCommits(byCommit, options.indexDir ? (here.length ? `${indexDir}-commits` : indexDir) : `${indexDir}-history`);
    }

    const questions: QuestionOutcome[] = runs.flatMap((r) => r.run.questions);
    const ltrRows: LtrRows[] = runs.flatMap((r) => r.run.ltrRows);
    const unavailable = Object.assign({}, ...runs.map((r) => r.run.unavailable)) as Record<string, string>;
    const summaries = summarize([...specs, ...teamSpecs], questions, unavailable);
    const last = runs[runs.length - 1]!.summary;
    const title = `Retrieval on ${path.basename(root)}: ${questions.length} questions${mined ? ` mined from git history` : runs.some((r) => r.commit) ? ` at ${runs.filter((r) => r.commit).length} commit(s)` : ''}; index ${last.chunks} chunks, ${last.embedding ? `embedding ${last.embedding.provider ? `${last.embedding.provider} ` : ''}${path.basename(last.embedding.model)}` : 'lexical-only'}; reranker ${reranker ? path.basename(reranker.model) : 'none'}; LTR ${ltr ? String(ltr.json.meta?.name ?? options.ltrModel ?? 'shipped') : 'off'}; K=${candidates}${options.rerankMaxTokens ? `; cross-encoder ${options.rerankMaxTokens} tokens` : ''}`;
    if (options.json) process.stdout.write(`${JSON.stringify({ title, variants: summaries }, null, 2)}\n`);
    else process.stdout.write(`\n${formatTable(summaries, title)}`);
    // Every variant per question kind (question understanding's classification), after the pooled table.
    const kinds = [...new Set(questions.map((q) => q.kind))].sort();
    const byKind = Object.fromEntries(kinds.map((k) => [k, summarize([...specs, ...teamSpecs], questions.filter((q) => q.kind === k), unavailable)]));
    if (!options.json) for (const k of kinds) process.stdout.write(`\n${formatTable(byKind[k]!, `Questions of kind ${k}:`)}`);
    if (options.jsonOut) {
      const report = {
        title,
        repo: root,
        questionsFile: options.questions ? path.resolve(options.questions) : undefined,
        filter: options.filter,
        fromGitHistory: mined ? { requested: options.fromGitHistory, mined: mined.questions.length, scanned: mined.scanned, skipped: mined.skipped } : undefined,
        droppedNoGold,
        settings: { candidates, depth, rerankMaxTokens: options.rerankMaxTokens ?? DEFAULT_RERANK_MAX_LENGTH, variants: [...specs, ...teamSpecs].map((s) => s.name) },
        models: {
          embedding: last.embedding,
          reranker: reranker?.model ?? null,
          ltr: ltr ? { source: options.ltrModel ? path.resolve(options.ltrModel) : 'shipped', meta: ltr.json.meta ?? {} } : null,
        },
        index: runs.map((r) => ({ commit: r.commit, chunks: r.summary.chunks, files: r.summary.files.indexed.length, embedded: r.summary.embedded, reused: r.summary.reused, changed: r.summary.files.changed.length, ms: r.summary.ms })),
        variants: summaries,
        variantsByKind: byKind,
        questions,
      };
      await fsp.mkdir(path.dirname(path.resolve(options.jsonOut)), { recursive: true });
      await fsp.writeFile(options.jsonOut, `${JSON.stringify(report, null, 1)}\n`);
    }
    if (options.ltrDump) {
      await fsp.mkdir(path.dirname(path.resolve(options.ltrDump)), { recursive: true });
      await fsp.writeFile(options.ltrDump, ltrRows.map((r) => JSON.stringify(r)).join('\n') + (ltrRows.length ? '\n' : ''));
    }
    return 0;
  } catch (err) {
    return reportFailure(err, 'the evaluation');
  } finally {
    await client.dispose();
  }
}

async function loadReranker(client: InferenceClient, options: EvalCommandOptions, notice: (m: string) => void): Promise<RerankScorer | undefined> {
  const http = httpRerankerFromOptions(options);
  if (http) return http;
  const model = options.rerankerModel ?? process.env.SIFT_RERANKER_MODEL ?? DEFAULT_RERANKER_MODEL;
  const loaded = await client.call('loadReranker', { model, dtype: process.env.SIFT_DTYPE ?? DEFAULT_DTYPE });
  if (!loaded.ok) {
    notice(`${loaded.message.replace(/\.+$/, '')}. Cross-encoder variants are unavailable.`);
    return undefined;
  }
  return new Reranker(client, loaded.info.model);
}
