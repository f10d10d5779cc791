import { Tokenizer } from '@huggingface/tokenizers';
import type { TokenCounter } from '../types';

/** A model's tokenizer as loaded by the inference worker (tokenizer.json and tokenizer_config.json). */
export interface TokenizerSpec {
  json: object;
  config: { model_max_length?: number } & Record<string, unknown>;
}

/** Token ids of several texts, back to back: text i is `ids[offsets[i] .. offsets[i + 1])`. */
export interface TokenBatch {
  ids: Int32Array;
  offsets: Int32Array;
}

/**
 * The embedding model's tokenizer outside the inference worker (the indexing thread): counts tokens
 * for the chunker and turns chunk texts into token ids, so the worker's thread — which onnxruntime
 * blocks while the model runs — does inference only. Same library and files as transformers.js,
 * hence the same ids (tested against its tokenizer).
 *
 * When tokens never span a line break (`splitsAtWhitespace`), a text's ids are its lines' ids back
 * to back between the special tokens, so each distinct line is tokenised once per instance: the
 * chunker counts the same lines many times while it looks for chunk boundaries, and the chunks'
 * ids then come from the same lines (this halves the indexing thread's tokenising time).
 */
export class ModelTokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly maxLength: number;
  readonly counter: TokenCounter;
  /** Special tokens around a text's own ids; undefined when lines cannot be tokenised apart. */
  private readonly frame?: { prefix: number[]; suffix: number[] };
  private readonly lineIds = new Map<string, number[]>();
  /** Ids of one pre-tokenised word (the fast path for plain-ASCII lines; see `asciiWords`). */
  private readonly wordIds = new Map<string, number[]>();
  /** Added tokens (lowercased) a line must not contain for the fast path; undefined: no fast path. */
  private readonly fastPath?: readonly string[];
  /** The added tokens' first characters when none is a letter (so case does not matter), else undefined. */
  private readonly addedFirstChars?: readonly string[];
  /** WordPiece's greedy longest match on plain-ASCII words (the fast path's). */
  private readonly wordPiece?: AsciiWordPiece;

  constructor(
    /** What it was made from (a chunking thread makes its own from it: `indexing/chunkThreads.ts`). */
    readonly spec: TokenizerSpec,
    private readonly maxCachedLines = 50_000,
  ) {
    this.tokenizer = new Tokenizer(spec.json, spec.config);
    memoiseWordPiece(this.tokenizer, spec.json, maxCachedLines);
    this.maxLength = spec.config.model_max_length ?? Number.POSITIVE_INFINITY;
    const additive = splitsAtWhitespace(spec.json, (text) => this.tokenizer.encode(text).ids.length);
    this.frame = additive ? specialFrame(this.tokenizer) : undefined;
    this.wordPiece = this.frame ? asciiWordPiece(this.tokenizer, spec.json) : undefined;
    this.fastPath = this.frame ? bertFastPath(spec.json, (line) => this.tokenizer.encode(line, { add_special_tokens: false }).ids, (line) => this.asciiIds(line), (line) => this.asciiCount(line)) : undefined;
    const firsts = [...new Set((this.fastPath ?? []).map((t) => t[0]!))];
    this.addedFirstChars = firsts.every((ch) => ch.toLowerCase() === ch.toUpperCase()) ? firsts : undefined;
    const count = this.frame
      ? (text: string) => this.frame!.prefix.length + this.frame!.suffix.length + this.ownCount(text)
      : (text: string) => this.tokenizer.encode(text).ids.length;
    this.counter = { count, additiveAcrossLines: additive };
  }

  /** A text's ids without special tokens, from its lines' cached ids. */
  private ownIds(text: string): number[] {
    const out: number[] = [];
    for (const line of text.split('\n')) {
      let ids = this.lineIds.get(line);
      if (!ids) {
        ids = this.fastPath && PLAIN_ASCII.test(line) && !this.hasAddedToken(line) ? this.asciiIds(line) : this.tokenizer.encode(line, { add_special_tokens: false }).ids;
        if (this.lineIds.size >= this.maxCachedLines) this.lineIds.clear();
        this.lineIds.set(line, ids);
      }
      for (const id of ids) out.push(id);
    }
    return out;
  }

  /**
   * `ownIds(text).length` without assembling the ids: the chunker counts each line of a file once
   * (and code lines rarely repeat), so a line not in the cache is counted from its words' cached
   * ids and not stored — no per-line id arrays to build, copy and collect.
   */
  private ownCount(text: string): number {
    let n = 0;
    for (let from = 0; ; ) {
      const nl = text.indexOf('\n', from);
      const line = nl < 0 ? (from === 0 ? text : text.slice(from)) : text.slice(from, nl);
      const ids = this.lineIds.get(line);
      if (ids) n += ids.length;
      else if (this.fastPath && PLAIN_ASCII.test(line) && !this.hasAddedToken(line)) n += this.asciiCount(line);
      else n += this.ownIds(line).length;
      if (nl < 0) return n;
      from = nl + 1;
    }
  }

  /** The ids of one word of a plain-ASCII line (memoised). */
  private idsOfWord(word: string): number[] {
    let ids = this.wordIds.get(word);
    if (!ids) {
      ids = this.wordPiece?.idsOf(word) ?? this.tokenizer.encode(word, { add_special_tokens: false }).ids;
      if (this.wordIds.size >= this.maxCachedLines) this.wordIds.clear();
      this.wordIds.set(word, ids);
    }
    return ids;
  }

  /**
   * `asciiIds(line).length`, without the array: with the vocabulary's trie each word is counted
   * where it stands in the line (no substring, no memo lookup); one punctuation character is one
   * token (its id or [UNK]).
   */
  private asciiCount(line: string): number {
    const wp = this.wordPiece;
    let n = 0;
    for (let i = 0; i < line.length; ) {
      const j = asciiWordEnd(line, i);
      if (j < 0) i++;
      else {
        n += !wp ? this.idsOfWord(line.slice(i, j)).length : j === i + 1 ? 1 : wp.count(line, i, j);
        i = j;
      }
    }
    return n;
  }

  /**
   * A plain-ASCII line's ids without running the whole pipeline on it: BERT's normalizer and
   * pre-tokenizer leave such a line as its runs of letters and digits and its single punctuation
   * characters, and WordPiece maps each of those words on its own; so each distinct word is
   * tokenised once (by the library, alone) and a line's ids are its words' ids back to back.
   * Checked against the full pipeline on probes when the tokenizer is loaded (`bertFastPath`).
   */
  private asciiIds(line: string): number[] {
    const out: number[] = [];
    for (let i = 0; i < line.length; ) {
      const j = asciiWordEnd(line, i);
      if (j < 0) i++;
      else {
        for (const id of this.idsOfWord(line.slice(i, j))) out.push(id);
        i = j;
      }
    }
    return out;
  }

  private hasAddedToken(line: string): boolean {
    if (!this.fastPath!.length) return false;
    // BERT's added tokens all start with `[`: most lines need no lowercased copy to rule them out.
    if (this.addedFirstChars && !this.addedFirstChars.some((ch) => line.includes(ch))) return false;
    const lower = line.toLowerCase();
    return this.fastPath!.some((t) => lower.includes(t));
  }

  /** Ids with the special tokens, cut at the model's maximum length as transformers.js cuts them. */
  encode(text: string): number[] {
    const ids = this.frame ? [...this.frame.prefix, ...this.ownIds(text), ...this.frame.suffix] : this.tokenizer.encode(text).ids;
    return ids.length > this.maxLength ? ids.slice(0, this.maxLength) : ids;
  }

  encodeBatch(texts: readonly string[]): TokenBatch {
    const rows = texts.map((t) => this.encode(t));
    const offsets = new Int32Array(rows.length + 1);
    for (let i = 0; i < rows.length; i++) offsets[i + 1] = offsets[i]! + rows[i]!.length;
    const ids = new Int32Array(offsets[rows.length]!);
    rows.forEach((row, i) => ids.set(row, offsets[i]!));
    return { ids, offsets };
  }
}

/**
 * WordPiece turns each pre-tokenised word into pieces on its own (a greedy longest match that
 * rebuilds substrings character by character: the largest cost of tokenising code). Code repeats
 * its identifiers and keywords, so this tokenizer's model gets a per-word memo: the same pieces,
 * each distinct word matched once. Applied only to the library's WordPiece model, whose `encode`
 * maps words independently (unknown-token fusing, when configured, runs on the joined result as
 * before); anything else is left alone.
 */
function memoiseWordPiece(tokenizer: Tokenizer, json: object, maxWords: number): void {
  type Model = { encode?: (words: string[]) => string[] };
  const model = (tokenizer as unknown as { model?: Model }).model;
  if ((json as { model?: { type?: string } }).model?.type !== 'WordPiece' || typeof model?.encode !== 'function') return;
  const encode = model.encode.bind(model);
  const pieces = new Map<string, string[]>();
  model.encode = (words: string[]) => {
    const out: string[] = [];
    for (const word of words) {
      let p = pieces.get(word);
      if (!p) {
        p = encode([word]);
        if (pieces.size >= maxWords) pieces.clear();
        pieces.set(word, p);
      }
      for (const x of p) out.push(x);
    }
    return out;
  };
}

/** The special tokens the tokenizer puts before and after a text's own ids, or undefined if they are not a plain frame. */
function specialFrame(tokenizer: Tokenizer): { prefix: number[]; suffix: number[] } | undefined {
  const probe = 'retry upload';
  const full = tokenizer.encode(probe).ids;
  const own = tokenizer.encode(probe, { add_special_tokens: false }).ids;
  if (!own.length) return undefined;
  for (let k = 0; k + own.length <= full.length; k++) {
    if (own.every((id, i) => full[k + i] === id)) {
      const frame = { prefix: full.slice(0, k), suffix: full.slice(k + own.length) };
      // The empty text gets the same frame (and nothing else).
      const empty = tokenizer.encode('').ids;
      return empty.length === frame.prefix.length + frame.suffix.length && empty.every((id, i) => id === [...frame.prefix, ...frame.suffix][i]) ? frame : undefined;
    }
  }
  return undefined;
}

/**
 * Rows `from`..`to` of a token batch as model inputs: ids padded with `padId` to the longest row,
 * the attention mask (BigInt64, as onnxruntime wants int64).
 */
export function paddedInputs(batch: TokenBatch, from: number, to: number, padId: number): { ids: BigInt64Array; mask: BigInt64Array; dims: [number, number] } {
  let width = 0;
  for (let r = from; r < to; r++) width = Math.max(width, batch.offsets[r + 1]! - batch.offsets[r]!);
  const rows = to - from;
  const ids = new BigInt64Array(rows * width).fill(BigInt(padId));
  const mask = new BigInt64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const start = batch.offsets[from + r]!;
    const len = batch.offsets[from + r + 1]! - start;
    for (let k = 0; k < len; k++) {
      ids[r * width + k] = BigInt(batch.ids[start + k]!);
      mask[r * width + k] = 1n;
    }
  }
  return { ids, mask, dims: [rows, width] };
}

/**
 * WordPiece on plain-ASCII words (a run of letters and digits, or one punctuation character) as the
 * library does it — lowercased when the normalizer lowercases, the longest vocabulary entry from the
 * left, then `##` continuations — but walking a trie of the vocabulary's ASCII entries by character
 * codes: no substring is built or hashed (the library rebuilds character arrays, O(length²) joins per
 * word; matching string slices against the vocabulary still cost ~6 µs per new word, and code's
 * identifiers rarely repeat). Only ASCII entries are in the trie: no other entry can match an ASCII
 * word.
 */
class AsciiWordPiece {
  /**
   * Children, an open-addressing hash table: slot k holds key `node * 128 + charCode` at `keys[k]`
   * (-1 when empty) and the child node at `next[k]` — ~3× faster than a Map's lookup on the hot
   * path. Node 0 starts a word, node 1 a `##` continuation.
   */
  private keys = new Int32Array(1 << 12).fill(-1);
  private next = new Int32Array(1 << 12);
  /** 32 − log2(slots). */
  private shift = 32 - 12;
  private edgeCount = 0;
  /** The token id of the entry ending at each node, -1 where none ends. */
  private readonly ids: number[] = [-1, -1];
  /** The id of the entry `longest` found last. */
  private last = -1;

  constructor(
    vocab: Map<string, number>,
    idOf: (piece: string) => number | undefined,
    prefix: string,
    private readonly maxChars: number,
    private readonly lowercase: boolean,
  ) {
    for (const key of vocab.keys()) {
      const id = idOf(key);
      if (id === undefined) continue;
      this.insert(0, key, 0, id);
      if (prefix && key.length > prefix.length && key.startsWith(prefix)) this.insert(1, key, prefix.length, id);
    }
  }

  private insert(root: number, key: string, from: number, id: number): void {
    let node = root;
    for (let i = from; i < key.length; i++) {
      const c = key.charCodeAt(i);
      if (c >= 128) return; // no ASCII word can reach it
      let child = this.child(node * 128 + c);
      if (child < 0) {
        child = this.ids.length;
        this.ids.push(-1);
        this.addEdge(node * 128 + c, child);
      }
      node = child;
    }
    if (node > 1) this.ids[node] = id;
  }

  /** The child node under `key` (`node * 128 + charCode`), -1 if none. */
  private child(key: number): number {
    const mask = this.keys.length - 1;
    // Fibonacci hashing: the product's high bits are the well-mixed ones.
    for (let k = Math.imul(key, 0x9e3779b1) >>> this.shift; ; k = (k + 1) & mask) {
      const at = this.keys[k]!;
      if (at === key) return this.next[k]!;
      if (at < 0) return -1;
    }
  }

  private addEdge(key: number, child: number): void {
    if (2 * (this.edgeCount + 1) > this.keys.length) {
      // At most half full: rehash into twice the slots.
      const { keys, next } = this;
      this.keys = new Int32Array(keys.length * 2).fill(-1);
      this.next = new Int32Array(keys.length * 2);
      this.shift--;
      this.edgeCount = 0;
      for (let k = 0; k < keys.length; k++) if (keys[k]! >= 0) this.addEdge(keys[k]!, next[k]!);
    }
    const mask = this.keys.length - 1;
    let k = Math.imul(key, 0x9e3779b1) >>> this.shift;
    while (this.keys[k]! >= 0) k = (k + 1) & mask;
    this.keys[k] = key;
    this.next[k] = child;
    this.edgeCount++;
  }

  /** End of the longest entry matching `word[start..to)` from `start` (a continuation when `cont`), -1 if none; its id in `this.last`. */
  private longest(word: string, start: number, to: number, cont: boolean): number {
    let node = cont ? 1 : 0;
    let end = -1;
    for (let k = start; k < to; k++) {
      let c = word.charCodeAt(k);
      if (this.lowercase && c >= 65 && c <= 90) c += 32;
      const child = this.child(node * 128 + c);
      if (child < 0) break;
      node = child;
      const id = this.ids[node]!;
      if (id >= 0) {
        end = k + 1;
        this.last = id;
      }
    }
    return end;
  }

  /** The ids of `word`, undefined when it is too long or not covered (then the library says [UNK]). */
  idsOf(word: string): number[] | undefined {
    if (word.length > this.maxChars) return undefined;
    const out: number[] = [];
    for (let start = 0; start < word.length; ) {
      const end = this.longest(word, start, word.length, start > 0);
      if (end < 0) return undefined;
      out.push(this.last);
      start = end;
    }
    return out;
  }

  /**
   * How many tokens the word `line[from..to)` is: its pieces, or 1 — the library's single [UNK] for a
   * word too long or not covered.
   */
  count(line: string, from: number, to: number): number {
    if (to - from > this.maxChars) return 1;
    let n = 0;
    for (let start = from; start < to; n++) {
      const end = this.longest(line, start, to, start > from);
      if (end < 0) return 1;
      start = end;
    }
    return n;
  }
}

function asciiWordPiece(tokenizer: Tokenizer, tokenizerJson: object): AsciiWordPiece | undefined {
  type Model = { tokens_to_ids?: Map<string, number>; max_input_chars_per_word?: number; config?: { continuing_subword_prefix?: string } };
  const model = (tokenizer as unknown as { model?: Model; added_tokens_map?: Map<string, { id: number }> }).model;
  const added = (tokenizer as unknown as { added_tokens_map?: Map<string, { id: number }> }).added_tokens_map;
  const vocab = model?.tokens_to_ids;
  const prefix = model?.config?.continuing_subword_prefix;
  if (!(vocab instanceof Map) || typeof prefix !== 'string' || !(added instanceof Map)) return undefined;
  const lowercase = (tokenizerJson as { normalizer?: { lowercase?: boolean } }).normalizer?.lowercase !== false;
  return new AsciiWordPiece(vocab, (piece) => added.get(piece)?.id ?? vocab.get(piece), prefix, model!.max_input_chars_per_word ?? 100, lowercase);
}

/** Printable ASCII and tabs: what BERT's normalizer leaves as is (but for case and tabs) and its pre-tokenizer splits simply. */
const PLAIN_ASCII = /^[\x20-\x7e\t]*$/;
/**
 * BertPreTokenizer's words on a plain-ASCII line (`PLAIN_ASCII`): runs of letters and digits, and
 * each other non-space character alone (all ASCII punctuation) — what `/[A-Za-z0-9]+|[^\sA-Za-z0-9]/g`
 * matches there, scanned by character codes. The end of the word starting at `i`, or -1 when
 * `line[i]` is a space or a tab.
 */
function asciiWordEnd(line: string, i: number): number {
  const c = line.charCodeAt(i);
  if (c === 32 || c === 9) return -1;
  if (!isAsciiAlnum(c)) return i + 1;
  let j = i + 1;
  while (j < line.length && isAsciiAlnum(line.charCodeAt(j))) j++;
  return j;
}

function isAsciiAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}

/**
 * Whether plain-ASCII lines can be tokenised word by word (`ModelTokenizer.asciiIds`): a BERT
 * normalizer and pre-tokenizer, WordPiece without unknown-token fusing, no added token that is a
 * plain word or one punctuation character, and the same ids as the full pipeline on probes
 * (camelCase, snake_case, punctuation runs, a word past WordPiece's length limit, tabs). Returns the added tokens (lowercased) that send a line to the full
 * pipeline, or undefined when the fast path is off.
 */
function bertFastPath(tokenizerJson: object, full: (line: string) => number[], fast: (line: string) => number[], count: (line: string) => number): readonly string[] | undefined {
  const json = tokenizerJson as { normalizer?: { type?: string }; pre_tokenizer?: { type?: string }; model?: { type?: string; fuse_unk?: boolean }; added_tokens?: { content?: string }[] };
  if (json.normalizer?.type !== 'BertNormalizer' || json.pre_tokenizer?.type !== 'BertPreTokenizer' || json.model?.type !== 'WordPiece' || json.model.fuse_unk) return undefined;
  const added = (json.added_tokens ?? []).map((t) => String(t.content ?? '').toLowerCase()).filter(Boolean);
  if (added.some((t) => /^[a-z0-9]+$/.test(t) || t.length === 1)) return undefined;
  const probes = [
    'export async function retryFailedUploads(queue: UploadQueue) {',
    "\tconst x_y$z = a?.b ?? c['d-e'] + 0x1F; // TODO(me): <tag/> `tpl ${v}` #1 @dec ~!%^&*|",
    `  const ${'a'.repeat(120)} = 'Supercalifragilistic' + HTTPServer2Go;`,
    '',
  ];
  return probes.every((p) => {
    const a = full(p);
    const b = fast(p);
    return a.length === b.length && a.every((id, i) => id === b[i]) && count(p) === a.length;
  })
    ? added
    : undefined;
}

const WHITESPACE_PRE_TOKENIZERS = new Set(['BertPreTokenizer', 'Whitespace', 'WhitespaceSplit']);
const LINE_SAFE_NORMALIZERS = new Set(['BertNormalizer', 'Lowercase', 'NFD', 'NFC', 'NFKC', 'NFKD', 'StripAccents']);

/**
 * Whether this tokenizer's tokens never span a line break (WordPiece after a whitespace
 * pre-tokenizer, with normalizers that do not touch whitespace), checked on its tokenizer.json
 * and on a few probes. Then a span's size is the sum of its lines' sizes (see TokenCounter).
 */
export function splitsAtWhitespace(tokenizerJson: object, count: (t: string) => number): boolean {
  type Part = { type?: string; normalizers?: Part[] } | null | undefined;
  const json = tokenizerJson as { pre_tokenizer?: Part; normalizer?: Part; model?: { type?: string } };
  if (json.model?.type !== 'WordPiece' || !WHITESPACE_PRE_TOKENIZERS.has(json.pre_tokenizer?.type ?? '')) return false;
  const normalizers = json.normalizer?.type === 'Sequence' ? (json.normalizer.normalizers ?? []) : json.normalizer ? [json.normalizer] : [];
  if (!normalizers.every((n) => LINE_SAFE_NORMALIZERS.has(n?.type ?? ''))) return false;
  const base = count('');
  const probes: [string, string][] = [
    ['export async function retryFailedUploads(queue: UploadQueue) {', '  for (const item of queue.failed()) await item.retry();'],
    ['# Überschrift — naïve café', '    x = {"a": [1, 2.5e-3]}  // 注释'],
    ['', '}'],
  ];
  return probes.every(([a, b]) => count(`${a}\n${b}`) === count(a) + count(b) - base);
}
