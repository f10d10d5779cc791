/**
 * Lazy loader for the tree-sitter WebAssembly runtime and grammars shipped by
 * `@vscode/tree-sitter-wasm` (web-tree-sitter 0.25 built as a UMD/CommonJS module).
 *
 * - `wasm/tree-sitter.js` exports `{ Parser, Language, Node, Tree, Query, ... }`.
 * - `Parser.init({ locateFile })` must be awaited once per thread before any `new Parser()`; it
 *   instantiates `tree-sitter.wasm`, which Emscripten looks up through `locateFile`. Without it
 *   the runtime looks next to the *running script*: after esbuild bundling that is `dist/`, not
 *   `dist/wasm/`, so we always pass `locateFile`.
 * - `Language.load(bytes)` loads a grammar; we read the file ourselves and pass the bytes.
 *
 * Where the wasm files are (first that has `tree-sitter.wasm`): `init({ wasmDir })`, else
 * `<dir of this module>/wasm` (the esbuild bundle: `dist/worker.js` → `dist/wasm/`), else the
 * installed package's `wasm/` folder (`require.resolve('@vscode/tree-sitter-wasm/package.json')`).
 *
 * Every worker_threads worker has its own WebAssembly instance: each thread calls `init` (or lets
 * `getParser` do it lazily). Nothing here is shared across threads.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type * as TreeSitter from '@vscode/tree-sitter-wasm';
import { grammarFor } from './languages';

export type TSParser = TreeSitter.Parser;
export type TSLanguage = TreeSitter.Language;
export type TSNode = TreeSitter.Node;
export type TSTree = TreeSitter.Tree;

export interface TreeSitterOptions {
  /** Folder holding `tree-sitter.wasm` and the `tree-sitter-<lang>.wasm` grammars. */
  wasmDir?: string;
}

const RUNTIME_WASM = 'tree-sitter.wasm';

let runtime: typeof TreeSitter | undefined;
let initPromise: Promise<void> | undefined;
let activeWasmDir: string | undefined;
const languages = new Map<string, Promise<TSLanguage>>();
const parsers = new Map<string, TSParser>();

function hasRuntime(dir: string): boolean {
  return existsSync(path.join(dir, RUNTIME_WASM));
}

/** The folder the wasm files are read from: the override when given, else the first that exists. */
export function resolveWasmDir(override?: string): string {
  if (override) {
    if (!hasRuntime(override)) throw new Error(`tree-sitter: no ${RUNTIME_WASM} in ${override}`);
    return path.resolve(override);
  }
  const candidates: string[] = [path.join(__dirname, 'wasm')];
  try {
    candidates.push(path.join(path.dirname(require.resolve('@vscode/tree-sitter-wasm/package.json')), 'wasm'));
  } catch {
    // not installed beside us (e.g. a packaged extension): only the bundled copy can work
  }
  for (const dir of candidates) if (hasRuntime(dir)) return dir;
  throw new Error(`tree-sitter: cannot find ${RUNTIME_WASM} (looked in ${candidates.join(', ')}); pass init({ wasmDir })`);
}

/**
 * Initialises the tree-sitter runtime for this thread. Idempotent: the first call decides the
 * wasm folder; later calls (with any options, including another `wasmDir`) return the same
 * promise. A failed initialisation is forgotten so that a later call can retry. Errors from
 * here and from grammar loading have messages starting with "tree-sitter:".
 */
export function init(options: TreeSitterOptions = {}): Promise<void> {
  if (!initPromise) {
    initPromise = (async () => {
      const dir = resolveWasmDir(options.wasmDir);
      try {
        // Loaded on first use so that importing the chunker costs nothing for non-code files.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require('@vscode/tree-sitter-wasm') as typeof TreeSitter;
        await mod.Parser.init({ locateFile: (file: string) => path.join(dir, file) });
        runtime = mod;
        activeWasmDir = dir;
      } catch (err) {
        throw new Error(`tree-sitter: cannot initialise the runtime from ${dir}: ${err instanceof Error ? err.message : String(err)}`);
      }
    })();
    initPromise.catch(() => {
      initPromise = undefined;
    });
  }
  return initPromise;
}

/** The wasm folder in use, once initialised. */
export function wasmDir(): string | undefined {
  return activeWasmDir;
}

/** Loads (once) the grammar for a language id; undefined when the package has none. */
export async function getLanguage(language: string): Promise<TSLanguage | undefined> {
  const file = grammarFor(language);
  if (!file) return undefined;
  await init();
  let loaded = languages.get(file);
  if (!loaded) {
    loaded = (async () => {
      const where = path.join(activeWasmDir!, file);
      try {
        const bytes = await readFile(where);
        return await runtime!.Language.load(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      } catch (err) {
        throw new Error(`tree-sitter: cannot load the ${language} grammar (${where}): ${err instanceof Error ? err.message : String(err)}`);
      }
    })();
    languages.set(file, loaded);
    loaded.catch(() => languages.delete(file));
  }
  return loaded;
}

/**
 * A parser for a language id (one cached parser per grammar; parsing is synchronous, so sharing
 * it within a thread is safe). Undefined when the language has no grammar.
 */
export async function getParser(language: string): Promise<TSParser | undefined> {
  const file = grammarFor(language);
  if (!file) return undefined;
  const cached = parsers.get(file);
  if (cached) return cached;
  const lang = await getLanguage(language);
  if (!lang) return undefined;
  const again = parsers.get(file); // another caller may have finished first
  if (again) return again;
  const parser = new runtime!.Parser();
  parser.setLanguage(lang);
  parsers.set(file, parser);
  return parser;
}

/** Parses `text`; the caller must `tree.delete()` it. Undefined when there is no grammar. */
export async function parse(language: string, text: string): Promise<TSTree | undefined> {
  const parser = await getParser(language);
  if (!parser) return undefined;
  return parser.parse(text) ?? undefined;
}
