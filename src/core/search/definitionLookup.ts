import { FIELD_NAMES } from '../lexical/bm25';
import { codeTokens } from '../lexical/tokenize';
import type { Understanding } from '../query/understand';
import type { IndexStore } from '../store/store';
import type { Chunk } from '../types';
import { type SymbolName, chunkDefines, questionSymbols } from './definitions';
import { DEFAULT_EVIDENCE_WEIGHTS, type EvidenceWeights } from './fileEvidence';
import { appendAtFractions } from './namedFiles';
import type { NamedStore } from './retriever';
import type { Candidate } from './types';

/**
 * Files that *define* a symbol the question names, looked up in the whole index (issue 19). A
 * long bug report's prose can drown the identifiers it names in BM25, so the file defining
 * `_find_error_handler` or `CliRunner` never becomes a candidate; namedFiles.ts does the same for
 * files named by path. The lookup reads the keyword index's `symbols` field — every chunk's
 * tree-sitter symbol path is indexed there — so a name costs one binary search over each shard's
 * terms and a run of postings, never a scan of the chunks: the rows whose symbol path holds the
 * name's token. A chunk whose symbol path holds the name is part of its definition (`CliRunner >
 * invoke` is inside class CliRunner), so those rows' files define it:
 *
 * - a compound name (`_find_error_handler`, `CliRunner`) is indexed as a whole token only where a
 *   symbol *is* that name, so its rows' files are its definers without reading a chunk (a table
 *   from row to file, below);
 * - a one-word name (`render`, from inline code or a frame) shares its token with every symbol it
 *   is a part of (`render_template`): its rows are read and kept where a symbol equals it;
 * - `Owner.name`: the rows holding both tokens, read and kept where `owner > name` is in the path.
 *
 * One chunk per defining file is read to join the list: the first where the name is the innermost
 * symbol, else the file's first chunk inside the definition.
 *
 * Bounds: the first MAX_LOOKUP_NAMES names; a name whose token is in the symbols of more than
 * MAX_ROWS_PER_NAME live chunks of the collection (MAX_ROWS_ONE_WORD for a one-word name) is too
 * common (`get`, `run`, `__init__`) and adds nothing,
 * nor does one defined in more than MAX_DEFINERS_KEPT files; chunk reads stop at
 * MAX_ROWS_PER_QUESTION for the question. The BM25 indexes are the ones search loads (cached per
 * shard version); when the inference worker searches half of the shards, this thread loads that
 * half's keyword indexes too. The row → file table is built once per shard version from the
 * manifest's file table (one pointer a row: ~0.8 MB per 100 000 chunks).
 */
export const MAX_LOOKUP_NAMES = 16;
export const MAX_ROWS_PER_NAME = 128;
/** … and 48 for a one-word name, whose rows are all read to check them. */
export const MAX_ROWS_ONE_WORD = 48;
/** Chunk rows read for one question over all its names (~0.1 ms a row, warm). */
export const MAX_ROWS_PER_QUESTION = 256;
/** Postings of a qualified name's last part read before intersecting with its owner's. */
const MAX_ROWS_BEFORE_INTERSECT = 4096;
/** Rows of one file read to check a compound name's definition there and pick its chunk. */
const ROWS_READ_PER_FILE = 4;
/** Definers kept per name; a name defined in more files counts as too common. */
export const MAX_DEFINERS_KEPT = 16;

const SYMBOLS_FIELD = FIELD_NAMES.indexOf('symbols');

export interface DefinitionHit {
  /** The name as looked up, lowercased (`owner.name` for a qualified one). */
  name: string;
  qualified: boolean;
  /** Distinct files defining it (undefined: too common to look up — see the bounds above). */
  files?: number;
  /** One defining chunk per file. */
  chunks: { chunk: Chunk; folder?: string }[];
}

interface Wanted {
  /** Lowercased, as compared with symbols (`owner.name` for a qualified one). */
  name: string;
  last: string;
  owner?: string;
  /** As written (its tokens are the index's: `CliRunner` → the whole `clirunner` and its parts). */
  lastSpelled: string;
  ownerSpelled?: string;
  symbol: SymbolName;
}

/** The names a question's identifiers and frames give to look up (definitions.ts questionSymbols): qualified `owner.name` pairs, then bare names. */
export function lookupNames(u: Understanding): Wanted[] {
  const { qualified, bare } = questionSymbols(u);
  return [
    ...qualified.map((q) => ({ name: `${q.owner}.${q.name}`, last: q.name, owner: q.owner, lastSpelled: q.spelled, ownerSpelled: q.ownerSpelled, symbol: q })),
    ...bare.map((b) => ({ name: b.name, last: b.name, lastSpelled: b.spelled, symbol: b })),
  ].slice(0, MAX_LOOKUP_NAMES);
}

/** Row → file path per shard version, built from the manifest's file table once per version. */
const fileTables = new WeakMap<IndexStore, Map<string, (string | undefined)[]>>();

async function filesOfRows(store: IndexStore): Promise<Map<string, (string | undefined)[]>> {
  let tables = fileTables.get(store);
  if (!tables) fileTables.set(store, (tables = new Map()));
  const shards = store.manifest.shards;
  const live = new Set(shards.map((s) => s.dir));
  for (const dir of tables.keys()) if (!live.has(dir)) tables.delete(dir);
  const missing = shards.filter((s) => !tables.has(s.dir));
  if (missing.length) {
    const pathOf = new Map<string, string>();
    const names = new Set(missing.map((s) => s.name));
    for (const [path, entry] of Object.entries(store.manifest.files ?? {})) if (names.has(entry.shard)) for (const id of entry.chunkIds) pathOf.set(id, path);
    for (const shard of missing) tables.set(shard.dir, (await store.lexical(shard)).ids().map((id) => pathOf.get(id)));
  }
  return tables;
}

/** For every name the question gives (lookupNames), the files that define it, from every folder's index. */
export async function lookupDefinitions(stores: IndexStore | readonly NamedStore[], u: Understanding): Promise<DefinitionHit[]> {
  const wanted = lookupNames(u);
  if (!wanted.length) return [];
  const multi = Array.isArray(stores);
  const named: readonly NamedStore[] = multi ? (stores as readonly NamedStore[]) : [{ name: '', store: stores as IndexStore }];
  const out: DefinitionHit[] = [];
  let budget = MAX_ROWS_PER_QUESTION;
  const tables = new Map<NamedStore, Map<string, (string | undefined)[]>>();
  for (const ns of named) tables.set(ns, await filesOfRows(ns.store));
  for (const w of wanted) {
    const tokens = codeTokens(w.lastSpelled);
    const last = tokens[0];
    const owner = w.ownerSpelled === undefined ? undefined : codeTokens(w.ownerSpelled)[0];
    if (!last || (w.owner !== undefined && !owner)) continue;
    // A compound name's first token is the whole name, indexed only where a symbol is that name.
    const exact = !owner && tokens.length > 1 && last === w.last;
    const hit: DefinitionHit = { name: w.name, qualified: Boolean(owner), chunks: [] };
    // Rows per (folder, shard), bounded over the whole collection.
    const located: { ns: NamedStore; shard: Parameters<IndexStore['chunksAt']>[0]; rows: number[] }[] = [];
    let total = 0;
    let common = false;
    for (const ns of named) {
      for (const shard of ns.store.manifest.shards) {
        const index = await ns.store.lexical(shard);
        const cap = (exact || owner ? MAX_ROWS_PER_NAME : MAX_ROWS_ONE_WORD) - total;
        let rows = index.rowsWith(last, SYMBOLS_FIELD, owner ? MAX_ROWS_BEFORE_INTERSECT : cap);
        if (rows && owner && rows.length) {
          const of = new Set(index.rowsWith(owner, SYMBOLS_FIELD, MAX_ROWS_BEFORE_INTERSECT) ?? []);
          rows = rows.filter((r) => of.has(r));
          if (rows.length > cap) rows = undefined;
        }
        if (!rows) {
          common = true;
          break;
        }
        total += rows.length;
        if (rows.length) located.push({ ns, shard, rows });
      }
      if (common) break;
    }
    if (common || (!exact && total > budget)) {
      out.push(hit);
      continue;
    }
    // Candidate definers per file, rows in order: a compound name's rows define it as they are; the others are read and checked.
    const byFile = new Map<string, { ns: NamedStore; shard: (typeof located)[number]['shard']; rows: number[]; chunk?: Chunk }>();
    for (const { ns, shard, rows } of located) {
      const files = tables.get(ns)!.get(shard.dir) ?? [];
      if (exact) {
        for (const row of rows) {
          const path = files[row];
          if (path === undefined) continue;
          const key = `${multi ? ns.name : ''}\u0000${path}`;
          const f = byFile.get(key);
          if (f) f.rows.push(row);
          else byFile.set(key, { ns, shard, rows: [row] });
        }
        continue;
      }
      budget -= rows.length;
      for (const [i, chunk] of (await ns.store.chunksAt(shard, rows)).entries()) {
        if (!inDefinition(chunk, w)) continue;
        const key = `${multi ? ns.name : ''}\u0000${chunk.path}`;
        const f = byFile.get(key);
        if (!f) byFile.set(key, { ns, shard, rows: [rows[i]!], chunk });
        else if (!innermost(f.chunk!.symbols, w) && innermost(chunk.symbols, w)) f.chunk = chunk;
      }
    }
    if (!byFile.size || byFile.size > MAX_DEFINERS_KEPT) {
      if (byFile.size) out.push(hit);
      continue;
    }
    for (const f of byFile.values()) {
      if (!f.chunk) {
        // A compound name's files: a few of their rows read, to check (a snake_case symbol's part can
        // spell a camelCase name: `test_progressbar_x` holds `progressbar`) and to pick the chunk to add.
        const rows = f.rows.slice(0, Math.min(ROWS_READ_PER_FILE, budget));
        budget -= rows.length;
        const chunks = (await f.ns.store.chunksAt(f.shard, rows)).filter((c) => inDefinition(c, w));
        f.chunk = chunks.find((c) => innermost(c.symbols, w)) ?? chunks[0];
      }
      if (f.chunk) hit.chunks.push({ chunk: f.chunk, ...(multi ? { folder: f.ns.name } : {}) });
    }
    if (!hit.chunks.length) continue;
    hit.files = hit.chunks.length;
    hit.chunks.sort((a, b) => (a.folder ?? '').localeCompare(b.folder ?? '') || a.chunk.path.localeCompare(b.chunk.path));
    out.push(hit);
  }
  return out;
}

/** The chunk defines the name: the one rule of definitions.ts (chunkDefines), for this name alone. */
function inDefinition(chunk: Chunk, w: Wanted): boolean {
  return chunkDefines(chunk, w.owner === undefined ? { qualified: [], bare: [w.symbol] } : { qualified: [w.symbol], bare: [] }) !== undefined;
}

/** The chunk's innermost symbol is the name. */
function innermost(symbols: readonly string[], w: Wanted): boolean {
  const n = symbols.length;
  return n > 0 && symbols[n - 1]!.toLowerCase() === w.last && (w.owner === undefined || symbols[n - 2]?.toLowerCase() === w.owner);
}

/** A defining chunk to add, and the name it defines. */
export interface Definer {
  chunk: Chunk;
  folder?: string;
  name: string;
}

/**
 * The defining chunks to add to a list: for each name defined in at most `w.lookupFiles` files
 * (a common name — `__init__`, `get`, `run` — is defined in many and adds nothing), its definers
 * the list lacks (one chunk per file). A qualified name that is defined somewhere speaks for its
 * bare last part (`Context.invoke` found: the other `invoke`s are not added for it).
 */
export function definitionChunks(hits: readonly DefinitionHit[], list: readonly Candidate[], w: Readonly<EvidenceWeights> = DEFAULT_EVIDENCE_WEIGHTS): Definer[] {
  if (!(w.lookupFiles > 0)) return [];
  const present = new Set(list.map((c) => `${c.folder ?? ''}\u0000${c.chunk.path}`));
  const coveredLast = new Set(hits.filter((h) => h.qualified && h.files).map((h) => h.name.split('.').pop()!));
  const out: Definer[] = [];
  for (const h of hits) {
    if (!h.files || h.files > w.lookupFiles) continue;
    if (!h.qualified && coveredLast.has(h.name)) continue;
    for (const c of h.chunks) {
      const key = `${c.folder ?? ''}\u0000${c.chunk.path}`;
      if (present.has(key)) continue;
      present.add(key);
      out.push({ ...c, name: h.name });
    }
  }
  return out;
}

/**
 * Appends looked-up definitions to a list, each scored at `w.lookupScore` of the list's best (as the
 * last stage that scored the list measures it: BM25 or fused score × the fraction, a reranker's or
 * learning-to-rank score where its standardised relative score is the fraction — relativeScores);
 * 0 scores them as the list's weakest. The question prior then weighs them like any candidate, with
 * the role prior and the "defines a named symbol" boost.
 */
export function appendDefinitions(list: readonly Candidate[], extra: readonly Definer[], w: Readonly<EvidenceWeights> = DEFAULT_EVIDENCE_WEIGHTS): Candidate[] {
  const f = w.lookupScore > 0 ? w.lookupScore : 0;
  return appendAtFractions(
    list,
    extra.map(({ chunk, folder, name }) => ({ chunk, ...(folder !== undefined ? { folder } : {}), f, note: { definesLookedUp: name } })),
  );
}

/** `sift ask`: looks the question's names up (unless the lookup is off) and appends the definitions the list lacks. */
export async function addDefinitions(stores: IndexStore | readonly NamedStore[], u: Understanding, list: readonly Candidate[], w: Readonly<EvidenceWeights> = DEFAULT_EVIDENCE_WEIGHTS): Promise<Candidate[]> {
  if (!(w.lookupFiles > 0) || !list.length) return [...list];
  return appendDefinitions(list, definitionChunks(await lookupDefinitions(stores, u), list, w), w);
}
