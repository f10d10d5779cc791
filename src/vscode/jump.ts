import * as vscode from 'vscode';
import { resolveInsideRoot } from '../core/util/containment';
import type { FolderRef, Log } from './ports';

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
export async function resolveInside(folder: Pick<FolderRef, 'name' | 'fsPath'>, relPath: string): Promise<{ uri: vscode.Uri } | { error: string }> {
  const resolved = await resolveInsideRoot(folder.fsPath, relPath, folder.name);
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

/** Opens a source of an answer; true when it was opened (then it counts as a judgement for ranking feedback). */
export async function openSource(folder: FolderRef | undefined, folderName: string | undefined, relPath: string, startLine: number, endLine: number, log: Log): Promise<boolean> {
  if (!folder) {
    void vscode.window.showWarningMessage(`Sift: no workspace folder named "${folderName ?? ''}" is open.`);
    return false;
  }
  const resolved = await resolveInside(folder, relPath);
  if ('error' in resolved) {
    log.warn(resolved.error);
    void vscode.window.showWarningMessage(`Sift: ${resolved.error}`);
    return false;
  }
  await openAtRange(resolved.uri, startLine, endLine);
  return true;
}

export const jumpHighlight = highlight;
