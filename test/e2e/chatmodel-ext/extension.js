// Test-only extension (test/e2e/participant.e2e.test.ts): registers a scripted language model with
// the proposed `chatProvider` API (the workbench must run with --enable-proposed-api for this
// extension) so VS Code's chat has a model, and a default chat participant (proposed
// `defaultChatParticipant`: without one VS Code 1.100 does not show its chat view when Copilot is
// absent), then asks `@sift` in the chat view as a user would.
// Every request the model receives is appended as JSON to $SIFT_E2E_CHATMODEL_OUT. Never shipped.
/* global require, exports */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS extension, loaded by VS Code without a build */
const vscode = require('vscode');
const fs = require('node:fs');

/** Text of a chat message's content (a string, or parts with `value`). */
function text(content) {
  if (typeof content === 'string') return content;
  return (content ?? []).map((p) => (p && typeof p.value === 'string' ? p.value : '')).join('');
}

exports.activate = (context) => {
  const out = process.env.SIFT_E2E_CHATMODEL_OUT;
  context.subscriptions.push(
    vscode.lm.registerChatModelProvider('scripted', {
      async provideLanguageModelResponse(messages, _options, extensionId, progress) {
        const prompt = messages.map((m) => text(m.content)).join('\n');
        if (out) fs.appendFileSync(out, JSON.stringify({ extensionId, prompt }) + '\n');
        // Cite the number the prompt gave the uploader, as a good model would.
        const n = /\[(\d+)\] src\/net\/uploader\.ts:/.exec(prompt)?.[1] ?? '?';
        const answer = `Failed uploads are retried in \`Uploader.retryFailedUploads\` [${n}], waiting longer after each attempt.`;
        for (const piece of answer.match(/[\s\S]{1,16}/g)) progress.report({ index: 0, part: new vscode.LanguageModelTextPart(piece) });
      },
      async provideTokenCount(input) {
        return Math.ceil((typeof input === 'string' ? input : text(input.content)).length / 4);
      },
    }, {
      vendor: 'sift-test',
      name: 'Scripted Model',
      family: 'scripted',
      version: '1',
      maxInputTokens: 100000,
      maxOutputTokens: 4000,
      isDefault: true,
      isUserSelectable: true,
    }),
    // The default participant only exists so that the chat view is shown; it is never asked here.
    vscode.chat.createChatParticipant('siftTest.default', async (_request, _context, stream) => {
      stream.markdown('Ask @sift.');
    }),
    vscode.commands.registerCommand('siftTest.askParticipant', async () => {
      await vscode.commands.executeCommand('workbench.action.chat.open', { query: '@sift where do we retry failed uploads?' });
    }),
  );
};
