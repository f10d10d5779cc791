import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { COMMAND_IDS } from '../../src/vscode/commandIds';
import { SETTINGS, type SettingKey, contributedProperties } from '../../src/vscode/settingsSchema';
import { isUserOnly, restrictedSettings } from '../../src/vscode/trust';
import { REPO_ROOT } from '../helpers';

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));

describe('settings are defined once and match package.json', () => {
  it('contributes exactly the settings of the schema, with the same types and defaults', () => {
    const contributed = pkg.contributes.configuration.properties as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(contributed).sort(), Object.keys(SETTINGS).map((k) => `sift.${k}`).sort());
    assert.deepEqual(contributed, contributedProperties());
    for (const [key, def] of Object.entries(contributed)) {
      assert.ok(typeof def.markdownDescription === 'string' && (def.markdownDescription as string).length > 20, `${key} has a description`);
      if (def.type === 'number') assert.equal(typeof def.default, 'number', key);
      if (def.type === 'boolean') assert.equal(typeof def.default, 'boolean', key);
      if (def.type === 'array') assert.ok(Array.isArray(def.default), key);
    }
  });

  it('marks user-only settings machine-scoped in package.json and restricts them in untrusted workspaces', () => {
    const contributed = pkg.contributes.configuration.properties as Record<string, Record<string, unknown>>;
    for (const key of Object.keys(SETTINGS) as SettingKey[]) {
      if (isUserOnly(key)) assert.equal(contributed[`sift.${key}`]?.scope, 'machine', `sift.${key} is machine-scoped`);
    }
    assert.deepEqual(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations, restrictedSettings());
    for (const key of ['llm.baseUrl', 'llm.redactSecrets', 'models.hubUrl', 'models.localFolder', 'models.embedding', 'models.reranker', 'models.allowDownloads'] as SettingKey[]) assert.ok(isUserOnly(key), key);
  });

  it('covers every option the extension promises', () => {
    for (const key of ['llm.baseUrl', 'llm.model', 'models.embedding', 'models.reranker', 'models.localFolder', 'models.allowDownloads', 'retrieval.candidates', 'retrieval.topN', 'retrieval.tokenBudget', 'index.include', 'index.exclude', 'index.maxFileSize', 'rerank.enabled']) {
      assert.ok(key in SETTINGS, key);
    }
    assert.ok(!Object.keys(SETTINGS).some((k) => /apikey/i.test(k)), 'the API key is never a setting');
  });

  it('contributes exactly the commands the extension registers (one table), each with a category; activates only on Sift views', () => {
    const commands = pkg.contributes.commands as { command: string; category: string }[];
    assert.ok(commands.every((c) => c.command.startsWith('sift.') && c.category === 'Sift'));
    // extension.ts registers a handler for each id of COMMAND_IDS (src/vscode/commands.ts: the
    // compiler requires exactly one per id), so this compares what is registered with what is contributed.
    assert.deepEqual(commands.map((c) => c.command).sort(), [...COMMAND_IDS].sort());
    assert.equal(new Set(COMMAND_IDS).size, COMMAND_IDS.length, 'no id twice');
    assert.ok(!(pkg.activationEvents as string[]).includes('*'));
    assert.equal(pkg.main, './dist/extension.js');
  });
});
