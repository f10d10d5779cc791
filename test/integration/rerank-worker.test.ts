import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AutoModelForSequenceClassification, AutoTokenizer, env as hfEnv } from '@huggingface/transformers';
import { InferenceClient } from '../../src/core/worker/client';
import { lengthSortedBatches } from '../../src/core/models/pairs';
import { TINY_RERANKER, WORKER_SCRIPT, tempDir } from '../helpers';

describe('cross-encoder in the inference worker', () => {
  let client: InferenceClient;
  let cleanup: () => void;

  before(async () => {
    const t = tempDir('sift-rerank-');
    cleanup = t.cleanup;
    client = new InferenceClient(WORKER_SCRIPT);
    await client.call('configure', { cacheDir: path.join(t.dir, 'models'), allowRemote: false });
    const loaded = await client.call('loadReranker', { model: TINY_RERANKER, dtype: 'fp32' });
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.message);
  });
  after(async () => {
    await client.dispose();
    cleanup();
  });

  it('batches pairs by length and gives each passage its own score: equal to transformers.js scoring each pair alone', async () => {
    const query = 'where are failed uploads retried';
    // Lengths deliberately out of order, so length-sorted batches differ from the input order.
    const words = 'retry upload queue backoff timeout failed item error network attempt'.split(' ');
    const passages = [40, 3, 90, 12, 1, 60, 25, 7, 75, 18, 33, 5].map((n, i) => Array.from({ length: n }, (_, k) => words[(k * 7 + i) % words.length]).join(' '));
    const scores = await client.call('rerank', { query, passages, batchSize: 4 });

    hfEnv.allowRemoteModels = false;
    hfEnv.localModelPath = path.dirname(TINY_RERANKER) + path.sep;
    const name = path.basename(TINY_RERANKER);
    const tokenizer = await AutoTokenizer.from_pretrained(name);
    const model = await AutoModelForSequenceClassification.from_pretrained(name, { dtype: 'fp32' });
    for (let i = 0; i < passages.length; i++) {
      const inputs = tokenizer(query, { text_pair: passages[i], truncation: true, max_length: 256 });
      const { logits } = await model(inputs);
      const data = logits.data as Float32Array;
      assert.ok(Math.abs(scores[i]! - data[data.length - 1]!) < 1e-4, `passage ${i}: worker ${scores[i]} vs alone ${data[data.length - 1]}`);
    }
    await model.dispose();
  });

  it('plans batches of similar length, shortest first, equal lengths in their order', () => {
    assert.deepEqual(lengthSortedBatches([40, 3, 90, 12, 3, 60], 2), [
      [1, 4],
      [3, 0],
      [5, 2],
    ]);
    assert.deepEqual(lengthSortedBatches([5, 5, 5], 5), [[0, 1, 2]]);
    assert.deepEqual(lengthSortedBatches([], 5), []);
  });
});
