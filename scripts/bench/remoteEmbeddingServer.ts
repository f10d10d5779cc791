/**
 * The P6 embeddings server (scripts/bench/remoteEmbedding.ts), in its own process: `POST /v1/embeddings`
 * answered by at most `slots` requests at a time, each after `latencyMs` (the rest wait in line, first
 * come first served) — a fixed capacity of slots / latency batches per second. Bodies are built once per
 * batch size, so the server's CPU never limits it. Args: slots latencyMs dim. Tells its port over IPC,
 * and answers 'stats' with {requests, maxActive}.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const [slots, latencyMs, dim] = process.argv.slice(2).map(Number) as [number, number, number];
const vector = Array.from({ length: dim }, (_, i) => Math.round(Math.sin(i + 1) * 1e6) / 1e6);
const bodies = new Map<number, string>();
const body = (count: number) => {
  let b = bodies.get(count);
  if (!b) {
    const data = Array.from({ length: count }, (_, index) => ({ object: 'embedding', index, embedding: vector }));
    bodies.set(count, (b = JSON.stringify({ object: 'list', data, model: 'bench', usage: { prompt_tokens: 0, total_tokens: 0 } })));
  }
  return b;
};

let active = 0;
let maxActive = 0;
let requests = 0;
const line: (() => void)[] = [];
const serve = (count: number, res: ServerResponse) => {
  active++;
  maxActive = Math.max(maxActive, active);
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(body(count));
    active--;
    line.shift()?.();
  }, latencyMs);
};

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const parts: Buffer[] = [];
  req.on('data', (d: Buffer) => parts.push(d));
  req.on('end', () => {
    requests++;
    const input = (JSON.parse(Buffer.concat(parts).toString('utf8')) as { input: string[] }).input;
    const go = () => serve(input.length, res);
    if (active < slots) go();
    else line.push(go);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('message', (m) => {
  if (m === 'stats') process.send!({ requests, maxActive });
});
process.on('disconnect', () => process.exit(0));
