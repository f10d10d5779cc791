import * as path from 'node:path';
import type { EditorSignals } from './features';

/**
 * Editor context for the learning-to-rank stage, without any editor API: the VS Code layer
 * collects absolute file paths (open editors, recent edits, the cursor) and this module turns
 * them into the workspace-relative, folder-qualified paths the index uses.
 */

/** A workspace folder as the index names it: `name` is the candidates' `folder` in multi-root, '' otherwise. */
export interface WorkspaceRoot {
  name: string;
  /** Absolute path of the folder. */
  root: string;
}

export interface RawEditorState {
  /** Absolute paths of the files open in editor tabs. */
  openFiles: readonly string[];
  /** Absolute paths of recently edited files, most recent first. */
  recentFiles: readonly string[];
  /** The file and 1-based line of the cursor in the last active text editor. */
  cursor?: { file: string; line: number };
}

/**
 * The folder (the innermost, when folders nest) containing `file`, and the path inside it with
 * `/` separators; undefined for files outside every folder (untitled buffers, other repositories).
 */
export function relativeToRoots(roots: readonly WorkspaceRoot[], file: string, platformPath: typeof path = path): { folder?: string; path: string } | undefined {
  let best: { root: WorkspaceRoot; rel: string } | undefined;
  for (const root of roots) {
    const rel = platformPath.relative(root.root, file);
    if (!rel || rel.startsWith('..') || platformPath.isAbsolute(rel)) continue;
    if (!best || root.root.length > best.root.root.length) best = { root, rel };
  }
  if (!best) return undefined;
  const rel = best.rel.split(platformPath.sep).join('/');
  return best.root.name ? { folder: best.root.name, path: rel } : { path: rel };
}

const MAX_OPEN = 50;
const MAX_RECENT = 20;

/** Editor signals for `extractFeatures`: every path converted, duplicates and outside files dropped, bounded. */
export function toEditorSignals(roots: readonly WorkspaceRoot[], raw: RawEditorState, platformPath: typeof path = path): EditorSignals {
  const convert = (files: readonly string[], max: number) => {
    const out: { folder?: string; path: string }[] = [];
    const seen = new Set<string>();
    for (const f of files) {
      const r = relativeToRoots(roots, f, platformPath);
      if (!r) continue;
      const key = fileKey(r.folder, r.path);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(r);
      if (out.length >= max) break;
    }
    return out;
  };
  const signals: EditorSignals = { openFiles: convert(raw.openFiles, MAX_OPEN), recentFiles: convert(raw.recentFiles, MAX_RECENT) };
  if (raw.cursor) {
    const r = relativeToRoots(roots, raw.cursor.file, platformPath);
    if (r) signals.cursor = { ...r, line: raw.cursor.line };
  }
  return signals;
}

/** Key of a file across folders (multi-root): the folder name ('' for a single folder) and the path. */
export function fileKey(folder: string | undefined, relPath: string): string {
  return `${folder ?? ''}\u0000${relPath}`;
}

/**
 * Files edited recently, most recent first: bounded in count and age. Fed by the editor's change
 * events; holds absolute paths until converted by `toEditorSignals`.
 */
export class RecentEdits {
  private readonly edits = new Map<string, number>();

  constructor(
    private readonly max = MAX_RECENT,
    private readonly maxAgeMs = 60 * 60 * 1000,
  ) {}

  note(file: string, now: number): void {
    this.edits.delete(file); // re-insert: Map order is insertion order
    this.edits.set(file, now);
    while (this.edits.size > this.max) this.edits.delete(this.edits.keys().next().value!);
  }

  /** Most recent first, without edits older than the age bound. */
  list(now: number): string[] {
    return [...this.edits.entries()]
      .filter(([, t]) => now - t <= this.maxAgeMs)
      .sort((a, b) => b[1] - a[1])
      .map(([f]) => f);
  }

  clear(): void {
    this.edits.clear();
  }
}

/** What the editor knows about one source, for its provenance (markers in the chat). */
export interface EditorMarks {
  open?: boolean;
  edited?: boolean;
  nearCursor?: boolean;
}

/** Lines around the cursor that count as "near" it (the feature decays over about this distance). */
export const NEAR_CURSOR_LINES = 50;

export function editorMarks(signals: EditorSignals | undefined, folder: string | undefined, relPath: string, startLine: number, endLine: number): EditorMarks | undefined {
  if (!signals) return undefined;
  const key = fileKey(folder, relPath);
  const marks: EditorMarks = {};
  if (signals.openFiles?.some((f) => fileKey(f.folder, f.path) === key)) marks.open = true;
  if (signals.recentFiles?.some((f) => fileKey(f.folder, f.path) === key)) marks.edited = true;
  const c = signals.cursor;
  if (c && fileKey(c.folder, c.path) === key && c.line >= startLine - NEAR_CURSOR_LINES && c.line <= endLine + NEAR_CURSOR_LINES) marks.nearCursor = true;
  return Object.keys(marks).length ? marks : undefined;
}
