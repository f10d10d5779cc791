/**
 * Download progress only for bytes that really come over the network. transformers.js reports
 * the same `progress` events when it reads a model from a local folder or from its cache as when
 * it downloads one, so a local model folder showed "Sift: downloading …". Its `env.fetch` is
 * wrapped to record which files were fetched (a successful GET; metadata HEADs carry no bytes);
 * events of any other file are dropped. A file's record ends with its `done` event, so a later
 * load of the same file from the cache reports nothing.
 */
import type { DownloadProgress } from './protocol';

type Fetch = (input: string | URL, init?: { method?: string } & Record<string, unknown>) => Promise<Response>;

/** What transformers.js passes to `progress_callback`. */
export interface LoadEvent {
  status: string;
  file?: string;
  loaded?: number;
  total?: number;
  progress?: number;
}

export class NetworkProgress {
  /** Decoded URL paths fetched and not yet `done`, e.g. "/org/model/resolve/main/onnx/model.onnx". */
  private readonly fetched = new Set<string>();

  /** A fetch that records each successful GET before handing its response on. */
  wrap(fetch: Fetch): Fetch {
    return async (input, init) => {
      const res = await fetch(input, init);
      const method = (init?.method ?? 'GET').toUpperCase();
      if (method === 'GET' && res.ok) this.fetched.add(urlPath(input));
      return res;
    };
  }

  /** True while `file` of model `id` is being fetched from the network. */
  fromNetwork(id: string, file: string): boolean {
    for (const p of this.fetched) if (matches(p, id, file)) return true;
    return false;
  }

  /**
   * The event to forward for model `id` (shown as `display`), or undefined: `progress` and `done`
   * only for fetched files, `ready` always; `initiate`/`download` carry no bytes and are dropped.
   */
  filter(id: string, display: string, info: LoadEvent): DownloadProgress | undefined {
    const file = info.file ?? '';
    if (info.status === 'ready') return { model: display, file, status: 'ready' };
    if (info.status !== 'progress' && info.status !== 'done') return undefined;
    if (!this.fromNetwork(id, file)) return undefined;
    if (info.status === 'done') for (const p of [...this.fetched]) if (matches(p, id, file)) this.fetched.delete(p);
    return { model: display, file, status: info.status, loaded: info.loaded, total: info.total, percent: info.progress };
  }
}

function urlPath(input: string | URL): string {
  try {
    return decodeURIComponent(new URL(String(input)).pathname);
  } catch {
    return String(input);
  }
}

/** `…/<id>/…/<file>`: the hub's `{model}/resolve/{revision}/{file}` under any host path. */
function matches(p: string, id: string, file: string): boolean {
  return file !== '' && p.endsWith(`/${file}`) && p.includes(`/${id}/`);
}
