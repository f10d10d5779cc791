/**
 * A cloned repository's workspace settings try to move the LLM, the API key, the model source, or
 * switch protection off. The extension resolves its settings with src/vscode/trust.ts (the same
 * functions the extension calls with VS Code's inspect()); here the layers are what a VS Code
 * that still merged workspace values would give (old versions, remote setups: the worst case),
 * read from real .vscode/settings.json files. Then the real engine runs with the result: real
 * loopback LLM servers, a real hub-shaped model server, the real inference worker and indexer.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ask } from '../../src/core/answer/ask';
import { InferenceClient } from '../../src/core/worker/client';
import { indexWorkspace } from '../../src/core/indexing/indexer';
import { IndexStore } from '../../src/core/store/store';
import { SETTINGS, type SettingKey } from '../../src/vscode/settingsSchema';
import { type InspectResult, type RefusedSetting, keyForEndpoint, modelFromSettings, originOf, resolveSettings } from '../../src/vscode/trust';
import { TINY_EMBEDDER, TINY_RERANKER, WORKER_SCRIPT, tempDir, writeTree } from '../helpers';
import { ModelHubServer } from '../support/modelHub';
import { OpenAiTestServer } from '../support/openaiServer';
import { tally } from './tally';

const API_KEY = 'sk-proj-WORKSPACEsettingsKEY0123456789';
const AWS_KEY = 'AKIAQQQQQQQQQQQQQQQQ';
const ENV_CANARY = 'CANARY-workspace-dotenv';

type Layer = Record<string, unknown>;

/** Settings as VS Code would present them if it merged every layer (get = innermost value). */
function resolve(user: Layer, workspace: Layer, folder: Layer = {}): { settings: ReturnType<typeof resolveSettings>['settings']; refused: RefusedSetting[] } {
  const strip = (l: Layer) => Object.fromEntries(Object.entries(l).filter(([k]) => k.startsWith('sift.')).map(([k, v]) => [k.slice(5), v]));
  const [u, w, f] = [strip(user), strip(workspace), strip(folder)];
  const inspect = (key: SettingKey): InspectResult => ({ defaultValue: SETTINGS[key].default, globalValue: u[key], workspaceValue: w[key], workspaceFolderValue: f[key] });
  return resolveSettings(inspect, (key) => f[key] ?? w[key] ?? u[key] ?? SETTINGS[key].default);
}

describe('hostile workspace settings', () => {
  let dir: string;
  let cleanup: () => void;
  let repo: string;
  let userLlm: OpenAiTestServer;
  let attackerLlm: OpenAiTestServer;
  let userHub: ModelHubServer;
  let attackerHub: ModelHubServer;
  let user: Layer;
  let client: InferenceClient;
  let tried = 0;
  let executed = 0;
  let secretsTried = 0;
  let secretsLeaked = 0;

  before(async () => {
    ({ dir, cleanup } = tempDir('sift-hostile-ws-'));
    repo = path.join(dir, 'repo');
    writeTree(repo, {
      'src/upload/retry.ts': 'export async function retryUpload(file: string, attempts = 5) {\n  for (let i = 0; i < attempts; i++) if (await send(file)) return true;\n  return false;\n}\n',
      'src/cloud/config.ts': `// cloud configuration for the upload retry service\nexport const awsAccessKeyId = "${AWS_KEY}";\n`,
      '.env': `UPLOAD_TOKEN=${ENV_CANARY}\n`,
    });
    // Model files planted inside the repository (a folder a workspace setting could point at).
    cpSync(TINY_EMBEDDER, path.join(repo, '.models', 'evil-embedder'), { recursive: true });
    cpSync(TINY_RERANKER, path.join(repo, '.models', 'evil-reranker'), { recursive: true });
    cpSync(TINY_EMBEDDER, path.join(repo, '.models', 'sift-test', 'tiny-embedder'), { recursive: true });
    userLlm = new OpenAiTestServer();
    attackerLlm = new OpenAiTestServer();
    await userLlm.start();
    await attackerLlm.start();
    userHub = new ModelHubServer({ 'sift-test/tiny-embedder': TINY_EMBEDDER, 'sift-test/tiny-reranker': TINY_RERANKER });
    attackerHub = new ModelHubServer({ 'sift-test/tiny-embedder': TINY_EMBEDDER, 'sift-test/tiny-reranker': TINY_RERANKER, 'attacker/model': TINY_EMBEDDER });
    await userHub.start();
    await attackerHub.start();
    userLlm.script = [{ kind: 'answer', text: 'Retries live in [1].' }];
    attackerLlm.script = [{ kind: 'answer', text: 'Thanks for the code [1].' }];
    // The user's own settings: their endpoint and their hub.
    user = {
      'sift.llm.baseUrl': userLlm.baseURL,
      'sift.llm.model': 'user-model',
      'sift.models.hubUrl': userHub.url,
      'sift.models.embedding': 'sift-test/tiny-embedder',
      'sift.models.reranker': 'sift-test/tiny-reranker',
    };
    client = new InferenceClient(WORKER_SCRIPT);
  });
  after(async () => {
    await client.dispose();
    await Promise.all([userLlm.stop(), attackerLlm.stop(), userHub.stop(), attackerHub.stop()]);
    tally({ area: 'workspace settings', payloadsTried: tried, payloadsExecuted: executed, secretsTried, secretsLeaked });
    cleanup();
  });

  /** Writes the payload as the repository's .vscode/settings.json and reads it back, as VS Code would. */
  function workspaceLayer(payload: Layer): Layer {
    mkdirSync(path.join(repo, '.vscode'), { recursive: true });
    writeFileSync(path.join(repo, '.vscode', 'settings.json'), JSON.stringify(payload, null, 2));
    return JSON.parse(readFileSync(path.join(repo, '.vscode', 'settings.json'), 'utf8')) as Layer;
  }

  it('cannot send the code or the API key elsewhere, switch redaction off, or pick the model name', async () => {
    const idx = path.join(dir, 'idx');
    const base = resolve(user, {});
    const gen = indexWorkspace({ root: repo, indexDir: idx, client, embedding: null, discovery: { extraSecretPatterns: base.settings['index.secretPatterns'] } });
    for (let r = await gen.next(); !r.done; r = await gen.next());
    const store = (await IndexStore.openForRead(idx, { files: false })).store!;
    const stored = { key: API_KEY, origin: originOf(userLlm.baseURL)! };
    const attacker = attackerLlm.baseURL;
    const attackerPort = new URL(attacker).port;
    const payloads: { name: string; workspace?: Layer; folder?: Layer }[] = [
      { name: 'baseUrl in the workspace', workspace: { 'sift.llm.baseUrl': attacker } },
      { name: 'baseUrl in the workspace folder', folder: { 'sift.llm.baseUrl': attacker } },
      { name: 'baseUrl via localhost spelling', workspace: { 'sift.llm.baseUrl': `http://localhost:${attackerPort}/v1` } },
      { name: 'baseUrl with the user origin as userinfo', workspace: { 'sift.llm.baseUrl': `http://${new URL(userLlm.baseURL).host}@127.0.0.1:${attackerPort}/v1` } },
      { name: 'baseUrl plus model', workspace: { 'sift.llm.baseUrl': attacker, 'sift.llm.model': 'gpt-4o' } },
      { name: 'model routed elsewhere by a gateway', workspace: { 'sift.llm.model': 'attacker-provider/collect' } },
      { name: 'redaction off', workspace: { 'sift.llm.redactSecrets': false } },
      { name: 'redaction off in the folder', folder: { 'sift.llm.redactSecrets': false } },
      { name: 'redaction off as a string', workspace: { 'sift.llm.redactSecrets': 'false' } },
    ];
    for (const p of payloads) {
      tried++;
      secretsTried += 2; // the API key and the AWS key in an indexed file
      userLlm.requests.length = 0;
      attackerLlm.requests.length = 0;
      const { settings: s, refused } = resolve(user, workspaceLayer(p.workspace ?? {}), p.folder ?? {});
      const decision = keyForEndpoint(stored, s['llm.baseUrl']);
      const r = await ask(
        {
          store,
          settings: {
            topN: 5,
            redactSecrets: s['llm.redactSecrets'],
            llm: { baseURL: s['llm.baseUrl'] || undefined, apiKey: decision.send ? decision.apiKey : undefined, model: s['llm.model'], maxRetries: 0, timeoutMs: 10_000 },
          },
        },
        'cloud configuration upload retry awsAccessKeyId',
        { rerank: false },
      );
      assert.equal(r.answerKind, 'llm', `${p.name}: ${r.error?.message ?? ''}`);
      const toAttacker = attackerLlm.requests.length;
      const keyLeak = attackerLlm.requests.some((q) => JSON.stringify(q.headers).includes(API_KEY));
      const awsLeak = [...userLlm.requests, ...attackerLlm.requests].some((q) => JSON.stringify(q.body).includes(AWS_KEY));
      const wrongModel = userLlm.requests.some((q) => q.body.model !== 'user-model');
      if (toAttacker || awsLeak || wrongModel) executed++;
      if (keyLeak) secretsLeaked++;
      if (awsLeak) secretsLeaked++;
      assert.equal(toAttacker, 0, `${p.name}: the attacker's server got a request`);
      assert.ok(!keyLeak && !awsLeak, `${p.name}: a secret leaked`);
      assert.ok(!wrongModel, `${p.name}: the workspace chose the model`);
      assert.ok(userLlm.requests.length > 0 && userLlm.requests.every((q) => q.headers.authorization === `Bearer ${API_KEY}`), `${p.name}: the user's endpoint still gets the user's key`);
      assert.ok(refused.length > 0, `${p.name}: the refusal is reported`);
    }
    await store.close();
  });

  it('the key never goes to an origin it was not stored for, even when the user\'s own endpoint changes', async () => {
    // Defence in depth: if an endpoint change got through (a synced profile, a typo), the key stays home.
    const stored = { key: API_KEY, origin: originOf(userLlm.baseURL)! };
    for (const url of [attackerLlm.baseURL, `http://localhost:${new URL(attackerLlm.baseURL).port}/v1`, userLlm.baseURL.replace('http:', 'https:')]) {
      tried++;
      secretsTried++;
      const d = keyForEndpoint(stored, url);
      if (d.send) {
        executed++;
        secretsLeaked++;
      }
      assert.equal(d.send, false, url);
    }
  });

  it('cannot pick the model source: hub mirror, model paths, local folder', async () => {
    const payloads: { name: string; workspace?: Layer; folder?: Layer }[] = [
      { name: 'hub mirror', workspace: { 'sift.models.hubUrl': attackerHub.url } },
      { name: 'hub mirror in the folder', folder: { 'sift.models.hubUrl': attackerHub.url } },
      { name: 'embedding model path in the repo', workspace: { 'sift.models.embedding': path.join(repo, '.models', 'evil-embedder') } },
      { name: 'embedding model relative path', workspace: { 'sift.models.embedding': './.models/evil-embedder' } },
      { name: 'reranker path in the repo', folder: { 'sift.models.reranker': path.join(repo, '.models', 'evil-reranker') } },
      { name: 'attacker hub id', workspace: { 'sift.models.embedding': 'attacker/model', 'sift.models.hubUrl': attackerHub.url } },
      { name: 'local model folder in the repo', workspace: { 'sift.models.localFolder': path.join(repo, '.models') } },
      { name: 'downloads forced on with a mirror', workspace: { 'sift.models.allowDownloads': true, 'sift.models.hubUrl': attackerHub.url } },
    ];
    let n = 0;
    for (const p of payloads) {
      tried++;
      attackerHub.requests.length = 0;
      const { settings: s, refused } = resolve(user, workspaceLayer(p.workspace ?? {}), p.folder ?? {});
      // Exactly what the extension's service does with its settings (getClient / resolveModel).
      await client.call('configure', { cacheDir: path.join(dir, `cache-${n++}`), allowRemote: s['models.allowDownloads'], remoteHost: s['models.hubUrl'] || undefined });
      const emb = await client.call('loadEmbedder', { model: modelFromSettings(s['models.embedding'], s) });
      const rr = await client.call('loadReranker', { model: modelFromSettings(s['models.reranker'], s) });
      const loaded = [emb.ok ? emb.info.model : emb.message, rr.ok ? rr.info.model : rr.message];
      const fromRepo = loaded.some((m) => m.includes(repo) || m.includes('.models'));
      if (attackerHub.requests.length || fromRepo) executed++;
      assert.equal(attackerHub.requests.length, 0, `${p.name}: the attacker's hub was asked for ${attackerHub.requests.join(', ')}`);
      assert.ok(!fromRepo, `${p.name}: a model from the repository was loaded (${loaded.join('; ')})`);
      assert.deepEqual(loaded, ['sift-test/tiny-embedder', 'sift-test/tiny-reranker'], p.name);
      assert.ok(refused.length > 0, `${p.name}: the refusal is reported`);
    }
  });

  it('cannot re-admit secret files with exceptions in sift.index.secretPatterns (adding patterns still works)', async () => {
    const payloads: Layer[] = [
      { 'sift.index.secretPatterns': ['!.env'] },
      { 'sift.index.secretPatterns': ['!**'] },
      { 'sift.index.secretPatterns': ['src/cloud/**', '  !.env*'] },
    ];
    let n = 0;
    for (const payload of payloads) {
      tried++;
      secretsTried++;
      const { settings: s, refused } = resolve(user, workspaceLayer(payload));
      const idx = path.join(dir, `idx-secret-${n++}`);
      const gen = indexWorkspace({ root: repo, indexDir: idx, client, embedding: null, discovery: { extraSecretPatterns: s['index.secretPatterns'] } });
      let r = await gen.next();
      while (!r.done) r = await gen.next();
      const indexed = r.value.files.indexed;
      const chunks = chunkText(idx);
      const leaked = indexed.includes('.env') || chunks.includes(ENV_CANARY);
      if (leaked) {
        executed++;
        secretsLeaked++;
      }
      assert.ok(!leaked, `${JSON.stringify(payload)} let .env into the index`);
      assert.ok(refused.some((x) => x.key === 'index.secretPatterns' && x.part === 'entries'));
      if (JSON.stringify(payload).includes('src/cloud')) assert.ok(!indexed.includes('src/cloud/config.ts'), 'a workspace can still add secret patterns');
    }
  });
});

/** All chunk text of an index. */
function chunkText(idx: string): string {
  const files = (readdirSync(idx, { recursive: true }) as string[]).filter((f) => f.endsWith('chunks.bin'));
  assert.ok(files.length > 0, 'the index has chunk text');
  return files.map((f) => readFileSync(path.join(idx, f), 'latin1')).join('\n');
}
