/**
 * The chat as a user lives it, in the real workbench (code-server + Chromium): open the Sift view,
 * wait for the index, ask (keyboard only), watch the answer stream with sources, open a source,
 * toggle reranking, compare side by side, reload the window and find the history again.
 * Real parts: the packaged VSIX, the tiny models (local folders), the local OpenAI-compatible server.
 */
import assert from 'node:assert/strict';
import type { Frame } from 'playwright-core';
import { after, before, test } from 'node:test';
import { TINY_EMBEDDER, TINY_RERANKER, tempDir, writeTree } from '../helpers';
import { OpenAiTestServer } from '../support/openaiServer';
import { REPO } from '../support/repo';
import { buildVsix, startWorkbench, waitFor, type Workbench } from './harness';

let wb: Workbench | undefined;
let ws: { dir: string; cleanup: () => void } | undefined;
const llm = new OpenAiTestServer();

before(async () => {
  ws = tempDir('sift-e2e-chat-');
  writeTree(ws.dir, REPO);
  await llm.start();
  llm.script = [{ kind: 'answer', text: (b) => `Failed uploads are retried in \`retryFailedUploads\` [1], which waits with backoff [2].\n\n\`\`\`ts\nawait backoff(attempt);\n\`\`\`\n(${b.messages.length} messages)`, pieces: 12 }];
});

after(async () => {
  await wb?.stop();
  await llm.stop();
  ws?.cleanup();
});

async function chatFrame(w: Workbench): Promise<Frame> {
  return w.findWebviewFrame('#question', { timeoutMs: 60_000 });
}

async function statusBarText(w: Workbench): Promise<string> {
  return (await w.page.locator('.statusbar-item', { hasText: 'Sift' }).allInnerTexts()).join(' | ');
}

test('ask, stream, open a source, toggle reranking, compare, reload: all in the real workbench', { timeout: 600_000 }, async () => {
  const vsix = buildVsix();
  wb = await startWorkbench({
    vsix,
    workspace: ws!.dir,
    name: 'chat',
    settings: {
      'sift.llm.baseUrl': llm.baseURL,
      'sift.llm.model': 'test-model',
      'sift.models.embedding': TINY_EMBEDDER,
      'sift.models.reranker': TINY_RERANKER,
      'sift.models.allowDownloads': false,
    },
  });
  const { page } = wb;

  // 1. Open the Sift view with its keybinding (the page needs focus first), wait for the index.
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } });
  await page.keyboard.press('Control+Alt+KeyQ');
  let frame = await chatFrame(wb);
  await wb.screenshot('01-view-open');
  await waitFor(async () => (/Sift: [\d,]+ chunks/.test(await statusBarText(wb!)) ? true : undefined), 120_000, 'the status bar to show the index is ready');
  await frame.locator('.status[data-state="ready"]').waitFor({ timeout: 30_000 });
  await wb.screenshot('02-index-ready');

  // 2. Ask by keyboard: Ask Sift focuses the input; Enter submits.
  await wb.runCommand('Sift: Ask Sift');
  await waitFor(async () => ((await frame.evaluate(() => document.activeElement?.id)) === 'question' ? true : undefined), 30_000, 'the question input to have focus');
  await page.keyboard.type('where do we retry failed uploads?');
  await page.keyboard.press('Enter');
  const firstTurn = frame.locator('section.turn').nth(0);
  await firstTurn.locator('.answer-body', { hasText: 'retryFailedUploads' }).waitFor({ timeout: 120_000 });
  await waitFor(async () => ((await firstTurn.getAttribute('class'))?.includes('done') ? true : undefined), 60_000, 'the first answer to finish');
  const sources = firstTurn.locator('li.source');
  assert.ok((await sources.count()) >= 2, 'sources listed under the answer');
  const firstSource = (await sources.nth(0).locator('.source-link').innerText()).trim();
  assert.match(firstSource, /^\[1\] \S+:\d+-\d+$/);
  assert.ok((await firstTurn.locator('.badge').count()) > 0, 'provenance badges');
  assert.ok((await firstTurn.locator('.rank').first().innerText()).includes('→'), 'rank before → after');
  assert.equal(await firstTurn.locator('pre code.hljs').count() > 0, true, 'code highlighted');
  assert.equal(await firstTurn.locator('button.cite').count() >= 2, true, 'citations are links');
  await wb.screenshot('03-answer');

  // 3. Click a source: the editor opens that file at that line.
  const [, file, start] = /^\[1\] (\S+):(\d+)-\d+$/.exec(firstSource)!;
  await sources.nth(0).locator('.source-link').click();
  const fileName = file!.split('/').pop()!;
  await page.locator('.tab.active', { hasText: fileName }).waitFor({ timeout: 30_000 });
  await waitFor(async () => {
    const text = (await page.locator('.statusbar-item', { hasText: /Ln \d+, Col \d+/ }).allInnerTexts()).join(' ');
    return new RegExp(`Ln ${start},`).test(text) ? true : undefined;
  }, 30_000, `the cursor at line ${start}`);
  await wb.screenshot('04-source-opened');

  // 4. Toggle reranking off and ask again: the new turn is not reranked (no arrows).
  frame = await chatFrame(wb);
  await frame.locator('#rerank-toggle').uncheck();
  await frame.locator('#question').fill('how many attempts per file are allowed for uploads');
  await frame.locator('#ask').click();
  const second = frame.locator('section.turn').nth(1);
  await waitFor(async () => ((await second.getAttribute('class'))?.includes('done') ? true : undefined), 120_000, 'the second answer');
  assert.match(await second.locator('.q-meta').innerText(), /not reranked/);
  assert.equal(await second.locator('.rank .move').count(), 0, 'no movement arrows without reranking');
  await wb.screenshot('05-rerank-off');

  // 5. Compare: two answers and two rankings side by side.
  await frame.locator('#rerank-toggle').check();
  await frame.locator('#question').fill('how many attempts per file are allowed for uploads');
  await frame.locator('#compare').click();
  const third = frame.locator('section.turn').nth(2);
  await waitFor(async () => ((await third.getAttribute('class'))?.includes('done') ? true : undefined), 180_000, 'the comparison');
  assert.equal(await third.locator('.columns.answers > .answer').count(), 2, 'two answer columns');
  assert.equal(await third.locator('.columns.rankings > .col').count(), 2, 'two ranking columns');
  assert.deepEqual(await third.locator('.columns.answers .variant').allInnerTexts(), ['Without reranking', 'With reranking']);
  assert.ok((await third.locator('.columns.rankings .move').count()) > 0, 'movements shown');
  await wb.screenshot('06-compare');

  // 6. Reload the window: the history is still there.
  await wb.runCommand('Developer: Reload Window');
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  await wb.runCommand('Sift: Ask Sift');
  frame = await chatFrame(wb);
  await waitFor(async () => ((await frame.locator('section.turn').count()) === 3 ? true : undefined), 60_000, 'three turns after reload');
  assert.match(await frame.locator('section.turn').nth(0).locator('.answer-body').innerText(), /retryFailedUploads/);
  await wb.screenshot('07-after-reload');

  // The LLM saw numbered sources, and nothing from the secret file.
  const prompt = llm.requests[0]!.body.messages.map((m) => m.content).join('\n');
  assert.match(prompt, /\[1\] \S+:\d+-\d+/);
  assert.ok(!prompt.includes('hunter2') && !prompt.includes('sk-live-should-never-leave-this-file'));

  assert.deepEqual(wb.pageDialogs(), [], 'no native dialogs');
  // Reloading makes the workbench itself log "[lifecycle] Long running operations during shutdown"
  // (its chat and remote services); those are not Sift's.
  assert.deepEqual(wb.consoleErrors().filter((e) => !/\[lifecycle\] Long running operations during shutdown/.test(e.text)), [], 'no console errors');
  const siftLog = wb.extensionLog('Sift');
  assert.match(siftLog, /index ready/);
  assert.match(siftLog, /embed [\d.]+ ms, dense [\d.]+ ms, lexical [\d.]+ ms/);
});
