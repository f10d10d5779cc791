import { SiftError } from '../util/errors';

/** How many times a question runs when the index changes while it reads it. */
export const INDEX_CHANGED_ATTEMPTS = 4;

/**
 * Runs a question again when the index changed while it was read. A background pass commits while
 * questions are asked; a reader whose shard version a commit removed gets `index-changed` (readers
 * retrieve before anything is streamed or sent to an LLM), reopens on the new manifest and the
 * question runs again. A shard version stays on disk for one more commit after the manifest stops
 * naming it, so a read fails only when two commits land during it — which back-to-back commits (an
 * update's keyword commit, then a dense pass committing each shard as soon as it is answered, every
 * fraction of a second on a fast embedding server) can do twice in a row: up to
 * INDEX_CHANGED_ATTEMPTS runs. Used by the editor's questions and the MCP server's tools.
 */
export async function retryIfIndexChanged<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof SiftError && err.code === 'index-changed') || attempt >= INDEX_CHANGED_ATTEMPTS) throw err;
    }
  }
}
