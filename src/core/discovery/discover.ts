import { type Dirent, promises as fsp } from 'node:fs';
import { SiftError, throwIfAborted } from '../util/errors';
import { DiscoveryMatcher, type EntryKind, entryKind, errorCode } from './matcher';
import type { DiscoveryEvent, DiscoveryOptions, DiscoveryResult, SkipReason } from './types';

/** Default for `WalkOptions.concurrency`. */
export const DEFAULT_DISCOVERY_CONCURRENCY = 32;

export interface WalkOptions {
  /**
   * Entries inspected (stat'ed and sniffed) concurrently ahead of the one being yielded, across
   * directories. Results are still yielded in walk order. Default 32; 1 = strictly one at a time,
   * nothing looked at before the consumer asks for it.
   */
  concurrency?: number;
  /**
   * Walk with this matcher (e.g. the one a file watcher keeps) instead of building one: `root` and
   * `opts` are then ignored. Its cached ignore files are reused, so `invalidate()` it after changes.
   */
  matcher?: DiscoveryMatcher;
}

/**
 * Walks `root` and yields one event per file indexed (`file`) or path skipped (`skip`).
 *
 * - Order is deterministic: depth-first, directory entries sorted by name (UTF-16 code units).
 * - Every path that is not indexed gets a skip event with a reason; a skipped DIRECTORY gets ONE
 *   event for the directory itself (its contents are not listed).
 * - Symlinks are never followed (see `SkipReason`); directories reached twice (bind mounts) are
 *   reported as `symlink-loop`.
 * - Never throws for anything inside the root (I/O errors become `unreadable` skips). Throws a
 *   `SiftError` (`bad-input`) if `root` is not a readable folder, and an `AbortError`
 *   (`SiftError` code `aborted`) promptly once `signal` is aborted.
 *
 * See `DiscoveryMatcher` for the exact rules and their order.
 */
export async function* discoverFiles(
  root: string,
  opts: DiscoveryOptions = {},
  signal?: AbortSignal,
  walk: WalkOptions = {},
): AsyncGenerator<DiscoveryEvent, void, undefined> {
  throwIfAborted(signal);
  const matcher = walk.matcher ?? (await DiscoveryMatcher.create(root, opts));
  throwIfAborted(signal);
  const concurrency = Math.max(1, Math.floor(walk.concurrency ?? DEFAULT_DISCOVERY_CONCURRENCY));
  const visited = new Set<string>();

  type Task = { event: DiscoveryEvent } | { rel: string; kind: EntryKind };

  /**
   * Opens one directory: its verdict as an event (not a folder any more, a loop, unreadable), or
   * its entries sorted by name with its ignore files loaded. Throws for the root only.
   */
  async function openDir(relDir: string): Promise<{ event: DiscoveryEvent } | { entries: Dirent[] }> {
    const abs = matcher.absPath(relDir);
    let entries: Dirent[];
    try {
      // The root may be given through a symlink (followed); nothing below it is.
      const [st, list] = await Promise.all([
        relDir === '' ? fsp.stat(abs, { bigint: true }) : fsp.lstat(abs, { bigint: true }),
        fsp.readdir(abs, { withFileTypes: true }).catch((err: unknown) => err as Error),
      ]);
      if (!st.isDirectory()) {
        if (relDir === '') throw new SiftError(`${root} is not a folder`, 'bad-input');
        return { event: skip(relDir, 'not-a-file', `${entryKind(st)} (changed during discovery)`) };
      }
      if (list instanceof Error) throw list;
      // Directories cannot be hard-linked, so a (dev, ino) seen twice is a bind mount or similar loop.
      if (st.ino !== 0n) {
        const key = `${st.dev}:${st.ino}`;
        if (visited.has(key)) return { event: skip(relDir, 'symlink-loop', 'directory already visited (bind mount?)') };
        visited.add(key);
      }
      entries = list;
    } catch (err) {
      if (relDir === '') {
        throw err instanceof SiftError ? err : new SiftError(`${root} is not a readable folder (${errorCode(err)})`, 'bad-input', { cause: err });
      }
      return { event: skip(relDir, 'unreadable', errorCode(err)) };
    }
    throwIfAborted(signal);
    await matcher.preloadDir(relDir, entries.map((e) => e.name));
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { entries };
  }

  /**
   * The walk proper, in order: directory verdicts as events, other entries as tasks to inspect.
   * Iterative (an explicit stack, not recursion): a hostile tree thousands of folders deep cannot
   * overflow the stack; `checkDirectory` stops the descent at `MAX_DIRECTORY_DEPTH`.
   */
  async function* walkTree(): AsyncGenerator<Task, void, undefined> {
    const first = await openDir('');
    if ('event' in first) {
      yield first;
      return;
    }
    const stack: { rel: string; entries: Dirent[]; next: number }[] = [{ rel: '', entries: first.entries, next: 0 }];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      if (top.next >= top.entries.length) {
        stack.pop();
        continue;
      }
      const entry = top.entries[top.next++]!;
      throwIfAborted(signal);
      const rel = top.rel ? `${top.rel}/${entry.name}` : entry.name;
      if (!entry.isDirectory()) {
        yield { rel, kind: entryKind(entry) };
        continue;
      }
      const verdict = matcher.checkDirectory(rel);
      if (!verdict.ok) {
        yield { event: skip(verdict.path, verdict.reason, verdict.detail) };
        continue;
      }
      const opened = await openDir(rel);
      if ('event' in opened) yield opened;
      else stack.push({ rel, entries: opened.entries, next: 0 });
    }
  }

  // Inspect up to `concurrency` entries ahead of the consumer, across directories; yield in walk order.
  // With concurrency 1 nothing happens ahead of the consumer: each entry is looked at when pulled.
  const tasks = walkTree();
  const queue: Promise<DiscoveryEvent>[] = [];
  let exhausted = false;
  try {
    for (;;) {
      throwIfAborted(signal);
      while (!exhausted && queue.length < concurrency) {
        const next = await tasks.next();
        if (next.done) exhausted = true;
        else queue.push('event' in next.value ? Promise.resolve(next.value.event) : matcher.inspectEntry(next.value.rel, next.value.kind));
      }
      const head = queue.shift();
      if (!head) return;
      const event = await head;
      throwIfAborted(signal);
      yield event;
    }
  } finally {
    await tasks.return(undefined);
  }
}

function skip(p: string, reason: SkipReason, detail?: string): DiscoveryEvent {
  return { type: 'skip', skip: detail === undefined ? { path: p, reason } : { path: p, reason, detail } };
}

/**
 * Runs `discoverFiles` to completion. Both lists are sorted by path (UTF-16 code units).
 * Rejects like `discoverFiles` (bad root, cancellation).
 */
export async function discover(root: string, opts: DiscoveryOptions = {}, signal?: AbortSignal, walk: WalkOptions = {}): Promise<DiscoveryResult> {
  const result: DiscoveryResult = { files: [], skipped: [] };
  for await (const event of discoverFiles(root, opts, signal, walk)) {
    if (event.type === 'file') result.files.push(event.file);
    else result.skipped.push(event.skip);
  }
  const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  result.files.sort(byPath);
  result.skipped.sort(byPath);
  return result;
}
