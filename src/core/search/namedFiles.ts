import { codeTokens } from '../lexical/tokenize';
import type { Understanding } from '../query/understand';
import type { IndexStore } from '../store/store';
import type { Chunk } from '../types';
import { DEFAULT_EVIDENCE_WEIGHTS, type EvidenceWeights, pathMatches, relativeScores } from './fileEvidence';
import { roleExponent } from './questionPrior';
import type { NamedStore } from './retriever';
import type { Candidate } from './types';

/**
 * Files the question names by path — traceback frames, written paths — that the candidate list
 * does not hold (issue 19). A bug report's stack trace names the files it ran through; BM25 over
 * the report's prose may not reach them. Each such file, found in the index's file table, adds
 * its chunk at the frame's line (else its chunk sharing the most terms with the question) to the
 * end of the list, scored as the list's weakest candidate; the question prior then weighs it with
 * the path and frame boosts like any other named file. A mention that names more than
 * MAX_MATCHES indexed files (`__init__.py`, `index.js`) is too vague and adds nothing.
 *
 * Cost: one pass over the file table per mentioned path and one chunk read per added file; a
 * question that names no path costs nothing.
 */
export const MAX_NAMED_FILES = 8;

/**
 * How deep the question prior looks, as a multiple of K (the candidates the reranking stages
 * read): the prior weighs the next first-stage candidates too, after the reranked top K. For a
 * bug report whose top K chunks are mostly tests and docs, the implementation file is often just
 * below K. The factor is `EvidenceWeights.depth`, chosen on the tuning split of
 * scripts/eval-issues.sh (docs/eval.md); checked on SWE-QA.
 */
export const PRIOR_DEPTH_FACTOR = DEFAULT_EVIDENCE_WEIGHTS.depth;

/**
 * The prior's depth for a question: `depth` × K for a report — a bug report, a change,
 * stated rather than asked, or carrying a traceback or an error line — whose role prior is a
 * near-tier (implementation first: the implementation is what tests and docs crowd out of the top
 * K); K for a question asked as one ("where is X implemented?", "how does Y work?") and wherever
 * the prior is mild (how-it-works, tests, docs): their answers often include the tests and docs,
 * and looking deeper only brings more code in (SWE-QA, docs/eval.md).
 */
export function priorDepth(u: Pick<Understanding, 'kind' | 'asked' | 'frames' | 'errors'>, k: number, w: Readonly<EvidenceWeights> = DEFAULT_EVIDENCE_WEIGHTS): number {
  const report = !u.asked || u.frames.length > 0 || u.errors.length > 0;
  return roleExponent(u.kind, w) > 1 && report ? Math.round(w.depth * k) : k;
}

/**
 * The list the question prior weighs: the (reranked) top K, then the first stage's next
 * candidates — with their own scores when nothing reordered the top K, else scored as its weakest
 * (their first-stage score is on another scale than the reranker's).
 */
export function priorPool(top: readonly Candidate[], tail: readonly Candidate[], reranked: boolean): Candidate[] {
  if (!tail.length) return [...top];
  const ids = new Set(top.map((c) => `${c.folder ?? ''}\u0000${c.chunk.id}`));
  const rest = tail.filter((c) => !ids.has(`${c.folder ?? ''}\u0000${c.chunk.id}`));
  if (reranked) return appendAsWeakest(top, rest.map((c) => ({ chunk: c.chunk, ...(c.folder !== undefined ? { folder: c.folder } : {}) })));
  return [...top, ...rest].map((c, i) => ({ ...c, rankBefore: i + 1, rankAfter: i + 1 }));
}
const MAX_MATCHES = 3;

export interface NamedFileOptions {
  max?: number;
}

export async function addNamedFiles(stores: IndexStore | readonly NamedStore[], u: Understanding, candidates: readonly Candidate[], opts: NamedFileOptions = {}): Promise<Candidate[]> {
  return appendAsWeakest(candidates, await namedChunks(stores, u, candidates, opts));
}

/** The chunks addNamedFiles would add (one per named file missing from the list). */
export async function namedChunks(stores: IndexStore | readonly NamedStore[], u: Understanding, candidates: readonly Candidate[], opts: NamedFileOptions = {}): Promise<{ chunk: Chunk; folder?: string }[]> {
  const mentions = [...u.frames.map((f) => ({ path: f.path, line: f.line as number | undefined })), ...u.paths.map((p) => ({ path: p, line: undefined as number | undefined }))];
  if (!mentions.length || !candidates.length) return [];
  const multi = Array.isArray(stores);
  const named: readonly NamedStore[] = multi ? (stores as readonly NamedStore[]) : [{ name: '', store: stores as IndexStore }];
  const present = new Set(candidates.map((c) => `${c.folder ?? ''}\u0000${c.chunk.path}`));
  const wanted = new Map<string, { ns: NamedStore; path: string; lines: number[] }>();
  for (const ns of named) {
    const files = Object.keys(ns.store.manifest.files ?? {});
    for (const m of mentions) {
      const hits = files.filter((f) => pathMatches(f, m.path));
      if (!hits.length || hits.length > MAX_MATCHES) continue;
      for (const path of hits) {
        const key = `${multi ? ns.name : ''}\u0000${path}`;
        if (present.has(key)) continue;
        let w = wanted.get(key);
        if (!w) {
          if (wanted.size >= (opts.max ?? MAX_NAMED_FILES)) continue;
          w = { ns, path, lines: [] };
          wanted.set(key, w);
        }
        if (m.line !== undefined) w.lines.push(m.line);
      }
    }
  }
  const terms = new Set(codeTokens(`${u.identifiers.join(' ')} ${u.errors.join(' ')}`));
  const out: { chunk: Chunk; folder?: string }[] = [];
  for (const w of wanted.values()) {
    const chunk = pick(await chunksOfFile(w.ns.store, w.path), w.lines, terms);
    if (chunk) out.push({ chunk, ...(multi ? { folder: w.ns.name } : {}) });
  }
  return out;
}

/** Appends chunks to a list, each scored by every stage as the list's weakest candidate (so no stage's scale is invented). */
export function appendAsWeakest(candidates: readonly Candidate[], extra: readonly { chunk: Chunk; folder?: string }[]): Candidate[] {
  const out = [...candidates];
  const weakest = candidates[candidates.length - 1];
  if (!weakest) return out;
  const p = weakest.provenance;
  for (const e of extra) {
    const rank = out.length + 1;
    out.push({
      chunk: e.chunk,
      ...(e.folder !== undefined ? { folder: e.folder } : {}),
      provenance: {
        ...(p.lexical ? { lexical: { ...p.lexical, rank, terms: [] } } : {}),
        ...(p.dense ? { dense: { ...p.dense, rank } } : {}),
        fused: { rank, score: p.fused.score },
        ...(p.rerank ? { rerank: { ...p.rerank, rank } } : {}),
        ...(p.ltr ? { ltr: { ...p.ltr, rank } } : {}),
      },
      rankBefore: rank,
      rankAfter: rank,
    });
  }
  return out;
}

async function chunksOfFile(store: IndexStore, path: string): Promise<Chunk[]> {
  const entry = store.manifest.files[path];
  if (!entry?.shard || !entry.chunkIds.length) return [];
  const located = await store.locate(entry.chunkIds);
  return store.chunksOfShard(entry.shard, located.map((l) => l.row));
}

/** The chunk holding a frame's line (the innermost: the last listed), else the one sharing the most of the question's named terms, else the first. */
function pick(chunks: readonly Chunk[], lines: readonly number[], terms: ReadonlySet<string>): Chunk | undefined {
  if (!chunks.length) return undefined;
  for (const line of [...lines].reverse()) {
    const inner = chunks.filter((c) => c.startLine <= line && line <= c.endLine).sort((a, b) => a.endLine - a.startLine - (b.endLine - b.startLine));
    if (inner[0]) return inner[0];
  }
  let best = chunks[0]!;
  let bestHits = -1;
  for (const c of chunks) {
    const hits = terms.size ? codeTokens(`${c.symbols.join(' ')} ${c.text}`).filter((t) => terms.has(t)).length : 0;
    if (hits > bestHits) {
      best = c;
      bestHits = hits;
    }
  }
  return best;
}

/**
 * Appends chunks at fractions of the list's best, as the last stage that scored the list measures
 * it (BM25 or fused score × the fraction; a reranker's or learning-to-rank score where its
 * standardised relative score is the fraction — relativeScores). A fraction at or below the list's
 * weakest enters as the weakest: what a lookup adds is evidence, never a penalty. `note` goes into
 * each one's provenance (what brought it in).
 */
export function appendAtFractions(list: readonly Candidate[], extra: readonly { chunk: Candidate['chunk']; folder?: string; f: number; note: Partial<Candidate['provenance']> }[]): Candidate[] {
  const out = appendAsWeakest(
    list,
    extra.map(({ chunk, folder }) => ({ chunk, ...(folder !== undefined ? { folder } : {}) })),
  );
  if (!list.length) {
    extra.forEach(({ note }, i) => (out[i]!.provenance = { ...out[i]!.provenance, ...note }));
    return out;
  }
  const weakest = Math.min(...relativeScores(list));
  const sd = (() => {
    const s = list.map((c) => c.provenance.ltr?.score ?? c.provenance.rerank?.score);
    if (s.some((v) => v === undefined)) return undefined;
    const v = s as number[];
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    return { max: Math.max(...v), sd: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length) || 1 };
  })();
  const lex = Math.max(0, ...list.map((c) => c.provenance.lexical?.score ?? 0));
  const fused = Math.max(0, ...list.map((c) => c.provenance.fused.score));
  extra.forEach(({ f, note }, i) => {
    const c = out[list.length + i]!;
    const p = { ...c.provenance, ...note };
    if (f > weakest) {
      if (p.lexical) p.lexical = { ...p.lexical, score: f * lex };
      p.fused = { ...p.fused, score: f * fused };
      if (sd) {
        const z = sd.max + sd.sd * Math.log(f);
        if (p.ltr) p.ltr = { ...p.ltr, score: z };
        if (p.rerank) p.rerank = { ...p.rerank, score: z };
      }
    }
    c.provenance = p;
  });
  return out;
}
