/**
 * A dense pass stopped mid-way (issue 17: a save the editor's pass makes way for, a cancel, a pause):
 * how long the stop takes, what it keeps, and what the next run asks the server again. The P6 set-up
 * (scripts/bench/remoteEmbedding.ts: a lexical-first index against the capacity-limited loopback
 * server, here with answers taking 50-150 ms so that they come back out of order; the indexer on its
 * indexing thread as in the editor); the pass is aborted at its first progress
 * event past a third of the chunks, then a second run resumes it to the end. Reported per run:
 * - stop: ms from the abort to the run's end (the thread's answer), which includes committing what it holds;
 * - kept: chunks committed by the stop itself (coverage after it minus coverage at the last event);
 * - asked again: texts the server answered beyond one per chunk over both runs (answers the stopped
 *   pass dropped; the probes aside).
 *
 * `node --import tsx scripts/bench/denseStop.ts [files] [--builds A/dist,B/dist] [--rounds N]` after
 * `npm run build` (bundles of other commits: `node scripts/bench/bundlesAt.mjs <commit> /tmp/a`).
 */
import * as path from 'node:path';
import { type StopRunResult, runBuildRounds, stopThenResume } from './buildRounds';
import { writeSourceRepo } from './corpus';
import { startServer } from './remoteEmbedding';
import { InferenceClient } from '../../src/core/worker/client';
import { indexWorkspaceInThread } from '../../src/core/indexing/thread';
import type { IndexOptions } from '../../src/core/indexing/indexer';
import { IndexStore } from '../../src/core/store/store';
import { denseCoverage } from '../../src/core/store/manifest';

interface StopResult extends StopRunResult {
  askedAgain: number;
}

async function stopOnce(build: string, workDir: string, files: number, log: (l: string) => void): Promise<StopResult> {
  const slots = 8;
  const latencyMs = 50;
  const root = path.join(workDir, 'repo');
  const indexDir = path.join(workDir, 'index');
  writeSourceRepo(root, files, { seed: 6 });
  // Answers take 50-150 ms: they come back out of order, as from a server whose batches vary.
  const server = await startServer(slots, latencyMs, 384, 100);
  const client = new InferenceClient(path.join(build, 'worker.js'));
  const options = (signal?: AbortSignal): IndexOptions => ({
    root,
    indexDir,
    embedding: { model: 'remote' },
    remoteEmbedding: { provider: 'openai-compatible', baseUrl: server.baseUrl, model: 'bench', batchSize: 64, concurrency: slots + 2 },
    lexicalFirst: true,
    client,
    signal,
  });
  try {
    const indexer = path.join(build, 'indexer.js');
    let chunks = 0;
    const { stopEvent, stopMs, kept: afterStop, second } = await stopThenResume({
      start: (signal) => indexWorkspaceInThread(options(signal), indexer),
      onEvent: (e) => {
        if (e.type === 'lexical-ready') chunks = e.chunks;
      },
      stopWhen: (e) => e.type === 'dense' && e.done >= e.total / 3,
      kept: async () => {
        const { store } = await IndexStore.openForRead(indexDir, { files: false });
        const n = denseCoverage(store!.manifest).embedded;
        await store!.close();
        return n;
      },
      what: 'dense pass',
    });
    const stopAt = stopEvent.type === 'dense' ? stopEvent.done : 0;
    const atAbort = stopEvent.type === 'dense' ? stopEvent.embedded : 0;
    const { texts } = await server.stats();
    // Each run asks the server for one vector first (the probe).
    const result = { chunks, stopAt, stopMs: Math.round(stopMs), kept: afterStop - atAbort, resumed: second.embedded, askedAgain: texts - 2 - chunks };
    log(`${build}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await client.dispose();
    server.child.kill();
  }
}

if (require.main === module) {
  runBuildRounds('sift-stop-', ({ build, workDir }, args, log) => stopOnce(build, workDir, Number(args[0] ?? 1500), log), (results) => results.map(({ build, round, result }) => ({ build, round, ...result })));
}
