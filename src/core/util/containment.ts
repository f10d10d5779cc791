import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { hostFlavor, isInside, type PathFlavor, windowsNameProblem } from './pathFlavor';

/**
 * True when `real` (symlinks already resolved) is `realRoot` itself or inside it, compared as
 * `flavor`'s OS does: drive letters and UNC shares, `\\?\` prefixes, case on case-insensitive systems.
 */
export function isInsideRealRoot(realRoot: string, real: string, flavor: PathFlavor = hostFlavor()): boolean {
  return isInside(realRoot, real, flavor);
}

/**
 * Why `relPath` (untrusted, `/`-separated, relative) is refused as a path inside a folder, or
 * `undefined`: empty, absolute (POSIX, drive letters, UNC), backslashes, NUL bytes, `..` segments;
 * on Windows also reserved device names (`NUL`, `con.txt`: opening one opens the device), names
 * ending in a dot or space (Windows drops them) and `:` (alternate data streams).
 */
export function relativePathProblem(relPath: string, flavor: PathFlavor = hostFlavor()): string | undefined {
  if (typeof relPath !== 'string' || relPath === '') return 'Refused to open an empty path.';
  if (path.isAbsolute(relPath) || path.posix.isAbsolute(relPath) || path.win32.isAbsolute(relPath) || /^[a-zA-Z]:/.test(relPath) || relPath.includes('\\') || relPath.includes('\0')) {
    return `Refused to open "${relPath}": only paths relative to the workspace can be opened.`;
  }
  const segments = relPath.split('/');
  if (segments.some((seg) => seg === '..')) return `Refused to open "${relPath}": it points outside the workspace.`;
  if (flavor.windows) {
    for (const seg of segments) {
      const problem = seg === '' || seg === '.' ? undefined : windowsNameProblem(seg);
      if (problem) return `Refused to open "${relPath}": ${problem}.`;
    }
  }
  return undefined;
}

/**
 * Resolves an untrusted, workspace-relative, `/`-separated path (e.g. a source reference sent by
 * the webview, which renders LLM output) to an existing file inside `root`, or explains why not.
 * Refuses what `relativePathProblem` refuses, and
 * paths whose real location (symlinks resolved) lies outside the root. `folderName` is only used
 * in messages. Pure Node: no VS Code API, so it can be tested anywhere.
 */
export async function resolveInsideRoot(root: string, relPath: string, folderName = path.basename(root), flavor: PathFlavor = hostFlavor()): Promise<{ path: string } | { error: string }> {
  const problem = relativePathProblem(relPath, flavor);
  if (problem) return { error: problem };
  const target = path.join(root, ...relPath.split('/'));
  try {
    const [realRoot, realTarget] = await Promise.all([fsp.realpath(root), fsp.realpath(target)]);
    if (!isInsideRealRoot(realRoot, realTarget, flavor)) return { error: `Refused to open "${relPath}": it resolves outside the workspace.` };
    const stat = await fsp.stat(realTarget);
    if (!stat.isFile()) return { error: `"${relPath}" is not a file.` };
  } catch {
    return { error: `"${relPath}" no longer exists in ${folderName}. Reindex if files moved.` };
  }
  return { path: target };
}
