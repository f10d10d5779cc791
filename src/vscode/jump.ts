import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

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
  if (path.isAbsolute(relPath) || /^[a-zA-Z]:/.test(relPath) || relPath.includes('\\') || relPath.includes('\0')) {
    return { error: `Refused to open "${relPath}": only paths relative to the workspace can be opened.` };
  }
  if (relPath.split('/').some((seg) => seg === '..')) return { error: `Refused to open "${relPath}": it points outside the workspace.` };
  const root = folder.uri.fsPath;
  const target = path.join(root, ...relPath.split('/'));
  try {
    const [realRoot, realTarget] = await Promise.all([fsp.realpath(root), fsp.realpath(target)]);
    if (realTarget !== realRoot && !realTarget.startsWith(realRoot + path.sep)) {
      return { error: `Refused to open "${relPath}": it resolves outside the workspace.` };
    }
    const stat = await fsp.stat(realTarget);
    if (!stat.isFile()) return { error: `"${relPath}" is not a file.` };
  } catch {
    return { error: `"${relPath}" no longer exists in ${folder.name}. Reindex if files moved.` };
  }
  return { uri: vscode.Uri.file(target) };
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
