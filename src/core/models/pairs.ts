import { type PreTrainedTokenizer, Tensor } from '@huggingface/transformers';

/**
 * (question, passage) inputs for a cross-encoder, truncated so that the question and the closing
 * special tokens always survive: transformers.js truncates pairs after adding special tokens,
 * which drops the final [SEP] and lets a long question push the passage out.
 *
 * The special-token layout is learned from the tokenizer itself (encode a one-token pair and see
 * what surrounds it), so BERT-style `[CLS] q [SEP] p [SEP]` and RoBERTa-style
 * `<s> q </s></s> p </s>` both work.
 */
interface PairTemplate {
  prefix: number[];
  middle: number[];
  suffix: number[];
  /** Token type per segment; undefined when the tokenizer produces none. */
  types?: { prefix: number[]; middle: number[]; suffix: number[]; first: number; second: number };
}

const templates = new WeakMap<PreTrainedTokenizer, PairTemplate>();

function learnTemplate(tokenizer: PreTrainedTokenizer): PairTemplate {
  const cached = templates.get(tokenizer);
  if (cached) return cached;
  const a = tokenizer.encode('a', { add_special_tokens: false });
  const b = tokenizer.encode('b', { add_special_tokens: false });
  const enc = tokenizer('a', { text_pair: 'b', add_special_tokens: true }) as unknown as {
    input_ids: Tensor;
    token_type_ids?: Tensor;
  };
  const ids = Array.from(enc.input_ids.data as BigInt64Array, Number);
  const types = enc.token_type_ids ? Array.from(enc.token_type_ids.data as BigInt64Array, Number) : undefined;
  const ia = indexOfSeq(ids, a, 0);
  const ib = indexOfSeq(ids, b, ia + a.length);
  if (ia < 0 || ib < 0) throw new Error('cannot determine the pair layout of this tokenizer');
  const template: PairTemplate = {
    prefix: ids.slice(0, ia),
    middle: ids.slice(ia + a.length, ib),
    suffix: ids.slice(ib + b.length),
    types: types && {
      prefix: types.slice(0, ia),
      middle: types.slice(ia + a.length, ib),
      suffix: types.slice(ib + b.length),
      first: types[ia]!,
      second: types[ib]!,
    },
  };
  templates.set(tokenizer, template);
  return template;
}

function indexOfSeq(haystack: number[], needle: number[], from: number): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

export interface PairEncoding {
  ids: number[];
  types?: number[];
}

/** Encodes one pair within maxLength tokens, cutting the passage (and a very long question to half). */
export function encodePair(tokenizer: PreTrainedTokenizer, query: string, passage: string, maxLength: number): PairEncoding {
  const t = learnTemplate(tokenizer);
  const special = t.prefix.length + t.middle.length + t.suffix.length;
  let q = tokenizer.encode(query, { add_special_tokens: false });
  const room = Math.max(2, maxLength - special);
  if (q.length > Math.floor(room / 2)) q = q.slice(0, Math.floor(room / 2));
  const p = tokenizer.encode(passage, { add_special_tokens: false }).slice(0, room - q.length);
  const ids = [...t.prefix, ...q, ...t.middle, ...p, ...t.suffix];
  const types = t.types && [
    ...t.types.prefix,
    ...q.map(() => t.types!.first),
    ...t.types.middle,
    ...p.map(() => t.types!.second),
    ...t.types.suffix,
  ];
  return { ids, types };
}

/**
 * Batches of `batchSize` row indices, rows of similar length together (shortest first; equal
 * lengths keep their order). A batch is padded to its longest pair and the model's cost grows with
 * the padded tokens, so grouping by length removes most of the padding when lengths differ (as
 * retrieved chunks do), and changes nothing when every pair fills the truncation length.
 */
export function lengthSortedBatches(lengths: readonly number[], batchSize: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}

/** Model inputs for encoded pairs, padded to the longest. */
export function pairTensors(tokenizer: PreTrainedTokenizer, encoded: readonly PairEncoding[]): Record<string, Tensor> {
  const width = Math.max(...encoded.map((e) => e.ids.length));
  const n = encoded.length;
  const pad = BigInt(tokenizer.pad_token_id ?? 0);
  const ids = new BigInt64Array(n * width).fill(pad);
  const mask = new BigInt64Array(n * width);
  const types = new BigInt64Array(n * width);
  encoded.forEach((e, r) => {
    e.ids.forEach((id, c) => {
      ids[r * width + c] = BigInt(id);
      mask[r * width + c] = 1n;
      if (e.types) types[r * width + c] = BigInt(e.types[c]!);
    });
  });
  const inputs: Record<string, Tensor> = {
    input_ids: new Tensor('int64', ids, [n, width]),
    attention_mask: new Tensor('int64', mask, [n, width]),
  };
  if (encoded[0]?.types) inputs.token_type_ids = new Tensor('int64', types, [n, width]);
  return inputs;
}
