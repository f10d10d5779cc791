/**
 * A build embedding inline with the local model (`sift index`, not lexical first) stopped mid-way
 * (issue 17: Ctrl-C): how long the stop takes, what the index keeps, and what the next run embeds
 * again. A synthetic repository (scripts/bench/corpus.ts) indexed on the indexing thread with the
 * given local model; the run is aborted at its first progress event past a share of the files (half by default), then a
 * second run finishes the index. Reported per run:
 * - stopAt: chunks the stopped run reported embedded when it was aborted;
 * - stopMs: ms from the abort to the run's end (the thread's answer), committing included;
 * - kept: chunks the index holds, with vectors, after the stop;
 * - resumed / resumeMs: chunks the second run embedded, and its time;
 * - chunks: the finished index's chunks (kept + resumed = chunks when nothing is embedded twice).
 *
 * `node --import tsx scripts/bench/inlineStop.ts [files] [share] [--model DIR] [--builds A/dist,B/dist] [--rounds N]`
 * after `npm run build` (default model: the tiny test embedder; bundles of other commits:
 * `node scripts/bench/bundlesAt.mjs <commit> /tmp/a`).
 */
import * as path from 'node:path';
import { type StopRunResult, runBuildRounds, stopThenResume } from './buildRounds';
import { writeSourceRepo } from './corpus';
import { InferenceClient } from '../../src/core/worker/client';
import { indexWorkspaceInThread } from '../../src/core/indexing/thread';
import type { IndexOptions } from '../../src/core/indexing/indexer';
import { IndexStore } from '../../src/core/store/store';
import { denseCoverage } from '../../src/core/store/manifest';

interface StopResult extends StopRunResult {
  resumeMs: number;
}

async function stopOnce(build: string, workDir: string, files: number, share: number, model: string, log: (l: string) => void): Promise<StopResult> {
  const root = path.join(workDir, 'repo');
  const indexDir = path.join(workDir, 'index');
  writeSourceRepo(root, files, { seed: 17 });
  const client = new InferenceClient(path.join(build, 'worker.js'));
  await client.call('configure', { cacheDir: path.join(workDir, 'models'), allowRemote: false, threads: 2 });
  const options = (signal?: AbortSignal): IndexOptions => ({ root, indexDir, embedding: { model, dtype: 'q8' }, client, signal });
  try {
    const indexer = path.join(build, 'indexer.js');
    const { stopEvent, stopMs, kept, second, resumeMs } = await stopThenResume({
      start: (signal) => indexWorkspaceInThread(options(signal), indexer),
      stopWhen: (e) => e.type === 'progress' && e.filesDone >= files * share,
      kept: async () => {
        const { store } = await IndexStore.openForRead(indexDir, { files: false });
        const n = store ? denseCoverage(store.manifest).embedded : 0;
        await store?.close();
        return n;
      },
      what: 'run',
    });
    const stopAt = stopEvent.type === 'progress' ? stopEvent.embedded : 0;
    const result = { chunks: second.chunks, stopAt, stopMs: Math.round(stopMs), kept, resumed: second.embedded, resumeMs: Math.round(resumeMs) };
    log(`${build}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await client.dispose();
  }
}

if (require.main === module) {
  const i = process.argv.indexOf('--model');
  const model = i < 0 ? path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'models', 'tiny-embedder') : path.resolve(process.argv.splice(i, 2)[1]!);
  runBuildRounds(
    'sift-inline-stop-',
    ({ build, workDir }, args, log) => stopOnce(build, workDir, Number(args[0] ?? 2000), Number(args[1] ?? 0.5), model, log),
    (results) => results.map(({ build, round, result }) => ({ build, round, ...result })),
  );
}
