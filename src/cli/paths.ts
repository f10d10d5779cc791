import * as os from 'node:os';
import * as path from 'node:path';
import { indexFolderName } from '../core/util/indexName';
import { hostFlavor, pathKey, stripLongPathPrefix } from '../core/util/pathFlavor';

/** What decides where the cache lives; injectable so each OS's answer is tested on any OS. */
export interface CacheHost {
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  homedir: string;
}

const currentHost = (): CacheHost => ({ platform: process.platform, env: process.env, homedir: os.homedir() });

/**
 * Sift's cache root for the CLI (indexes and models), where each OS keeps caches: $SIFT_HOME when
 * set; on Windows %LOCALAPPDATA%\sift (else %USERPROFILE%\AppData\Local\sift); on macOS
 * ~/Library/Caches/sift; elsewhere $XDG_CACHE_HOME/sift (an absolute value only), else ~/.cache/sift.
 */
export function cacheRoot(host: CacheHost = currentHost()): string {
  const p = host.platform === 'win32' ? path.win32 : path.posix;
  const { env } = host;
  if (env.SIFT_HOME) return p.resolve(env.SIFT_HOME);
  if (host.platform === 'win32') {
    const local = env.LOCALAPPDATA;
    return p.join(local && p.isAbsolute(local) ? local : p.join(host.homedir, 'AppData', 'Local'), 'sift');
  }
  if (host.platform === 'darwin') return p.join(host.homedir, 'Library', 'Caches', 'sift');
  const xdg = env.XDG_CACHE_HOME;
  return p.join(xdg && p.isAbsolute(xdg) ? xdg : p.join(host.homedir, '.cache'), 'sift');
}

/**
 * Default index location for a folder: outside the repository, one directory per folder. Where the
 * file system ignores case (Windows, macOS), `C:\Repo` and `c:\repo` are one folder and share one index.
 */
export function defaultIndexDir(root: string, host: CacheHost = currentHost()): string {
  const flavor = hostFlavor(host.platform);
  const p = flavor.path;
  const abs = p.resolve(stripLongPathPrefix(root, flavor));
  return p.join(cacheRoot(host), 'indexes', indexFolderName(p.basename(abs), pathKey(abs, flavor)));
}

export function defaultModelCacheDir(host: CacheHost = currentHost()): string {
  return (host.platform === 'win32' ? path.win32 : path.posix).join(cacheRoot(host), 'models');
}
