import type { IndexStore } from '../store/store';
import type { NamedStore } from './retriever';
import { membersOf } from './definitions';

/** What `@` completes: a file, a folder or a symbol of an index. */
export interface Mention {
  kind: 'file' | 'folder' | 'symbol';
  /** Text after `@`: a path (`folder/path` in multi-root; folders end with `/`) or a symbol name. */
  insert: string;
  /** A symbol's file, qualified like `insert`. */
  file?: string;
  line?: number;
}

/** Symbols kept per catalog (the first seen, in shard order): bounds memory on huge indexes. */
export const MAX_SYMBOLS = 100_000;
const MAX_PREFIX = 200;

interface Entry extends Mention {
  /** Lower-cased name matched first (file/folder base name, symbol name). */
  name: string;
  /** Lower-cased whole text matched second. */
  full: string;
  /** A file or folder at the top of its root (listed first for a bare `@`). */
  top: boolean;
}

/**
 * The files, folders and symbols (chunk symbol names) of some indexes, for `@` completion. Built
 * once per opened store (the file table and every chunk are read once); `complete` is a linear
 * scan with no allocation per entry, fast enough per keystroke for 100k entries.
 */
export class MentionCatalog {
  private constructor(private readonly entries: Entry[]) {}

  get size(): number {
    return this.entries.length;
  }

  /** Stores must be opened with their file table (`openForRead(dir, { files: true })`). */
  static async build(stores: IndexStore | readonly NamedStore[], opts: { maxSymbols?: number; signal?: AbortSignal } = {}): Promise<MentionCatalog> {
    const named: readonly NamedStore[] = Array.isArray(stores) ? stores : [{ name: '', store: stores as IndexStore }];
    const entries: Entry[] = [];
    const maxSymbols = opts.maxSymbols ?? MAX_SYMBOLS;
    let symbols = 0;
    for (const { name, store } of named) {
      const q = (p: string) => (name ? `${name}/${p}` : p);
      const folders = new Set<string>();
      for (const p of Object.keys(store.manifest.files ?? {})) {
        entries.push(entry('file', q(p), baseName(p)));
        for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) folders.add(p.slice(0, i));
      }
      if (name) entries.push(entry('folder', `${name}/`, name));
      for (const f of folders) entries.push(entry('folder', `${q(f)}/`, baseName(f)));
      const seen = new Set<string>();
      for await (const chunk of store.allChunks()) {
        opts.signal?.throwIfAborted();
        const sym = chunk.symbols.at(-1);
        if (!sym || symbols >= maxSymbols) continue;
        const key = `${sym}\u0000${chunk.path}`;
        if (seen.has(key)) continue;
        seen.add(key);
        symbols++;
        entries.push({ ...entry('symbol', sym, sym), file: q(chunk.path), line: chunk.startLine });
        // A class that fits in one chunk keeps its methods inside it: they are offered as Class.method.
        if (chunk.kind !== 'class' && chunk.kind !== 'interface') continue;
        for (const m of membersOf(chunk.language, chunk.text)) {
          const k = `${sym}.${m.name}\u0000${chunk.path}`;
          if (seen.has(k) || symbols >= maxSymbols) continue;
          seen.add(k);
          symbols++;
          entries.push({ ...entry('symbol', `${sym}.${m.name}`, m.name), file: q(chunk.path), line: chunk.startLine + m.line });
        }
      }
    }
    return new MentionCatalog(entries);
  }

  /**
   * Entries matching `prefix` (case-insensitive), best first: the name equal to it, the name
   * starting with it, the whole path starting with it, then the name or path containing it;
   * ties go to folders, then files, then symbols, then the shorter text. An empty prefix lists
   * top-level folders and files first. Linear in the entries; only the best `limit` are kept.
   */
  complete(prefix: string, limit = 20): Mention[] {
    const p = prefix.slice(0, MAX_PREFIX).replace(/^@/, '').replace(/^\.\//, '').toLowerCase();
    const k = Math.max(0, Math.floor(limit));
    if (!k) return [];
    // The best k so far, kept sorted (a bounded insertion: no sort of every match per keystroke).
    const best: { e: Entry; score: number }[] = [];
    for (const e of this.entries) {
      const score = matchScore(e, p);
      if (score < 0) continue;
      const item = { e, score };
      if (best.length === k && compare(item, best[k - 1]!) >= 0) continue;
      let at = best.length;
      while (at > 0 && compare(item, best[at - 1]!) < 0) at--;
      best.splice(at, 0, item);
      if (best.length > k) best.pop();
    }
    return best.map(({ e }) => ({ kind: e.kind, insert: e.insert, ...(e.file ? { file: e.file } : {}), ...(e.line ? { line: e.line } : {}) }));
  }
}

function entry(kind: Mention['kind'], insert: string, name: string): Entry {
  return { kind, insert, name: name.toLowerCase(), full: insert.toLowerCase(), top: kind !== 'symbol' && !insert.replace(/\/$/, '').includes('/') };
}

const KIND_ORDER = { folder: 0, file: 1, symbol: 2 } as const;

function compare(a: { e: Entry; score: number }, b: { e: Entry; score: number }): number {
  return a.score - b.score || KIND_ORDER[a.e.kind] - KIND_ORDER[b.e.kind] || a.e.insert.length - b.e.insert.length || (a.e.insert < b.e.insert ? -1 : a.e.insert > b.e.insert ? 1 : 0);
}

function baseName(p: string): string {
  const clean = p.replace(/\/+$/, '');
  return clean.slice(clean.lastIndexOf('/') + 1);
}

/** Lower is better; -1: no match. */
function matchScore(e: Entry, p: string): number {
  if (!p) return e.kind === 'symbol' ? 5 : e.top ? 0 : 3;
  if (e.name === p) return 0;
  if (e.name.startsWith(p)) return 1;
  if (e.full.startsWith(p)) return 2;
  if (e.name.includes(p)) return 3;
  if (e.full.includes(p)) return 4;
  return -1;
}
