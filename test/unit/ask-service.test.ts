/**
 * The ask service (src/vscode/askService.ts) and the chat's turn runner and history, without the
 * editor: a fake workspace port, real folders, the real worker (tiny models), a real loopback
 * OpenAI-compatible server, secret and workspace state in memory.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ToWebview, Turn } from '../../src/protocol/messages';
import { AskService } from '../../src/vscode/askService';
import { ANSWER_GRACE_MS } from '../../src/vscode/folderIndexer';
import { ChatHistory, HISTORY_KEY, MAX_TURNS } from '../../src/vscode/chatHistory';
import { TurnRunner } from '../../src/vscode/chatTurns';
import { FEEDBACK_KEY, RankingFeedback } from '../../src/vscode/feedback';
import { API_KEY_SECRET, LlmSettings } from '../../src/vscode/llmSettings';
import { MemorySecrets, MemoryState, RecordingLog, folderRef } from '../support/fakeWorkspace';
import { OpenAiTestServer } from '../support/openaiServer';
import { EmbeddingsTestServer } from '../support/embeddingsServer';
import { type Services, services, smallRepo } from '../support/editorServices';

const REPO = {
  ...smallRepo(5),
  'src/net/uploader.ts': 'export async function retryFailedUploads(queue: string[]): Promise<number> {\n  let retried = 0;\n  for (const item of queue) { retried += 1; }\n  return retried;\n}\n',
};

function askService(s: Services, opts: { secrets?: MemorySecrets; state?: MemoryState; refused?: string[] } = {}) {
  const secrets = opts.secrets ?? new MemorySecrets();
  const state = opts.state ?? new MemoryState();
  const llm = new LlmSettings({ settings: () => s.ws.readSettings(undefined), secrets, log: s.ws.log, showKeyRefused: (m) => opts.refused?.push(m) });
  const feedback = new RankingFeedback(state, s.ws.log);
  const asker = new AskService({ port: s.ws, indexer: s.indexer, models: s.models, llm, feedback, editor: { signals: () => ({}) } });
  return { asker, llm, state, secrets };
}

const question = (asker: AskService, q: string, more: { id?: string; rerank?: boolean } = {}) =>
  asker.ask(q, { rerank: more.rerank ?? false, compare: false, id: more.id, signal: new AbortController().signal, onEvent: () => undefined });

/** A promise and the function that resolves it (a gate a test opens, or a point a run reports reaching). */
function latch(): [Promise<void>, () => void] {
  let open!: () => void;
  const done = new Promise<void>((resolve) => (open = resolve));
  return [done, open];
}

describe('ask service', () => {
  const server = new OpenAiTestServer();
  before(() => server.start());
  after(() => server.stop());

  it('two concurrent first questions start exactly one worker, index once and are both answered', async () => {
    const s = services({ folders: { repo: REPO } });
    const { asker } = askService(s);
    try {
      const [a, b] = await Promise.all([question(asker, 'retryFailedUploads'), question(asker, 'where are uploads retried?')]);
      assert.equal(s.workers(), 1);
      assert.equal(s.runs.length, 1, 'one index run');
      for (const r of [a.single!, b.single!]) {
        assert.equal(r.answerKind, 'retrieval-only');
        // Lexical first: a first question is answered once the folder is keyword-searchable, with
        // dense search over whatever is embedded by then (here: all of it, or nothing yet).
        assert.ok(r.coverage && r.coverage.chunks > 0, JSON.stringify(r.coverage));
        if (r.retrieval === 'hybrid') assert.equal(r.coverage!.share, 1);
        else assert.equal(r.coverage!.embedded, 0);
        assert.ok(r.sources.length > 0);
      }
      assert.equal(a.single!.sources[0]!.path, 'src/net/uploader.ts');

      // The index is up to date and the worker stopped (a cancelled download): two questions at
      // once both need a worker before anything else starts one — exactly one more is started.
      s.models.stopWorker();
      await Promise.all([question(asker, 'retryFailedUploads', { rerank: true }), question(asker, 'upload queue', { rerank: true })]);
      assert.equal(s.runs.length, 1, 'nothing to re-index');
      assert.equal(s.workers(), 2);
    } finally {
      asker.dispose();
      await s.dispose();
    }
  });

  it('answers at once from the keyword pass\'s commits so far, saying how much they cover; later questions cover every file', async () => {
    // Held after its first commit (README.md and src/mod0.ts: discovery order, two files a commit) until released.
    const [released, release] = latch();
    const [held, reached] = latch();
    let commits = 0;
    const s = services({
      folders: { repo: REPO },
      indexOptions: { commitEveryFiles: 2 },
      gate: (e) => {
        if (e.type !== 'commit' || ++commits > 1) return;
        reached();
        return released;
      },
    });
    const { asker } = askService(s);
    try {
      const events: string[] = [];
      const asked = asker.ask('retryFailedUploads uploads', { rerank: false, compare: false, signal: new AbortController().signal, onEvent: (e) => e.type === 'notice' && events.push(e.message) });
      // The grace for a quick update is the folder indexer's timer: nothing is committed when it ends, so the question waits for the first commit.
      assert.deepEqual([...s.timers.pending.values()].map((t) => t.ms), [ANSWER_GRACE_MS]);
      s.timers.fireAll();
      await held;
      const first = (
        await asked.catch((err: unknown) => {
          throw new Error(`${String(err)}\n${s.ws.log.lines.join('\n')}`);
        })
      ).single!;
      const total = Object.keys(REPO).length;
      const notice = `keyword search covers ${Math.floor((100 * 2) / total)} % of files (2 of ${total})`;
      assert.ok(first.sources.length > 0, 'answered from the committed files');
      assert.deepEqual([...new Set(first.sources.map((x) => x.path))].filter((p) => p !== 'README.md' && p !== 'src/mod0.ts'), [], 'only committed files are searched');
      assert.ok(first.notices[0]?.includes(notice), JSON.stringify(first.notices));
      assert.ok(events[0]?.includes(notice), 'the notice is streamed before the answer');
      assert.deepEqual(s.indexer.status().folders[0]!.keyword, { searchable: 2, total, percent: Math.floor((100 * 2) / total) });

      // Released: once every file is keyword-searchable, the answer's file is found and the notice is gone.
      release();
      await s.indexer.settled();
      assert.equal(s.indexer.status().folders[0]!.keyword, undefined);
      const later = (await question(asker, 'retryFailedUploads uploads')).single!;
      assert.equal(later.sources[0]!.path, 'src/net/uploader.ts');
      assert.ok(!later.notices.some((n) => n.includes('keyword search covers')), JSON.stringify(later.notices));
      assert.equal(s.timers.pending.size, 0, 'no grace timer when every folder is searchable');
    } finally {
      release();
      asker.dispose();
      await s.dispose();
    }
  });

  it('an update still running after the grace: answered from the index as it was, saying how much is current', async () => {
    const [released, release] = latch();
    const [held, reached] = latch();
    const s = services({
      folders: { repo: REPO },
      // The second run (the update) is held after its plan, before it commits anything.
      gate: (e, self) => {
        if (e.type !== 'plan' || self.runs.length !== 2) return;
        reached();
        return released;
      },
    });
    const { asker } = askService(s);
    try {
      await s.indexer.ensureIndexed();
      const repo = folderRef(s.roots[0]!);
      writeFileSync(path.join(repo.fsPath, 'src', 'mod1.ts'), 'export function zanzibarTokenRefresh(): number {\n  return 1;\n}\n');
      s.ws.fileChanged(repo, 'src/mod1.ts');
      const asked = question(asker, 'zanzibarTokenRefresh');
      await held;
      // The grace ends (and the watcher's debounce: the update already runs) with the update still running.
      assert.ok([...s.timers.pending.values()].some((t) => t.ms === ANSWER_GRACE_MS));
      s.timers.fireAll();
      const stale = (await asked).single!;
      const total = Object.keys(REPO).length;
      assert.ok(!stale.sources.some((x) => x.text.includes('zanzibar')), 'the edit is not indexed yet');
      assert.ok(stale.notices[0]?.includes(`keyword search covers ${Math.floor((100 * (total - 1)) / total)} % of files (${total - 1} of ${total})`), JSON.stringify(stale.notices));

      release();
      await s.indexer.settled();
      const fresh = (await question(asker, 'zanzibarTokenRefresh')).single!;
      assert.equal(fresh.sources[0]!.path, 'src/mod1.ts');
      assert.ok(!fresh.notices.some((n) => n.includes('keyword search covers')), JSON.stringify(fresh.notices));
    } finally {
      release();
      asker.dispose();
      await s.dispose();
    }
  });

  it('a file saved during the dense pass: embedding makes way, the change is answered while the dense pass is still held, then every chunk is embedded exactly once', async () => {
    const WORD = 'quokkaSentinelRefresh';
    const embeddings = new EmbeddingsTestServer();
    await embeddings.start();
    // A busy embedding server, so the dense pass cannot finish meanwhile: of the repository's batches only
    // one is answered — the first to arrive that is not the pass's first batch (the README's chunk, which the
    // pass awaits: the answered one comes in ahead of it, not yet committed when the pass makes way). Every
    // other batch waits until released, or until its request is aborted. The probe of each run, the
    // question and batches with the saved file's new chunk are answered.
    const [released, release] = latch();
    let answeredBeforeSave: readonly string[] | undefined;
    embeddings.hold = (_n, input, gone) => {
      if (input[0] === 'probe' || input.some((t) => t.includes(WORD))) return undefined;
      if (!answeredBeforeSave && !input.some((t) => t.startsWith('README.md'))) {
        answeredBeforeSave = input;
        return undefined;
      }
      return Promise.race([released, gone]);
    };
    const s = services({
      folders: { repo: { ...smallRepo(30), 'src/net/uploader.ts': REPO['src/net/uploader.ts'] } },
      settings: { 'embedding.provider': 'openai-compatible', 'embedding.baseUrl': embeddings.baseURL, 'embedding.batchSize': 2, 'embedding.concurrency': 2 },
    });
    const { asker } = askService(s);
    // Wakes on status changes and server requests (no polling).
    let wake = () => undefined as void;
    const until = async (cond: () => boolean) => {
      while (!cond()) await new Promise<void>((resolve) => (wake = resolve));
    };
    const seen: { state: string; running?: boolean; percent?: number }[] = [];
    let watching = false;
    s.indexer.onDidChangeStatus((st) => {
      const f = st.folders[0]!;
      if (f.dense?.running) watching = true;
      if (watching) seen.push({ state: f.state, running: f.dense?.running, percent: f.dense?.percent });
      wake();
    });
    embeddings.onRequest = () => wake();
    try {
      const built = s.indexer.ensureIndexed();
      // The probe, the held first batch, the answered one, and the batch sent when that answer reached the
      // pass (two requests at a time): the answer is in the pass's hands when the file is saved.
      await until(() => s.indexer.status().folders[0]!.dense?.running === true && embeddings.requests.length >= 4);
      assert.equal(answeredBeforeSave?.length, 2);
      const repo = folderRef(s.roots[0]!);
      writeFileSync(path.join(repo.fsPath, 'src', 'mod3.ts'), `export function ${WORD}(): number {\n  return 3;\n}\n`);
      s.ws.fileChanged(repo, 'src/mod3.ts');
      s.timers.fireAll(); // the watcher's debounce
      const r = (await question(asker, WORD)).single!;
      // Answered while the first dense pass's batches are still held: the update ran in between.
      assert.equal(r.sources[0]!.path, 'src/mod3.ts');
      assert.ok(!r.notices.some((n) => /not indexed yet|keyword search covers/.test(n)), JSON.stringify(r.notices));
      const during = s.indexer.status().folders[0]!;
      assert.equal(during.state, 'indexing');
      assert.ok(during.dense!.running && during.dense!.percent < 100, JSON.stringify(during.dense));
      assert.deepEqual(s.runs.map((x) => x.changedPaths), [undefined, ['src/mod3.ts']], 'a full build, then the update of the saved file');
      assert.deepEqual(s.priorities[1], ['src/mod3.ts'], 'the continued dense pass embeds the changed file first');
      assert.ok(s.ws.log.lines.includes('info [repo] embedding makes way for 1 saved change; it continues after them.'), s.ws.log.lines.join('\n'));

      release();
      await built;
      await s.indexer.settled();
      const after = s.indexer.status().folders[0]!;
      assert.equal(after.state, 'ready');
      assert.equal(after.dense!.percent, 100);
      assert.equal(after.dense!.embedded, after.chunks);
      // Every chunk embedded exactly once: the batch answered before the save was committed when the pass
      // made way (never sent again); the held ones were aborted unanswered and embedded after the update.
      const twice = embeddings.duplicates().filter((t) => t !== WORD && t !== 'probe');
      assert.deepEqual(twice, [], `embedded twice: ${JSON.stringify(twice)}`);
      assert.ok(answeredBeforeSave!.every((t) => embeddings.embedded.get(t) === 1));
      assert.ok([...embeddings.embedded.keys()].some((t) => t.includes(`function ${WORD}`)), 'the saved file\'s new chunk is embedded');
      assert.ok(!s.ws.log.lines.some((l) => l.includes('indexing stopped')), 'not a pause or a cancel');
      // From the first dense status to the last batch: indexing with the dense pass running, never "stopped"
      // or idle in between (the switch to the update and back does not show).
      const last = seen.length - 1 - [...seen].reverse().findIndex((x) => x.running === true);
      assert.ok(last > 0 && seen.at(-1)!.state === 'ready');
      assert.deepEqual(seen.slice(0, last).filter((x) => x.state !== 'indexing' || !x.running), [], JSON.stringify(seen));
      const hybrid = (await question(asker, WORD)).single!;
      assert.equal(hybrid.retrieval, 'hybrid');
      assert.equal(hybrid.sources[0]!.path, 'src/mod3.ts');
    } finally {
      release();
      asker.dispose();
      await s.dispose();
      await embeddings.stop();
    }
  });

  it('a question during the update that interrupted an hour-long dense pass still gets the grace for a quick update', async () => {
    let clock = 0;
    const [denseHeld, reachedDense] = latch();
    const [updateHeld, reachedUpdate] = latch();
    const [updateReleased, releaseUpdate] = latch();
    const s = services({
      now: () => clock,
      folders: { repo: REPO },
      indexOptions: { embedBatch: 1, embedCommitChunks: 1 },
      gate: (e, self) => {
        // The first run's dense pass is held until it is aborted; the update is held after its plan (in its keyword pass).
        if (self.runs.length === 1 && e.type === 'dense') {
          reachedDense();
          return new Promise<void>(() => undefined);
        }
        if (self.runs.length === 2 && e.type === 'plan') {
          reachedUpdate();
          return updateReleased;
        }
      },
    });
    const { asker } = askService(s);
    try {
      const built = s.indexer.ensureIndexed();
      await denseHeld;
      clock += 3_600_000; // the dense pass has run for an hour
      const repo = folderRef(s.roots[0]!);
      writeFileSync(path.join(repo.fsPath, 'src', 'mod1.ts'), 'export function numbatCacheFlush(): number {\n  return 1;\n}\n');
      s.ws.fileChanged(repo, 'src/mod1.ts');
      s.timers.fireAll(); // the watcher's debounce: the dense pass makes way
      await updateHeld;
      const asked = question(asker, 'numbatCacheFlush');
      assert.deepEqual([...s.timers.pending.values()].map((t) => t.ms), [ANSWER_GRACE_MS], 'the update is a quick one: counted from its own start, not the first build\'s');
      releaseUpdate();
      const r = (await asked).single!;
      assert.equal(r.sources[0]!.path, 'src/mod1.ts');
      assert.ok(!r.notices.some((n) => /not indexed yet|keyword search covers/.test(n)), JSON.stringify(r.notices));
      await built;
      await s.indexer.settled();
      assert.equal(s.indexer.status().folders[0]!.state, 'ready');
      assert.equal(s.indexer.status().folders[0]!.dense!.percent, 100);
      assert.deepEqual(s.runs.map((x) => x.changedPaths), [undefined, ['src/mod1.ts']]);
    } finally {
      releaseUpdate();
      asker.dispose();
      await s.dispose();
    }
  });

  it('a file saved during the keyword pass does not interrupt it: the update follows at its end, then embedding', async () => {
    const [released, release] = latch();
    const [held, reached] = latch();
    let commits = 0;
    const firstRun: string[] = [];
    const s = services({
      folders: { repo: REPO },
      indexOptions: { commitEveryFiles: 2 },
      onEvent: (e, self) => {
        if (self.runs.length === 1) firstRun.push(e.type);
      },
      // The first run is held after its keyword pass's first commit.
      gate: (e, self) => {
        if (e.type !== 'commit' || self.runs.length !== 1 || ++commits > 1) return;
        reached();
        return released;
      },
    });
    const { asker } = askService(s);
    try {
      const built = s.indexer.ensureIndexed();
      await held;
      const repo = folderRef(s.roots[0]!);
      writeFileSync(path.join(repo.fsPath, 'src', 'mod1.ts'), 'export function wombatLedgerSync(): number {\n  return 1;\n}\n');
      s.ws.fileChanged(repo, 'src/mod1.ts');
      s.timers.fireAll();
      assert.equal(s.runs.length, 1);
      release();
      await built;
      await s.indexer.settled();
      // The keyword pass ran to its end (every commit, then lexical-ready); the embedding made way at once.
      assert.ok(firstRun.includes('lexical-ready'), firstRun.join(' '));
      assert.ok(!s.ws.log.lines.some((l) => l.includes('indexing stopped')), s.ws.log.lines.join('\n'));
      assert.deepEqual(s.runs.map((x) => x.changedPaths), [undefined, ['src/mod1.ts']], 'no full walk again: the keyword pass was not cancelled');
      const st = s.indexer.status().folders[0]!;
      assert.equal(st.state, 'ready');
      assert.equal(st.dense!.percent, 100);
      const r = (await question(asker, 'wombatLedgerSync')).single!;
      assert.equal(r.sources[0]!.path, 'src/mod1.ts');
    } finally {
      release();
      asker.dispose();
      await s.dispose();
    }
  });

  it('paused with a saved change waiting: answered from the index as it was, saying what is not indexed and why', async () => {
    const s = services({ folders: { repo: REPO } });
    const { asker } = askService(s);
    try {
      await s.indexer.ensureIndexed();
      s.indexer.pause();
      const repo = folderRef(s.roots[0]!);
      writeFileSync(path.join(repo.fsPath, 'src', 'mod2.ts'), 'export const pausedEdit = 1;\n');
      s.ws.fileChanged(repo, 'src/mod2.ts');
      const r = (await question(asker, 'retryFailedUploads')).single!;
      assert.equal(r.sources[0]!.path, 'src/net/uploader.ts');
      assert.equal(r.notices[0], 'Answered from the index as it was; not indexed yet: 1 changed file (indexing is paused: Sift: Resume Indexing).');
      assert.equal(s.runs.length, 1, 'nothing indexed while paused');
    } finally {
      asker.dispose();
      await s.dispose();
    }
  });

  it('refuses to answer in an untrusted workspace or without a folder, with what to do', async () => {
    const untrusted = services({ folders: { repo: REPO }, trusted: false });
    const empty = services({ folders: {} });
    try {
      await assert.rejects(question(askService(untrusted).asker, 'x'), /not trusted.*Trust the workspace/);
      await assert.rejects(question(askService(empty).asker, 'x'), /Open a folder first/);
      assert.equal(untrusted.workers() + empty.workers(), 0);
    } finally {
      await untrusted.dispose();
      await empty.dispose();
    }
  });

  it('sends the stored API key only to the origin it was stored for, and says so once otherwise', async () => {
    server.script = [{ kind: 'answer', text: 'It is in uploader.ts [1].' }];
    const s = services({ folders: { repo: REPO }, settings: { 'llm.baseUrl': server.baseURL, 'llm.model': 'test-model' } });
    const secrets = new MemorySecrets();
    const refused: string[] = [];
    const { asker, llm } = askService(s, { secrets, refused });
    try {
      // A key stored before keys carried an origin is bound to the user's endpoint on first use.
      secrets.values.set(API_KEY_SECRET, 'sk-legacy-1234');
      const r = await question(asker, 'retryFailedUploads');
      assert.equal(r.single!.answerKind, 'llm');
      assert.equal(server.requests.at(-1)!.headers.authorization, 'Bearer sk-legacy-1234');
      assert.deepEqual(JSON.parse(secrets.values.get(API_KEY_SECRET)!), { key: 'sk-legacy-1234', origin: new URL(server.baseURL).origin });

      // The endpoint moves to another origin: the key stays home, and the user is told once.
      s.ws.settings['llm.baseUrl'] = server.baseURL.replace('127.0.0.1', 'localhost');
      await question(asker, 'retryFailedUploads');
      await question(asker, 'retryFailedUploads');
      assert.doesNotMatch(String(server.requests.at(-1)!.headers.authorization), /sk-legacy/, 'the key did not go to the other origin');
      assert.equal(refused.length, 1);
      assert.match(refused[0]!, /did not send your API key to http:\/\/localhost:\d+: it was stored for http:\/\/127\.0\.0\.1:\d+/);
      assert.deepEqual(await llm.apiKeyTarget(), { endpoint: new URL(s.ws.settings['llm.baseUrl']).origin, storedFor: new URL(server.baseURL).origin });
    } finally {
      asker.dispose();
      await s.dispose();
    }
  });

  it('learns from a source opened after a learning-to-rank answer, stored in workspace state', async () => {
    const s = services({ folders: { repo: REPO }, settings: { 'ltr.enabled': true, 'ltr.learnFromOpens': true } });
    const { asker, state } = askService(s);
    try {
      const r = await question(asker, 'retryFailedUploads', { id: 't1', rerank: true });
      assert.ok(r.single!.reranked && r.single!.sources.length >= 2);
      await asker.noteOpened('t1', 'reranked', 2);
      assert.ok(state.get(FEEDBACK_KEY), 'feedback stored');
      assert.ok(s.ws.log.lines.some((l) => /^info Ranking feedback: source 2 opened \(\d+ pairs; \d+ stored from 1 opens\)/.test(l)), s.ws.log.lines.join('\n'));
    } finally {
      asker.dispose();
      await s.dispose();
    }
  });
});

describe('chat turns and history', () => {
  it('runs a turn through the ask service, streams it and stores it; the history parses on load', async () => {
    const s = services({ folders: { repo: REPO } });
    const state = new MemoryState();
    const { asker } = askService(s, { state });
    const log = new RecordingLog();
    const sent: ToWebview[] = [];
    try {
      const history = new ChatHistory(state, log);
      const runner = new TurnRunner(history, asker, (m) => sent.push(m), log);
      await runner.run('retryFailedUploads', false, false);
      const turn = history.all()[0]!;
      assert.equal(turn.status, 'done');
      assert.equal(turn.answers[0]!.sources[0]!.path, 'src/net/uploader.ts');
      assert.deepEqual(sent.map((m) => m.type).filter((t, i, a) => a.indexOf(t) === i), ['turn']);
      assert.ok(log.lines.some((l) => /^info Q "retryFailedUploads" \[(hybrid|lexical-only)\] \d+ candidates → \d+ sources; embed/.test(l)));
      const reloaded = new ChatHistory(state, log);
      assert.deepEqual(reloaded.all(), history.all());
    } finally {
      asker.dispose();
      await s.dispose();
    }
  });

  it('drops a stored turn that does not fit the protocol (with a log line), keeps the rest, shows running turns as stopped', () => {
    const state = new MemoryState();
    const log = new RecordingLog();
    const good = (id: string, status: Turn['status'] = 'done'): Turn => ({ id, question: 'q', compare: false, rerank: true, askedAt: '2026-01-01T00:00:00Z', status, answers: [] });
    void state.update(HISTORY_KEY, [good('a'), { id: 'b', question: 42 }, good('c', 'running')]);
    const history = new ChatHistory(state, log);
    assert.deepEqual(history.all().map((t) => [t.id, t.status]), [
      ['a', 'done'],
      ['c', 'stopped'],
    ]);
    assert.equal(log.lines.filter((l) => l.startsWith('warn Chat history: turn 1 dropped')).length, 1, log.lines.join('\n'));
    for (let i = 0; i < MAX_TURNS + 5; i++) history.add(good(`n${i}`));
    assert.equal(history.all().length, MAX_TURNS);
    assert.equal(history.all()[0]!.id, 'n5');
  });
});
