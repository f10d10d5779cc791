import { sha256Hex } from './fs';

/**
 * The name of a folder's index directory, the same for the CLI and the editor: the folder's name
 * (made safe for a file name) and a short hash of what identifies the folder (the CLI: its absolute
 * path; the editor: its workspace-folder URI), so two folders with the same name never share one.
 */
export function indexFolderName(name: string, identity: string): string {
  return `${name.replace(/[^A-Za-z0-9._-]/g, '_') || 'root'}-${sha256Hex(identity, 12)}`;
}
