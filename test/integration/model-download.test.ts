import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferenceClient } from '../../src/core/worker/client';
import { modelCacheDirFor } from '../../src/core/models/models';
import type { DownloadProgress } from '../../src/core/worker/protocol';
import { TINY_EMBEDDER, TINY_RERANKER, WORKER_SCRIPT, tempDir } from '../helpers';
import { ModelHubServer } from '../support/modelHub';

describe('model download from a hub-shaped server, then offline reuse of the cache', () => {
  let hub: ModelHubServer;
  let dir: string;
  let cleanup: () => void;
  before(async () => {
    ({ dir, cleanup } = tempDir());
    hub = new ModelHubServer({ 'sift-test/tiny-embedder': TINY_EMBEDDER, 'sift-test/tiny-reranker': TINY_RERANKER });
    await hub.start();
  });
  after(async () => {
    await hub.stop();
    cleanup();
  });

  it('downloads with byte progress into the cache, and loads from the cache with downloads off', async () => {
    const cacheDir = path.join(dir, 'models');
    const online = new InferenceClient(WORKER_SCRIPT);
    const progress: DownloadProgress[] = [];
    online.onProgress((p) => progress.push(p));
    try {
      await online.call('configure', { cacheDir, allowRemote: true, remoteHost: hub.url });
      const loaded = await online.call('loadEmbedder', { model: 'sift-test/tiny-embedder', dtype: 'q8' });
      assert.ok(loaded.ok, loaded.ok ? '' : loaded.message);
      assert.equal(loaded.info.dim, 64);
      const reranker = await online.call('loadReranker', { model: 'sift-test/tiny-reranker', dtype: 'q8' });
      assert.ok(reranker.ok, reranker.ok ? '' : reranker.message);
    } finally {
      await online.dispose();
    }
    assert.ok(hub.requests.some((r) => r.includes('/sift-test/tiny-embedder/resolve/main/onnx/model_quantized.onnx')), hub.requests.join('\n'));
    const onnx = progress.filter((p) => p.status === 'progress' && p.file.endsWith('model_quantized.onnx') && p.model === 'sift-test/tiny-embedder');
    assert.ok(onnx.length > 0, 'byte progress reported for the model file');
    assert.ok(onnx.every((p) => typeof p.loaded === 'number' && typeof p.total === 'number' && p.total > 0));
    assert.equal(Math.round(onnx.at(-1)!.percent!), 100);
    assert.ok(existsSync(cacheDir));

    // Offline (and the hub gone): the cached copy is used.
    const requestsBefore = hub.requests.length;
    const offline = new InferenceClient(WORKER_SCRIPT);
    try {
      await offline.call('configure', { cacheDir, allowRemote: false, remoteHost: hub.url });
      const again = await offline.call('loadEmbedder', { model: 'sift-test/tiny-embedder', dtype: 'q8' });
      assert.ok(again.ok, again.ok ? '' : again.message);
      const vec = await offline.call('embed', { texts: ['retry failed uploads'] });
      assert.equal(vec.length, 64);
      assert.equal(hub.requests.length, requestsBefore, 'no network request when offline');
    } finally {
      await offline.dispose();
    }
  });

  it('keys the cache by source: a mirror\'s files never answer for the same model id from another source', async () => {
    // Two sources serve the same id; the "mirror" one is what a hostile hub would plant.
    const mirror = new ModelHubServer({ 'sift-test/tiny-embedder': TINY_EMBEDDER });
    await mirror.start();
    const cacheDir = path.join(dir, 'shared-cache');
    const client = new InferenceClient(WORKER_SCRIPT);
    try {
      await client.call('configure', { cacheDir, allowRemote: true, remoteHost: mirror.url });
      const fromMirror = await client.call('loadEmbedder', { model: 'sift-test/tiny-embedder', dtype: 'q8' });
      assert.ok(fromMirror.ok, fromMirror.ok ? '' : fromMirror.message);
      assert.ok(mirror.requests.some((r) => r.endsWith('/onnx/model_quantized.onnx')), 'downloaded from the mirror');
      assert.ok(existsSync(path.join(modelCacheDirFor(cacheDir, mirror.url), 'sift-test', 'tiny-embedder', 'onnx', 'model_quantized.onnx')), 'cached under the mirror\'s own folder');

      // Offline with the default hub, or with the other server: the mirror's copy is not used.
      for (const remoteHost of [undefined, hub.url]) {
        await client.call('configure', { cacheDir, allowRemote: false, remoteHost });
        const other = await client.call('loadEmbedder', { model: 'sift-test/tiny-embedder', dtype: 'q8' });
        assert.equal(other.ok, false, `the mirror's files answered for ${remoteHost ?? 'the default hub'}`);
        assert.match(!other.ok ? other.message : '', /is not in the model cache/);
      }
      // Online with the other source: it downloads its own copy instead of reusing the mirror's.
      const before = hub.requests.length;
      await client.call('configure', { cacheDir, allowRemote: true, remoteHost: hub.url });
      const fromHub = await client.call('loadEmbedder', { model: 'sift-test/tiny-embedder', dtype: 'q8' });
      assert.ok(fromHub.ok, fromHub.ok ? '' : fromHub.message);
      assert.ok(hub.requests.slice(before).some((r) => r.endsWith('/sift-test/tiny-embedder/resolve/main/onnx/model_quantized.onnx')), 'the other source was asked for its own files');
      assert.notEqual(modelCacheDirFor(cacheDir, hub.url), modelCacheDirFor(cacheDir, mirror.url));
      assert.notEqual(modelCacheDirFor(cacheDir, undefined), modelCacheDirFor(cacheDir, 'https://huggingface.co.evil.example/'));
      assert.equal(modelCacheDirFor(cacheDir, undefined), modelCacheDirFor(cacheDir, 'https://huggingface.co'), 'the default hub with or without its slash is one source');
    } finally {
      await client.dispose();
      await mirror.stop();
    }
  });

  it('reports progress only for bytes fetched from the network: never for a local model folder or a cached model', async () => {
    const load = async (configure: { cacheDir: string; allowRemote: boolean; remoteHost?: string }, embedder: string, reranker: string) => {
      const client = new InferenceClient(WORKER_SCRIPT);
      const seen: DownloadProgress[] = [];
      client.onProgress((p) => seen.push(p));
      try {
        await client.call('configure', configure);
        const e = await client.call('loadEmbedder', { model: embedder, dtype: 'q8' });
        assert.ok(e.ok, e.ok ? '' : e.message);
        const r = await client.call('loadReranker', { model: reranker, dtype: 'q8' });
        assert.ok(r.ok, r.ok ? '' : r.message);
      } finally {
        await client.dispose();
      }
      return seen.filter((p) => p.status !== 'ready');
    };
    const cacheDir = path.join(dir, 'progress-cache');
    // Local folders, downloads allowed or not: the files are read from disk, nothing is downloaded.
    for (const allowRemote of [false, true]) {
      const local = await load({ cacheDir, allowRemote, remoteHost: hub.url }, TINY_EMBEDDER, TINY_RERANKER);
      assert.deepEqual(local, [], `local model folders (downloads ${allowRemote ? 'on' : 'off'}) reported ${JSON.stringify(local.slice(0, 3))}`);
    }
    // From the hub: byte progress for what is fetched, each file ending with done.
    const before = hub.requests.length;
    const first = await load({ cacheDir, allowRemote: true, remoteHost: hub.url }, 'sift-test/tiny-embedder', 'sift-test/tiny-reranker');
    assert.ok(hub.requests.length > before, 'the hub was asked');
    const onnx = first.filter((p) => p.status === 'progress' && p.file === 'onnx/model_quantized.onnx');
    assert.deepEqual([...new Set(onnx.map((p) => p.model))].sort(), ['sift-test/tiny-embedder', 'sift-test/tiny-reranker']);
    assert.ok(onnx.every((p) => (p.total ?? 0) > 0));
    assert.ok(first.some((p) => p.status === 'done' && p.file === 'onnx/model_quantized.onnx'));
    // Again with downloads on and the hub up: the cache answers, so nothing is reported.
    const cached = await load({ cacheDir, allowRemote: true, remoteHost: hub.url }, 'sift-test/tiny-embedder', 'sift-test/tiny-reranker');
    assert.deepEqual(cached, [], `a cached model reported ${JSON.stringify(cached.slice(0, 3))}`);
  });

  it('explains a model the hub does not have, and one that is not cached when offline', async () => {
    const client = new InferenceClient(WORKER_SCRIPT);
    try {
      await client.call('configure', { cacheDir: path.join(dir, 'empty-cache'), allowRemote: true, remoteHost: hub.url });
      const missing = await client.call('loadEmbedder', { model: 'sift-test/no-such-model' });
      assert.equal(missing.ok, false);
      assert.match(!missing.ok ? missing.message : '', /could not be downloaded from http:\/\/127\.0\.0\.1:\d+\/ and is not in the model cache/);
      await client.call('configure', { cacheDir: path.join(dir, 'empty-cache'), allowRemote: false });
      const offline = await client.call('loadReranker', { model: 'sift-test/tiny-reranker' });
      assert.equal(offline.ok, false);
      assert.match(!offline.ok ? offline.message : '', /is not in the model cache .* downloads are switched off.*local model folder/);
    } finally {
      await client.dispose();
    }
  });
});
