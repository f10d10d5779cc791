import { Glob, GlobError, MAX_GLOB_CHARS, expandBraces } from './glob';

/**
 * Bounds on ignore rules (a repository's `.gitignore` / `.siftignore` / `info/exclude` are input
 * from whoever wrote the repository). Matching costs O(path length × rule tokens), so these bound
 * the work per path. See `RuleList.overLimit` for what happens past them.
 */
export const RULE_LIMITS = Object.freeze({
  /** Bytes of one ignore file read at most. */
  maxFileBytes: 256 * 1024,
  /** Rules in one ignore file (or one settings list). */
  maxRules: 10_000,
  /** Characters of one rule. */
  maxRuleChars: MAX_GLOB_CHARS,
  /** Tokens of the rules of one file that need the automaton (not a plain name, `*.ext`, `**` + `/name`, `dir/**`). */
  maxWildcardWeight: 32_768,
  /** Rules of all ignore files one matcher holds at a time. */
  maxTotalRules: 100_000,
});

interface Rule {
  negative: boolean;
  dirOnly: boolean;
  /** No `/` in the pattern: matched against the last path segment (git's basename rule). */
  basename: boolean;
  glob: Glob;
}

/**
 * A list of `.gitignore`-syntax rules evaluated the way git does for ONE path: the last rule
 * matching the path itself wins; `!rule` un-ignores. Ancestors are not consulted — the walker
 * checks each directory on the way down and prunes excluded ones, which is how git implements "a
 * file cannot be re-included if a parent directory is excluded". Checking only the path itself is
 * what makes layered ignore files exact: a deeper `.gitignore` with `!dir/` re-includes a directory
 * that a shallower one ignores, and the shallower rules must then not re-exclude its files.
 *
 * Parsing follows git's `dir.c` (comments, `\#`, `\!`, trailing spaces unless escaped, `/` at the
 * end = folders only, a `/` elsewhere anchors to the file's folder) and matching its `wildmatch`
 * (see `Glob`, which matches in linear time — the `ignore` package, used before, backtracks
 * exponentially on rules like `*a*a*a*…b`). Checked against `git ls-files --others
 * --exclude-standard` on generated trees (see the tests).
 *
 * Over `RULE_LIMITS` the list keeps no rules and `overLimit` says why: callers then treat the
 * folder the rules govern as not indexable (fail safe — dropping some rules could index files the
 * user excluded).
 */
export class RuleList {
  private readonly rules: Rule[] = [];
  /** Plain-name rules: name → index of the last such rule (files and folders / folders only). */
  private readonly literalAny = new Map<string, number>();
  private readonly literalDir = new Map<string, number>();
  /** Indices of the other rules, ascending. */
  private readonly generic: number[] = [];
  private weight = 0;
  /** Why the rules were not loaded (over a limit), or undefined. */
  overLimit: string | undefined;

  constructor(rules: readonly string[], ignoreCase: boolean) {
    let count = 0;
    for (const raw of rules) {
      if (isRule(raw)) count++;
    }
    if (count > RULE_LIMITS.maxRules) {
      this.overLimit = `${count} rules (limit ${RULE_LIMITS.maxRules})`;
      return;
    }
    for (const raw of rules) {
      const problem = this.addRule(raw, ignoreCase);
      if (problem) {
        this.clear();
        this.overLimit = problem;
        return;
      }
    }
  }

  /** Parses the content of an ignore file. */
  static fromFile(content: string, ignoreCase: boolean): RuleList {
    return new RuleList(content.replace(/^\uFEFF/, '').split(/\r?\n/), ignoreCase);
  }

  /** A list that matches nothing and reports `reason` as `overLimit`. */
  static refused(reason: string): RuleList {
    const r = new RuleList([], false);
    r.overLimit = reason;
    return r;
  }

  get isEmpty(): boolean {
    return this.rules.length === 0 && this.overLimit === undefined;
  }

  /** Number of rules held. */
  get size(): number {
    return this.rules.length;
  }

  /**
   * `true`: ignored by the last matching rule; `false`: re-included by a `!` rule; `undefined`: no
   * rule matches. `relPath` is relative to the directory the rules belong to, `/`-separated; pass
   * `isDir` for directories (rules ending in `/` only match directories).
   */
  match(relPath: string, isDir: boolean): boolean | undefined {
    if (!relPath || !this.rules.length) return undefined;
    const base = relPath.slice(relPath.lastIndexOf('/') + 1);
    let best = -1;
    const a = this.literalAny.get(base);
    if (a !== undefined) best = a;
    if (isDir) {
      const d = this.literalDir.get(base);
      if (d !== undefined && d > best) best = d;
    }
    for (let k = this.generic.length - 1; k >= 0; k--) {
      const i = this.generic[k]!;
      if (i <= best) break;
      const rule = this.rules[i]!;
      if (rule.dirOnly && !isDir) continue;
      if (rule.glob.test(rule.basename ? base : relPath)) {
        best = i;
        break;
      }
    }
    return best < 0 ? undefined : !this.rules[best]!.negative;
  }

  private clear(): void {
    this.rules.length = 0;
    this.generic.length = 0;
    this.literalAny.clear();
    this.literalDir.clear();
  }

  /** Adds one line; returns why the list must be refused, if it must. */
  private addRule(raw: string, ignoreCase: boolean): string | undefined {
    if (!isRule(raw)) return undefined;
    if (raw.length > RULE_LIMITS.maxRuleChars) return `a rule of ${raw.length} characters (limit ${RULE_LIMITS.maxRuleChars})`;
    let p = trimTrailingSpaces(raw);
    const negative = p.startsWith('!');
    if (negative) p = p.slice(1);
    let dirOnly = false;
    if (p.endsWith('/') && !p.endsWith('\\/')) {
      dirOnly = true;
      p = p.slice(0, -1);
    }
    if (!p) return undefined;
    const basename = !p.includes('/');
    if (!basename && p.startsWith('/')) p = p.slice(1);
    if (!p) return undefined;
    const index = this.rules.length;
    const plain = basename && !/[*?[\\]/.test(p);
    if (plain) {
      const key = ignoreCase ? p.toLowerCase() : p;
      (dirOnly ? this.literalDir : this.literalAny).set(key, index);
      this.rules.push({ negative, dirOnly, basename, glob: LITERAL_PLACEHOLDER });
      return undefined;
    }
    const glob = new Glob(p, 'git', ignoreCase);
    this.weight += glob.weight;
    if (this.weight > RULE_LIMITS.maxWildcardWeight) return `wildcard rules too complex (over ${RULE_LIMITS.maxWildcardWeight} tokens)`;
    this.rules.push({ negative, dirOnly, basename, glob });
    this.generic.push(index);
    return undefined;
  }
}

const LITERAL_PLACEHOLDER = new Glob('', 'git', false);

/** Same notion of "a rule" as git: blank lines and `#` comments are not rules, nor a lone `!`. */
function isRule(raw: string): boolean {
  if (!raw || raw.startsWith('#')) return false;
  const t = trimTrailingSpaces(raw);
  return t !== '' && t !== '!';
}

/** git's `trim_trailing_spaces`: trailing spaces go unless escaped with a backslash. */
function trimTrailingSpaces(s: string): string {
  let lastSpace = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === ' ') {
      if (lastSpace < 0) lastSpace = i;
    } else if (c === '\\') {
      i++;
      if (i >= s.length) return s;
      lastSpace = -1;
    } else lastSpace = -1;
  }
  return lastSpace < 0 ? s : s.slice(0, lastSpace);
}

/**
 * Normalises a user glob to this module's conventions (see `DiscoveryOptions.exclude`), which follow
 * `.gitignore` intuition: a leading `./` is dropped; a leading `/` anchors to the root; a glob
 * without any other `/` matches at any depth (`*.ts` becomes `**` + `/*.ts`); a trailing `/` means
 * the folder and everything in it (`fixtures/` becomes `**` + `/fixtures/**`).
 */
export function normalizeGlob(glob: string): string {
  const g = glob.trim().replace(/^\.\//, '');
  if (g.startsWith('!')) return g; // negation: "everything the rest does not match"
  const dirOnly = g.endsWith('/');
  let body = dirOnly ? g.replace(/\/+$/, '') : g;
  let anchored = body.includes('/') || body.startsWith('**');
  if (body.startsWith('/')) {
    body = body.replace(/^\/+/, '');
    anchored = true;
  }
  const out = anchored ? body : `**/${body}`;
  return dirOnly ? `${out}/**` : out;
}

/** Globs one `GlobSet` accepts (include / exclude settings, MCP path filters). */
export const MAX_GLOBS = 1000;

/**
 * A set of globs matched against root-relative `/`-separated paths, in VS Code's glob syntax
 * (`*`, `?`, `**`, `[…]`, `{a,b}`; a dot is matched like any character; `dir/**` also matches
 * `dir`; a leading `!` negates). Matching is linear-time (`Glob`). Throws `GlobError` for more than
 * `MAX_GLOBS` globs, a glob over `MAX_GLOB_CHARS` characters or too many `{…}` expansions.
 */
export class GlobSet {
  private readonly matchers: ((p: string) => boolean)[] = [];
  /** Literal directory prefixes of the globs; `null` when some glob can match anywhere. */
  private readonly bases: string[] | null;
  private readonly ignoreCase: boolean;

  constructor(globs: readonly string[], ignoreCase: boolean) {
    this.ignoreCase = ignoreCase;
    const normalized = globs.map((g) => g.trim()).filter(Boolean).map(normalizeGlob);
    if (normalized.length > MAX_GLOBS) throw new GlobError(`${normalized.length} globs (limit ${MAX_GLOBS})`);
    let bases: string[] | null = [];
    for (const g of normalized) {
      if (g.length > MAX_GLOB_CHARS) throw new GlobError(`a glob of ${g.length} characters (limit ${MAX_GLOB_CHARS})`);
      const negated = g.startsWith('!');
      const body = negated ? normalizeGlob(g.slice(1)) : g;
      const globs: Glob[] = [];
      for (const e of expandBraces(body)) {
        globs.push(new Glob(e, 'path', ignoreCase));
        // `dir/**` also matches `dir` itself.
        if (e.endsWith('/**') && e.length > 3) globs.push(new Glob(e.slice(0, -3), 'path', ignoreCase));
        if (bases) {
          const base = literalBase(e);
          if (!base || negated) bases = null;
          else bases.push(ignoreCase ? base.toLowerCase() : base);
        }
      }
      const any = (p: string) => globs.some((m) => m.test(p));
      this.matchers.push(negated ? (p) => !any(p) : any);
    }
    this.bases = bases;
  }

  get isEmpty(): boolean {
    return this.matchers.length === 0;
  }

  matches(relPath: string): boolean {
    return this.matchers.some((m) => m(relPath));
  }

  /** False when no path inside directory `relDir` can match any glob (so it need not be walked). */
  mayMatchInside(relDir: string): boolean {
    if (!this.bases || !relDir) return true;
    const d = this.ignoreCase ? relDir.toLowerCase() : relDir;
    return this.bases.some((b) => b === d || b.startsWith(`${d}/`) || d.startsWith(`${b}/`));
  }
}

/** The leading folders of a glob that contain no glob syntax (`src/lib/**` → `src/lib`). */
function literalBase(glob: string): string {
  if (!/[*?[\]{}\\]/.test(glob)) return glob;
  const segs = glob.split('/');
  const out: string[] = [];
  for (let i = 0; i < segs.length - 1; i++) {
    if (/[*?[\]{}\\]/.test(segs[i]!)) break;
    out.push(segs[i]!);
  }
  return out.join('/');
}

export { GlobError };
