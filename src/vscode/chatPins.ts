import * as vscode from 'vscode';
import type { Pin } from '../protocol/messages';
import { selectionPin } from './chatConversation';
import type { FolderIndexer } from './folderIndexer';

/**
 * The selected lines of a text editor (whole lines; a selection ending at column 0 stops on the
 * line before) as a source pinned to the next question. Undefined for an empty selection or a
 * file outside the workspace folders.
 */
export function editorSelectionPin(editor: vscode.TextEditor | undefined, indexer: Pick<FolderIndexer, 'folders'>): Pin | undefined {
  if (!editor || editor.document.uri.scheme !== 'file' || editor.selection.isEmpty) return undefined;
  const sel = editor.selection;
  const last = sel.end.character === 0 && sel.end.line > sel.start.line ? sel.end.line - 1 : sel.end.line;
  const text = editor.document.getText(new vscode.Range(sel.start.line, 0, last, editor.document.lineAt(last).text.length));
  const roots = indexer.folders.entries().map((f) => ({ name: indexer.folders.indexName(f), root: f.folder.fsPath }));
  return selectionPin({ file: editor.document.uri.fsPath, startLine: sel.start.line + 1, endLine: last + 1, text, language: editor.document.languageId }, roots);
}

/** `#selection` in a question: the editor the user last worked in (a webview in an editor tab hides the active one). */
export function currentSelectionPin(indexer: Pick<FolderIndexer, 'folders'>): Pin | undefined {
  const editors = [vscode.window.activeTextEditor, ...vscode.window.visibleTextEditors];
  for (const e of editors) {
    const pin = editorSelectionPin(e, indexer);
    if (pin) return pin;
  }
  return undefined;
}

export const SELECTION_TAG = /(^|\s)#selection\b/;
