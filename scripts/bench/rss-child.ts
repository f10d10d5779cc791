/**
 * Child process of the benchmark's RSS measurement (P4): a fresh Node process, like an editor's
 * extension host, that loads both models in the inference worker, opens an index, retrieves one
 * question (which loads every shard) and reranks the candidates. Prints one JSON line (RssReport).
 */
import { InferenceClient } from '../../src/core/worker/client';
import { IndexStore } from '../../src/core/store/store';
import { Reranker } from '../../src/core/rerank/reranker';
import { retrieve } from '../../src/core/search/retriever';
import type { RssReport } from './bench';

const mb = (n: number) => Math.round(n / 2 ** 20);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as { worker: string; embedder: string; reranker: string; indexDir: string; threads: number; dtype: string; cacheDir: string };
  gc();
  const baselineMB = mb(process.memoryUsage().rss);
  const client = new InferenceClient(args.worker);
  await client.call('configure', { cacheDir: args.cacheDir, allowRemote: false, threads: args.threads });
  const e = await client.call('loadEmbedder', { model: args.embedder, dtype: args.dtype });
  const r = await client.call('loadReranker', { model: args.reranker, dtype: args.dtype });
  if (!e.ok || !r.ok) throw new Error(`models did not load: ${!e.ok ? e.message : ''} ${!r.ok ? r.message : ''}`);
  gc();
  const modelsMB = mb(process.memoryUsage().rss);
  const { store, problem } = await IndexStore.openForRead(args.indexDir, { files: false });
  if (!store) throw new Error(`index did not open: ${problem}`);
  const question = 'where do we retry failed uploads after a timeout';
  // The synthetic index records another model name; only the dimension has to match for dense search.
  const res = await retrieve(store, question, { embedder: client });
  gc();
  const indexMB = mb(process.memoryUsage().rss);
  await new Reranker(client, 'bench').rerank(question, res.candidates);
  gc();
  const mem = process.memoryUsage();
  const report: RssReport = { baselineMB, modelsMB, indexMB, afterQueryMB: mb(mem.rss), peakMB: Math.round(process.resourceUsage().maxRSS / 1024), heapUsedMB: mb(mem.heapUsed) };
  await client.dispose();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
