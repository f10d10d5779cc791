import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type LlmConfig, LlmError, streamChat } from '../../src/core/llm/llm';
import { type Behaviour, OpenAiTestServer } from '../support/openaiServer';

/**
 * The LLM call's limits against a real loopback server that misbehaves. Small limits keep the run
 * short; each case also checks it ended within its bound (plus slack for a loaded machine) and
 * that the text received before the limit was kept.
 */
const LIMITS = { timeoutMs: 800, idleTimeoutMs: 500, deadlineMs: 3000, maxAnswerChars: 2000, maxRetries: 0 } satisfies Partial<LlmConfig>;
const SLACK_MS = 1500;
const messages = [{ role: 'user' as const, content: 'q' }];

interface Outcome {
  kind?: string;
  message?: string;
  text: string;
  tokens: string;
  ms: number;
}

async function call(server: OpenAiTestServer, script: Behaviour[], extra: Partial<LlmConfig> = {}): Promise<Outcome> {
  server.script = script;
  let tokens = '';
  const t = performance.now();
  try {
    const text = await streamChat({ baseURL: server.baseURL, apiKey: 'sk-limits-test-key-0001', model: 'm', ...LIMITS, ...extra }, messages, { onToken: (s) => (tokens += s) });
    return { text, tokens, ms: performance.now() - t };
  } catch (err) {
    assert.ok(err instanceof LlmError, String(err));
    assert.ok(!err.message.includes('sk-limits-test-key-0001'));
    return { kind: err.kind, message: err.message, text: tokens, tokens, ms: performance.now() - t };
  }
}

describe('LLM call limits (hostile servers end within bound, with the limit named and the text kept)', () => {
  let server: OpenAiTestServer;
  let other: OpenAiTestServer;

  before(async () => {
    server = new OpenAiTestServer();
    other = new OpenAiTestServer();
    await server.start();
    await other.start();
  });
  after(async () => {
    await server.stop();
    await other.stop();
  });

  it('headers and one token, then silence: idle timeout, the token kept', async () => {
    const r = await call(server, [{ kind: 'stall-after', text: 'The uploader retries', pieces: 1 }]);
    assert.equal(r.kind, 'llm-idle-timeout', r.message);
    assert.match(r.message!, /no new text for 0\.5 s.*idleTimeoutSeconds.*--llm-idle-timeout.*kept/);
    assert.ok(r.text.length > 0 && 'The uploader retries'.startsWith(r.text), r.text);
    assert.ok(r.ms < LIMITS.idleTimeoutMs + SLACK_MS, `${r.ms} ms`);
  });

  it('headers, then nothing: the first-text wait (timeoutSeconds) applies', async () => {
    const r = await call(server, [{ kind: 'stall-after', text: 'never sent', pieces: 0 }]);
    assert.equal(r.kind, 'llm-idle-timeout', r.message);
    assert.match(r.message!, /no answer text within 0\.8 s.*timeoutSeconds.*--llm-timeout/);
    assert.ok(r.ms < LIMITS.timeoutMs + SLACK_MS, `${r.ms} ms`);
  });

  it('no headers at all: timeout per attempt, and retries stay inside the deadline', async () => {
    const once = await call(server, [{ kind: 'hang' }]);
    assert.equal(once.kind, 'timeout', once.message);
    assert.ok(once.ms < LIMITS.timeoutMs + SLACK_MS, `${once.ms} ms`);
    const retried = await call(server, [{ kind: 'hang' }], { maxRetries: 5 });
    assert.ok(['llm-deadline', 'timeout'].includes(retried.kind!), retried.message);
    assert.ok(retried.ms < LIMITS.deadlineMs + SLACK_MS, `${retried.ms} ms`);
  });

  it('an endless answer stops at maxAnswerChars, exactly that much text kept', async () => {
    const r = await call(server, [{ kind: 'endless', text: 'Start: ', piece: 'more words ' }]);
    assert.equal(r.kind, 'llm-answer-too-large', r.message);
    assert.match(r.message!, /passed 2,000 characters.*maxAnswerChars.*--llm-max-answer-chars.*kept/);
    assert.equal(r.text.length, LIMITS.maxAnswerChars);
    assert.ok(r.text.startsWith('Start: more words'));
    assert.ok(r.ms < LIMITS.deadlineMs, `${r.ms} ms`);
  });

  for (const field of ['reasoning_content', 'reasoning', 'tool_calls', 'refusal'] as const) {
    it(`endless ${field} deltas are capped too`, async () => {
      const r = await call(server, [{ kind: 'endless', text: 'Partial ', field, piece: 'thinking ' }]);
      assert.equal(r.kind, 'llm-answer-too-large', r.message);
      assert.match(r.message!, /reasoning or tool-call text/);
      assert.equal(r.text, 'Partial ');
      assert.ok(r.ms < LIMITS.deadlineMs, `${r.ms} ms`);
    });
  }

  for (const style of ['comment', 'empty-delta', 'role-only', 'blank-lines', 'no-choices'] as const) {
    it(`keep-alive traffic without text (${style}) does not hold the call open: slow or flooding`, async () => {
      const slow = await call(server, [{ kind: 'keepalive', style, text: 'Kept part', intervalMs: 50 }]);
      assert.equal(slow.kind, 'llm-idle-timeout', slow.message);
      assert.equal(slow.text, 'Kept part');
      assert.ok(slow.ms < LIMITS.idleTimeoutMs + SLACK_MS, `${slow.ms} ms`);
      const flood = await call(server, [{ kind: 'keepalive', style, text: 'Kept part' }]);
      assert.ok(['llm-idle-timeout', 'llm-response-too-large'].includes(flood.kind!), flood.message);
      assert.equal(flood.text, 'Kept part');
      assert.ok(flood.ms < LIMITS.idleTimeoutMs + SLACK_MS, `${flood.ms} ms`);
    });
  }

  it('a byte-by-byte trickle: too slow ends on the pause limit, fast enough ends on the deadline', async () => {
    const slow = await call(server, [{ kind: 'trickle', text: 'tok ', intervalMs: 20 }]);
    assert.equal(slow.kind, 'llm-idle-timeout', slow.message);
    assert.ok(slow.ms < LIMITS.timeoutMs + SLACK_MS, `${slow.ms} ms`);
    const fast = await call(server, [{ kind: 'trickle', text: 'tok ', intervalMs: 1 }]);
    assert.equal(fast.kind, 'llm-deadline', fast.message);
    assert.match(fast.message!, /longer than 3 s in all.*deadlineSeconds.*--llm-deadline.*kept/);
    assert.ok(fast.text.startsWith('tok tok'), fast.text);
    assert.ok(fast.ms < LIMITS.deadlineMs + SLACK_MS, `${fast.ms} ms`);
  });

  it('one SSE line or event that never ends is cut at the event cap (memory bounded)', async () => {
    for (const b of [{ kind: 'huge-line', text: 'Before the line' }, { kind: 'endless-event', text: 'Before the line' }] as Behaviour[]) {
      const r = await call(server, [b]);
      assert.equal(r.kind, 'llm-response-too-large', `${b.kind}: ${r.message}`);
      assert.match(r.message!, /one streamed event over/);
      assert.equal(r.text, 'Before the line');
      assert.ok(r.ms < LIMITS.deadlineMs, `${b.kind}: ${r.ms} ms`);
    }
  });

  it('a 1 GB non-streamed JSON body (one line or pretty-printed) is refused early', async () => {
    for (const pretty of [false, true]) {
      const sentBefore = server.bytesSent;
      const r = await call(server, [{ kind: 'huge-json', bytes: 1024 ** 3, pretty }]);
      assert.equal(r.kind, 'llm-response-too-large', r.message);
      assert.ok(r.ms < LIMITS.deadlineMs, `${r.ms} ms`);
      assert.ok(server.bytesSent - sentBefore < 64 * 1024 * 1024, `the server wrote ${server.bytesSent - sentBefore} bytes`);
    }
  });

  it('a huge or endless error body is cut; the status is reported; retries are bounded', async () => {
    server.requests.length = 0;
    const r = await call(server, [{ kind: 'huge-error', status: 500, bytes: 0 }], { maxRetries: 2 });
    assert.equal(r.kind, 'server', r.message);
    assert.match(r.message!, /HTTP 500/);
    assert.ok(r.message!.length < 600, `message of ${r.message!.length} characters`);
    assert.equal(server.requests.length, 3);
    assert.ok(r.ms < LIMITS.deadlineMs + SLACK_MS, `${r.ms} ms`);
  });

  it('retry loops are bounded: at most 5 retries, a long Retry-After is not waited for', async () => {
    server.requests.length = 0;
    const many = await call(server, [{ kind: 'status', status: 503, headers: { 'retry-after': '0' } }], { maxRetries: 1000, deadlineMs: 20_000 });
    assert.equal(many.kind, 'server', many.message);
    assert.equal(server.requests.length, 6);
    server.requests.length = 0;
    const long = await call(server, [{ kind: 'status', status: 429, headers: { 'retry-after': '3600' } }], { maxRetries: 2 });
    assert.equal(long.kind, 'rate-limit', long.message);
    assert.match(long.message!, /asks to wait 3600 s, longer than Sift waits/);
    assert.equal(server.requests.length, 1);
    assert.ok(long.ms < SLACK_MS, `${long.ms} ms`);
    // A Retry-After the deadline cannot cover is not waited for either.
    server.requests.length = 0;
    const late = await call(server, [{ kind: 'status', status: 429, headers: { 'retry-after': '20' } }], { maxRetries: 2 });
    assert.equal(late.kind, 'rate-limit', late.message);
    assert.equal(server.requests.length, 1);
    assert.ok(late.ms < SLACK_MS, `${late.ms} ms`);
  });

  it('a redirect to another origin is not followed (no key, no sources sent there); same-origin 307 is', async () => {
    const elsewhere = (path: string) => () => `${other.baseURL.replace(/\/v1$/, '')}${path}`;
    for (const status of [301, 302, 303, 307, 308]) {
      other.requests.length = 0;
      const r = await call(server, [{ kind: 'redirect', status, location: elsewhere('/v1/chat/completions') }], { maxRetries: 2 });
      assert.equal(r.kind, 'llm-redirect', `${status}: ${r.message}`);
      assert.match(r.message!, new RegExp(`HTTP ${status} to http://127\\.0\\.0\\.1:\\d+\\).*neither the API key nor the sources`));
      assert.equal(other.requests.length, 0, `${status}: the other server got a request`);
    }
    const sameHost = await call(server, [{ kind: 'redirect', status: 307, location: (base) => base.replace('127.0.0.1', 'localhost') + '/chat/completions' }]);
    assert.equal(sameHost.kind, 'llm-redirect', 'another host name is another origin');
    server.requests.length = 0;
    const ok = await call(server, [{ kind: 'redirect', status: 307, location: '/v1/chat/completions' }, { kind: 'answer', text: 'followed [1]' }]);
    assert.equal(ok.kind, undefined, ok.message);
    assert.equal(ok.text, 'followed [1]');
    assert.equal(server.requests.at(-1)!.headers.authorization, 'Bearer sk-limits-test-key-0001');
    const loop = await call(server, [{ kind: 'redirect', status: 308, location: '/v1/chat/completions' }]);
    assert.equal(loop.kind, 'llm-redirect', loop.message);
  });

  it('a finished answer on a stream that stays open is complete (not a timeout)', async () => {
    const r = await call(server, [{ kind: 'finish-then-hold', text: 'Complete answer [1]' }]);
    assert.equal(r.kind, undefined, r.message);
    assert.equal(r.text, 'Complete answer [1]');
    assert.ok(r.ms < LIMITS.idleTimeoutMs, `${r.ms} ms`);
  });

  it('an ordinary answer is untouched by the limits, and a caller abort still reads as stopped', async () => {
    const r = await call(server, [{ kind: 'answer', text: 'x'.repeat(LIMITS.maxAnswerChars), pieces: 40 }]);
    assert.equal(r.kind, undefined, r.message);
    assert.equal(r.text.length, LIMITS.maxAnswerChars);
    server.script = [{ kind: 'stall-after', text: 'abc def', pieces: 1 }];
    const controller = new AbortController();
    const err = await streamChat({ baseURL: server.baseURL, model: 'm', ...LIMITS }, messages, { onToken: () => controller.abort() }, controller.signal).catch((e: unknown) => e);
    assert.ok(err instanceof LlmError);
    assert.equal(err.kind, 'aborted');
  });
});
