import type { IndexStore } from '../store/store';
import type { Chunk } from '../types';
import { queryTerms } from '../lexical/lexical';
import { searchText } from '../query/understand';
import { DEFAULT_RRF_K, reciprocalRankFusion } from '../search/fusion';
import { DEFAULT_CANDIDATES, type RetrieveOptions, type RetrieveResult, type SearchWorker, retrieve } from '../search/retriever';
import type { Candidate, Provenance } from '../search/types';
import type { TeamReader } from './reader';

/** Which local paths replace the team's copy (edited or new) and which team paths are gone locally. */
export interface Overlay {
  /** Files whose local content differs from the team commit, or that the commit lacks (untracked, new). */
  changed: Set<string>;
  /** Files of the team commit absent from the local index (deleted locally, or ignored by local rules). */
  deleted: Set<string>;
}

/** Compares the local index's file table (content hashes) with the team commit's. */
export function overlayOf(local: Record<string, { hash: string }>, team: Map<string, string>): Overlay {
  const changed = new Set<string>();
  const deleted = new Set<string>();
  for (const [p, e] of Object.entries(local)) if (team.get(p) !== e.hash) changed.add(p);
  for (const p of team.keys()) if (!(p in local)) deleted.add(p);
  return { changed, deleted };
}

interface Entry {
  chunk: Chunk;
  origin: 'team' | 'local';
  dense?: { rank: number; score: number };
  lexical?: { rank: number; score: number; terms: string[] };
}

/**
 * The team index at its commit, minus every path the developer changed or deleted, fused with the
 * local index's hits on the changed paths (the overlay): dense hits of both merged by cosine (the
 * same model), lexical hits as two lists (their scores are not comparable), all by reciprocal rank.
 */
export async function retrieveWithTeam(
  team: TeamReader,
  local: IndexStore,
  overlay: Overlay,
  query: string,
  opts: RetrieveOptions & { embedder?: SearchWorker },
): Promise<RetrieveResult> {
  const k = opts.candidates ?? DEFAULT_CANDIDATES;
  const depth = opts.depth ?? Math.max(k * 2, 50);
  const t0 = performance.now();
  const exclude = [...overlay.changed, ...overlay.deleted];
  const localDim = local.manifest.embedding?.dim ?? 0;
  const hybrid = Boolean(opts.embedder && localDim && team.info.dim === localDim && local.manifest.embedding?.model === team.info.model);

  const localHits: Candidate[] = overlay.changed.size
    ? (await retrieve(local, query, { ...opts, candidates: Math.max(depth * 4, 400), embedder: hybrid ? opts.embedder : undefined })).candidates.filter((c) =>
        overlay.changed.has(c.chunk.path),
      )
    : [];
  let tEmbed = 0;
  let vector: Float32Array | undefined;
  if (hybrid) {
    const t = performance.now();
    vector = (await opts.embedder!.call('embed', { texts: [searchText(query)] }, opts.signal)).slice(0, localDim);
    tEmbed = performance.now() - t;
  }
  const tDense = performance.now();
  const teamDense = vector ? await team.dense(vector, exclude, depth) : [];
  const denseMs = performance.now() - tDense;
  const tLex = performance.now();
  const teamLex = await team.lexical(queryTerms(searchText(query)), exclude, depth);
  const lexMs = performance.now() - tLex;

  const entries = new Map<string, Entry>();
  const entry = (key: string, chunk: Chunk, origin: 'team' | 'local') => {
    let e = entries.get(key);
    if (!e) entries.set(key, (e = { chunk, origin }));
    return e;
  };
  const teamKey = (c: Chunk) => `team\u0000${c.id}`;
  const localKey = (c: Chunk) => `local\u0000${c.id}`;

  const dense = [
    ...teamDense.map((h) => ({ key: teamKey(h.chunk), chunk: h.chunk, origin: 'team' as const, score: h.score })),
    ...localHits.filter((c) => c.provenance.dense).map((c) => ({ key: localKey(c.chunk), chunk: c.chunk, origin: 'local' as const, score: c.provenance.dense!.score })),
  ]
    .sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : 1))
    .slice(0, depth);
  dense.forEach((h, i) => (entry(h.key, h.chunk, h.origin).dense = { rank: i + 1, score: h.score }));
  teamLex.forEach((h, i) => (entry(teamKey(h.chunk), h.chunk, 'team').lexical = { rank: i + 1, score: h.score, terms: h.terms }));
  const localLex = localHits.filter((c) => c.provenance.lexical).sort((a, b) => a.provenance.lexical!.rank - b.provenance.lexical!.rank);
  localLex.forEach((c, i) => (entry(localKey(c.chunk), c.chunk, 'local').lexical = { rank: i + 1, score: c.provenance.lexical!.score, terms: c.provenance.lexical!.terms }));

  const lists = [
    { name: 'dense', ids: dense.map((h) => h.key) },
    { name: 'lexical-team', ids: teamLex.map((h) => teamKey(h.chunk)) },
    { name: 'lexical-local', ids: localLex.map((c) => localKey(c.chunk)) },
  ];
  const fused = reciprocalRankFusion(lists, opts.rrfK ?? DEFAULT_RRF_K).slice(0, k);
  const candidates: Candidate[] = fused.map((f, i) => {
    const e = entries.get(f.id)!;
    const provenance: Provenance = { fused: { rank: i + 1, score: f.score } };
    if (e.dense) provenance.dense = e.dense;
    if (e.lexical) provenance.lexical = e.lexical;
    return { chunk: e.chunk, origin: e.origin, provenance, rankBefore: i + 1, rankAfter: i + 1 };
  });
  return {
    candidates,
    mode: hybrid ? 'hybrid' : 'lexical-only',
    timings: { embed: tEmbed, dense: denseMs, lexical: lexMs, fuse: performance.now() - t0 - tEmbed - denseMs - lexMs },
  };
}
