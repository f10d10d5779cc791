/**
 * Sift in VS Code's chat (issue 16): the `#sift` language-model tool, the `@sift` participant, and
 * the editor's models as the panel's LLM — the logic behind the thin vscode adapters, with a fake
 * workspace, real folders, the real worker (tiny models) and the real ask service. The chat view's
 * response stream and the editor's models are typed fakes of the API surface used.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { boundedChatModel } from '../../src/core/llm/chatModel';
import type { ChatMessage } from '../../src/core/llm/prompt';
import { AskService, type AskOptions } from '../../src/vscode/askService';
import { type EditorChatModel, editorChatModel, editorModelError, limitsOf, pickModel, resolveAnswerModel } from '../../src/vscode/editorModels';
import { RankingFeedback } from '../../src/vscode/feedback';
import { LlmSettings } from '../../src/vscode/llmSettings';
import { type ParticipantStream, type SourceLocation, answerInChat, followupsFor } from '../../src/vscode/participant';
import { runSearchTool } from '../../src/vscode/searchTool';
import { MemorySecrets, MemoryState } from '../support/fakeWorkspace';
import { type Services, services, smallRepo } from '../support/editorServices';

const SECRET = 'Zq8vLmN3xR7tWp2KbY5cHd9F';
const REPO = {
  ...smallRepo(5),
  'src/net/uploader.ts': 'export async function retryFailedUploads(queue: string[]): Promise<number> {\n  let retried = 0;\n  for (const item of queue) { retried += 1; }\n  return retried;\n}\n',
  'src/config/database.ts': `export const databaseConfig = {\n  host: 'db.internal',\n  password: '${SECRET}',\n};\nexport function connectDatabase() { return databaseConfig.host; }\n`,
};

function askService(s: Services, answerModel?: AskServiceAnswerModel) {
  const llm = new LlmSettings({ settings: () => s.ws.readSettings(undefined), secrets: new MemorySecrets(), log: s.ws.log, showKeyRefused: () => undefined, answerModel });
  return new AskService({ port: s.ws, indexer: s.indexer, models: s.models, llm, feedback: new RankingFeedback(new MemoryState(), s.ws.log), editor: { signals: () => ({}) }, answerModel });
}
type AskServiceAnswerModel = ConstructorParameters<typeof AskService>[0]['answerModel'];

/** An editor model (vscode.LanguageModelChat as the adapter presents it) that records its requests. */
class FakeModel implements EditorChatModel {
  readonly requests: ChatMessage[][] = [];
  constructor(
    readonly id: string,
    private readonly reply: (n: number, signal: AbortSignal) => AsyncIterable<string>,
    readonly family = 'fake-family',
    readonly vendor = 'test',
    readonly name = `Fake ${id}`,
  ) {}
  stream(messages: ChatMessage[], signal: AbortSignal): AsyncIterable<string> {
    this.requests.push(messages);
    return this.reply(this.requests.length, signal);
  }
}

async function* words(text: string): AsyncIterable<string> {
  for (const w of text.split(/(?<= )/)) yield w;
}

/** What the participant wrote: markdown text, progress, references and anchors, in order. */
class RecordingStream implements ParticipantStream {
  readonly parts: { kind: 'markdown' | 'progress' | 'reference' | 'anchor'; text?: string; loc?: SourceLocation }[] = [];
  markdown(text: string) {
    this.parts.push({ kind: 'markdown', text });
  }
  progress(text: string) {
    this.parts.push({ kind: 'progress', text });
  }
  reference(loc: SourceLocation) {
    this.parts.push({ kind: 'reference', loc });
  }
  anchor(loc: SourceLocation, title: string) {
    this.parts.push({ kind: 'anchor', loc, text: title });
  }
  get text() {
    return this.parts.map((p) => (p.kind === 'markdown' ? p.text : p.kind === 'anchor' ? `<${p.text}>` : '')).join('');
  }
  of(kind: 'reference' | 'anchor') {
    return this.parts.filter((p) => p.kind === kind).map((p) => p.loc!);
  }
}

const never = (signal: AbortSignal) =>
  (async function* () {
    yield 'Uploads are retried ';
    // Waits for nothing but the abort (a model that ignores cancellation would hang here).
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  })();

describe('#sift language-model tool', () => {
  it('returns ranked chunks with path, lines, provenance and redacted text through searchChunks; bad input is a message, and the next call works', async () => {
    const s = services({ folders: { repo: REPO } });
    const asker = askService(s);
    const searcher = { isTrusted: () => s.ws.isTrusted(), search: asker.search.bind(asker) };
    const signal = new AbortController().signal;
    try {
      // Lexical first answers before embedding ends; this test checks the hybrid path: wait for the dense pass.
      await s.indexer.ensureIndexed();
      const parts = await runSearchTool(searcher, { query: 'retryFailedUploads retry failed uploads', limit: 3 }, signal);
      assert.match(parts[0]!, /^Sift found 3 code chunks for "retryFailedUploads retry failed uploads" \(hybrid \(semantic \+ keyword\) retrieval, reranked by the cross-encoder; \d+ candidates ranked\)/);
      assert.match(parts[1]!, /^\[1\] src\/net\/uploader\.ts:1-5 \(symbol: retryFailedUploads\)\nretrievers: dense\+lexical; rank \d+ -> 1; scores: rerank -?[\d.]+, fused [\d.]+, dense [\d.]+, lexical [\d.]+; matched terms: /);
      assert.match(parts[1]!, /```typescript\nexport async function retryFailedUploads/);

      const secret = await runSearchTool(searcher, { query: 'database password config', paths: ['src/config/**'], rerank: false }, signal);
      assert.ok(secret.length >= 2, secret.join('\n---\n'));
      assert.ok(secret.slice(1).every((p) => /^\[\d+\] src\/config\/database\.ts:\d+-\d+/.test(p)), 'only the globbed folder');
      assert.ok(secret.some((p) => p.includes("password: '[REDACTED]'")));
      assert.ok(!secret.join('\n').includes(SECRET), 'the secret never reaches the agent');

      for (const [bad, why] of [
        [{ query: '' }, /"query" must be a non-empty string/],
        [{ query: 'x', limit: 10_000 }, /"limit" must be a whole number from 1 to 50/],
        [{ query: 'x'.repeat(1 << 20) }, /"query" is 1048576 characters long; at most 8000/],
        [{ query: 'x', paths: '../../etc/passwd' }, /"paths" must be a list/],
        [{ query: 'x', rerank: 'yes' }, /"rerank" must be true or false/],
        ['retry', /must be an object/],
      ] as const) {
        const out = await runSearchTool(searcher, bad, signal);
        assert.equal(out.length, 1);
        assert.match(out[0]!, why);
      }
      // A glob outside the folder matches nothing in it: no results, not an error.
      assert.match((await runSearchTool(searcher, { query: 'retry', paths: ['../../etc/passwd'] }, signal))[0]!, /^Sift found no code for "retry" in \.\.\/\.\.\/etc\/passwd/);
      const again = await runSearchTool(searcher, { query: 'retryFailedUploads', limit: 1 }, signal);
      assert.match(again[1]!, /src\/net\/uploader\.ts:1-5/);
    } finally {
      asker.dispose();
      await s.dispose();
    }
  });

  it('in an untrusted workspace says so and searches nothing', async () => {
    const s = services({ folders: { repo: REPO }, trusted: false });
    const asker = askService(s);
    try {
      const out = await runSearchTool({ isTrusted: () => s.ws.isTrusted(), search: asker.search.bind(asker) }, { query: 'retry' }, new AbortController().signal);
      assert.deepEqual(out.length, 1);
      assert.match(out[0]!, /not trusted.*trust the workspace/);
      assert.equal(s.workers(), 0);
      assert.equal(s.runs.length, 0);
    } finally {
      asker.dispose();
      await s.dispose();
    }
  });
});

describe('@sift chat participant', () => {
  it('answers with the picked model, streams markdown, and gives a reference and an anchor for every source; the model sees the core prompt with redacted sources', async () => {
    const s = services({ folders: { repo: REPO } });
    const asker = askService(s);
    const model = new FakeModel('m1', () => words('Failed uploads are retried in retryFailedUploads [1]; the database settings are in [2].'));
    const stream = new RecordingStream();
    try {
      const result = await answerInChat(asker, { prompt: 'where are failed uploads retried and what is the database password', model: editorChatModel(model, limitsOf(s.ws.readSettings(undefined))) }, stream, new AbortController().signal);
      assert.equal(result.metadata.outcome, 'answered');
      assert.ok(stream.text.includes('Failed uploads are retried in retryFailedUploads [1]; the database settings are in [2].'), stream.text);
      assert.ok(stream.parts.some((p) => p.kind === 'progress' && /^Writing the answer with Fake m1 \(test, VS Code\)/.test(p.text!)));
      const refs = stream.of('reference');
      assert.equal(refs.length, result.metadata.sources);
      assert.ok(refs.length >= 2);
      assert.deepEqual(stream.of('anchor'), refs);
      assert.deepEqual(refs[0], { file: path.join(s.roots[0]!, 'src/net/uploader.ts'), startLine: 1, endLine: 5 });
      assert.match(stream.text, /\*\*Sources\*\*\n\n- \\\[1\\\] <src\/net\/uploader\.ts:1-5>\n- \\\[2\\\] </);
      // One request, built by the core (system prompt, numbered sources), secrets redacted.
      assert.equal(model.requests.length, 1);
      const sent = model.requests[0]!.map((m) => m.content).join('\n');
      assert.match(sent, /You are Sift/);
      assert.match(sent, /\[1\] src\/net\/uploader\.ts:1-5/);
      assert.ok(sent.includes('src/config/database.ts'), 'the secret-bearing file was a source');
      assert.ok(!sent.includes(SECRET), 'the secret never reaches the model');
      assert.deepEqual(followupsFor(result.metadata).map((f) => f.command), ['compare', 'norerank']);
    } finally {
      asker.dispose();
      await s.dispose();
    }
  });

  it('/compare answers with and without reranking and shows both rankings; /norerank does not rerank', async () => {
    const s = services({ folders: { repo: REPO } });
    const real = askService(s);
    const seen: AskOptions[] = [];
    const asker = { ask: (q: string, o: AskOptions) => (seen.push(o), real.ask(q, o)), fileOf: real.fileOf.bind(real) };
    const model = new FakeModel('m1', (n) => words(`Answer ${n} cites [1].`));
    const chatModel = editorChatModel(model, limitsOf(s.ws.readSettings(undefined)));
    try {
      const stream = new RecordingStream();
      const r = await answerInChat(asker, { prompt: 'retryFailedUploads', command: 'compare', model: chatModel }, stream, new AbortController().signal);
      assert.equal(r.metadata.command, 'compare');
      assert.deepEqual([seen[0]!.compare, seen[0]!.rerank], [true, true]);
      assert.equal(model.requests.length, 2);
      const text = stream.text;
      const plain = text.indexOf('### Without reranking');
      const reranked = text.indexOf('### With reranking');
      assert.ok(plain >= 0 && reranked > plain, text);
      assert.match(text.slice(plain, reranked), /1\. `src\/net\/uploader\.ts:1-5` \(rank 1 → 1, fused [\d.]+\)[\s\S]*Answer 1 cites \[1\]\.[\s\S]*\*\*Sources\*\*/);
      assert.match(text.slice(reranked), /1\. `[^`]+` \(rank \d+ → 1, rerank -?[\d.]+, fused [\d.]+\)[\s\S]*Answer 2 cites \[1\]\.[\s\S]*\*\*Sources\*\*/);
      assert.equal(stream.of('reference').length, text.match(/^- \\\[\d+\\\] </gm)?.length);
      assert.ok(stream.of('reference').length >= 2);

      const norerank = new RecordingStream();
      const n = await answerInChat(asker, { prompt: 'retryFailedUploads', command: 'norerank', model: chatModel }, norerank, new AbortController().signal);
      assert.deepEqual([seen[1]!.compare, seen[1]!.rerank], [false, false]);
      assert.equal(n.metadata.outcome, 'answered');
      assert.match(norerank.text, /Answer 3 cites \[1\]/);
      assert.ok(!norerank.text.includes('###'));
      assert.deepEqual(followupsFor(n.metadata), [
        { prompt: 'retryFailedUploads', command: 'compare', label: 'Compare the answer with and without reranking' },
        { prompt: 'retryFailedUploads', label: 'Answer again with reranking' },
      ]);
    } finally {
      real.dispose();
      await s.dispose();
    }
  });

  it('cancellation stops the answer (text so far kept), model errors and refusals are messages, never thrown', async () => {
    const s = services({ folders: { repo: REPO }, settings: { 'llm.idleTimeoutSeconds': 1 } });
    const asker = askService(s);
    const limits = limitsOf(s.ws.readSettings(undefined));
    try {
      // Cancelled while the model is writing: resolves, outcome 'cancelled'.
      const ctl = new AbortController();
      const stream = new RecordingStream();
      const model = new FakeModel('slow', (_n, signal) => never(signal));
      const pending = answerInChat(asker, { prompt: 'retryFailedUploads', model: editorChatModel(model, { ...limits, idleTimeoutMs: 60_000 }) }, stream, ctl.signal);
      const origPush = stream.parts.push.bind(stream.parts);
      stream.parts.push = (...items) => {
        const n = origPush(...items);
        if (items.some((p) => p.text === 'Uploads are retried ')) ctl.abort();
        return n;
      };
      const cancelled = await pending;
      assert.equal(cancelled.metadata.outcome, 'cancelled');
      assert.ok(stream.text.includes('Uploads are retried '));
      assert.ok(!/\*\*Sift/.test(stream.text), 'no error shown for a stop');

      // The user declined the model's permission request.
      const declined = new FakeModel('no', () =>
        (async function* () {
          yield* [];
          throw editorModelError(Object.assign(new Error('denied'), { code: 'NoPermissions' }), 'NoPermissions', 'Fake no (test, VS Code)');
        })(),
      );
      const d = new RecordingStream();
      const dr = await answerInChat(asker, { prompt: 'retryFailedUploads', model: editorChatModel(declined, limits) }, d, new AbortController().signal);
      assert.equal(dr.metadata.outcome, 'error');
      assert.match(d.text, /\*\*Sift:\*\* Sift may not use Fake no \(test, VS Code\): the permission request was declined/);
      assert.ok(d.of('reference').length > 0, 'the sources are still given');

      // A model that stalls after its first words: Sift's idle limit applies to editor models too.
      const stall = new RecordingStream();
      await answerInChat(asker, { prompt: 'retryFailedUploads', model: editorChatModel(new FakeModel('stall', (_n, sig) => never(sig)), limits) }, stall, new AbortController().signal);
      assert.match(stall.text, /Uploads are retried [\s\S]*\*\*Sift:\*\* The answer from Fake stall \(test, VS Code\) stalled: no new text for 1 s \(limit: setting sift\.llm\.idleTimeoutSeconds/);

      // Nothing to ask, and an untrusted workspace: markdown, no throw.
      const empty = new RecordingStream();
      assert.equal((await answerInChat(asker, { prompt: '  ', model: editorChatModel(declined, limits) }, empty, new AbortController().signal)).metadata.outcome, 'empty');
      assert.match(empty.text, /\/compare/);
      s.ws.trusted = false;
      const untrusted = new RecordingStream();
      assert.equal((await answerInChat(asker, { prompt: 'retry', model: editorChatModel(declined, limits) }, untrusted, new AbortController().signal)).metadata.outcome, 'error');
      assert.match(untrusted.text, /\*\*Sift could not answer:\*\* This workspace is not trusted/);
    } finally {
      asker.dispose();
      await s.dispose();
    }
  });
});

describe("the editor's models as the panel's LLM", () => {
  const models = [new FakeModel('gpt-4o-2024', () => words('a'), 'gpt-4o', 'copilot'), new FakeModel('claude-x', () => words('b'), 'claude', 'anthropic')];

  it('picks by id, family or vendor/family; auto uses the editor model only without a base URL; vscode without a model says what to do', async () => {
    assert.equal(pickModel(models, '')?.id, 'gpt-4o-2024');
    assert.equal(pickModel(models, 'claude')?.id, 'claude-x');
    assert.equal(pickModel(models, 'COPILOT/gpt-4o')?.id, 'gpt-4o-2024');
    assert.equal(pickModel(models, 'nope'), undefined);
    const s = services({ folders: {} });
    try {
      const base = s.ws.readSettings(undefined);
      const list = async () => models;
      assert.equal((await resolveAnswerModel({ ...base, 'llm.provider': 'auto' }, list))?.label, 'Fake gpt-4o-2024 (copilot, VS Code)');
      assert.equal(await resolveAnswerModel({ ...base, 'llm.provider': 'auto', 'llm.baseUrl': 'http://127.0.0.1:1/v1' }, list), undefined);
      assert.equal(await resolveAnswerModel({ ...base, 'llm.provider': 'openai-compatible' }, list), undefined);
      assert.equal(await resolveAnswerModel({ ...base, 'llm.provider': 'auto' }, async () => []), undefined);
      assert.equal((await resolveAnswerModel({ ...base, 'llm.provider': 'vscode', 'llm.vscodeModel': 'claude', 'llm.baseUrl': 'http://127.0.0.1:1/v1' }, list))?.label, 'Fake claude-x (anthropic, VS Code)');
      await assert.rejects(resolveAnswerModel({ ...base, 'llm.provider': 'vscode' }, async () => []), /VS Code has no chat model: install or sign in/);
      await assert.rejects(resolveAnswerModel({ ...base, 'llm.provider': 'vscode', 'llm.vscodeModel': 'o9' }, list), /No chat model in VS Code matches sift\.llm\.vscodeModel "o9" \(available: gpt-4o-2024, claude-x\)/);
    } finally {
      await s.dispose();
    }
  });

  it('the panel answers with the editor model when no endpoint is configured (no key), through the same ask path', async () => {
    const s = services({ folders: { repo: REPO } });
    const model = new FakeModel('gpt-4o-2024', () => words('Retried in retryFailedUploads [1].'), 'gpt-4o', 'copilot');
    const asker = askService(s, () => resolveAnswerModel(s.ws.readSettings(undefined), async () => [model]));
    try {
      const r = await asker.ask('retryFailedUploads', { rerank: true, compare: false, signal: new AbortController().signal, onEvent: () => undefined });
      assert.equal(r.single!.answerKind, 'llm');
      assert.equal(r.single!.answer, 'Retried in retryFailedUploads [1].');
      assert.deepEqual(r.single!.citations.map((c) => c.n), [1]);
      assert.ok(r.single!.timings.firstToken !== null);
    } finally {
      asker.dispose();
      await s.dispose();
    }
  });

  it('caps an editor model answer at maxAnswerChars, keeping the text so far', async () => {
    const big = boundedChatModel('big', () => words('word '.repeat(600)), { maxAnswerChars: 1000 });
    let got = '';
    await assert.rejects(big.answer([], { onToken: (t) => (got += t) }), (err: Error & { kind?: string }) => err.kind === 'llm-answer-too-large' && /passed 1,000 characters/.test(err.message));
    assert.equal(got.length, 1000);
  });
});
