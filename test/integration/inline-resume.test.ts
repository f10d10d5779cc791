import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferenceClient } from '../../src/core/worker/client';
import { type IndexEvent, type IndexOptions, type IndexSummary, indexWorkspace } from '../../src/core/indexing/indexer';
import { indexWorkspaceInThread } from '../../src/core/indexing/thread';
import { IndexStore } from '../../src/core/store/store';
import { isAbortError } from '../../src/core/util/errors';
import { INDEXER_SCRIPT, TINY_EMBEDDER, WORKER_SCRIPT, tempDir, writeTree } from '../helpers';

/** `n` small TypeScript files of one chunk each. */
function repo(n: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) files[`src/m${String(i).padStart(3, '0')}.ts`] = `export function handler${i}(input: number): number {\n  return input * ${i} + retryCount${i % 7};\n}\n`;
  return files;
}

/** What a reopened index holds: its files, and its chunks with and without a stored vector (read from the shards). */
async function contents(indexDir: string): Promise<{ files: string[]; chunks: number; vectors: number }> {
  const { store } = await IndexStore.openForRead(indexDir);
  if (!store) return { files: [], chunks: 0, vectors: 0 };
  try {
    let chunks = 0;
    let vectors = 0;
    for (const shard of store.manifest.shards) {
      const data = await store.loadShard(shard);
      chunks += data.chunks.length;
      vectors += data.chunks.filter((c) => data.vectors.has(c.id)).length;
    }
    return { files: Object.keys(store.manifest.files).sort(), chunks, vectors };
  } finally {
    await store.close();
  }
}

/**
 * The local model embedding inline (`sift index`, not lexical first): a run stopped early — cancelled,
 * failed, or left by its caller — commits the files it had finished, chunks and vectors together, and
 * the next run embeds only the rest. Commits by size and time are kept out of the way (60 one-chunk
 * files fill no shard; `inlineCommitMs` is an hour), so whatever the stopped run left was committed by
 * the stop: before, it left nothing.
 */
describe('inline embedding stopped early keeps what it finished (real worker, tiny model)', () => {
  const FILES = 60;
  const embedding = { model: TINY_EMBEDDER, dtype: 'fp32' };
  const NO_TIMED_COMMIT = 3_600_000;
  let client: InferenceClient;
  let dirs: { dir: string; cleanup: () => void };
  let root: string;
  let n = 0;
  before(async () => {
    dirs = tempDir();
    root = path.join(dirs.dir, 'repo');
    writeTree(root, repo(FILES));
    client = await startClient();
  });
  after(async () => {
    await client.dispose();
    dirs.cleanup();
  });

  async function startClient(): Promise<InferenceClient> {
    const c = new InferenceClient(WORKER_SCRIPT);
    await c.call('configure', { cacheDir: path.join(dirs.dir, 'models'), allowRemote: false, threads: 2 });
    return c;
  }

  /**
   * Runs the indexer on this thread until `stop` says how to stop it (at that event: abort its signal, or
   * leave the loop). Returns the events seen and how the run ended.
   */
  async function runUntil(
    opts: Partial<IndexOptions>,
    stop: (e: IndexEvent) => 'abort' | 'leave' | Promise<void> | void,
  ): Promise<{ events: IndexEvent[]; error?: unknown; summary?: IndexSummary; indexDir: string }> {
    const indexDir = path.join(dirs.dir, `index-${n++}`);
    const controller = new AbortController();
    const events: IndexEvent[] = [];
    const gen = indexWorkspace({ root, indexDir, embedding, client, signal: controller.signal, inlineCommitMs: NO_TIMED_COMMIT, ...opts });
    try {
      for (let r = await gen.next(); ; r = await gen.next()) {
        if (r.done) return { events, summary: r.value, indexDir };
        events.push(r.value);
        const how = await stop(r.value);
        if (how === 'abort') controller.abort();
        if (how === 'leave') {
          await gen.return(undefined as never);
          return { events, indexDir };
        }
      }
    } catch (error) {
      return { events, error, indexDir };
    }
  }

  /** The rerun (to its end): embeds only what the stopped run did not keep. */
  async function resume(indexDir: string, kept: { files: string[]; chunks: number }): Promise<void> {
    const gen = indexWorkspace({ root, indexDir, embedding, client });
    let r = await gen.next();
    while (!r.done) r = await gen.next();
    const s = r.value;
    assert.equal(s.chunks, FILES, 'one chunk per file');
    assert.equal(s.files.unchanged, kept.files.length, 'the kept files are not read again');
    assert.equal(s.files.changed.length, FILES - kept.files.length);
    assert.ok(!s.files.changed.some((f) => kept.files.includes(f)));
    assert.equal(s.embedded, FILES - kept.chunks, 'nothing kept is embedded again');
    const after = await contents(indexDir);
    assert.equal(after.vectors, FILES);
  }

  const progress = (e: IndexEvent) => (e.type === 'progress' ? e : undefined);

  it('cancelled between batches: the finished batches are committed with their vectors; the rerun embeds only the rest', async () => {
    // Batches of 2, 8, 32, 18 files: cancelled once 42 are embedded.
    const run = await runUntil({}, (e) => (progress(e)?.filesDone === 42 ? 'abort' : undefined));
    assert.ok(isAbortError(run.error), String(run.error));
    assert.equal(run.events.filter((e) => e.type === 'commit').length, 0, 'no commit came by itself');
    const kept = await contents(run.indexDir);
    assert.equal(kept.files.length, 42);
    assert.deepEqual(kept.files, Object.keys(repo(FILES)).sort().slice(0, 42));
    assert.equal(kept.vectors, kept.chunks, 'every kept chunk has its vector');
    assert.equal(kept.chunks, 42);
    await resume(run.indexDir, kept);
  });

  it('cancelled while a batch embeds: its files whose every chunk was answered are kept too', async () => {
    // Requests of 4 texts: cancelled after the first request of the third batch (files 10–41) is answered.
    const run = await runUntil({ embedBatch: 4 }, (e) => (progress(e)?.filesDone === 10 && progress(e)!.embedded === 14 ? 'abort' : undefined));
    assert.ok(isAbortError(run.error), String(run.error));
    const kept = await contents(run.indexDir);
    assert.equal(kept.files.length, 14, 'the ten files of the first two batches and the four answered of the third');
    assert.equal(kept.vectors, kept.chunks);
    await resume(run.indexDir, kept);
  });

  it('failed at a later batch (the inference worker shut down): the finished batches are kept', async () => {
    const own = await startClient();
    let disposed = false;
    try {
      const run = await runUntil({ client: own }, async (e) => {
        if (progress(e)?.filesDone !== 10 || disposed) return;
        disposed = true;
        await own.dispose();
      });
      assert.match(String(run.error), /inference worker was shut down/);
      assert.ok(!isAbortError(run.error));
      const kept = await contents(run.indexDir);
      assert.equal(kept.files.length, 10);
      assert.equal(kept.vectors, kept.chunks);
      await resume(run.indexDir, kept);
    } finally {
      if (!disposed) await own.dispose();
    }
  });

  it('left by its caller: the finished batches are kept', async () => {
    const run = await runUntil({}, (e) => (progress(e)?.filesDone === 10 ? 'leave' : undefined));
    assert.equal(run.error, undefined);
    const kept = await contents(run.indexDir);
    assert.equal(kept.files.length, 10);
    assert.equal(kept.vectors, kept.chunks);
    await resume(run.indexDir, kept);
  });

  it('on the indexing thread (the editor, MCP): cancelled mid-run, at least the files reported done are kept with vectors', async () => {
    const big = path.join(dirs.dir, 'big');
    writeTree(big, repo(1000)); // the rest of the run (~2 s) outlasts the abort's way to the thread by far
    const indexDir = path.join(dirs.dir, 'thread-index');
    const controller = new AbortController();
    let doneAtCancel = 0;
    const run = indexWorkspaceInThread({ root: big, indexDir, embedding, client, signal: controller.signal, inlineCommitMs: NO_TIMED_COMMIT }, INDEXER_SCRIPT);
    await assert.rejects(
      (async () => {
        for await (const e of run) {
          assert.notEqual(e.type, 'commit', 'no commit came by itself');
          if (e.type === 'progress' && e.filesDone >= 42 && !controller.signal.aborted) {
            doneAtCancel = e.filesDone;
            controller.abort();
          }
        }
      })(),
      (err: unknown) => isAbortError(err),
    );
    const kept = await contents(indexDir);
    assert.ok(kept.files.length >= doneAtCancel && kept.files.length < 1000, `kept ${kept.files.length}, ${doneAtCancel} done at the cancel`);
    assert.equal(kept.vectors, kept.chunks);
    const rest = indexWorkspaceInThread({ root: big, indexDir, embedding, client }, INDEXER_SCRIPT);
    let r = await rest.next();
    while (!r.done) r = await rest.next();
    assert.equal(r.value.files.unchanged, kept.files.length);
    assert.equal(r.value.embedded, r.value.chunks - kept.chunks);
  });
});
