import { spawn } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readSettings } from './settings';

/**
 * "Sift: Evaluate Retrieval on This Workspace": mines questions from the folder's git history and
 * measures every pipeline variant on them (`sift eval --from-git-history`), in a child process
 * (the bundled CLI) so the extension host never runs the work. Shows the table when done.
 */
export async function evaluateWorkspace(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, folder: vscode.WorkspaceFolder): Promise<void> {
  const s = readSettings(folder.uri);
  const storage = (context.storageUri ?? context.globalStorageUri).fsPath;
  const resolve = (model: string) => {
    const local = s['models.localFolder'];
    return local && !path.isAbsolute(model) ? path.join(local, model) : model;
  };
  const args = [
    vscode.Uri.joinPath(context.extensionUri, 'dist', 'cli.js').fsPath,
    'eval',
    folder.uri.fsPath,
    '--from-git-history',
    '40',
    '--index-dir',
    path.join(storage, 'eval-index'),
    '--worktree',
    path.join(storage, 'eval-worktree'),
    '--embedding-model',
    resolve(s['models.embedding']),
    '--reranker-model',
    resolve(s['models.reranker']),
    ...(s['models.allowDownloads'] ? [] : ['--offline']),
  ];
  const env = {
    ...process.env,
    // Inside desktop VS Code process.execPath is Electron: run it as plain Node.
    ELECTRON_RUN_AS_NODE: '1',
    SIFT_MODEL_CACHE: vscode.Uri.joinPath(context.globalStorageUri, 'models').fsPath,
    ...(s['models.hubUrl'] ? { SIFT_MODEL_HOST: s['models.hubUrl'] } : {}),
  };
  const output = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Sift: evaluating retrieval on ${folder.name}`, cancellable: true },
    (progress, token) =>
      new Promise<string | undefined>((resolvePromise, reject) => {
        const child = spawn(process.execPath, args, { cwd: folder.uri.fsPath, env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          const last = stderr.split(/[\r\n]/).filter((l) => l.trim()).pop();
          if (last) progress.report({ message: last.replace(/^ ?sift eval: /, '').slice(0, 120) });
        });
        token.onCancellationRequested(() => child.kill());
        child.on('error', reject);
        child.on('close', (code) => {
          if (token.isCancellationRequested) return resolvePromise(undefined);
          log.info(`sift eval finished (exit ${code}).\n${stderr.trim()}`);
          if (code === 0) resolvePromise(stdout);
          else reject(new Error(stderr.trim().split('\n').pop() || `sift eval exited with ${code}`));
        });
      }),
  );
  if (output === undefined) return;
  const doc = await vscode.workspace.openTextDocument({
    language: 'markdown',
    content: `# Sift retrieval evaluation: ${folder.name}\n\nQuestions mined from this repository's git history (commit message → files it changed).\n\n\`\`\`\n${output.trim()}\n\`\`\`\n`,
  });
  await vscode.window.showTextDocument(doc, { preview: false });
}
