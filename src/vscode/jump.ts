import * as vscode from 'vscode';
import { resolveInsideRoot } from '../core/util/containment';

const highlight = vscode.window.createTextEditorDecorationType({
  backgroundColor: new vscode.ThemeColor('editor.findMatchHighlightBackground'),
  isWholeLine: true,
  overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.findMatchForeground'),
  overviewRulerLane: vscode.OverviewRulerLane.Center,
});

/**
 * Resolves a source reference from the webview to a file inside the workspace folder, or explains
 * why not. Refuses absolute paths, `..` segments and symlinks that leave the folder: the webview
 * renders LLM output, so its requests are untrusted input.
 */
export async function resolveInside(folder: vscode.WorkspaceFolder, relPath: string): Promise<{ uri: vscode.Uri } | { error: string }> {
  const resolved = await resolveInsideRoot(folder.uri.fsPath, relPath, folder.name);
  return 'error' in resolved ? resolved : { uri: vscode.Uri.file(resolved.path) };
}

/** Opens the file with the range selected, revealed in the centre and highlighted. */
export async function openAtRange(uri: vscode.Uri, startLine: number, endLine: number): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(uri);
  const last = Math.max(0, doc.lineCount - 1);
  const start = Math.min(Math.max(0, startLine - 1), last);
  const end = Math.min(Math.max(start, endLine - 1), last);
  const range = new vscode.Range(start, 0, end, doc.lineAt(end).text.length);
  const editor = await vscode.window.showTextDocument(doc, { selection: new vscode.Range(start, 0, start, 0), preview: true });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  editor.setDecorations(highlight, [range]);
  return editor;
}

export const jumpHighlight = highlight;
