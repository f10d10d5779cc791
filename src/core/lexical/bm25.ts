/**
 * A compact, binary BM25 index for one shard, scored exactly like MiniSearch's BM25+ (the
 * library Sift used before; it stays in the tests as the oracle, and `test/unit/bm25.test.ts`
 * asserts equal ids, scores and order). Why not MiniSearch itself: its index lives in Maps of
 * Maps and is stored as JSON — ~1.5 KB per chunk on disk, hundreds of milliseconds to parse a
 * shard, and 0.9 s per query at 200k chunks (measured, docs/performance.md). Here a shard's
 * index is one buffer of typed arrays, searched in place: nothing is parsed on open, a term is
 * found by binary search over its UTF-8 bytes, and scoring walks posting arrays.
 *
 * Layout (little-endian; every array aligned to its element size). Most terms are whole
 * identifiers found in one field of a few chunks, so a term costs its bytes + 9: no per-field table.
 *   header   u32 magic "SLX2", docs D, terms T, postings P, id bytes, term bytes, multi-field terms M, overflows O
 *   f64[F]   average field length (MiniSearch's running average, bit for bit)
 *   u32[T+1] term byte offsets into the term blob
 *   u32[T+1] first posting of each term (a term's postings run field by field, each by document)
 *   u32[M]   terms present in more than one field (ascending) …
 *   u32[O]   postings whose term frequency is ≥ 255 (ascending) …
 *   u32[O]   … and those frequencies
 *   u16[D·F] field length per document (distinct terms in the field, as MiniSearch counts it)
 *   u16[M·F] … and their posting counts per field
 *   u16[P]   posting document (row in the shard)
 *   u8[T]    fields each term occurs in (bit per field)
 *   u8[P]    posting term frequency (255: see the overflow table)
 *   u8[]     term blob (terms sorted by UTF-8 bytes), then the chunk ids joined by "\n"
 */
import type { TimeSlicer } from '../util/slice';
import { termDictionary } from './tokenize';

export const FIELD_NAMES = ['symbols', 'path', 'header', 'text'] as const;
export const FIELD_COUNT = FIELD_NAMES.length;
export type FieldTerms = Map<string, number>;

/**
 * The BM25 documents of a batch of chunks, packed: one dictionary of the batch's terms and, per
 * document and field, its distinct terms (dictionary indexes, in first-occurrence order) and their
 * frequencies. A batch crosses threads as a few arrays (a chunking thread makes the documents, the
 * indexing thread builds shards from them), and a shard's build looks each distinct term of a batch
 * up once rather than once per posting.
 */
export interface DocBatch {
  terms: string[];
  /** Where the pairs of (document row · FIELD_COUNT + field) start; one more entry, the end. */
  starts: Uint32Array;
  term: Uint32Array;
  tf: Uint32Array;
}

/** One chunk's BM25 document: its row in a packed batch. */
export interface LexicalDoc {
  id: string;
  batch: DocBatch;
  row: number;
}

/**
 * Packs documents: `add` each document's field terms (FIELD_NAMES order) as ids in the thread's
 * term dictionary (`codeTokenIds`, `termId`), then `finish` (or `release` when abandoning it): the
 * dictionary does not start a new generation while a builder is open.
 */
export class DocBatchBuilder {
  private readonly terms: string[] = [];
  private readonly ids: string[] = [];
  private readonly generation = termDictionary.generation;
  private open = true;
  private starts = new Uint32Array(64 * FIELD_COUNT + 1);
  private term = new Uint32Array(4096);
  private tf = new Uint32Array(4096);
  private pairs = 0;
  /** Dictionary id → this batch's term index (-1: not seen yet). */
  private localOf: Int32Array<ArrayBuffer> = new Int32Array(1024).fill(-1);
  /** Per batch term: the (document, field) it was last counted in, and its pair there. */
  private seenIn: Int32Array<ArrayBuffer> = new Int32Array(1024).fill(-1);
  private pairOf = new Uint32Array(1024);

  constructor() {
    termDictionary.inUse++;
  }

  add(id: string, fields: readonly (readonly number[])[]): void {
    if (fields.length !== FIELD_COUNT) throw new Error('internal: field count');
    if (!this.open || termDictionary.generation !== this.generation) throw new Error('internal: the term dictionary changed while packing');
    const row = this.ids.length;
    this.ids.push(id);
    if ((row + 1) * FIELD_COUNT + 1 > this.starts.length) this.starts = grow(this.starts, (row + 1) * FIELD_COUNT + 1);
    for (let f = 0; f < FIELD_COUNT; f++) {
      const slot = row * FIELD_COUNT + f;
      this.starts[slot] = this.pairs;
      for (const g of fields[f]!) {
        if (g >= this.localOf.length) this.localOf = growFilled(this.localOf, g + 1);
        let t = this.localOf[g]!;
        if (t < 0) {
          t = this.terms.length;
          this.localOf[g] = t;
          this.terms.push(termDictionary.terms[g]!);
          if (t >= this.seenIn.length) {
            this.seenIn = growFilled(this.seenIn, t + 1);
            this.pairOf = grow(this.pairOf, this.seenIn.length);
          }
        }
        if (this.seenIn[t] === slot) {
          this.tf[this.pairOf[t]!]!++;
          continue;
        }
        if (this.pairs === this.term.length) {
          this.term = grow(this.term, this.pairs + 1);
          this.tf = grow(this.tf, this.pairs + 1);
        }
        this.seenIn[t] = slot;
        this.pairOf[t] = this.pairs;
        this.term[this.pairs] = t;
        this.tf[this.pairs++] = 1;
      }
    }
    this.starts[(row + 1) * FIELD_COUNT] = this.pairs;
  }

  finish(): LexicalDoc[] {
    this.release();
    const n = this.ids.length;
    const batch: DocBatch = {
      terms: this.terms,
      starts: this.starts.slice(0, n * FIELD_COUNT + 1),
      term: this.term.slice(0, this.pairs),
      tf: this.tf.slice(0, this.pairs),
    };
    return this.ids.map((id, row) => ({ id, batch, row }));
  }

  /** Done with the dictionary (idempotent; `finish` calls it). */
  release(): void {
    if (!this.open) return;
    this.open = false;
    termDictionary.inUse--;
  }
}

/** A copy at least `atLeast` long (doubling), new slots -1. */
function growFilled(a: Int32Array, atLeast: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(Math.max(atLeast, a.length * 2)).fill(-1);
  out.set(a);
  return out;
}

function grow<A extends Uint32Array>(a: A, atLeast: number): A {
  const out = new (a.constructor as new (n: number) => A)(Math.max(atLeast, a.length * 2));
  out.set(a);
  return out;
}

export interface Bm25Params {
  k: number;
  b: number;
  d: number;
}

const MAGIC = 0x32584c53; // "SLX2"
const HEADER_BYTES = 32;
const MAX_U16 = 0xffff;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NEWLINE = 0x0a;

const align = (n: number, to: number) => Math.ceil(n / to) * to;

/**
 * Builds a shard's index from its documents (in row order). With a slicer, yields to the event
 * loop between documents when its time budget is used up.
 *
 * Postings are placed by counting: each document's terms get shard-wide ids (a dictionary lookup
 * per distinct term of a batch), the postings are counted per (term, field), the terms sorted by
 * their UTF-8 bytes, and each posting written at its list's next slot — documents are visited in
 * row order, so every list comes out sorted by row.
 */
export async function buildBm25(docs: readonly LexicalDoc[], slicer?: TimeSlicer): Promise<Uint8Array> {
  if (docs.length > MAX_U16 + 1) throw new Error(`a BM25 shard holds at most ${MAX_U16 + 1} documents`);
  const D = docs.length;
  const F = FIELD_COUNT;
  let postings = 0;
  for (const { batch, row } of docs) postings += batch.starts[(row + 1) * F]! - batch.starts[row * F]!;
  // Shard-wide term ids, per posting in document order.
  const dict = new Map<string, number>();
  const termList: string[] = [];
  const remaps = new Map<DocBatch, Int32Array>();
  const postTerm = new Uint32Array(postings);
  let counts = new Uint32Array(4096 * F);
  const avg = new Float64Array(F);
  const fieldLengths = new Uint16Array(D * F);
  let O = 0;
  let q = 0;
  for (let row = 0; row < D; row++) {
    if ((row & 63) === 0 && slicer?.due()) await slicer.pause();
    const { batch, row: r } = docs[row]!;
    let remap = remaps.get(batch);
    if (!remap) remaps.set(batch, (remap = new Int32Array(batch.terms.length).fill(-1)));
    for (let f = 0; f < F; f++) {
      const s = batch.starts[r * F + f]!;
      const e = batch.starts[r * F + f + 1]!;
      // MiniSearch's running average (same operations, same order: equal doubles).
      avg[f] = (avg[f]! * row + (e - s)) / (row + 1);
      fieldLengths[row * F + f] = Math.min(e - s, MAX_U16);
      for (let j = s; j < e; j++) {
        const local = batch.term[j]!;
        let t = remap[local]!;
        if (t < 0) {
          const text = batch.terms[local]!;
          let known = dict.get(text);
          if (known === undefined) {
            known = termList.length;
            dict.set(text, known);
            termList.push(text);
            if ((known + 1) * F > counts.length) counts = grow(counts, (known + 1) * F);
          }
          remap[local] = t = known;
        }
        postTerm[q++] = t;
        counts[t * F + f]!++;
        if (batch.tf[j]! >= TF_ESCAPE) O++;
      }
    }
  }
  const sorted = await sortTerms(termList, slicer);
  const T = sorted.length;
  const blobTerms = sorted.reduce((n, x) => n + x.length, 0);
  const ids = encoder.encode(docs.map((d) => d.id).join('\n'));
  const masks = new Uint8Array(T);
  const multi: number[] = [];
  for (let i = 0; i < T; i++) {
    const t = sorted[i]!.t;
    for (let f = 0; f < F; f++) if (counts[t * F + f]) masks[i] = masks[i]! | (1 << f);
    if (bitCount(masks[i]!) > 1) multi.push(i);
  }
  const M = multi.length;

  let offset = HEADER_BYTES;
  const at = (bytes: number) => {
    const o = offset;
    offset += bytes;
    return o;
  };
  const avgAt = at(8 * F);
  const termOffAt = at(4 * (T + 1));
  const termStartAt = at(4 * (T + 1));
  const multiAt = at(4 * M);
  const ovPosAt = at(4 * O);
  const ovTfAt = at(4 * O);
  const lenAt = at(2 * D * F);
  const multiCountAt = at(2 * M * F);
  const docAt = at(2 * postings);
  const maskAt = at(T);
  const tfAt = at(postings);
  const blobAt = at(blobTerms + ids.length);
  const total = align(offset, 8);

  const buf = new Uint8Array(total);
  const view = new DataView(buf.buffer);
  [MAGIC, D, T, postings, ids.length, blobTerms, M, O].forEach((v, i) => view.setUint32(i * 4, v, true));
  new Float64Array(buf.buffer, avgAt, F).set(avg);
  const termOff = new Uint32Array(buf.buffer, termOffAt, T + 1);
  const termStart = new Uint32Array(buf.buffer, termStartAt, T + 1);
  new Uint32Array(buf.buffer, multiAt, M).set(multi);
  const ovPos = new Uint32Array(buf.buffer, ovPosAt, O);
  const ovTf = new Uint32Array(buf.buffer, ovTfAt, O);
  new Uint16Array(buf.buffer, lenAt, D * F).set(fieldLengths);
  const multiCount = new Uint16Array(buf.buffer, multiCountAt, M * F);
  const postDoc = new Uint16Array(buf.buffer, docAt, postings);
  buf.set(masks, maskAt);
  const postTf = new Uint8Array(buf.buffer, tfAt, postings);
  // Where each (term, field) list starts, terms in sorted order and each term's lists field by field.
  const next = new Uint32Array(termList.length * F);
  let p = 0;
  let b = 0;
  let m = 0;
  for (let i = 0; i < T; i++) {
    if ((i & 255) === 0 && slicer?.due()) await slicer.pause();
    const { t, bytes, length } = sorted[i]!;
    termOff[i] = b;
    termStart[i] = p;
    if (bytes) buf.set(bytes, blobAt + b);
    else writeAscii(buf, blobAt + b, termList[t]!);
    b += length;
    const isMulti = m < M && multi[m] === i;
    for (let f = 0; f < F; f++) {
      const n = counts[t * F + f]!;
      if (isMulti) multiCount[m * F + f] = n;
      next[t * F + f] = p;
      p += n;
    }
    if (isMulti) m++;
  }
  termOff[T] = b;
  termStart[T] = p;
  buf.set(ids, blobAt + blobTerms);
  // Every posting to its slot; term frequencies of 255 and more go to the overflow table, which is
  // kept in posting order.
  const overflow: number[] = [];
  q = 0;
  for (let row = 0; row < D; row++) {
    if ((row & 63) === 0 && slicer?.due()) await slicer.pause();
    const { batch, row: r } = docs[row]!;
    for (let f = 0; f < F; f++) {
      const e = batch.starts[r * F + f + 1]!;
      for (let j = batch.starts[r * F + f]!; j < e; j++) {
        const slot = next[postTerm[q++]! * F + f]!++;
        postDoc[slot] = row;
        const tf = batch.tf[j]!;
        if (tf >= TF_ESCAPE) {
          postTf[slot] = TF_ESCAPE;
          overflow.push(slot, tf);
        } else {
          postTf[slot] = tf;
        }
      }
    }
  }
  if (O) {
    const order = Array.from({ length: O }, (_, k) => k).sort((x, y) => overflow[2 * x]! - overflow[2 * y]!);
    order.forEach((k, o) => {
      ovPos[o] = overflow[2 * k]!;
      ovTf[o] = overflow[2 * k + 1]!;
    });
  }
  return buf;
}

/** Term frequencies from this value up are kept in the overflow table (u8 postings). */
const TF_ESCAPE = 255;
/** Query terms (occurrences) a search uses at most; see `Bm25Index.search`. */
export const MAX_QUERY_TERMS = 512;

function bitCount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}

/**
 * Collection-wide statistics for a query's terms, summed over every shard searched (see
 * `mergeBm25Stats`): scored with them, a document's BM25 depends only on the collection's content,
 * not on how its chunks were split into shards or in which order they were indexed.
 * Plain arrays (no Map, no keyed object) so it crosses threads as is and a term is never a key.
 */
export interface Bm25Stats {
  /** Documents in the collection. */
  docs: number;
  /** Sum of every document's field length, per field (FIELD_NAMES order). */
  lengths: number[];
  /** The query's distinct terms … */
  terms: string[];
  /** … and, per term, the documents holding it in each field (terms × FIELD_COUNT, row-major). */
  df: number[];
}

/** The distinct terms a search uses (its first MAX_QUERY_TERMS occurrences). */
export function distinctQueryTerms(queryTerms: readonly string[]): string[] {
  return [...new Set(queryTerms.length > MAX_QUERY_TERMS ? queryTerms.slice(0, MAX_QUERY_TERMS) : queryTerms)];
}

/** Sums shards' statistics (integers only: the sum is the same in any order). */
export function mergeBm25Stats(terms: readonly string[], parts: readonly Bm25Stats[]): Bm25Stats {
  const out: Bm25Stats = { docs: 0, lengths: new Array<number>(FIELD_COUNT).fill(0), terms: [...terms], df: new Array<number>(terms.length * FIELD_COUNT).fill(0) };
  const slot = new Map(terms.map((t, i) => [t, i]));
  for (const part of parts) {
    out.docs += part.docs;
    for (let f = 0; f < FIELD_COUNT; f++) out.lengths[f] = out.lengths[f]! + (part.lengths[f] ?? 0);
    part.terms.forEach((t, i) => {
      const u = slot.get(t);
      if (u === undefined) return;
      for (let f = 0; f < FIELD_COUNT; f++) out.df[u * FIELD_COUNT + f] = out.df[u * FIELD_COUNT + f]! + (part.df[i * FIELD_COUNT + f] ?? 0);
    });
  }
  return out;
}

export interface Bm25Hit {
  /** Row of the document in its shard. */
  row: number;
  id: string;
  score: number;
  /** Query terms that matched, in query order. */
  terms: string[];
}

/** A shard's BM25 index opened over its bytes (no parsing beyond the header). */
export class Bm25Index {
  readonly docs: number;
  private readonly terms: number;
  private readonly avg: Float64Array;
  private readonly termOff: Uint32Array;
  private readonly termStart: Uint32Array;
  private readonly multi: Uint32Array;
  private readonly ovPos: Uint32Array;
  private readonly ovTf: Uint32Array;
  private readonly fieldLen: Uint16Array;
  private readonly multiCount: Uint16Array;
  private readonly postDoc: Uint16Array;
  private readonly masks: Uint8Array;
  private readonly postTf: Uint8Array;
  private readonly blob: Uint8Array;
  private readonly idsAt: number;
  private readonly idBytes: number;
  private idList?: string[];
  /** Where each row's id starts in `blob` (the ids are separated by newlines), and one past the last id's end + 1. */
  private idStart = new Uint32Array(1);
  /** `k · (1 − b + b · length / avgLength)` per (document, field), for the last params and averages used. */
  private norms?: { k: number; b: number; avg: Float64Array; values: Float64Array };
  private lengthSums?: number[];
  /** Rows no longer live (their file changed or went since the shard was written): 1 per dead row. */
  private readonly dead?: Uint8Array;
  /** Documents that are live (`docs` minus the dead rows). */
  readonly live: number;

  /**
   * @param dead rows of the shard that are no longer live (the manifest's tombstones): a search
   *   never returns them and the statistics leave them out, as if the shard had been rewritten.
   */
  constructor(bytes: Uint8Array, dead?: readonly number[]) {
    // Typed-array views need aligned offsets; a pooled Buffer may not be.
    const buf = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes); // copies (Buffer#slice would not)
    if (buf.byteLength < HEADER_BYTES) throw new Error('BM25 index is truncated');
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const u32 = (i: number) => view.getUint32(i * 4, true);
    if (u32(0) !== MAGIC) throw new Error('not a Sift BM25 index');
    const D = u32(1);
    const T = u32(2);
    const P = u32(3);
    this.idBytes = u32(4);
    const blobTerms = u32(5);
    const M = u32(6);
    const O = u32(7);
    this.docs = D;
    this.terms = T;
    let offset = buf.byteOffset + HEADER_BYTES;
    const take = <A>(make: (o: number) => A, bytesLen: number): A => {
      if (offset + bytesLen > buf.byteOffset + buf.byteLength) throw new Error('BM25 index is truncated');
      const a = make(offset);
      offset += bytesLen;
      return a;
    };
    this.avg = take((o) => new Float64Array(buf.buffer, o, FIELD_COUNT), 8 * FIELD_COUNT);
    this.termOff = take((o) => new Uint32Array(buf.buffer, o, T + 1), 4 * (T + 1));
    this.termStart = take((o) => new Uint32Array(buf.buffer, o, T + 1), 4 * (T + 1));
    this.multi = take((o) => new Uint32Array(buf.buffer, o, M), 4 * M);
    this.ovPos = take((o) => new Uint32Array(buf.buffer, o, O), 4 * O);
    this.ovTf = take((o) => new Uint32Array(buf.buffer, o, O), 4 * O);
    this.fieldLen = take((o) => new Uint16Array(buf.buffer, o, D * FIELD_COUNT), 2 * D * FIELD_COUNT);
    this.multiCount = take((o) => new Uint16Array(buf.buffer, o, M * FIELD_COUNT), 2 * M * FIELD_COUNT);
    this.postDoc = take((o) => new Uint16Array(buf.buffer, o, P), 2 * P);
    this.masks = take((o) => new Uint8Array(buf.buffer, o, T), T);
    this.postTf = take((o) => new Uint8Array(buf.buffer, o, P), P);
    this.blob = take((o) => new Uint8Array(buf.buffer, o, blobTerms + this.idBytes), blobTerms + this.idBytes);
    this.idsAt = blobTerms;
    if (this.termOff[T] !== blobTerms || this.termStart[T] !== P) throw new Error('BM25 index is inconsistent');
    this.checkStructure(P);
    let live = D;
    if (dead?.length) {
      this.dead = new Uint8Array(D);
      for (const row of dead) {
        if (!Number.isInteger(row) || row < 0 || row >= D) throw new Error(`BM25 index has no row ${row} to leave out`);
        if (!this.dead[row]) live--;
        this.dead[row] = 1;
      }
    }
    this.live = live;
  }

  /** Postings of [start, end) whose document is live. */
  private liveCount(start: number, end: number): number {
    const dead = this.dead;
    if (!dead) return end - start;
    let n = 0;
    for (let p = start; p < end; p++) if (!dead[this.postDoc[p]!]) n++;
    return n;
  }

  /**
   * Every offset, row and count in the file against the others (the file may come from a crafted
   * index): one pass over the terms and postings, so a search or `documents()` never reads past an
   * array or at a document that does not exist.
   */
  private checkStructure(P: number): void {
    const fail = (what: string) => {
      throw new Error(`BM25 index is inconsistent (${what})`);
    };
    const D = this.docs;
    const T = this.terms;
    if (D > MAX_U16 + 1) fail('too many documents');
    for (const a of this.avg) if (!(a >= 0 && a < Number.POSITIVE_INFINITY)) fail('average field length');
    if (this.termOff[0] !== 0 || this.termStart[0] !== 0) fail('first term');
    let multiSeen = 0;
    for (let t = 0; t < T; t++) {
      if (this.termOff[t + 1]! < this.termOff[t]! || this.termStart[t + 1]! < this.termStart[t]!) fail(`term ${t} offsets`);
      const mask = this.masks[t]!;
      if (mask === 0 || mask >= 1 << FIELD_COUNT) fail(`term ${t} fields`);
      if (bitCount(mask) > 1) {
        const m = multiSeen++;
        if (this.multi[m] !== t) fail(`multi-field term ${t}`);
        let sum = 0;
        for (let f = 0; f < FIELD_COUNT; f++) sum += this.multiCount[m * FIELD_COUNT + f]!;
        if (sum !== this.termStart[t + 1]! - this.termStart[t]!) fail(`term ${t} posting counts`);
      }
    }
    if (multiSeen !== this.multi.length) fail('multi-field terms');
    let escapes = 0;
    for (let p = 0; p < P; p++) {
      if (this.postDoc[p]! >= D) fail(`posting ${p} document`);
      if (this.postTf[p] === TF_ESCAPE) escapes++;
    }
    if (escapes !== this.ovPos.length) fail('term frequency overflow table');
    for (let o = 0; o < this.ovPos.length; o++) {
      const p = this.ovPos[o]!;
      if (p >= P || (o > 0 && p <= this.ovPos[o - 1]!) || this.postTf[p] !== TF_ESCAPE || this.ovTf[o]! < TF_ESCAPE) fail(`overflow ${o}`);
    }
    // The ids are counted, not decoded: a search decodes only the ids of the hits it returns (a
    // first search over every shard decoded ~100k ids it never used, and their strings cost the
    // collector on the editor's thread).
    this.idStart = new Uint32Array(D + 1);
    let at = 0;
    const start = this.idsAt;
    const end = start + this.idBytes;
    if (D > 0) {
      this.idStart[at++] = start;
      for (let i = start; i < end; i++) {
        if (this.blob[i] !== NEWLINE) continue;
        if (at >= D) fail('document ids');
        this.idStart[at++] = i + 1;
      }
      this.idStart[D] = end + 1;
    }
    if (at !== D) fail('document ids');
  }

  /** The chunk id of a row. */
  idAt(row: number): string {
    if (this.idList) return this.idList[row]!;
    return decoder.decode(this.blob.subarray(this.idStart[row]!, this.idStart[row + 1]! - 1));
  }

  /** Postings [start, end) of term t in field f. */
  private range(t: number, f: number): [number, number] {
    const mask = this.masks[t]!;
    if (!(mask & (1 << f))) return [0, 0];
    const start = this.termStart[t]!;
    if ((mask & (mask - 1)) === 0) return [start, this.termStart[t + 1]!];
    // Present in several fields: the counts are in the multi-field table.
    let lo = 0;
    let hi = this.multi.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.multi[mid]!;
      if (v === t) {
        let s = start;
        for (let g = 0; g < f; g++) s += this.multiCount[mid * FIELD_COUNT + g]!;
        return [s, s + this.multiCount[mid * FIELD_COUNT + f]!];
      }
      if (v < t) lo = mid + 1;
      else hi = mid - 1;
    }
    throw new Error('BM25 index is inconsistent (multi-field term)');
  }

  /** The term frequency of posting p (overflow table for values ≥ 255). */
  private tfAt(p: number): number {
    const tf = this.postTf[p]!;
    if (tf < TF_ESCAPE) return tf;
    let lo = 0;
    let hi = this.ovPos.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.ovPos[mid]!;
      if (v === p) return this.ovTf[mid]!;
      if (v < p) lo = mid + 1;
      else hi = mid - 1;
    }
    throw new Error('BM25 index is inconsistent (term frequency)');
  }

  get byteLength(): number {
    return this.blob.byteOffset + this.blob.byteLength - this.avg.byteOffset + HEADER_BYTES;
  }

  /** Chunk ids by row. */
  ids(): string[] {
    this.idList ??= this.docs ? decoder.decode(this.blob.subarray(this.idsAt, this.idsAt + this.idBytes)).split('\n') : [];
    return this.idList;
  }

  private fieldNorms(k: number, b: number, avg: Float64Array): Float64Array {
    const n = this.norms;
    if (n?.k === k && n.b === b && n.avg.every((a, f) => Object.is(a, avg[f]))) return n.values;
    const values = new Float64Array(this.docs * FIELD_COUNT);
    for (let doc = 0; doc < this.docs; doc++) {
      for (let f = 0; f < FIELD_COUNT; f++) values[doc * FIELD_COUNT + f] = k * (1 - b + (b * this.fieldLen[doc * FIELD_COUNT + f]!) / avg[f]!);
    }
    this.norms = { k, b, avg: Float64Array.from(avg), values };
    return values;
  }

  /** This shard's statistics for the query's distinct terms (to sum with the other shards'). */
  stats(terms: readonly string[]): Bm25Stats {
    if (!this.lengthSums) {
      const sums = new Array<number>(FIELD_COUNT).fill(0);
      for (let i = 0; i < this.fieldLen.length; i++) if (!this.dead?.[Math.floor(i / FIELD_COUNT)]) sums[i % FIELD_COUNT] += this.fieldLen[i]!;
      this.lengthSums = sums;
    }
    const df = new Array<number>(terms.length * FIELD_COUNT).fill(0);
    terms.forEach((term, u) => {
      const t = this.find(encoder.encode(term));
      if (t < 0) return;
      for (let f = 0; f < FIELD_COUNT; f++) {
        const [start, end] = this.range(t, f);
        df[u * FIELD_COUNT + f] = this.liveCount(start, end);
      }
    });
    return { docs: this.live, lengths: [...this.lengthSums], terms: [...terms], df };
  }

  /** Term index, or -1. */
  private find(term: Uint8Array): number {
    let lo = 0;
    let hi = this.terms - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareBytesAt(this.blob, this.termOff[mid]!, this.termOff[mid + 1]!, term);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /**
   * The live rows holding `term` in field `field` (ascending), or undefined when there are more
   * than `max`: one binary search over the terms and one run of postings, never a scan of the
   * shard (the definition lookup, src/core/search/definitionLookup.ts).
   */
  rowsWith(term: string, field: number, max: number): number[] | undefined {
    const t = this.find(encoder.encode(term));
    if (t < 0) return [];
    const [start, end] = this.range(t, field);
    if (end - start > max + (this.docs - this.live)) return undefined;
    const out: number[] = [];
    for (let p = start; p < end; p++) {
      const doc = this.postDoc[p]!;
      if (this.dead?.[doc]) continue;
      if (out.length >= max) return undefined;
      out.push(doc);
    }
    return out;
  }

  /** Every document's field terms (to rebuild a shard without re-tokenising its unchanged chunks), as one packed batch. */
  async documents(slicer?: TimeSlicer): Promise<LexicalDoc[]> {
    const ids = this.ids();
    const D = ids.length;
    const F = FIELD_COUNT;
    // Pairs per (document, field), then each document's pairs in place, term by term (term order
    // within a document is not part of the index; field lengths are the pair counts).
    const starts = new Uint32Array(D * F + 1);
    const terms: string[] = new Array<string>(this.terms);
    for (let t = 0; t < this.terms; t++) {
      if ((t & 255) === 0 && slicer?.due()) await slicer.pause();
      terms[t] = decoder.decode(this.blob.subarray(this.termOff[t]!, this.termOff[t + 1]!));
      for (let f = 0; f < F; f++) {
        const [start, end] = this.range(t, f);
        for (let p = start; p < end; p++) starts[this.postDoc[p]! * F + f + 1]!++;
      }
    }
    for (let i = 1; i <= D * F; i++) starts[i]! += starts[i - 1]!;
    const next = starts.slice(0, D * F);
    const term = new Uint32Array(starts[D * F]!);
    const tf = new Uint32Array(starts[D * F]!);
    for (let t = 0; t < this.terms; t++) {
      if ((t & 255) === 0 && slicer?.due()) await slicer.pause();
      for (let f = 0; f < F; f++) {
        const [start, end] = this.range(t, f);
        for (let p = start; p < end; p++) {
          const slot = next[this.postDoc[p]! * F + f]!++;
          term[slot] = t;
          tf[slot] = this.tfAt(p);
        }
      }
    }
    const batch: DocBatch = { terms, starts, term, tf };
    return ids.map((id, row) => ({ id, batch, row }));
  }

  /**
   * The top `k` documents for the query terms (with repeats, in query order), scored and ordered
   * exactly as MiniSearch's `search` with `combineWith: 'OR'`, no prefix/fuzzy, field boosts:
   * per query term, per field, BM25+ × boost, summed per term, then over terms; times the number
   * of distinct query terms matched; ties in the order documents were first matched.
   * With `stats` (the collection's, `mergeBm25Stats`), IDF and average field lengths are the
   * collection's instead of this shard's: scores then do not depend on how chunks fall into shards.
   */
  search(queryTerms: readonly string[], boosts: readonly number[], params: Bm25Params, k: number, stats?: Bm25Stats): Bm25Hit[] {
    const D = this.docs;
    if (!this.live || !queryTerms.length || k <= 0) return [];
    const dead = this.dead;
    // With dead rows, this shard's own statistics are those of its live rows.
    if (dead && !stats) stats = this.stats(distinctQueryTerms(queryTerms));
    // A question can be any length (and is searched on the editor's thread): its first
    // MAX_QUERY_TERMS terms are used, so the work and the per-document masks below stay bounded.
    const terms = queryTerms.length > MAX_QUERY_TERMS ? queryTerms.slice(0, MAX_QUERY_TERMS) : queryTerms;
    const unique = [...new Set(terms)];
    const slot = new Map(unique.map((term, u) => [term, u]));
    const quality = new Uint16Array(D);
    const total = new Float64Array(D);
    const spec = new Float64Array(D);
    const order = new Int32Array(D).fill(-1);
    // Per document: the last query position (1-based) that touched it, and the distinct query terms matched.
    const lastSpec = new Int32Array(D);
    const W = Math.ceil(unique.length / 32);
    const masks = new Uint32Array(D * W);
    const { k: k1, b, d } = params;
    const globalDf = stats && stats.docs > 0 ? new Map(stats.terms.map((t, i) => [t, i])) : undefined;
    const N = globalDf ? stats!.docs : D;
    const avg = globalDf ? Float64Array.from(stats!.lengths, (sum) => sum / N) : this.avg;
    const norms = this.fieldNorms(k1, b, avg);
    const postDoc = this.postDoc;
    const postTf = this.postTf;
    const k1p1 = k1 + 1;
    let next = 0;
    let position = 0;
    for (const term of terms) {
      position++;
      const t = this.find(encoder.encode(term));
      if (t < 0) continue;
      const u = slot.get(term)!;
      const g = globalDf?.get(term);
      const word = u >>> 5;
      const bit = 1 << (u & 31);
      for (let f = 0; f < FIELD_COUNT; f++) {
        const [start, end] = this.range(t, f);
        if (start === end) continue;
        // The collection's document frequency when given (never below this shard's own count).
        const own = this.liveCount(start, end);
        if (!own) continue;
        const matching = g === undefined ? own : Math.max(own, stats!.df[g * FIELD_COUNT + f] ?? 0);
        const idf = Math.log(1 + (Math.max(N, matching) - matching + 0.5) / (matching + 0.5));
        const boost = boosts[f]!;
        for (let p = start; p < end; p++) {
          const doc = postDoc[p]!;
          if (dead?.[doc]) continue;
          let tf = postTf[p]!;
          if (tf === TF_ESCAPE) tf = this.tfAt(p);
          if (lastSpec[doc] !== position) {
            // First time this query term meets the document (fields run in order, documents
            // ascending: MiniSearch's encounter order, which breaks ties). The previous term's
            // sum goes to the total first, as MiniSearch's OR combination adds per-term sums.
            lastSpec[doc] = position;
            total[doc] = total[doc]! + spec[doc]!;
            spec[doc] = 0;
            if (order[doc]! < 0) order[doc] = next++;
            const m = masks[doc * W + word]!;
            if ((m & bit) === 0) {
              masks[doc * W + word] = m | bit;
              quality[doc] = quality[doc]! + 1;
            }
          }
          // = idf * (d + tf * (k + 1) / (tf + k * (1 - b + b * len / avg))), evaluated in the same
          // order; MiniSearch then multiplies termWeight * termBoost * fieldBoost * docBoost
          // (weights of 1). A term's sum starts at 0: 0 + x is exact, so the doubles are equal.
          spec[doc] = spec[doc]! + boost * (idf * (d + (tf * k1p1) / (tf + norms[doc * FIELD_COUNT + f]!)));
        }
      }
    }
    // Higher score first; equal scores in first-match order (MiniSearch's stable sort of its result Map).
    const top = new TopK(Math.min(k, next));
    for (let doc = 0; doc < D; doc++) {
      const o = order[doc]!;
      if (o >= 0) top.offer(doc, (total[doc]! + spec[doc]!) * (quality[doc]! || 1), o);
    }
    const ranked = top.sorted();
    return ranked.map(({ doc, score }) => ({
      row: doc,
      id: this.idAt(doc),
      score,
      terms: objectKeyOrder(unique.filter((_, u) => (masks[doc * W + (u >>> 5)]! & (1 << (u & 31))) !== 0)),
    }));
  }
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/**
 * MiniSearch reports a hit's terms as the keys of an object, so integer-like terms ("25") come
 * first in numeric order, then the others in the order they matched. Reproduced for equal output.
 */
function objectKeyOrder(terms: string[]): string[] {
  const numeric = terms.filter((t) => ARRAY_INDEX.test(t) && Number(t) < 2 ** 32 - 1);
  if (!numeric.length) return terms;
  return [...numeric.sort((a, b) => Number(a) - Number(b)), ...terms.filter((t) => !numeric.includes(t))];
}

/** A bounded min-heap on (score, then later first-match order): the root is the worst kept. */
class TopK {
  private readonly docs: Int32Array;
  private readonly scores: Float64Array;
  private readonly orders: Int32Array;
  private size = 0;

  constructor(private readonly k: number) {
    this.docs = new Int32Array(k);
    this.scores = new Float64Array(k);
    this.orders = new Int32Array(k);
  }

  /** a is worse than b */
  private worse(a: number, b: number): boolean {
    const sa = this.scores[a]!;
    const sb = this.scores[b]!;
    return sa < sb || (sa === sb && this.orders[a]! > this.orders[b]!);
  }

  private swap(a: number, b: number): void {
    const d = this.docs[a]!;
    const s = this.scores[a]!;
    const o = this.orders[a]!;
    this.docs[a] = this.docs[b]!;
    this.scores[a] = this.scores[b]!;
    this.orders[a] = this.orders[b]!;
    this.docs[b] = d;
    this.scores[b] = s;
    this.orders[b] = o;
  }

  offer(doc: number, score: number, order: number): void {
    if (this.k === 0) return;
    if (this.size < this.k) {
      let i = this.size++;
      this.docs[i] = doc;
      this.scores[i] = score;
      this.orders[i] = order;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.worse(i, parent)) break;
        this.swap(i, parent);
        i = parent;
      }
      return;
    }
    const rootScore = this.scores[0]!;
    if (score < rootScore || (score === rootScore && order > this.orders[0]!)) return;
    this.docs[0] = doc;
    this.scores[0] = score;
    this.orders[0] = order;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.size && this.worse(l, m)) m = l;
      if (r < this.size && this.worse(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  sorted(): { doc: number; score: number }[] {
    const out = Array.from({ length: this.size }, (_, i) => ({ doc: this.docs[i]!, score: this.scores[i]!, order: this.orders[i]! }));
    out.sort((a, b) => b.score - a.score || a.order - b.order);
    return out;
  }
}

/** The best `k` items, best first, with a bounded heap whose root is the worst kept item. */
export function selectTop(items: readonly number[], k: number, better: (a: number, b: number) => boolean): number[] {
  const heap: number[] = [];
  const worse = (a: number, b: number) => better(b, a);
  const up = (i: number) => {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!worse(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && worse(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (const item of items) {
    if (heap.length < k) {
      heap.push(item);
      up(heap.length - 1);
    } else if (better(item, heap[0]!)) {
      heap[0] = item;
      down(0);
    }
  }
  return heap.sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
}

/** A shard's terms in the order of their UTF-8 bytes: each term's id, its byte length, and its bytes unless it is ASCII. */
interface SortedTerm {
  t: number;
  length: number;
  bytes?: Uint8Array;
}

/**
 * Terms sorted by UTF-8 bytes, bucket by bucket (first byte), yielding between buckets: one sort of
 * ~60k terms would hold the event loop for tens of milliseconds. A bucket of ASCII terms — every
 * term the code tokenizer makes — is sorted as strings by the engine's own comparison (for ASCII,
 * UTF-16 order is byte order); a bucket holding any other character is sorted on its terms' UTF-8
 * bytes (`compareBytes`), as every bucket was (that JS comparator was ~1/4 of `buildBm25`).
 */
async function sortTerms(termList: readonly string[], slicer?: TimeSlicer): Promise<SortedTerm[]> {
  const buckets: number[][] = Array.from({ length: 256 }, () => []);
  const bytesOf = new Map<number, Uint8Array>();
  const mixed = new Uint8Array(256);
  for (let t = 0; t < termList.length; t++) {
    if ((t & 255) === 0 && slicer?.due()) await slicer.pause();
    const term = termList[t]!;
    let first = term.length ? term.charCodeAt(0) : 0;
    if (!isAscii(term)) {
      const b = encoder.encode(term);
      bytesOf.set(t, b);
      first = b[0]!;
      mixed[first] = 1;
    }
    buckets[first]!.push(t);
  }
  const sorted: SortedTerm[] = [];
  for (let k = 0; k < 256; k++) {
    const bucket = buckets[k]!;
    if (!bucket.length) continue;
    if (slicer?.due()) await slicer.pause();
    if (mixed[k]) {
      const items = bucket.map((t) => ({ t, b: bytesOf.get(t) ?? encoder.encode(termList[t]!) }));
      items.sort((x, y) => compareBytes(x.b, y.b));
      for (const { t, b } of items) sorted.push({ t, length: b.length, bytes: b });
    } else {
      const idOf = new Map(bucket.map((t) => [termList[t]!, t]));
      for (const term of bucket.map((t) => termList[t]!).sort()) sorted.push({ t: idOf.get(term)!, length: term.length });
    }
  }
  return sorted;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

function writeAscii(buf: Uint8Array, at: number, s: string): void {
  for (let i = 0; i < s.length; i++) buf[at + i] = s.charCodeAt(i);
}

/** `compareBytes(a.subarray(start, end), b)` without making the view (a binary search's inner loop). */
function compareBytesAt(a: Uint8Array, start: number, end: number, b: Uint8Array): number {
  const n = Math.min(end - start, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[start + i]! - b[i]!;
    if (d) return d;
  }
  return end - start - b.length;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return compareBytesAt(a, 0, a.length, b);
}
