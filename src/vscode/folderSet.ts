import * as path from 'node:path';
import { indexFolderName } from '../core/util/indexName';
import { type FolderEntry, newFolderEntry } from './indexStatus';
import type { FolderRef } from './ports';

/** The workspace's local folders, each with its index entry (kept across folder changes). */
export class WorkspaceFolders {
  private readonly byKey = new Map<string, FolderEntry>();

  /**
   * @param indexRoot where index folders go: the extension's storage, never the user's repository.
   * @param now the clock the dense pass's rate is measured with (ms; tests inject one).
   */
  constructor(
    private readonly indexRoot: string,
    private readonly now?: () => number,
  ) {}

  /** Brings the list up to date: new folders get an entry, removed ones lose theirs. */
  sync(current: readonly FolderRef[], trusted: boolean): void {
    const keys = new Set(current.map((f) => f.key));
    for (const key of [...this.byKey.keys()]) if (!keys.has(key)) this.byKey.delete(key);
    for (const folder of current) {
      if (this.byKey.has(folder.key)) continue;
      this.byKey.set(folder.key, newFolderEntry(folder, path.join(this.indexRoot, indexFolderName(folder.name, folder.key)), trusted, this.now));
    }
  }

  entries(): FolderEntry[] {
    return [...this.byKey.values()];
  }

  get(folder: FolderRef): FolderEntry | undefined {
    return this.byKey.get(folder.key);
  }

  /** A folder by name (multi-root), or the only folder when no name is given. */
  named(name: string | undefined): FolderRef | undefined {
    const all = this.entries().map((f) => f.folder);
    if (name) return all.find((f) => f.name === name);
    return all.length === 1 ? all[0] : undefined;
  }

  /** Folder names as the index and the answers use them: the name in multi-root, '' for a single folder. */
  indexName(entry: FolderEntry): string {
    return this.byKey.size > 1 ? entry.folder.name : '';
  }
}
