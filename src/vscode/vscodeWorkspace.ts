/**
 * The one adapter from the services' ports (ports.ts) to the VS Code API. Everything else in the
 * services reaches the editor only through these objects.
 */
import * as vscode from 'vscode';
import type { Disposable, Event } from './lifecycle';
import type { FolderRef, KeyValueStore, Log, ProgressTask, SecretStore, WorkspacePort } from './ports';
import { filesExcludeGlobs, readSettings } from './settings';
import type { SiftSettings } from './settingsSchema';

function toRef(folder: vscode.WorkspaceFolder): FolderRef {
  return { key: folder.uri.toString(), name: folder.name, fsPath: folder.uri.fsPath };
}

function uriOf(ref: FolderRef): vscode.Uri {
  return (vscode.workspace.workspaceFolders ?? []).find((f) => f.uri.toString() === ref.key)?.uri ?? vscode.Uri.parse(ref.key);
}

const asVoid =
  <T>(event: vscode.Event<T>): Event<void> =>
  (listener) =>
    event(() => listener());

export class VscodeWorkspace implements WorkspacePort {
  readonly onDidChangeFolders = asVoid(vscode.workspace.onDidChangeWorkspaceFolders);
  readonly onDidGrantTrust = asVoid(vscode.workspace.onDidGrantWorkspaceTrust);

  constructor(readonly log: Log) {}

  /** Local folders only: the indexer reads files from disk. */
  folders(): readonly FolderRef[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map(toRef);
  }

  isTrusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  createWatcher(onChange: (folder: FolderRef, fsPath: string) => void): Disposable {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    const note = (uri: vscode.Uri) => {
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      if (folder && folder.uri.scheme === 'file' && uri.scheme === 'file') onChange(toRef(folder), uri.fsPath);
    };
    const subs = [watcher.onDidCreate(note), watcher.onDidChange(note), watcher.onDidDelete(note)];
    return { dispose: () => [...subs, watcher].forEach((d) => d.dispose()) };
  }

  withProgress<T>(title: string, task: ProgressTask<T>): Promise<T> {
    return Promise.resolve(
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
        const controller = new AbortController();
        const sub = token.onCancellationRequested(() => controller.abort());
        return task((p) => progress.report(p), controller.signal).finally(() => sub.dispose());
      }),
    );
  }

  readSettings(scope: FolderRef | undefined): SiftSettings {
    return readSettings(scope ? uriOf(scope) : undefined);
  }

  filesExclude(folder: FolderRef): string[] {
    return filesExcludeGlobs(uriOf(folder));
  }

  /** The active editor's file, then the visible editors', then every other open tab's (local files only). */
  openFiles(): readonly string[] {
    const out = new Set<string>();
    const add = (uri: vscode.Uri | undefined) => {
      if (uri?.scheme === 'file') out.add(uri.fsPath);
    };
    add(vscode.window.activeTextEditor?.document.uri);
    for (const e of vscode.window.visibleTextEditors) add(e.document.uri);
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        const input = tab.input;
        if (input instanceof vscode.TabInputText) add(input.uri);
        else if (input instanceof vscode.TabInputTextDiff) add(input.modified);
      }
    }
    return [...out];
  }
}

/** Workspace state and secret storage already have the ports' shapes. */
export function stateStore(memento: vscode.Memento): KeyValueStore {
  return memento;
}

export function secretStore(secrets: vscode.SecretStorage): SecretStore {
  return secrets;
}

/** A team index problem (sift.index.store), with a button that runs Set Team Index Password. */
export function showTeamIndexWarning(message: string): void {
  void vscode.window.showWarningMessage(message, 'Set Team Index Password').then((choice) => {
    if (choice) void vscode.commands.executeCommand('sift.setTeamIndexPassword');
  });
}

/** The warning shown when the API key was not sent, with a button that runs Set API Key. */
export function showKeyRefused(message: string): void {
  void vscode.window.showWarningMessage(message, 'Set API Key').then((choice) => {
    if (choice) void vscode.commands.executeCommand('sift.setApiKey');
  });
}

