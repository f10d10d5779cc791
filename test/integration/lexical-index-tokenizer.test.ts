import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { InferenceClient } from '../../src/core/worker/client';
import { type IndexEvent, type IndexOptions, type IndexSummary, indexWorkspace } from '../../src/core/indexing/indexer';
import { readManifest } from '../../src/core/store/manifest';
import { TINY_EMBEDDER, WORKER_SCRIPT, tempDir, writeTree } from '../helpers';

async function run(opts: IndexOptions): Promise<{ summary: IndexSummary; notices: string[] }> {
  const gen = indexWorkspace(opts);
  const notices: string[] = [];
  let r = await gen.next();
  while (!r.done) {
    const e: IndexEvent = r.value;
    if (e.type === 'notice') notices.push(e.message);
    r = await gen.next();
  }
  return { summary: r.value, notices };
}

// The MCP server keeps a keyword-only index while the embedded one is built, with one inference
// worker: by then the worker holds the embedding model. A keyword-only index is chunked with the
// heuristic token counter, so that is what its manifest must record — not the worker's model,
// which made the next update rebuild the whole keyword index ("the tokenizer changed").
describe('a keyword-only index does not depend on the model the worker holds', () => {
  it('is updated, not rebuilt, after the worker loaded an embedding model', async () => {
    const { dir, cleanup } = tempDir();
    const client = new InferenceClient(WORKER_SCRIPT);
    try {
      await client.call('configure', { cacheDir: path.join(dir, 'models'), allowRemote: false, threads: 2 });
      const root = path.join(dir, 'repo');
      writeTree(root, { 'a.ts': 'export const a = 1;\n', 'b.py': 'def b():\n    return 2\n' });
      const indexDir = path.join(dir, 'idx');
      const first = await run({ root, indexDir, embedding: null, client });
      assert.equal(first.summary.files.changed.length, 2);

      const loaded = await client.call('loadEmbedder', { model: TINY_EMBEDDER });
      assert.ok(loaded.ok);
      writeTree(root, { 'c.ts': 'export const c = 3;\n' });
      const second = await run({ root, indexDir, embedding: null, client });
      assert.deepEqual(second.notices, [], 'no rebuild');
      assert.deepEqual(second.summary.files.changed, ['c.ts'], 'only the new file is chunked');
      const m = await readManifest(indexDir);
      assert.equal(m.kind === 'ok' && m.manifest.chunker.tokenizer, 'heuristic');
    } finally {
      await client.dispose();
      cleanup();
    }
  });
});
