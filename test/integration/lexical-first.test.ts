import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferenceClient } from '../../src/core/worker/client';
import { type IndexEvent, type IndexOptions, indexWorkspace } from '../../src/core/indexing/indexer';
import { retrieve } from '../../src/core/search/retriever';
import { coverageNotice } from '../../src/core/answer/ask';
import { IndexStore } from '../../src/core/store/store';
import { TINY_EMBEDDER, TINY_RERANKER, WORKER_SCRIPT, tempDir, writeTree, runCli } from '../helpers';
import { REPO } from '../support/repo';

/** Lexical first: every file keyword-searchable before any embedding, then vectors as they come. */
describe('lexical first, dense as it comes (real worker, tiny model)', () => {
  let client: InferenceClient;
  let dir: string;
  let cleanup: () => void;
  let root: string;
  const embedding = { model: TINY_EMBEDDER, dtype: 'fp32' };

  before(async () => {
    ({ dir, cleanup } = tempDir());
    root = path.join(dir, 'repo');
    writeTree(root, REPO);
    client = new InferenceClient(WORKER_SCRIPT);
    await client.call('configure', { cacheDir: path.join(dir, 'models'), allowRemote: false, threads: 2 });
  });
  after(async () => {
    await client.dispose();
    cleanup();
  });

  /** Runs the indexer, handing each event to `onEvent`; stops the run (as a cancelled one) when it returns 'stop'. */
  async function run(opts: Omit<IndexOptions, 'client' | 'root' | 'embedding'> & { client?: InferenceClient }, onEvent: (e: IndexEvent) => Promise<'stop' | void> | 'stop' | void = () => undefined) {
    const gen = indexWorkspace({ root, embedding, client, ...opts });
    for (let r = await gen.next(); ; r = await gen.next()) {
      if (r.done) return r.value;
      if ((await onEvent(r.value)) === 'stop') {
        await gen.return(undefined as never);
        return undefined;
      }
    }
  }

  /** The worker's client, with each embedding after the first `answered` held until its request is aborted (the worker still busy with it). */
  function holdingEmbeds(inner: InferenceClient, answered: number): InferenceClient {
    let embeds = 0;
    const call = (method: string, params: unknown, signal?: AbortSignal): Promise<unknown> => {
      if (method === 'embed' && ++embeds > answered) {
        return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })), { once: true }));
      }
      return (inner.call as (m: string, p: unknown, s?: AbortSignal) => Promise<unknown>)(method, params, signal);
    };
    return { call } as unknown as InferenceClient;
  }

  async function search(indexDir: string, query: string, opts: { lexical?: boolean } = {}) {
    const { store } = await IndexStore.openForRead(indexDir, { files: false });
    try {
      return await retrieve(store!, query, { embedder: opts.lexical ? undefined : client, searcher: null, candidates: 20 });
    } finally {
      await store!.close();
    }
  }

  it('answers from keywords after the first pass, hybrid for embedded (priority) files, and resumes only what is missing', async () => {
    const indexDir = path.join(dir, 'idx');
    // 1. The keyword pass: every chunk committed, none embedded; a question now is answered by BM25.
    let ready: Extract<IndexEvent, { type: 'lexical-ready' }> | undefined;
    await run({ indexDir, lexicalFirst: true }, async (e) => {
      if (e.type !== 'lexical-ready') return;
      ready = e;
      const r = await search(indexDir, 'invalidate expired sessions');
      assert.equal(r.mode, 'lexical-only');
      assert.deepEqual(r.coverage, { embedded: 0, chunks: e.chunks, share: 0 });
      assert.equal(r.candidates[0]!.chunk.path, 'src/auth/session.py');
      assert.ok(r.candidates.every((c) => !c.provenance.dense && c.provenance.lexical));
      assert.match(coverageNotice(r)!, /dense search covers 0 % of chunks/);
      return 'stop'; // the folder is closed before any embedding
    });
    assert.ok(ready && ready.chunks > 5 && ready.embedded === 0, JSON.stringify(ready));
    const total = ready.chunks;

    // 2. The dense pass, priority file first, one chunk per commit; interrupted after its first commit.
    // The worker's second embedding is held until the pass stops (a stopped pass commits every answer it
    // holds: held, the first chunk is the only one embedded).
    const priority = ['src/auth/session.py'];
    let firstDense: Extract<IndexEvent, { type: 'dense' }> | undefined;
    await run({ indexDir, lexicalFirst: true, priority, embedBatch: 1, embedCommitChunks: 1, client: holdingEmbeds(client, 1) }, async (e) => {
      if (e.type !== 'dense') return;
      firstDense = e;
      return 'stop';
    });
    assert.ok(firstDense, 'a dense progress event');
    const { store: partial } = await IndexStore.openForRead(indexDir);
    const sessionIds = new Set(partial!.file('src/auth/session.py')!.chunkIds);
    await partial!.close();
    const mid = await search(indexDir, 'invalidate expired sessions, retry failed uploads');
    assert.equal(mid.mode, 'hybrid');
    assert.deepEqual(mid.coverage, { embedded: 1, chunks: total, share: 1 / total });
    // The one dense hit is the embedded chunk (the priority file's first); BM25 still covers everything.
    const dense = mid.candidates.filter((c) => c.provenance.dense);
    assert.equal(dense.length, 1, JSON.stringify(dense.map((c) => c.chunk.path)));
    assert.ok(sessionIds.has(dense[0]!.chunk.id), `${dense[0]!.chunk.path} ${dense[0]!.chunk.id} ${[...sessionIds]}`);
    assert.ok(mid.candidates.some((c) => !sessionIds.has(c.chunk.id) && c.provenance.lexical));
    assert.match(coverageNotice(mid)!, new RegExp(`Dense search covers ${Math.floor((100 * mid.coverage!.embedded) / total)} % of chunks`));
    // Fusion does not count dense search's silence against chunks it cannot see yet: the best keyword
    // match (not embedded) stays first instead of falling below the one chunk both retrievers found.
    const question = 'where do we retry failed uploads?';
    const keywords = await search(indexDir, question, { lexical: true });
    const hybrid = await search(indexDir, question);
    assert.ok(!sessionIds.has(keywords.candidates[0]!.chunk.id), 'precondition: the best keyword match is not the embedded chunk');
    assert.equal(hybrid.mode, 'hybrid');
    assert.equal(hybrid.candidates[0]!.chunk.id, keywords.candidates[0]!.chunk.id);
    const unembedded = (r: typeof mid) => r.candidates.filter((c) => !sessionIds.has(c.chunk.id)).map((c) => c.chunk.id);
    assert.deepEqual(unembedded(hybrid), unembedded(keywords).slice(0, unembedded(hybrid).length), 'chunks without vectors keep their keyword order');

    // 3. A plain run resumes: it embeds exactly the chunks still missing, then every chunk has a vector.
    const embeddedBefore = mid.coverage!.embedded;
    const done = await run({ indexDir });
    assert.equal(done!.embedded, total - embeddedBefore);
    const full = await search(indexDir, 'invalidate expired sessions');
    assert.deepEqual(full.coverage, { embedded: total, chunks: total, share: 1 });
    assert.equal(coverageNotice(full), undefined);
    const { store } = await IndexStore.openForRead(indexDir, { files: false });
    assert.ok(store!.manifest.shards.every((s) => s.embedded === undefined), 'no shard marked partial');
    await store!.close();

    // Same dense ranking as an index embedded batch by batch (vectors are the model's either way).
    const reference = path.join(dir, 'idx-ref');
    await run({ indexDir: reference });
    const ref = await search(reference, 'invalidate expired sessions');
    const denseList = (r: typeof ref) => r.candidates.filter((c) => c.provenance.dense).map((c) => [c.chunk.id, c.provenance.dense!.rank, c.provenance.dense!.score.toFixed(5)]);
    assert.deepEqual(denseList(full), denseList(ref));
    assert.deepEqual(
      full.candidates.map((c) => c.chunk.id),
      ref.candidates.map((c) => c.chunk.id),
    );
  });

  it('the keyword pass commits the priority files first, on their own, and each commit says how many files are searchable of the total', async () => {
    const indexDir = path.join(dir, 'idx-files');
    const commits: { searchable: number; total: number; files: string[] }[] = [];
    const priority = ['src/deploy/publish.ts', 'src/auth/session.py', 'not/in/the/folder.ts'];
    const summary = await run({ indexDir, lexicalFirst: true, priority, commitEveryFiles: 3 }, async (e) => {
      if (e.type !== 'commit') return;
      assert.ok(e.files, 'the keyword pass reports files');
      const { store } = await IndexStore.openForRead(indexDir);
      commits.push({ ...e.files, files: Object.keys(store!.manifest.files).sort() });
      await store!.close();
    });
    const total = summary!.files.indexed.length;
    assert.ok(commits.length >= 2, JSON.stringify(commits));
    // The first commit holds exactly the priority files in the folder (discovery order would start with README.md, docs/).
    assert.deepEqual(commits[0]!.files, ['src/auth/session.py', 'src/deploy/publish.ts']);
    assert.deepEqual(commits.map((c) => c.total), commits.map(() => total), 'the total is the folder as the pass will leave it');
    assert.deepEqual(commits.map((c) => c.searchable), commits.map((c) => c.files.length), 'searchable = files in the committed index');
    assert.equal(commits.at(-1)!.searchable, total);
    for (let i = 1; i < commits.length; i++) assert.ok(commits[i]!.searchable > commits[i - 1]!.searchable);

    // An update of one file: the unchanged files count as searchable from the start.
    writeTree(root, { 'src/deploy/publish.ts': `${REPO['src/deploy/publish.ts']}\nexport const extra = 1;\n` });
    const update: { searchable: number; total: number }[] = [];
    await run({ indexDir, lexicalFirst: true, changedPaths: ['src/deploy/publish.ts'] }, (e) => {
      if (e.type === 'commit' && e.files) update.push(e.files);
    });
    writeTree(root, { 'src/deploy/publish.ts': REPO['src/deploy/publish.ts']! });
    assert.deepEqual(update, [{ searchable: total, total }]);
  });

  it('an unchanged index yields lexical-ready at once with full coverage and embeds nothing', async () => {
    const indexDir = path.join(dir, 'idx-ref');
    let ready: Extract<IndexEvent, { type: 'lexical-ready' }> | undefined;
    const s = await run({ indexDir, lexicalFirst: true }, (e) => {
      if (e.type === 'lexical-ready') ready = e;
    });
    assert.equal(s!.embedded, 0);
    assert.equal(ready!.embedded, ready!.chunks);
  });

  it('sift ask on an unindexed folder answers after the keyword pass and says how much dense search covers; --wait-for-embeddings embeds first', async () => {
    const idx = path.join(dir, 'idx-cli');
    const args = ['ask', root, 'invalidate expired sessions', '--embedding-model', TINY_EMBEDDER, '--reranker-model', TINY_RERANKER, '--offline', '--index-dir', idx, '--json'];
    const first = await runCli(args);
    assert.equal(first.code, 0, first.stderr);
    const a = JSON.parse(first.stdout);
    assert.equal(a.retrieval, 'lexical-only');
    assert.equal(a.coverage.embedded, 0);
    assert.ok(a.coverage.chunks > 0);
    assert.equal(a.sources[0].path, 'src/auth/session.py');
    assert.ok(a.notices.some((n: string) => /dense search covers 0 % of chunks/.test(n)), JSON.stringify(a.notices));

    const second = await runCli([...args, '--wait-for-embeddings']);
    assert.equal(second.code, 0, second.stderr);
    const b = JSON.parse(second.stdout);
    assert.equal(b.retrieval, 'hybrid');
    assert.deepEqual(b.coverage, { embedded: a.coverage.chunks, chunks: a.coverage.chunks, share: 1 });
  });
});

