import ignore, { type Ignore } from 'ignore';
import picomatch from 'picomatch';

/**
 * A list of `.gitignore`-syntax rules evaluated the way git does for ONE path: the last rule
 * matching the path itself wins; `!rule` un-ignores. Unlike `ignore().test()`, ancestors are not
 * consulted — the walker checks each directory on the way down and prunes excluded ones, which is
 * how git implements "a file cannot be re-included if a parent directory is excluded". Checking
 * only the path itself is what makes layered ignore files exact: a deeper `.gitignore` with `!dir/`
 * re-includes a directory that a shallower one ignores, and the shallower rules must then not
 * re-exclude its files through the parent.
 *
 * Implementation (all matching is done by the `ignore` package): consecutive rules of the same
 * polarity are grouped into segments, each held by an `ignore` instance in which every rule is
 * written negated. An instance with only negated rules never reports a parent as ignored, so
 * `test(p).unignored` is exactly "some rule of the segment matches `p` itself". Segments are then
 * scanned from last to first: the first one with a match decides.
 *
 * Checked against `git ls-files --others --exclude-standard` on thousands of generated trees (see
 * the tests). Known deviation, inherited from `ignore@7`: an escaped wildcard (`\*`) matches like a
 * plain `*` instead of a literal asterisk in a file name.
 */
export class RuleList {
  private readonly segments: { negative: boolean; matcher: Ignore }[] = [];

  constructor(rules: readonly string[], ignoreCase: boolean) {
    for (const rule of rules) this.addRule(rule, ignoreCase);
  }

  /** Parses the content of an ignore file. */
  static fromFile(content: string, ignoreCase: boolean): RuleList {
    return new RuleList(content.replace(/^\uFEFF/, '').split(/\r?\n/), ignoreCase);
  }

  get isEmpty(): boolean {
    return this.segments.length === 0;
  }

  /**
   * `true`: ignored by the last matching rule; `false`: re-included by a `!` rule; `undefined`: no
   * rule matches. `relPath` is relative to the directory the rules belong to, `/`-separated; pass
   * `isDir` for directories (rules ending in `/` only match directories).
   */
  match(relPath: string, isDir: boolean): boolean | undefined {
    if (!relPath) return undefined;
    const p = isDir ? `${relPath}/` : relPath;
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const seg = this.segments[i]!;
      if (seg.matcher.test(p).unignored) return !seg.negative;
    }
    return undefined;
  }

  private addRule(raw: string, ignoreCase: boolean): void {
    // Same notion of "a rule" as `ignore`/git: blank lines and `#` comments are not rules.
    if (!raw || raw.trim() === '' || raw.startsWith('#')) return;
    const negative = raw.startsWith('!');
    if (negative && raw.slice(1).trim() === '') return;
    let seg = this.segments[this.segments.length - 1];
    if (!seg || seg.negative !== negative) {
      seg = { negative, matcher: ignore({ ignoreCase }) };
      this.segments.push(seg);
    }
    // Work-around for `ignore@7`, which lets `dir/**/` match `dir/` itself (git does not): the
    // equivalent `dir/**/*/` is matched correctly.
    const rule = /\/\*\*\/\s*$/.test(raw) ? `${raw.trimEnd()}*/` : raw;
    seg.matcher.add(negative ? rule : `!${rule}`);
  }
}

/**
 * Normalises a user glob to this module's conventions (see `DiscoveryOptions.exclude`), which follow
 * `.gitignore` intuition: a leading `./` is dropped; a leading `/` anchors to the root; a glob
 * without any other `/` matches at any depth (`*.ts` becomes `**` + `/*.ts`); a trailing `/` means
 * the folder and everything in it (`fixtures/` becomes `**` + `/fixtures/**`).
 */
export function normalizeGlob(glob: string): string {
  const g = glob.trim().replace(/^\.\//, '');
  if (g.startsWith('!')) return g; // picomatch negation: left to picomatch
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

/** A set of picomatch globs (`dot: true`) matched against root-relative `/`-separated paths. */
export class GlobSet {
  private readonly matchers: ((p: string) => boolean)[];
  /** Literal directory prefixes of the globs; `null` when some glob can match anywhere. */
  private readonly bases: string[] | null;
  private readonly ignoreCase: boolean;

  constructor(globs: readonly string[], ignoreCase: boolean) {
    this.ignoreCase = ignoreCase;
    const normalized = globs.map((g) => g.trim()).filter(Boolean).map(normalizeGlob);
    this.matchers = normalized.map((g) => picomatch(g, { dot: true, nocase: ignoreCase }));
    let bases: string[] | null = [];
    for (const g of normalized) {
      const base = picomatch.scan(g).base;
      if (!base || g.startsWith('!')) {
        bases = null;
        break;
      }
      bases.push(ignoreCase ? base.toLowerCase() : base);
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
