/** Kinds of chunk the chunkers produce. */
export type ChunkKind =
  | 'function'
  | 'method'
  | 'class'
  | 'interface'
  | 'type'
  | 'enum'
  | 'module' // top-level code between definitions
  | 'section' // markdown heading section
  | 'lines'; // line-window fallback

/** A piece of a file that is embedded and retrieved as a unit. */
export interface Chunk {
  /** Stable id: the same file content always yields the same ids. */
  id: string;
  /** Path relative to the indexed root, `/`-separated. */
  path: string;
  /** 1-based, inclusive. */
  startLine: number;
  /** 1-based, inclusive. */
  endLine: number;
  language: string;
  kind: ChunkKind;
  /** Symbol names, innermost last (e.g. ["UploadQueue", "retryFailed"]). Empty for non-symbol chunks. */
  symbols: string[];
  /** Context line(s) shown above the text: enclosing class / signature, e.g. "class UploadQueue > retryFailed(id)". */
  header: string;
  /** The source text of the chunk (exact lines startLine..endLine). */
  text: string;
  /** sha256 (hex, 16 chars) of header + text: what is embedded. Equal hash → reusable vector. */
  hash: string;
}

/** Counts tokens the way the embedding model will. */
export interface TokenCounter {
  count(text: string): number;
  /**
   * True when tokens never span a line break, so count(a + "\n" + b) = count(a) + count(b) − count("")
   * (BERT-style whitespace pre-tokenisation). The chunker then sizes a span from its lines' counts
   * instead of tokenising it again.
   */
  readonly additiveAcrossLines?: boolean;
}
