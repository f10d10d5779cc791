import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const CHILD = path.join(__dirname, 'worker-shutdown-child.ts');

function runChild(mode: string): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD], { env: { ...process.env, SHUTDOWN_MODE: mode }, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

describe('shutting down the inference worker while it embeds', () => {
  it('dispose() mid-run: the process survives (the running model call finishes, sessions are released, the worker exits)', () => {
    const r = runChild('dispose');
    assert.equal(r.signal, null, `the process was killed by ${r.signal}: ${r.stderr.slice(-600)}`);
    assert.equal(r.status, 0, `exit code ${r.status}: ${r.stderr.slice(-600)}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { long: string; disposeMs: number };
    // The embedding call was shut down (not run to the end of its 2000 batches first).
    assert.match(out.long, /shut down/);
    assert.ok(out.disposeMs < 5000, `dispose took ${out.disposeMs} ms`);
  });

  it('cancelling a long embed stops it between batches: the next request is answered promptly; dispose then exits cleanly', () => {
    const r = runChild('cancel');
    assert.equal(r.signal, null, `the process was killed by ${r.signal}: ${r.stderr.slice(-600)}`);
    assert.equal(r.status, 0, `exit code ${r.status}: ${r.stderr.slice(-600)}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { long: string; shortAfterCancelMs: number; shortDim: number };
    assert.match(out.long, /Cancelled/);
    assert.ok(out.shortDim > 0);
    // At most the batch in progress (~0.3-0.9 s on 2 shared cores), not the rest of the 63 batches (~20 s).
    assert.ok(out.shortAfterCancelMs < 5000, `the request after the cancel waited ${out.shortAfterCancelMs} ms`);
  });
});
