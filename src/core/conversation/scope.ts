import { GlobSet } from '../discovery';
import { GlobError } from '../discovery/glob';
import type { CarriedFiles } from '../answer/ask';
import type { NamedStore } from '../search/retriever';
import type { IndexStore } from '../store/store';
import type { Candidate } from '../search/types';

/** What @-mentions and --path globs do to one question. */
export interface Scope {
  /** Candidates outside the mentioned folders / globs are dropped (absent: no restriction). */
  filter?: (c: Candidate) => boolean;
  /** Mentioned files: their best chunks are always in the context. */
  carry: CarriedFiles[];
  /** Mentions that name nothing in the index (the question is still answered). */
  notices: string[];
}

const MAX_MENTIONS = 50;
const GLOB_CHARS = /[*?[\]{}!]/;

/** `@path` mentions in a question (paths with a slash or a dot, or a trailing slash for folders). */
export function mentionsIn(question: string): string[] {
  const out = new Set<string>();
  for (const m of question.slice(0, 20_000).matchAll(/(?:^|\s)@((?:[\w.-]+\/)*[\w.-]+\/?)/g)) {
    const v = m[1]!;
    if (v.includes('/') || v.includes('.')) out.add(v);
    if (out.size >= MAX_MENTIONS) break;
  }
  return [...out];
}

/**
 * Resolves mentions against the indexes' file tables: a file becomes a carried source, a folder
 * (or a glob) restricts retrieval to it, anything else is reported. Indexes opened without their
 * file table treat every plain mention as a folder-or-file prefix.
 */
export function resolveScope(stores: IndexStore | NamedStore[], mentions: readonly string[]): Scope {
  const named: NamedStore[] = Array.isArray(stores) ? stores : [{ name: '', store: stores }];
  const notices: string[] = [];
  const files: { folder?: string; path: string }[] = [];
  const prefixes: { folder: string; prefix: string }[] = [];
  const globs: string[] = [];
  for (const raw of mentions.slice(0, MAX_MENTIONS)) {
    const m = raw.trim().replace(/^\.\//, '').replace(/^@/, '');
    if (!m) continue;
    if (GLOB_CHARS.test(m)) {
      globs.push(m);
      continue;
    }
    const clean = m.replace(/\/+$/, '');
    if (named.every(({ store }) => Object.keys(store.manifest.files ?? {}).length === 0)) {
      // No file table to check against (a search-only reader): the mention restricts as a path prefix.
      globs.push(clean, `${clean}/**`);
      continue;
    }
    let found = false;
    for (const { name, store } of named) {
      const paths = Object.keys(store.manifest.files ?? {});
      for (const [folder, rel] of candidatesFor(name, clean)) {
        if (!paths.length) continue;
        if (!m.endsWith('/') && store.manifest.files[rel]) {
          files.push({ ...(folder ? { folder } : {}), path: rel });
          found = true;
        } else if (rel === '' || paths.some((p) => p.startsWith(`${rel}/`))) {
          prefixes.push({ folder, prefix: rel });
          found = true;
        }
      }
    }
    // `@Class.method` (a symbol offered by completion; its file comes as a path mention) names no file: not a missing path.
    if (!found && isSymbolMention(clean, named)) continue;
    if (!found) notices.push(`@${clean} is not in the index (no such file or folder, or it is excluded from indexing): answered without it.`);
  }
  let globSet: GlobSet | undefined;
  if (globs.length) {
    try {
      globSet = new GlobSet(globs, false);
    } catch (err) {
      if (!(err instanceof GlobError)) throw err;
      notices.push(`The path filter was not used: ${err.message}.`);
    }
  }
  const restrict = prefixes.length > 0 || globSet !== undefined;
  const filter = restrict
    ? (c: Candidate) => {
        const folder = c.folder ?? '';
        if (prefixes.some((p) => p.folder === folder && (p.prefix === '' || c.chunk.path.startsWith(`${p.prefix}/`)))) return true;
        if (globSet && (globSet.matches(c.chunk.path) || Boolean(c.folder && globSet.matches(`${c.folder}/${c.chunk.path}`)))) return true;
        // A mentioned file stays in scope next to a mentioned folder.
        return files.some((f) => f.path === c.chunk.path && (f.folder ?? '') === folder);
      }
    : undefined;
  return { ...(filter ? { filter } : {}), carry: files.length ? [{ origin: 'mentioned', files }] : [], notices };
}

/** (folder, path inside it) readings of a mention: `name/rest` in multi-root, the mention as is otherwise. */
function candidatesFor(name: string, mention: string): [string, string][] {
  if (!name) return [['', mention]];
  if (mention === name) return [[name, '']];
  return mention.startsWith(`${name}/`) ? [[name, mention.slice(name.length + 1)]] : [[name, mention]];
}

/** A dotted identifier (Uploader.retryFailedUploads) whose last part is no file extension of the index: a symbol, not a path. */
function isSymbolMention(m: string, named: readonly NamedStore[]): boolean {
  if (!/^[A-Za-z_$][\w$]*(?:\.#?[A-Za-z_$][\w$]*[?!]?)+$/.test(m)) return false;
  const ext = m.slice(m.lastIndexOf('.') + 1).toLowerCase();
  return !named.some(({ store }) => Object.keys(store.manifest.files ?? {}).some((p) => p.toLowerCase().endsWith(`.${ext}`)));
}
