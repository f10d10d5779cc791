import { codeTokens, pathTokens } from '../lexical/tokenize';
import { rolePrior } from '../query/roles';
import { type Understanding, understandQuestion } from '../query/understand';
import { definesNamed, fileEvidence, fileKey, namedSymbols, pathMatches } from '../search/fileEvidence';
import { roleExponent } from '../search/questionPrior';
import type { Candidate } from '../search/types';

/**
 * Per-candidate features for the learning-to-rank stage. Everything is computed in-process from
 * the question, the candidate's chunk and its provenance (which retriever found it, at what rank
 * and score), and the candidate list it belongs to (scores are normalised within the list, file
 * aggregates count a file's chunks in the list). No index access, no model call: a few
 * microseconds per candidate.
 *
 * Editor signals (file open, recently edited, near the cursor) are optional inputs; the CLI and
 * the offline training data have none, so they are 0 there. Files are matched by folder and path
 * (multi-root: the same relative path in two folders is two files).
 */
export const FEATURE_NAMES = [
  // lexical (BM25 over symbols/path/header/text)
  'lex_has',
  'lex_rr', // 1 / log2(1 + rank)
  'lex_rel', // score / best score in the list
  // dense (bi-encoder cosine)
  'dense_has',
  'dense_rr',
  'dense_gap', // cosine − best cosine in the list
  // reciprocal rank fusion
  'fused_rr',
  // cross-encoder
  'ce_has',
  'ce_rr',
  'ce_z', // score standardised within the list
  // query-term coverage per field, weighted by a list-local idf
  'cov_symbols',
  'cov_path',
  'cov_header',
  'cov_text',
  // identifiers named in the question
  'ident_symbol', // a question identifier equals one of the chunk's symbols
  'ident_symbol_inner', // … equals the innermost symbol
  'ident_path', // a question identifier names the file (stem) or a dotted module path matching it
  'names_file', // the question names the file ("provider.py" or its stem as a word)
  'names_segment', // share of the path's directory segments the question names
  // chunk kind and shape
  'kind_function',
  'kind_class',
  'kind_module',
  'kind_doc',
  'kind_lines',
  'is_test',
  'is_doc',
  'is_init',
  'is_example',
  'log_lines',
  'symbol_depth',
  'path_depth',
  // the chunk's file in the list
  'file_chunks', // log(1 + chunks of this file in the list)
  'file_best_rr', // 1 / log2(1 + best fused rank of the file)
  'file_lex_sum', // Σ lex_rel over the file's chunks in the list
  'file_rank_in_file', // 1 / (1 + this chunk's position among its file's chunks)
  'file_cov', // query-term coverage of the union of the file's chunks in the list
  'file_lex_max', // best lex_rel of the file's chunks
  'file_rank_rr', // 1 / log2(1 + the file's rank among the list's files, files ordered by their best chunk)
  'file_share', // share of the list's chunks that belong to this file
  'file_ident', // some chunk of this file has a symbol the question names
  // identifiers and query-conditional kind signals
  'ident_text', // share of the question's identifiers written in the chunk's text
  'test_match', // a test file, and the question talks about tests
  'doc_match', // a documentation file, and the question talks about docs
  // editor (0 in the CLI)
  'ed_open',
  'ed_recent',
  'ed_near_cursor',
  // learned on the user's machine (src/core/ltr/feedback.ts): log(1 + times the file was opened after an answer)
  'ed_opened_before',
  // Issue 19 (appended, so older models' names still line up): the file's role
  // (src/core/query/roles.ts) and how it fits the question's kind (src/core/query/understand.ts) …
  'role_test',
  'role_doc',
  'role_example',
  'role_config',
  'role_generated',
  'role_prior', // log of the hand-set role prior for the question's kind (tests ×0.5 for a bug report, ×1.5 when tests are asked for)
  'role_off_report', // not an implementation file, and the question is a report / change / "where is X implemented" (implementation is the answer)
  'role_off_explain', // not an implementation file, and the question asks how something works
  'role_asked', // a test file and the question asks about tests, or a doc file and it asks about docs
  // … and the file-level evidence (src/core/search/fileEvidence.ts)
  'ev_aggregate', // log(the file's decayed sum of its best chunks' relative scores / its best)
  'ev_defines_qualified', // the file defines a named `Foo.bar` as a symbol path
  'ev_defines_name', // the file defines a named symbol by its bare name (in a chunk's symbols or text)
  'ev_chunk_defines', // this chunk's own symbol path ends with a named symbol
  'ev_frame', // a traceback frame names the file
  'ev_frame_line', // a traceback frame's line falls inside this chunk
  'ev_path', // a written path names the file (not a frame)
  'ev_stem', // the file's distinctive stem is written in the question
  'ev_imports', // the file imports, or is imported by, a file the question names
  'ev_prior', // log of question understanding's whole file multiplier (+q's prior without the chunk's own score), floored at −10
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_COUNT = FEATURE_NAMES.length;

/** A file as the index names it: the workspace folder's name in multi-root (absent otherwise) and the path inside it. */
export interface EditorFile {
  folder?: string;
  path: string;
}

/**
 * Optional editor context (src/core/ltr/editor.ts builds it from the editor's absolute paths):
 * files open in tabs, files edited recently (most recent first), and the cursor.
 */
export interface EditorSignals {
  openFiles?: readonly EditorFile[];
  recentFiles?: readonly EditorFile[];
  cursor?: EditorFile & { line: number };
  /** Files the user opened from Sift's sources before, with how often (kept by the feedback learner). */
  openedBefore?: readonly (EditorFile & { count: number })[];
}

const IDENT = /`([^`]+)`|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/g;
const GENERIC_SEGMENTS = new Set(['src', 'lib', 'libs', 'source', 'sources', 'pkg', 'package', 'packages', 'app', 'main', 'test', 'tests', 'testing', 'doc', 'docs', 'core', 'util', 'utils', 'common', 'internal']);

function isTestPath(p: string): boolean {
  return /(^|\/)(tests?|testing|__tests__|spec)\//i.test(p) || /(^|\/)(test_[^/]*|[^/]*_test\.[a-z]+|[^/]*\.(test|spec)\.[a-z]+|conftest\.py)$/i.test(p);
}

function isDocPath(p: string): boolean {
  return /\.(md|mdx|rst|txt|adoc)$/i.test(p) || /(^|\/)(docs?|documentation)\//i.test(p);
}

function isExamplePath(p: string): boolean {
  return /(^|\/)(examples?|samples?|benchmarks?|bench|scripts?|tools?)\//i.test(p);
}

/** The question's precomputed parts (reused for every candidate). */
export interface QueryInfo {
  tokens: string[];
  /** Identifiers written in the question, lowercased (plain words excluded unless back-quoted). */
  identifiers: Set<string>;
  /** Every lowercased word of the question (for naming files and folders). */
  words: Set<string>;
  lower: string;
  /** The question mentions tests / documentation. */
  aboutTests: boolean;
  aboutDocs: boolean;
  /** Question understanding (kind, named identifiers, frames, paths) for the role and evidence features. */
  understood: Understanding;
}

export function queryInfo(question: string): QueryInfo {
  const tokens = [...new Set(codeTokens(question))];
  const identifiers = new Set<string>();
  for (const m of question.matchAll(IDENT)) {
    const raw = m[1] ?? m[0];
    const quoted = m[1] !== undefined;
    for (const part of raw.split(/[^A-Za-z0-9_.]+/).filter(Boolean)) {
      const looksLikeCode = quoted || /_/.test(part) || /[a-z][A-Z]/.test(part) || /\./.test(part) || /^[A-Z][a-z]+[A-Z]/.test(part);
      if (!looksLikeCode) continue;
      const lower = part.toLowerCase().replace(/^\.+|\.+$/g, '');
      if (lower.length < 3) continue;
      identifiers.add(lower);
      // "flask.json.provider" also names "provider"; "Foo.bar" names "bar".
      if (lower.includes('.')) for (const seg of lower.split('.')) if (seg.length >= 3) identifiers.add(seg);
    }
  }
  const words = new Set(question.toLowerCase().match(/[a-z0-9_]+/g) ?? []);
  const lower = question.toLowerCase();
  return {
    tokens,
    identifiers,
    words,
    lower,
    aboutTests: /\b(tests?|testing|tested|pytest|unittest|spec|specs|fixtures?|test suite|coverage)\b/.test(lower),
    aboutDocs: /\b(docs?|documentation|documented|readme|changelog|docstrings?|guide|tutorial|typos?|wording|markdown|release notes)\b/.test(lower),
    understood: understandQuestion(question),
  };
}

interface Fields {
  symbols: Set<string>;
  path: Set<string>;
  header: Set<string>;
  text: Set<string>;
}

/**
 * codeTokens of a text as a set, memoised per word (a codebase has few distinct words, and
 * stemming dominates the cost), and per chunk hash for whole chunks.
 */
const WORD = /[A-Za-z_$][A-Za-z0-9_$]*(?:-[A-Za-z0-9_$]+)*|[0-9]+/g;
const wordCache = new Map<string, string[]>();
function tokenSet(text: string, into = new Set<string>()): Set<string> {
  for (const m of text.matchAll(WORD)) {
    const w = m[0];
    let toks = wordCache.get(w);
    if (!toks) {
      if (wordCache.size > 200_000) wordCache.clear();
      toks = codeTokens(w);
      wordCache.set(w, toks);
    }
    for (const t of toks) into.add(t);
  }
  return into;
}

const fieldCache = new Map<string, Fields>();
function fieldsOf(c: Candidate): Fields {
  const ch = c.chunk;
  const key = `${ch.hash}\u0000${ch.path}\u0000${ch.symbols.join('.')}`;
  let f = fieldCache.get(key);
  if (!f) {
    f = { symbols: tokenSet(ch.symbols.join(' ')), path: new Set(pathTokens(ch.path)), header: tokenSet(ch.header), text: tokenSet(ch.text) };
    if (fieldCache.size > 20_000) fieldCache.clear();
    fieldCache.set(key, f);
  }
  return f;
}

const lowerCache = new Map<string, string>();
function lowerText(c: Candidate): string {
  const key = `${c.chunk.hash}\u0000${c.chunk.path}`;
  let t = lowerCache.get(key);
  if (t === undefined) {
    t = c.chunk.text.toLowerCase();
    if (lowerCache.size > 20_000) lowerCache.clear();
    lowerCache.set(key, t);
  }
  return t;
}

const rr = (rank: number | undefined) => (rank ? 1 / Math.log2(1 + rank) : 0);


/**
 * Feature vectors (FEATURE_NAMES order) for a candidate list. Candidates are identified by their
 * position; the list order does not matter (ranks come from provenance).
 */
export function extractFeatures(question: string | QueryInfo, candidates: readonly Candidate[], editor?: EditorSignals): number[][] {
  const q = typeof question === 'string' ? queryInfo(question) : question;
  const n = candidates.length;
  if (!n) return [];
  const fields = candidates.map(fieldsOf);

  // List-local idf of each query token over the candidates' union of fields.
  const idf = new Map<string, number>();
  for (const t of q.tokens) {
    let df = 0;
    for (const f of fields) if (f.symbols.has(t) || f.path.has(t) || f.header.has(t) || f.text.has(t)) df++;
    idf.set(t, Math.log(1 + n / (1 + df)));
  }
  const idfTotal = [...idf.values()].reduce((a, b) => a + b, 0) || 1;
  const coverage = (set: Set<string>) => {
    let s = 0;
    for (const t of q.tokens) if (set.has(t)) s += idf.get(t)!;
    return s / idfTotal;
  };

  const maxLex = Math.max(0, ...candidates.map((c) => c.provenance.lexical?.score ?? 0)) || 1;
  const denseScores = candidates.map((c) => c.provenance.dense?.score).filter((s): s is number => s !== undefined);
  const maxDense = denseScores.length ? Math.max(...denseScores) : 0;
  const minDense = denseScores.length ? Math.min(...denseScores) : 0;
  const ceScores = candidates.map((c) => c.provenance.rerank?.score).filter((s): s is number => s !== undefined);
  const ceMean = ceScores.length ? ceScores.reduce((a, b) => a + b, 0) / ceScores.length : 0;
  const ceStd = ceScores.length ? Math.sqrt(ceScores.reduce((a, b) => a + (b - ceMean) ** 2, 0) / ceScores.length) || 1 : 1;

  // File aggregates.
  const byFile = new Map<string, number[]>();
  candidates.forEach((c, i) => {
    const key = `${c.folder ?? ''}\u0000${c.chunk.path}`;
    const list = byFile.get(key) ?? [];
    list.push(i);
    byFile.set(key, list);
  });
  const fileOf = candidates.map((c) => byFile.get(`${c.folder ?? ''}\u0000${c.chunk.path}`)!);

  const fileCov = new Map<number[], number>();
  for (const idx of byFile.values()) {
    const union = new Set<string>();
    for (const j of idx) for (const f of Object.values(fields[j]!) as Set<string>[]) for (const t of f) union.add(t);
    fileCov.set(idx, coverage(union));
  }

  // Files ordered by their best chunk (fused rank): the file ranking the metrics use.
  const fileRank = new Map<number[], number>();
  [...byFile.values()]
    .map((idx) => ({ idx, best: Math.min(...idx.map((j) => candidates[j]!.provenance.fused.rank)) }))
    .sort((a, b) => a.best - b.best)
    .forEach(({ idx }, r) => fileRank.set(idx, r + 1));
  const identSym = candidates.map((c) => c.chunk.symbols.some((s) => q.identifiers.has(s.toLowerCase())));
  const fileIdent = new Map<number[], number>();
  for (const idx of byFile.values()) fileIdent.set(idx, idx.some((j) => identSym[j]) ? 1 : 0);
  const ids = [...q.identifiers];

  const key = (folder: string | undefined, p: string) => `${folder ?? ''}\u0000${p}`;
  const openedBefore = new Map((editor?.openedBefore ?? []).map((f) => [key(f.folder, f.path), Math.log(1 + f.count)]));
  const open = new Set((editor?.openFiles ?? []).map((f) => key(f.folder, f.path)));
  // Recency: 1 for the last edited file, decaying with each more recent edit of another file.
  const recent = new Map<string, number>();
  (editor?.recentFiles ?? []).forEach((f, i) => {
    const k = key(f.folder, f.path);
    if (!recent.has(k)) recent.set(k, Math.exp(-i / 5));
  });

  // Roles and file-level evidence, as the question prior computes them on this list (same weights).
  const u = q.understood;
  const evidence = fileEvidence(candidates, u);
  const named = namedSymbols(u);
  const exponent = roleExponent(u.kind);
  const report = u.kind === 'bug' || u.kind === 'change' || u.kind === 'implementation';
  const chunkDefines = candidates.map((c) => definesNamed(c.chunk.symbols, named));
  const fileQualified = new Map<number[], number>();
  for (const idx of byFile.values()) fileQualified.set(idx, idx.some((j) => chunkDefines[j] === 'qualified') ? 1 : 0);

  return candidates.map((c, i) => {
    const ch = c.chunk;
    const p = c.provenance;
    const f = fields[i]!;
    const lowerSymbols = ch.symbols.map((s) => s.toLowerCase());
    const inner = lowerSymbols[lowerSymbols.length - 1];
    const base = ch.path.split('/').pop() ?? ch.path;
    const stem = base.replace(/\.[^.]+$/, '').toLowerCase();
    const dirs = ch.path.split('/').slice(0, -1).map((d) => d.toLowerCase());
    const modulePath = ch.path.replace(/\.[^./]+$/, '').replace(/\//g, '.').toLowerCase();
    let identSymbol = 0;
    let identPath = 0;
    for (const id of q.identifiers) {
      if (lowerSymbols.includes(id)) identSymbol = 1;
      if ((stem.length >= 3 && id === stem && stem !== '__init__') || (id.includes('.') && (modulePath.endsWith(id) || modulePath.endsWith(id.split('.').slice(0, -1).join('.'))) && id.split('.').length > 1)) identPath = 1;
    }
    const namesFile = q.lower.includes(base.toLowerCase()) || (stem.length >= 4 && stem !== '__init__' && q.words.has(stem)) ? 1 : 0;
    const segs = dirs.filter((d) => !GENERIC_SEGMENTS.has(d) && d.length >= 3);
    const namesSegment = segs.length ? segs.filter((d) => q.words.has(d)).length / segs.length : 0;
    const lines = ch.endLine - ch.startLine + 1;
    const fileIdx = fileOf[i]!;
    const fileBest = Math.min(...fileIdx.map((j) => candidates[j]!.provenance.fused.rank));
    const fileLexSum = fileIdx.reduce((s, j) => s + (candidates[j]!.provenance.lexical?.score ?? 0) / maxLex, 0);
    const posInFile = fileIdx.filter((j) => candidates[j]!.provenance.fused.rank < p.fused.rank).length;
    const kind = ch.kind;
    const doc = isDocPath(ch.path);
    const cursor = editor?.cursor;
    const fk = key(c.folder, ch.path);
    const near = cursor && key(cursor.folder, cursor.path) === fk ? (cursor.line >= ch.startLine && cursor.line <= ch.endLine ? 1 : 1 / (1 + Math.min(Math.abs(cursor.line - ch.startLine), Math.abs(cursor.line - ch.endLine)) / 50)) : 0;
    const ev = evidence.get(fileKey(c))!;
    const role = ev.role;
    const prior = rolePrior(role, u.kind);
    const has = (prefix: string) => (ev.matched.some((m) => m.startsWith(prefix)) ? 1 : 0);
    const aggregate = ev.scores.length ? ev.aggregate / ev.scores[0]! : 1;
    const x: Record<FeatureName, number> = {
      lex_has: p.lexical ? 1 : 0,
      lex_rr: rr(p.lexical?.rank),
      lex_rel: p.lexical ? p.lexical.score / maxLex : 0,
      dense_has: p.dense ? 1 : 0,
      dense_rr: rr(p.dense?.rank),
      dense_gap: denseScores.length ? (p.dense?.score ?? minDense) - maxDense : 0,
      fused_rr: rr(p.fused.rank),
      ce_has: p.rerank ? 1 : 0,
      ce_rr: rr(p.rerank?.rank),
      ce_z: p.rerank ? (p.rerank.score - ceMean) / ceStd : 0,
      cov_symbols: coverage(f.symbols),
      cov_path: coverage(f.path),
      cov_header: coverage(f.header),
      cov_text: coverage(f.text),
      ident_symbol: identSymbol,
      ident_symbol_inner: inner && q.identifiers.has(inner) ? 1 : 0,
      ident_path: identPath,
      names_file: namesFile,
      names_segment: namesSegment,
      kind_function: kind === 'function' || kind === 'method' ? 1 : 0,
      kind_class: kind === 'class' || kind === 'interface' || kind === 'type' || kind === 'enum' ? 1 : 0,
      kind_module: kind === 'module' ? 1 : 0,
      kind_doc: kind === 'section' ? 1 : 0,
      kind_lines: kind === 'lines' ? 1 : 0,
      is_test: isTestPath(ch.path) ? 1 : 0,
      is_doc: doc ? 1 : 0,
      is_init: base === '__init__.py' || /^index\.[jt]sx?$/.test(base) ? 1 : 0,
      is_example: isExamplePath(ch.path) ? 1 : 0,
      log_lines: Math.log(1 + lines),
      symbol_depth: ch.symbols.length,
      path_depth: ch.path.split('/').length - 1,
      file_chunks: Math.log(1 + fileIdx.length),
      file_best_rr: rr(fileBest),
      file_lex_sum: fileLexSum,
      file_rank_in_file: 1 / (1 + posInFile),
      file_cov: fileCov.get(fileIdx)!,
      file_lex_max: Math.max(...fileIdx.map((j) => (candidates[j]!.provenance.lexical?.score ?? 0) / maxLex)),
      file_rank_rr: rr(fileRank.get(fileIdx)),
      file_share: fileIdx.length / n,
      file_ident: fileIdent.get(fileIdx)!,
      ident_text: ids.length ? ids.filter((id) => lowerText(c).includes(id)).length / ids.length : 0,
      test_match: q.aboutTests && isTestPath(ch.path) ? 1 : 0,
      doc_match: q.aboutDocs && doc ? 1 : 0,
      ed_open: open.has(fk) ? 1 : 0,
      ed_recent: recent.get(fk) ?? 0,
      ed_near_cursor: near,
      ed_opened_before: openedBefore.get(fk) ?? 0,
      role_test: role === 'test' ? 1 : 0,
      role_doc: role === 'doc' ? 1 : 0,
      role_example: role === 'example' ? 1 : 0,
      role_config: role === 'config' ? 1 : 0,
      role_generated: role === 'generated' ? 1 : 0,
      role_prior: Math.log(prior),
      role_off_report: report && role !== 'source' ? 1 : 0,
      role_off_explain: u.kind === 'explanation' && role !== 'source' ? 1 : 0,
      role_asked: (u.kind === 'tests' && role === 'test') || (u.kind === 'docs' && role === 'doc') ? 1 : 0,
      ev_aggregate: Math.log(aggregate),
      ev_defines_qualified: fileQualified.get(fileIdx)!,
      ev_defines_name: !fileQualified.get(fileIdx) && has('defines ') ? 1 : 0,
      ev_chunk_defines: chunkDefines[i] ? 1 : 0,
      ev_frame: has('traceback frame '),
      ev_frame_line: u.frames.some((fr) => fr.line >= ch.startLine && fr.line <= ch.endLine && pathMatches(ch.path, fr.path, false)) ? 1 : 0,
      ev_path: has('path '),
      ev_stem: has('file name '),
      ev_imports: has('imports '),
      ev_prior: Math.max(-10, Math.log(aggregate * ev.boost * prior ** exponent)),
    };
    return FEATURE_NAMES.map((name) => x[name]);
  });
}
