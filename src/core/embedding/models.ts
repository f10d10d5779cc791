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
