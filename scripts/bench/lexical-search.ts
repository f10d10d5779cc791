/**
 * Micro-benchmark of lexical retrieval with collection-wide BM25 statistics (issue 19):
 *
 *   npm run build && node --import tsx scripts/bench/lexical-search.ts [--chunks 100000] [--queries 40]
 *
 * Builds a lexical-only index of synthetic chunks (~900 characters, shards of 4000) in a temporary
 * directory, then times `retrieve()` with the inference worker searching half of the shards, as
 * `sift ask` does: p50/p95 of the lexical phase (statistics round + search) over seeded questions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { type FileUpdate, IndexStore } from '../../src/core/store/store';
import { retrieve } from '../../src/core/search/retriever';
import { InferenceClient } from '../../src/core/worker/client';
import { sha256Hex } from '../../src/core/util/fs';
import { queryText, rng, syntheticChunks } from './corpus';

const { values } = parseArgs({ options: { chunks: { type: 'string', default: '100000' }, queries: { type: 'string', default: '40' } } });
const total = Number(values.chunks);
const dir = mkdtempSync(path.join(os.tmpdir(), 'sift-lexbench-'));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

async function main(): Promise<void> {
  const indexDir = path.join(dir, 'idx');
  const { store } = await IndexStore.open(indexDir, { root: dir, embedding: null, chunker: { version: 1, maxTokens: 256, tokenizer: 'heuristic' }, lock: true });
  const r = rng(1);
  for (let f = 0, made = 0; made < total; f += 500) {
    const upserted: FileUpdate[] = [];
    for (let i = f; i < f + 500 && made < total; i++) {
      const chunks = syntheticChunks(r, i, Math.min(10, total - made));
      made += chunks.length;
      upserted.push({ path: chunks[0]!.path, entry: { hash: sha256Hex(`f${i}`, 16), size: 1, mtimeMs: 1 }, chunks });
    }
    await store.commit({ removed: [], upserted });
  }
  await store.close();
  const { store: reader } = await IndexStore.openForRead(indexDir);
  const worker = new InferenceClient(path.join(__dirname, '..', '..', 'dist', 'worker.js'));
  try {
    const q = rng(5);
    const questions = Array.from({ length: Number(values.queries) }, () => queryText(q));
    await retrieve(reader!, questions[0]!, { searcher: worker }); // loads every shard
    const times: number[] = [];
    for (const question of questions) times.push((await retrieve(reader!, question, { searcher: worker })).timings.lexical);
    console.log(`${total} chunks, ${reader!.manifest.shards.length} shards: lexical p50 ${quantile(times, 0.5).toFixed(2)} ms, p95 ${quantile(times, 0.95).toFixed(2)} ms`);
  } finally {
    await worker.dispose();
    await reader!.close();
  }
}

void main().finally(() => rmSync(dir, { recursive: true, force: true }));
