import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferenceClient } from '../../src/core/worker/client';
import { type IndexOptions, type IndexSummary, indexWorkspace } from '../../src/core/indexing/indexer';
import { IndexStore } from '../../src/core/store/store';
import { TINY_EMBEDDER, WORKER_SCRIPT, tempDir, writeTree } from '../helpers';
import { tally } from './tally';

const CANARY = 'SWAPPED-IN-OUTSIDE-CANARY-c41d';

/**
 * Files change between discovery and reading. The indexer is a generator: its `plan` event comes
 * after discovery and before any file is read, so the test changes the tree exactly there —
 * deterministic, and with no test switch in production code.
 */
async function indexWithHook(opts: Omit<IndexOptions, 'client'>, client: InferenceClient, onPlan: () => void): Promise<IndexSummary> {
  const gen = indexWorkspace({ ...opts, client });
  let r = await gen.next();
  while (!r.done) {
    if (r.value.type === 'plan') onPlan();
    r = await gen.next();
  }
  return r.value;
}

describe('files deleted, renamed or swapped while being indexed', () => {
  let client: InferenceClient;
  before(async () => {
    client = new InferenceClient(WORKER_SCRIPT);
    await client.call('configure', { cacheDir: path.join(tempDir().dir, 'models'), allowRemote: false, threads: 2 });
  });
  after(async () => client.dispose());

  it('reports each change with a reason, never hangs on a FIFO, never follows a swapped-in link out of the workspace', async () => {
    const { dir, cleanup } = tempDir('sift-hostile-race-');
    try {
      const root = path.join(dir, 'repo');
      const indexDir = path.join(dir, 'idx');
      const outside = path.join(dir, 'outside');
      writeTree(outside, { 'stolen.ts': `export const stolen = "${CANARY}";\n`, 'sub/file.ts': `export const sub = "${CANARY}";\n` });
      const files: Record<string, string> = {};
      for (const name of ['deleted', 'renamed', 'fifo', 'symlink', 'grown', 'binary', 'kept1', 'kept2', 'kept3']) {
        files[`src/${name}.ts`] = `export function ${name}Handler(): string {\n  return "${name}";\n}\n`;
      }
      files['sub/file.ts'] = 'export const sub = "inside";\n';
      files['sub/other.ts'] = 'export const other = "inside";\n';
      writeTree(root, files);
      const opts = { root, indexDir, embedding: { model: TINY_EMBEDDER, dtype: 'fp32' } };

      const changes: Record<string, string> = {
        'src/deleted.ts': 'unreadable',
        'src/renamed.ts': 'unreadable',
        'src/fifo.ts': 'not-a-file',
        'src/symlink.ts': 'not-a-file',
        'src/grown.ts': 'too-large',
        'src/binary.ts': 'binary',
        'sub/file.ts': 'symlink-outside',
        'sub/other.ts': 'unreadable',
      };
      const s = await indexWithHook(opts, client, () => {
        rmSync(path.join(root, 'src/deleted.ts'));
        renameSync(path.join(root, 'src/renamed.ts'), path.join(root, 'src/renamed-new.ts'));
        rmSync(path.join(root, 'src/fifo.ts'));
        execFileSync('mkfifo', [path.join(root, 'src/fifo.ts')]); // a plain read would block forever
        rmSync(path.join(root, 'src/symlink.ts'));
        symlinkSync(path.join(outside, 'stolen.ts'), path.join(root, 'src/symlink.ts'));
        writeFileSync(path.join(root, 'src/grown.ts'), 'x'.repeat(2 * 1024 * 1024));
        writeFileSync(path.join(root, 'src/binary.ts'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 0]));
        // A whole directory swapped for a link leaving the workspace (its file names still resolve).
        renameSync(path.join(root, 'sub'), path.join(dir, 'sub-moved'));
        symlinkSync(path.join(outside, 'sub'), path.join(root, 'sub'));
      });
      const skipped = new Map(s.files.skipped.map((x) => [x.path, x]));
      let survived = 0;
      const wrong: string[] = [];
      for (const [p, reason] of Object.entries(changes)) {
        const got = skipped.get(p);
        if (got?.reason === reason) survived++;
        else wrong.push(`${p}: expected ${reason}, got ${got ? `${got.reason} (${got.detail})` : s.files.indexed.includes(p) ? 'indexed' : 'nothing'}`);
      }
      assert.match(skipped.get('src/deleted.ts')?.detail ?? '', /ENOENT/);
      const kept = ['src/kept1.ts', 'src/kept2.ts', 'src/kept3.ts'];
      const lost = kept.filter((p) => !s.files.indexed.includes(p));
      const store = (await IndexStore.openForRead(indexDir)).store!;
      const leaked: string[] = [];
      for await (const c of store.allChunks()) if (c.text.includes(CANARY) || c.text.length > 1024 * 1024) leaked.push(c.path);

      // The next run picks up the renamed file and forgets the vanished ones.
      const s2 = await indexWithHook(opts, client, () => undefined);
      const lostAfter = ['src/renamed-new.ts', ...kept].filter((p) => !s2.files.indexed.includes(p));
      tally({ area: 'races', faultsInjected: Object.keys(changes).length, faultsSurvived: survived, filesLost: lost.length + lostAfter.length });
      assert.deepEqual(wrong, []);
      assert.deepEqual(lost, []);
      assert.deepEqual(leaked, [], 'content from outside the workspace was indexed');
      assert.deepEqual(lostAfter, []);
      for (const p of ['src/deleted.ts', 'src/renamed.ts', 'src/grown.ts', 'src/binary.ts']) assert.ok(!s2.files.indexed.includes(p), p);
    } finally {
      cleanup();
    }
  });
});
