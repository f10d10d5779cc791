import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SETTINGS, type SettingKey } from '../../src/vscode/settingsSchema';
import {
  type InspectResult,
  additiveValue,
  isAdditiveOnly,
  isUserOnly,
  keyForEndpoint,
  keyRefusedMessage,
  originOf,
  parseStoredKey,
  refusedMessage,
  resolveSettings,
  serializeStoredKey,
  trustedValue,
} from '../../src/vscode/trust';

/** What VS Code's inspect()/get() give for a layered configuration (get = the merged value). */
function layered(layers: { user?: Record<string, unknown>; workspace?: Record<string, unknown>; folder?: Record<string, unknown> }) {
  const inspect = (key: SettingKey): InspectResult => ({
    defaultValue: SETTINGS[key].default,
    globalValue: layers.user?.[key],
    workspaceValue: layers.workspace?.[key],
    workspaceFolderValue: layers.folder?.[key],
  });
  const get = (key: SettingKey) => layers.folder?.[key] ?? layers.workspace?.[key] ?? layers.user?.[key] ?? SETTINGS[key].default;
  return resolveSettings(inspect, get);
}

describe('settings a workspace cannot change', () => {
  it('reads user-only settings from user settings and refuses workspace and folder values, naming them', () => {
    const { settings, refused } = layered({
      user: { 'llm.baseUrl': 'http://localhost:11434/v1' },
      workspace: { 'llm.baseUrl': 'https://collect.evil.example/v1', 'llm.redactSecrets': false, 'models.hubUrl': 'http://mirror.evil.example/' },
      folder: { 'models.localFolder': '/tmp/planted-models', 'models.embedding': './models/evil', 'llm.model': 'evil/route-elsewhere' },
    });
    assert.equal(settings['llm.baseUrl'], 'http://localhost:11434/v1');
    assert.equal(settings['llm.redactSecrets'], true);
    assert.equal(settings['models.hubUrl'], '');
    assert.equal(settings['models.localFolder'], '');
    assert.equal(settings['models.embedding'], 'Xenova/all-MiniLM-L6-v2');
    assert.equal(settings['llm.model'], '');
    assert.deepEqual(refused.map((r) => `${r.where}:${r.key}`).sort(), [
      'workspace folder:llm.model',
      'workspace folder:models.embedding',
      'workspace folder:models.localFolder',
      'workspace:llm.baseUrl',
      'workspace:llm.redactSecrets',
      'workspace:models.hubUrl',
    ]);
    for (const r of refused) assert.match(refusedMessage(r), new RegExp(`sift\\.${r.key.replace('.', '\\.')}.*user settings`));
  });

  it('keeps ordinary settings layered as VS Code merges them', () => {
    const { settings, refused } = layered({ user: { 'retrieval.topN': 5 }, workspace: { 'retrieval.topN': 12, 'index.exclude': ['vendor/**'] } });
    assert.equal(settings['retrieval.topN'], 12);
    assert.deepEqual(settings['index.exclude'], ['vendor/**']);
    assert.equal(refused.length, 0);
  });

  it('says nothing when a workspace repeats the user value, and ignores user values of the wrong type', () => {
    assert.equal(trustedValue('llm.baseUrl', { globalValue: 'http://a/v1', workspaceValue: 'http://a/v1' }).refused.length, 0);
    assert.equal(trustedValue('llm.redactSecrets', { globalValue: 'no' as unknown as boolean }).value, true);
    assert.equal(trustedValue('llm.redactSecrets', undefined).value, true);
  });

  it('lets a workspace add secret patterns but not exceptions that would let secret files in', () => {
    const r = additiveValue('index.secretPatterns', { globalValue: ['*.secret', '!fixtures/*.pem'], workspaceValue: ['private/**', '!.env', ' !id_rsa'], workspaceFolderValue: ['!**'] });
    assert.deepEqual(r.value, ['*.secret', '!fixtures/*.pem', 'private/**']);
    assert.deepEqual(r.refused.map((x) => [x.where, x.value]), [['workspace', ['!.env', ' !id_rsa']], ['workspace folder', ['!**']]]);
  });

  it('marks user-only every setting that chooses a destination, a model source, or what is redacted', () => {
    // The rule by name covers settings added later: a new URL, host, provider, path or model setting
    // must be user-only (or additive-only) or this fails.
    const sensitive = /url|host|endpoint|provider|proxy|header|folder|path|dir$|^model$|embedding|reranker|redact|secret|download|apikey|cert|store|database|password/i;
    for (const key of Object.keys(SETTINGS) as SettingKey[]) {
      const last = key.split('.').pop()!;
      if (sensitive.test(last)) assert.ok(isUserOnly(key) || isAdditiveOnly(key), `sift.${key} decides where data goes or comes from: it must be user-only`);
    }
  });
});

describe('the API key goes only to the origin it was stored for', () => {
  const stored = { key: 'sk-test-0123456789', origin: 'https://api.openai.com' };

  it('sends it to the same origin, however the URL is spelled', () => {
    for (const url of ['', 'https://api.openai.com/v1', 'https://API.openai.com:443/v1/', 'https://api.openai.com/other/path']) {
      assert.deepEqual(keyForEndpoint(stored, url), { send: true, apiKey: stored.key }, url);
    }
  });

  it('never sends it to another host, port, scheme or a look-alike', () => {
    for (const url of [
      'https://collect.evil.example/v1',
      'https://api.openai.com.evil.example/v1',
      'https://api.openai.com@evil.example/v1',
      'http://api.openai.com/v1',
      'https://api.openai.com:8443/v1',
      'http://127.0.0.1:9/v1',
    ]) {
      const d = keyForEndpoint(stored, url);
      assert.equal(d.send, false, url);
      assert.match(keyRefusedMessage(d) ?? '', /did not send your API key.*Set API Key/, url);
    }
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'not a url']) assert.equal(keyForEndpoint(stored, url).send, false, url);
    assert.equal(keyForEndpoint(undefined, '').send, false);
    assert.equal(keyRefusedMessage(keyForEndpoint(undefined, '')), undefined);
  });

  it('reads keys stored before they carried an origin, and round-trips new ones', () => {
    assert.deepEqual(parseStoredKey('sk-legacy-key'), { key: 'sk-legacy-key' });
    assert.deepEqual(parseStoredKey(serializeStoredKey(stored)), stored);
    assert.deepEqual(parseStoredKey('{not json'), { key: '{not json' });
    assert.equal(parseStoredKey(undefined), undefined);
    assert.equal(keyForEndpoint({ key: 'sk-legacy-key' }, '').send, false, 'an unbound key is bound by the caller first');
    assert.equal(originOf('http://localhost:11434/v1'), 'http://localhost:11434');
  });
});
