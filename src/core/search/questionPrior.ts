import { type FileRole, fileRole, rolePrior } from '../query/roles';
import type { Understanding } from '../query/understand';
import type { Candidate } from './types';

/** Score multiplier for a chunk whose file a traceback frame or the question names. */
export const PATH_MATCH_BOOST = 2;
/** … and for a chunk that defines an identifier the question names. */
export const SYMBOL_MATCH_BOOST = 1.5;

/**
 * Does a mentioned path (absolute, from another machine, site-packages, ./-prefixed…) name this
 * indexed file? Their trailing segments agree: at least two, or all of the shorter one's.
 */
function pathMatches(path: string, mentioned: string): boolean {
  const a = path.split('/').filter((x) => x && x !== '.');
  const b = mentioned.split('/').filter((x) => x && x !== '.');
  let same = 0;
  while (same < a.length && same < b.length && a[a.length - 1 - same] === b[b.length - 1 - same]) same++;
  return same > 0 && same >= Math.min(2, a.length, b.length);
}

/**
 * Reorders fused candidates with what the question names and what each file is for (issue 19):
 * the score (fusion's, or the last stage's) times the role prior for the question's kind, times a
 * boost when a traceback frame or a mentioned path names the chunk's file (more when the frame's
 * line is inside the chunk) or the chunk defines a named identifier. Records what matched in
 * `provenance.matched`. Off by default: no evaluation has shown it beats plain BM25 yet.
 */
export function applyQuestionPrior(candidates: readonly Candidate[], u: Understanding): Candidate[] {
  const names = new Set(u.identifiers.flatMap((id) => [id, id.split(/\.|::|#/).pop()!]).map((s) => s.toLowerCase()));
  const scored = candidates.map((c, i) => {
    const { chunk } = c;
    const matched: string[] = [];
    let boost = 1;
    for (const f of u.frames) {
      if (!pathMatches(chunk.path, f.path)) continue;
      const inside = f.line >= chunk.startLine && f.line <= chunk.endLine;
      matched.push(`traceback frame ${f.path}:${f.line}`);
      boost = Math.max(boost, inside ? PATH_MATCH_BOOST * 1.5 : PATH_MATCH_BOOST);
    }
    if (!matched.length && u.paths.some((p) => pathMatches(chunk.path, p))) {
      matched.push(`path ${chunk.path}`);
      boost = Math.max(boost, PATH_MATCH_BOOST);
    }
    const symbols = chunk.symbols.filter((s) => names.has(s.toLowerCase()));
    if (symbols.length) {
      matched.push(...symbols.map((s) => `symbol ${s}`));
      boost *= SYMBOL_MATCH_BOOST;
    }
    const role: FileRole = fileRole(chunk.path);
    const p = c.provenance;
    const base = p.ltr?.score ?? p.rerank?.score ?? p.fused.score;
    // Cross-encoder and LTR scores can be negative: rank by base order then, prior as a tie-break.
    const score = base >= 0 ? base * rolePrior(role, u.kind) * boost : base;
    return { c, i, score, matched };
  });
  scored.sort((a, b) => b.score - a.score || a.i - b.i);
  return scored.map(({ c, matched }, r) => ({
    ...c,
    provenance: matched.length ? { ...c.provenance, matched } : c.provenance,
    rankAfter: r + 1,
  }));
}
