/**
 * The packages of `npm run package:all`, installed in the real workbench (code-server 4.100.3 +
 * Chromium) with `code-server --install-extension`, each answering a question in the panel:
 * - the universal VSIX, which carries no native onnxruntime: installed into an extensions folder
 *   outside the repository (nothing can resolve the repo's node_modules/onnxruntime-node), with
 *   NODE_PATH cleared — the models must run on onnxruntime-web's WebAssembly build, and dense
 *   retrieval and reranking must still happen;
 * - the linux-x64 VSIX: the same on the native library.
 * The packages are built once per source tree (test/e2e/packages.ts caches them by content hash).
 *
 * Screenshots for the README (answer with sources, one source's provenance, the compare view) are
 * cropped from this run; `SIFT_E2E_SCREENSHOTS=DIR` also writes them to DIR
 * (`bash scripts/screenshots.sh` regenerates media/screenshots/).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Frame, Locator } from 'playwright-core';
import { TINY_EMBEDDER, TINY_RERANKER, tempDir, writeTree } from '../helpers';
import { type ChatBody, OpenAiTestServer } from '../support/openaiServer';
import { REPO } from '../support/repo';
import { REPO_ROOT, startWorkbench, waitFor, type Workbench } from './harness';
import { packagedVsix, type PackageTarget } from './packages';

const SCREENSHOTS = process.env.SIFT_E2E_SCREENSHOTS ? path.resolve(process.env.SIFT_E2E_SCREENSHOTS) : undefined;
const QUESTION = 'where do we retry failed uploads?';

let ws: { dir: string; cleanup: () => void } | undefined;
const llm = new OpenAiTestServer();
const open: Workbench[] = [];

before(async () => {
  ws = tempDir('sift-e2e-platforms-');
  writeTree(ws.dir, REPO);
  await llm.start();
  // Answers that cite the numbers the prompt gave the sources they name, as a good model would.
  const prompt = (b: ChatBody) => b.messages.map((m) => m.content).join('\n');
  const cite = (b: ChatBody, where: string) => new RegExp(`\\[(\\d+)\\] ${where.replace(/\./g, '\\.')}`).exec(prompt(b))?.[1] ?? '?';
  llm.script = [{
    kind: 'answer',
    pieces: 6,
    text: (b) => /how many attempts/.test(b.messages.at(-1)?.content ?? '')
      ? `At most five attempts per file [${cite(b, 'docs/upload-guide.md:5-')}]: the default of \`maxAttempts\` in \`retryFailedUploads\` [${cite(b, 'src/net/uploader.ts:')}].`
      : `Failed uploads are retried in \`Uploader.retryFailedUploads\` [${cite(b, 'src/net/uploader.ts:')}]: it re-sends each failed item up to \`maxAttempts\` times and waits longer after each attempt.\n\n\`\`\`ts\nawait backoff(attempt);\n\`\`\``,
  }];
});

after(async () => {
  for (const wb of open) await wb.stop();
  await llm.stop();
  ws?.cleanup();
});

/** Files in the VSIX (a zip) under extension/. */
function vsixFiles(vsix: string): string[] {
  return execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8', maxBuffer: 16 << 20 }).split('\n').filter(Boolean);
}

async function start(target: PackageTarget): Promise<{ wb: Workbench; frame: Frame; installed: string }> {
  const vsix = packagedVsix(target);
  const wb = await startWorkbench({
    vsix,
    workspace: ws!.dir,
    name: `package-${target}`,
    // Tall enough that an answer with its first sources fits the panel (README screenshots).
    viewport: { width: 1080, height: 1300 },
    // Nothing may hand the extension host a native onnxruntime from elsewhere, nor force WebAssembly.
    env: { NODE_PATH: '', SIFT_ONNX_BACKEND: '' },
    settings: {
      'sift.llm.baseUrl': llm.baseURL,
      'sift.llm.model': 'test-model',
      'sift.models.embedding': TINY_EMBEDDER,
      'sift.models.reranker': TINY_RERANKER,
      'sift.models.allowDownloads': false,
      'sift.retrieval.topN': 4,
    },
  });
  open.push(wb);
  const ext = readdirSync(wb.extensionsDir).find((n) => n.startsWith('sift-dev.sift-codebase-qa-'));
  assert.ok(ext, `installed into ${wb.extensionsDir}: ${readdirSync(wb.extensionsDir).join(', ')}`);
  const installed = path.join(wb.extensionsDir, ext);
  await wb.runCommand('Sift: Open Chat in Editor');
  const frame = await wb.findWebviewFrame('#question', { timeoutMs: 60_000 });
  await frame.locator('.status[data-state="ready"]').waitFor({ timeout: 180_000 });
  return { wb, frame, installed };
}

/** Asks through the panel; returns the finished turn. */
async function ask(frame: Frame, question: string, how: '#ask' | '#compare', nth: number): Promise<Locator> {
  await frame.locator('#question').fill(question);
  await frame.locator(how).click();
  const turn = frame.locator('section.turn').nth(nth);
  await waitFor(async () => ((await turn.getAttribute('class'))?.includes('done') ? true : undefined), 180_000, `turn ${nth + 1} to finish`);
  return turn;
}

/** Writes a PNG into the run's artifacts, and into SIFT_E2E_SCREENSHOTS when set. */
async function save(wb: Workbench, file: string, take: (file: string) => Promise<unknown>): Promise<void> {
  await take(path.join(wb.artifactsDir, file));
  if (SCREENSHOTS) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await take(path.join(SCREENSHOTS, file));
  }
}

/**
 * The panel from `from` (scrolled to the top of the conversation) down to the bottom of `to` or of
 * the visible conversation, the panel's width; with `header`, the panel's status line above it.
 */
async function crop(wb: Workbench, frame: Frame, from: Locator, to: Locator, file: string, header: boolean): Promise<void> {
  await from.evaluate((e) => e.scrollIntoView({ block: 'start' }));
  const iframe = await (await frame.frameElement()).boundingBox();
  const [top, end, log] = await Promise.all([from.boundingBox(), to.boundingBox(), frame.locator('.log').boundingBox()]);
  assert.ok(iframe && top && end && log, 'the panel and the elements to crop are visible');
  const y = header ? iframe.y : top.y;
  const bottom = Math.min(end.y + end.height, log.y + log.height);
  await save(wb, file, (p) => wb.page.screenshot({ path: p, clip: { x: iframe.x, y, width: iframe.width, height: bottom - y + 4 } }));
}

async function assertAnswered(turn: Locator): Promise<void> {
  await turn.locator('.answer-body', { hasText: 'retryFailedUploads' }).waitFor({ timeout: 30_000 });
  const sources = turn.locator('li.source');
  assert.ok((await sources.count()) >= 2, 'sources listed under the answer');
  assert.match((await sources.nth(0).locator('.source-link').innerText()).trim(), /^\[1\] src\/net\/(uploader|backoff)\.ts:\d+-\d+$/);
  // The models ran: dense retrieval found sources and the cross-encoder reranked them.
  assert.ok((await turn.locator('.badge.dense').count()) > 0, 'a source found by dense retrieval');
  assert.match(await turn.locator('.q-meta').innerText(), /reranked/);
  assert.ok((await turn.locator('.rank').first().innerText()).includes('→'), 'rank before → after reranking');
}

test('the universal VSIX, with no native onnxruntime reachable, answers on WebAssembly in the workbench', { timeout: 900_000 }, async () => {
  const vsix = packagedVsix('universal');
  const files = vsixFiles(vsix);
  assert.ok(files.some((f) => f.startsWith('extension/dist/node_modules/onnxruntime-web/')), 'the universal VSIX carries onnxruntime-web');
  assert.deepEqual(files.filter((f) => /onnxruntime-node|\.node$/.test(f)), [], 'the universal VSIX carries no native onnxruntime');

  const { wb, frame, installed } = await start('universal');
  // Installed outside the repository: no node_modules above it can offer onnxruntime-node.
  const rel = path.relative(REPO_ROOT, installed);
  assert.ok(rel.startsWith('..') || path.isAbsolute(rel), `installed outside the repo: ${installed}`);
  assert.throws(() => createRequire(path.join(installed, 'dist', 'worker.js')).resolve('onnxruntime-node'), /Cannot find module 'onnxruntime-node'/);
  assert.ok(existsSync(path.join(installed, 'dist', 'node_modules', 'onnxruntime-web', 'dist', 'ort-wasm-simd-threaded.wasm')));

  const turn = await ask(frame, QUESTION, '#ask', 0);
  await assertAnswered(turn);
  const log = wb.extensionLog('Sift');
  assert.match(log, /Models run on WebAssembly onnxruntime-web \S+ \(no native onnxruntime for linux-x64: Cannot find module 'onnxruntime-node'.*; 2 threads\)/);
  assert.doesNotMatch(log, /native onnxruntime-node/);
  assert.match(log, /index ready: \d+ files, \d+ chunks; .*embedded [1-9]/);
  // README screenshots: the answer with its first sources, one source's provenance, the comparison.
  await crop(wb, frame, turn, turn.locator('li.source').nth(2), 'answer.png', true);
  const source = turn.locator('li.source').nth(0);
  await save(wb, 'provenance.png', (p) => source.screenshot({ path: p }));

  const compared = await ask(frame, 'how many attempts per file are allowed for uploads', '#compare', 1);
  assert.equal(await compared.locator('.columns.answers > .answer').count(), 2, 'two answer columns');
  assert.ok((await compared.locator('.columns.rankings .move').count()) > 0, 'movements shown');
  await crop(wb, frame, compared, compared, 'compare.png', false);
  assert.deepEqual(wb.consoleErrors(), [], 'no console errors');
  assert.doesNotMatch(wb.extensionHostLog(), /Activating extension .sift-dev\.sift-codebase-qa. failed/i);
});

test('the linux-x64 VSIX installed the same way answers on the native onnxruntime', { timeout: 600_000 }, async () => {
  const files = vsixFiles(packagedVsix('linux-x64'));
  assert.ok(files.some((f) => f.endsWith('/bin/napi-v6/linux/x64/onnxruntime_binding.node')), 'the linux-x64 VSIX carries its native binding');
  const { wb, frame } = await start('linux-x64');
  const turn = await ask(frame, QUESTION, '#ask', 0);
  await assertAnswered(turn);
  const log = wb.extensionLog('Sift');
  assert.match(log, /Models run on native onnxruntime-node \S+ \(linux-x64\)/);
  assert.doesNotMatch(log, /WebAssembly onnxruntime-web/);
  assert.deepEqual(wb.consoleErrors(), [], 'no console errors');
});
