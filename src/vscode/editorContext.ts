import * as vscode from 'vscode';
import { type RawEditorState, RecentEdits, type WorkspaceRoot, toEditorSignals } from '../core/ltr/editor';
import type { EditorSignals } from '../core/ltr/features';
import { DisposableStore } from './lifecycle';

/**
 * What the editor knows that helps ranking: files open in tabs, files edited recently (from
 * change events, bounded), and the cursor in the last text editor used (the chat view takes focus
 * when a question is typed, so the active editor at that moment is often none). Read once per
 * question; nothing leaves the machine.
 */
export class EditorContext implements vscode.Disposable {
  private readonly disposables = new DisposableStore();
  private readonly recent = new RecentEdits();
  private cursor: { file: string; line: number } | undefined;

  constructor() {
    this.disposables.add(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.scheme === 'file' && e.contentChanges.length) this.recent.note(e.document.uri.fsPath, Date.now());
      }),
    );
    const noteCursor = (editor: vscode.TextEditor | undefined) => {
      if (editor && editor.document.uri.scheme === 'file') this.cursor = { file: editor.document.uri.fsPath, line: editor.selection.active.line + 1 };
    };
    noteCursor(vscode.window.activeTextEditor);
    this.disposables.add(vscode.window.onDidChangeActiveTextEditor(noteCursor));
    this.disposables.add(vscode.window.onDidChangeTextEditorSelection((e) => noteCursor(e.textEditor)));
  }

  dispose(): void {
    this.disposables.dispose();
  }

  /** The editor state now, in absolute paths. */
  raw(): RawEditorState {
    const openFiles: string[] = [];
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        const input = tab.input;
        if (input instanceof vscode.TabInputText && input.uri.scheme === 'file') openFiles.push(input.uri.fsPath);
        else if (input instanceof vscode.TabInputTextDiff && input.modified.scheme === 'file') openFiles.push(input.modified.fsPath);
      }
    }
    return { openFiles, recentFiles: this.recent.list(Date.now()), ...(this.cursor ? { cursor: this.cursor } : {}) };
  }

  /** Signals in the index's terms: paths relative to each folder, folder-qualified in multi-root. */
  signals(roots: readonly WorkspaceRoot[]): EditorSignals {
    return toEditorSignals(roots, this.raw());
  }
}
