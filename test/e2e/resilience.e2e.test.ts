/**
 * Hostile and broken conditions in the real workbench: an LLM endpoint that fails (inline error,
 * retry works, panel stays usable), LLM output carrying HTML/script/javascript:/command: payloads
 * (nothing executes or gets injected), and an untrusted workspace (nothing is indexed; the panel says why).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { TINY_EMBEDDER, TINY_RERANKER, tempDir, writeTree } from '../helpers';
import { OpenAiTestServer } from '../support/openaiServer';
import { REPO } from '../support/repo';
import { buildVsix, startWorkbench, waitFor, type Workbench } from './harness';

const llm = new OpenAiTestServer();
let ws: { dir: string; cleanup: () => void } | undefined;
const workbenches: Workbench[] = [];

const PAYLOAD = [
  'Here is the answer [1].',
  '<script>window.__siftPwned = 1; alert("script")</script>',
  '<img src=x onerror="window.__siftPwned = 2; alert(\'img\')">',
  '[run me](javascript:alert(3)) and [terminal](command:workbench.action.terminal.new) and <a href="javascript:alert(4)">raw</a>',
  '&lt;b&gt;entities&lt;/b&gt; <iframe src="https://example.com"></iframe> <svg onload="alert(5)"></svg>',
].join('\n\n');

before(async () => {
  ws = tempDir('sift-e2e-res-');
  writeTree(ws.dir, { ...REPO, 'src/evil.ts': '// <script>alert("from a file")</script>\nexport const evil = "<img src=x onerror=alert(6)>";\n' });
  await llm.start();
});

after(async () => {
  for (const wb of workbenches) await wb.stop();
  await llm.stop();
  ws?.cleanup();
});

const settings = () => ({
  'sift.llm.baseUrl': llm.baseURL,
  'sift.llm.model': 'test-model',
  'sift.llm.timeoutSeconds': 5,
  'sift.models.embedding': TINY_EMBEDDER,
  'sift.models.reranker': TINY_RERANKER,
  'sift.models.allowDownloads': false,
});

test('a failing LLM gives an inline error with Retry; hostile output never executes', { timeout: 600_000 }, async () => {
  const wb = await startWorkbench({ vsix: buildVsix(), workspace: ws!.dir, name: 'resilience', settings: settings() });
  workbenches.push(wb);
  await wb.runCommand('Sift: Ask Sift');
  const frame = await wb.findWebviewFrame('#question', { timeoutMs: 60_000 });
  await frame.locator('.status[data-state="ready"]').waitFor({ timeout: 120_000 });

  // 1. The endpoint fails with HTTP 500 (no retries left): inline error that says what to check.
  llm.script = [{ kind: 'status', status: 500, message: 'boom' }, { kind: 'status', status: 500 }, { kind: 'status', status: 500 }, { kind: 'answer', text: 'Recovered answer [1].' }];
  await frame.locator('#question').fill('where do we retry failed uploads?');
  await frame.locator('#question').press('Enter');
  const first = frame.locator('section.turn').nth(0);
  const error = first.locator('.notice.error');
  await error.waitFor({ timeout: 120_000 });
  assert.match(await error.innerText(), /HTTP 500.*(Retry|server)/s);
  assert.ok((await first.locator('li.source').count()) > 0, 'sources are kept when the LLM fails');
  await wb.screenshot('01-llm-error');

  // 2. Retry works and the panel stays usable.
  await error.locator('button', { hasText: 'Retry' }).click();
  const second = frame.locator('section.turn').nth(1);
  await second.locator('.answer-body', { hasText: 'Recovered answer' }).waitFor({ timeout: 120_000 });
  await wb.screenshot('02-retry-ok');

  // 3. Hostile output: rendered as text, nothing injected, nothing runs.
  llm.script = [{ kind: 'answer', text: PAYLOAD, pieces: 9 }];
  const scriptsBefore = await frame.locator('script').count();
  await frame.locator('#question').fill('evil script img');
  await frame.locator('#ask').click();
  const third = frame.locator('section.turn').nth(2);
  await waitFor(async () => ((await third.getAttribute('class'))?.includes('done') ? true : undefined), 120_000, 'the hostile answer to finish');
  const body = third.locator('.answer-body');
  assert.match(await body.innerText(), /Here is the answer/);
  assert.equal(await frame.locator('.log script').count(), 0, 'no injected script element');
  assert.equal(await frame.locator('script').count(), scriptsBefore, 'no script element added anywhere');
  assert.equal(await frame.locator('.log img, .log iframe, .log svg, .log object, .log embed').count(), 0, 'no injected media elements');
  // Links in answers open nothing: no anchor at all, the target shown in full as text.
  assert.equal(await frame.locator('.log .answer-body a').count(), 0, 'no anchors in answers');
  assert.match(await body.innerText(), /command:workbench\.action\.terminal\.new/);
  assert.ok(!(await frame.locator('.log [onerror], .log [onload], .log [onclick]').count()), 'no event-handler attributes');
  assert.equal(await frame.evaluate(() => (window as unknown as { __siftPwned?: number }).__siftPwned ?? 0), 0, 'no payload ran');
  // The file with markup in it is shown as text in its snippet.
  const evilSnippet = frame.locator('li.source', { hasText: 'src/evil.ts' });
  if (await evilSnippet.count()) assert.match(await evilSnippet.first().innerText(), /<script>alert\("from a file"\)<\/script>/);
  await wb.screenshot('03-hostile-output');
  assert.deepEqual(wb.pageDialogs(), [], 'no dialogs opened');
  assert.deepEqual(await wb.visibleDialogs(), []);
  assert.deepEqual(wb.consoleErrors(), [], 'no console errors');
});

test('an untrusted workspace is not indexed, and the panel says why', { timeout: 300_000 }, async () => {
  const wb = await startWorkbench({ vsix: buildVsix(), workspace: ws!.dir, name: 'untrusted', settings: settings(), trust: 'untrusted' });
  workbenches.push(wb);
  await wb.runCommand('Sift: Ask Sift');
  const frame = await wb.findWebviewFrame('#question', { timeoutMs: 60_000 });
  const status = frame.locator('.status[data-state="untrusted"]');
  await status.waitFor({ timeout: 60_000 });
  assert.match(await status.innerText(), /not trusted/i);
  await frame.locator('#question').fill('where do we retry failed uploads?');
  await frame.locator('#question').press('Enter');
  const turn = frame.locator('section.turn').nth(0);
  await turn.locator('.notice.error').waitFor({ timeout: 60_000 });
  assert.match(await turn.locator('.notice.error').innerText(), /not trusted/i);
  await wb.screenshot('01-untrusted');
  // Nothing was written: no index directory under the extension's storage.
  const storage = path.join(wb.userDataDir, 'User', 'workspaceStorage');
  const indexes = existsSync(storage) ? readdirSync(storage, { recursive: true }).filter((p) => String(p).includes('indexes')) : [];
  assert.deepEqual(indexes, [], 'no index written in an untrusted workspace');
});
