import * as path from 'node:path';
import type { Client } from 'pg';
import { type AskContext, ask } from '../core/answer/ask';
import { IndexStore } from '../core/store/store';
import type { Chunk } from '../core/types';
import { connect, redactUrl, storeError } from '../core/team/schema';
import { type TeamSession, localNotice, openTeamRetrieval, repoKey } from '../core/team/session';
import { type TeamFile, writeTeamCommit } from '../core/team/writer';
import { SiftError } from '../core/util/errors';
import { git } from '../core/util/git';
import { type AskCommandOptions, EXIT_LLM_FAILED, answerJson, llmConfigFromEnv, loadReranker, ltrFromOptions } from './askCommand';
import { interruptSignal, startWorker } from './engine';
import { humanErr, humanOut } from './format';
import { type IndexCommandOptions, buildIndex, reportFailure, resolveRoot } from './indexCommand';
import { defaultIndexDir } from './paths';

export interface TeamOptions {
  /** postgres:// URL of the team index (or SIFT_STORE_URL). */
  store?: string;
  /** The commit the indexed folder is checked out at (default: HEAD). */
  commit?: string;
}

export function storeUrl(options: TeamOptions): string | undefined {
  return options.store ?? (process.env.SIFT_STORE_URL || undefined);
}

async function resolveCommit(root: string, commit: string | undefined): Promise<string> {
  const rev = commit ?? 'HEAD';
  if (!/^[\w./-]{1,200}$/.test(rev) || rev.startsWith('-')) throw new SiftError(`--commit ${JSON.stringify(rev)} is not a commit name.`);
  return (await git(root, ['rev-parse', '--verify', '--end-of-options', `${rev}^{commit}`])).trim();
}

/** `sift index DIR --store URL [--commit SHA]`: the local index, then its files, chunks and vectors into the team index in one transaction. */
export async function runTeamIndexCommand(dir: string, options: IndexCommandOptions & TeamOptions): Promise<number> {
  const root = resolveRoot(dir);
  if (!root) return 2;
  const url = storeUrl(options)!;
  const indexDir = path.resolve(options.indexDir ?? defaultIndexDir(root));
  const signal = interruptSignal();
  let client: Client | undefined;
  const worker = await startWorker(options);
  try {
    const [key, commit] = [await repoKey(root), await resolveCommit(root, options.commit)];
    const summary = await buildIndex(worker, root, indexDir, options, signal);
    const { store, problem } = await IndexStore.openForRead(indexDir, { files: true });
    if (!store) throw new SiftError(`The index in ${indexDir} cannot be read: ${problem}.`);
    client = await connect(url);
    const result = await writeTeamCommit(client, {
      repoKey: key,
      commit,
      embedding: summary.embedding ? { model: summary.embedding.model, dim: summary.embedding.dim } : null,
      chunker: JSON.stringify(store.manifest.chunker),
      files: Object.entries(store.manifest.files).map(([p, e]) => ({ path: p, hash: e.hash })),
      chunksOf: (files) => chunksOf(store, files),
    }).catch((err: unknown) => {
      throw storeError(url, err);
    });
    const line = `Team index ${redactUrl(url)}: commit ${commit.slice(0, 12)} with ${result.files} files; wrote ${result.chunksWritten} chunks of ${result.newFiles} new file versions, shared the rest`;
    if (options.json) process.stdout.write(`${JSON.stringify({ store: redactUrl(url), ...result }, null, 2)}\n`);
    else humanOut(`${line}\n`);
    return 0;
  } catch (err) {
    return reportFailure(err, 'indexing');
  } finally {
    await client?.end().catch(() => undefined);
    await worker.dispose();
  }
}

/** The chunks and vectors of the given files, read shard by shard from the local index. */
async function* chunksOf(store: IndexStore, files: TeamFile[]): AsyncGenerator<{ file: TeamFile; chunks: { chunk: Chunk; vector?: ArrayLike<number> }[] }> {
  const byShard = new Map<string, TeamFile[]>();
  for (const f of files) {
    const shard = store.manifest.files[f.path]?.shard ?? '';
    byShard.set(shard, [...(byShard.get(shard) ?? []), f]);
  }
  for (const [name, group] of byShard) {
    const shard = store.manifest.shards.find((s) => s.name === name);
    const data = shard ? await store.loadShard(shard) : { chunks: [], vectors: new Map<string, number[]>() };
    const byId = new Map(data.chunks.map((c) => [c.id, c]));
    for (const file of group) {
      const ids = store.manifest.files[file.path]?.chunkIds ?? [];
      yield { file, chunks: ids.flatMap((id) => (byId.has(id) ? [{ chunk: byId.get(id)!, vector: data.vectors.get(id) }] : [])) };
    }
  }
}

/**
 * `sift ask DIR "q" --store URL`: the team index at the nearest indexed commit of HEAD's history,
 * overlaid with the developer's changed, new and deleted files from the local index. An
 * unreachable or incompatible team index falls back to the local index with a notice.
 */
export async function runTeamAskCommand(dir: string, question: string, options: AskCommandOptions & TeamOptions): Promise<number> {
  const root = resolveRoot(dir);
  if (!root) return 2;
  if (!question?.trim()) {
    humanErr('sift: the question is empty\n');
    return 2;
  }
  const url = storeUrl(options)!;
  const indexDir = path.resolve(options.indexDir ?? defaultIndexDir(root));
  const signal = interruptSignal();
  const notice = (m: string) => humanErr(`sift: ${m}\n`);
  const worker = await startWorker(options);
  let session: TeamSession | undefined;
  try {
    const summary = await buildIndex(worker, root, indexDir, { ...options, quiet: options.quiet || options.json }, signal);
    const { store, problem } = await IndexStore.openForRead(indexDir, { files: true });
    if (!store) throw new SiftError(`The index in ${indexDir} cannot be read: ${problem}.`);
    const opened = await openTeamRetrieval(url, root, store);
    session = opened.session;
    if (opened.retrieval.problem) {
      if (options.json) notice(localNotice(opened.retrieval.problem)); // the human output prints the answer's notices
    } else if (!options.json && session && opened.retrieval.overlay)
      notice(`team index at commit ${session.info.commit.slice(0, 12)}; local overlay: ${opened.retrieval.overlay.changed.size} changed or new, ${opened.retrieval.overlay.deleted.size} deleted file(s).`);
    const hook: AskContext['retrieve'] = opened.retrieval.retrieve;
    const ctx: AskContext = {
      store,
      retrieve: hook,
      embedder: summary.embedding ? worker : undefined,
      reranker: options.rerank !== false ? await loadReranker(worker, options, notice) : undefined,
      ltr: ltrFromOptions(options),
      signal,
      settings: {
        candidates: options.candidates,
        topN: options.top,
        tokenBudget: options.tokenBudget,
        rerankMaxLength: options.rerankMaxTokens,
        redactSecrets: options.redact !== false,
        llm: llmConfigFromEnv(options),
      },
    };
    const result = await ask(ctx, question, { rerank: options.rerank !== false, onEvent: (e) => !options.json && e.type === 'token' && humanOut(e.text) });
    if (options.json) {
      const json = answerJson(result);
      if (session?.broken) notice(localNotice(session.broken));
      process.stdout.write(`${JSON.stringify({ ...json, sources: json.sources.map((s, i) => ({ ...s, origin: result.sources[i]?.origin ?? 'local' })) }, null, 2)}\n`);
    } else {
      for (const n of new Set(result.notices)) notice(n);
      if (result.error) notice(result.error.message);
      humanOut(`\nSources (${result.retrieval}${result.reranked ? ', reranked' : ''}):\n`);
      for (const s of result.sources) humanOut(` [${s.n}] ${s.path}:${s.startLine}-${s.endLine}  ${s.origin ?? 'local'}  ${s.retrievers.join('+') || '-'}\n`);
    }
    return result.answerKind === 'error' ? EXIT_LLM_FAILED : 0;
  } catch (err) {
    return reportFailure(err, 'the question');
  } finally {
    await session?.close();
    await worker.dispose();
  }
}
