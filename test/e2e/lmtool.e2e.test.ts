/**
 * The `#sift` language-model tool in the real workbench (code-server 1.100): Sift's VSIX and a
 * test-only extension (test/e2e/lmtool-ext, installed beside it, never shipped) that calls
 * `vscode.lm.invokeTool` as an agent would. The tool is listed in `vscode.lm.tools`, activates
 * Sift, indexes the fixture and returns its chunk with path, lines and provenance; bad input is a
 * message and the next call works.
 *
 * The `@sift` participant answering in the chat view: test/e2e/participant.e2e.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { TINY_EMBEDDER, TINY_RERANKER, tempDir, writeTree } from '../helpers';
import { REPO_ROOT, buildVsix, startWorkbench, waitFor, type Workbench } from './harness';

let wb: Workbench | undefined;
let ws: { dir: string; cleanup: () => void } | undefined;
let tmp: { dir: string; cleanup: () => void } | undefined;

before(() => {
  ws = tempDir('sift-e2e-lmtool-ws-');
  writeTree(ws.dir, {
    'src/payments/retry.ts':
      'export async function retryFailedUpload(upload: () => Promise<void>, attempts = 5): Promise<void> {\n  for (let i = 0; i < attempts; i++) {\n    try { return await upload(); } catch { await sleep(2 ** i * 100); } // exponential backoff\n  }\n}\nfunction sleep(ms: number) { return new Promise((r) => setTimeout(r, ms)); }\n',
    'src/ui/button.ts': 'export function renderButton(label: string): string {\n  return `<button>${label}</button>`;\n}\n',
    'README.md': '# Fixture\n\nPayments and a button.\n',
  });
  tmp = tempDir('sift-e2e-lmtool-');
});

after(async () => {
  await wb?.stop();
  ws?.cleanup();
  tmp?.cleanup();
});

/** Packs test/e2e/lmtool-ext into a VSIX (vsce, no dependencies). */
function driverVsix(): string {
  const dir = path.join(tmp!.dir, 'ext');
  cpSync(path.join(REPO_ROOT, 'test', 'e2e', 'lmtool-ext'), dir, { recursive: true });
  const out = path.join(tmp!.dir, 'sift-e2e-lmtool.vsix');
  const r = spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--skip-license', '-o', out], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0 || !existsSync(out)) throw new Error(`vsce package (test driver) failed: ${r.stdout}\n${r.stderr}`);
  return out;
}

test('the #sift tool is listed in vscode.lm.tools and returns the fixture chunk when invoked', { timeout: 600_000 }, async (t) => {
  const outFile = path.join(tmp!.dir, 'tool-result.json');
  wb = await startWorkbench({
    vsix: buildVsix(),
    extraVsix: [driverVsix()],
    workspace: ws!.dir,
    name: 'lmtool',
    env: { SIFT_E2E_LMTOOL_OUT: outFile },
    settings: { 'sift.models.embedding': TINY_EMBEDDER, 'sift.models.reranker': TINY_RERANKER, 'sift.models.allowDownloads': false },
  });
  await wb.runCommand('Sift Test: Invoke Sift Tool');
  const raw = await waitFor(() => (existsSync(outFile) ? readFileSync(outFile, 'utf8') : undefined), 300_000, 'the test extension to write the tool result');
  const r = JSON.parse(raw) as { tools: string[]; tool?: { name: string; tags: string[]; inputSchema?: { required?: string[] } }; parts: string[]; error?: string; badInput?: string[]; badInputError?: string; again: string[] };
  await wb.screenshot('tool-invoked');
  t.diagnostic(`tool parts: ${r.parts.length}; first hit: ${r.parts[1]?.split('\n')[0]}; bad input: ${JSON.stringify(r.badInput ?? r.badInputError)}`);
  assert.equal(r.error, undefined, r.error);
  assert.ok(r.tools.includes('sift_searchCode'), `vscode.lm.tools: ${r.tools.join(', ')}`);
  assert.deepEqual(r.tool?.inputSchema?.required, ['query']);
  assert.match(r.parts[0]!, /^Sift found \d+ code chunks? for "retry failed upload with exponential backoff"/);
  assert.match(r.parts[1]!, /^\[1\] src\/payments\/retry\.ts:1-\d+ \(symbol: retryFailedUpload/, r.parts.join('\n---\n'));
  assert.match(r.parts[1]!, /retrievers: [a-z+]+; rank \d+ -> 1; scores: /);
  // Bad input (VS Code 1.100 passes it on unchecked): Sift's message, and the next call works.
  assert.equal(r.badInputError, undefined);
  assert.match(r.badInput?.[0] ?? '', /^Sift did not search: "query" must be a non-empty string/);
  assert.match(r.again[1] ?? '', /src\/payments\/retry\.ts/);
  const hostLog = wb.extensionHostLog();
  assert.doesNotMatch(hostLog, /Activating extension .sift-dev\.sift-codebase-qa. failed/i);
});
