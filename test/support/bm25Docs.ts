/**
 * BM25 documents written by hand for tests: from per-field term → frequency maps, and back. The
 * index builds them from chunks (`lexicalDocs`); these show what a packed document holds.
 */
import { DocBatchBuilder, FIELD_COUNT, type FieldTerms, type LexicalDoc } from '../../src/core/lexical/bm25';
import { termId } from '../../src/core/lexical/tokenize';

/** Documents from per-field term → frequency maps (FIELD_NAMES order). */
export function docsFromFields(docs: readonly { id: string; fields: readonly FieldTerms[] }[]): LexicalDoc[] {
  const b = new DocBatchBuilder();
  // A term repeated `tf` times counts `tf` (the builder counts occurrences).
  try {
    for (const d of docs) b.add(d.id, d.fields.map((m) => [...m].flatMap(([t, tf]) => new Array<number>(tf).fill(termId(t)))));
    return b.finish();
  } finally {
    b.release();
  }
}

/** A document's field terms and frequencies (for tests and tools; the build reads the batch). */
export function fieldsOf(doc: LexicalDoc): FieldTerms[] {
  const { batch, row } = doc;
  return Array.from({ length: FIELD_COUNT }, (_, f) => {
    const m: FieldTerms = new Map();
    for (let j = batch.starts[row * FIELD_COUNT + f]!; j < batch.starts[row * FIELD_COUNT + f + 1]!; j++) m.set(batch.terms[batch.term[j]!]!, batch.tf[j]!);
    return m;
  });
}
