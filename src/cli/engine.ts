import * as path from 'node:path';
import { InferenceClient } from '../core/worker/client';
import { DEFAULT_EMBEDDING_MODEL, DEFAULT_DTYPE } from '../core/models/models';
import type { ModelRequest } from '../core/worker/protocol';
import { defaultModelCacheDir } from './paths';

export interface ModelOptions {
  embeddingModel?: string;
  offline?: boolean;
  lexicalOnly?: boolean;
}

/** Starts the inference worker (dist/worker.js sits beside dist/cli.js) with the CLI's model settings. */
export async function startWorker(opts: ModelOptions): Promise<InferenceClient> {
  const client = new InferenceClient(path.join(__dirname, 'worker.js'));
  await client.call('configure', {
    cacheDir: process.env.SIFT_MODEL_CACHE ?? defaultModelCacheDir(),
    allowRemote: !opts.offline && process.env.SIFT_OFFLINE !== '1',
    remoteHost: process.env.SIFT_MODEL_HOST,
    threads: 2,
  });
  return client;
}

export function embeddingRequest(opts: ModelOptions): ModelRequest | null {
  if (opts.lexicalOnly) return null;
  const model = opts.embeddingModel ?? process.env.SIFT_EMBEDDING_MODEL ?? DEFAULT_EMBEDDING_MODEL;
  return { model, dtype: process.env.SIFT_DTYPE ?? DEFAULT_DTYPE };
}

/** An AbortSignal tied to Ctrl-C: the first press cancels cleanly, the second exits at once. */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  return controller.signal;
}
