import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';

export const DEFAULT_EMBEDDING_MODEL = 'Xenova/all-MiniLM-L6-v2';
export const DEFAULT_RERANKER_MODEL = 'Xenova/ms-marco-MiniLM-L-6-v2';
export const DEFAULT_DTYPE = 'q8';
/** Tokens the cross-encoder reads per (question, passage) pair unless told otherwise. */
export const DEFAULT_RERANK_MAX_LENGTH = 256;

/**
 * transformers.js resolves models as `localModelPath + id` (local) or `remoteHost + id` (hub).
 * A model given as a folder path is loaded by pointing localModelPath at its parent.
 */
export interface ResolvedModel {
  /** Identifier passed to transformers.js. */
  id: string;
  /** Set for a local folder: the directory to use as `env.localModelPath`. */
  localRoot?: string;
  /** The name recorded in the index manifest: the hub id, or the folder's absolute path. */
  displayName: string;
}

export function isLocalModelPath(model: string): boolean {
  return path.isAbsolute(model) || model.startsWith('./') || model.startsWith('../') || model.startsWith('~');
}

export function resolveModel(model: string): ResolvedModel {
  if (isLocalModelPath(model)) {
    const abs = path.resolve(model.startsWith('~') ? path.join(process.env.HOME ?? '', model.slice(1)) : model);
    return { id: path.basename(abs), localRoot: path.dirname(abs), displayName: abs };
  }
  return { id: model, displayName: model };
}

/** Explains why a local model folder cannot be used, or returns undefined. */
export function checkLocalModelFolder(folder: string): string | undefined {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) return `model folder ${folder} does not exist`;
  for (const f of ['config.json', 'tokenizer.json']) {
    if (!existsSync(path.join(folder, f))) return `model folder ${folder} has no ${f}`;
  }
  if (!existsSync(path.join(folder, 'onnx'))) return `model folder ${folder} has no onnx/ subfolder`;
  return undefined;
}

/** The onnx file transformers.js loads for a dtype (for messages). */
export function onnxFileFor(dtype: string): string {
  const suffix: Record<string, string> = { fp32: '', q8: '_quantized', int8: '_int8', uint8: '_uint8', fp16: '_fp16', q4: '_q4', bnb4: '_bnb4', q4f16: '_q4f16' };
  return `onnx/model${suffix[dtype] ?? `_${dtype}`}.onnx`;
}

/** The hub transformers.js downloads from unless a mirror is configured. */
export const DEFAULT_MODEL_HOST = 'https://huggingface.co/';

/** A hub URL as transformers.js uses it (with a trailing slash); the default hub for none. */
export function normalizeModelHost(remoteHost: string | undefined): string {
  const host = remoteHost?.trim() || DEFAULT_MODEL_HOST;
  return host.endsWith('/') ? host : `${host}/`;
}

/**
 * The download cache of one model source. transformers.js keys its file cache by model id and
 * file name only, so files downloaded from a mirror would otherwise answer for the same id from
 * any other source: each source (hub or mirror URL) gets its own folder under the cache.
 */
export function modelCacheDirFor(cacheDir: string, remoteHost: string | undefined): string {
  const host = normalizeModelHost(remoteHost);
  let name: string;
  try {
    const u = new URL(host);
    name = `${u.hostname}${u.port ? `_${u.port}` : ''}`.replace(/[^A-Za-z0-9._-]/g, '_');
  } catch {
    name = 'source';
  }
  // The hash tells apart sources on one host (scheme, path, user): the name is for people.
  return path.join(cacheDir, `${name}-${createHash('sha256').update(host).digest('hex').slice(0, 12)}`);
}
