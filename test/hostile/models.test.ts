import assert from 'node:assert/strict';
import { cpSync, mkdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { TINY_EMBEDDER, TINY_RERANKER, tempDir, writeTree } from '../helpers';
import { REPO } from '../support/repo';
import { hasStackTrace, runCli, tally } from './tally';

/** Ways a model folder can be broken; each is applied to a copy of a tiny model. */
const CORRUPTIONS: Record<string, (folder: string) => void> = {
  'truncated onnx': (f) => truncateSync(path.join(f, 'onnx/model_quantized.onnx'), 1000),
  'garbage onnx': (f) => writeFileSync(path.join(f, 'onnx/model_quantized.onnx'), Buffer.alloc(4096, 0xab)),
  'empty onnx': (f) => writeFileSync(path.join(f, 'onnx/model_quantized.onnx'), ''),
  'onnx is a folder': (f) => {
    rmSync(path.join(f, 'onnx/model_quantized.onnx'));
    mkdirSync(path.join(f, 'onnx/model_quantized.onnx'));
  },
  'invalid tokenizer.json': (f) => writeFileSync(path.join(f, 'tokenizer.json'), '{"version": "1.0", "model": {'),
  'tokenizer.json of the wrong shape': (f) => writeFileSync(path.join(f, 'tokenizer.json'), '{"model": 42, "normalizer": "x"}'),
  'missing config.json': (f) => rmSync(path.join(f, 'config.json')),
  'config.json not JSON': (f) => writeFileSync(path.join(f, 'config.json'), '\u0000\u0001 not json'),
  'tokenizer_config.json not JSON': (f) => writeFileSync(path.join(f, 'tokenizer_config.json'), '{{{'),
  'missing onnx folder': (f) => rmSync(path.join(f, 'onnx'), { recursive: true }),
};

describe('model faults: corrupt model files give keyword search with a message, never a crash', () => {
  it('embedder and reranker, each corruption', async () => {
    const { dir, cleanup } = tempDir('sift-hostile-models-');
    try {
      const root = path.join(dir, 'repo');
      writeTree(root, REPO);
      let survived = 0;
      const failures: string[] = [];
      for (const [name, corrupt] of Object.entries(CORRUPTIONS)) {
        const slug = name.replace(/\W+/g, '-');
        const embedder = path.join(dir, 'models', `emb-${slug}`);
        const reranker = path.join(dir, 'models', `rr-${slug}`);
        cpSync(TINY_EMBEDDER, embedder, { recursive: true });
        cpSync(TINY_RERANKER, reranker, { recursive: true });
        corrupt(embedder);
        corrupt(reranker);
        const r = await runCli(['ask', root, 'retryFailedUploads', '--embedding-model', embedder, '--reranker-model', reranker, '--offline', '--index-dir', path.join(dir, `idx-${slug}`), '--json']);
        const problems: string[] = [];
        if (r.code !== 0) problems.push(`exit ${r.code} ${r.signal ?? ''}`);
        if (hasStackTrace(r.stderr)) problems.push('stack trace');
        let json: { retrieval?: string; reranked?: boolean; sources?: { path: string }[] } = {};
        try {
          json = JSON.parse(r.stdout);
        } catch {
          problems.push('no JSON');
        }
        if (json.retrieval !== 'lexical-only') problems.push(`retrieval ${json.retrieval}`);
        if (json.reranked !== false) problems.push('reranked');
        if (json.sources?.[0]?.path !== 'src/net/uploader.ts') problems.push('keyword search did not find the answer');
        if (!/embedding model.*could not be loaded[\s\S]*lexical-only/.test(r.stderr)) problems.push('no embedder message');
        if (!/reranker model.*could not be loaded[\s\S]*without reranking/.test(r.stderr)) problems.push('no reranker message');
        if (problems.length) failures.push(`${name}: ${problems.join('; ')}\n${r.stderr}`);
        else survived++;
      }
      tally({ area: 'models', faultsInjected: Object.keys(CORRUPTIONS).length * 2, faultsSurvived: survived * 2 });
      assert.deepEqual(failures, []);
    } finally {
      cleanup();
    }
  });
});
