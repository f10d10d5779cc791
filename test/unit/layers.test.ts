import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers';

/**
 * The folder-level import graph of src/core, built from the sources (import / export … from /
 * import() / require specifiers, type-only ones included, relative paths resolved): no cycle, and
 * every edge goes left in the stage order that `npm run lint` also enforces (eslint.config.mjs).
 * A stage folder added without a place in that order fails here too.
 */
const CORE = path.join(REPO_ROOT, 'src', 'core');
const BASE = '(root)'; // src/core/types.ts and other files at the root of src/core

async function stageOrder(): Promise<string[]> {
  const config = (await import(path.join(REPO_ROOT, 'eslint.config.mjs'))) as { STAGES: string[] };
  return config.STAGES;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return /\.(ts|mts|cts)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

const SPECIFIER = /(?:\bimport\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?|\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s+from\s+|\bimport\s*\(\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

/** The stage folder of a file under src/core (BASE for files at its root). */
function folderOf(file: string): string {
  const rel = path.relative(CORE, file).split(path.sep);
  return rel.length > 1 ? rel[0]! : BASE;
}

function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined; // packages and node: built-ins
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts'), base.replace(/\.js$/, '.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // next candidate
    }
  }
  assert.fail(`${path.relative(REPO_ROOT, from)} imports ${spec}, which does not resolve to a file`);
}

/** folder → folder → the first import that makes the edge (for the message). */
function buildGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(CORE)) {
    const text = readFileSync(file, 'utf8');
    const from = folderOf(file);
    if (!graph.has(from)) graph.set(from, new Map());
    for (const m of text.matchAll(SPECIFIER)) {
      const target = resolveImport(file, m[1]!);
      if (!target) continue;
      const rel = path.relative(CORE, target);
      assert.ok(!rel.startsWith('..'), `${path.relative(REPO_ROOT, file)} imports ${m[1]} from outside src/core`);
      const to = folderOf(target);
      if (to !== from && !graph.get(from)!.has(to)) graph.get(from)!.set(to, `${path.relative(REPO_ROOT, file)} → ${m[1]}`);
    }
  }
  return graph;
}

function findCycle(graph: Map<string, Map<string, string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 'open');
    stack.push(n);
    for (const next of graph.get(n)?.keys() ?? []) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of graph.keys()) {
    if (!state.has(n)) {
      const found = visit(n);
      if (found) return found;
    }
  }
  return undefined;
}

describe('src/core layers (folder-level import graph)', () => {
  it('the graph is built from real imports (sanity: known edges are seen, type-only ones too)', () => {
    const graph = buildGraph();
    assert.ok(graph.get('answer')?.has('search'), 'answer imports search');
    assert.ok(graph.get('store')?.has(BASE), 'store imports types.ts (type-only)');
  });

  it('has no folder-level cycle', () => {
    const graph = buildGraph();
    const cycle = findCycle(graph);
    assert.equal(cycle, undefined, `folder cycle: ${cycle?.join(' → ')} (first edges: ${cycle?.slice(0, -1).map((n, i) => graph.get(n)!.get(cycle[i + 1]!)).join('; ')})`);
  });

  it('every stage folder has a place in the order and imports only stages to its left', async () => {
    const order = await stageOrder();
    const folders = readdirSync(CORE, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    const unplaced = folders.filter((f) => !order.includes(f));
    assert.deepEqual(unplaced, [], `src/core folders without a place in STAGES (eslint.config.mjs): ${unplaced.join(', ')}`);
    const rank = (f: string) => (f === BASE ? -1 : order.indexOf(f));
    const wrong: string[] = [];
    for (const [from, edges] of buildGraph()) {
      for (const [to, where] of edges) {
        if (from === BASE ? to !== BASE : rank(to) >= rank(from)) wrong.push(`${from} → ${to} (${where})`);
      }
    }
    assert.deepEqual(wrong, [], `imports of a later stage (order: ${order.join(' > ')}):\n${wrong.join('\n')}`);
  });
});
