/**
 * The panel's conversations, `@` completion and pinned selections, without the editor: the
 * history in memory-backed workspace state, and the ask service with a fake workspace port over
 * real folders, the real worker (tiny models) and real indexes on disk.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Turn } from '../../src/protocol/messages';
import { AskService } from '../../src/vscode/askService';
import { selectionPin, summariesOf } from '../../src/vscode/chatConversation';
import { ChatHistory, HISTORY_KEY, MAX_CONVERSATIONS, MAX_STORED_CHARS } from '../../src/vscode/chatHistory';
import { ChatMentions } from '../../src/vscode/chatMentions';
import { RankingFeedback } from '../../src/vscode/feedback';
import { LlmSettings } from '../../src/vscode/llmSettings';
import { MemorySecrets, MemoryState, RecordingLog } from '../support/fakeWorkspace';
import { type Services, services } from '../support/editorServices';
import { REPO } from '../support/repo';

const KEY = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';

const turn = (id: string, conversationId: string, question: string, askedAt: string, over: Partial<Turn> = {}): Turn => ({
  id,
  conversationId,
  question,
  compare: false,
  rerank: true,
  askedAt,
  status: 'done',
  answers: [{ variant: 'reranked', retrieval: 'lexical-only', reranked: true, answerKind: 'llm', answer: `answer to ${question}`, citations: [], sources: [], ranking: [], notices: [] }],
  ...over,
});

describe('panel conversations', () => {
  it('lists conversations most recent first (title from the first question, date, turns); opens, deletes, starts new; a reload keeps the list and the current one', async () => {
    const state = new MemoryState();
    const log = new RecordingLog();
    const h = new ChatHistory(state, log);
    h.add(turn('1', 'c1', 'how are\n errors handled?', '2026-01-01T10:00:00.000Z'));
    h.add(turn('2', 'c1', 'and how is that tested?', '2026-01-01T10:05:00.000Z'));
    h.add(turn('3', 'c2', 'where do we retry uploads?', '2026-01-02T09:00:00.000Z'));
    h.add(turn('4', 'c2', 'compare it', '2026-01-02T09:01:00.000Z', { compare: true, rerank: false }));
    await h.save();
    assert.deepEqual(h.summaries(), [
      { id: 'c2', title: 'where do we retry uploads?', startedAt: '2026-01-02T09:00:00.000Z', updatedAt: '2026-01-02T09:01:00.000Z', turns: 2 },
      { id: 'c1', title: 'how are errors handled?', startedAt: '2026-01-01T10:00:00.000Z', updatedAt: '2026-01-01T10:05:00.000Z', turns: 2 },
    ]);
    // After a reload: the list is back and the most recent conversation is current, with its compare turn.
    const again = new ChatHistory(state, log);
    assert.deepEqual(again.summaries().map((s) => s.id), ['c2', 'c1']);
    assert.equal(again.conversationId, 'c2');
    assert.deepEqual(again.shown().map((t) => t.id), ['3', '4']);
    // Reopen c1: its turns are shown and follow-ups continue it.
    assert.equal(again.open('c1'), true);
    assert.deepEqual(again.shown().map((t) => t.id), ['1', '2']);
    assert.deepEqual(again.conversation().turns.map((t) => t.question), ['how are\n errors handled?', 'and how is that tested?']);
    assert.equal(again.open('no-such'), false);
    assert.equal(again.conversationId, 'c1');
    // Delete the current one: a new, empty conversation is current; the other stays, stored.
    await again.delete('c1');
    assert.notEqual(again.conversationId, 'c1');
    assert.deepEqual(again.shown(), []);
    assert.deepEqual(new ChatHistory(state, log).summaries().map((s) => s.id), ['c2']);
    again.newConversation();
    assert.equal(again.conversation().turns.length, 0);
  });

  it('a damaged stored entry is dropped with a log line, never the list; turns stored before conversations form one', () => {
    const state = new MemoryState();
    const log = new RecordingLog();
    void state.update(HISTORY_KEY, [turn('1', 'c1', 'q1', '2026-01-01T00:00:00Z'), { id: 7, conversationId: ['x'] }, { ...turn('3', 'c1', 'q3', '2026-01-01T00:01:00Z'), conversationId: undefined }]);
    const h = new ChatHistory(state, log);
    assert.deepEqual(h.summaries().map((s) => [s.title, s.turns]), [
      ['q3', 1],
      ['q1', 1],
    ]);
    assert.equal(log.lines.filter((l) => /Chat history: turn 1 dropped/.test(l)).length, 1, log.lines.join('\n'));
    // Not an array at all: an empty list, and the panel still starts.
    void state.update(HISTORY_KEY, { turns: 'nope' });
    assert.deepEqual(new ChatHistory(state, log).summaries(), []);
  });

  it('bounded: beyond MAX_CONVERSATIONS or the stored size, the least recently active conversations go first (the current one stays)', async () => {
    const state = new MemoryState();
    const log = new RecordingLog();
    const h = new ChatHistory(state, log);
    for (let i = 0; i < MAX_CONVERSATIONS + 3; i++) h.add(turn(`t${i}`, `c${i}`, `question ${i}`, new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString()));
    assert.equal(h.summaries().length, MAX_CONVERSATIONS);
    assert.deepEqual(h.summaries().at(-1)!.id, 'c3', 'c0..c2 dropped');
    assert.ok(log.lines.some((l) => /the conversation "question 0" \(1 turns\) was dropped/.test(l)), log.lines.join('\n'));
    // Size: big answers (each ~900 kB) — the stored JSON stays under the bound.
    const big = 'x'.repeat(900_000);
    for (let i = 0; i < 8; i++) h.add(turn(`b${i}`, `big${i}`, `big ${i}`, new Date(Date.UTC(2026, 1, 1, 0, i)).toISOString(), { answers: [{ ...turn('', '', '', '').answers[0]!, answer: big }] }));
    h.open('big7');
    await h.save();
    const stored = JSON.stringify(state.get(HISTORY_KEY));
    assert.ok(stored.length <= MAX_STORED_CHARS, `${stored.length} characters stored`);
    assert.ok(stored.includes('"big 7"'), 'the current conversation is kept');
  });

  it('finished turns are stored and shown with keys redacted (question, answer, sources, pinned text)', async () => {
    const state = new MemoryState();
    const h = new ChatHistory(state, new RecordingLog());
    const t = turn('1', 'c1', `is ${KEY} still valid?`, '2026-01-01T00:00:00Z');
    t.answers[0]!.answer = `The key ${KEY} is in [1].`;
    t.answers[0]!.sources = [{ n: 1, path: 'config.ts', startLine: 1, endLine: 1, language: 'typescript', symbols: [], retrievers: ['lexical'], rankBefore: 1, rankAfter: 1, scores: { fused: 1 }, chunks: 1, text: `const token = "${KEY}";` }];
    t.scope = { pins: [{ path: 'config.ts', startLine: 1, endLine: 1, language: 'typescript', text: `const token = "${KEY}";` }] };
    h.add(t);
    const shown = h.finish(t);
    assert.equal(shown.scope?.pins?.[0]?.path, 'config.ts', 'the scope is kept for Retry');
    await h.save();
    for (const text of [JSON.stringify(shown), JSON.stringify(state.get(HISTORY_KEY)), JSON.stringify(h.summaries())]) assert.ok(!text.includes(KEY), text.slice(0, 300));
    assert.match(shown.question, /^is .+ still valid\?$/);
  });

  it('summaries of turns without a conversation id group them as one earlier conversation', () => {
    assert.equal(summariesOf([{ ...turn('1', 'x', 'q', '2026-01-01T00:00:00Z'), conversationId: undefined }])[0]!.turns, 1);
  });
});

describe('pinned selections (Ask About Selection, #selection)', () => {
  it('a selection becomes a pin relative to its folder, folder-qualified in multi-root; outside every folder or empty: none', () => {
    const roots = [{ name: '', root: '/ws/app' }];
    assert.deepEqual(selectionPin({ file: '/ws/app/src/a.ts', startLine: 3, endLine: 5, text: 'a\nb\nc', language: 'typescript' }, roots, '/'), { path: 'src/a.ts', startLine: 3, endLine: 5, language: 'typescript', text: 'a\nb\nc' });
    const multi = [
      { name: 'app', root: '/ws/app' },
      { name: 'lib', root: '/ws/app-lib' },
    ];
    assert.equal(selectionPin({ file: '/ws/app-lib/x.py', startLine: 1, endLine: 1, text: 'x', language: 'python' }, multi, '/')?.folder, 'lib');
    assert.equal(selectionPin({ file: '/elsewhere/x.py', startLine: 1, endLine: 1, text: 'x', language: 'python' }, multi, '/'), undefined);
    assert.equal(selectionPin({ file: '/ws/app/x.py', startLine: 1, endLine: 1, text: '  \n ', language: 'python' }, multi, '/'), undefined);
    // The end line never claims more lines than the text has.
    assert.equal(selectionPin({ file: '/ws/app/x.py', startLine: 10, endLine: 99, text: 'one\ntwo', language: 'python' }, roots, '/')?.endLine, 11);
  });
});

function askService(s: Services) {
  const llm = new LlmSettings({ settings: () => s.ws.readSettings(undefined), secrets: new MemorySecrets(), log: s.ws.log, showKeyRefused: () => undefined });
  return new AskService({ port: s.ws, indexer: s.indexer, models: s.models, llm, feedback: new RankingFeedback(new MemoryState(), s.ws.log), editor: { signals: () => ({}) } });
}

const ask = (asker: AskService, q: string, more: { paths?: string[]; pins?: Parameters<AskService['ask']>[1]['pins'] } = {}) =>
  asker.ask(q, { rerank: false, compare: false, signal: new AbortController().signal, onEvent: () => undefined, conversation: { id: 'c', turns: [] }, ...more });

describe('mentions and pins through the ask service (real index)', () => {
  it('@file keeps the file in the context without restricting; @folder/ restricts; a symbol’s file via paths; a pin is a source with its exact lines', async () => {
    const s = services({ folders: { repo: REPO } });
    const asker = askService(s);
    try {
      await s.indexer.ensureIndexed();
      const fileMention = (await ask(asker, '@src/net/backoff.ts where do we retry failed uploads?')).single!;
      const paths = fileMention.sources.map((x) => x.path);
      assert.equal(paths[0], 'src/net/backoff.ts', paths.join(', '));
      assert.ok(fileMention.sources[0]!.carried === 'mentioned');
      assert.ok(paths.includes('src/net/uploader.ts'), `a mentioned file does not restrict: ${paths.join(', ')}`);

      const folder = (await ask(asker, '@src/auth/ where do we retry failed uploads?')).single!;
      assert.ok(folder.sources.length > 0 && folder.sources.every((x) => x.path.startsWith('src/auth/')), folder.sources.map((x) => x.path).join(', '));

      const symbol = (await ask(asker, 'what does @backoff do?', { paths: ['src/net/backoff.ts'] })).single!;
      assert.equal(symbol.sources[0]!.path, 'src/net/backoff.ts');

      const pin = { path: 'src/config/loader.go', startLine: 2, endLine: 3, language: 'go', text: 'PINNED LINE TWO\nPINNED LINE THREE' };
      const pinned = (await ask(asker, 'where do we retry failed uploads?', { pins: [pin] })).single!;
      const first = pinned.sources[0]!;
      assert.deepEqual([first.path, first.startLine, first.endLine], ['src/config/loader.go', 2, 3]);
      assert.match(first.text, /PINNED LINE TWO\nPINNED LINE THREE/);
      assert.ok(pinned.sources.some((x) => x.path === 'src/net/uploader.ts'), 'the rest is retrieved as usual');
    } finally {
      asker.dispose();
      await s.dispose();
    }
  });

  it('Compare: a mentioned folder narrows both answers, a mentioned file and a pin lead both (as in a single answer)', async () => {
    const s = services({ folders: { repo: REPO } });
    const asker = askService(s);
    const compare = (q: string, more: { pins?: Parameters<AskService['ask']>[1]['pins'] } = {}) =>
      asker.ask(q, { rerank: true, compare: true, signal: new AbortController().signal, onEvent: () => undefined, conversation: { id: 'c', turns: [] }, ...more });
    try {
      await s.indexer.ensureIndexed();
      const folder = (await compare('@src/auth/ where do we retry failed uploads?')).compare!;
      for (const side of [folder.reranked, folder.notReranked]) {
        assert.ok(side.sources.length > 0 && side.sources.every((x) => x.path.startsWith('src/auth/')), side.sources.map((x) => x.path).join(', '));
      }
      const file = (await compare('@src/net/backoff.ts where do we retry failed uploads?')).compare!;
      for (const side of [file.reranked, file.notReranked]) assert.equal(side.sources[0]!.path, 'src/net/backoff.ts');
      const pin = { path: 'src/config/loader.go', startLine: 2, endLine: 3, language: 'go', text: 'PINNED LINE TWO\nPINNED LINE THREE' };
      const pinned = (await compare('where do we retry failed uploads?', { pins: [pin] })).compare!;
      for (const side of [pinned.reranked, pinned.notReranked]) {
        assert.deepEqual([side.sources[0]!.path, side.sources[0]!.startLine, side.sources[0]!.endLine], ['src/config/loader.go', 2, 3]);
        assert.match(side.sources[0]!.text, /PINNED LINE TWO/);
      }
    } finally {
      asker.dispose();
      await s.dispose();
    }
  });

  it('@ completion lists files, folders and symbols from the index, builds its catalog once per index version, and fails soft', async () => {
    const s = services({ folders: { repo: REPO } });
    const asker = askService(s);
    const log = new RecordingLog();
    try {
      await s.indexer.ensureIndexed();
      const mentions = new ChatMentions(() => asker.indexes(), log);
      const upl = await mentions.complete('upl');
      assert.deepEqual(upl.items.slice(0, 2).map((i) => [i.kind, i.insert]), [
        ['file', 'src/net/uploader.ts'],
        ['file', 'docs/upload-guide.md'],
      ]);
      assert.ok((await mentions.complete('src/n')).items.some((i) => i.kind === 'folder' && i.insert === 'src/net/'));
      const sym = (await mentions.complete('loadconf')).items[0]!;
      assert.deepEqual([sym.kind, sym.insert, sym.file], ['symbol', 'LoadConfig', 'src/config/loader.go']);
      // Methods of a class that fits in one chunk are symbols too (Class.method, at the method's line).
      const method = (await mentions.complete('retryfail')).items.find((i) => i.kind === 'symbol')!;
      assert.deepEqual([method.insert, method.file, method.line], ['Uploader.retryFailedUploads', 'src/net/uploader.ts', 5]);
      const pyMethod = (await mentions.complete('invalidate_exp')).items.find((i) => i.kind === 'symbol')!;
      assert.deepEqual([pyMethod.insert, pyMethod.file, pyMethod.line], ['SessionStore.invalidate_expired_sessions', 'src/auth/session.py', 4]);
      assert.ok((await mentions.complete('Uploader.')).items.some((i) => i.insert === 'Uploader.send'));
      assert.equal((await mentions.complete('zzzz-nothing')).items.length, 0);
      assert.equal(log.lines.filter((l) => /@ completion: \d+ files, folders and symbols listed/.test(l)).length, 1, 'built once');
      // Nothing secret is listed: excluded files are not in the index.
      assert.equal((await mentions.complete('.env')).items.filter((i) => i.insert === '.env').length, 0);

      const broken = new ChatMentions(async () => Promise.reject(new Error('disk gone')), log);
      const r = await broken.complete('x');
      assert.deepEqual(r.items, []);
      assert.match(r.notice ?? '', /unavailable/);
      assert.ok(log.lines.some((l) => /@ completion failed: disk gone/.test(l)));
      assert.match((await new ChatMentions(async () => [], log).complete('x')).notice ?? '', /No index yet/);
    } finally {
      asker.dispose();
      await s.dispose();
    }
  });
});

