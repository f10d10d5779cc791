import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers';
import { runCli, tally } from './tally';

const FILES = Number(process.env.SIFT_HOSTILE_FILES ?? 100_000);

describe('many tiny files', () => {
  it(`indexes ${FILES} tiny files (half of them empty) and reports the time`, { timeout: 15 * 60_000 }, async () => {
    const { dir, cleanup } = tempDir('sift-hostile-scale-');
    try {
      const root = path.join(dir, 'repo');
      const t0 = Date.now();
      for (let d = 0; d < FILES / 1000; d++) {
        const sub = path.join(root, `d${d}`);
        mkdirSync(sub, { recursive: true });
        for (let i = 0; i < 1000; i++) writeFileSync(path.join(sub, `f${i}.txt`), i % 2 ? '' : `word${d}x${i}\n`);
      }
      const genMs = Date.now() - t0;
      // Keyword-only and few commits: this measures discovery, reading, chunking and storage at
      // scale, not the embedding model (see docs/performance.md for embedding throughput).
      const t1 = Date.now();
      const r = await runCli(['index', root, '--index-dir', path.join(dir, 'idx'), '--lexical-only', '--offline', '--json', '--commit-every', '25000']);
      const ms = Date.now() - t1;
      assert.equal(r.code, 0, r.stderr);
      const json = JSON.parse(r.stdout) as { files: { indexed: string[] }; chunks: number };
      const lost = FILES - json.files.indexed.length;
      const t2 = Date.now();
      const again = await runCli(['index', root, '--index-dir', path.join(dir, 'idx'), '--lexical-only', '--offline', '--json']);
      const againMs = Date.now() - t2;
      assert.equal(again.code, 0, again.stderr);
      tally({
        area: 'scale',
        faultsInjected: 1,
        faultsSurvived: lost === 0 ? 1 : 0,
        filesLost: lost,
        note: `${FILES} tiny files: generated in ${(genMs / 1000).toFixed(1)} s, indexed (keyword-only) in ${(ms / 1000).toFixed(1)} s, unchanged re-run ${(againMs / 1000).toFixed(1)} s`,
      });
      assert.equal(lost, 0);
      assert.equal(json.chunks, FILES / 2);
      assert.equal(JSON.parse(again.stdout).files.changed.length, 0);
    } finally {
      cleanup();
    }
  });
});
