/**
 * Learning-to-rank in the real workbench: with `sift.ltr.enabled` the chat's ranking gets the
 * editor's context (a file open in a tab shows as an "open" badge on its source), opening a source
 * after the answer is recorded as ranking feedback, and "Sift: Clear Learned Ranking Feedback"
 * forgets it. Real parts: the packaged VSIX, the tiny models (local folders), no LLM.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TINY_EMBEDDER, TINY_RERANKER, tempDir, writeTree } from '../helpers';
import { REPO } from '../support/repo';
import { buildVsix, startWorkbench, waitFor, type Workbench } from './harness';

let wb: Workbench | undefined;
let ws: { dir: string; cleanup: () => void } | undefined;

before(() => {
  ws = tempDir('sift-e2e-ltr-');
  writeTree(ws.dir, REPO);
});

after(async () => {
  await wb?.stop();
  ws?.cleanup();
});

test('editor signals reach the ranking and show on sources; opened sources are learned from and can be cleared', { timeout: 600_000 }, async () => {
  const vsix = buildVsix();
  wb = await startWorkbench({
    vsix,
    workspace: ws!.dir,
    name: 'ltr',
    settings: {
      'sift.models.embedding': TINY_EMBEDDER,
      'sift.models.reranker': TINY_RERANKER,
      'sift.models.allowDownloads': false,
      'sift.ltr.enabled': true,
      'sift.ltr.learnFromOpens': true,
    },
  });
  const { page } = wb;
  const log = () => wb!.extensionLog('Sift');

  // 1. Open a file in an editor tab (Quick Open).
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } });
  await page.keyboard.press('Control+KeyP');
  await page.keyboard.type('upload-guide.md');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'upload-guide.md' }).first().waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: 'upload-guide.md' }).waitFor({ timeout: 30_000 });

  // 2. Ask from the Sift view.
  await page.keyboard.press('Control+Alt+KeyQ');
  const frame = await wb.findWebviewFrame('#question', { timeoutMs: 60_000 });
  await frame.locator('.status[data-state="ready"]').waitFor({ timeout: 120_000 });
  await frame.locator('#question').fill('where do we retry failed uploads?');
  await frame.locator('#ask').click();
  const turn = frame.locator('section.turn').nth(0);
  await waitFor(async () => ((await turn.getAttribute('class'))?.includes('done') ? true : undefined), 120_000, 'the answer');
  await wb.waitForLog(log, /Editor context: 1 open, \d+ recently edited, cursor docs\/upload-guide\.md:1/);

  // 3. The open file's source carries the "open" badge (and "near cursor": the cursor is at its line 1); others do not.
  const sources = turn.locator('li.source');
  const count = await sources.count();
  assert.ok(count >= 2, 'sources listed');
  const guide = sources.filter({ hasText: 'docs/upload-guide.md' });
  assert.ok((await guide.count()) >= 1, 'the open file is among the sources');
  assert.deepEqual(await guide.first().locator('.badge.editor').allInnerTexts(), ['open', 'near cursor']);
  assert.equal(await sources.filter({ hasNotText: 'docs/upload-guide.md' }).locator('.badge.editor').count(), 0);
  assert.match(await sources.first().locator('.scores').innerText(), /LTR -?\d+\.\d\d/, 'the learning-to-rank score in provenance');
  await guide.first().scrollIntoViewIfNeeded();
  await wb.screenshot('01-editor-badges');

  // 4. Open the last source: a judgement is recorded (pairs against the other sources shown).
  await sources.nth(count - 1).locator('.source-link').click();
  await wb.waitForLog(log, new RegExp(`Ranking feedback: source ${count} opened \\(${count - 1} pairs; ${count - 1} stored from 1 opens\\)`));

  // 5. Clear it.
  await wb.runCommand('Sift: Clear Learned Ranking Feedback');
  await wb.waitForLog(log, /Learned ranking feedback cleared\./);
  await wb.screenshot('02-after-clear');

  assert.deepEqual(wb.pageDialogs(), [], 'no native dialogs');
  assert.deepEqual(wb.consoleErrors(), [], 'no console errors');
});
