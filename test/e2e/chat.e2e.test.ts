/**
 * The chat as a user lives it, in the real workbench (code-server + Chromium): open the Sift view,
 * wait for the index, ask (keyboard only), watch the answer stream with sources, open a source,
 * toggle reranking, compare side by side, reload the window and find the history again.
 * Real parts: the packaged VSIX, the tiny models (local folders), the local OpenAI-compatible server.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { after, before, test } from 'node:test';
import { TINY_EMBEDDER, TINY_RERANKER, tempDir, writeTree } from '../helpers';
import { OpenAiTestServer } from '../support/openaiServer';
import { REPO } from '../support/repo';
import { DEFAULT_SETTINGS, buildVsix, startWorkbench, waitFor, type Workbench } from './harness';

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

const userSettings = (): Record<string, unknown> => ({
  'sift.llm.baseUrl': llm.baseURL,
  'sift.llm.model': 'test-model',
  'sift.models.embedding': TINY_EMBEDDER,
  'sift.models.reranker': TINY_RERANKER,
  'sift.models.allowDownloads': false,
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
    settings: userSettings(),
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

  // 2b. A follow-up: its LLM request carries the earlier turn.
  await frame.locator('#question').fill('and how long does it wait between attempts?');
  await page.keyboard.press('Enter');
  const followUp = frame.locator('section.turn').nth(1);
  await waitFor(async () => ((await followUp.getAttribute('class'))?.includes('done') ? true : undefined), 120_000, 'the follow-up');
  const followUpRequest = llm.requests.at(-1)!.body.messages.map((m) => m.content).join('\n');
  assert.ok(followUpRequest.includes('where do we retry failed uploads?'), 'the follow-up\'s LLM request carries the first question');
  assert.ok(followUpRequest.includes('and how long does it wait between attempts?'));

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
  const second = frame.locator('section.turn').nth(2);
  await waitFor(async () => ((await second.getAttribute('class'))?.includes('done') ? true : undefined), 120_000, 'the second answer');
  assert.match(await second.locator('.q-meta').innerText(), /not reranked/);
  assert.equal(await second.locator('.rank .move').count(), 0, 'no movement arrows without reranking');
  await wb.screenshot('05-rerank-off');

  // 5. Compare: two answers and two rankings side by side.
  await frame.locator('#rerank-toggle').check();
  await frame.locator('#question').fill('how many attempts per file are allowed for uploads');
  await frame.locator('#compare').click();
  const third = frame.locator('section.turn').nth(3);
  await waitFor(async () => ((await third.getAttribute('class'))?.includes('done') ? true : undefined), 180_000, 'the comparison');
  assert.equal(await third.locator('.columns.answers > .answer').count(), 2, 'two answer columns');
  assert.equal(await third.locator('.columns.rankings > .col').count(), 2, 'two ranking columns');
  assert.deepEqual(await third.locator('.columns.answers .variant').allInnerTexts(), ['Without reranking', 'With reranking']);
  assert.ok((await third.locator('.columns.rankings .move').count()) > 0, 'movements shown');
  await wb.screenshot('06-compare');

  // 6. New conversation: the panel clears, and the next question's LLM request has no earlier turn.
  await frame.locator('#new-conversation').click();
  await waitFor(async () => ((await frame.locator('section.turn').count()) === 0 ? true : undefined), 30_000, 'the log to clear');
  assert.equal(await frame.locator('.empty').count(), 1, 'the empty state is shown');

  // 7. @ completion, keyboard only: Escape closes it; `@src/n` offers the folder first; Enter inserts it.
  const input = frame.locator('#question');
  await input.focus();
  await page.keyboard.type('@');
  await frame.locator('#mention-list:not([hidden]) li[role="option"]').first().waitFor({ timeout: 30_000 });
  assert.equal(await input.getAttribute('aria-expanded'), 'true');
  await page.keyboard.press('Escape');
  await frame.locator('#mention-list[hidden]').waitFor({ state: 'attached', timeout: 10_000 });
  assert.equal(await input.inputValue(), '@');
  assert.equal(await input.getAttribute('aria-expanded'), 'false');
  await page.keyboard.type('upl');
  const option = (i: number) => frame.locator('#mention-list:not([hidden]) li[role="option"]').nth(i);
  await waitFor(async () => ((await option(0).getAttribute('data-kind').catch(() => null)) === 'file' && (await option(0).innerText()).includes('src/net/uploader.ts') ? true : undefined), 30_000, 'the fixture file offered for @upl');
  assert.equal(await input.getAttribute('aria-activedescendant'), 'mention-opt-0');
  await page.keyboard.press('ArrowDown');
  assert.equal(await input.getAttribute('aria-activedescendant'), 'mention-opt-1');
  assert.equal(await option(1).getAttribute('aria-selected'), 'true');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Tab');
  assert.equal(await input.inputValue(), '@src/net/uploader.ts ');
  await input.fill('');
  await page.keyboard.type('@src/n');
  await waitFor(async () => ((await option(0).getAttribute('data-kind').catch(() => null)) === 'folder' && (await option(0).innerText()).includes('src/net/') ? true : undefined), 30_000, 'the folder offered for @src/n');
  await page.keyboard.press('Enter');
  assert.equal(await input.inputValue(), '@src/net/ ');
  await page.keyboard.type('how many attempts are allowed?');
  await wb.screenshot('07-mention');
  await page.keyboard.press('Enter');
  const scoped = frame.locator('section.turn').nth(0);
  await waitFor(async () => ((await scoped.getAttribute('class'))?.includes('done') ? true : undefined), 120_000, 'the scoped answer');
  const scopedSources = await scoped.locator('li.source .source-link').allInnerTexts();
  assert.ok(scopedSources.length > 0 && scopedSources.every((t) => /^\[\d+\] src\/net\//.test(t.trim())), `sources inside the mentioned folder: ${scopedSources.join(', ')}`);
  const scopedRequest = llm.requests.at(-1)!.body.messages.map((m) => m.content).join('\n');
  assert.ok(!scopedRequest.includes('where do we retry failed uploads?'), 'a new conversation does not carry the earlier turns');

  // 8. Reload the window: the list of conversations is still there; reopening shows the turns.
  // code-server sometimes starts the reloaded window's extension host without the user settings
  // (seen twice in CI: the Sift log then names the default embedding model and the panel says "no
  // LLM", and no configuration change follows). That is the workbench, not Sift: reload again, at
  // most twice, and say so; the panel naming the configured model is the condition to go on.
  const llmShown: string[] = [];
  for (let attempt = 1; ; attempt++) {
    await wb.runCommand('Developer: Reload Window');
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    await wb.runCommand('Sift: Ask Sift');
    frame = await chatFrame(wb);
    await waitFor(async () => ((await frame.locator('section.turn').count()) === 1 ? true : undefined), 60_000, 'the current conversation after reload');
    const shown = (await frame.locator('.status .llm').innerText({ timeout: 60_000 })).trim();
    llmShown.push(shown);
    if (shown.includes('test-model')) break;
    // Was the file emptied (as microsoft/vscode#256276 reports for the web workbench), or only not read?
    const file = path.join(wb.userDataDir, 'User', 'settings.json');
    const onDisk = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const kept = onDisk.includes('sift.llm.baseUrl');
    assert.ok(attempt < 3, `after ${attempt} reloads the panel still names no configured model: ${llmShown.join(' | ')}; settings.json ${kept ? 'still holds' : 'lost'} the settings`);
    console.log(`# reload ${attempt}: the reloaded window's extension host did not get the user settings (panel: "${shown}"; settings.json ${kept ? 'still holds them' : `lost them: ${JSON.stringify(onDisk.slice(0, 200))}`}); ${kept ? '' : 'writing them again, '}reloading again`);
    if (!kept) {
      let current: Record<string, unknown> = {};
      try {
        current = JSON.parse(onDisk || '{}') as Record<string, unknown>;
      } catch {
        current = {};
      }
      writeFileSync(file, JSON.stringify({ ...DEFAULT_SETTINGS, ...current, ...userSettings() }, null, 2));
    }
  }
  await frame.locator('#conversations-toggle').click();
  const rows = frame.locator('#conversation-list li.conversation');
  await waitFor(async () => ((await rows.count()) === 2 ? true : undefined), 30_000, 'two past conversations');
  assert.match(await rows.nth(0).innerText(), /@src\/net\/ how many attempts are allowed\?[\s\S]*1 turn/);
  assert.match(await rows.nth(1).innerText(), /where do we retry failed uploads\?[\s\S]*4 turns/);
  await wb.screenshot('08-conversations');
  await rows.nth(1).locator('.conversation-open').focus();
  await page.keyboard.press('Enter');
  await waitFor(async () => ((await frame.locator('section.turn').count()) === 4 ? true : undefined), 30_000, 'the reopened conversation\'s four turns');
  assert.match(await frame.locator('section.turn').nth(0).locator('.answer-body').innerText(), /retryFailedUploads/);
  // A follow-up continues it.
  await frame.locator('#question').fill('and where is the backoff defined?');
  await page.keyboard.press('Enter');
  await waitFor(async () => ((await frame.locator('section.turn').nth(4).getAttribute('class'))?.includes('done') ? true : undefined), 120_000, 'the follow-up in the reopened conversation');
  // Earlier turns reach the LLM newest first within their token budget (the compare turn's two answers
  // may push the oldest out), and only this conversation's turns.
  // The answer's request is the one whose last message is the follow-up (a rewrite request comes before it).
  const answerRequests = llm.requests.filter((r) => r.body.messages?.at(-1)?.content.endsWith('Question: and where is the backoff defined?'));
  const shape = (r: (typeof llm.requests)[number]) => r.body.messages.map((m) => `${m.role}: ${m.content.slice(0, 120).replace(/\s+/g, ' ')}`).join('\n  ');
  const reopenedClasses = await frame.locator('section.turn').evaluateAll((els) => els.map((e) => e.className));
  const followUpShown = (await frame.locator('section.turn').nth(4).innerText()).slice(0, 400);
  const diagnosis = `turns shown: ${reopenedClasses.join(', ')}\nthe follow-up as shown: ${followUpShown}\nlast requests:\n${llm.requests.slice(-3).map((r) => `- ${r.url}\n  ${shape(r)}`).join('\n')}`;
  assert.equal(answerRequests.length, 1, `one answer request for the follow-up\n${diagnosis}`);
  const reopenedRequest = answerRequests[0]!.body.messages.map((m) => m.content).join('\n');
  assert.ok(['how many attempts per file are allowed for uploads', 'and how long does it wait between attempts?', 'where do we retry failed uploads?'].some((q) => reopenedRequest.includes(q)), `the reopened conversation's turns reach the LLM\n${diagnosis}`);
  assert.ok(!reopenedRequest.includes('how many attempts are allowed?'), 'not the other conversation\'s turn');
  // Delete the other conversation, with confirmation.
  await frame.locator('#conversations-toggle').click();
  await rows.nth(1).locator('.conversation-delete').click();
  await frame.locator('#conversation-list li.confirming .confirm-delete').click();
  await waitFor(async () => ((await rows.count()) === 1 ? true : undefined), 30_000, 'one conversation left');
  await wb.screenshot('09-after-delete');

  // 9. Ask About Selection: the selected lines are pinned (a removable chip) and are source [1] with those exact lines.
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+KeyG');
  await page.keyboard.type('5');
  await page.keyboard.press('Enter');
  // Home: the caret on line 5's first non-blank character; the selection ends inside line 8: lines 5-8, whole.
  await page.keyboard.press('Home');
  for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+ArrowDown');
  await wb.runCommand('Sift: Ask About Selection');
  frame = await chatFrame(wb);
  const chip = frame.locator('.pins .chip[data-pin="src/net/uploader.ts:5-8"]');
  await chip.waitFor({ timeout: 30_000 });
  await waitFor(async () => ((await frame.evaluate(() => document.activeElement?.id)) === 'question' ? true : undefined), 30_000, 'the question input to have focus');
  await page.keyboard.press('Enter');
  const pinnedTurn = frame.locator('section.turn').nth(5);
  await waitFor(async () => ((await pinnedTurn.getAttribute('class'))?.includes('done') ? true : undefined), 120_000, 'the answer about the selection');
  assert.equal((await pinnedTurn.locator('li.source .source-link').first().innerText()).trim(), '[1] src/net/uploader.ts:5-8');
  assert.ok(llm.requests.at(-1)!.body.messages.some((m) => m.content.includes('[1] src/net/uploader.ts:5-8')), 'the pinned lines are in the LLM context');
  await wb.screenshot('10-pinned-selection');
  await chip.locator('.chip-remove').click();
  await frame.locator('.pins .chip').waitFor({ state: 'detached', timeout: 10_000 });

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
