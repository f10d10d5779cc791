import type { AskContext } from '../answer/ask';
import { retrieve } from '../search/retriever';
import type { Candidate } from '../search/types';
import type { Chunk } from '../types';

/** An editor range pinned to a question (`#selection`, Ask About Selection): always a source, with its exact lines. */
export interface PinnedRange {
  /** The workspace folder's index name in multi-root; absent for a single folder. */
  folder?: string;
  path: string;
  startLine: number;
  endLine: number;
  language: string;
  /** The lines as the editor holds them (possibly unsaved). */
  text: string;
}

/** Longest pinned text kept (characters); the host cuts longer selections with a note. */
export const MAX_PIN_CHARS = 50_000;
export const MAX_PINS = 5;

/** The candidate a pin becomes: its own chunk, marked `mentioned` so it is packed first. */
export function pinnedCandidate(pin: PinnedRange, i: number): Candidate {
  const text = pin.text.slice(0, MAX_PIN_CHARS);
  const endLine = Math.max(pin.startLine, Math.min(pin.endLine, pin.startLine + text.split('\n').length - 1));
  const chunk: Chunk = { id: `pin:${i}:${pin.folder ?? ''}/${pin.path}:${pin.startLine}-${endLine}`, path: pin.path, startLine: pin.startLine, endLine, language: pin.language, kind: 'lines', symbols: [], header: '', text, hash: '' };
  return { chunk, ...(pin.folder ? { folder: pin.folder } : {}), provenance: { fused: { rank: i + 1, score: 1 }, carried: 'mentioned' }, rankBefore: i + 1, rankAfter: i + 1 };
}

/**
 * The context with pinned ranges put first in every retrieval. Pass the pins' files as mentions
 * too (askTurn's `paths`): a mentioned file passes a folder mention's filter, and the answer keeps
 * mentioned candidates first, so the pins are always packed into the context.
 */
export function withPins(ctx: AskContext, pins: readonly PinnedRange[]): AskContext {
  if (!pins.length) return ctx;
  const pinned = pins.slice(0, MAX_PINS).map(pinnedCandidate);
  const inner = ctx.retrieve ?? retrieve;
  const wrapped: typeof retrieve = async (stores, query, opts) => {
    const r = await inner(stores, query, opts);
    // Chunks overlapping or touching a pin would be merged into its source: the pin keeps its exact lines.
    const covered = (c: Candidate) => pinned.some((p) => (p.folder ?? '') === (c.folder ?? '') && p.chunk.path === c.chunk.path && c.chunk.startLine <= p.chunk.endLine + 1 && c.chunk.endLine >= p.chunk.startLine - 1);
    return { ...r, candidates: [...pinned, ...r.candidates.filter((c) => !covered(c))] };
  };
  return { ...ctx, retrieve: wrapped };
}
