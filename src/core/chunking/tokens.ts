import type { TokenCounter } from '../types';

/**
 * Word pieces as a BERT tokenizer sees them, a little finer: letter runs split at camelCase
 * boundaries (`retryFailed` → `retry`, `Failed`; `HTTPServer` → `HTTP`, `Server`), digit runs,
 * and every other non-space character (punctuation, `_`, non-ASCII) alone.
 */
const PIECE = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[^\s\w]|_/gu;

/**
 * Token count approximation used when no model tokenizer is loaded. It is meant to over-count
 * against an uncased BERT WordPiece tokenizer (e.g. MiniLM / bge-small), so chunks sized with it
 * still fit the model:
 *
 * - 2 for `[CLS]` and `[SEP]` (the model tokenizers this project uses add them);
 * - each punctuation / symbol / `_` / non-ASCII character: 1 (WordPiece splits all punctuation,
 *   and CJK characters, into single tokens);
 * - each letter or digit piece of length L: ceil(L / 3), at least 1 — WordPiece keeps common
 *   words whole (1 token) and cuts rare ones into pieces of 2–4 characters, and a camelCase
 *   identifier is one WordPiece word that it cuts into continuation pieces (`##…`).
 *
 * Typical code is over-counted by about 1.3–1.8×; whitespace costs nothing (WordPiece drops it).
 */
export class HeuristicTokenCounter implements TokenCounter {
  /** Tokens added to every sequence ([CLS] + [SEP]). */
  readonly specialTokens: number;
  /** Pieces never contain whitespace. */
  readonly additiveAcrossLines = true;

  constructor(options: { specialTokens?: number } = {}) {
    this.specialTokens = options.specialTokens ?? 2;
  }

  count(text: string): number {
    let n = this.specialTokens;
    PIECE.lastIndex = 0;
    for (let m = PIECE.exec(text); m !== null; m = PIECE.exec(text)) {
      const piece = m[0];
      const c = piece.charCodeAt(0);
      const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
      n += alnum ? Math.max(1, Math.ceil(piece.length / 3)) : 1;
    }
    return n;
  }
}
