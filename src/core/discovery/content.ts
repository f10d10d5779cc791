import { AVERAGE_LINE_MIN_FILE_BYTES, BINARY_SNIFF_BYTES, MAX_AVERAGE_LINE_LENGTH } from './defaults';

/** Why content is not indexable, or `undefined` when it is fine. */
export type ContentVerdict = { reason: 'binary' | 'minified'; detail: string } | undefined;

/**
 * Binary sniffing on the first `BINARY_SNIFF_BYTES` bytes:
 * - a UTF-32 or UTF-16 byte-order mark → binary (detail `utf-32` / `utf-16`): the chunkers and
 *   tokenizers work on UTF-8 text; converting is left to a future version rather than guessing;
 * - a NUL byte → binary (like git);
 * - more than 10 % C0 control bytes other than tab, LF, VT, FF, CR and ESC (ANSI colours in logs) → binary.
 * Bytes ≥ 0x80 are never counted: invalid UTF-8 (e.g. Latin-1) is still text, decoded with U+FFFD.
 */
export function sniffBinary(head: Uint8Array): ContentVerdict {
  const n = Math.min(head.length, BINARY_SNIFF_BYTES);
  if (n >= 4 && head[0] === 0xff && head[1] === 0xfe && head[2] === 0 && head[3] === 0) return { reason: 'binary', detail: 'utf-32 (byte-order mark)' };
  if (n >= 4 && head[0] === 0 && head[1] === 0 && head[2] === 0xfe && head[3] === 0xff) return { reason: 'binary', detail: 'utf-32 (byte-order mark)' };
  if (n >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) {
    return { reason: 'binary', detail: 'utf-16 (byte-order mark)' };
  }
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i]!;
    if (b === 0) return { reason: 'binary', detail: `NUL byte at offset ${i}` };
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0b && b !== 0x0c && b !== 0x0d && b !== 0x1b) || b === 0x7f) control++;
  }
  if (n > 0 && control > n * 0.1) return { reason: 'binary', detail: `${control} control bytes in the first ${n}` };
  return undefined;
}

/**
 * Minified / generated-content detection on a text sample (the first `MINIFIED_SNIFF_BYTES` bytes):
 * - any line longer than `maxLineLength` characters → minified;
 * - for non-prose files larger than `AVERAGE_LINE_MIN_FILE_BYTES`, an average line length above
 *   `MAX_AVERAGE_LINE_LENGTH` → minified.
 * The sample may end mid-line; that only ever under-estimates the last line.
 */
export function sniffMinified(sample: string, fileSize: number, maxLineLength: number, prose: boolean): ContentVerdict {
  let lines = 0;
  let longest = 0;
  let total = 0;
  let start = 0;
  // Lines end at LF, CRLF or a lone CR (as the chunker and the editor count them).
  const eol = /\r\n?|\n/g;
  for (;;) {
    const m = eol.exec(sample);
    const end = m ? m.index : sample.length;
    const len = end - start;
    if (len > longest) longest = len;
    total += len;
    if (!m) {
      if (len > 0) lines++;
      break;
    }
    lines++;
    start = eol.lastIndex;
  }
  if (longest > maxLineLength) return { reason: 'minified', detail: `a line of at least ${longest} characters (limit ${maxLineLength})` };
  if (!prose && fileSize > AVERAGE_LINE_MIN_FILE_BYTES && lines > 0) {
    const average = total / lines;
    if (average > MAX_AVERAGE_LINE_LENGTH) {
      return { reason: 'minified', detail: `average line length ${Math.round(average)} (limit ${MAX_AVERAGE_LINE_LENGTH})` };
    }
  }
  return undefined;
}
