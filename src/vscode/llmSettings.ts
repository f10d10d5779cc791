import type { LlmConfig } from '../core/llm/llm';
import type { LlmInfo } from '../protocol/messages';
import type { Log, SecretStore } from './ports';
import type { SiftSettings } from './settingsSchema';
import { DEFAULT_LLM_BASE_URL, type StoredKey, keyForEndpoint, keyRefusedMessage, originOf, parseStoredKey, serializeStoredKey } from './trust';

export const API_KEY_SECRET = 'sift.llm.apiKey';

export interface LlmSettingsDeps {
  /** Sift's settings for the window (the endpoint and model are user-only settings). */
  settings: () => SiftSettings;
  secrets: SecretStore;
  log: Log;
  /** Shows that the key was not sent, with a way to set one (once per distinct message). */
  showKeyRefused: (message: string) => void;
  /** The editor's chat model when `sift.llm.provider` chooses it (for what the chat view shows). */
  answerModel?: () => Promise<{ label: string } | undefined>;
}

/**
 * The LLM configuration: settings plus the API key from secret storage, which goes only to the
 * origin it was stored for (src/vscode/trust.ts). The endpoint itself comes from user settings only.
 */
export class LlmSettings {
  private readonly keyNotices = new Set<string>();

  constructor(private readonly deps: LlmSettingsDeps) {}

  async config(): Promise<Partial<LlmConfig> | undefined> {
    const s = this.deps.settings();
    const decision = keyForEndpoint(await this.storedKey(), s['llm.baseUrl']);
    const refused = keyRefusedMessage(decision);
    if (refused) this.noticeKeyRefused(refused);
    const apiKey = decision.send ? decision.apiKey : undefined;
    if (!s['llm.baseUrl'] && !apiKey) return undefined;
    return {
      // Explicit, so the key goes exactly where it was bound (the client would otherwise read OPENAI_BASE_URL).
      baseURL: s['llm.baseUrl'] || DEFAULT_LLM_BASE_URL,
      apiKey,
      model: s['llm.model'] || undefined,
      temperature: s['llm.temperature'],
      maxTokens: s['llm.maxTokens'],
      timeoutMs: s['llm.timeoutSeconds'] * 1000,
      idleTimeoutMs: s['llm.idleTimeoutSeconds'] * 1000,
      deadlineMs: s['llm.deadlineSeconds'] * 1000,
      maxAnswerChars: s['llm.maxAnswerChars'],
    };
  }

  /** What the chat view shows about the LLM. */
  async info(): Promise<LlmInfo> {
    const cfg = await this.config();
    const s = this.deps.settings();
    const editor = await this.deps.answerModel?.().catch(() => undefined);
    if (editor) return { configured: true, model: editor.label, baseURL: undefined, hasApiKey: await this.hasApiKey() };
    return {
      configured: Boolean(cfg?.model && (cfg.baseURL || cfg.apiKey)),
      model: s['llm.model'] || undefined,
      baseURL: s['llm.baseUrl'] || undefined,
      hasApiKey: await this.hasApiKey(),
    };
  }

  private noticeKeyRefused(message: string): void {
    if (this.keyNotices.has(message)) return;
    this.keyNotices.add(message);
    this.deps.log.warn(message);
    this.deps.showKeyRefused(message);
  }

  /**
   * The stored key and the origin it belongs to. A key stored before keys carried an origin is
   * bound once to the endpoint in the user's settings (which a workspace can no longer change).
   */
  private async storedKey(): Promise<StoredKey | undefined> {
    const stored = parseStoredKey(await this.deps.secrets.get(API_KEY_SECRET));
    if (!stored || stored.origin) return stored;
    const origin = originOf(this.deps.settings()['llm.baseUrl']);
    if (!origin) return stored;
    await this.deps.secrets.store(API_KEY_SECRET, serializeStoredKey({ key: stored.key, origin }));
    this.deps.log.info(`The stored API key is now bound to ${origin}: Sift sends it to no other endpoint.`);
    return { key: stored.key, origin };
  }

  /** The endpoint a key entered now would belong to, and the origin of the key already stored. */
  async apiKeyTarget(): Promise<{ endpoint?: string; storedFor?: string }> {
    const stored = await this.storedKey();
    return { endpoint: originOf(this.deps.settings()['llm.baseUrl']), storedFor: stored?.origin };
  }

  /** Stores a key for `origin` (the endpoint it may be sent to), or removes the key. */
  async setApiKey(key: string | undefined, origin?: string): Promise<void> {
    if (!key) {
      await this.deps.secrets.delete(API_KEY_SECRET);
      return;
    }
    const bound = origin ?? originOf(this.deps.settings()['llm.baseUrl']);
    if (!bound) throw new Error('sift.llm.baseUrl is not an http(s) URL: fix it in your user settings before storing a key for it.');
    await this.deps.secrets.store(API_KEY_SECRET, serializeStoredKey({ key, origin: bound }));
    this.keyNotices.clear();
  }

  /** After the user confirmed: the stored key may go to `origin` from now on (and only there). */
  async rebindApiKey(origin: string): Promise<void> {
    const stored = await this.storedKey();
    if (stored) await this.setApiKey(stored.key, origin);
  }

  async hasApiKey(): Promise<boolean> {
    return Boolean(await this.storedKey());
  }
}
