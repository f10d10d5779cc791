/**
 * The embedding server's API key in the editor (issue 17): the rerank key's class with the embedding
 * kind — its own secret, bound to the origin of sift.embedding.baseUrl, never sent to another server.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMBEDDING_KEY, EMBEDDING_KEY_SECRET, RERANK_KEY_SECRET, RerankKey } from '../../src/vscode/rerankKey';
import { MemorySecrets, RecordingLog } from '../support/fakeWorkspace';

describe('embedding API key in the editor', () => {
  it('is stored under its own secret for the configured server, and sent only to that origin', async () => {
    const secrets = new MemorySecrets();
    const log = new RecordingLog();
    let baseUrl = 'http://127.0.0.1:11434/v1';
    const key = new RerankKey({ kind: EMBEDDING_KEY, secrets, baseUrl: () => baseUrl, log, envKey: () => 'env-key' });
    await key.set('ek-secret-5678');
    assert.deepEqual(JSON.parse(secrets.values.get(EMBEDDING_KEY_SECRET)!), { key: 'ek-secret-5678', origin: 'http://127.0.0.1:11434' });
    assert.equal(secrets.values.get(RERANK_KEY_SECRET), undefined, 'the rerank key is untouched');
    assert.equal(await key.forServer(), 'ek-secret-5678');
    baseUrl = 'https://collect.evil.example/v1';
    assert.equal(await key.forServer(), 'env-key', 'another origin gets the environment key at most, never the stored one');
    assert.match(JSON.stringify(log), /did not send the stored embedding API key .*Sift: Set Embedding API Key/);
    baseUrl = '';
    await assert.rejects(key.set('ek-2'), /Set sift\.embedding\.baseUrl in your user settings to the embedding server/);
  });
});
