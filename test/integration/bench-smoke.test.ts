import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BenchConfig, formatTable, markdownTable, runBench } from '../../scripts/bench/bench';
import { TINY_EMBEDDER, TINY_RERANKER, INDEXER_SCRIPT, WORKER_SCRIPT, tempDir } from '../helpers';

// The benchmark (`npm run bench`) is not part of the default run; this runs every one of its code
// paths with the tiny test models and tiny sizes so it never rots. No timing is asserted.
describe('bench smoke', () => {
  it('produces every table row with a value and, where there is a goal, a verdict', async () => {
    const { dir, cleanup } = tempDir('sift-bench-smoke-');
    try {
      const cfg: BenchConfig = {
        embedder: TINY_EMBEDDER,
        reranker: TINY_RERANKER,
        workerScript: WORKER_SCRIPT,
        indexerScript: INDEXER_SCRIPT,
        workDir: dir,
        sections: ['P1', 'P2', 'P3', 'P4'],
        threads: 1,
        dtype: 'q8',
        p1Files: 4,
        p1Rounds: 2,
        reopenFiles: 30,
        p2Runs: 2,
        p2Candidates: 12,
        p2MaxLength: 64,
        p2Batch: 5,
        p2Variants: true,
        p3Sizes: [150, 300],
        p3Queries: 2,
        p4Chunks: 300,
      };
      const result = await runBench(cfg);
      const ids = result.rows.map((r) => r.id);
      for (const id of [
        'P1.index.throughput',
        'P1.reopen',
        'P2.rerank.p50',
        'P2.rerank.p95',
        'P3.search.150',
        'P3.load.150',
        'P3.bytes.150',
        'P3.search.300',
        'P3.load.300',
        'P3.bytes.300',
        'P4.eventloop.indexing',
        'P4.eventloop.rerank',
        'P4.rss',
      ]) {
        assert.ok(ids.includes(id), `missing row ${id} in ${ids.join(', ')}`);
      }
      assert.ok(ids.some((id) => id.startsWith('P2.variant.len')), 'rerank variants');
      const p1 = result.rows.find((r) => r.id === 'P1.index.throughput')!;
      assert.match(p1.note ?? '', /per round [\d.]+, [\d.]+×; no embed request queued: \d+\/\d+ ms before the first/);
      if (process.platform === 'linux') assert.match(p1.note ?? '', /CPU s per round by thread: onnxruntime [\d.]+, indexing thread [\d.]+/);
      // Late timer ticks are reported with what they coincided with, or their absence is stated.
      assert.match(result.rows.find((r) => r.id === 'P4.eventloop.indexing')!.note ?? '', /(no tick|ticks) of a 20 ms timer over 15 ms late/);
      const chunked = result.rows.find((r) => r.id.startsWith('P2.variant.chunked.'));
      assert.ok(chunked, 'rerank of chunks as the chunker cuts them');
      assert.match(chunked.metric, /mean \d+ tok\/pair/);
      for (const row of result.rows) {
        assert.ok(Number.isFinite(row.value), `${row.id} has a value`);
        if (row.goal !== 'informational') assert.equal(typeof row.met, 'boolean', `${row.id} has a verdict`);
        if (row.baseline) assert.ok(Number.isFinite(row.baseline.value), `${row.id} has a baseline`);
      }
      assert.ok(result.machine.cores > 0 && result.machine.node.startsWith('v'));
      const table = formatTable(result.rows);
      const md = markdownTable(result);
      for (const id of ids) {
        assert.ok(table.includes(id));
        assert.ok(md.includes(`| ${id} |`));
      }
    } finally {
      cleanup();
    }
  });
});
