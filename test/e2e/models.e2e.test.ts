/**
 * Models and live indexing as a user lives them, in the real workbench:
 *  - offline with downloads off and no local models: the panel names the missing models and how to
 *    fix it, and keyword search still answers;
 *  - with a hub mirror (a local server laid out like the Hugging Face hub): the models download on
 *    first use into the extension's storage, and retrieval becomes hybrid and reranked;
 *  - a file created while the window is open is indexed through the watcher and found.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { TINY_EMBEDDER, TINY_RERANKER, tempDir, writeTree } from '../helpers';
import { ModelHubServer } from '../support/modelHub';
import { REPO } from '../support/repo';
import { buildVsix, startWorkbench, waitFor, type Workbench } from './harness';

const hub = new ModelHubServer({ 'sift-test/tiny-embedder': TINY_EMBEDDER, 'sift-test/tiny-reranker': TINY_RERANKER });
const workbenches: Workbench[] = [];
let ws: { dir: string; cleanup: () => void } | undefined;

before(async () => {
  ws = tempDir('sift-e2e-models-');
  writeTree(ws.dir, REPO);
  await hub.start();
});

after(async () => {
  for (const wb of workbenches) await wb.stop();
  await hub.stop();
  ws?.cleanup();
});

test('offline without models: the panel says which are missing, keyword search still answers', { timeout: 300_000 }, async () => {
  const wb = await startWorkbench({
    vsix: buildVsix(),
    workspace: ws!.dir,
    name: 'models-offline',
    settings: { 'sift.models.allowDownloads': false },
  });
  workbenches.push(wb);
  await wb.runCommand('Sift: Ask Sift');
  const frame = await wb.findWebviewFrame('#question', { timeoutMs: 60_000 });
  await frame.locator('.status[data-state="ready"]').waitFor({ timeout: 120_000 });
  const notice = frame.locator('.notices .notice', { hasText: /Embedding model .*all-MiniLM-L6-v2 unavailable: keyword search only/ });
  await notice.waitFor({ timeout: 30_000 });
  await notice.locator('summary').click(); // details open on demand
  assert.match(await notice.innerText(), /Xenova\/all-MiniLM-L6-v2 is not in the model cache/);
  assert.match(await notice.innerText(), /sift\.models\.localFolder/);
  assert.match(await frame.locator('.status').innerText(), /keyword search only/);
  await frame.locator('#question').fill('retryFailedUploads');
  await frame.locator('#question').press('Enter');
  const turn = frame.locator('section.turn').nth(0);
  await waitFor(async () => ((await turn.getAttribute('class'))?.includes('done') ? true : undefined), 120_000, 'the keyword-only answer');
  assert.match(await turn.locator('li.source').first().innerText(), /src\/net\/uploader\.ts/);
  assert.equal(await turn.locator('.badge.dense').count(), 0, 'no dense retrieval without the model');
  await frame.locator('.notices .notice', { hasText: /Reranker model .* unavailable: answers are not reranked/ }).waitFor({ timeout: 30_000 });
  await wb.screenshot('01-missing-models');
});

test('first use downloads the models from the hub into extension storage; a new file is indexed live', { timeout: 400_000 }, async () => {
  const wb = await startWorkbench({
    vsix: buildVsix(),
    workspace: ws!.dir,
    name: 'models-download',
    settings: {
      'sift.models.hubUrl': hub.url,
      'sift.models.embedding': 'sift-test/tiny-embedder',
      'sift.models.reranker': 'sift-test/tiny-reranker',
    },
  });
  workbenches.push(wb);
  await wb.runCommand('Sift: Ask Sift');
  const frame = await wb.findWebviewFrame('#question', { timeoutMs: 60_000 });
  await frame.locator('.status[data-state="ready"]').waitFor({ timeout: 120_000 });
  assert.ok(hub.requests.some((r) => r.includes('/sift-test/tiny-embedder/resolve/main/onnx/model_quantized.onnx')), 'embedder downloaded');
  assert.doesNotMatch(await frame.locator('.status').innerText(), /keyword search only/);

  await frame.locator('#question').fill('where do we retry failed uploads?');
  await frame.locator('#question').press('Enter');
  const first = frame.locator('section.turn').nth(0);
  await waitFor(async () => ((await first.getAttribute('class'))?.includes('done') ? true : undefined), 120_000, 'the first answer');
  assert.ok(hub.requests.some((r) => r.includes('/sift-test/tiny-reranker/resolve/main/onnx/model_quantized.onnx')), 'reranker downloaded on first use');
  assert.ok((await first.locator('.badge.dense').count()) > 0, 'hybrid retrieval with the downloaded embedder');
  assert.ok((await first.locator('.rank .move').count()) > 0, 'reranked with the downloaded cross-encoder');
  await wb.screenshot('02-downloaded');

  // A file created now is picked up by the watcher (debounced) and can be found.
  writeFileSync(path.join(ws!.dir, 'src', 'telemetry.ts'), 'export function flushTelemetryQueue(batchSize: number) {\n  return batchSize * 2;\n}\n');
  await wb.waitForLog(() => wb.extensionLog('Sift'), /index ready: \d+ files, \d+ chunks; changed 1,/, { timeoutMs: 60_000 });
  await frame.locator('#question').fill('flushTelemetryQueue');
  await frame.locator('#question').press('Enter');
  const second = frame.locator('section.turn').nth(1);
  await waitFor(async () => ((await second.getAttribute('class'))?.includes('done') ? true : undefined), 120_000, 'the second answer');
  assert.match(await second.locator('li.source').first().innerText(), /src\/telemetry\.ts/);
  await wb.screenshot('03-live-index');
});
