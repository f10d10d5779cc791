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
export const WORD = /[A-Za-z_$][A-Za-z0-9_$]*(?:-[A-Za-z0-9_$]+)*|[0-9]+/g;

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

/**
 * An identifier's parts: split at `_`, `$`, `-` and whitespace, and between a lowercase letter or
 * digit and an uppercase letter, before the last capital of a run followed by a lowercase letter
 * (`HTTPServer` → HTTP, Server), and between letters and digits. One pass over character codes:
 * the same parts as the four regex replacements it replaced
 * (`.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2').replace(/([A-Za-z])([0-9])/g, '$1 $2').replace(/([0-9])([A-Za-z])/g, '$1 $2').split(/[\s_$-]+/).filter(Boolean)`;
 * `test/unit/lexical.test.ts` compares them on seeded random words), at a fraction of the cost on
 * words seen for the first time.
 */
export function splitIdentifier(word: string): string[] {
  const parts: string[] = [];
  let start = -1; // start of the current part, -1 between parts
  let prev = SEP;
  for (let i = 0; i < word.length; i++) {
    const kind = charKind(word.charCodeAt(i));
    if (kind === SEP) {
      if (start >= 0) parts.push(word.slice(start, i));
      start = -1;
    } else if (start < 0) {
      start = i;
    } else if (
      (kind === UPPER && (prev === LOWER || prev === DIGIT)) ||
      (kind === UPPER && prev === UPPER && i + 1 < word.length && charKind(word.charCodeAt(i + 1)) === LOWER) ||
      (kind === DIGIT && (prev === LOWER || prev === UPPER)) ||
      ((kind === LOWER || kind === UPPER) && prev === DIGIT)
    ) {
      parts.push(word.slice(start, i));
      start = i;
    }
    prev = kind;
  }
  if (start >= 0) parts.push(word.slice(start));
  return parts;
}

const SEP = 0;
const LOWER = 1;
const UPPER = 2;
const DIGIT = 3;
const OTHER = 4;

/** `_`, `$`, `-` and whitespace (what `/[\s_$-]/` matches) separate parts. */
function charKind(c: number): number {
  if (c >= 97 && c <= 122) return LOWER;
  if (c >= 65 && c <= 90) return UPPER;
  if (c >= 48 && c <= 57) return DIGIT;
  if (c === 95 || c === 36 || c === 45 || c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff) return SEP;
  return OTHER;
}

/**
 * Identifiers repeat heavily across a codebase, and splitting + stemming costs ~10 µs per word:
 * memoise per word (bounded; cleared when full).
 */
const WORD_CACHE_LIMIT = 200_000;
/** A word's tokens and, once `codeTokenIds` asked, their ids in the term dictionary of `generation`. */
interface WordEntry {
  tokens: readonly string[];
  ids?: readonly number[];
  generation?: number;
}
const wordCache = new Map<string, WordEntry>();
/** A lowercased identifier part's token (stemmed), or null when it yields none (`pushPart`). */
const partCache = new Map<string, string | null>();

function wordEntry(word: string): WordEntry {
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
  const entry: WordEntry = { tokens: out };
  wordCache.set(word, entry);
  return entry;
}

/** Each word of a text (up to MAX_TEXT_CHARS; words over MAX_WORD_CHARS skipped) as its cache entry, until `visit` says stop. */
function eachWord(text: string, visit: (entry: WordEntry) => boolean): void {
  const clipped = text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text;
  for (let i = 0; i < clipped.length; ) {
    const end = wordEnd(clipped, i);
    if (end < 0) {
      i++;
      continue;
    }
    const start = i;
    i = end;
    if (end - start > MAX_WORD_CHARS) continue;
    if (!visit(wordEntry(clipped.slice(start, end)))) return;
  }
}

/** Tokens of a text for indexing or querying (lowercased, stopwords removed, parts stemmed). */
export function codeTokens(text: string): string[] {
  const out: string[] = [];
  eachWord(text, (entry) => {
    for (const t of entry.tokens) {
      out.push(t);
      if (out.length >= MAX_TEXT_TOKENS) return false;
    }
    return true;
  });
  return out;
}

/**
 * The thread's term dictionary: an id per distinct indexed term, so that packing BM25 documents
 * (`DocBatchBuilder`) reads a word's term ids from the word cache instead of looking each token up
 * again. Ids stay valid until `resetTermsIfLarge` starts a new generation (only between batches).
 */
export const termDictionary = { ids: new Map<string, number>(), terms: [] as string[], generation: 0, inUse: 0 };
const TERM_DICTIONARY_LIMIT = 1_000_000;

/** A term's id in the dictionary (added when new). */
export function termId(term: string): number {
  let id = termDictionary.ids.get(term);
  if (id === undefined) {
    id = termDictionary.terms.length;
    termDictionary.ids.set(term, id);
    termDictionary.terms.push(term);
  }
  return id;
}

/** Starts a new dictionary when this one is large and no packing is under way (`inUse`). */
export function resetTermsIfLarge(limit = TERM_DICTIONARY_LIMIT): void {
  if (termDictionary.terms.length < limit || termDictionary.inUse > 0) return;
  termDictionary.ids = new Map();
  termDictionary.terms = [];
  termDictionary.generation++;
}

/** `codeTokens` as term ids (`termId` of each token, in the same order and with the same limits). */
export function codeTokenIds(text: string): number[] {
  const out: number[] = [];
  const generation = termDictionary.generation;
  eachWord(text, (entry) => {
    if (entry.generation !== generation || !entry.ids) {
      entry.ids = entry.tokens.map(termId);
      entry.generation = generation;
    }
    for (const id of entry.ids) {
      out.push(id);
      if (out.length >= MAX_TEXT_TOKENS) return false;
    }
    return true;
  });
  return out;
}

/** `pathTokens` as term ids. */
export function pathTokenIds(p: string): number[] {
  return codeTokenIds(pathText(p));
}

/**
 * The end of the `WORD` match that starts at `i` — an identifier (`[A-Za-z_$][A-Za-z0-9_$]*`, with
 * `-part` continuations) or a run of digits — or -1 when none starts there. Scanned by character
 * codes: the same words as `text.matchAll(WORD)` (`test/unit/lexical-tokenize.test.ts`) without
 * a match object per word.
 */
function wordEnd(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 48 && c <= 57) {
    let j = i + 1;
    while (j < text.length && isDigit(text.charCodeAt(j))) j++;
    return j;
  }
  if (!isWordStart(c)) return -1;
  let j = i + 1;
  for (;;) {
    while (j < text.length && isWordChar(text.charCodeAt(j))) j++;
    // `-` continues the word only when a word character follows it.
    if (text.charCodeAt(j) === 45 && j + 1 < text.length && isWordChar(text.charCodeAt(j + 1))) j += 2;
    else return j;
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isWordStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36;
}

function isWordChar(c: number): boolean {
  return isWordStart(c) || isDigit(c);
}

/** The words `codeTokens` tokenises, as `matchAll(WORD)` gives them (for tests). */
export function codeWords(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    const end = wordEnd(text, i);
    if (end < 0) i++;
    else {
      out.push(text.slice(i, end));
      i = end;
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
  return codeTokens(pathText(p));
}

function pathText(p: string): string {
  return p.replace(/[/.\\]/g, ' ');
}
