/**
 * Splits a file into chunks for embedding and retrieval.
 *
 * - Code with a grammar and a spec (TS/TSX, JS, Python, Go, Rust, Java, C/C++, C#, Ruby, PHP,
 *   Bash): one chunk per definition (function, method, class, interface, enum, type). A definition
 *   that does not fit is split: its member definitions become their own chunks (symbols outer →
 *   inner, header = the enclosing signatures), and what remains of it (class skeleton: fields,
 *   signature lines; or the statements of a function) is cut into parts at statement boundaries,
 *   headed `<signature> (part i/n)`. Code between top-level definitions becomes `module` chunks.
 *   Comments, decorators and attributes directly above a definition (no blank line between)
 *   belong to it.
 * - Markdown: one `section` chunk per ATX heading, header = heading path (`Install > Linux`).
 * - Everything else, and files the parser cannot handle: `lines` windows.
 *
 * Sizes: every chunk satisfies `tokenCounter.count(header + "\n" + text) <= maxTokens`, with one
 * exception-by-construction: a single line that alone exceeds the limit is cut into several
 * chunks at character positions (preferring a space or punctuation), each with
 * `startLine === endLine` and `text` a slice of that line; concatenated, the slices give the
 * line back. (All other chunks' `text` is exactly lines `startLine..endLine` joined by "\n".)
 *
 * Windows of lines break where the code or text allows it (the start of the shallowest
 * statement, a blank line); only when no such place exists do consecutive windows overlap by
 * `overlapLines` lines.
 *
 * `chunkFile` is async only because the tree-sitter runtime and grammars load asynchronously on
 * first use (per thread); after that the work is synchronous.
 */
import { createHash } from 'node:crypto';
import type { Chunk, ChunkKind, TokenCounter } from '../types';
import { detectLanguage, normalizeLanguage } from './languages';
import { SIGNATURE_SKIP, specFor, type DefInfo, type LangSpec } from './specs';
import { HeuristicTokenCounter } from './tokens';
import { init, parse, type TSNode, type TSTree } from './treesitter';

export const DEFAULT_MAX_TOKENS = 256;
export const DEFAULT_OVERLAP_LINES = 3;

export interface ChunkInput {
  /** Path relative to the indexed root, `/`-separated (used for language detection and ids). */
  path: string;
  text: string;
  /** Language id (see `detectLanguage`); detected from the path when absent. */
  language?: string;
}

export interface ChunkOptions {
  /** Largest chunk, in tokens of `tokenCounter`, header included. Default 256. */
  maxTokens?: number;
  /** Overlap between line windows that had to be cut mid-block. Default 3. */
  overlapLines?: number;
  /** Default: a `HeuristicTokenCounter`. */
  tokenCounter?: TokenCounter;
  /** Where the tree-sitter wasm files are (see treesitter.ts `init`); used on first use only. */
  wasmDir?: string;
}

/** Languages whose line windows only break at paragraph breaks (other lines get overlap). */
const PROSE: ReadonlySet<string> = new Set(['plaintext', 'markdown', 'restructuredtext', 'asciidoc', 'latex']);

/** Kinds whose function members are methods. */
const CLASS_LIKE: ReadonlySet<ChunkKind> = new Set<ChunkKind>(['class', 'interface', 'enum']);

/** Lines that only close something (`}`, `end`, `#endif`): they join the piece above. */
const CLOSER_ROW = /^\s*(?:[\])}]+[\s\])};,]*(?:\/\/.*|\/\*.*\*\/\s*)?|[;,]+|end|fi|done|esac|#\s*endif\b.*)\s*$/;
const OPENER_ROW = /^\s*[{([]+\s*$/;
/** Lines that only open or label what follows (`{`, `private:`, `#else`): they join the piece below. */
const LABEL_ROW = /^\s*(?:[{([]+|(?:public|private|protected|internal)\s*:|#\s*else\b.*)\s*$/;

/**
 * Row-shape patterns are tried on rows up to this length only: CLOSER_ROW backtracks
 * quadratically on a long run of spaces (`)` + 100 000 spaces + `x` took seconds), and no row that
 * only closes or labels something is this long.
 */
const SHAPE_ROW_CHARS = 256;
const closerRow = (line: string) => line.length <= SHAPE_ROW_CHARS && CLOSER_ROW.test(line);
const labelRow = (line: string) => line.length <= SHAPE_ROW_CHARS && LABEL_ROW.test(line);
const openerRow = (line: string) => line.length <= SHAPE_ROW_CHARS && OPENER_ROW.test(line);

const ROW_COMMENT = 1;
const ROW_ATTACH = 2;

interface Piece {
  start: number; // 0-based row, inclusive
  end: number;
  kind: ChunkKind;
  symbols: string[];
  header: string;
  /** Only for slices of an over-long line. */
  text?: string;
}

interface Window {
  start: number;
  end: number;
  text?: string;
}

interface Def {
  node: TSNode;
  info: DefInfo;
  start: number;
  end: number;
}

interface Scope {
  nodes: TSNode[];
  start: number;
  end: number;
  /** Members may take comment/decorator rows from here on (not the container's own first row). */
  bound: number;
  symbols: string[];
  /** Header of the definitions directly in this scope. */
  header: string;
  /** Header base of the leftover parts (container signature); '' = no part labels. */
  partBase: string;
  gapKind: ChunkKind;
  container?: ChunkKind;
  /** Rows of the container's own signature: alone, they join the piece below. */
  sigRows?: [number, number];
  /** Node under which statement depth is measured when leftovers are cut into windows. */
  depthRoot: TSNode;
}

function sha16(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 16);
}

function joinHeader(...parts: (string | undefined)[]): string {
  return parts.filter((p) => p).join(' > ');
}

function label(base: string, i: number, n: number): string {
  return base && n > 1 ? `${base} (part ${i}/${n})` : base;
}

function startRow(n: TSNode): number {
  return n.startPosition.row;
}

/** Last row that holds part of the node (a node ending at column 0 ends on the row before). */
function endRow(n: TSNode): number {
  const { row, column } = n.endPosition;
  return column === 0 && row > n.startPosition.row ? row - 1 : row;
}

/** Normalised source: BOM dropped, CRLF / CR → LF. */
export function normalizeSource(text: string): string {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return t.includes('\r') ? t.replace(/\r\n?/g, '\n') : t;
}

class FileChunker {
  readonly lines: string[];
  private readonly blank: boolean[];
  private readonly lineTokens: Int32Array;
  private readonly base: number;
  private rowFlags: Uint8Array | undefined;
  private spec: LangSpec | undefined;

  constructor(
    readonly source: string,
    private readonly counter: TokenCounter,
    private readonly max: number,
    private readonly overlap: number,
  ) {
    this.lines = source.split('\n');
    this.blank = this.lines.map((l) => l.trim() === '');
    this.lineTokens = new Int32Array(this.lines.length).fill(-1);
    this.base = counter.count('');
    this.rowCap = Math.max(64, max * 16);
  }

  /**
   * Rows longer than this many characters are always cut into slices of at most this length
   * (`cutRow`), whatever the token counter says: a model tokenizer counts a 100 000-character
   * word as one `[UNK]`, and the chunk would carry all of it. So every chunk's text is bounded by
   * the whole file's longest line, not only its first 64 KiB (discovery's sniff).
   */
  private readonly rowCap: number;

  get isBlankFile(): boolean {
    return this.blank.every((b) => b);
  }

  /* ------------------------------------------------------------ measuring */

  private textOf(s: number, e: number): string {
    return this.lines.slice(s, e + 1).join('\n');
  }

  private tokens(header: string, text: string): number {
    return this.counter.count(`${header}\n${text}`);
  }

  private readonly headerTokens = new Map<string, number>();

  /** Tokens of header (with the special tokens). */
  private headerTok(header: string): number {
    let n = this.headerTokens.get(header);
    if (n === undefined) this.headerTokens.set(header, (n = this.counter.count(header)));
    return n;
  }

  /** Exact tokens of header + rows s..e: from the lines' counts when the counter is additive. */
  private spanTokens(header: string, s: number, e: number): number {
    if (!this.counter.additiveAcrossLines) return this.tokens(header, this.textOf(s, e));
    let n = this.headerTok(header);
    for (let r = s; r <= e; r++) n += this.lineTok(r);
    return n;
  }

  private fits(header: string, s: number, e: number): boolean {
    return this.spanTokens(header, s, e) <= this.max;
  }

  private lineTok(r: number): number {
    let t = this.lineTokens[r]!;
    if (t < 0) {
      t = Math.max(0, this.counter.count(this.lines[r]!) - this.base);
      this.lineTokens[r] = t;
    }
    return t;
  }

  /** Largest e in [s, b] such that rows s..e fit under `header`; s - 1 if row s alone does not. */
  private maxEnd(header: string, s: number, b: number): number {
    if (this.lines[s]!.length > this.rowCap) return s - 1; // cut by cutRow, whatever its token count
    let acc = this.headerTok(header); // includes the special tokens once
    let e = s - 1;
    while (e < b) {
      if (this.lines[e + 1]!.length > this.rowCap) break;
      const t = this.lineTok(e + 1);
      if (acc + t > this.max && e >= s) break;
      acc += t;
      e++;
      if (acc > this.max) break; // first row over the estimate: let the exact count decide
    }
    let exact = this.spanTokens(header, s, e);
    while (exact > this.max) {
      const len = e - s + 1;
      if (len <= 1) return s - 1;
      const shorter = Math.min(len - 1, Math.max(1, Math.floor((len * this.max) / exact)));
      e = s + shorter - 1;
      exact = this.spanTokens(header, s, e);
    }
    return e;
  }

  /** Keeps a header within half the budget (long signatures are cut, with "…"). */
  capHeader(header: string): string {
    const budget = Math.floor(this.max / 2);
    // Characters first: a tokenizer may count a huge unbroken word as one token.
    if (header.length > this.rowCap / 2) header = `${header.slice(0, this.rowCap / 2)}…`;
    if (!header || this.counter.count(header) - this.base <= budget) return header;
    let lo = 0;
    let hi = header.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (this.counter.count(`${header.slice(0, mid)}…`) - this.base <= budget) lo = mid;
      else hi = mid - 1;
    }
    return `${header.slice(0, lo)}…`;
  }

  /** Cuts an over-long row into slices that each fit under `header`. */
  private cutRow(r: number, header: string): string[] {
    const line = this.lines[r]!;
    const out: string[] = [];
    let pos = 0;
    const cap = this.rowCap;
    while (pos < line.length) {
      const rest = line.length - pos;
      let k = Math.min(rest, cap);
      // Slices of one line are alike: try twice the previous slice's length before the whole cap.
      const guess = out.length ? Math.min(k, 2 * out[out.length - 1]!.length) : k;
      let full = this.tokens(header, line.slice(pos, pos + guess));
      if (full <= this.max && guess < k) full = this.tokens(header, line.slice(pos, pos + k));
      else k = guess;
      if (full > this.max) {
        // Largest length that fits, searched in [lo fits, hi does not]. Steps alternate between
        // interpolating on the token counts and halving: a few tokenisations per slice instead of
        // a dozen of the whole cap (a 100 000-character line of dense code took 2.4 s before).
        let lo = 1;
        let hi = k;
        let tLo = this.tokens(header, line.slice(pos, pos + 1));
        let tHi = full;
        if (tLo > this.max) hi = 1;
        for (let step = 0; hi - lo > 1; step++) {
          let mid = Math.floor((lo + hi) / 2);
          if (step % 2 === 0 && tHi > tLo) mid = lo + Math.floor(((hi - lo) * (this.max - tLo)) / (tHi - tLo));
          mid = Math.min(hi - 1, Math.max(lo + 1, mid));
          const t = this.tokens(header, line.slice(pos, pos + mid));
          if (t <= this.max) {
            lo = mid;
            tLo = t;
          } else {
            hi = mid;
            tHi = t;
          }
        }
        k = lo;
      }
      if (pos + k < line.length) {
        for (let j = k; j > k / 2; j--) {
          if (/[\s,;)\]}]/.test(line[pos + j - 1]!)) {
            k = j;
            break;
          }
        }
        const c = line.charCodeAt(pos + k - 1);
        if (k > 1 && c >= 0xd800 && c <= 0xdbff) k--; // never split a surrogate pair
      }
      out.push(line.slice(pos, pos + k));
      pos += k;
    }
    return out;
  }

  /* ------------------------------------------------------------ windows */

  private trimEnd(s: number, e: number): number {
    while (e > s && this.blank[e]) e--;
    return e;
  }

  /**
   * Cuts rows a..b into windows that fit under `header`. `score(r)` rates starting a window at
   * row r (lower is better, undefined = not a boundary); without a boundary in the second half
   * of a full window, the next window overlaps the previous by `overlap` rows.
   */
  private windows(a: number, b: number, header: string, score: (r: number) => number | undefined): Window[] {
    const out: Window[] = [];
    let s = a;
    for (;;) {
      while (s <= b && this.blank[s]) s++;
      if (s > b) break;
      const e = this.maxEnd(header, s, b);
      if (e < s) {
        for (const text of this.cutRow(s, header)) out.push({ start: s, end: s, text });
        s++;
        continue;
      }
      if (e >= b) {
        out.push({ start: s, end: this.trimEnd(s, b) });
        break;
      }
      let best = -1;
      let bestScore = Infinity;
      const minNext = s + Math.max(1, Math.ceil((e - s + 1) / 2));
      for (let r = e + 1; r >= minNext; r--) {
        if (this.blank[r]) continue;
        const sc = score(r);
        if (sc !== undefined && sc < bestScore) {
          bestScore = sc;
          best = r;
        }
      }
      if (best > s) {
        out.push({ start: s, end: this.trimEnd(s, best - 1) });
        s = best;
        continue;
      }
      out.push({ start: s, end: e });
      let next = Math.max(s + 1, e + 1 - this.overlap);
      if (next <= e && this.maxEnd(header, next, b) <= e) next = e + 1; // overlap would not advance
      s = next;
    }
    return out;
  }

  /** Boundary score for prose: only after a blank line (a paragraph break). */
  private proseScore = (r: number): number | undefined => (r > 0 && this.blank[r - 1] ? 0 : undefined);

  /** Boundary score for data / config / unsupported code: after a blank line, or an unindented line. */
  private dataScore = (r: number): number | undefined => {
    if (r > 0 && this.blank[r - 1]) return 0;
    return /^\S/.test(this.lines[r]!) ? 1 : undefined;
  };

  private firstCol(r: number): number {
    const m = /\S/.exec(this.lines[r]!);
    return m ? m.index : -1;
  }

  /**
   * Boundary score for code: depth (under `root`) of the shallowest named node that starts a row
   * at its first non-blank character, half a level better after a blank line. Computed on first
   * use: most regions fit in one window and never ask.
   */
  private codeScore(root: TSNode, a: number, b: number): (r: number) => number | undefined {
    let best: Float64Array | undefined;
    return (r) => {
      best ??= this.rowDepths(root, a, b);
      const d = r >= a && r <= b ? best[r - a]! : Infinity;
      if (d === Infinity || openerRow(this.lines[r]!)) return undefined; // never start at a bare `{`
      return r > 0 && this.blank[r - 1] ? d - 0.5 : d;
    };
  }

  private rowDepths(root: TSNode, a: number, b: number): Float64Array {
    const best = new Float64Array(b - a + 1).fill(Infinity);
    const cursor = root.walk();
    let depth = 0;
    try {
      walk: for (;;) {
        const sr = cursor.startPosition.row;
        const er = cursor.endPosition.row;
        const overlaps = er >= a && sr <= b;
        if (overlaps && cursor.nodeIsNamed && sr >= a && cursor.startPosition.column === this.firstCol(sr) && depth < best[sr - a]!) {
          best[sr - a] = depth;
        }
        // Children of a one-row node start on that row, deeper: they cannot improve it.
        if (overlaps && er > sr && cursor.gotoFirstChild()) {
          depth++;
          continue;
        }
        for (;;) {
          if (depth === 0) break walk;
          // Siblings are in order: once one starts after b, the rest do too.
          if (cursor.startPosition.row <= b && cursor.gotoNextSibling()) break;
          cursor.gotoParent();
          depth--;
        }
      }
    } finally {
      cursor.delete();
    }
    return best;
  }

  /**
   * Windows for rows a..b whose headers are `base (part i/n)`: measured with the widest label
   * the count can need, so the final (shorter or equal) labels still fit.
   */
  private labelledWindows(regions: Array<[number, number]>, base: string, score: (a: number, b: number) => (r: number) => number | undefined): Window[][] {
    let digits = 2;
    for (;;) {
      const measureHeader = base ? `${base} (part ${'9'.repeat(digits)}/${'9'.repeat(digits)})` : base;
      const result = regions.map(([a, b]) => this.windows(a, b, measureHeader, score(a, b)));
      const n = result.reduce((sum, w) => sum + w.length, 0);
      if (!base || String(n).length <= digits) return result;
      digits = String(n).length;
    }
  }

  /* ------------------------------------------------------------ plain text / markdown */

  chunkLines(prose: boolean): Piece[] {
    return this.windows(0, this.lines.length - 1, '', prose ? this.proseScore : this.dataScore).map((w) => ({ ...w, kind: 'lines' as const, symbols: [], header: '' }));
  }

  chunkMarkdown(): Piece[] {
    const headings: Array<{ row: number; level: number; title: string }> = [];
    let fence: { ch: string; len: number } | undefined;
    this.lines.forEach((line, row) => {
      const f = /^ {0,3}(`{3,}|~{3,})/.exec(line);
      if (f) {
        const ch = f[1]![0]!;
        const len = f[1]!.length;
        if (!fence) fence = { ch, len };
        else if (fence.ch === ch && len >= fence.len && line.trim() === f[1]) fence = undefined;
        return;
      }
      if (fence) return;
      const h = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
      if (h) headings.push({ row, level: h[1]!.length, title: (h[2] ?? '').trim() || '(untitled)' });
    });

    const sections: Array<{ start: number; end: number; header: string }> = [];
    const last = this.lines.length - 1;
    const firstRow = headings.length ? headings[0]!.row : last + 1;
    if (firstRow > 0) sections.push({ start: 0, end: firstRow - 1, header: '' });
    const path: Array<{ level: number; title: string }> = [];
    let pendingStart: number | undefined;
    headings.forEach((h, i) => {
      while (path.length && path[path.length - 1]!.level >= h.level) path.pop();
      path.push(h);
      const end = i + 1 < headings.length ? headings[i + 1]!.row - 1 : last;
      const next = headings[i + 1];
      const start = pendingStart ?? h.row;
      let empty = true;
      for (let r = h.row + 1; r <= end; r++) if (!this.blank[r]) empty = false;
      // A heading directly followed by a deeper heading travels with it (its title is in the path).
      if (empty && next && next.level > h.level) {
        pendingStart = start;
        return;
      }
      pendingStart = undefined;
      sections.push({ start, end, header: this.capHeader(path.map((p) => p.title).join(' > ')) });
    });

    const out: Piece[] = [];
    for (const sec of sections) {
      let s = sec.start;
      while (s <= sec.end && this.blank[s]) s++;
      if (s > sec.end) continue;
      const e = this.trimEnd(s, sec.end);
      if (this.fits(sec.header, s, e)) {
        out.push({ start: s, end: e, kind: 'section', symbols: [], header: sec.header });
        continue;
      }
      const [wins] = this.labelledWindows([[s, e]], sec.header, () => this.proseScore);
      wins!.forEach((w, i) => out.push({ ...w, kind: 'section', symbols: [], header: label(sec.header, i + 1, wins!.length) }));
    }
    return out;
  }

  /* ------------------------------------------------------------ code */

  chunkTree(root: TSNode, spec: LangSpec): Piece[] {
    this.spec = spec;
    this.rowFlags = this.markRows(root, spec);
    const rootScope: Scope = {
      nodes: root.namedChildren.filter((n): n is TSNode => n !== null),
      start: 0,
      end: this.lines.length - 1,
      bound: 0,
      symbols: [],
      header: '',
      partBase: '',
      gapKind: 'module',
      depthRoot: root,
    };
    return this.scope(rootScope);
  }

  /** Rows that are only a comment (ROW_COMMENT) or only a decorator/attribute (ROW_ATTACH). */
  private markRows(root: TSNode, spec: LangSpec): Uint8Array {
    const flags = new Uint8Array(this.lines.length);
    if (spec.comments.size + spec.attach.size === 0) return flags;
    // One walk of the tree for both kinds (each walk visits every node in the grammar's wasm);
    // comments are marked first, so a row both could mark stays a comment row.
    const found = root.descendantsOfType([...spec.comments, ...spec.attach]);
    const mark = (types: ReadonlySet<string>, flag: number): void => {
      for (const n of found) {
        if (!n || !types.has(n.type)) continue;
        const sr = startRow(n);
        const er = endRow(n);
        if (this.lines[sr]!.slice(0, n.startPosition.column).trim() !== '') continue;
        if (n.endPosition.row === er && this.lines[er]!.slice(n.endPosition.column).trim() !== '') continue;
        for (let r = sr; r <= er; r++) if (!flags[r]) flags[r] = flag;
      }
    };
    mark(spec.comments, ROW_COMMENT);
    mark(spec.attach, ROW_ATTACH);
    return flags;
  }

  private indent(r: number): number {
    const c = this.firstCol(r);
    return c < 0 ? Infinity : c;
  }

  private collectDefs(scope: Scope): Def[] {
    const spec = this.spec!;
    const found: Def[] = [];
    const visit = (n: TSNode): void => {
      if (spec.flatten.has(n.type)) {
        for (const c of n.namedChildren) if (c) visit(c);
        return;
      }
      const info = spec.classify(n);
      if (info) found.push({ node: n, info, start: startRow(n), end: endRow(n) });
    };
    for (const n of scope.nodes) visit(n);
    found.sort((x, y) => x.start - y.start);

    const flags = this.rowFlags!;
    const defs: Def[] = [];
    let prevEnd = scope.bound - 1;
    for (const d of found) {
      if (d.start < scope.start || d.start > scope.end) continue;
      d.end = Math.min(d.end, scope.end); // the container may have shed trailing comments
      if (d.start <= prevEnd) {
        // shares a row with the previous definition: it rides along in that one's chunk
        const last = defs[defs.length - 1];
        if (last) last.end = Math.max(last.end, d.end);
        prevEnd = Math.max(prevEnd, d.end);
        continue;
      }
      let s = d.start;
      while (s - 1 > prevEnd && flags[s - 1]) s--;
      // Comments after the body that are not indented into it belong to what follows (Python
      // blocks swallow them).
      const ind = this.indent(d.start);
      let e = d.end;
      while (e > d.start && (this.blank[e] || (flags[e] === ROW_COMMENT && this.indent(e) <= ind))) e--;
      defs.push({ ...d, start: s, end: e });
      prevEnd = e;
    }
    return defs;
  }

  /** Where the signature starts: after decorators, attributes, annotations and comments. */
  private signature(node: TSNode, info: DefInfo): string {
    let start = node.startIndex;
    for (const child of node.children) {
      if (!child) continue;
      if (child.isNamed && SIGNATURE_SKIP.has(child.type)) continue;
      if (child.type === 'modifiers') {
        const inner = child.children.find((c) => c !== null && !(c.isNamed && SIGNATURE_SKIP.has(c.type)));
        if (!inner) continue;
        start = inner.startIndex;
        break;
      }
      start = child.startIndex;
      break;
    }
    const body = info.body;
    let end = body && body.startIndex > start ? body.startIndex : node.endIndex;
    for (const child of node.children) {
      if (child && child.startIndex > start && child.startIndex < end && this.spec!.comments.has(child.type)) {
        end = child.startIndex; // a comment between the signature and the body
        break;
      }
    }
    let sig = this.source.slice(start, end);
    if (!(body && body.startIndex > start)) sig = sig.split('\n')[0]!;
    sig = sig.replace(/\s+/g, ' ').trim().replace(/\s*(?:\{|:|=>)$/, '');
    if (sig.length > 160) sig = `${sig.slice(0, 159)}…`;
    return sig;
  }

  /**
   * Whether a leftover run carries no meaning alone, and which neighbour it joins: 'up' (only
   * closers), 'down' (labels, the container's bare signature), or false (real content).
   */
  private trivialRun(scope: Scope, a: number, b: number): 'up' | 'down' | false {
    let closersOnly = true;
    for (let r = a; r <= b; r++) {
      if (this.blank[r]) continue;
      const line = this.lines[r]!;
      if (closerRow(line)) continue;
      closersOnly = false;
      if (labelRow(line)) continue;
      if (scope.sigRows && r >= scope.sigRows[0] && r <= scope.sigRows[1] && !this.rowFlags![r]) continue;
      return false;
    }
    return closersOnly ? 'up' : 'down';
  }

  private scope(scope: Scope): Piece[] {
    const defs = this.collectDefs(scope);

    // Interleave gap runs (rows not in any definition) with the definitions.
    type Item = { def: Def } | { run: [number, number]; trivial: 'up' | 'down' | false };
    const items: Item[] = [];
    const pushRun = (a: number, b: number): void => {
      while (a <= b && this.blank[a]) a++;
      while (b >= a && this.blank[b]) b--;
      if (a <= b) items.push({ run: [a, b], trivial: this.trivialRun(scope, a, b) });
    };
    let row = scope.start;
    for (const def of defs) {
      pushRun(row, def.start - 1);
      items.push({ def });
      row = def.end + 1;
    }
    pushRun(row, scope.end);

    // Leftover code, cut into windows; numbered as parts of the container when it has a name.
    const runs = items.filter((it): it is { run: [number, number]; trivial: false } => 'run' in it && !it.trivial);
    const base = scope.partBase;
    const score = (a: number, b: number): ((r: number) => number | undefined) => this.codeScore(scope.depthRoot, a, b);
    const regions = runs.map((it) => it.run);
    const windows = base ? this.labelledWindows(regions, base, score) : regions.map(([a, b]) => this.windows(a, b, scope.header, score(a, b)));
    const total = windows.reduce((sum, w) => sum + w.length, 0);

    // Closers join the piece above; labels and a bare container signature the piece below (else
    // the other neighbour, else they stand alone). Runs and definitions alternate, so at most
    // one trivial run waits for the piece below at any time.
    const pieces: Piece[] = [];
    let pending: [number, number] | undefined;
    const merge = (target: Piece | undefined, a: number, b: number): boolean => {
      if (!target || target.text !== undefined) return false;
      const s = Math.min(target.start, a);
      const e = Math.max(target.end, b);
      if (!this.fits(target.header, s, e)) return false;
      target.start = s;
      target.end = e;
      return true;
    };
    const alone = (a: number, b: number): void => {
      for (const w of this.windows(a, b, scope.header, score(a, b))) pieces.push({ ...w, kind: scope.gapKind, symbols: scope.symbols, header: scope.header });
    };
    const emit = (p: Piece): void => {
      if (pending) {
        const [a, b] = pending;
        pending = undefined;
        if (!merge(p, a, b) && !merge(pieces[pieces.length - 1], a, b)) alone(a, b);
      }
      pieces.push(p);
    };
    let part = 0;
    let runIndex = 0;
    for (const it of items) {
      if ('def' in it) {
        for (const p of this.definition(it.def, scope)) emit(p);
      } else if (!it.trivial) {
        for (const w of windows[runIndex++]!) {
          part++;
          const header = base ? label(base, part, total) : scope.header;
          emit({ ...w, kind: scope.gapKind, symbols: scope.symbols, header });
        }
      } else if (it.trivial === 'down' || !merge(pieces[pieces.length - 1], it.run[0], it.run[1])) {
        if (pending) alone(...pending);
        pending = it.run;
      }
    }
    if (pending && !merge(pieces[pieces.length - 1], ...pending)) alone(...pending);
    return pieces;
  }

  private definition(def: Def, scope: Scope): Piece[] {
    const { node, info } = def;
    const symbols = info.transparent ? scope.symbols : [...scope.symbols, ...(info.qualifier ?? []), info.name];
    const kind: ChunkKind = info.kind === 'function' && scope.container && CLASS_LIKE.has(scope.container) ? 'method' : info.kind;
    const context = this.capHeader(joinHeader(scope.header, info.context));
    const sig = this.signature(node, info);
    const own = this.capHeader(info.context && sig.includes(info.context) ? joinHeader(scope.header, sig) : joinHeader(context, sig));

    const body = info.body;
    const members = body ? body.namedChildren.filter((n): n is TSNode => n !== null) : [];
    if (info.transparent) {
      return this.scope({
        nodes: members,
        start: def.start,
        end: def.end,
        bound: startRow(node) + 1,
        symbols,
        header: own,
        partBase: '',
        gapKind: 'module',
        container: scope.container,
        sigRows: this.sigRows(node, body),
        depthRoot: node,
      });
    }
    if (this.fits(context, def.start, def.end)) {
      return [{ start: def.start, end: def.end, kind, symbols, header: context }];
    }
    if (body && members.length) {
      return this.scope({
        nodes: members,
        start: def.start,
        end: def.end,
        bound: startRow(node) + 1,
        symbols,
        header: own,
        partBase: own,
        gapKind: kind,
        container: kind,
        sigRows: this.sigRows(node, body),
        depthRoot: node,
      });
    }
    const [wins] = this.labelledWindows([[def.start, def.end]], own, (a, b) => this.codeScore(node, a, b));
    return wins!.map((w, i) => ({ ...w, kind, symbols, header: label(own, i + 1, wins!.length) }));
  }

  /** Rows from the definition's first row to the row before its body's first own line. */
  private sigRows(node: TSNode, body: TSNode | undefined): [number, number] {
    const first = startRow(node);
    if (!body) return [first, first];
    const br = startRow(body);
    const bodyOwnsRow = body.startPosition.column === this.firstCol(br);
    return [first, Math.max(first, bodyOwnsRow ? br - 1 : br)];
  }

  /* ------------------------------------------------------------ output */

  finalize(pieces: Piece[], path: string, language: string): Chunk[] {
    const ordered = pieces.map((p, i) => ({ p, i })).sort((x, y) => x.p.start - y.p.start || x.p.end - y.p.end || x.i - y.i);
    const seen = new Map<string, number>();
    return ordered.map(({ p }) => {
      const text = p.text ?? this.textOf(p.start, p.end);
      const hash = sha16(`${p.header}\n${text}`);
      const sym = p.symbols.join('.');
      const key = `${p.kind}\0${sym}\0${hash}`;
      const ordinal = seen.get(key) ?? 0;
      seen.set(key, ordinal + 1);
      return {
        id: sha16(`${path}\n${p.kind}\n${sym}\n${hash}\n${ordinal}`),
        path,
        startLine: p.start + 1,
        endLine: p.end + 1,
        language,
        kind: p.kind,
        symbols: [...p.symbols],
        header: p.header,
        text,
        hash,
      };
    });
  }
}

/**
 * Chunks one file. Async because the tree-sitter runtime and grammar load on first use (once
 * per thread); initialisation problems (wasm files not found) reject, while a file the parser
 * cannot handle falls back to line windows.
 */
export async function chunkFile(input: ChunkInput, opts: ChunkOptions = {}): Promise<Chunk[]> {
  const language = input.language ? normalizeLanguage(input.language) : detectLanguage(input.path, input.text);
  const maxTokens = opts.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (!Number.isFinite(maxTokens) || maxTokens < 8) throw new Error(`chunkFile: maxTokens must be at least 8 (got ${maxTokens})`);
  const counter = opts.tokenCounter ?? new HeuristicTokenCounter();
  const overlap = Math.max(0, Math.floor(opts.overlapLines ?? DEFAULT_OVERLAP_LINES));
  const chunker = new FileChunker(normalizeSource(input.text), counter, maxTokens, overlap);
  if (chunker.isBlankFile) return [];

  let pieces: Piece[] | undefined;
  const spec = specFor(language);
  if (spec) {
    if (opts.wasmDir) await init({ wasmDir: opts.wasmDir });
    let tree: TSTree | undefined;
    try {
      tree = await parse(language, chunker.source);
    } catch (err) {
      if (isInitError(err)) throw err;
      tree = undefined; // the parser gave up on this file: line windows below
    }
    if (tree) {
      try {
        pieces = chunker.chunkTree(tree.rootNode, spec);
      } finally {
        tree.delete();
      }
    }
  }
  if (!pieces) pieces = language === 'markdown' ? chunker.chunkMarkdown() : chunker.chunkLines(PROSE.has(language));
  return chunker.finalize(pieces, input.path, language);
}

function isInitError(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('tree-sitter:');
}
