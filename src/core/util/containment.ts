import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/** True when `real` (symlinks already resolved) is `realRoot` itself or inside it. */
export function isInsideRealRoot(realRoot: string, real: string): boolean {
  const rel = path.relative(realRoot, real);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * Resolves an untrusted, workspace-relative, `/`-separated path (e.g. a source reference sent by
 * the webview, which renders LLM output) to an existing file inside `root`, or explains why not.
 * Refuses absolute paths (POSIX, drive letters, UNC), backslashes, NUL bytes, `..` segments, and
 * paths whose real location (symlinks resolved) lies outside the root. `folderName` is only used
 * in messages. Pure Node: no VS Code API, so it can be tested anywhere.
 */
export async function resolveInsideRoot(root: string, relPath: string, folderName = path.basename(root)): Promise<{ path: string } | { error: string }> {
  if (typeof relPath !== 'string' || relPath === '') return { error: 'Refused to open an empty path.' };
  if (path.isAbsolute(relPath) || path.posix.isAbsolute(relPath) || /^[a-zA-Z]:/.test(relPath) || relPath.includes('\\') || relPath.includes('\0')) {
    return { error: `Refused to open "${relPath}": only paths relative to the workspace can be opened.` };
  }
  if (relPath.split('/').some((seg) => seg === '..')) return { error: `Refused to open "${relPath}": it points outside the workspace.` };
  const target = path.join(root, ...relPath.split('/'));
  try {
    const [realRoot, realTarget] = await Promise.all([fsp.realpath(root), fsp.realpath(target)]);
    if (!isInsideRealRoot(realRoot, realTarget)) return { error: `Refused to open "${relPath}": it resolves outside the workspace.` };
    const stat = await fsp.stat(realTarget);
    if (!stat.isFile()) return { error: `"${relPath}" is not a file.` };
  } catch {
    return { error: `"${relPath}" no longer exists in ${folderName}. Reindex if files moved.` };
  }
  return { path: target };
}
