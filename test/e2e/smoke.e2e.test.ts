/**
 * Smoke test in the real workbench: the packaged VSIX installs, "Sift: Show Logs" is in the
 * command palette, running it activates the extension and shows its "Sift" Output channel.
 * Run with `npm run test:e2e` (sets up code-server + Chromium, builds the VSIX once).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { tempDir, writeTree } from '../helpers';
import { buildVsix, startWorkbench, waitFor, type Workbench } from './harness';

let wb: Workbench | undefined;
let ws: { dir: string; cleanup: () => void } | undefined;

before(() => {
  ws = tempDir('sift-e2e-ws-');
  writeTree(ws.dir, {
    'src/upload.ts': 'export async function upload(file: string, retries = 3): Promise<void> {\n  for (let i = 0; i < retries; i++) {\n    if (await tryOnce(file)) return;\n  }\n}\nasync function tryOnce(_f: string): Promise<boolean> { return true; }\n',
    'README.md': '# Fixture\n\nA tiny workspace for the smoke test.\n',
  });
});

after(async () => {
  await wb?.stop();
  ws?.cleanup();
});

test('Sift: Show Logs activates the extension and shows the "Sift" Output channel', { timeout: 240_000 }, async () => {
  const vsix = buildVsix();
  wb = await startWorkbench({ vsix, workspace: ws!.dir, name: 'smoke' });
  const { page } = wb;

  await wb.runCommand('Sift: Show Logs');

  // The Output view is the active panel and its channel picker shows "Sift".
  const panel = page.locator('.part.panel');
  await panel.locator('.composite-bar .action-item.checked', { hasText: /^Output$/ }).waitFor({ timeout: 30_000 });
  const channel = panel.locator('.title-actions select.monaco-select-box');
  await waitFor(async () => ((await channel.inputValue().catch(() => '')) === 'Sift' ? true : undefined), 30_000, 'the Output channel picker to show "Sift"');
  await wb.screenshot('show-logs');

  const hostLog = await wb.waitForLog(() => wb!.extensionHostLog(), /_doActivateExtension sift-dev\.sift-codebase-qa\b/);
  assert.doesNotMatch(hostLog, /Activating extension .sift-dev\.sift-codebase-qa. failed/i);
  assert.deepEqual(wb.consoleErrors(), [], 'browser console errors');
  assert.deepEqual(wb.pageDialogs(), [], 'native page dialogs');
  assert.deepEqual(await wb.visibleDialogs(), [], 'workbench modal dialogs');
});
