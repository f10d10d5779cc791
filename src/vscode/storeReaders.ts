import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_FILE } from '../core/store/manifest';
import { IndexStore } from '../core/store/store';
import type { Disposable } from './lifecycle';

/**
 * Read-only stores kept across questions (loaded shards stay in memory), per index folder: reused
 * while the manifest is unchanged, reopened after the indexer committed (keeping what is unchanged).
 */
export class StoreReaders implements Disposable {
  private readonly readers = new Map<string, { store: IndexStore; stamp: string }>();

  async open(indexDir: string): Promise<{ store?: IndexStore; problem?: string }> {
    // A commit that lands while the manifest is read removes the file table the older manifest names
    // (shards stay one more commit, file tables do not): read as "the file table is missing", which
    // made a question racing a keyword commit fail with "No index is available yet". The manifest
    // moved on meanwhile, so it is read again (a few times at most: each retry follows a commit).
    let stamp = await manifestStamp(indexDir);
    for (let attempt = 0; ; attempt++) {
      const opened = await this.openAt(indexDir, stamp);
      if (opened.store || attempt >= 3) return opened;
      const now = await manifestStamp(indexDir);
      if (!now || now === stamp) return opened;
      stamp = now;
    }
  }

  private async openAt(indexDir: string, stamp: string): Promise<{ store?: IndexStore; problem?: string }> {
    const cached = this.readers.get(indexDir);
    if (cached && stamp && cached.stamp === stamp) return { store: cached.store };
    // With the file table: `@path` mentions resolve against it (a file is carried, a folder restricts)
    // and `@` completion lists its files. What the previous reader loaded and the new manifest still
    // uses carries over (only the shards a commit rewrote are read again).
    const opened = await IndexStore.openForRead(indexDir, { files: true, previous: cached?.store });
    if (cached) {
      this.readers.delete(indexDir);
      void cached.store.close();
    }
    if (opened.store && stamp) this.readers.set(indexDir, { store: opened.store, stamp });
    return opened;
  }

  dispose(): void {
    for (const r of this.readers.values()) void r.store.close();
    this.readers.clear();
  }
}

/** The manifest's size, mtime and inode ('' when there is none): changes with every commit (an atomic rename). */
async function manifestStamp(indexDir: string): Promise<string> {
  const st = await fsp.stat(path.join(indexDir, MANIFEST_FILE)).catch(() => undefined);
  return st ? `${st.mtimeMs}:${st.size}:${st.ino}` : '';
}
