/**
 * Which setting values Sift trusts, and which endpoint the stored API key may go to. No vscode
 * import: the extension passes in what `WorkspaceConfiguration.inspect()` and SecretStorage give,
 * so these decisions are tested in plain Node (test/unit/settings-trust.test.ts,
 * test/hostile/workspace-settings.test.ts).
 *
 * Trust model: a repository's `.vscode/settings.json` (and a `.code-workspace` file) is written by
 * whoever wrote the repository. Settings that choose where code or the API key are sent, what is
 * redacted, or where executable model files come from are `scope: machine` in package.json, so VS
 * Code does not apply workspace values; Sift also reads them only from the user's own settings here,
 * in case a VS Code version or a remote setup still merges them, and says so when it refuses one.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { isLocalModelPath } from '../core/models/models';
import { SETTINGS, type SettingKey, type SiftSettings } from './settingsSchema';

/** The parts of `WorkspaceConfiguration.inspect()` Sift looks at. */
export interface InspectResult<T = unknown> {
  defaultValue?: T;
  /** User settings (and, in a remote window, the remote machine's settings). */
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

export type RefusedWhere = 'workspace' | 'workspace folder';

export interface RefusedSetting {
  key: SettingKey;
  where: RefusedWhere;
  value: unknown;
  /** What was refused: the whole value, or only some entries (`!` exceptions of a pattern list). */
  part: 'value' | 'entries';
}

/** Settings whose workspace values may only ADD protection: entries are merged, `!` exceptions refused. */
const ADDITIVE_ONLY: ReadonlySet<SettingKey> = new Set<SettingKey>(['index.secretPatterns']);

/** True for settings read only from user (machine) settings. */
export function isUserOnly(key: SettingKey): boolean {
  return (SETTINGS[key] as { scope?: string }).scope === 'machine';
}

/** True for settings a workspace may only extend (never weaken). */
export function isAdditiveOnly(key: SettingKey): boolean {
  return ADDITIVE_ONLY.has(key);
}

/** Every setting a workspace cannot set freely (package.json's `restrictedConfigurations`). */
export function restrictedSettings(): string[] {
  return (Object.keys(SETTINGS) as SettingKey[]).filter((k) => isUserOnly(k) || isAdditiveOnly(k)).map((k) => `sift.${k}`);
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function hasType(key: SettingKey, value: unknown): boolean {
  const type = SETTINGS[key].type;
  if (type === 'array') return Array.isArray(value) && value.every((v) => typeof v === 'string');
  if (type === 'number') return typeof value === 'number' && Number.isFinite(value);
  return typeof value === type;
}

/**
 * The value of a user-only setting: the user's own value, else the default. A workspace or
 * workspace-folder value that would change it is reported in `refused`, never used.
 */
export function trustedValue<T>(key: SettingKey, inspect: InspectResult<T> | undefined): { value: T; refused: RefusedSetting[] } {
  const fallback = SETTINGS[key].default as T;
  const user = inspect?.globalValue;
  const value = user !== undefined && hasType(key, user) ? user : fallback;
  const refused: RefusedSetting[] = [];
  for (const [where, v] of [['workspace', inspect?.workspaceValue], ['workspace folder', inspect?.workspaceFolderValue]] as const) {
    if (v !== undefined && !sameValue(v, value)) refused.push({ key, where, value: v, part: 'value' });
  }
  return { value, refused };
}

/**
 * A pattern list a workspace may extend: the user's entries, plus the workspace's and the folder's
 * entries that add a rule. Entries starting with `!` (exceptions that would let a secret file in)
 * count only from user settings.
 */
export function additiveValue(key: SettingKey, inspect: InspectResult<unknown> | undefined): { value: string[]; refused: RefusedSetting[] } {
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const user = inspect?.globalValue !== undefined ? list(inspect.globalValue) : list(SETTINGS[key].default);
  const value = [...user];
  const refused: RefusedSetting[] = [];
  for (const [where, v] of [['workspace', inspect?.workspaceValue], ['workspace folder', inspect?.workspaceFolderValue]] as const) {
    if (v === undefined) continue;
    const entries = list(v);
    const exceptions = entries.filter((e) => e.trimStart().startsWith('!'));
    if (exceptions.length) refused.push({ key, where, value: exceptions, part: 'entries' });
    for (const e of entries) if (!e.trimStart().startsWith('!') && !value.includes(e)) value.push(e);
  }
  return { value, refused };
}

/**
 * Every Sift setting as Sift uses it. `inspect(key)` and `get(key)` are the configuration's (for
 * the key under `sift.`). Ordinary settings take VS Code's merged value (wrong types fall back to the
 * default); user-only and additive-only settings are resolved as above.
 */
export function resolveSettings(inspect: (key: SettingKey) => InspectResult | undefined, get: (key: SettingKey) => unknown): { settings: SiftSettings; refused: RefusedSetting[] } {
  const out = {} as Record<string, unknown>;
  const refused: RefusedSetting[] = [];
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    if (isUserOnly(key) || isAdditiveOnly(key)) {
      const r = isUserOnly(key) ? trustedValue(key, inspect(key)) : additiveValue(key, inspect(key));
      out[key] = r.value;
      refused.push(...r.refused);
    } else {
      const v = get(key);
      out[key] = v !== undefined && hasType(key, v) ? v : SETTINGS[key].default;
    }
  }
  return { settings: out as SiftSettings, refused };
}

/**
 * A model setting as the worker needs it: a path as given; a hub id found in the (user-only)
 * local model folder as that folder; otherwise the hub id.
 */
export function modelFromSettings(model: string, settings: Pick<SiftSettings, 'models.localFolder'>): string {
  if (isLocalModelPath(model)) return model;
  const local = settings['models.localFolder'];
  if (local && existsSync(path.join(local, model, 'config.json'))) return path.join(local, model);
  return model;
}

/** The visible notice for a refused workspace value (logged once and shown once per setting). */
export function refusedMessage(r: RefusedSetting): string {
  const what = r.part === 'entries' ? `the exceptions ${JSON.stringify(r.value)} in sift.${r.key}` : `sift.${r.key}`;
  return `Sift ignored ${what} from the ${r.where} settings: ${isAdditiveOnly(r.key) ? 'a workspace may add secret patterns but not remove protection' : 'it decides where your code, your API key or model files go, or what is redacted'}, so Sift reads it only from your user settings.`;
}

// ---------------------------------------------------------------- the API key and its endpoint

/** Where requests go when `sift.llm.baseUrl` is empty (the OpenAI client's default). */
export const DEFAULT_LLM_BASE_URL = 'https://api.openai.com/v1';

/** The origin (scheme://host:port) of an endpoint; the default endpoint for ''. Undefined when it is not an http(s) URL. */
export function originOf(baseUrl: string | undefined): string | undefined {
  try {
    const u = new URL(baseUrl?.trim() || DEFAULT_LLM_BASE_URL);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

/** What SecretStorage holds: the key and the origin it was entered for (absent for keys stored before 0.2). */
export interface StoredKey {
  key: string;
  origin?: string;
}

export function parseStoredKey(raw: string | undefined): StoredKey | undefined {
  if (!raw) return undefined;
  if (raw.startsWith('{')) {
    try {
      const v = JSON.parse(raw) as { key?: unknown; origin?: unknown };
      if (typeof v.key === 'string' && v.key) return { key: v.key, origin: typeof v.origin === 'string' ? v.origin : undefined };
    } catch {
      // not ours: a key that happens to start with "{" is used as it is
    }
  }
  return { key: raw };
}

export function serializeStoredKey(k: Required<StoredKey>): string {
  return JSON.stringify({ key: k.key, origin: k.origin });
}

export type KeyDecision =
  | { send: true; apiKey: string }
  | { send: false; reason: 'no-key' }
  | { send: false; reason: 'invalid-endpoint'; endpoint: string }
  | { send: false; reason: 'other-origin'; storedFor: string; endpoint: string };

/**
 * Whether the stored key may be sent to `baseUrl`: only to the origin it was stored for. (A key
 * stored without an origin is bound by the caller first, to the user's endpoint at that time.)
 */
export function keyForEndpoint(stored: StoredKey | undefined, baseUrl: string | undefined): KeyDecision {
  if (!stored?.key) return { send: false, reason: 'no-key' };
  const endpoint = originOf(baseUrl);
  if (!endpoint) return { send: false, reason: 'invalid-endpoint', endpoint: baseUrl ?? '' };
  if (stored.origin !== endpoint) return { send: false, reason: 'other-origin', storedFor: stored.origin ?? '(unknown)', endpoint };
  return { send: true, apiKey: stored.key };
}

export function keyRefusedMessage(d: KeyDecision): string | undefined {
  if (d.send || d.reason === 'no-key') return undefined;
  if (d.reason === 'invalid-endpoint') return `Sift did not send your API key: sift.llm.baseUrl (${d.endpoint}) is not an http(s) URL.`;
  return `Sift did not send your API key to ${d.endpoint}: it was stored for ${d.storedFor}. Run "Sift: Set API Key" to enter a key for ${d.endpoint} or confirm the stored one.`;
}
