import { HttpReranker } from '../core/rerank/http';

/** `--rerank-provider local|http --rerank-base-url URL --rerank-model NAME` (ask, chat, eval, mcp). */
export interface RerankProviderOptions {
  rerankProvider?: string;
  rerankBaseUrl?: string;
  rerankModel?: string;
}

export const RERANK_PROVIDERS = ['local', 'http'] as const;

/**
 * The http reranker the options (or SIFT_RERANK_PROVIDER / SIFT_RERANK_BASE_URL / SIFT_RERANK_MODEL) ask for;
 * undefined for the local cross-encoder. The key comes from SIFT_RERANK_API_KEY only (never a flag: flags
 * show in process lists) and goes only to the base URL's origin.
 */
export function httpRerankerFromOptions(options: RerankProviderOptions, env: NodeJS.ProcessEnv = process.env): HttpReranker | undefined {
  const provider = options.rerankProvider ?? env.SIFT_RERANK_PROVIDER ?? 'local';
  if (provider === 'local') return undefined;
  if (provider !== 'http') throw new Error(`--rerank-provider must be one of ${RERANK_PROVIDERS.join(', ')}, not ${JSON.stringify(provider)}`);
  const baseUrl = options.rerankBaseUrl ?? env.SIFT_RERANK_BASE_URL;
  if (!baseUrl) throw new Error('--rerank-provider http needs --rerank-base-url URL (the server that answers POST URL/rerank)');
  const model = options.rerankModel ?? env.SIFT_RERANK_MODEL ?? '';
  return new HttpReranker({ baseUrl, model, apiKey: env.SIFT_RERANK_API_KEY || undefined, timeoutMs: positive(env.SIFT_RERANK_TIMEOUT_MS) });
}

function positive(v: string | undefined): number | undefined {
  const n = Number(v);
  return v && Number.isFinite(n) && n > 0 ? n : undefined;
}
