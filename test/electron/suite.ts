/**
 * Desktop VS Code suite, run by @vscode/test-electron (scripts/test-electron.mjs) on machines that
 * can download VS Code. Not part of `npm test`: this machine has no network for the download;
 * the end-to-end suite in test/e2e drives the same extension in code-server instead.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

export async function run(): Promise<void> {
  const ext = vscode.extensions.getExtension('sift-dev.sift-codebase-qa');
  assert.ok(ext, 'extension is installed');
  await ext.activate();
  const commands = await vscode.commands.getCommands(true);
  for (const id of ['sift.ask', 'sift.reindex', 'sift.compare', 'sift.toggleRerank', 'sift.setApiKey', 'sift.showLogs']) {
    assert.ok(commands.includes(id), `${id} is registered`);
  }
  await vscode.commands.executeCommand('sift.reindex');
  await vscode.commands.executeCommand('sift.chat.focus');
}
