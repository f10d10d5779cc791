import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI_SCRIPT, tempDir, writeTree } from '../helpers';
import { type Behaviour, OpenAiTestServer } from '../support/openaiServer';
import { hasStackTrace, tally } from './tally';

/**
 * Hostile LLM servers against the real CLI (`sift ask`): streams that stall, never end, flood
 * keep-alives, trickle bytes, send one endless line or a gigabyte of JSON, huge error bodies,
 * redirects to another origin, retry loops. Each must end within its bound with the limit's code,
 * the partial answer and the sources kept, and bounded memory (the child's peak RSS).
 */
const API_KEY = 'sk-llm-limits-HOSTILE-key-0123456789';
const FLAGS = ['--llm-timeout', '2', '--llm-idle-timeout', '1', '--llm-deadline', '6', '--llm-max-answer-chars', '5000'];
/** Startup, indexing check and retrieval before the LLM call, on a loaded 2-core machine. */
const STARTUP_MS = 8000;
/** A run that has not ended by then is killed and counted as hung. */
const HARD_KILL_MS = 40_000;
/** Peak RSS allowed above an ordinary answer's, for the endless stream (before the fix: +7 MB/s, without end). */
const RSS_ALLOWANCE_KB = 96 * 1024;

interface Run {
  code: number | null;
  killed: boolean;
  ms: number;
  stdout: string;
  stderr: string;
  maxRssKb: number;
}

interface Case {
  name: string;
  script: Behaviour[];
  /** Accepted error kinds (the first is the one expected in the common case). */
  kinds: string[];
  /** The answer must start with this (text sent before the fault). */
  partial?: string;
  /** Bound on the LLM part, ms. */
  boundMs: number;
  check?: (run: Run, answer: string) => string | undefined;
}

describe('LLM stream limits: hostile servers against the CLI', () => {
  let server: OpenAiTestServer;
  let other: OpenAiTestServer;
  let dir: string;
  let cleanup: () => void;
  let root: string;
  let preload: string;
  let baselineRssKb = 0;

  before(async () => {
    ({ dir, cleanup } = tempDir('sift-hostile-llm-limits-'));
    root = path.join(dir, 'repo');
    writeTree(root, {
      'src/upload/retry.ts': 'export async function retryUpload(file: string, attempts = 5) {\n  for (let i = 0; i < attempts; i++) {\n    if (await send(file)) return true;\n  }\n  return false;\n}\n',
      'src/upload/send.ts': 'export async function send(file: string): Promise<boolean> {\n  return file.length > 0;\n}\n',
    });
    // Records the CLI's peak RSS (all threads) when it exits.
    preload = path.join(dir, 'maxrss.cjs');
    writeFileSync(preload, "process.on('exit', () => require('node:fs').appendFileSync(process.env.SIFT_TEST_MAXRSS_FILE, process.resourceUsage().maxRSS + '\\n'));\n");
    server = new OpenAiTestServer();
    other = new OpenAiTestServer();
    await server.start();
    await other.start();
  });
  after(async () => {
    await server.stop();
    await other.stop();
    cleanup();
  });

  let runs = 0;
  function ask(extra: string[] = []): Promise<Run> {
    const rssFile = path.join(dir, `rss-${++runs}.txt`);
    const args = [CLI_SCRIPT, 'ask', root, 'how are failed uploads retried', '--lexical-only', '--no-rerank', '--offline', '--quiet', '--json', '--index-dir', path.join(dir, 'idx'), '--llm-model', 'm', ...FLAGS, ...extra];
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('OPENAI_')) env[k] = v;
    Object.assign(env, { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: API_KEY, SIFT_TEST_MAXRSS_FILE: rssFile, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --require ${preload}`.trim() });
    return new Promise((resolve, reject) => {
      const t = performance.now();
      const child = spawn(process.execPath, args, { env });
      let stdout = '';
      let stderr = '';
      let killed = false;
      // A deadline for a hung child (the failure this file tests for), not a wait for a condition.
      const kill = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, HARD_KILL_MS);
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(kill);
        const rss = existsSync(rssFile) ? Math.max(...readFileSync(rssFile, 'utf8').split('\n').filter(Boolean).map(Number)) : 0;
        resolve({ code, killed, ms: performance.now() - t, stdout, stderr, maxRssKb: rss });
      });
    });
  }

  it('an ordinary answer works with the limits set (baseline RSS)', async () => {
    server.script = [{ kind: 'answer', text: 'Failed uploads are retried up to 5 times [1].' }];
    const r = await ask();
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { answer: string; sources: unknown[] };
    assert.equal(out.answer, 'Failed uploads are retried up to 5 times [1].');
    assert.ok(out.sources.length > 0);
    baselineRssKb = r.maxRssKb;
    assert.ok(baselineRssKb > 0, 'peak RSS recorded');
  });

  it('every hostile server ends within its bound, names the limit, keeps the partial answer and the sources', async () => {
    const idle = 1000;
    const first = 2000;
    const deadline = 6000;
    const cases: Case[] = [
      { name: 'headers and one token, then silence', script: [{ kind: 'stall-after', text: 'Uploads are retried [1] and then', pieces: 1 }], kinds: ['llm-idle-timeout'], partial: 'Uploads', boundMs: idle },
      { name: 'headers, then silence', script: [{ kind: 'stall-after', text: 'never sent', pieces: 0 }], kinds: ['llm-idle-timeout'], boundMs: first },
      { name: 'never sends headers (retried)', script: [{ kind: 'hang' }], kinds: ['llm-deadline', 'timeout'], boundMs: deadline },
      {
        name: 'endless answer',
        script: [{ kind: 'endless', text: 'Endless: ', piece: 'and more text ' }],
        kinds: ['llm-answer-too-large'],
        partial: 'Endless: and more',
        boundMs: deadline,
        check: (run, answer) => {
          if (answer.length !== 5000) return `answer of ${answer.length} characters, not the cap 5000`;
          if (run.maxRssKb - baselineRssKb > RSS_ALLOWANCE_KB) return `peak RSS ${run.maxRssKb} kB, baseline ${baselineRssKb} kB`;
          return undefined;
        },
      },
      { name: 'endless reasoning deltas', script: [{ kind: 'endless', text: 'Thinking first: ', field: 'reasoning_content', piece: 'hmm ' }], kinds: ['llm-answer-too-large'], partial: 'Thinking first: ', boundMs: deadline },
      { name: 'endless tool-call deltas', script: [{ kind: 'endless', text: 'Calling: ', field: 'tool_calls', piece: '{"a":1}' }], kinds: ['llm-answer-too-large'], partial: 'Calling: ', boundMs: deadline },
      { name: 'keep-alive comment flood (: ping)', script: [{ kind: 'keepalive', style: 'comment', text: 'Pinged answer' }], kinds: ['llm-response-too-large', 'llm-idle-timeout'], partial: 'Pinged answer', boundMs: idle },
      { name: 'empty deltas every 100 ms', script: [{ kind: 'keepalive', style: 'empty-delta', text: 'Empty deltas after', intervalMs: 100 }], kinds: ['llm-idle-timeout'], partial: 'Empty deltas after', boundMs: idle },
      { name: 'role-only chunks every 100 ms, no text', script: [{ kind: 'keepalive', style: 'role-only', intervalMs: 100 }], kinds: ['llm-idle-timeout'], boundMs: first },
      { name: 'one byte every 20 ms', script: [{ kind: 'trickle', text: 'slow ', intervalMs: 20 }], kinds: ['llm-idle-timeout'], boundMs: first },
      { name: 'one byte every millisecond, forever', script: [{ kind: 'trickle', text: 'drip ', intervalMs: 1 }], kinds: ['llm-deadline'], partial: 'drip drip', boundMs: deadline },
      { name: 'one SSE line that never ends', script: [{ kind: 'huge-line', text: 'Before the line' }], kinds: ['llm-response-too-large'], partial: 'Before the line', boundMs: deadline },
      { name: 'data lines without an event end', script: [{ kind: 'endless-event', text: 'Before the event' }], kinds: ['llm-response-too-large'], partial: 'Before the event', boundMs: deadline },
      { name: '1 GB non-streamed JSON body', script: [{ kind: 'huge-json', bytes: 1024 ** 3 }], kinds: ['llm-response-too-large'], boundMs: deadline },
      { name: '1 GB pretty-printed JSON body', script: [{ kind: 'huge-json', bytes: 1024 ** 3, pretty: true }], kinds: ['llm-response-too-large'], boundMs: deadline },
      { name: 'endless 500 error body (retried)', script: [{ kind: 'huge-error', status: 500, bytes: 0 }], kinds: ['server'], boundMs: deadline, check: (run) => (run.stderr.length > 4000 ? `stderr of ${run.stderr.length} characters` : undefined) },
      { name: '429 asking to wait an hour', script: [{ kind: 'status', status: 429, headers: { 'retry-after': '3600' } }], kinds: ['rate-limit'], boundMs: 1000 },
      { name: '503 with Retry-After 0, always', script: [{ kind: 'status', status: 503, headers: { 'retry-after': '0' } }], kinds: ['server'], boundMs: 2000, check: () => (server.requests.length > 6 ? `${server.requests.length} requests` : undefined) },
      {
        name: 'redirect to another origin',
        script: [{ kind: 'redirect', status: 307, location: () => `${other.baseURL}/chat/completions` }],
        kinds: ['llm-redirect'],
        boundMs: 1000,
        check: () => (other.requests.length ? `the other origin got ${other.requests.length} request(s), key ${other.requests.some((q) => JSON.stringify(q.headers).includes(API_KEY)) ? 'included' : 'not included'}` : undefined),
      },
      { name: 'redirect to another port (308)', script: [{ kind: 'redirect', status: 308, location: (b) => b.replace(/:(\d+)\//, ':9/') + '/chat/completions' }], kinds: ['llm-redirect'], boundMs: 1000 },
    ];
    const failures: string[] = [];
    let slowExceeded = 0;
    const report: string[] = [];
    for (const c of cases) {
      server.script = c.script;
      server.requests.length = 0;
      other.requests.length = 0;
      const r = await ask();
      const problems: string[] = [];
      let out: { answer?: string; error?: { kind: string; message: string }; sources?: unknown[] } = {};
      try {
        out = JSON.parse(r.stdout);
      } catch {
        problems.push(`no JSON result (code ${r.code}, killed ${r.killed}): ${r.stderr.slice(-300)}`);
      }
      if (r.killed) problems.push(`hung: killed after ${HARD_KILL_MS} ms`);
      if (r.ms > c.boundMs + STARTUP_MS) {
        problems.push(`took ${Math.round(r.ms)} ms, bound ${c.boundMs} + ${STARTUP_MS} ms`);
        slowExceeded++;
      }
      if (!r.killed && r.code !== 3) problems.push(`exit code ${r.code}, expected 3 (LLM failed, partial answer kept)`);
      if (out.error && !c.kinds.includes(out.error.kind)) problems.push(`error kind ${out.error.kind} (${out.error.message}), expected ${c.kinds.join(' or ')}`);
      if (!out.error && !problems.length) problems.push('no error reported');
      if (c.partial && !(out.answer ?? '').startsWith(c.partial)) problems.push(`partial answer lost: ${JSON.stringify((out.answer ?? '').slice(0, 80))}`);
      if (!out.sources?.length && !problems.length) problems.push('sources lost');
      if (hasStackTrace(r.stderr)) problems.push(`stack trace: ${r.stderr.slice(-300)}`);
      if (r.stdout.includes(API_KEY) || r.stderr.includes(API_KEY)) problems.push('API key in the output');
      const extra = c.check?.(r, out.answer ?? '');
      if (extra) problems.push(extra);
      report.push(`${c.name}: ${out.error?.kind ?? '-'} in ${Math.round(r.ms)} ms, peak RSS ${Math.round(r.maxRssKb / 1024)} MB${problems.length ? ` — ${problems.join('; ')}` : ''}`);
      if (problems.length) failures.push(`${c.name}: ${problems.join('; ')}`);
    }
    console.log(`baseline peak RSS ${Math.round(baselineRssKb / 1024)} MB\n${report.join('\n')}`);
    tally({ area: 'llm stream', faultsInjected: cases.length, faultsSurvived: cases.length - failures.length, slowTried: cases.length, slowExceeded });
    assert.deepEqual(failures, []);
  });
});
