// Test-only extension (test/e2e/lmtool.e2e.test.ts): lists vscode.lm.tools, invokes Sift's tool
// with vscode.lm.invokeTool as an agent would, and writes the outcome as JSON to
// $SIFT_E2E_LMTOOL_OUT. Never part of Sift's VSIX.
/* global require, exports */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS extension, loaded by VS Code without a build */
const vscode = require('vscode');
const fs = require('node:fs');

exports.activate = (context) => {
  context.subscriptions.push(
    vscode.commands.registerCommand('siftTest.invokeTool', async () => {
      const out = process.env.SIFT_E2E_LMTOOL_OUT;
      const result = { tools: [], tool: undefined, parts: [], error: undefined, again: [] };
      try {
        result.tools = vscode.lm.tools.map((t) => t.name);
        result.tool = vscode.lm.tools.find((t) => t.name === 'sift_searchCode');
        const r = await vscode.lm.invokeTool('sift_searchCode', { input: { query: 'retry failed upload with exponential backoff', limit: 3 }, toolInvocationToken: undefined }, new vscode.CancellationTokenSource().token);
        result.parts = r.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : `[${p.constructor?.name}]`));
      } catch (err) {
        result.error = String(err && err.stack ? err.stack : err);
      }
      try {
        const bad = await vscode.lm.invokeTool('sift_searchCode', { input: { query: '', limit: 10000 }, toolInvocationToken: undefined }, new vscode.CancellationTokenSource().token);
        result.badInput = bad.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : ''));
      } catch (err) {
        result.badInputError = String(err);
      }
      try {
        const again = await vscode.lm.invokeTool('sift_searchCode', { input: { query: 'retryFailedUploads', limit: 1 }, toolInvocationToken: undefined }, new vscode.CancellationTokenSource().token);
        result.again = again.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : ''));
      } catch (err) {
        result.error = String(err && err.stack ? err.stack : err);
      }
      fs.writeFileSync(out, JSON.stringify(result, null, 2));
    }),
  );
};
exports.deactivate = () => undefined;
