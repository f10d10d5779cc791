import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeTokenIds, codeTokens, codeWords, MAX_TEXT_TOKENS, MAX_WORD_CHARS, resetTermsIfLarge, splitIdentifier, termDictionary, WORD } from '../../src/core/lexical/tokenize';
import { DocBatchBuilder } from '../../src/core/lexical/bm25';
import { mulberry32 } from '../../src/core/util/random';

/** The regex form `splitIdentifier` replaced (the index's BM25 terms depend on its exact parts). */
function splitByRegexes(word: string): string[] {
  return word
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])([0-9])/g, '$1 $2')
    .replace(/([0-9])([A-Za-z])/g, '$1 $2')
    .split(/[\s_$-]+/)
    .filter(Boolean);
}

describe('lexical tokenizer', () => {
  it('splits identifiers into the same parts as the regex replacements, on seeded random words', () => {
    const r = mulberry32(29);
    const alphabet = 'aAbBzZ09_$-xYQ \t\u00a0é';
    const pieces = ['HTTPServer', 'retryFailedUploads', 'snake_case', 'kebab-case', 'ABCd', 'x2Y', 'v10Beta', 'IOError', '$el', '__init__'];
    const fixed = ['', 'a', 'A', 'AB', 'ABc', 'aBCd', 'ABCdEFg', 'ABcDe', 'uploadQueue7', 'HTTPServer2Go', '7up', 'a1b2', '_', '--x--', 'getURLs', 'ÀbC'];
    const words = [...fixed];
    for (let n = 0; n < 3000; n++) {
      let w = '';
      const len = 1 + Math.floor(r() * 14);
      for (let k = 0; k < len; k++) w += r() < 0.25 ? pieces[Math.floor(r() * pieces.length)]! : alphabet[Math.floor(r() * alphabet.length)]!;
      words.push(w);
    }
    for (const w of words) assert.deepEqual(splitIdentifier(w), splitByRegexes(w), JSON.stringify(w));
  });

  it('finds the same words as the WORD regex, on seeded random texts', () => {
    const r = mulberry32(31);
    const alphabet = 'aZ_$09-- \n.(é7x';
    const pieces = ['retry-failed', 'x-', '-y', '7up', 'a--b', '$el', 'HTTP2', '__', '9-9', 'kebab-case-name'];
    for (let n = 0; n < 3000; n++) {
      let t = '';
      const len = Math.floor(r() * 20);
      for (let k = 0; k < len; k++) t += r() < 0.3 ? pieces[Math.floor(r() * pieces.length)]! : alphabet[Math.floor(r() * alphabet.length)]!;
      assert.deepEqual(codeWords(t), [...t.matchAll(WORD)].map((m) => m[0]), JSON.stringify(t));
    }
  });

  it('gives identifiers, their stemmed parts and numbers as terms', () => {
    assert.deepEqual(codeTokens('retryFailedUploads HTTPServer2 snake_case_name 42'), ['retryfaileduploads', 'retri', 'fail', 'upload', 'httpserver2', 'http', 'server', '2', 'snake_case_name', 'snake', 'case', 'name', '42']);
  });

  it('gives the same terms as ids (codeTokenIds), limits included, and new ids after the dictionary starts again', () => {
    const r = mulberry32(47);
    const pieces = ['retryFailedUploads', 'HTTPServer2', 'snake_case_name', 'the', 'uploads', 'x', '42', 'kebab-case', 'ÉtéNaïve', 'a'];
    const texts: string[] = [];
    for (let n = 0; n < 500; n++) {
      let t = '';
      for (let k = Math.floor(r() * 30); k > 0; k--) t += pieces[Math.floor(r() * pieces.length)]! + (r() < 0.8 ? ' ' : '.');
      texts.push(t);
    }
    texts.push('word '.repeat(MAX_TEXT_TOKENS + 50), `${'q'.repeat(MAX_WORD_CHARS + 1)} kept`);
    const asTerms = (ids: number[]) => ids.map((id) => termDictionary.terms[id]);
    for (const t of texts) assert.deepEqual(asTerms(codeTokenIds(t)), codeTokens(t), JSON.stringify(t.slice(0, 80)));
    assert.equal(codeTokenIds(texts.at(-2)!).length, MAX_TEXT_TOKENS);
    // Not while a batch is being packed with the current ids …
    const before = termDictionary.generation;
    const open = new DocBatchBuilder();
    resetTermsIfLarge(1);
    assert.equal(termDictionary.generation, before);
    open.release();
    // … then a new dictionary, and words already cached get ids in it.
    resetTermsIfLarge(1);
    assert.equal(termDictionary.generation, before + 1);
    assert.equal(termDictionary.terms.length, 0);
    for (const t of texts.slice(0, 50)) assert.deepEqual(asTerms(codeTokenIds(t)), codeTokens(t));
    assert.throws(() => {
      const stale = new DocBatchBuilder();
      stale.release();
      stale.add('c', [[], [], [], []]);
    }, /term dictionary changed/);
  });
});
