import { rolePrior } from '../query/roles';
import type { Understanding } from '../query/understand';
import { DEFAULT_EVIDENCE_WEIGHTS, type EvidenceWeights, fileEvidence, fileKey, pathMatches, relativeScores } from './fileEvidence';
import type { Candidate } from './types';

export { pathMatches };

/** How strongly the role prior acts for a kind of question (an exponent on src/core/query/roles.ts's multiplier). */
export function roleExponent(kind: Understanding['kind'], w: Readonly<EvidenceWeights> = DEFAULT_EVIDENCE_WEIGHTS): number {
  if (kind === 'tests' || kind === 'docs') return w.rolesAsked;
  if (kind === 'explanation') return w.rolesExplain;
  return w.roles;
}

/**
 * Reorders the top candidates with what the question names and what each file is for (issue 19),
 * at the file level (src/core/search/fileEvidence.ts): each chunk's score relative to the list's
 * best (from the last stage that scored it) is scaled by its file's evidence — the decayed sum of
 * the file's best chunks over its best one, the role prior for the question's kind
 * (src/core/query/roles.ts), and the boosts for a traceback frame or path naming the file, the
 * file defining a named symbol, its name written in the question, and an import link to a file
 * the question names — and by `frameLine` when a frame's line falls inside the chunk.
 * `provenance.matched` says what matched.
 */
export function applyQuestionPrior(candidates: readonly Candidate[], u: Understanding, w: Readonly<EvidenceWeights> = DEFAULT_EVIDENCE_WEIGHTS): Candidate[] {
  const files = fileEvidence(candidates, u, w);
  const relOf = relativeScores(candidates);
  const exponent = roleExponent(u.kind, w);
  const scored = candidates.map((c, i) => {
    const f = files.get(fileKey(c))!;
    const rel = f.scores.length ? f.aggregate / f.scores[0]! : 1;
    let score = relOf[i]! * rel * f.boost * rolePrior(f.role, u.kind) ** exponent;
    // What brought the candidate in (a definition looked up beyond the list), then what its file matched.
    const lookedUp = c.provenance.definesLookedUp;
    const nb = c.provenance.neighbourOf;
    const matched = [...(lookedUp ? [`defines ${lookedUp} (looked up in the index)`] : []), ...(nb ? [nb] : []), ...f.matched];
    const frame = u.frames.find((fr) => fr.line >= c.chunk.startLine && fr.line <= c.chunk.endLine && pathMatches(c.chunk.path, fr.path, false));
    if (frame) score *= w.frameLine;
    return { c, i, score, matched };
  });
  scored.sort((a, b) => b.score - a.score || a.i - b.i);
  return scored.map(({ c, matched }, r) => ({
    ...c,
    provenance: matched.length ? { ...c.provenance, matched } : c.provenance,
    rankAfter: r + 1,
  }));
}
