import * as path from 'node:path';

/**
 * How one operating system spells and compares paths: its path module (POSIX or Windows) and
 * whether its usual file systems tell `Foo.ts` from `foo.ts`. Injectable, so the Windows and macOS
 * rules are unit-tested on Linux (test/unit/paths-win32.test.ts).
 */
export interface PathFlavor {
  readonly path: path.PlatformPath;
  readonly caseSensitive: boolean;
  /** Windows rules: reserved device names, `\\?\` prefixes, no `:` / trailing dot or space in a name. */
  readonly windows: boolean;
}

export const posixFlavor: PathFlavor = { path: path.posix, caseSensitive: true, windows: false };
/** macOS: POSIX paths on a case-insensitive file system (APFS and HFS+ by default). */
export const darwinFlavor: PathFlavor = { path: path.posix, caseSensitive: false, windows: false };
export const win32Flavor: PathFlavor = { path: path.win32, caseSensitive: false, windows: true };

/** The flavor of the running OS. */
export function hostFlavor(platform: NodeJS.Platform = process.platform): PathFlavor {
  if (platform === 'win32') return win32Flavor;
  if (platform === 'darwin') return darwinFlavor;
  return posixFlavor;
}

/**
 * Drops a Win32 namespace prefix so paths compare by what they name: `\\?\C:\x` and `\\.\C:\x` →
 * `C:\x`, `\\?\UNC\server\share\x` → `\\server\share\x`. Other paths are returned as they are.
 */
export function stripLongPathPrefix(p: string, flavor: PathFlavor): string {
  if (!flavor.windows) return p;
  const m = /^[\\/]{2}[?.][\\/](.*)$/s.exec(p);
  if (!m) return p;
  const rest = m[1]!;
  if (/^UNC[\\/]/i.test(rest)) return `\\\\${rest.slice(4)}`;
  if (/^[A-Za-z]:([\\/]|$)/.test(rest)) return rest;
  return p;
}

/** A comparison key for a name or path: exact where the file system is case-sensitive, else folded. */
export function pathKey(p: string, flavor: PathFlavor): string {
  const n = p.normalize('NFC');
  return flavor.caseSensitive ? n : n.toLowerCase();
}

/**
 * The `/`-separated path of `target` relative to `root` when `target` is `root` itself (`''`) or
 * inside it, else `undefined`. Both are absolute paths in `flavor`'s syntax: drive letters (any
 * case), UNC shares and `\\?\` prefixes on Windows; case is ignored where the file system ignores
 * it, and the result keeps `target`'s own spelling.
 */
export function relativeInside(root: string, target: string, flavor: PathFlavor): string | undefined {
  const p = flavor.path;
  const r = p.resolve(stripLongPathPrefix(root, flavor));
  const t = p.resolve(stripLongPathPrefix(target, flavor));
  const rel = flavor.caseSensitive || flavor.windows ? p.relative(r, t) : p.relative(pathKey(r, flavor), pathKey(t, flavor));
  if (rel === '') return '';
  if (rel === '..' || rel.startsWith(`..${p.sep}`) || p.isAbsolute(rel) || /^[A-Za-z]:/.test(rel)) return undefined;
  // Keep the target's spelling: its last N segments, N = the relative path's segment count.
  const n = rel.split(p.sep).length;
  return t.split(p.sep).filter((s) => s !== '').slice(-n).join('/');
}

/** True when `target` is `root` or inside it (see `relativeInside`). */
export function isInside(root: string, target: string, flavor: PathFlavor): boolean {
  return relativeInside(root, target, flavor) !== undefined;
}

const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;

/**
 * Why Windows cannot hold `name` as an ordinary file, or `undefined`: a reserved device name with
 * or without an extension (`CON`, `nul.txt`, `aux.tar.gz`, `COM1`…), where opening it opens the
 * device; a name ending in a dot or space (Windows silently drops them, so `.env.` opens `.env`);
 * a `:` (an alternate data stream) or a character Windows forbids in names.
 */
export function windowsNameProblem(name: string): string | undefined {
  const stem = name.replace(/[. ]+$/, '').split('.')[0]!.trimEnd();
  if (RESERVED.test(stem)) return `"${name}" is a reserved device name on Windows (CON, PRN, AUX, NUL, COM1–9, LPT1–9)`;
  if (/[. ]$/.test(name) && name !== '.' && name !== '..') return `"${name}" ends with a dot or space, which Windows drops`;
  // eslint-disable-next-line no-control-regex
  if (/[<>:"|?*\u0000-\u001f]/.test(name)) return `"${name}" holds a character Windows forbids in file names`;
  return undefined;
}
