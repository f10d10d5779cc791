import type { Understanding } from '../query/understand';
import type { IndexStore } from '../store/store';
import type { Chunk } from '../types';
import { type DefinitionHit, appendDefinitions, definitionChunks, lookupDefinitions } from './definitionLookup';
import { DEFAULT_EVIDENCE_WEIGHTS, type EvidenceWeights, relativeScores } from './fileEvidence';
import { type FeedbackHit, feedbackSearch } from './feedback';
import { type Neighbour, lookupNeighbours } from './neighbours';
import { appendAsWeakest, appendAtFractions, namedChunks, priorDepth, priorPool } from './namedFiles';
import type { NamedStore } from './retriever';
import type { Candidate } from './types';

/**
 * The one pipeline that widens the candidate list before the question prior weighs it (issue 19):
 * `sift ask` (src/core/answer/ask.ts) and `sift eval`'s `+q` rows (src/core/eval/runner.ts) both
 * call these two functions, so what one measures is what the other ships.
 *
 * 1. `lookupForPrior` reads the index for what retrieval may have missed: files the question names
 *    by path (namedFiles.ts) and files defining the symbols it names (definitionLookup.ts).
 * 2. `widenForPrior` composes the pool: the (reranked) top K, the first stage's candidates below K
 *    (priorPool), then the named files and the definitions the list lacks, each scored as the
 *    list's weakest. applyQuestionPrior (questionPrior.ts) then weighs the whole pool.
 */
export interface PriorLookups {
  /** Files the question names by path that the list lacks: one chunk each. */
  named: { chunk: Chunk; folder?: string }[];
  /** Files defining each symbol the question names, whatever the list holds (definitionChunks picks those it lacks). */
  defined: DefinitionHit[];
  /** Neighbours of the list's first `nbFrom` files (neighbours.ts), when that is on. */
  neighbours?: Neighbour[];
  /** Files a feedback search found that the list lacks (feedback.ts), when that is on. */
  feedback?: FeedbackHit[];
}

export interface PriorLookupOptions {
  /** Definitions already looked up for this question (they do not depend on the list). */
  defined?: DefinitionHit[];
  weights?: Readonly<EvidenceWeights>;
  /** The question as searched (a neighbour's chunk is the one sharing most of its terms). */
  question?: string;
}

/** The index look-ups for a question and the list the prior will weigh (the top K and the candidates below it). */
export async function lookupForPrior(stores: IndexStore | readonly NamedStore[], u: Understanding, list: readonly Candidate[], opts: PriorLookupOptions = {}): Promise<PriorLookups> {
  const w = opts.weights ?? DEFAULT_EVIDENCE_WEIGHTS;
  const named = await namedChunks(stores, u, list);
  const defined = opts.defined ?? (w.lookupFiles > 0 ? await lookupDefinitions(stores, u) : []);
  const neighbours = w.nbFrom > 0 ? await lookupNeighbours(stores, u, list, w.nbFrom, opts.question) : [];
  const feedback = opts.question && feedbackApplies(u, w) ? (await feedbackSearch(stores, opts.question, list, { files: w.prfFiles, terms: w.prfTerms, depth: FEEDBACK_DEPTH })).hits : [];
  return { named, defined, ...(neighbours.length ? { neighbours } : {}), ...(feedback.length ? { feedback } : {}) };
}

/**
 * Feedback is for reports only — where the prior also looks below K (priorDepth: a bug report, a
 * change, stated rather than asked, whose role prior is a near-tier): a question asked as one
 * ("how does X work?") wants what its own words reach, and on SWE-QA's understanding questions
 * feedback for every kind cost two questions of Acc@5 (docs/eval.md).
 */
export function feedbackApplies(u: Understanding, w: Readonly<EvidenceWeights> = DEFAULT_EVIDENCE_WEIGHTS): boolean {
  return w.prfFiles > 0 && priorDepth(u, 1, w) > 1;
}

/** How deep the feedback search reads. */
export const FEEDBACK_DEPTH = 40;

/** Appends the feedback hits the list lacks at prfScore × their relative feedback score (0: none). */
export function appendFeedback(list: readonly Candidate[], hits: readonly FeedbackHit[], w: Readonly<EvidenceWeights> = DEFAULT_EVIDENCE_WEIGHTS): Candidate[] {
  if (!(w.prfScore > 0) || !list.length) return [...list];
  const seen = new Set(list.map((c) => `${c.folder ?? ''}\u0000${c.chunk.path}`));
  const extra = hits
    .filter((h) => {
      const k = `${h.folder ?? ''}\u0000${h.chunk.path}`;
      return !seen.has(k) && Boolean(seen.add(k));
    })
    .map((h) => ({ chunk: h.chunk, ...(h.folder !== undefined ? { folder: h.folder } : {}), f: w.prfScore * h.rel, note: { neighbourOf: 'found by feedback terms of the top files' } }));
  return appendAtFractions(list, extra);
}

/**
 * The list the question prior weighs: the top K (as the last stage ordered it), the first stage's
 * next candidates (`tail`, down to priorDepth), the files the question names by path, then the
 * definitions of the names it names (at `w.lookupScore` of the best, 0: as the weakest).
 */
export function widenForPrior(top: readonly Candidate[], tail: readonly Candidate[], reranked: boolean, lookups: PriorLookups, w: Readonly<EvidenceWeights> = DEFAULT_EVIDENCE_WEIGHTS): Candidate[] {
  const pool = appendAsWeakest(priorPool(top, tail, reranked), lookups.named);
  const withDefs = appendDefinitions(pool, definitionChunks(lookups.defined, pool, w), w);
  const withNb = lookups.neighbours?.length ? appendNeighbours(withDefs, lookups.neighbours, w) : withDefs;
  return lookups.feedback?.length ? appendFeedback(withNb, lookups.feedback, w) : withNb;
}

const FRACTION: Record<Neighbour['kind'], keyof EvidenceWeights> = { subject: 'nbSubject', import: 'nbImport', stub: 'nbStub' };
const LABEL: Record<Neighbour['kind'], string> = { subject: 'tested by', import: 'imported by', stub: 'type stub of' };

/**
 * Appends the neighbours the list lacks (one chunk a file), each at its kind's fraction of the
 * relative score of the top file it came from (as the last stage that scored the list measures
 * it, like appendDefinitions); never below the list's weakest. A kind whose fraction is 0 adds nothing.
 */
export function appendNeighbours(list: readonly Candidate[], neighbours: readonly Neighbour[], w: Readonly<EvidenceWeights> = DEFAULT_EVIDENCE_WEIGHTS): Candidate[] {
  if (!list.length) return [...list];
  const key = (folder: string | undefined, path: string) => `${folder ?? ''}\u0000${path}`;
  const rel = relativeScores(list);
  const best = new Map<string, number>();
  list.forEach((c, i) => best.set(key(c.folder, c.chunk.path), Math.max(best.get(key(c.folder, c.chunk.path)) ?? 0, rel[i]!)));
  const picked: { n: Neighbour; f: number }[] = [];
  const seen = new Set(best.keys());
  for (const n of neighbours) {
    const k = key(n.folder, n.chunk.path);
    const frac = w[FRACTION[n.kind]];
    const src = best.get(key(n.folder, n.from));
    if (!(frac > 0) || src === undefined || seen.has(k)) continue;
    seen.add(k);
    picked.push({ n, f: frac * src });
  }
  return appendAtFractions(
    list,
    picked.map(({ n, f }) => ({ chunk: n.chunk, ...(n.folder !== undefined ? { folder: n.folder } : {}), f, note: { neighbourOf: `${LABEL[n.kind]} ${n.from}` } })),
  );
}
