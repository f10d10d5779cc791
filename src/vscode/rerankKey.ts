/**
 * The rerank (or embedding: `kind`) server's API key (`sift.rerank.provider` http) in the editor's secret storage, bound to
 * the origin of `sift.rerank.baseUrl` it was entered for: Sift sends it to that origin only (the
 * HTTP reranker also refuses redirects). Without a stored key, `SIFT_RERANK_API_KEY` from the
 * environment is used as before. No vscode import (tested in test/unit/rerank-key.test.ts).
 */
import type { Log, SecretStore } from './ports';
import { type StoredKey, parseStoredKey, serializeStoredKey } from './trust';

export const RERANK_KEY_SECRET = 'sift.rerank.apiKey';
export const EMBEDDING_KEY_SECRET = 'sift.embedding.apiKey';

/** Which server a key belongs to: its secret's name and the words of its messages. */
export interface ServerKeyKind {
  secret: string;
  /** "rerank", "embedding" */
  what: string;
  /** The setting holding the server's base URL. */
  setting: string;
  command: string;
}
export const RERANK_KEY: ServerKeyKind = { secret: RERANK_KEY_SECRET, what: 'rerank', setting: 'sift.rerank.baseUrl', command: 'Sift: Set Rerank API Key' };
/** The embedding server's key (`sift.embedding.provider` openai-compatible), else SIFT_EMBEDDING_API_KEY. */
export const EMBEDDING_KEY: ServerKeyKind = { secret: EMBEDDING_KEY_SECRET, what: 'embedding', setting: 'sift.embedding.baseUrl', command: 'Sift: Set Embedding API Key' };

export interface RerankKeyDeps {
  secrets: SecretStore;
  /** `sift.rerank.baseUrl` (a user-only setting). */
  baseUrl: () => string;
  log: Log;
  /** The environment's key (`SIFT_RERANK_API_KEY`), used when none is stored. */
  envKey?: () => string | undefined;
  /** Called after the key was stored or removed (the editor makes a new reranker with it). */
  changed?: () => void;
  /** Whose key (default the rerank server's). */
  kind?: ServerKeyKind;
}

/** The origin of an http(s) base URL, or undefined (empty, or not http(s)). */
export function serverOrigin(baseUrl: string): string | undefined {
  try {
    const u = new URL(baseUrl.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

export class RerankKey {
  private readonly refused = new Set<string>();

  private readonly kind: ServerKeyKind;

  constructor(private readonly deps: RerankKeyDeps) {
    this.kind = deps.kind ?? RERANK_KEY;
  }

  /**
   * The key to send to the configured rerank server: the stored one when it was entered for this
   * server's origin, else the environment's; a key stored for another origin is not sent (logged once).
   */
  async forServer(): Promise<string | undefined> {
    const stored = await this.stored();
    const origin = serverOrigin(this.deps.baseUrl());
    if (stored?.origin && origin && stored.origin === origin) return stored.key;
    if (stored?.origin && origin !== stored.origin) {
      const message = `Sift did not send the stored ${this.kind.what} API key to ${origin ?? this.deps.baseUrl()}: it was stored for ${stored.origin}. Run "${this.kind.command}" to enter a key for this server.`;
      if (!this.refused.has(message)) {
        this.refused.add(message);
        this.deps.log.warn(message);
      }
    }
    return this.deps.envKey?.() || undefined;
  }

  /** The server a key entered now would belong to, and the origin of the key already stored. */
  async target(): Promise<{ server?: string; storedFor?: string }> {
    return { server: serverOrigin(this.deps.baseUrl()), storedFor: (await this.stored())?.origin };
  }

  /** Stores a key for the configured server's origin, or removes it (`undefined`). */
  async set(key: string | undefined): Promise<void> {
    if (!key) {
      await this.deps.secrets.delete(this.kind.secret);
      this.deps.changed?.();
      return;
    }
    const origin = serverOrigin(this.deps.baseUrl());
    if (!origin) throw new Error(`Set ${this.kind.setting} in your user settings to the ${this.kind.what} server (an http(s) URL) before storing a key for it.`);
    await this.deps.secrets.store(this.kind.secret, serializeStoredKey({ key, origin }));
    this.refused.clear();
    this.deps.changed?.();
  }

  private async stored(): Promise<StoredKey | undefined> {
    const s = parseStoredKey(await this.deps.secrets.get(this.kind.secret));
    return s?.key && s.origin ? s : undefined;
  }
}
