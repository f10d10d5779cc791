/**
 * The rerank server's API key in the editor (issue 17): stored in secret storage bound to the
 * origin of sift.rerank.baseUrl, sent by the HTTP reranker to that server only; a key stored for
 * another server is not sent. A real loopback rerank server records what arrives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpReranker } from '../../src/core/rerank/http';
import type { Candidate } from '../../src/core/search/types';
import { RERANK_KEY_SECRET, RerankKey } from '../../src/vscode/rerankKey';
import { MemorySecrets, RecordingLog } from '../support/fakeWorkspace';
import { RerankTestServer } from '../support/rerankServer';

function candidate(id: string, text: string): Candidate {
  return {
    chunk: { id, path: `${id}.ts`, startLine: 1, endLine: 1, language: 'typescript', kind: 'function', symbols: [], header: '', text, hash: id },
    provenance: { fused: { rank: 1, score: 0.1 } },
    rankBefore: 1,
    rankAfter: 1,
  } as Candidate;
}

describe('rerank API key in the editor', () => {
  let server: RerankTestServer;
  before(async () => {
    server = new RerankTestServer();
    await server.start();
  });
  after(async () => {
    await server?.stop();
  });

  it('is stored for the configured server and sent there, as a Bearer token', async () => {
    const secrets = new MemorySecrets();
    let changes = 0;
    const key = new RerankKey({ secrets, baseUrl: () => server.baseURL, log: new RecordingLog(), changed: () => changes++ });
    assert.deepEqual(await key.target(), { server: server.baseURL, storedFor: undefined });
    await key.set('rk-secret-1234');
    assert.equal(changes, 1, 'the editor is told to make a new reranker');
    assert.deepEqual(JSON.parse(secrets.values.get(RERANK_KEY_SECRET)!), { key: 'rk-secret-1234', origin: server.baseURL });
    const apiKey = await key.forServer();
    assert.equal(apiKey, 'rk-secret-1234');
    const before = server.requests.length;
    await new HttpReranker({ baseUrl: server.baseURL, model: 'tiny', apiKey }).rerank('upload retry', [candidate('a', 'retry the upload'), candidate('b', 'parse config')]);
    assert.equal(server.requests[before]!.headers.authorization, 'Bearer rk-secret-1234');
  });

  it('is not sent to another server: the setting changed after the key was stored', async () => {
    const secrets = new MemorySecrets();
    let baseUrl = 'https://rerank.example.com:8443/v1';
    const log = new RecordingLog();
    const key = new RerankKey({ secrets, baseUrl: () => baseUrl, log, envKey: () => undefined });
    await key.set('rk-for-example');
    baseUrl = server.baseURL;
    assert.equal(await key.forServer(), undefined);
    assert.equal(await key.forServer(), undefined);
    const warnings = log.lines.filter((l) => l.startsWith('warn '));
    assert.equal(warnings.length, 1, 'said once');
    assert.match(warnings[0]!, /did not send the stored rerank API key to http:\/\/127\.0\.0\.1:\d+: it was stored for https:\/\/rerank\.example\.com:8443/);
    assert.doesNotMatch(log.lines.join('\n'), /rk-for-example/, 'the key is never logged');
    const before = server.requests.length;
    await new HttpReranker({ baseUrl, model: 'tiny', apiKey: await key.forServer() }).rerank('upload retry', [candidate('a', 'retry the upload')]);
    assert.equal(server.requests[before]!.headers.authorization, undefined, 'the other server got no key');
  });

  it('falls back to SIFT_RERANK_API_KEY when nothing is stored; refuses to store without a server; clears', async () => {
    const secrets = new MemorySecrets();
    let baseUrl = '';
    const key = new RerankKey({ secrets, baseUrl: () => baseUrl, log: new RecordingLog(), envKey: () => 'from-env' });
    assert.equal(await key.forServer(), 'from-env');
    await assert.rejects(key.set('rk-1234'), /Set sift\.rerank\.baseUrl/);
    baseUrl = 'file:///etc/passwd';
    await assert.rejects(key.set('rk-1234'), /http\(s\) URL/);
    assert.equal(secrets.values.size, 0, 'nothing stored');
    baseUrl = 'http://127.0.0.1:9/';
    await key.set('rk-1234');
    assert.equal(await key.forServer(), 'rk-1234');
    await key.set(undefined);
    assert.equal(secrets.values.size, 0);
    assert.equal(await key.forServer(), 'from-env');
  });
});
