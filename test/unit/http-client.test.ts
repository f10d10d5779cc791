import assert from 'node:assert/strict';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { postJson } from '../../src/core/util/http';

/** The shared HTTP client (rerank and embedding servers) against a real loopback server whose answers each test sets. */
describe('postJson over node:http', () => {
  let server: Server;
  let url: URL;
  let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('{}');
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => answer(req, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/x`);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const post = (extra: { timeoutMs?: number; maxResponseBytes?: number } = {}) =>
    postJson({ endpoint: url, what: 'test server', makeError: (m) => new Error(m), retries: 0, ...extra }, { q: 1 }, (text) => JSON.parse(text) as unknown);

  it('decodes a gzip-coded answer (a server may code it unasked), and refuses an unknown coding', async () => {
    answer = (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(JSON.stringify({ ok: [1, 2, 3] })));
    assert.deepEqual((await post()).value, { ok: [1, 2, 3] });
    answer = (_req, res) => res.writeHead(200, { 'content-encoding': 'zstd-x' }).end('??');
    await assert.rejects(post(), /answer in an unknown encoding \(zstd-x\)/);
  });

  it('caps the decoded size, not the coded one (a small gzip body that inflates past the cap is refused)', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(200_000) });
    answer = (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(big));
    assert.ok(gzipSync(big).length < 10_000);
    await assert.rejects(post({ maxResponseBytes: 100_000 }), /sent more than 100000 bytes/);
    assert.equal(((await post({ maxResponseBytes: 300_000 })).value as { pad: string }).pad.length, 200_000);
  });

  it('one deadline covers the body: an answer whose head comes at once and whose body never ends times out', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
    };
    await assert.rejects(post({ timeoutMs: 300 }), /did not answer within 300 ms/);
  });

  it('keeps the connection alive between requests', async () => {
    const ports: (number | undefined)[] = [];
    answer = (req, res) => {
      ports.push(req.socket.remotePort);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"n":1}');
    };
    for (let i = 0; i < 3; i++) assert.deepEqual((await post()).value, { n: 1 });
    assert.equal(new Set(ports).size, 1, `three requests, one connection (client ports ${ports})`);
  });
});
