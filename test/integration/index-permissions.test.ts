import assert from 'node:assert/strict';
import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferenceClient } from '../../src/core/worker/client';
import { IndexStore } from '../../src/core/store/store';
import { WORKER_SCRIPT, TINY_EMBEDDER, tempDir, writeTree } from '../helpers';
import { runCli } from '../hostile/tally';
import { ModelHubServer } from '../support/modelHub';

/**
 * Sift's storage is owner-only whatever the umask: the index (chunk text is source code) and the
 * model cache (files onnxruntime runs). Run under umask 022, where default modes are 0755 / 0644.
 */

/** Every entry under `root` (and `root`) whose mode is not 0700 (folders) / 0600 (files). */
function looseEntries(root: string): string[] {
  const loose: string[] = [];
  const check = (p: string) => {
    const st = lstatSync(p);
    const mode = st.mode & 0o777;
    if (st.isDirectory() ? mode !== 0o700 : mode !== 0o600) loose.push(`${path.relative(root, p) || '.'} ${mode.toString(8)}`);
    if (st.isDirectory()) for (const e of readdirSync(p)) check(path.join(p, e));
  };
  check(root);
  return loose;
}

function loosen(root: string): void {
  const walk = (p: string) => {
    const st = lstatSync(p);
    chmodSync(p, st.isDirectory() ? 0o755 : 0o644);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(path.join(p, e));
  };
  walk(root);
}

describe('owner-only storage under umask 022', () => {
  let previous: number;
  let dir: string;
  let cleanup: () => void;
  before(() => {
    previous = process.umask(0o022);
    ({ dir, cleanup } = tempDir('sift-perms-'));
  });
  after(() => {
    process.umask(previous);
    cleanup();
  });

  it('creates the index folder, its parents, shards, manifest, file table and lock 0700 / 0600, and tightens a loose index', async () => {
    const root = path.join(dir, 'repo');
    writeTree(root, { 'src/a.ts': 'export const a = 1;\n', 'src/b.ts': 'export function b() {\n  return 2;\n}\n', 'README.md': '# demo\n' });
    const cache = path.join(dir, 'cache');
    const indexDir = path.join(cache, 'sift', 'indexes', 'repo-1');
    const args = ['index', root, '--index-dir', indexDir, '--embedding-model', TINY_EMBEDDER, '--offline', '--json'];
    const first = await runCli(args);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(looseEntries(path.join(cache, 'sift')), [], 'the new index and the folders created for it');
    assert.ok(readdirSync(path.join(indexDir, 'shards')).length > 0);

    // The writer's lock while it is held.
    const { store } = await IndexStore.open(indexDir, { root, embedding: null, chunker: { version: 0, maxTokens: 1, tokenizer: 'x' }, lock: true });
    assert.equal(lstatSync(path.join(indexDir, 'writer.lock')).mode & 0o777, 0o600);
    await store.close();

    // An index written with loose modes (an older Sift, another umask) is tightened by the next writer.
    loosen(indexDir);
    assert.notDeepEqual(looseEntries(indexDir), []);
    const again = await runCli(args);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(looseEntries(indexDir), []);
  });

  it('creates the model cache and the downloaded model files 0700 / 0600, and tightens a loose cache on the next download-capable load', async () => {
    const hub = new ModelHubServer({ 'sift-test/tiny-embedder': TINY_EMBEDDER });
    await hub.start();
    const cacheDir = path.join(dir, 'models-home', 'models');
    try {
      const load = async () => {
        const client = new InferenceClient(WORKER_SCRIPT);
        try {
          await client.call('configure', { cacheDir, allowRemote: true, remoteHost: hub.url });
          const loaded = await client.call('loadEmbedder', { model: 'sift-test/tiny-embedder', dtype: 'q8' });
          assert.ok(loaded.ok, loaded.ok ? '' : loaded.message);
        } finally {
          await client.dispose();
        }
      };
      await load();
      assert.ok(hub.requests.some((r) => r.endsWith('model_quantized.onnx')), 'the model was downloaded');
      assert.deepEqual(looseEntries(path.join(dir, 'models-home')), []);
      loosen(cacheDir);
      await load();
      assert.deepEqual(looseEntries(cacheDir), []);
    } finally {
      await hub.stop();
    }
  });
});
