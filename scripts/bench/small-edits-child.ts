/**
 * Child process of P5b (smallEdits.ts): plays the extension host. Indexes the corpus once (lexical
 * first; the dense pass is cancelled once every file is keyword-searchable), then per edit size
 * and round edits that many files (a function with a new word appended, as a save does) and times
 * `indexWorkspaceInThread` with those `changedPaths` — what the editor's watcher starts — until a
 * search of the new word finds it. Prints one JSON line (SmallEditsReport).
 */
import { appendFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { searchChunks } from '../../src/core/answer/search';
import type { IndexEvent } from '../../src/core/indexing/indexer';
import { indexWorkspaceInThread } from '../../src/core/indexing/thread';
import { IndexStore } from '../../src/core/store/store';
import { InferenceClient } from '../../src/core/worker/client';
import { isAbortError } from '../../src/core/util/errors';
import type { SmallEditsArgs, SmallEditsReport } from './smallEdits';

/** A word no file holds: "zq" then the number in letters (the tokenizer keeps letters-only words whole). */
const marker = (n: number) => `zq${n.toString(26).split('').map((d) => String.fromCharCode(97 + Number.parseInt(d, 26))).join('')}x`;

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as SmallEditsArgs;
  const client = new InferenceClient(args.worker);
  await client.call('configure', { cacheDir: args.cacheDir, allowRemote: false, threads: args.threads });
  const embedding = { model: args.model, dtype: args.dtype };
  /** One indexing run until every file is keyword-searchable (the dense pass then cancelled). */
  const update = async (changedPaths?: string[]): Promise<{ chunks: number; readyMs: number }> => {
    const t0 = performance.now();
    const abort = new AbortController();
    const run = indexWorkspaceInThread({ root: args.root, indexDir: args.indexDir, embedding, client, signal: abort.signal, lexicalFirst: true, ...(changedPaths ? { changedPaths } : {}) }, args.indexer);
    let ready: { chunks: number; readyMs: number } | undefined;
    try {
      for (let r = await run.next(); !r.done; r = await run.next()) {
        const e: IndexEvent = r.value;
        if (e.type === 'lexical-ready') {
          ready = { chunks: e.chunks, readyMs: performance.now() - t0 };
          abort.abort();
        }
      }
    } catch (err) {
      if (!isAbortError(err)) throw err;
    }
    if (!ready) throw new Error('P5b: the run ended before every file was keyword-searchable');
    return ready;
  };
  const full = await update();
  const files: string[] = [];
  const src = path.join(args.root, 'src');
  for (const dir of readdirSync(src).sort()) for (const f of readdirSync(path.join(src, dir)).sort()) files.push(`src/${dir}/${f}`);
  const report: SmallEditsReport = { files: files.length, chunks: full.chunks, fullMs: full.readyMs, edits: [] };
  let n = 0;
  let next = 0;
  for (const count of args.edits) {
    const row: SmallEditsReport['edits'][number] = { files: count, ms: [], commitMs: [], found: [] };
    for (let round = 0; round < args.rounds; round++) {
      const word = marker(++n);
      // Spread over the corpus (files 7 apart), as edits in a real repository are.
      const edited = Array.from({ length: count }, () => files[(next += 7) % files.length]!);
      for (const rel of edited) appendFileSync(path.join(args.root, rel), `\nexport function touched${n}(): string {\n  // ${word} marks this edit\n  return '${word}';\n}\n`);
      const t0 = performance.now();
      const { readyMs } = await update(edited);
      const { store, problem } = await IndexStore.openForRead(args.indexDir, { files: false });
      if (!store) throw new Error(`P5b: the index cannot be read after the update: ${problem}`);
      try {
        const result = await searchChunks({ store, embedder: client, settings: { redactSecrets: true } }, word, { limit: 10, rerank: false });
        row.ms.push(performance.now() - t0);
        row.commitMs.push(readyMs);
        row.found.push(result.hits.some((h) => h.text.includes(word)));
      } finally {
        await store.close();
      }
    }
    report.edits.push(row);
  }
  // The worker may still be running an embedding batch a cancelled pass queued: let it finish
  // (requests are served in order) before the worker is terminated.
  await client.call('tokenizerName', {}).catch(() => undefined);
  await client.dispose();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
