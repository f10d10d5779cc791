import type { Chunk } from '../types';

/** The text the bi-encoder embeds for a chunk: where it lives, its context header, its code. */
export function embeddingText(chunk: Pick<Chunk, 'path' | 'header' | 'text'>): string {
  return chunk.header ? `${chunk.path}\n${chunk.header}\n${chunk.text}` : `${chunk.path}\n${chunk.text}`;
}
