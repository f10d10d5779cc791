import { type SymbolName, chunkDefines, questionSymbols } from './definitions';
import { type FileRole, fileRole } from '../query/roles';
import type { Understanding } from '../query/understand';
import type { Candidate } from './types';

/**
 * File-level evidence for a question (issue 19): what the candidate list says about each *file*,
 * not only about its best chunk. Everything is computed from the candidates themselves (their
 * chunks' symbols, paths and text, and the scores the earlier stages gave them), so it costs no
 * index access and gives the same result online (`sift ask`) and offline (`sift eval` dumps).
 *
 * - aggregation: a file's score is its best chunk's relative score plus a decayed sum of its next
 *   best chunks (a file several chunks of which match is more likely the one to change);
 * - definition vs use: a file that *defines* an identifier the question names (a chunk whose
 *   symbol path ends with it, e.g. `Foo.bar` or `bar`) outranks files that merely mention it;
 * - path: a traceback frame or a written path naming the file, or its file stem written as a word;
 * - import proximity: a file that imports, or is imported by, a file the question names.
 */

/**
 * The weights (set by hand, then checked on the tuning split of scripts/eval-issues.sh only):
 * a file's 2nd, 3rd … best chunk count with geometric decay `decay` (`top` chunks at most); the
 * rest are multipliers on a file's score.
 */
export interface EvidenceWeights {
  decay: number;
  top: number;
  definesQualified: number;
  definesName: number;
  frame: number;
  frameLine: number;
  path: number;
  stem: number;
  imports: number;
  /**
   * Exponent on the role prior (src/core/query/roles.ts): 0 switches roles off, 1 uses it as is.
   * 20 (chosen on the tuning split: 1 → 57.3, 5 → 60.3, 10 → 61.0, 20 → 61.3 pooled Acc@5; bm25
   * 51.7) makes roles nearly a tier: for a bug report a test or doc chunk needs ~10⁶ times the
   * evidence of an implementation chunk, i.e. implementation files first, as the question's kind asks.
   */
  roles: number;
  /**
   * The exponent when the question asks about tests or docs: those answers are the tests or docs
   * *and* the code they cover, so the preference stays mild there (1: the prior as is).
   */
  rolesAsked: number;
  /**
   * The exponent for a how-it-works question (kind `explanation`): 1, the prior as is (tests ×0.5,
   * docs ×0.85) — an understanding question's answer often includes the tests and docs that show
   * how the code behaves. Chosen leave-one-repository-out on SWE-QA among 0 / 0.5 / 1 / 2 / 5 / 20
   * (1 in every fold; docs/eval.md); 20, the bug-report value, lost up to 4 questions of Acc@5 there.
   */
  rolesExplain: number;
  /**
   * Files defining a symbol the question names, looked up in the whole index
   * (src/core/search/definitionLookup.ts): a name defined in more files than this adds none (0
   * switches the lookup off). 5, chosen on the tuning split (pooled `+q` Acc@5 at 0 / 1 / 3 / 4 /
   * 5 / 8 / 16: 75.0 / 75.0 / 75.3 / 75.7 / 75.7 / 75.7 / 75.7; docs/eval.md) …
   */
  lookupFiles: number;
  /**
   * … and each added definition enters at this fraction of the list's best score, before the
   * prior's boosts; 0 (chosen there: same Acc@5 as 0.3 / 0.5, best MRR@10) enters it as the list's weakest.
   */
  lookupScore: number;
  /**
   * Neighbours of the first stage's top files (src/core/search/neighbours.ts): how many top files
   * (0: off) …
   */
  nbFrom: number;
  /** … and the score a neighbour enters with, as a fraction of its top file's relative score, per kind (0: that kind off): a test's subject by name, … */
  nbSubject: number;
  /** … a file a top file imports, … */
  nbImport: number;
  /** … a source file's type stub or declaration. */
  nbStub: number;
  /** Pseudo-relevance feedback (src/core/search/feedback.ts): the top files its terms come from (0: off), … */
  prfFiles: number;
  /** … how many terms it searches, … */
  prfTerms: number;
  /** … and the fraction of the list's best a feedback hit enters with, times its score relative to the feedback search's best. */
  prfScore: number;
  /**
   * How deep the prior looks for a report, as a multiple of K (src/core/search/namedFiles.ts
   * `priorDepth`): the reranked top K and the first stage's next candidates down to depth × K.
   * 2, chosen on the tuning split (pooled `+q` Acc@5 at K / 1.5 K / 2 K: 71.3 / 73.0 / 75.0).
   * Re-measured on 200-deep dumps (2026-12-08; 1 / 1.5 / 2 / 3 / 4: 72.3 / 74.0 / 76.3 / 77.7 /
   * 77.7): 3 is 4 questions of 300 better, within noise, and would need every retriever to look
   * deeper than 2 K, which changes a hybrid top K — so it stays 2.
   */
  depth: number;
}

export const DEFAULT_EVIDENCE_WEIGHTS: Readonly<EvidenceWeights> = {
  decay: 0.3,
  top: 3,
  definesQualified: 1.6,
  definesName: 1.3,
  frame: 2,
  frameLine: 1.25,
  path: 2,
  stem: 1.15,
  imports: 1.2,
  roles: 20,
  rolesAsked: 1,
  rolesExplain: 1,
  lookupFiles: 5,
  lookupScore: 0,
  nbFrom: 0,
  nbSubject: 0,
  nbImport: 0,
  nbStub: 0,
  prfFiles: 3,
  prfTerms: 12,
  prfScore: 0.2,
  depth: 2,
};

export interface FileEvidence {
  /** Folder-qualified file key (multi-root: the folder's name, NUL, the path). */
  key: string;
  path: string;
  role: FileRole;
  /** Relative score of the file's chunks, best first (each in (0, 1]). */
  scores: number[];
  /** Best relative score plus the decayed sum of the next ones. */
  aggregate: number;
  /** Product of the boosts below (1 when nothing matched). */
  boost: number;
  matched: string[];
}

const fileKey = (c: Candidate) => `${c.folder ?? ''}\u0000${c.chunk.path}`;

/**
 * Each candidate's score relative to the list's best, in (0, 1], from the last stage that scored
 * the list: learning-to-rank and cross-encoder scores (any sign) through exp(z − z_max) of the
 * standardised score; BM25 scores as score / best; otherwise the fused score / best.
 */
export function relativeScores(candidates: readonly Candidate[]): number[] {
  const pick = (c: Candidate) => c.provenance.ltr?.score ?? c.provenance.rerank?.score;
  if (candidates.length && candidates.every((c) => pick(c) !== undefined)) {
    const s = candidates.map((c) => pick(c)!);
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length) || 1;
    const max = Math.max(...s);
    return s.map((v) => Math.exp((v - max) / sd));
  }
  const lex = candidates.every((c) => c.provenance.lexical && !c.provenance.dense);
  const raw = candidates.map((c) => (lex ? c.provenance.lexical!.score : c.provenance.fused.score));
  const max = Math.max(0, ...raw);
  return raw.map((v) => (max > 0 ? Math.max(v, 1e-6 * max) / max : 1));
}

/** The symbols a question names, in matching form (definitions.ts questionSymbols: qualified `owner.name` pairs, bare last parts). */
export function namedSymbols(u: Understanding): { qualified: SymbolName[]; bare: SymbolName[] } {
  return questionSymbols(u);
}

/** Whether a chunk's symbol path defines a named symbol (definitions.ts chunkDefines without its text part): 'qualified', 'name' or undefined. */
export function definesNamed(symbols: readonly string[], named: { qualified: readonly SymbolName[]; bare: readonly SymbolName[] }): 'qualified' | 'name' | undefined {
  return chunkDefines({ symbols, text: '' }, named, { text: false })?.how;
}

/**
 * Does a mentioned path (absolute, from another machine, site-packages, ./-prefixed…) name this indexed file? Trailing segments agree: at least two, or all of the shorter one's.
 * With `compiled` (the default), a compiled `.js` path also names its TypeScript source, below the build folder.
 */
export function pathMatches(path: string, mentioned: string, compiled = true): boolean {
  const a = path.split('/').filter((x) => x && x !== '.');
  const b = mentioned.split('/').filter((x) => x && x !== '.');
  if (suffixMatch(a, b)) return true;
  // A stack trace through an installed TypeScript package names its compiled JavaScript
  // (node_modules/got/dist/source/core/index.js:12): that is the source file source/core/index.ts.
  // Its line numbers are the compiled file's, so line checks pass `compiled` false.
  if (!compiled || !TS_SOURCE.test(path) || !COMPILED_JS.test(mentioned)) return false;
  let build = b.length - 1;
  while (build >= 0 && !BUILD_DIRS.has(b[build]!)) build--;
  const rest = b.slice(build + 1);
  if (!rest.length) return false;
  return suffixMatch([...a.slice(0, -1), a[a.length - 1]!.replace(TS_SOURCE, '')], [...rest.slice(0, -1), rest[rest.length - 1]!.replace(COMPILED_JS, '')]);
}

/** Folders a TypeScript package's compiled output lives in. */
const BUILD_DIRS = new Set(['dist', 'distribution', 'build', 'out', 'lib', 'esm', 'cjs', 'es', 'umd']);
const TS_SOURCE = /\.(?:ts|tsx|mts|cts)$/;
const COMPILED_JS = /\.(?:js|mjs|cjs|jsx)$/;

function suffixMatch(a: readonly string[], b: readonly string[]): boolean {
  let same = 0;
  while (same < a.length && same < b.length && a[a.length - 1 - same] === b[b.length - 1 - same]) same++;
  return same > 0 && same >= Math.min(2, a.length, b.length);
}

const PY_IMPORT = /^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import\b|import[ \t]+([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*))/gm;
const JS_IMPORT = /(?:\bfrom[ \t]*|\brequire\(\s*|\bimport\(\s*|^[ \t]*import[ \t]+)['"]([^'"\n]{1,300})['"]/gm;
const GO_IMPORT = /^[ \t]*(?:import[ \t]+)?(?:[\w.]+[ \t]+)?"([\w./-]{1,300})"[ \t]*$/gm;
const RUST_USE = /^[ \t]*(?:pub[ \t]+)?(?:use|mod)[ \t]+((?:crate|super|self)?(?:::)?[\w:]+)/gm;

/**
 * Module specifiers a chunk's text imports, as path-like suffixes relative to the repository
 * ("pkg/sub/mod", "./util" resolved against the file's folder, ".helpers" against the package).
 */
export function importsOf(path: string, text: string): string[] {
  const out = new Set<string>();
  const dir = path.split('/').slice(0, -1);
  const lang = /\.pyi?$/.test(path) ? 'py' : /\.[cm]?[jt]sx?$/.test(path) ? 'js' : /\.go$/.test(path) ? 'go' : /\.rs$/.test(path) ? 'rs' : '';
  const resolve = (parts: string[]) => {
    const stack = [...dir];
    for (const p of parts) {
      if (p === '..') stack.pop();
      else if (p !== '.' && p) stack.push(p);
    }
    return stack.join('/');
  };
  if (lang === 'py') {
    for (const m of text.matchAll(PY_IMPORT)) {
      for (const spec of m[1] !== undefined ? [m[1]] : m[2]!.split(',').map((s) => s.trim())) {
        const dots = /^\.*/.exec(spec)![0].length;
        const rest = spec.slice(dots).split('.').filter(Boolean);
        if (!dots) out.add(rest.join('/'));
        else out.add(resolve([...Array<string>(dots - 1).fill('..'), ...rest]));
      }
    }
  } else if (lang === 'js') {
    for (const m of text.matchAll(JS_IMPORT)) {
      const spec = m[1]!;
      out.add(spec.startsWith('.') ? resolve(spec.replace(/\.[cm]?[jt]sx?$/, '').split('/')) : spec);
    }
  } else if (lang === 'go') {
    for (const m of text.matchAll(GO_IMPORT)) out.add(m[1]!);
  } else if (lang === 'rs') {
    for (const m of text.matchAll(RUST_USE)) out.add(m[1]!.replace(/^(?:crate|self|super)?::/, '').split('::').slice(0, 2).join('/'));
  }
  out.delete('');
  return [...out];
}

/** Module specifiers a test imports: importsOf, plus `from pkg import mod` read as pkg/mod (Python). */
export function testImports(p: string, text: string): string[] {
  const out = new Set(importsOf(p, text));
  if (/\.pyi?$/.test(p)) {
    for (const m of text.matchAll(/^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+\(?([\w \t,]+)/gm)) {
      const pkg = m[1]!.replace(/^\.+/, '').split('.').filter(Boolean).join('/');
      if (!pkg) continue;
      for (const n of m[2]!.split(',')) {
        const name = n.trim().split(/\s+/)[0];
        if (name && /^[a-z_][a-z0-9_]*$/.test(name)) out.add(`${pkg}/${name}`);
      }
    }
  }
  return [...out];
}

/** Whether an import specifier (see importsOf) names this file: its module path ends with the specifier, or it is that package's index / __init__. */
export function importNames(spec: string, filePath: string): boolean {
  const mod = filePath.replace(/\.[^./]+$/, '').replace(/\/(?:__init__|index|mod)$/, '');
  const s = spec.replace(/\/(?:__init__|index|mod)$/, '');
  if (!s || !mod) return false;
  if (mod === s || mod.endsWith(`/${s}`)) return true;
  // Go imports name a package (a folder); a file inside that folder belongs to it.
  const folder = filePath.split('/').slice(0, -1).join('/');
  return /\.go$/.test(filePath) && folder !== '' && (folder === s || s.endsWith(`/${folder}`) || folder.endsWith(`/${s}`));
}

const GENERIC_STEMS = new Set(['index', 'main', 'init', '__init__', 'utils', 'util', 'helpers', 'types', 'core', 'base', 'common', 'test', 'tests', 'setup', 'readme', 'changelog', 'mod', 'lib']);

/** The file-level evidence of every file in the list, by file key. */
export function fileEvidence(candidates: readonly Candidate[], u: Understanding, w: Readonly<EvidenceWeights> = DEFAULT_EVIDENCE_WEIGHTS): Map<string, FileEvidence> {
  const rel = relativeScores(candidates);
  const named = namedSymbols(u);
  const words = new Set(u.identifiers.map((s) => s.toLowerCase()));
  const files = new Map<string, FileEvidence & { defines?: 'qualified' | 'name'; defined?: string; imports: Set<string> }>();
  candidates.forEach((c, i) => {
    const key = fileKey(c);
    let f = files.get(key);
    if (!f) {
      f = { key, path: c.chunk.path, role: fileRole(c.chunk.path), scores: [], aggregate: 0, boost: 1, matched: [], imports: new Set() };
      files.set(key, f);
    }
    f.scores.push(rel[i]!);
    // The shared rule (definitions.ts chunkDefines); the text is read only while the file has no definition yet.
    const d = chunkDefines(c.chunk, named, { text: !f.defines });
    if (d && (!f.defines || (d.how === 'qualified' && f.defines === 'name'))) {
      f.defines = d.how;
      f.defined = d.defined;
    }
    for (const spec of importsOf(c.chunk.path, c.chunk.text)) f.imports.add(spec);
  });
  const mentioned = [...u.frames.map((f) => f.path), ...u.paths];
  const anchors = [...files.values()].filter((f) => mentioned.some((m) => pathMatches(f.path, m)));
  for (const f of files.values()) {
    f.scores.sort((a, b) => b - a);
    f.aggregate = f.scores.slice(0, w.top).reduce((s, v, i) => s + v * w.decay ** i, 0);
    let boost = 1;
    const frame = u.frames.find((fr) => pathMatches(f.path, fr.path));
    if (frame) {
      boost *= w.frame;
      f.matched.push(`traceback frame ${frame.path}:${frame.line}`);
    } else {
      const p = u.paths.find((m) => pathMatches(f.path, m));
      if (p) {
        boost *= w.path;
        f.matched.push(`path ${p}`);
      } else {
        const stem = f.path.split('/').pop()!.replace(/\.[^.]+$/, '').toLowerCase();
        if (stem.length >= 4 && !GENERIC_STEMS.has(stem) && (words.has(stem) || [...words].some((x) => x.split('.').includes(stem)))) {
          boost *= w.stem;
          f.matched.push(`file name ${stem}`);
        }
      }
    }
    if (f.defines) {
      boost *= f.defines === 'qualified' ? w.definesQualified : w.definesName;
      f.matched.push(`defines ${f.defined}`);
    }
    if (!frame && anchors.length && !anchors.includes(f)) {
      const linked = anchors.find((a) => [...f.imports].some((s) => importNames(s, a.path)) || [...(a as typeof f).imports].some((s) => importNames(s, f.path)));
      if (linked) {
        boost *= w.imports;
        f.matched.push(`imports ${linked.path}`);
      }
    }
    f.boost = boost;
  }
  return files;
}

export { fileKey };
