// wink-porter2-stemmer ships no types; it is a single function.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const stem: (word: string) => string = require('wink-porter2-stemmer');

/**
 * Code-aware tokens for BM25. An identifier yields itself (lowercased) and its parts split on
 * camelCase / PascalCase / snake_case / kebab-case / digit boundaries, so "retryFailedUploads"
 * matches a question about "failed uploads" and an exact "retryFailedUploads" scores higher.
 * Parts are stemmed (Porter2) so "uploads"/"upload" and "retries"/"retry" meet; whole
 * identifiers are kept verbatim for exact matches.
 */
const WORD = /[A-Za-z_$][A-Za-z0-9_$]*(?:-[A-Za-z0-9_$]+)*|[0-9]+/g;

/**
 * Bounds on lexical work (a file or a question can be hostile; the question path runs on the
 * editor's extension-host thread). Splitting and Porter2 stemming cost O(n²) in a word's length
 * (measured before these caps: one 10 000-character word took 0.7 s, a 100 000-character one
 * minutes), so:
 * - a word longer than `MAX_WORD_CHARS` yields no token at all (a base64 blob or a minified run is
 *   not something anyone searches for; indexing and questions skip it alike, so they still agree);
 * - a part longer than `MAX_STEM_CHARS` is kept as is, not stemmed;
 * - at most `MAX_TEXT_CHARS` characters of one text are tokenised, and at most `MAX_TEXT_TOKENS`
 *   tokens kept. Chunks are far below both (a chunk is a few hundred model tokens); a question
 *   over them is cut there, so its lexical cost is bounded whatever its length.
 */
export const MAX_WORD_CHARS = 128;
export const MAX_STEM_CHARS = 48;
export const MAX_TEXT_CHARS = 65_536;
export const MAX_TEXT_TOKENS = 8192;

/** Question words and glue that carry no signal in code search (kept small on purpose). */
export const STOPWORDS = new Set(
  (
    'a an and are as at be by can could did do does doing for from has have how i if in into is it its ' +
    'me my of on or our should so than that the their them then there these this those to was we were ' +
    'what when where which while who whom why will with would you your about any all also there here ' +
    'used using use uses happen happens implemented implement implementation handled handle handles work works'
  ).split(' '),
);

export function splitIdentifier(word: string): string[] {
  return word
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])([0-9])/g, '$1 $2')
    .replace(/([0-9])([A-Za-z])/g, '$1 $2')
    .split(/[\s_$-]+/)
    .filter(Boolean);
}

/**
 * Identifiers repeat heavily across a codebase, and splitting + stemming costs ~10 µs per word:
 * memoise per word (bounded; cleared when full).
 */
const WORD_CACHE_LIMIT = 200_000;
const wordCache = new Map<string, readonly string[]>();
/** A lowercased identifier part's token (stemmed), or null when it yields none (`pushPart`). */
const partCache = new Map<string, string | null>();

function wordTokens(word: string): readonly string[] {
  const cached = wordCache.get(word);
  if (cached) return cached;
  const out: string[] = [];
  const lower = word.toLowerCase();
  const parts = splitIdentifier(word);
  if (parts.length > 1) {
    if (lower.length <= 64) out.push(lower);
    for (const part of parts) {
      // Parts repeat far more than whole identifiers (`uploadQueue7` is new, `upload` is not).
      const lowerPart = part.toLowerCase();
      let token = partCache.get(lowerPart);
      if (token === undefined) {
        const one: string[] = [];
        pushPart(one, lowerPart);
        token = one[0] ?? null;
        if (partCache.size >= WORD_CACHE_LIMIT) partCache.clear();
        partCache.set(lowerPart, token);
      }
      if (token !== null) out.push(token);
    }
  } else {
    pushPart(out, lower);
  }
  if (wordCache.size >= WORD_CACHE_LIMIT) wordCache.clear();
  wordCache.set(word, out);
  return out;
}

/** Tokens of a text for indexing or querying (lowercased, stopwords removed, parts stemmed). */
export function codeTokens(text: string): string[] {
  const out: string[] = [];
  const clipped = text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text;
  for (const match of clipped.matchAll(WORD)) {
    const word = match[0];
    if (word.length > MAX_WORD_CHARS) continue;
    for (const t of wordTokens(word)) {
      out.push(t);
      if (out.length >= MAX_TEXT_TOKENS) return out;
    }
  }
  return out;
}

function pushPart(out: string[], part: string): void {
  if (part.length < 2 && !/[0-9]/.test(part)) return;
  if (STOPWORDS.has(part)) return;
  out.push(part.length > 3 && part.length <= MAX_STEM_CHARS && /^[a-z]+$/.test(part) ? stem(part) : part);
}

/** Path segments and file-name parts as tokens ("src/upload/retryQueue.ts" → src, upload, retry, queue, …). */
export function pathTokens(p: string): string[] {
  return codeTokens(p.replace(/[/.\\]/g, ' '));
}
