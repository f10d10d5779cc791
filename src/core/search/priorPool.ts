import type { Understanding } from '../query/understand';
import type { IndexStore } from '../store/store';
import type { Chunk } from '../types';
import { type DefinitionHit, appendDefinitions, definitionChunks, lookupDefinitions } from './definitionLookup';
import { DEFAULT_EVIDENCE_WEIGHTS, type EvidenceWeights } from './fileEvidence';
import { appendAsWeakest, namedChunks, priorPool } from './namedFiles';
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
}

export interface PriorLookupOptions {
  /** Definitions already looked up for this question (they do not depend on the list). */
  defined?: DefinitionHit[];
  weights?: Readonly<EvidenceWeights>;
}

/** The index look-ups for a question and the list the prior will weigh (the top K and the candidates below it). */
export async function lookupForPrior(stores: IndexStore | readonly NamedStore[], u: Understanding, list: readonly Candidate[], opts: PriorLookupOptions = {}): Promise<PriorLookups> {
  const w = opts.weights ?? DEFAULT_EVIDENCE_WEIGHTS;
  const named = await namedChunks(stores, u, list);
  const defined = opts.defined ?? (w.lookupFiles > 0 ? await lookupDefinitions(stores, u) : []);
  return { named, defined };
}

/**
 * The list the question prior weighs: the top K (as the last stage ordered it), the first stage's
 * next candidates (`tail`, down to priorDepth), the files the question names by path, then the
 * definitions of the names it names (at `w.lookupScore` of the best, 0: as the weakest).
 */
export function widenForPrior(top: readonly Candidate[], tail: readonly Candidate[], reranked: boolean, lookups: PriorLookups, w: Readonly<EvidenceWeights> = DEFAULT_EVIDENCE_WEIGHTS): Candidate[] {
  const pool = appendAsWeakest(priorPool(top, tail, reranked), lookups.named);
  return appendDefinitions(pool, definitionChunks(lookups.defined, pool, w), w);
}
