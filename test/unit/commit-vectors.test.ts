import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { type FileUpdate, IndexStore } from '../../src/core/store/store';
import { fillVectors } from '../../src/core/indexing/fillVectors';
import type { Embedder } from '../../src/core/worker/embedder';
import { sha256Hex } from '../../src/core/util/fs';
import { rng, syntheticChunks, unitVector } from '../../scripts/bench/corpus';
import { embeddingText } from '../../src/core/models/text';
import { denseCoverage } from '../../src/core/store/manifest';
import { HeuristicTokenCounter, chunkFile } from '../../src/core/chunking';
import { SiftError, isAbortError } from '../../src/core/util/errors';
import { tempDir } from '../helpers';

const DIM = 32;
const EMBEDDING = { model: 'test', dtype: 'fp32' as const, dim: DIM };
const CHUNKER = { version: 1, maxTokens: 256, tokenizer: 'heuristic' };

/** Files of a lexical-first index: chunks committed without vectors. */
function files(): FileUpdate[] {
  const r = rng(11);
  return Array.from({ length: 10 }, (_, f) => {
    const chunks = syntheticChunks(r, f, 5, 200);
    return { path: chunks[0]!.path, entry: { hash: sha256Hex(`f${f}`, 16), size: 1, mtimeMs: 1 }, chunks, vectors: chunks.map(() => undefined) };
  });
}

describe('IndexStore.commitVectors (vectors only)', () => {
  it('writes only the vectors file: the chunk and keyword files of the shard are reused, not rewritten', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const indexDir = path.join(dir, 'idx');
      const { store } = await IndexStore.open(indexDir, { root: dir, embedding: EMBEDDING, chunker: CHUNKER, lock: true });
      const upserted = files();
      await store.commit({ removed: [], upserted });
      // A file removed: its rows are dead in the shard; a vectors-only commit keeps them dead.
      await store.commit({ removed: [upserted[0]!.path], upserted: [] });
      const [before] = store.manifest.shards;
      assert.ok(before?.dead?.length, 'the removed file left dead rows');
      const shardDir = (s: { dir: string }) => path.join(indexDir, 'shards', s.dir);
      const lexicalBefore = statSync(path.join(shardDir(before), 'lexical.bin'));
      const chunksBefore = statSync(path.join(shardDir(before), 'chunks.bin'));
      const r = rng(5);
      const vectors = new Map<string, number[]>();
      for (const id of upserted[1]!.chunks.map((c) => c.id)) vectors.set(id, unitVector(r, DIM));
      await store.commitVectors(vectors);
      const [after] = store.manifest.shards;
      assert.ok(after);
      assert.notEqual(after.dir, before.dir, 'a new shard version');
      // The same files (the same inodes: nothing written), and the manifest records them unchanged.
      assert.equal(statSync(path.join(shardDir(after), 'lexical.bin')).ino, lexicalBefore.ino);
      assert.equal(statSync(path.join(shardDir(after), 'chunks.bin')).ino, chunksBefore.ino);
      assert.deepEqual(after.files?.['lexical.bin'], before.files?.['lexical.bin']);
      assert.deepEqual(after.files?.['chunks.bin'], before.files?.['chunks.bin']);
      assert.notDeepEqual(after.files?.['vectors.bin'], before.files?.['vectors.bin']);
      assert.deepEqual(after.dead, before.dead);
      assert.equal(after.embedded, 5);
      const got = await store.vectorsOfFile(upserted[1]!.path);
      assert.equal(got.size, 5);
      for (const [id, v] of vectors) {
        const dot = got.get(id)!.reduce((s, x, j) => s + x * v[j]!, 0);
        assert.ok(dot > 0.99, `vector of ${id} kept (cos ${dot})`);
      }
      assert.equal((await store.unembedded()).length, 40);
      await store.close();
      // Another writer finds the index intact (sizes and checksums of every file), and a reader sees the same.
      const { store: again, rebuildReason } = await IndexStore.open(indexDir, { root: dir, embedding: EMBEDDING, chunker: CHUNKER, lock: true, verify: 'full' });
      assert.equal(rebuildReason, undefined);
      assert.equal(again.chunkCount, 45);
      assert.equal((await again.unembedded()).length, 40);
      const lexical = readFileSync(path.join(indexDir, 'shards', again.manifest.shards[0]!.dir, 'lexical.bin'));
      assert.equal(lexical.byteLength, before.files?.['lexical.bin']?.bytes);
      await again.close();
    } finally {
      cleanup();
    }
  });
});

describe('fillVectors when a commit compacts a shard during the pass', () => {
  it('finds the chunks again by id (none waits for the next run)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const indexDir = path.join(dir, 'idx');
      const { store } = await IndexStore.open(indexDir, { root: dir, embedding: EMBEDDING, chunker: CHUNKER, lock: true });
      const upserted = files();
      await store.commit({ removed: [], upserted });
      await store.commit({ removed: [upserted[0]!.path], upserted: [] });
      const late = files()[0]!;
      const added: FileUpdate = { ...late, path: 'added/late.ts', chunks: late.chunks.map((c, i) => ({ ...c, id: `late${i}`, path: 'added/late.ts' })) };
      const r = rng(3);
      let calls = 0;
      // An in-process embedder (deterministic vectors); its first request is answered after an edit
      // that rewrites the shard, which drops the dead rows (every later row moves).
      const embedder: Embedder = {
        provider: 'openai-compatible',
        inFlight: 1,
        batchSize: 5,
        load: () => Promise.reject(new Error('not used')),
        embedQuery: () => Promise.reject(new Error('not used')),
        stats: () => undefined,
        embedDocuments: async (texts) => {
          if (calls++ === 0) await store.commit({ removed: [], upserted: [added] });
          return Float32Array.from(texts.flatMap(() => unitVector(r, DIM)));
        },
      };
      const before = store.manifest.shards[0]!;
      const run = fillVectors(store, { embedder, embedding: EMBEDDING, commitEveryChunks: 1000 });
      let step = await run.next();
      while (!step.done) step = await run.next();
      assert.equal(store.manifest.shards[0]!.dead, undefined, `the shard was compacted (was ${before.dead?.length} dead rows)`);
      const left = (await store.unembedded()).map((m) => m.id);
      assert.deepEqual(left.sort(), added.chunks.map((c) => c.id).sort(), 'only the file added during the pass waits');
      await store.close();
    } finally {
      cleanup();
    }
  });
});

describe('fillVectors lists and commits a shard at a time', () => {
  /** A lexical-first index of 10 files of 5 chunks in shards of at most 12 rows (two files each: 5 shards). */
  async function fiveShards(dir: string) {
    const { store } = await IndexStore.open(path.join(dir, 'idx'), { root: dir, embedding: EMBEDDING, chunker: CHUNKER, lock: true, shardCapacity: 12 });
    const upserted = files();
    await store.commit({ removed: [], upserted });
    assert.equal(store.manifest.shards.length, 5);
    const shardOf = new Map<string, string>();
    for (const u of upserted) for (const c of u.chunks) shardOf.set(c.id, store.file(u.path)!.shard!);
    const textOf = new Map(upserted.flatMap((u) => u.chunks.map((c) => [embeddingText(c), c] as const)));
    return { store, upserted, shardOf, textOf };
  }

  it('sends the first request before every shard is listed, priority file first, and commits each shard answered in full at once, each once', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { store, upserted, shardOf, textOf } = await fiveShards(dir);
      // Count the shards listed, and record which chunks each request and each commit carried.
      let listed = 0;
      const unembeddedIn = store.unembeddedIn.bind(store);
      store.unembeddedIn = (name) => {
        listed++;
        return unembeddedIn(name);
      };
      const commits: { shards: Set<string>; afterRequests: number }[] = [];
      const commitVectors = store.commitVectors.bind(store);
      store.commitVectors = (vectors) => {
        commits.push({ shards: new Set([...vectors.keys()].map((id) => shardOf.get(id)!)), afterRequests: requests.length });
        return commitVectors(vectors);
      };
      const requests: { listed: number; paths: Set<string> }[] = [];
      const r = rng(7);
      const embedder: Embedder = {
        provider: 'openai-compatible',
        inFlight: 2,
        batchSize: 5,
        load: () => Promise.reject(new Error('not used')),
        embedQuery: () => Promise.reject(new Error('not used')),
        stats: () => undefined,
        embedDocuments: (texts) => {
          requests.push({ listed, paths: new Set(texts.map((t) => textOf.get(t)!.path)) });
          return Promise.resolve(Float32Array.from(texts.flatMap(() => unitVector(r, DIM))));
        },
      };
      // The priority file sits in the last shard; no cadence commit within the test (an hour apart).
      const priority = upserted[9]!.path;
      const run = fillVectors(store, { embedder, embedding: EMBEDDING, priority: [priority], commitEveryMs: 3_600_000 });
      let step = await run.next();
      while (!step.done) step = await run.next();
      assert.equal(step.value, 50);
      assert.deepEqual(requests[0]!.paths, new Set([priority]), 'the first request: the priority file');
      // Sent before the shards are listed (the next slice's shard may be listed while its texts are read).
      assert.ok(requests[0]!.listed <= 2, `${requests[0]!.listed} of 5 shards listed at the first request`);
      assert.equal(requests.length, 10);
      assert.ok(requests.every((q, i) => q.listed <= Math.floor(i / 2) + 2), `shards listed as the pass reaches them: ${requests.map((q) => q.listed)}`);
      // Each shard committed once (the priority file's shard also when its file was done), and the first
      // commits while requests are still to come, not all at the end.
      const last = shardOf.get(upserted[9]!.chunks[0]!.id)!;
      const written = commits.flatMap((c) => [...c.shards]);
      assert.deepEqual(written.filter((s) => s !== last).sort(), store.manifest.shards.map((s) => s.name).filter((s) => s !== last).sort(), `shards per commit: ${commits.map((c) => [...c.shards].join('+'))}`);
      assert.ok(commits[0]!.afterRequests < requests.length, `first commit after ${commits[0]!.afterRequests} of ${requests.length} requests`);
      assert.equal(denseCoverage(store.manifest).embedded, 50);
      assert.deepEqual(await store.unembedded(), []);
      await store.close();
    } finally {
      cleanup();
    }
  });
});

describe('fillVectors stopped early keeps what was answered', () => {
  /** The vector an embedder answers for a text: seeded by the text, so a stored vector names the text it came from. */
  const vectorOf = (text: string) => unitVector(rng(Number.parseInt(sha256Hex(text, 8), 16)), DIM);
  const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, j) => s + x * b[j]!, 0);

  /** One embedding request the test answers, fails or holds; `signal` is the one the pass gave it. */
  interface Request {
    texts: string[];
    signal?: AbortSignal;
    answer(): void;
    fail(err: Error): void;
  }
  /**
   * An in-process embedder whose requests the test decides on (`onRequest`): each is answered with
   * `vectorOf` its texts, failed, or left pending; a pending one rejects when its signal aborts, as the
   * inference worker's client and the HTTP client do. `answered` counts each text answered.
   */
  function scriptedEmbedder(inFlight: number, batchSize: number, onRequest: (q: Request, n: number) => void) {
    const requests: Request[] = [];
    const answered = new Map<string, number>();
    const embedder: Embedder = {
      provider: 'openai-compatible',
      inFlight,
      batchSize,
      load: () => Promise.reject(new Error('not used')),
      embedQuery: () => Promise.reject(new Error('not used')),
      stats: () => undefined,
      embedDocuments: (texts, signal) =>
        new Promise<Float32Array>((resolve, reject) => {
          let settled = false;
          const q: Request = {
            texts,
            signal,
            answer: () => {
              if (settled) return;
              settled = true;
              for (const t of texts) answered.set(t, (answered.get(t) ?? 0) + 1);
              resolve(Float32Array.from(texts.flatMap(vectorOf)));
            },
            fail: (err) => {
              if (settled) return;
              settled = true;
              reject(err);
            },
          };
          signal?.addEventListener('abort', () => q.fail(Object.assign(new Error('aborted'), { name: 'AbortError' })), { once: true });
          requests.push(q);
          onRequest(q, requests.length);
        }),
    };
    return { embedder, requests, answered };
  }

  /** Resolves when `cond` holds, checked after each of the embedder's requests (no polling). */
  function waiter() {
    const waits: { cond: () => boolean; resolve: () => void }[] = [];
    return {
      until: (cond: () => boolean) => new Promise<void>((resolve) => (cond() ? resolve() : waits.push({ cond, resolve }))),
      check: () => {
        for (const w of waits.splice(0)) if (w.cond()) w.resolve();
        else waits.push(w);
      },
    };
  }

  /** A lexical-first index of 10 files of 5 chunks (none embedded); each file's chunk texts. */
  async function index(dir: string) {
    const { store } = await IndexStore.open(path.join(dir, 'idx'), { root: dir, embedding: EMBEDDING, chunker: CHUNKER, lock: true });
    const upserted = files();
    await store.commit({ removed: [], upserted });
    const textsOf = (f: number) => upserted[f]!.chunks.map(embeddingText);
    return { store, upserted, textsOf };
  }

  /** The live chunks that have a vector, each checked to be the vector of its own text. */
  async function embeddedTexts(store: IndexStore): Promise<Set<string>> {
    const out = new Set<string>();
    for (const shard of store.manifest.shards) {
      const { chunks, vectors } = await store.loadShard(shard);
      for (const c of chunks) {
        const v = vectors?.get(c.id);
        if (!v) continue;
        const text = embeddingText(c);
        assert.ok(cosine(v, vectorOf(text)) > 0.999, `${c.path} ${c.id}: its vector is not the one answered for its current text`);
        out.add(text);
      }
    }
    return out;
  }

  it('aborted: commits every answer that came in before the abort (those ahead of the awaited one too), drops the requests in flight at once, ignores an answer landing with the abort; the next pass embeds only the rest, each chunk once', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { store, textsOf } = await index(dir);
      const controller = new AbortController();
      let late: Request | undefined;
      // Registered before the pass's own listener: this answer lands with the abort, before the pass sees it.
      controller.signal.addEventListener('abort', () => late?.answer());
      const w = waiter();
      // Three requests in flight; a request per file. The first (file 0, the one the pass awaits) is held
      // until aborted; files 1 and 2 are answered at once; file 3's answer lands with the abort.
      const { embedder, requests, answered } = scriptedEmbedder(3, 5, (q) => {
        const file = [0, 1, 2, 3].find((f) => textsOf(f).includes(q.texts[0]!));
        if (file === 1 || file === 2) q.answer();
        else if (file === 3) late = q;
        w.check();
      });
      const run = fillVectors(store, { embedder, embedding: EMBEDDING, signal: controller.signal, commitEveryMs: 3_600_000 });
      const first = run.next();
      first.catch(() => undefined);
      await w.until(() => requests.length >= 4);
      const fileOf = (q: Request) => [0, 1, 2, 3].find((f) => textsOf(f).includes(q.texts[0]!));
      assert.deepEqual(requests.map(fileOf).sort(), [0, 1, 2, 3], 'three requests ahead of the awaited one');
      controller.abort();
      await assert.rejects(first, (err) => isAbortError(err));
      // Nothing waited for file 0's answer: its request was aborted, and never answered.
      assert.ok(requests.every((q) => q.signal?.aborted));
      assert.equal(answered.has(textsOf(0)[0]!), false);
      const kept = await embeddedTexts(store);
      assert.deepEqual([...kept].sort(), [...textsOf(1), ...textsOf(2)].sort(), 'the answers of files 1 and 2 (ahead of file 0) are committed; file 3 (after the abort) is not');
      assert.equal(denseCoverage(store.manifest).embedded, 10);

      // The next pass embeds exactly what was not answered before the abort.
      const next = scriptedEmbedder(3, 5, (q) => q.answer());
      const again = fillVectors(store, { embedder: next.embedder, embedding: EMBEDDING });
      let step = await again.next();
      while (!step.done) step = await again.next();
      assert.equal(step.value, 40);
      assert.deepEqual([...next.answered.keys()].filter((t) => kept.has(t)), [], 'nothing answered before the abort is embedded again');
      assert.equal((await embeddedTexts(store)).size, 50);
      await store.close();
    } finally {
      cleanup();
    }
  });

  it('a failed request ends the pass at once with its error: the requests in flight are aborted, not waited for; the answers before it and ahead of it are committed', { timeout: 20_000 }, async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { store, textsOf } = await index(dir);
      const fileOf = (q: Request) => [0, 1, 2, 3].find((f) => textsOf(f).includes(q.texts[0]!));
      // Files 0 and 2 answered at once; file 1 fails once file 3 is asked for too; the rest (file 3 on) held
      // until their signal aborts (a server that never answers them).
      const { embedder, requests } = scriptedEmbedder(3, 5, (q) => {
        if (fileOf(q) === 0 || fileOf(q) === 2) q.answer();
        const failing = requests.find((r) => fileOf(r) === 1);
        if (failing && requests.some((r) => fileOf(r) === 3)) failing.fail(new SiftError('the embedding server answered HTTP 400', 'bad-input'));
      });
      const run = fillVectors(store, { embedder, embedding: EMBEDDING, commitEveryMs: 3_600_000 });
      await assert.rejects(
        (async () => {
          for (let step = await run.next(); !step.done; step = await run.next());
        })(),
        (err) => err instanceof SiftError && err.code === 'bad-input' && !isAbortError(err),
      );
      const held = requests.find((q) => fileOf(q) === 3)!;
      assert.equal(held.signal?.aborted, true, 'the request still in flight was aborted');
      assert.deepEqual([...(await embeddedTexts(store))].sort(), [...textsOf(0), ...textsOf(2)].sort());
      await store.close();
    } finally {
      cleanup();
    }
  });

  it('a file changed while its chunks were embedded: the vectors answered for its old content go only to chunks whose content is unchanged', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { store } = await IndexStore.open(path.join(dir, 'idx'), { root: dir, embedding: EMBEDDING, chunker: CHUNKER, lock: true });
      const chunk = (p: string, text: string) => chunkFile({ path: p, text }, { maxTokens: 60, tokenCounter: new HeuristicTokenCounter() });
      const fn = (name: string, body: string) => `export function ${name}(input: number): number {\n${body}\n}\n`;
      const steady = fn('steadyTotal', '  let total = 0;\n  for (let i = 0; i < input; i++) total += i * 3;\n  return total;');
      const v1 = `${steady}\n${fn('changingRate', '  const rate = input / 7;\n  return Math.round(rate * 100) / 100;')}`;
      const v2 = `${steady}\n${fn('changingRate', '  const rate = input / 11;\n  return Math.floor(rate * 1000) / 1000 + 1;')}`;
      const update = async (p: string, text: string, n: number) => {
        const chunks = await chunk(p, text);
        return { path: p, entry: { hash: sha256Hex(text, 16), size: text.length, mtimeMs: n }, chunks, vectors: chunks.map(() => undefined) } satisfies FileUpdate;
      };
      const before = await update('src/rates.ts', v1, 1);
      const after = await update('src/rates.ts', v2, 2);
      const other = await update('src/other.ts', fn('otherThing', '  return input + 1;'), 1);
      await store.commit({ removed: [], upserted: [before, other] });
      // Chunk ids come from path and content: the unchanged function keeps its id, the changed one gets another.
      const kept = before.chunks.filter((c) => after.chunks.some((d) => d.id === c.id));
      const changed = after.chunks.filter((c) => !before.chunks.some((d) => d.id === c.id));
      assert.ok(kept.length >= 1 && changed.length >= 1 && before.chunks.length === kept.length + changed.length, `${before.chunks.length} chunks, ${kept.length} kept`);
      const controller = new AbortController();
      // The changed file first (priority), one request queued beyond the awaited one: the file's request is
      // answered once the next is sent (the shard is then not answered in full, so nothing is committed before
      // the stop); then the file is saved and committed again, then the pass is aborted.
      const { embedder, requests } = scriptedEmbedder(1, before.chunks.length, (_q, n) => {
        if (n !== 2) return;
        requests[0]!.answer();
        void store.commit({ removed: [], upserted: [after] }).then(() => controller.abort());
      });
      const run = fillVectors(store, { embedder, embedding: EMBEDDING, signal: controller.signal, priority: ['src/rates.ts'], commitEveryMs: 3_600_000 });
      await assert.rejects(
        (async () => {
          for (let step = await run.next(); !step.done; step = await run.next());
        })(),
        (err) => isAbortError(err),
      );
      assert.deepEqual(new Set(requests[0]!.texts), new Set(before.chunks.map(embeddingText)), 'the first request: the file before its change');
      // Every stored vector is the one answered for its chunk's current text (checked in embeddedTexts):
      // the unchanged chunk got its answer, the changed one has none and waits for the next pass.
      const embedded = await embeddedTexts(store);
      assert.deepEqual([...embedded].sort(), kept.map(embeddingText).sort());
      const missing = new Set((await store.unembedded()).map((m) => m.id));
      for (const c of changed) assert.ok(missing.has(c.id), `${c.id} (changed) waits for the next pass`);
      await store.close();
    } finally {
      cleanup();
    }
  });
});
