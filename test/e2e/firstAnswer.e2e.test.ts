/**
 * Issue 17 as a user meets it, in the real workbench (code-server + Chromium): a fresh workspace,
 * embedded by an OpenAI-compatible server the user runs (a real loopback server speaking the
 * embeddings wire format, vectors from the tiny test model, each request answered after a delay, as
 * a busy GPU box would). The first question is answered as soon as every file is keyword-searchable —
 * long before embedding finishes — and the answer and the status bar say how much dense search
 * covers. Once the server is fast again embedding completes, every chunk was embedded once, and the
 * next answer carries no coverage note.
 */
import assert from 'node:assert/strict';
import type { Frame } from 'playwright-core';
import { after, before, test } from 'node:test';
import { writeSourceRepo } from '../../scripts/bench/corpus';
import { TINY_EMBEDDER, TINY_RERANKER, tempDir, writeTree } from '../helpers';
import { EmbeddingsTestServer } from '../support/embeddingsServer';
import { OpenAiTestServer } from '../support/openaiServer';
import { REPO } from '../support/repo';
import { buildVsix, startWorkbench, waitFor, type Workbench } from './harness';

let wb: Workbench | undefined;
let ws: { dir: string; cleanup: () => void } | undefined;
const llm = new OpenAiTestServer();
const embeddings = new EmbeddingsTestServer();

before(async () => {
  ws = tempDir('sift-e2e-first-answer-');
  writeTree(ws.dir, REPO);
  // ~2,800 chunks besides the fixture: the keyword pass takes seconds.
  writeSourceRepo(ws.dir, 800, { seed: 17, functionsPerFile: 3 });
  await llm.start();
  llm.script = [{ kind: 'answer', text: () => 'Failed uploads are retried in `retryFailedUploads` [1].', pieces: 4 }];
  await embeddings.start();
  // The server answers the first 17 batches (> 1,024 chunks: one dense commit) at once, then slows
  // down to 5 s per batch (the rest would take over a minute) until the test lets it go. Questions
  // (one text) are never slowed.
  embeddings.delayFor = (_n, input) => (input.length > 1 && ++documentRequests > 17 ? slowMs : 0);
});

let documentRequests = 0;
let slowMs = 5000;

after(async () => {
  await wb?.stop();
  await llm.stop();
  await embeddings.stop();
  ws?.cleanup();
});

async function statusBarText(w: Workbench): Promise<string> {
  return (await w.page.locator('.statusbar-item', { hasText: 'Sift' }).allInnerTexts()).join(' | ');
}

async function askAndWait(frame: Frame, question: string, nth: number) {
  await frame.locator('#question').fill(question);
  await frame.locator('#ask').click();
  const turn = frame.locator('section.turn').nth(nth);
  await waitFor(async () => ((await turn.getAttribute('class'))?.includes('done') ? true : undefined), 120_000, `answer ${nth + 1}`);
  return turn;
}

test('a fresh workspace answers before embedding finishes, says how much is embedded, and completes embedding on a remote server', { timeout: 600_000 }, async () => {
  wb = await startWorkbench({
    vsix: buildVsix(),
    workspace: ws!.dir,
    name: 'first-answer',
    settings: {
      'sift.llm.baseUrl': llm.baseURL,
      'sift.llm.model': 'test-model',
      'sift.embedding.provider': 'openai-compatible',
      'sift.embedding.baseUrl': embeddings.baseURL,
      'sift.embedding.model': 'tiny-embedder',
      'sift.embedding.batchSize': 64,
      'sift.embedding.concurrency': 2,
      'sift.models.embedding': TINY_EMBEDDER,
      'sift.models.reranker': TINY_RERANKER,
      'sift.models.allowDownloads': false,
    },
  });
  const { page } = wb;
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } });
  await page.keyboard.press('Control+Alt+KeyQ');
  const frame = await wb.findWebviewFrame('#question', { timeoutMs: 60_000 });

  // 1. Every file keyword-searchable, embedding under way and partly committed: the status bar and
  //    the panel show coverage, not files.
  await waitFor(async () => (/Sift: [1-9]\d?% embedded/.test(await statusBarText(wb!)) ? true : undefined), 180_000, 'the status bar to show part of the chunks embedded');
  assert.match(await frame.locator('.status').innerText(), /Searchable by keywords · embedding [1-9]\d? %/);
  await wb.screenshot('01-embedding-under-way');

  // 2. The first question is answered now, from what is ready, and says how much dense search covers.
  //    (Reranking off: the tiny cross-encoder's order is not what this test is about.)
  await frame.locator('#rerank-toggle').uncheck();
  const first = await askAndWait(frame, 'where is retryFailedUploads implemented?', 0);
  assert.match(await first.locator('.answer-body').innerText(), /retryFailedUploads/);
  const firstSources = await first.locator('li.source .source-link').allInnerTexts();
  assert.ok(firstSources.some((s) => s.includes('src/net/uploader.ts')), firstSources.join('\n'));
  const note = (await first.locator('.answer .muted.small').allInnerTexts()).find((t) => /Dense search covers/.test(t));
  assert.ok(note, 'the answer says how much dense search covers');
  const pct = Number(/covers (\d+) %/.exec(note)![1]);
  assert.ok(pct > 0 && pct < 100, note);
  assert.match(await first.locator('.timings').innerText(), /hybrid/, 'hybrid where embedded');
  await wb.screenshot('02-first-answer-partial-coverage');

  // 3. The server speeds up: embedding completes, each chunk embedded once, and the next answer has no note.
  slowMs = 0;
  await waitFor(async () => (/Sift: [\d,]+ chunks/.test(await statusBarText(wb!)) ? true : undefined), 240_000, 'the status bar to show the index ready');
  assert.deepEqual(embeddings.duplicates(), [], 'no chunk embedded twice');
  const second = await askAndWait(frame, 'how many attempts per file are allowed for uploads', 1);
  const notes = await second.locator('.answer .muted.small').allInnerTexts();
  assert.ok(!notes.some((t) => /Dense search covers|Keyword \(BM25\) retrieval only/.test(t)), notes.join('\n'));
  assert.match(await second.locator('.timings').innerText(), /hybrid/);
  await wb.screenshot('03-embedded');
});
