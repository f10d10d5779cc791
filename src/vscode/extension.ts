import * as vscode from 'vscode';

/**
 * Activation is thin: nothing loads until a Sift command or view is used. The chat panel,
 * indexing service and settings arrive with the extension issue; this entry exists so the
 * manifest, bundle and packaging are real from the start.
 */
export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Sift', { log: true });
  context.subscriptions.push(
    log,
    vscode.commands.registerCommand('sift.showLogs', () => log.show()),
  );
}

export function deactivate(): void {
  // Everything is owned by context.subscriptions.
}
