/**
 * The P6 embeddings server (scripts/bench/remoteEmbedding.ts), in its own process: `POST /v1/embeddings`
 * answered by at most `slots` requests at a time, each after `latencyMs` (the rest wait in line, first
 * come first served) — a fixed capacity of slots / latency batches per second. Bodies are built once per
 * batch size and encoding (JSON numbers, or base64 float32 when the request asks `encoding_format:
 * 'base64'`, as OpenAI, vLLM and text-embeddings-inference answer), so the server's CPU never limits it.
 * Args: slots latencyMs dim [jitterMs]: with a jitter each answer takes latencyMs plus up to jitterMs more
 * (seeded), so answers come back out of order. Tells its port over IPC, and answers 'stats' with {requests, maxActive, texts}
 * (`texts`: texts answered, an answer to a client that went away not counted).
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mulberry32 } from '../../src/core/util/random';

const [slots, latencyMs, dim, jitterMs = 0] = process.argv.slice(2).map(Number) as [number, number, number, number?];
// Seeded: the same delays every run.
const random = mulberry32(17);
const vector = Array.from({ length: dim }, (_, i) => Math.round(Math.sin(i + 1) * 1e6) / 1e6);
const vectorBase64 = Buffer.from(Float32Array.from(vector).buffer).toString('base64');
const bodies = new Map<string, string>();
/** The answer for `count` texts, as JSON numbers or (when asked for `encoding_format: base64`) base64 float32, as OpenAI answers. */
const body = (count: number, base64: boolean) => {
  const key = `${count}:${base64}`;
  let b = bodies.get(key);
  if (!b) {
    const data = Array.from({ length: count }, (_, index) => ({ object: 'embedding', index, embedding: base64 ? vectorBase64 : vector }));
    bodies.set(key, (b = JSON.stringify({ object: 'list', data, model: 'bench', usage: { prompt_tokens: 0, total_tokens: 0 } })));
  }
  return b;
};

let active = 0;
let maxActive = 0;
let requests = 0;
let texts = 0;
const line: (() => void)[] = [];
const serve = (count: number, base64: boolean, res: ServerResponse) => {
  active++;
  maxActive = Math.max(maxActive, active);
  setTimeout(() => {
    if (!res.destroyed && !res.socket?.destroyed) texts += count;
    res.writeHead(200, { 'content-type': 'application/json' }).end(body(count, base64));
    active--;
    line.shift()?.();
  }, latencyMs + (jitterMs ? random() * jitterMs : 0));
};

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const parts: Buffer[] = [];
  req.on('data', (d: Buffer) => parts.push(d));
  req.on('end', () => {
    requests++;
    const { input, encoding_format } = JSON.parse(Buffer.concat(parts).toString('utf8')) as { input: string[]; encoding_format?: string };
    const go = () => serve(input.length, encoding_format === 'base64', res);
    if (active < slots) go();
    else line.push(go);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('message', (m) => {
  if (m === 'stats') process.send!({ requests, maxActive, texts });
});
process.on('disconnect', () => process.exit(0));
