/**
 * The folder indexer (src/vscode/folderIndexer.ts) without the editor: a fake workspace port,
 * real folders, the real indexing thread and inference worker (tiny models), timers fired by hand.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { IndexStore } from '../../src/core/store/store';
import { nextFolderState } from '../../src/vscode/indexStatus';
import { TINY_EMBEDDER } from '../helpers';
import { folderRef } from '../support/fakeWorkspace';
import { services, smallRepo } from '../support/editorServices';
import { EmbeddingsTestServer } from '../support/embeddingsServer';
import { embeddingText } from '../../src/core/models/text';

/** A promise and the function that resolves it. */
function latch(): [Promise<void>, () => void] {
  let open!: () => void;
  const done = new Promise<void>((resolve) => (open = resolve));
  return [done, open];
}

async function indexedFiles(indexDir: string): Promise<string[]> {
  const { store } = await IndexStore.openForRead(indexDir);
  assert.ok(store, `an index in ${indexDir}`);
  const files = Object.keys(store.manifest.files).sort();
  await store.close();
  return files;
}

describe('folder indexer', () => {
  it('queues runs: concurrent requests never index two folders at once, and one worker serves them', async () => {
    const s = services({ folders: { alpha: smallRepo(6, 'alpha'), beta: smallRepo(6, 'beta') } });
    try {
      await Promise.all([s.indexer.ensureIndexed(), s.indexer.ensureIndexed(), s.indexer.ensureIndexed()]);
      assert.equal(s.maxConcurrentRuns(), 1, 'runs are serialised');
      assert.deepEqual(s.runs.map((r) => path.basename(r.root)), ['alpha', 'beta'], 'one full run per folder; the queued passes found nothing to do');
      assert.equal(s.workers(), 1);
      const status = s.indexer.status();
      assert.equal(status.state, 'ready');
      assert.equal(status.retrieval, 'hybrid');
      assert.deepEqual(status.folders.map((f) => f.state), ['ready', 'ready']);
      assert.deepEqual(s.ws.progress.map((p) => p.title).filter((t) => t === 'Sift: indexing'), ['Sift: indexing'], 'one indexing notification, for the first build');
    } finally {
      await s.dispose();
    }
  });

  it('debounces a burst of watcher changes into one update of the changed paths', async () => {
    const s = services({ folders: { alpha: smallRepo(4), beta: smallRepo(2) } });
    try {
      assert.equal(s.ws.watching, 0, 'no watcher before the first build');
      await s.indexer.ensureIndexed();
      assert.equal(s.ws.watching, 1);
      const before = s.runs.length;
      const alpha = folderRef(s.roots[0]!);
      for (const name of ['a.ts', 'b.ts', 'c.ts']) {
        writeFileSync(path.join(alpha.fsPath, 'src', name), `export const burst_${name[0]} = 1;\n`);
        s.ws.fileChanged(alpha, `src/${name}`);
      }
      s.ws.fileChanged(alpha, '../outside.ts');
      assert.equal(s.timers.pending.size, 1, 'each change replaced the pending timer');
      assert.equal([...s.timers.pending.values()][0]!.ms, 1500);
      assert.equal(s.runs.length, before, 'nothing runs before the burst is over');
      s.timers.fireAll();
      await s.indexer.ensureIndexed();
      assert.deepEqual(s.runs.slice(before), [{ root: alpha.fsPath, changedPaths: ['src/a.ts', 'src/b.ts', 'src/c.ts'] }]);
      assert.ok(s.ws.log.lines.some((l) => /\[alpha\] index ready: 8 files, \d+ chunks; changed 3,/.test(l)), s.ws.log.lines.join('\n'));
    } finally {
      await s.dispose();
    }
  });

  it('pausing cancels the run in progress and keeps the folder paused until resumed, then rebuilds from a full walk', async () => {
    let paused = false;
    const s = services({
      folders: { big: smallRepo(300) },
      onEvent: (e, self) => {
        if (e.type === 'plan' && !paused) {
          paused = true;
          self.indexer.pause();
        }
      },
    });
    try {
      await s.indexer.ensureIndexed();
      assert.equal(s.indexer.status().state, 'paused');
      assert.equal(s.indexer.status().folders[0]!.state, 'paused');
      assert.ok(s.ws.log.lines.includes('info [big] indexing stopped; what was indexed so far is kept.'));
      await s.indexer.ensureIndexed();
      assert.equal(s.runs.length, 1, 'nothing runs while paused');
      s.indexer.resume();
      await s.indexer.ensureIndexed();
      assert.equal(s.runs.length, 2);
      assert.equal(s.runs[1]!.changedPaths, undefined, 'a cancelled run is followed by a full walk');
      assert.equal(s.indexer.status().state, 'ready');
      assert.equal((await indexedFiles(path.join(s.indexer.folders.entries()[0]!.indexDir))).length, 301);
    } finally {
      await s.dispose();
    }
  });

  it('pausing during the dense pass commits the batch an embedding server answered ahead of the awaited one; resumed, every chunk is embedded exactly once', async () => {
    const embeddings = new EmbeddingsTestServer();
    await embeddings.start();
    // Of the repository's batches one is answered: the first to arrive that is not the pass's first
    // (the README's chunk, which the pass awaits). The others wait until released or aborted.
    const [released, release] = latch();
    let answered: readonly string[] | undefined;
    embeddings.hold = (_n, input, gone) => {
      if (input[0] === 'probe') return undefined;
      if (!answered && !input.some((t) => t.startsWith('README.md'))) {
        answered = input;
        return undefined;
      }
      return Promise.race([released, gone]);
    };
    let wake = () => undefined as void;
    embeddings.onRequest = () => wake();
    const s = services({
      folders: { repo: smallRepo(30) },
      settings: { 'embedding.provider': 'openai-compatible', 'embedding.baseUrl': embeddings.baseURL, 'embedding.batchSize': 2, 'embedding.concurrency': 2 },
    });
    try {
      const built = s.indexer.ensureIndexed();
      // The probe, the held first batch, the answered one, and the batch sent once that answer reached the
      // pass (two requests at a time): then pause.
      while (embeddings.requests.length < 4) await new Promise<void>((resolve) => (wake = resolve));
      assert.equal(answered?.length, 2);
      s.indexer.pause();
      await built;
      assert.equal(s.indexer.status().folders[0]!.state, 'paused');
      const { store } = await IndexStore.openForRead(s.indexer.folders.entries()[0]!.indexDir);
      const embeddedIds = new Set<string>();
      for (const shard of store!.manifest.shards) for (const [id] of (await store!.loadShard(shard)).vectors ?? []) embeddedIds.add(id);
      const texts = new Map<string, string>();
      for (const shard of store!.manifest.shards) for (const c of (await store!.loadShard(shard)).chunks) texts.set(c.id, embeddingText(c));
      await store!.close();
      assert.deepEqual([...embeddedIds].map((id) => texts.get(id)).sort(), [...answered!].sort(), 'the answered batch is committed, nothing else');

      release();
      s.indexer.resume();
      await s.indexer.settled();
      const after = s.indexer.status().folders[0]!;
      assert.equal(after.state, 'ready');
      assert.equal(after.dense!.embedded, after.chunks);
      assert.deepEqual(embeddings.duplicates().filter((t) => t !== 'probe'), [], 'nothing answered before the pause is embedded again');
    } finally {
      release();
      await s.dispose();
      await embeddings.stop();
    }
  });

  it('indexes nothing in an untrusted workspace, and starts when trust is granted', async () => {
    const s = services({ folders: { repo: smallRepo(3) }, trusted: false });
    try {
      assert.equal(s.indexer.status().state, 'untrusted');
      assert.equal(s.indexer.status().folders[0]!.state, 'untrusted');
      await s.indexer.ensureIndexed();
      assert.equal(s.runs.length, 0);
      assert.equal(s.workers(), 0, 'no worker for an untrusted workspace');
      const states: string[] = [];
      s.indexer.onDidChangeStatus((st) => states.push(st.state));
      s.ws.grantTrust();
      await s.indexer.ensureIndexed();
      assert.equal(s.runs.length, 1);
      assert.equal(s.indexer.status().state, 'ready');
      assert.equal(states[0], 'idle', 'trust moves the folders to idle first');
      assert.ok(s.ws.log.lines.includes('info Workspace trusted: indexing can start.'));
    } finally {
      await s.dispose();
    }
  });

  it('a setting that needs a rebuild re-walks every folder; one that needs a model reload only restarts the worker', async () => {
    const s = services({ folders: { alpha: smallRepo(3), beta: smallRepo(3) } });
    try {
      await s.indexer.ensureIndexed();
      const first = await s.models.client();
      assert.equal(s.runs.length, 2);

      s.indexer.settingsChanged('reload-models');
      await s.indexer.ensureIndexed();
      assert.equal(s.runs.length, 2, 'no index run for a model reload');
      await assert.rejects(first.call('tokenizerName', {}), /shut down/, 'the old worker is stopped');
      const second = await s.models.client();
      assert.notEqual(second, first);
      assert.equal(s.workers(), 2);

      s.indexer.settingsChanged('reindex');
      await s.indexer.ensureIndexed();
      assert.deepEqual(
        s.runs.slice(2).map((r) => [path.basename(r.root), r.changedPaths]),
        [
          ['alpha', undefined],
          ['beta', undefined],
        ],
        'a full walk of every folder',
      );
      assert.equal(s.workers(), 3, 'a rebuild restarts the worker too');
      assert.equal(s.indexer.status().state, 'ready');
    } finally {
      await s.dispose();
    }
  });

  it('reads what to index with each folder’s own settings', async () => {
    const s = services({ folders: { alpha: { ...smallRepo(2), 'docs/guide.md': '# Guide\n' }, beta: { ...smallRepo(2), 'docs/guide.md': '# Guide\n' } } });
    try {
      const [alpha, beta] = s.ws.current;
      s.ws.folderSettings.set(alpha!.key, { 'index.include': ['src/**'] });
      s.ws.folderSettings.set(beta!.key, { 'index.exclude': ['README.md'] });
      await s.indexer.ensureIndexed();
      const [a, b] = s.indexer.folders.entries();
      assert.deepEqual(await indexedFiles(a!.indexDir), ['src/mod0.ts', 'src/mod1.ts']);
      assert.deepEqual(await indexedFiles(b!.indexDir), ['docs/guide.md', 'src/mod0.ts', 'src/mod1.ts']);
      assert.ok(s.ws.settingsReads.includes(alpha!.key) && s.ws.settingsReads.includes(beta!.key));
    } finally {
      await s.dispose();
    }
  });

  it('names a missing embedding model from the indexer’s notice code; a fixed setting clears it', async () => {
    const s = services({ folders: { repo: smallRepo(2) }, settings: { 'models.embedding': path.join(path.sep, 'no', 'such', 'model') } });
    try {
      await s.indexer.ensureIndexed();
      const status = s.indexer.status();
      assert.equal(status.retrieval, 'lexical-only');
      assert.deepEqual(status.missingModels.map((m) => [m.role, m.model]), [['embedding', path.join(path.sep, 'no', 'such', 'model')]]);
      s.ws.settings['models.embedding'] = TINY_EMBEDDER;
      s.indexer.settingsChanged('reindex');
      await s.indexer.ensureIndexed();
      assert.deepEqual(s.indexer.status().missingModels, []);
      assert.equal(s.indexer.status().retrieval, 'hybrid');
    } finally {
      await s.dispose();
    }
  });

  it('embeds the files open in the editor first (active first), then the recently changed ones, most recent first', async () => {
    const s = services({ folders: { alpha: smallRepo(6) } });
    try {
      const root = s.roots[0]!;
      const alpha = folderRef(root);
      s.ws.open = [path.join(root, 'src', 'mod4.ts'), '/elsewhere/other.ts', path.join(root, 'README.md')];
      await s.indexer.ensureIndexed();
      assert.deepEqual(s.priorities, [['src/mod4.ts', 'README.md']], 'the first build: open files only, those outside the folder left out');
      const reports = s.ws.progress[0]!.reports.map((r) => r.message ?? '');
      const embedding = reports.findIndex((m) => /^alpha: every file is searchable by keywords\. Dense search covers \d+ % of chunks/.test(m));
      assert.ok(embedding > reports.findIndex((m) => /^alpha: \d+\/\d+ files \(100%\)$/.test(m)), `the notification follows the dense pass after the files: ${reports.join(' | ')}`);
      for (const [k, name] of ['mod1', 'mod2', 'mod1', 'mod5'].entries()) {
        writeFileSync(path.join(root, 'src', `${name}.ts`), `export const changed_${name} = ${k};\n`);
        s.ws.fileChanged(alpha, `src/${name}.ts`);
      }
      s.ws.open = [path.join(root, 'src', 'mod5.ts'), path.join(root, 'src', 'mod4.ts')];
      s.timers.fireAll();
      await s.indexer.ensureIndexed();
      assert.deepEqual(s.priorities[1], ['src/mod5.ts', 'src/mod4.ts', 'src/mod1.ts', 'src/mod2.ts'], 'open (in the editor\'s order), then changed: most recent first, each once');
      const status = s.indexer.status();
      assert.deepEqual(status.folders[0]!.embedder, { provider: 'local', model: status.folders[0]!.embedder!.model });
      assert.equal(status.folders[0]!.dense?.percent, 100, 'after the run, dense search covers everything');
      assert.equal(status.folders[0]!.dense?.rate, undefined, 'no rate once the pass is over');
    } finally {
      await s.dispose();
    }
  });

  it('moves folder states only along the state machine', () => {
    assert.equal(nextFolderState('untrusted', 'trust-granted'), 'idle');
    assert.equal(nextFolderState('untrusted', 'started'), undefined);
    assert.equal(nextFolderState('indexing', 'paused'), 'paused');
    assert.equal(nextFolderState('indexing', 'stopped'), 'idle');
    assert.equal(nextFolderState('ready', 'finished'), undefined);
    assert.equal(nextFolderState('error', 'started'), 'indexing');
  });
});
