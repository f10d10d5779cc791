/**
 * Glob matching in time linear in the path length, whatever the pattern.
 *
 * Why not a regular expression (what `ignore` and `picomatch` compile to): V8's regex engine
 * backtracks, and a glob such as `*a*a*a*…b` becomes `[^/]*a[^/]*a…b`, which takes time
 * polynomial of the degree of the number of stars against a long name of `a`s (measured: 20 stars
 * against a 200-character name ran for minutes). Both libraries were measured and are affected.
 *
 * Instead a glob is compiled to a small NFA (one state per token) and simulated bit-parallel over
 * all states at once (Thompson's construction, as RE2 does): the cost is O(path length × tokens / 32)
 * with no backtracking. Patterns without wildcards, and the common `*.ext` / `**` + `/name` shapes,
 * take string fast paths.
 *
 * Two dialects share the engine:
 * - `git`: git's `wildmatch` with `WM_PATHNAME` (what `.gitignore` uses): `*` and `?` and `[…]`
 *   never match `/`; `**` is special only as a whole segment (`**` + `/x`, `x/**`, `a/**` + `/b`);
 *   `[!…]` / `[^…]`, ranges, POSIX classes (`[[:alpha:]]`), `\` escapes; an unterminated class
 *   or a trailing `\` never matches (git aborts the match).
 * - `path`: the same syntax plus `{a,b}` alternatives and numeric/letter ranges (`{1..3}`) and a
 *   trailing `/**` that also matches the folder itself — VS Code's glob syntax, which the
 *   `include` / `exclude` settings document. Extglobs (`+(a|b)`) are not supported: those
 *   characters are literal, as in VS Code.
 */

const LIT = 0;
const ONE = 1; // `?`: one character but `/`
const CLASS = 2; // `[…]`: one character in the class, never `/`
const STAR = 3; // `*`: zero or more characters but `/`
const ALL = 4; // `**` at the end: zero or more characters, `/` included
const DIRS_START = 5; // `**/` (pure epsilon): either skip the whole `(.*/)?` or enter DIRS_MID
const DIRS_MID = 6; // inside `(.*/)?`: loops on any character, leaves after a `/`

interface Token {
  op: number;
  /** LIT: the code point. */
  cp?: number;
  cls?: CharClass;
}

interface CharClass {
  negated: boolean;
  singles: Set<number>;
  ranges: [number, number][];
  posix: string[];
}

/** Longest glob accepted (characters). A longer one is refused by the callers (see `GlobError`). */
export const MAX_GLOB_CHARS = 1024;
/** `{…}` alternatives one `path` glob may expand to. */
export const MAX_BRACE_EXPANSIONS = 256;

export class GlobError extends Error {}

export type Dialect = 'git' | 'path';

/** A compiled glob: `test(text)` in O(text length × tokens / 32). Not re-entrant (shared buffers). */
export class Glob {
  /** Tokens the NFA simulates (0 for string fast paths): a cost measure for budgets. */
  readonly weight: number;
  private readonly fast: ((s: string) => boolean) | undefined;
  private readonly tokens: Token[] = [];
  private readonly ignoreCase: boolean;
  private words = 0;
  private lit = new Map<number, Uint32Array>();
  private oneMask!: Uint32Array;
  private starMask!: Uint32Array;
  private loopAll!: Uint32Array;
  private midMask!: Uint32Array;
  private eps1!: Uint32Array;
  private eps2!: Uint32Array;
  private classPos: number[] = [];
  private cur!: Uint32Array;
  private next!: Uint32Array;
  private adv!: Uint32Array;
  private never = false;

  /** `dialect` is informative: the syntax is the same; `path` callers expand braces first (`expandBraces`). */
  constructor(pattern: string, readonly dialect: Dialect, ignoreCase: boolean) {
    this.ignoreCase = ignoreCase;
    const src = ignoreCase ? pattern.toLowerCase() : pattern;
    const parsed = parse(src);
    if (parsed === undefined) {
      this.never = true;
      this.weight = 0;
      this.fast = () => false;
      return;
    }
    this.tokens = parsed;
    this.fast = fastPath(parsed);
    this.weight = this.fast ? 0 : parsed.length;
    if (!this.fast) this.build();
  }

  test(text: string): boolean {
    if (this.never) return false;
    const s = this.ignoreCase ? text.toLowerCase() : text;
    if (this.fast) return this.fast(s);
    return this.run(s);
  }

  private build(): void {
    const n = this.tokens.length + 1; // + the accepting state
    const w = (this.words = (n + 31) >>> 5);
    const mk = () => new Uint32Array(w);
    this.oneMask = mk();
    this.starMask = mk();
    this.loopAll = mk();
    this.midMask = mk();
    this.eps1 = mk();
    this.eps2 = mk();
    this.cur = mk();
    this.next = mk();
    this.adv = mk();
    const set = (m: Uint32Array, i: number) => (m[i >>> 5]! |= 1 << (i & 31));
    this.tokens.forEach((t, i) => {
      switch (t.op) {
        case LIT: {
          let m = this.lit.get(t.cp!);
          if (!m) this.lit.set(t.cp!, (m = mk()));
          set(m, i);
          break;
        }
        case ONE:
          set(this.oneMask, i);
          break;
        case CLASS:
          this.classPos.push(i);
          break;
        case STAR:
          set(this.starMask, i);
          set(this.eps1, i);
          break;
        case ALL:
          set(this.loopAll, i);
          set(this.eps1, i);
          break;
        case DIRS_START:
          set(this.eps1, i);
          set(this.eps2, i);
          break;
        case DIRS_MID:
          set(this.loopAll, i);
          set(this.midMask, i);
          break;
      }
    });
  }

  private run(s: string): boolean {
    const w = this.words;
    let cur = this.cur;
    let next = this.next;
    const adv = this.adv;
    cur.fill(0);
    cur[0] = 1;
    this.closure(cur);
    for (let k = 0; k < s.length; ) {
      const cp = s.codePointAt(k)!;
      k += cp > 0xffff ? 2 : 1;
      const slash = cp === 47;
      const lit = this.lit.get(cp);
      let any = 0;
      for (let j = 0; j < w; j++) {
        const a = cur[j]!;
        let v = lit ? a & lit[j]! : 0;
        if (slash) v |= a & this.midMask[j]!;
        else v |= a & this.oneMask[j]!;
        adv[j] = v;
      }
      if (!slash) {
        for (const i of this.classPos) {
          if (cur[i >>> 5]! & (1 << (i & 31)) && this.classHas(this.tokens[i]!.cls!, cp)) adv[i >>> 5]! |= 1 << (i & 31);
        }
      }
      // next = (adv << 1) | loops
      let carry = 0;
      for (let j = 0; j < w; j++) {
        const a = cur[j]!;
        const v = adv[j]!;
        let x = (v << 1) | carry;
        carry = v >>> 31;
        x |= a & this.loopAll[j]!;
        if (!slash) x |= a & this.starMask[j]!;
        next[j] = x;
        any |= x;
      }
      if (any === 0) return false;
      this.closure(next);
      const t = cur;
      cur = next;
      next = t;
    }
    const acc = this.tokens.length;
    return (cur[acc >>> 5]! & (1 << (acc & 31))) !== 0;
  }

  /** Epsilon moves (skipping stars and `**` + `/`), word-parallel until nothing changes. */
  private closure(m: Uint32Array): void {
    const w = this.words;
    for (;;) {
      let changed = false;
      let c1 = 0;
      let c2 = 0;
      for (let j = 0; j < w; j++) {
        const a = m[j]!;
        const e1 = a & this.eps1[j]!;
        const e2 = a & this.eps2[j]!;
        const add = (e1 << 1) | c1 | (e2 << 2) | c2;
        c1 = e1 >>> 31;
        c2 = e2 >>> 30;
        const b = (a | add) >>> 0; // Uint32Array reads are unsigned; bitwise results are signed
        if (b !== a) {
          m[j] = b;
          changed = true;
        }
      }
      if (!changed) return;
    }
  }

  private classHas(cls: CharClass, cp: number): boolean {
    let hit = inClass(cls, cp);
    if (!hit && this.ignoreCase) {
      const up = String.fromCodePoint(cp).toUpperCase();
      if (up.length <= 2) hit = inClass(cls, up.codePointAt(0)!);
    }
    return hit !== cls.negated;
  }
}

function inClass(cls: CharClass, cp: number): boolean {
  if (cls.singles.has(cp)) return true;
  for (const [lo, hi] of cls.ranges) if (cp >= lo && cp <= hi) return true;
  if (cls.posix.length) {
    const ch = String.fromCodePoint(cp);
    for (const name of cls.posix) if (POSIX[name]!.test(ch)) return true;
  }
  return false;
}

const POSIX: Record<string, RegExp> = {
  alnum: /^[A-Za-z0-9]$/,
  alpha: /^[A-Za-z]$/,
  blank: /^[ \t]$/,
  // eslint-disable-next-line no-control-regex -- the POSIX class is exactly the control characters
  cntrl: /^[\x00-\x1f\x7f]$/,
  digit: /^[0-9]$/,
  graph: /^[\x21-\x7e]$/,
  lower: /^[a-z]$/,
  print: /^[\x20-\x7e]$/,
  punct: /^[!-/:-@[-`{-~]$/,
  space: /^[ \t\n\r\f\v]$/,
  upper: /^[A-Z]$/,
  xdigit: /^[0-9A-Fa-f]$/,
};

/**
 * Tokens of a glob, or `undefined` when it can never match (git aborts on an unterminated class,
 * an unknown POSIX class or a trailing backslash).
 */
function parse(p: string): Token[] | undefined {
  const out: Token[] = [];
  const cps = Array.from(p, (c) => c.codePointAt(0)!);
  const n = cps.length;
  const SLASH = 47;
  for (let i = 0; i < n; ) {
    const c = cps[i]!;
    if (c === 92 /* \ */) {
      if (i + 1 >= n) return undefined;
      out.push({ op: LIT, cp: cps[i + 1]! });
      i += 2;
      continue;
    }
    if (c === 63 /* ? */) {
      out.push({ op: ONE });
      i++;
      continue;
    }
    if (c === 42 /* * */) {
      let j = i;
      while (j < n && cps[j] === 42) j++;
      const double = j - i >= 2;
      const atSegStart = i === 0 || cps[i - 1] === SLASH;
      if (double && atSegStart && (j === n || cps[j] === SLASH)) {
        if (j === n) {
          pushStar(out, ALL);
          i = j;
        } else {
          // `**/`: merge runs like `**/**/` into one.
          if (!(out.length >= 2 && out[out.length - 1]!.op === DIRS_MID)) out.push({ op: DIRS_START }, { op: DIRS_MID });
          i = j + 1;
        }
        continue;
      }
      pushStar(out, STAR);
      i = j;
      continue;
    }
    if (c === 91 /* [ */) {
      const r = parseClass(cps, i);
      if (r === undefined) return undefined;
      out.push({ op: CLASS, cls: r.cls });
      i = r.end;
      continue;
    }
    out.push({ op: LIT, cp: c });
    i++;
  }
  return out;
}

function pushStar(out: Token[], op: number): void {
  const last = out[out.length - 1];
  if (last && (last.op === STAR || last.op === ALL)) {
    if (op === ALL) last.op = ALL;
    return;
  }
  out.push({ op });
}

/** git wildmatch's class syntax, starting at `[` (index i). */
function parseClass(cps: number[], i: number): { cls: CharClass; end: number } | undefined {
  const cls: CharClass = { negated: false, singles: new Set(), ranges: [], posix: [] };
  let p = i + 1;
  if (cps[p] === 94 /* ^ */ || cps[p] === 33 /* ! */) {
    cls.negated = true;
    p++;
  }
  let prev: number | undefined;
  let first = true;
  for (;;) {
    if (p >= cps.length) return undefined;
    let c = cps[p]!;
    if (c === 93 /* ] */ && !first) return { cls, end: p + 1 };
    first = false;
    if (c === 92) {
      p++;
      if (p >= cps.length) return undefined;
      c = cps[p]!;
      cls.singles.add(c);
      prev = c;
      p++;
      continue;
    }
    if (c === 45 /* - */ && prev !== undefined && p + 1 < cps.length && cps[p + 1] !== 93) {
      p++;
      let hi = cps[p]!;
      if (hi === 92) {
        p++;
        if (p >= cps.length) return undefined;
        hi = cps[p]!;
      }
      cls.ranges.push([prev, hi]);
      prev = undefined;
      p++;
      continue;
    }
    if (c === 91 && cps[p + 1] === 58 /* : */) {
      let q = p + 2;
      while (q + 1 < cps.length && !(cps[q] === 58 && cps[q + 1] === 93)) q++;
      if (q + 1 < cps.length) {
        const name = String.fromCodePoint(...cps.slice(p + 2, q));
        if (!(name in POSIX)) return undefined;
        cls.posix.push(name);
        prev = undefined;
        p = q + 2;
        continue;
      }
      // no `:]`: the `[` is literal
    }
    cls.singles.add(c);
    prev = c;
    p++;
  }
}

/** String fast paths for the shapes that dominate real ignore files. */
function fastPath(t: Token[]): ((s: string) => boolean) | undefined {
  const lits = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (t[i]!.op !== LIT) return undefined;
    return String.fromCodePoint(...t.slice(from, to).map((x) => x.cp!));
  };
  if (t.length > 4096) return undefined;
  const all = lits(0, t.length);
  if (all !== undefined) return (s) => s === all;
  if (t[0]!.op === STAR) {
    const suffix = lits(1, t.length);
    if (suffix !== undefined) return (s) => s.endsWith(suffix) && s.lastIndexOf('/', s.length - suffix.length - 1) === -1;
  }
  const stars = t.filter((x) => x.op !== LIT);
  if (stars.length === 1 && stars[0]!.op === STAR) {
    // `prefix*suffix`: the star's part must hold no `/`.
    const k = t.indexOf(stars[0]!);
    const prefix = lits(0, k)!;
    const suffix = lits(k + 1, t.length)!;
    return (s) => s.length >= prefix.length + suffix.length && s.startsWith(prefix) && s.endsWith(suffix) && !s.slice(prefix.length, s.length - suffix.length).includes('/');
  }
  if (t[0]!.op === DIRS_START) {
    const name = lits(2, t.length);
    if (name !== undefined && !name.includes('/')) return (s) => s === name || s.endsWith(`/${name}`);
  }
  const last = t[t.length - 1]!;
  if (last.op === ALL) {
    const prefix = lits(0, t.length - 1);
    if (prefix !== undefined) return (s) => s.startsWith(prefix);
  }
  return undefined;
}

/**
 * Expands `{a,b}` alternatives (nested) and `{1..3}` / `{a..c}` ranges; a brace group without a
 * comma or range is literal. Throws `GlobError` past `MAX_BRACE_EXPANSIONS`.
 */
export function expandBraces(glob: string): string[] {
  const open = findBrace(glob);
  if (!open) return [glob];
  const { start, end, parts } = open;
  const head = glob.slice(0, start);
  const tails = expandBraces(glob.slice(end + 1));
  const out: string[] = [];
  for (const part of parts) {
    for (const mid of expandBraces(part)) {
      for (const tail of tails) {
        out.push(head + mid + tail);
        if (out.length > MAX_BRACE_EXPANSIONS) throw new GlobError(`"${glob.slice(0, 80)}" expands to more than ${MAX_BRACE_EXPANSIONS} patterns`);
      }
    }
  }
  return out;
}

function findBrace(g: string): { start: number; end: number; parts: string[] } | undefined {
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      // skip a class: braces inside are literal
      const close = g.indexOf(']', i + 2);
      if (close !== -1) i = close;
      continue;
    }
    if (c !== '{') continue;
    let depth = 0;
    const commas: number[] = [];
    for (let j = i; j < g.length; j++) {
      const d = g[j];
      if (d === '\\') {
        j++;
        continue;
      }
      if (d === '{') depth++;
      else if (d === ',' && depth === 1) commas.push(j);
      else if (d === '}' && --depth === 0) {
        const body = g.slice(i + 1, j);
        if (commas.length) {
          const bounds = [i, ...commas, j];
          const parts = bounds.slice(0, -1).map((b, k) => g.slice(b + 1, bounds[k + 1]));
          return { start: i, end: j, parts };
        }
        const range = /^(-?\d+)\.\.(-?\d+)$|^([A-Za-z])\.\.([A-Za-z])$/.exec(body);
        if (range) {
          const parts: string[] = [];
          if (range[1] !== undefined) {
            const a = Number(range[1]);
            const b = Number(range[2]);
            if (Math.abs(b - a) >= MAX_BRACE_EXPANSIONS) throw new GlobError(`"${g.slice(0, 80)}": range {${body}} is too long`);
            for (let v = a; a <= b ? v <= b : v >= b; v += a <= b ? 1 : -1) parts.push(String(v));
          } else {
            const a = range[3]!.charCodeAt(0);
            const b = range[4]!.charCodeAt(0);
            for (let v = a; a <= b ? v <= b : v >= b; v += a <= b ? 1 : -1) parts.push(String.fromCharCode(v));
          }
          return { start: i, end: j, parts };
        }
        break; // literal `{…}`: look for a later group
      }
    }
  }
  return undefined;
}
