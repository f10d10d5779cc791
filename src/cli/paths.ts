import * as os from 'node:os';
import * as path from 'node:path';
import { indexFolderName } from '../core/util/indexName';

/** Sift's cache root for the CLI: $SIFT_HOME, else $XDG_CACHE_HOME/sift, else ~/.cache/sift. */
export function cacheRoot(): string {
  if (process.env.SIFT_HOME) return path.resolve(process.env.SIFT_HOME);
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'sift');
}

/** Default index location for a folder: outside the repository, one directory per folder. */
export function defaultIndexDir(root: string): string {
  const abs = path.resolve(root);
  return path.join(cacheRoot(), 'indexes', indexFolderName(path.basename(abs), abs));
}

export function defaultModelCacheDir(): string {
  return path.join(cacheRoot(), 'models');
}
