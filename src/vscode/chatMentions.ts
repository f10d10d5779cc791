import { type Mention, MentionCatalog } from '../core/search/mentions';
import type { NamedStore } from '../core/search/retriever';
import { errorMessage } from '../core/util/errors';
import type { Log } from './ports';

export const MAX_COMPLETIONS = 30;

/**
 * `@` completion for the chat input: the files, folders and symbols of the indexes that can be
 * read now. The catalog is built once per set of opened stores (rebuilt after the indexer
 * committed, when the readers reopen) and shared by concurrent requests.
 */
export class ChatMentions {
  private built: { stores: readonly NamedStore[]; catalog: Promise<MentionCatalog> } | undefined;

  constructor(
    private readonly indexes: () => Promise<NamedStore[]>,
    private readonly log: Log,
  ) {}

  async complete(prefix: string, limit = MAX_COMPLETIONS): Promise<{ items: Mention[]; notice?: string }> {
    try {
      const stores = await this.indexes();
      if (!stores.length) return { items: [], notice: 'No index yet: nothing to complete.' };
      return { items: (await this.catalog(stores)).complete(prefix, Math.min(limit, MAX_COMPLETIONS)) };
    } catch (err) {
      this.log.warn(`@ completion failed: ${errorMessage(err)}`);
      this.built = undefined;
      return { items: [], notice: 'Completion is unavailable (see Sift: Show Logs).' };
    }
  }

  private catalog(stores: readonly NamedStore[]): Promise<MentionCatalog> {
    const b = this.built;
    if (b && b.stores.length === stores.length && b.stores.every((s, i) => s.store === stores[i]!.store && s.name === stores[i]!.name)) return b.catalog;
    const started = Date.now();
    const catalog = MentionCatalog.build(stores).then((c) => {
      this.log.info(`@ completion: ${c.size} files, folders and symbols listed in ${Date.now() - started} ms`);
      return c;
    });
    this.built = { stores: [...stores], catalog };
    return catalog;
  }
}
