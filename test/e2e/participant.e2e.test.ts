/**
 * The `@sift` chat participant answering in VS Code's own chat view, in the real workbench
 * (code-server 1.100). VS Code 1.100 has no chat model of its own here (no Copilot, no network):
 * a test-only extension (test/e2e/chatmodel-ext, installed beside Sift, never shipped) provides a
 * scripted model through the proposed `chatProvider` API — the workbench runs with
 * `--enable-proposed-api` for that extension only — and asks "@sift …" in the chat view through
 * `workbench.action.chat.open`, as typing it would. Sift retrieves, reranks, sends the numbered
 * sources to the model the chat picked (`request.model`), and streams its answer with references.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { TINY_EMBEDDER, TINY_RERANKER, tempDir, writeTree } from '../helpers';
import { REPO } from '../support/repo';
import { REPO_ROOT, buildVsix, startWorkbench, waitFor, type Workbench } from './harness';

const DRIVER = 'sift-test.sift-e2e-chatmodel';
let wb: Workbench | undefined;
let ws: { dir: string; cleanup: () => void } | undefined;
let tmp: { dir: string; cleanup: () => void } | undefined;

before(() => {
  ws = tempDir('sift-e2e-participant-ws-');
  writeTree(ws.dir, REPO);
  tmp = tempDir('sift-e2e-participant-');
});

after(async () => {
  await wb?.stop();
  ws?.cleanup();
  tmp?.cleanup();
});

/** Packs test/e2e/chatmodel-ext into a VSIX (vsce, no dependencies). */
function driverVsix(): string {
  const dir = path.join(tmp!.dir, 'ext');
  cpSync(path.join(REPO_ROOT, 'test', 'e2e', 'chatmodel-ext'), dir, { recursive: true });
  const out = path.join(tmp!.dir, 'sift-e2e-chatmodel.vsix');
  const r = spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--skip-license', '-o', out], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0 || !existsSync(out)) throw new Error(`vsce package (test driver) failed: ${r.stdout}\n${r.stderr}`);
  return out;
}

test('@sift answers in the chat view with the model the chat provides, citing its sources', { timeout: 600_000 }, async (t) => {
  const requests = path.join(tmp!.dir, 'model-requests.jsonl');
  wb = await startWorkbench({
    vsix: buildVsix(),
    extraVsix: [driverVsix()],
    serverArgs: ['--enable-proposed-api', DRIVER],
    workspace: ws!.dir,
    name: 'participant',
    env: { SIFT_E2E_CHATMODEL_OUT: requests },
    settings: { 'sift.models.embedding': TINY_EMBEDDER, 'sift.models.reranker': TINY_RERANKER, 'sift.models.allowDownloads': false },
  });
  const { page } = wb;
  await wb.runCommand('Sift Test: Ask @sift in Chat');
  const response = page.locator('.interactive-item-container.interactive-response').last();
  try {
    await response.locator('.rendered-markdown', { hasText: 'retryFailedUploads' }).first().waitFor({ timeout: 240_000 });
  } finally {
    await wb.screenshot('chat-view');
    t.diagnostic(`chat view text: ${JSON.stringify((await page.locator('.interactive-session').allInnerTexts().catch(() => [])).join('\n').slice(0, 2000))}`);
  }
  // Sift sent its numbered sources to the chat's model, and the answer cites the uploader.
  const sent = readFileSync(requests, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { extensionId: string; prompt: string });
  assert.equal(sent.at(-1)!.extensionId, 'sift-dev.sift-codebase-qa');
  assert.match(sent.at(-1)!.prompt, /\[\d+\] src\/net\/uploader\.ts:\d+-\d+/);
  // The references ("Used N references") and a list of [n] with an anchor to each source's range.
  // Follow-ups are offered once the response is complete.
  await page.locator('.interactive-session', { hasText: 'Compare the answer with and without reranking' }).first().waitFor({ timeout: 60_000 });
  // The chat view renders a finished response progressively: wait until every source's anchor is shown.
  const references = Number(/Used (\d+) references/.exec(await response.innerText())?.[1]);
  assert.ok(references >= 2, 'references given');
  const anchors = response.locator('.chat-inline-anchor-widget');
  await waitFor(async () => ((await anchors.count()) === references ? true : undefined), 60_000, `${references} anchors, one per reference`);
  await wb.screenshot('chat-answered');
  assert.equal(await response.locator('.rendered-markdown li').count(), await anchors.count(), 'every [n] list item carries its anchor');
  const shown = await response.innerText();
  t.diagnostic(`response: ${JSON.stringify(shown)}; anchors: ${JSON.stringify(await anchors.allInnerTexts())}`);
  assert.match(shown, /Used \d+ references/);
  assert.match(shown, /\[1\]\s*uploader\.ts#\d+-\d+/);
  assert.doesNotMatch(shown, /\]\(https?:/, 'no markdown link syntax leaks around the anchors');
  // An anchor opens its file.
  await response.locator('.chat-inline-anchor-widget', { hasText: 'uploader.ts' }).first().click();
  await page.locator('.tab.active', { hasText: 'uploader.ts' }).waitFor({ timeout: 30_000 });
  assert.doesNotMatch(wb.extensionHostLog(), /Activating extension .sift-dev\.sift-codebase-qa. failed/i);
});
