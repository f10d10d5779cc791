/**
 * The model host (src/vscode/modelHost.ts): one memoised worker, the reranker, missing models and
 * download notices — the real inference worker with the tiny models, a fake workspace port.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DownloadNotices } from '../../src/vscode/downloads';
import type { ProgressReport } from '../../src/vscode/ports';
import { services } from '../support/editorServices';

describe('model host', () => {
  it('starts one worker for concurrent first uses, and loads the reranker once', async () => {
    const s = services({ folders: { repo: { 'a.ts': 'export const a = 1;\n' } } });
    try {
      const [a, b, c] = await Promise.all([s.models.client(), s.models.client(), s.models.client()]);
      assert.equal(s.workers(), 1);
      assert.ok(a === b && b === c);
      const [r1, r2] = await Promise.all([s.models.reranker(), s.models.reranker()]);
      assert.ok(r1 && r1 === r2);
      assert.equal(s.ws.log.lines.filter((l) => l.startsWith('info Reranker loaded:')).length, 1);
      assert.equal(s.workers(), 1);
    } finally {
      await s.dispose();
    }
  });

  it('records a reranker that cannot load (tried once per settings) and forgets it on reload', async () => {
    const missing = path.join(path.sep, 'no', 'such', 'reranker');
    const s = services({ folders: { repo: { 'a.ts': 'export const a = 1;\n' } }, settings: { 'models.reranker': missing } });
    try {
      let changes = 0;
      s.models.onDidChangeMissing(() => changes++);
      assert.equal(await s.models.reranker(), undefined);
      assert.equal(await s.models.reranker(), undefined);
      assert.deepEqual(s.models.missingModels().map((m) => [m.role, m.model]), [['reranker', missing]]);
      assert.match(s.models.missingModels()[0]!.message, /reranker model folder could not be loaded/);
      assert.equal(s.ws.log.lines.filter((l) => l.startsWith('warn The reranker model folder')).length, 1, 'tried once');
      assert.equal(changes, 1);
      s.models.reload();
      assert.deepEqual(s.models.missingModels(), []);
      assert.equal(changes, 2);
    } finally {
      await s.dispose();
    }
  });

  it('a stopped worker is replaced on the next use', async () => {
    const s = services({ folders: { repo: { 'a.ts': 'export const a = 1;\n' } } });
    try {
      const first = await s.models.client();
      s.models.stopWorker();
      const second = await s.models.client();
      assert.notEqual(first, second);
      assert.equal(s.workers(), 2);
      assert.equal(await second.call('tokenizerName', {}), 'heuristic');
    } finally {
      await s.dispose();
    }
  });

  it('a model setting change while the worker embeds closes it gracefully: the process survives, stopped() waits for its exit', async () => {
    const s = services({ folders: { repo: { 'a.ts': 'export const a = 1;\n' } } });
    try {
      const loaded = await s.models.embedder();
      assert.ok(loaded);
      const first = await s.models.client();
      // A long dense pass (thousands of batches): the setting change lands mid-run. Terminating the
      // worker there aborted the whole process (here: the test runner) inside onnxruntime.
      const texts = Array.from({ length: 2000 }, (_, i) => `export function handler${i}(request) { return retry(upload, ${i}); } `.repeat(40));
      const long = first.call('embed', { texts, batchSize: 32 }).then(() => 'finished', (err: Error) => err.message);
      // Requests run side by side: once a short embed is answered, the long one is between model calls.
      await first.call('embed', { texts: ['the long run has started'] });
      s.models.reload();
      await s.models.stopped();
      assert.match(await long, /shut down/);
      await assert.rejects(first.call('tokenizerName', {}), /shut down|stopped/);
      const second = await s.models.client();
      assert.notEqual(first, second);
      assert.equal(await second.call('tokenizerName', {}), 'heuristic');
    } finally {
      await s.dispose();
    }
  });
});

describe('download notices', () => {
  function notices() {
    const shown: { title: string; reports: ProgressReport[]; cancel: () => void; closed: boolean }[] = [];
    const cancelled: string[] = [];
    const d = new DownloadNotices(
      (title, task) => {
        const controller = new AbortController();
        const entry = { title, reports: [] as ProgressReport[], cancel: () => controller.abort(), closed: false };
        shown.push(entry);
        return task((p) => entry.reports.push(p), controller.signal).then((v) => {
          entry.closed = true;
          return v;
        });
      },
      (model) => cancelled.push(model),
    );
    return { d, shown, cancelled };
  }

  it('shows one cancellable notification per model with bytes and percent, closed when the model is ready', async () => {
    const { d, shown } = notices();
    d.onProgress({ model: 'org/emb', file: 'onnx/model.onnx', status: 'initiate' });
    d.onProgress({ model: 'org/emb', file: 'onnx/model.onnx', status: 'progress', loaded: 1536, total: 3 * 1024 * 1024, percent: 0.05 });
    d.onProgress({ model: 'org/emb', file: 'onnx/model.onnx', status: 'progress', loaded: 1.5 * 1024 * 1024, total: 3 * 1024 * 1024, percent: 50 });
    assert.deepEqual(shown.map((s) => s.title), ['Sift: downloading org/emb']);
    assert.deepEqual(shown[0]!.reports.map((r) => r.message), ['onnx/model.onnx: 1.5 KB of 3.0 MB (0%)', 'onnx/model.onnx: 1.5 MB of 3.0 MB (50%)']);
    d.onProgress({ model: 'org/emb', file: '', status: 'ready' });
    await new Promise(setImmediate); // the notification's promise settles
    assert.equal(shown[0]!.closed, true);
  });

  it('cancelling a download tells the owner (who stops the worker) and closes it', async () => {
    const { d, shown, cancelled } = notices();
    d.onProgress({ model: 'org/rr', file: 'onnx/model.onnx', status: 'progress', loaded: 10, total: 100, percent: 10 });
    shown[0]!.cancel();
    assert.deepEqual(cancelled, ['org/rr']);
    await new Promise(setImmediate); // the notification's promise settles
    assert.equal(shown[0]!.closed, true);
    d.onProgress({ model: 'org/rr', file: 'onnx/model.onnx', status: 'progress', loaded: 20, total: 100, percent: 20 });
    assert.equal(shown.length, 2, 'a later download of the model shows again');
    d.dispose();
  });
});
