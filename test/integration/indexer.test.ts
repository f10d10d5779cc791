import assert from 'node:assert/strict';
import { promises as fsp, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferenceClient } from '../../src/core/worker/client';
import { type IndexEvent, type IndexOptions, type IndexSummary, indexWorkspace } from '../../src/core/indexing/indexer';
import { retrieve } from '../../src/core/search/retriever';
import { IndexStore } from '../../src/core/store/store';
import { indexWorkspaceInThread } from '../../src/core/indexing/thread';
import { INDEXER_SCRIPT, TINY_EMBEDDER, WORKER_SCRIPT, tempDir, writeTree } from '../helpers';

/** Every test below runs twice: indexing on this thread (the CLI) and on its own thread (the editor). */
const MODES = [
  { name: 'on the calling thread', run: (o: IndexOptions) => indexWorkspace(o) },
  { name: 'on the indexing thread', run: (o: IndexOptions) => indexWorkspaceInThread(o, INDEXER_SCRIPT) },
] as const;

for (const mode of MODES) {
  async function runIndex(opts: Omit<IndexOptions, 'client'>, client: InferenceClient): Promise<{ summary: IndexSummary; events: IndexEvent[] }> {
    const events: IndexEvent[] = [];
    const gen = mode.run({ ...opts, client });
    let r = await gen.next();
    while (!r.done) {
      events.push(r.value);
      r = await gen.next();
    }
    return { summary: r.value, events };
  }

  const FIXTURE: Record<string, string> = {
    'src/upload.ts': [
      'import { sleep } from "./util";',
      '',
      'export class UploadQueue {',
      '  private attempts = 0;',
      '',
      '  async retryFailedUploads(maxAttempts: number): Promise<void> {',
      '    while (this.attempts < maxAttempts) {',
      '      this.attempts++;',
      '      await sleep(100 * this.attempts);',
      '    }',
      '  }',
      '',
      '  clear(): void {',
      '    this.attempts = 0;',
      '  }',
      '}',
      '',
    ].join('\n'),
    'src/util.ts': 'export function sleep(ms: number): Promise<void> {\n  return new Promise((r) => setTimeout(r, ms));\n}\n',
    'lib/parse.py': 'def parse_config(path):\n    """Read the config file."""\n    with open(path) as f:\n        return f.read()\n\n\nclass Loader:\n    def load(self, name):\n        return parse_config(name)\n',
    'docs/guide.md': '# Guide\n\nIntro text.\n\n## Install\n\nRun the installer.\n\n## Usage\n\nCall the API.\n',
    'notes.txt': 'plain text notes\nsecond line\n',
    '.env': 'API_KEY=supersecret\n',
    'build/out.js': 'console.log("built")\n',
    '.gitignore': 'build/\n',
  };

  describe(`indexWorkspace ${mode.name} (real worker, tiny model, real vectra)`, () => {
    let client: InferenceClient;
    before(async () => {
      client = new InferenceClient(WORKER_SCRIPT);
      await client.call('configure', { cacheDir: path.join(tempDir().dir, 'models'), allowRemote: false, threads: 2 });
    });
    after(async () => client.dispose());

    it('indexes the right files, then re-embeds nothing, then only the changed file', async () => {
      const { dir, cleanup } = tempDir();
      try {
        const root = path.join(dir, 'repo');
        const indexDir = path.join(dir, 'index');
        writeTree(root, FIXTURE);
        const opts = { root, indexDir, embedding: { model: TINY_EMBEDDER, dtype: 'fp32' } };

        const first = await runIndex(opts, client);
        const s1 = first.summary;
        assert.deepEqual(s1.files.indexed, ['.gitignore', 'docs/guide.md', 'lib/parse.py', 'notes.txt', 'src/upload.ts', 'src/util.ts']);
        assert.ok(s1.files.skipped.some((s) => s.path === '.env' && s.reason === 'secret'), JSON.stringify(s1.files.skipped));
        assert.ok(s1.embedding && s1.embedding.dim > 0, 'embedding model loaded');
        assert.ok(s1.chunks >= 8, `chunks: ${s1.chunks}`);
        assert.equal(s1.embedded, s1.chunks, 'first run embeds every chunk');
        assert.ok(s1.indexBytes > 0);

        // Unchanged → nothing read, nothing embedded.
        const s2 = (await runIndex(opts, client)).summary;
        assert.equal(s2.embedded, 0);
        assert.deepEqual(s2.files.changed, []);
        assert.equal(s2.chunks, s1.chunks);

        // Same content, new mtime → hash matches, still nothing embedded.
        const util = path.join(root, 'src/util.ts');
        const later = new Date(Date.now() + 5000);
        await fsp.utimes(util, later, later);
        const s3 = (await runIndex(opts, client)).summary;
        assert.equal(s3.embedded, 0);
        assert.deepEqual(s3.files.changed, []);

        // Change one method of one file → only that file is re-chunked, and unchanged chunks reuse vectors.
        const upload = path.join(root, 'src/upload.ts');
        writeFileSync(upload, FIXTURE['src/upload.ts']!.replace('this.attempts = 0;', 'this.attempts = 0;\n    this.log("cleared");'));
        const s4 = (await runIndex(opts, client)).summary;
        assert.deepEqual(s4.files.changed, ['src/upload.ts']);
        const store = (await IndexStore.openForRead(indexDir)).store!;
        const uploadChunks = store.file('src/upload.ts')!.chunkIds.length;
        assert.ok(s4.embedded >= 1 && s4.embedded <= uploadChunks, `embedded ${s4.embedded} of ${uploadChunks}`);
        assert.equal(s4.embedded + s4.reused, uploadChunks);

        // Delete a file → its chunks leave the index.
        const utilChunks = store.file('src/util.ts')!.chunkIds.length;
        await fsp.rm(util);
        const s5 = (await runIndex(opts, client)).summary;
        assert.deepEqual(s5.files.removed, ['src/util.ts']);
        assert.ok(!s5.files.indexed.includes('src/util.ts'));
        assert.equal(s5.chunks, s4.chunks - utilChunks);
        const reopened = (await IndexStore.openForRead(indexDir)).store!;
        const paths = new Set<string>();
        for await (const c of reopened.allChunks()) paths.add(c.path);
        assert.ok(!paths.has('src/util.ts'));
        assert.equal(reopened.chunkCount, s5.chunks);
      } finally {
        cleanup();
      }
    });

    it('updates only the paths a watcher reports (changedPaths), keeping the rest', async () => {
      const { dir, cleanup } = tempDir();
      try {
        const root = path.join(dir, 'repo');
        const indexDir = path.join(dir, 'index');
        writeTree(root, FIXTURE);
        const opts = { root, indexDir, embedding: { model: TINY_EMBEDDER, dtype: 'fp32' } };
        const full = (await runIndex(opts, client)).summary;
        writeTree(root, { 'src/new.ts': 'export const answer = 42;\n', 'notes.txt': 'changed notes\n', 'secrets.pem': '-----BEGIN PRIVATE KEY-----\n' });
        await fsp.rm(path.join(root, 'src/util.ts'));
        const s = (await runIndex({ ...opts, changedPaths: ['src/new.ts', 'notes.txt', 'src/util.ts', 'secrets.pem'] }, client)).summary;
        assert.deepEqual(s.files.changed, ['notes.txt', 'src/new.ts']);
        assert.deepEqual(s.files.removed, ['src/util.ts']);
        assert.deepEqual(s.files.skipped.map((k) => [k.path, k.reason]), [['secrets.pem', 'secret']]);
        assert.equal(s.files.unchanged, full.files.indexed.length - 2);
        assert.deepEqual(s.files.indexed, ['.gitignore', 'docs/guide.md', 'lib/parse.py', 'notes.txt', 'src/new.ts', 'src/upload.ts']);
        // A changed .gitignore re-walks everything.
        writeTree(root, { '.gitignore': 'build/\ndocs/\n' });
        const g = (await runIndex({ ...opts, changedPaths: ['.gitignore'] }, client)).summary;
        assert.deepEqual(g.files.removed, ['docs/guide.md']);
      } finally {
        cleanup();
      }
    });

    it('embedding inline with the local model, commits at least every inlineCommitMs (each batch at 0); lexical first, once a shard fills', async () => {
      const { dir, cleanup } = tempDir();
      try {
        const root = path.join(dir, 'repo');
        writeTree(root, Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`src/m${i}.ts`, `export function f${i}(x: number) {\n  return x * ${i};\n}\n`])));
        const embedding = { model: TINY_EMBEDDER, dtype: 'fp32' };
        const commits = (events: IndexEvent[]) => events.filter((e) => e.type === 'commit').length;
        const inline = await runIndex({ root, indexDir: path.join(dir, 'inline'), embedding, inlineCommitMs: 0 }, client);
        const batches = new Set(inline.events.flatMap((e) => (e.type === 'progress' && e.filesDone > 0 ? [e.filesDone] : []))).size;
        assert.ok(batches >= 3, `several file batches (${batches})`);
        assert.equal(commits(inline.events), batches, 'one commit per batch');
        const lexical = await runIndex({ root, indexDir: path.join(dir, 'lexical'), embedding, inlineCommitMs: 0, lexicalFirst: true }, client);
        assert.equal(lexical.events.filter((e) => e.type === 'commit' && lexical.events.indexOf(e) < lexical.events.findIndex((x) => x.type === 'lexical-ready')).length, 1, 'the keyword pass: one commit (60 files fill no shard)');
      } finally {
        cleanup();
      }
    });

    it('stores one vector per chunk in vectra, retrievable by similarity', async () => {
      const { dir, cleanup } = tempDir();
      try {
        const root = path.join(dir, 'repo');
        const indexDir = path.join(dir, 'index');
        writeTree(root, FIXTURE);
        await runIndex({ root, indexDir, embedding: { model: TINY_EMBEDDER, dtype: 'fp32' } }, client);
        const store = (await IndexStore.openForRead(indexDir)).store!;
        const shard = store.manifest.shards[0]!;
        const items = await store.vectraIndex(shard).listItems();
        assert.equal(items.length, shard.chunks);
        const data = await store.loadShard(shard);
        // A chunk's own vector is its nearest neighbour.
        const target = data.chunks[2]!;
        const query = data.vectors.get(target.id)!;
        const hits = await store.vectraIndex(shard).queryItems(query, '', 10);
        assert.equal(hits[0]!.item.id, target.id);
        // vectra's own query over the stored items and Sift's int8 scan rank alike, with equal scores.
        const block = (await store.vectors(shard))!;
        const scores = block.block.scores(new Float32Array(query));
        const scanned = [...scores].map((score, row) => ({ id: block.ids[row]!, score })).sort((a, b) => b.score - a.score).slice(0, 10);
        assert.deepEqual(scanned.map((h) => h.id), hits.map((h) => h.item.id));
        scanned.forEach((h, i) => assert.ok(Math.abs(h.score - hits[i]!.score) < 2e-3, `${h.score} vs ${hits[i]!.score}`));
      } finally {
        cleanup();
      }
    });

    it('falls back to a lexical-only index with a clear message when the model is missing, and rebuilds when the model changes', async () => {
      const { dir, cleanup } = tempDir();
      try {
        const root = path.join(dir, 'repo');
        const indexDir = path.join(dir, 'index');
        writeTree(root, FIXTURE);
        const missing = path.join(dir, 'no-such-model');
        const { summary, events } = await runIndex({ root, indexDir, embedding: { model: missing } }, client);
        assert.equal(summary.embedding, null);
        assert.equal(summary.embedded, 0);
        assert.ok(summary.chunks > 0, 'chunks are still indexed for keyword search');
        const notice = events.find((e) => e.type === 'notice');
        assert.ok(notice && notice.type === 'notice');
        assert.match(notice.message, /could not be loaded/);
        assert.match(notice.message, /lexical-only/);
        assert.ok(notice.message.includes(missing));

        // The model becomes available → the index is rebuilt with vectors, and says why.
        const second = await runIndex({ root, indexDir, embedding: { model: TINY_EMBEDDER, dtype: 'fp32' } }, client);
        assert.ok(second.summary.notices.some((n) => /Rebuilding the index/.test(n)), second.summary.notices.join('\n'));
        assert.equal(second.summary.embedded, second.summary.chunks);
      } finally {
        cleanup();
      }
    });

    it('detects a corrupt or foreign-version index and rebuilds with a message instead of failing', async () => {
      const { dir, cleanup } = tempDir();
      try {
        const root = path.join(dir, 'repo');
        const indexDir = path.join(dir, 'index');
        writeTree(root, FIXTURE);
        const opts = { root, indexDir, embedding: null };
        await runIndex(opts, client);
        await fsp.writeFile(path.join(indexDir, 'manifest.json'), '{"format":"sift-index","vers');
        const corrupt = await runIndex(opts, client);
        assert.ok(corrupt.summary.notices.some((n) => /not valid JSON/.test(n)), corrupt.summary.notices.join('\n'));
        assert.ok(corrupt.summary.chunks > 0);

        const manifest = JSON.parse(await fsp.readFile(path.join(indexDir, 'manifest.json'), 'utf8'));
        manifest.version = 999;
        await fsp.writeFile(path.join(indexDir, 'manifest.json'), JSON.stringify(manifest));
        const future = await runIndex(opts, client);
        assert.ok(future.summary.notices.some((n) => /format 999/.test(n)), future.summary.notices.join('\n'));
        assert.equal((await IndexStore.openForRead(indexDir)).problem, undefined);
      } finally {
        cleanup();
      }
    });

    it('keeps the file table beside the manifest: one live table, searchable without it, a missing one is a rebuild', async () => {
      const { dir, cleanup } = tempDir();
      try {
        const root = path.join(dir, 'repo');
        const indexDir = path.join(dir, 'index');
        writeTree(root, FIXTURE);
        const opts = { root, indexDir, embedding: null };
        await runIndex(opts, client);
        writeTree(root, { 'src/extra.ts': 'export function extraUploadRetry() { return 1; }\n' });
        await runIndex(opts, client);
        const manifest = JSON.parse(await fsp.readFile(path.join(indexDir, 'manifest.json'), 'utf8'));
        assert.equal(manifest.files, undefined);
        const tables = (await fsp.readdir(indexDir)).filter((n) => n.startsWith('files.'));
        // The full table, and (after a small change) the delta with the entries changed since.
        assert.deepEqual(tables.sort(), [manifest.filesFile, manifest.filesDelta].filter(Boolean).sort());
        const reader = (await IndexStore.openForRead(indexDir, { files: false })).store!;
        assert.deepEqual(reader.manifest.files, {});
        assert.throws(() => reader.file('src/extra.ts'), /without its file table/);
        const hits = await retrieve(reader, 'extraUploadRetry');
        assert.equal(hits.candidates[0]!.chunk.path, 'src/extra.ts');
        const full = (await IndexStore.openForRead(indexDir)).store!;
        assert.ok(full.file('src/extra.ts'));
        await fsp.rm(path.join(indexDir, manifest.filesFile));
        assert.match((await IndexStore.openForRead(indexDir)).problem ?? '', /file table files\.g\d+\.json is missing/);
        const rebuilt = await runIndex(opts, client);
        assert.ok(rebuilt.summary.notices.some((n) => /file table/.test(n)), rebuilt.summary.notices.join('\n'));
        assert.ok((await IndexStore.openForRead(indexDir)).store!.file('src/extra.ts'));
      } finally {
        cleanup();
      }
    });

    it('refuses a second writer on the same index with a clear message', async () => {
      const { dir, cleanup } = tempDir();
      try {
        const root = path.join(dir, 'repo');
        const indexDir = path.join(dir, 'index');
        writeTree(root, FIXTURE);
        const chunker = { version: 1, maxTokens: 256, tokenizer: 'heuristic' };
        const { store } = await IndexStore.open(indexDir, { root, embedding: null, chunker, lock: true });
        try {
          // The same process holds it (this thread): the message names the in-process update, never "another process".
          await assert.rejects(runIndex({ root, indexDir, embedding: null }, client), /Another index update in this process \(thread \d+, started [^)]+\) is updating the index/);
        } finally {
          await store.close();
        }
        // Once released, indexing works.
        assert.ok((await runIndex({ root, indexDir, embedding: null }, client)).summary.chunks > 0);
      } finally {
        cleanup();
      }
    });
  });
}
