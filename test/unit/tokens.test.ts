import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelTokenizer, type TokenizerSpec } from '../../src/core/models/tokens';
import { TINY_EMBEDDER } from '../helpers';
import { mulberry32 } from '../../src/core/util/random';

const spec: TokenizerSpec = {
  json: JSON.parse(readFileSync(path.join(TINY_EMBEDDER, 'tokenizer.json'), 'utf8')) as object,
  config: JSON.parse(readFileSync(path.join(TINY_EMBEDDER, 'tokenizer_config.json'), 'utf8')) as TokenizerSpec['config'],
};

const TEXTS = [
  '',
  '\n',
  'export async function retryFailedUploads(queue: UploadQueue) {\n  for (const item of queue.failed()) await item.retry();\n}\n',
  'def f(x):\r\n\treturn x  # Windows line ends, a tab\r\n',
  '# Überschrift — naïve café\n\n\n    x = {"a": [1, 2.5e-3]}  // 注释 🙂\n',
  'literal special tokens in code: "[SEP]" and [CLS] [UNK]\n}\n}\n}',
  '   leading and trailing blanks   \n   \n\t\n',
  // Words WordPiece cannot split ([UNK]) or that exceed its 100 characters, repeated (the per-word memo).
  `${'x'.repeat(150)} ${'x'.repeat(150)} ʘʘʘ 𝔘nknown ʘʘʘ uploadRetryCount uploadRetryCount upload Retry`,
  // Longer than the model's 512 tokens: cut like the tokenizer's own ids.
  Array.from({ length: 300 }, (_, i) => `const value${i} = compute(${i}, "item-${i % 17}");`).join('\n'),
];

describe('ModelTokenizer', () => {
  const raw = new Tokenizer(spec.json, spec.config);
  const rawIds = (t: string) => raw.encode(t).ids.slice(0, 512);

  it('gives the tokenizer’s own ids and counts when it assembles them from cached lines and memoised words', () => {
    for (const maxCachedLines of [50_000, 2]) {
      const tok = new ModelTokenizer(spec, maxCachedLines);
      assert.equal(tok.counter.additiveAcrossLines, true, 'the fixture is a WordPiece tokenizer: the line cache is used');
      // Twice: the second pass is served from the cache (or, with 2 lines, from a cache cleared often).
      for (let pass = 0; pass < 2; pass++) {
        for (const t of TEXTS) {
          assert.deepEqual(tok.encode(t), rawIds(t), `${JSON.stringify(t.slice(0, 40))} (cache ${maxCachedLines}, pass ${pass})`);
          assert.equal(tok.counter.count(t), raw.encode(t).ids.length, `count of ${JSON.stringify(t.slice(0, 40))}`);
        }
      }
      const batch = tok.encodeBatch(TEXTS);
      TEXTS.forEach((t, i) => assert.deepEqual(Array.from(batch.ids.subarray(batch.offsets[i]!, batch.offsets[i + 1]!)), rawIds(t)));
    }
  });

  it('tokenises plain-ASCII lines word by word with the same ids as the whole pipeline', () => {
    // Seeded random lines over every printable ASCII character, tabs, control characters, special
    // tokens' text in any case and over-long words: the fast path (or its fallback) must agree.
    const r = mulberry32(17);
    const pieces = ['retryFailedUploads', 'HTTPServer2', 'snake_case_name', '[SEP]', '[mask]', '[Cls]', '\t', '\u0007', '\u007f', 'é', 'x'.repeat(101), '0x1F', '  '];
    const tok = new ModelTokenizer(spec);
    // Counted before anything is encoded (the chunker's way: lines not in the line cache are counted from words).
    const counting = new ModelTokenizer(spec);
    for (let n = 0; n < 400; n++) {
      let line = '';
      const len = Math.floor(r() * 30);
      for (let k = 0; k < len; k++) line += r() < 0.3 ? pieces[Math.floor(r() * pieces.length)]! : String.fromCharCode(32 + Math.floor(r() * 95));
      const text = `${line}\n${line.toUpperCase()}`;
      assert.equal(counting.counter.count(line), raw.encode(line).ids.length, JSON.stringify(line));
      assert.equal(counting.counter.count(text), raw.encode(text).ids.length, JSON.stringify(text));
      assert.deepEqual(tok.encode(text), rawIds(text), JSON.stringify(text));
    }
  });

  it('counts identifiers made of vocabulary pieces as the library does, cased or not (the vocabulary trie)', () => {
    // Identifiers glued from vocabulary entries (so WordPiece's longest match has to choose between
    // overlapping entries), with digits, stray letters, non-ASCII letters and over-long runs: words
    // it covers, words it cannot ([UNK]) and words past its length limit.
    const vocab = Object.keys((spec.json as { model: { vocab: Record<string, number> } }).model.vocab).filter((w) => /^(##)?[a-z0-9]+$/.test(w));
    for (const lowercase of [true, false]) {
      const json = structuredClone(spec.json) as { normalizer: { lowercase?: boolean } };
      json.normalizer.lowercase = lowercase;
      const own = new Tokenizer(json, spec.config);
      const tok = new ModelTokenizer({ json, config: spec.config });
      const r = mulberry32(lowercase ? 23 : 29);
      for (let n = 0; n < 300; n++) {
        const words: string[] = [];
        for (let w = Math.floor(r() * 6); w >= 0; w--) {
          let word = '';
          for (let p = 1 + Math.floor(r() * 4); p > 0; p--) {
            const piece = vocab[Math.floor(r() * vocab.length)]!.replace(/^##/, '');
            word += r() < 0.4 ? piece[0]!.toUpperCase() + piece.slice(1) : piece;
          }
          const k = r();
          if (k < 0.2) word += String(Math.floor(r() * 100));
          else if (k < 0.3) word += 'qzxj';
          else if (k < 0.35) word += 'é';
          else if (k < 0.4) word = word.repeat(40);
          words.push(word);
        }
        const line = words.join(r() < 0.5 ? ' ' : '_');
        assert.equal(tok.counter.count(line), own.encode(line).ids.length, `${JSON.stringify(line.slice(0, 80))} (lowercase ${lowercase})`);
        assert.deepEqual(tok.encode(line), own.encode(line).ids.slice(0, 512), `${JSON.stringify(line.slice(0, 80))} (lowercase ${lowercase})`);
      }
    }
  });

  it('falls back to whole-text tokenising when tokens may span lines', () => {
    const json = structuredClone(spec.json) as { pre_tokenizer: unknown };
    json.pre_tokenizer = null; // no whitespace pre-tokenizer: line additivity is not guaranteed
    const tok = new ModelTokenizer({ json, config: spec.config });
    assert.equal(tok.counter.additiveAcrossLines, false);
    const own = new Tokenizer(json, spec.config);
    for (const t of TEXTS) assert.deepEqual(tok.encode(t), own.encode(t).ids.slice(0, 512));
  });
});
