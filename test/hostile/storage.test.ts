import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { readManifest } from '../../src/core/store/manifest';
import { IndexStore } from '../../src/core/store/store';
import { CLI_SCRIPT, TINY_EMBEDDER, tempDir, writeTree } from '../helpers';
import { hasStackTrace, runCli, tally } from './tally';
import { mulberry32, testSeed } from '../../src/core/util/random';

const isRoot = process.getuid?.() === 0;
const KILL_ROUNDS = Number(process.env.SIFT_HOSTILE_KILL_ROUNDS ?? 16);

function corpus(n: number, salt = ''): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    files[`pkg${i % 7}/module${i}.ts`] =
      `export function handler${i}(input: string): string {\n  // module ${i} transforms its input ${salt}\n  return input.repeat(${(i % 5) + 1});\n}\n\n` +
      `export class Service${i} {\n  run(x: number): number {\n    return x * ${i};\n  }\n}\n`;
  }
  return files;
}

/** Every shard the manifest references loads; returns the indexed paths (never throws a parse error). */
async function loadAll(indexDir: string): Promise<string[]> {
  const loaded = await readManifest(indexDir);
  assert.notEqual(loaded.kind, 'invalid', loaded.kind === 'invalid' ? loaded.reason : '');
  if (loaded.kind === 'missing') return [];
  const { store } = await IndexStore.openForRead(indexDir);
  let n = 0;
  for (const shard of store!.manifest.shards) {
    const data = await store!.loadShard(shard);
    assert.equal(data.chunks.length, shard.chunks);
    if (store!.manifest.embedding) assert.equal(data.vectors.size, shard.chunks);
    await store!.lexical(shard);
    n += data.chunks.length;
  }
  assert.equal(n, store!.chunkCount);
  return Object.keys(store!.manifest.files).sort();
}

describe('storage faults', () => {
  it(`survives ${KILL_ROUNDS} SIGKILLs at random points during index writes; a final run matches a clean build`, async () => {
    const { dir, cleanup } = tempDir('sift-hostile-kill-');
    // Kill points are seeded: SIFT_TEST_SEED=<seed> replays a failing run.
    const seed = testSeed(2029);
    const rand = mulberry32(seed);
    try {
      const root = path.join(dir, 'repo');
      const indexDir = path.join(dir, 'idx');
      const args = ['index', root, '--index-dir', indexDir, '--embedding-model', TINY_EMBEDDER, '--offline', '--events', '--commit-every', '8', '--json'];
      let killed = 0;
      let survived = 0;
      for (let round = 0; round < KILL_ROUNDS; round++) {
        // Vary the work: every file changes, and some rounds add or delete files.
        const n = 120 + (round % 3) * 20;
        writeTree(root, corpus(n, `round ${round}`));
        if (round % 3 === 0) for (let i = n; i < 160; i++) execFileSync('rm', ['-f', path.join(root, `pkg${i % 7}/module${i}.ts`)]);
        const target = 1 + Math.floor(rand() * 12);
        const child: ChildProcess = spawn(process.execPath, [CLI_SCRIPT, ...args]);
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        let seen = 0;
        createInterface({ input: child.stderr! }).on('line', (line) => {
          if (!line.startsWith('{"type":"progress"') && !line.startsWith('{"type":"commit"')) return;
          // Kill right at a commit, or a random moment after a progress event (mid-write or mid-embed).
          if (++seen === target) {
            if (line.startsWith('{"type":"commit"') && round % 2 === 0) child.kill('SIGKILL');
            else setTimeout(() => child.kill('SIGKILL'), Math.floor(rand() * 30));
          }
        });
        child.stdout!.resume();
        const code = await exited;
        if (code === null) killed++;
        await loadAll(indexDir); // throws on a parse error or a missing shard
        survived++;
      }
      const final = await runCli(args.filter((a) => a !== '--events'));
      assert.equal(final.code, 0, final.stderr);
      const clean = await runCli(['index', root, '--index-dir', path.join(dir, 'clean'), '--embedding-model', TINY_EMBEDDER, '--offline', '--json']);
      const want = JSON.parse(clean.stdout).files.indexed as string[];
      const got = await loadAll(indexDir);
      const lost = want.filter((p) => !got.includes(p));
      const extra = got.filter((p) => !want.includes(p));
      assert.equal(JSON.parse(final.stdout).chunks, JSON.parse(clean.stdout).chunks);
      tally({ area: 'storage: SIGKILL', faultsInjected: KILL_ROUNDS, faultsSurvived: survived, filesLost: lost.length, note: `${killed}/${KILL_ROUNDS} runs killed mid-run (the rest finished before the kill)` });
      assert.deepEqual(lost, []);
      assert.deepEqual(extra, []);
      assert.ok(killed >= KILL_ROUNDS / 2, `only ${killed} of ${KILL_ROUNDS} runs were killed before finishing`);
      const { store } = await IndexStore.openForRead(indexDir);
      assert.deepEqual(readdirSync(path.join(indexDir, 'shards')).sort(), store!.manifest.shards.map((s) => s.dir).sort(), 'no stray shard versions');
    } catch (err) {
      if (err instanceof Error) err.message += ` [kill points seeded: SIFT_TEST_SEED=${seed} replays them]`;
      throw err;
    } finally {
      cleanup();
    }
  });

  it('a failing disk write (disk full) gives a clear message and leaves the previous index intact', async () => {
    const { dir, cleanup } = tempDir('sift-hostile-full-');
    const mnt = path.join(dir, 'fs');
    mkdirSync(mnt);
    // As root: a 2 MB tmpfs gives a real ENOSPC. Otherwise (or when mounting is not allowed) the
    // index directory is made read-only, as an unprivileged user, for an EACCES instead.
    const mounted = isRoot && !process.env.SIFT_HOSTILE_NO_MOUNT && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]).status === 0;
    const asUser = !mounted && isRoot ? { uid: 65534, gid: 65534 } : {};
    try {
      const root = path.join(dir, 'repo');
      const indexDir = path.join(mnt, 'idx');
      writeTree(root, corpus(10));
      if (!mounted && isRoot) {
        chmodSync(dir, 0o755);
        chownSync(mnt, 65534, 65534);
      }
      // Keyword-only keeps this fast: the fault is in storage, not in the model.
      const args = ['index', root, '--index-dir', indexDir, '--lexical-only', '--offline', '--json', '--commit-every', '100000'];
      const env = { SIFT_MODEL_CACHE: path.join(dir, 'models') };
      const first = await runCli(args, env, asUser);
      assert.equal(first.code, 0, first.stderr);
      const before = readFileSync(path.join(indexDir, 'manifest.json'), 'utf8');
      const indexedBefore = await loadAll(indexDir);

      // Enough new content to overflow the 2 MB filesystem: distinct words (the index compresses
      // text and stores each term once, so repeated prose would fit).
      const big: Record<string, string> = {};
      for (let i = 0; i < 1500; i++) {
        const words = Array.from({ length: 120 }, (_, w) => createHash('sha256').update(`${i}:${w}`).digest('hex').slice(0, 12));
        big[`more/file${i}.md`] = `# Note ${i}\n\n${words.join(' ')}\n`;
      }
      writeTree(root, big);
      if (!mounted) for (const d of [indexDir, path.join(indexDir, 'shards')]) chmodSync(d, 0o555);
      const failed = await runCli(args, env, asUser);
      if (!mounted) for (const d of [indexDir, path.join(indexDir, 'shards')]) chmodSync(d, 0o755);
      const message = failed.stderr.trim();
      const ok =
        failed.code === 1 &&
        message.split('\n').length === 1 &&
        (mounted ? /ENOSPC|no space left/i.test(message) && /previous index is intact/.test(message) : /EACCES|permission denied/i.test(message)) &&
        !hasStackTrace(failed.stderr);
      const after = readFileSync(path.join(indexDir, 'manifest.json'), 'utf8');
      const indexedAfter = await loadAll(indexDir);
      const lost = indexedBefore.filter((p) => !indexedAfter.includes(p)).length;
      tally({ area: 'storage: disk full', faultsInjected: 1, faultsSurvived: ok && after === before ? 1 : 0, filesLost: lost, note: mounted ? 'ENOSPC on a 2 MB tmpfs' : 'read-only index directory (EACCES)' });
      assert.ok(ok, `exit ${failed.code}: ${failed.stderr}`);
      assert.equal(after, before, 'the manifest is unchanged');
      assert.equal(lost, 0);
      const { store } = await IndexStore.openForRead(indexDir);
      assert.deepEqual(readdirSync(path.join(indexDir, 'shards')).sort(), store!.manifest.shards.map((s) => s.dir).sort(), 'partial shard versions are cleaned up');

      // With the space back (the new files removed), indexing works again.
      execFileSync('rm', ['-rf', path.join(root, 'more')]);
      const recovered = await runCli(args, env, asUser);
      assert.equal(recovered.code, 0, recovered.stderr);
    } finally {
      if (mounted) spawnSync('umount', [mnt]);
      cleanup();
    }
  });

  it('two processes on the same index: the second gets the lock message, nothing is corrupted', async () => {
    const { dir, cleanup } = tempDir('sift-hostile-lock-');
    try {
      const root = path.join(dir, 'repo');
      const indexDir = path.join(dir, 'idx');
      writeTree(root, corpus(150));
      const args = ['index', root, '--index-dir', indexDir, '--embedding-model', TINY_EMBEDDER, '--offline', '--commit-every', '16'];
      const a = spawn(process.execPath, [CLI_SCRIPT, ...args, '--events', '--json']);
      const aExit = new Promise<number | null>((resolve) => a.on('exit', (code) => resolve(code)));
      a.stdout.resume();
      // Freeze the first writer in the middle of its run (it holds the lock), deterministically.
      await new Promise<void>((resolve) => {
        const rl = createInterface({ input: a.stderr });
        rl.on('line', (line) => {
          if (line.startsWith('{"type":"commit"')) {
            a.kill('SIGSTOP');
            rl.close();
            resolve();
          }
        });
      });
      a.stderr.resume();
      const b = await runCli([...args, '--json']);
      const c = await runCli(['ask', root, 'handler transforms input', '--index-dir', indexDir, '--embedding-model', TINY_EMBEDDER, '--offline', '--json']);
      a.kill('SIGCONT');
      const aCode = await aExit;
      let survived = 0;
      for (const r of [b, c]) if (r.code === 1 && /Another Sift process \(pid \d+\) is updating the index/.test(r.stderr) && !hasStackTrace(r.stderr)) survived++;
      const indexed = await loadAll(indexDir);
      const lost = Object.keys(corpus(150)).filter((p) => !indexed.includes(p)).length;
      tally({ area: 'storage: two writers', faultsInjected: 2, faultsSurvived: aCode === 0 ? survived : 0, filesLost: lost });
      assert.equal(aCode, 0);
      assert.equal(survived, 2, `second writer: ${b.code} ${b.stderr}\nask: ${c.code} ${c.stderr}`);
      assert.equal(lost, 0);
      const again = await runCli([...args, '--json']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(JSON.parse(again.stdout).embedded, 0);
    } finally {
      cleanup();
    }
  });
});
