/**
 * Deterministic synthetic corpora for the benchmark: TypeScript-like source files (for the real
 * indexer) and ready-made chunks + unit vectors (to fill an index through the store API without
 * running the embedding model on 200k chunks).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Chunk } from '../../src/core/types';
import { sha256Hex } from '../../src/core/util/fs';
import { mulberry32 } from '../../src/core/util/random';

const WORDS = (
  'upload queue retry failed attempt backoff token cache invalidate session user account profile ' +
  'request response header body stream buffer chunk index shard manifest vector embed rerank score ' +
  'query search result parse render template config option setting default value path file folder ' +
  'read write open close flush commit rollback lock unlock watch event emit listen handler callback ' +
  'promise timer delay timeout abort signal error warning notice log trace metric counter gauge ' +
  'server client socket connect disconnect send receive message payload encode decode compress ' +
  'hash digest sign verify secret key certificate auth login logout permission role group member ' +
  'order invoice payment price amount currency customer product item cart checkout shipping address ' +
  'graph node edge tree root leaf child parent sibling walk visit collect filter map reduce sort merge'
).split(' ');

/** The seeded PRNG of src/core/util/random.ts (small, fast, deterministic). */
export const rng = mulberry32;

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const camel = (r: () => number, n: number) =>
  Array.from({ length: n }, (_, i) => {
    const w = pick(r, WORDS);
    return i === 0 ? w : w[0]!.toUpperCase() + w.slice(1);
  }).join('');

function functionSource(r: () => number, lines: number): { name: string; text: string } {
  const name = camel(r, 2 + Math.floor(r() * 2));
  const args = Array.from({ length: 1 + Math.floor(r() * 3) }, () => `${camel(r, 2)}: ${pick(r, ['string', 'number', 'boolean', 'Buffer'])}`);
  const body: string[] = [];
  for (let i = 0; i < lines; i++) {
    const k = r();
    if (k < 0.15) body.push(`  // ${Array.from({ length: 6 + Math.floor(r() * 8) }, () => pick(r, WORDS)).join(' ')}`);
    else if (k < 0.3) body.push(`  if (${camel(r, 2)} > ${Math.floor(r() * 100)}) { await ${camel(r, 2)}(${camel(r, 1)}); }`);
    else body.push(`  const ${camel(r, 2)}${i} = ${camel(r, 2)}(${camel(r, 2)}, '${pick(r, WORDS)}-${pick(r, WORDS)}', ${Math.floor(r() * 1000)});`);
  }
  return { name, text: `export async function ${name}(${args.join(', ')}): Promise<void> {\n${body.join('\n')}\n}\n` };
}

/** Writes `files` TypeScript files under root, ~`functionsPerFile` functions each of 8–40 lines. */
export function writeSourceRepo(root: string, files: number, opts: { functionsPerFile?: number; seed?: number; minLines?: number; maxLines?: number } = {}): void {
  const r = rng(opts.seed ?? 1);
  const fpf = opts.functionsPerFile ?? 6;
  const minLines = opts.minLines ?? 8;
  const maxLines = opts.maxLines ?? 40;
  for (let f = 0; f < files; f++) {
    const dir = path.join(root, 'src', `m${f % 50}`);
    mkdirSync(dir, { recursive: true });
    const parts = [`import { ${camel(r, 2)} } from './${pick(r, WORDS)}';\n`];
    for (let i = 0; i < fpf; i++) parts.push(functionSource(r, minLines + Math.floor(r() * (maxLines - minLines + 1))).text);
    writeFileSync(path.join(dir, `${camel(r, 2)}${f}.ts`), parts.join('\n'));
  }
}

/** Synthetic chunks of one file (~`chars` characters of code each). */
export function syntheticChunks(r: () => number, fileIndex: number, count: number, chars = 900): Chunk[] {
  const rel = `src/m${fileIndex % 100}/file${fileIndex}.ts`;
  const out: Chunk[] = [];
  let line = 1;
  for (let c = 0; c < count; c++) {
    const first = functionSource(r, 20);
    const name = first.name;
    let text = first.text;
    while (text.length < chars) text += functionSource(r, 10).text;
    text = text.slice(0, chars);
    const lines = text.split('\n').length;
    const header = `function ${name}`;
    out.push({
      id: sha256Hex(`${rel}#${c}`, 16),
      path: rel,
      startLine: line,
      endLine: line + lines - 1,
      language: 'typescript',
      kind: 'function',
      symbols: [name],
      header,
      text,
      hash: sha256Hex(header + text, 16),
    });
    line += lines;
  }
  return out;
}

/** A random unit vector (what a normalised embedding looks like to the store). */
export function unitVector(r: () => number, dim: number): number[] {
  const v = new Array<number>(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    // Sum of uniforms ≈ Gaussian: directions spread over the sphere.
    const x = r() + r() + r() - 1.5;
    v[i] = x;
    norm += x * x;
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < dim; i++) v[i] = v[i]! / norm;
  return v;
}

export function queryText(r: () => number): string {
  return `where do we ${pick(r, WORDS)} the ${pick(r, WORDS)} ${pick(r, WORDS)} when ${pick(r, WORDS)} fails`;
}
