/**
 * The rerank server's API key (`sift.rerank.provider` http) in the editor's secret storage, bound to
 * the origin of `sift.rerank.baseUrl` it was entered for: Sift sends it to that origin only (the
 * HTTP reranker also refuses redirects). Without a stored key, `SIFT_RERANK_API_KEY` from the
 * environment is used as before. No vscode import (tested in test/unit/rerank-key.test.ts).
 */
import type { Log, SecretStore } from './ports';
import { type StoredKey, parseStoredKey, serializeStoredKey } from './trust';

export const RERANK_KEY_SECRET = 'sift.rerank.apiKey';

export interface RerankKeyDeps {
  secrets: SecretStore;
  /** `sift.rerank.baseUrl` (a user-only setting). */
  baseUrl: () => string;
  log: Log;
  /** The environment's key (`SIFT_RERANK_API_KEY`), used when none is stored. */
  envKey?: () => string | undefined;
  /** Called after the key was stored or removed (the editor makes a new reranker with it). */
  changed?: () => void;
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

  constructor(private readonly deps: RerankKeyDeps) {}

  /**
   * The key to send to the configured rerank server: the stored one when it was entered for this
   * server's origin, else the environment's; a key stored for another origin is not sent (logged once).
   */
  async forServer(): Promise<string | undefined> {
    const stored = await this.stored();
    const origin = serverOrigin(this.deps.baseUrl());
    if (stored?.origin && origin && stored.origin === origin) return stored.key;
    if (stored?.origin && origin !== stored.origin) {
      const message = `Sift did not send the stored rerank API key to ${origin ?? this.deps.baseUrl()}: it was stored for ${stored.origin}. Run "Sift: Set Rerank API Key" to enter a key for this server.`;
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
      await this.deps.secrets.delete(RERANK_KEY_SECRET);
      this.deps.changed?.();
      return;
    }
    const origin = serverOrigin(this.deps.baseUrl());
    if (!origin) throw new Error('Set sift.rerank.baseUrl in your user settings to the rerank server (an http(s) URL) before storing a key for it.');
    await this.deps.secrets.store(RERANK_KEY_SECRET, serializeStoredKey({ key, origin }));
    this.refused.clear();
    this.deps.changed?.();
  }

  private async stored(): Promise<StoredKey | undefined> {
    const s = parseStoredKey(await this.deps.secrets.get(RERANK_KEY_SECRET));
    return s?.key && s.origin ? s : undefined;
  }
}
