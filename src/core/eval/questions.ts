import { SiftError } from '../util/errors';

/** A gold file: its path (relative, '/'-separated) and, when known, the relevant 1-based inclusive line ranges. */
export interface GoldFile {
  path: string;
  lineRanges: [number, number][];
  /** Gold symbols (functions/classes a commit changed), when known. */
  symbols?: string[];
}

export interface EvalQuestion {
  id: string;
  question: string;
  gold: GoldFile[];
  /** GitHub `owner/name` (SWE-QA) or the mined repository's folder name. */
  repo?: string;
  /** The commit the question is about (evaluated at this commit). */
  commit?: string;
}

interface RawGold {
  path?: unknown;
  line_ranges?: unknown;
  lineRanges?: unknown;
  symbols?: unknown;
}

function toGold(raw: RawGold): GoldFile | undefined {
  if (typeof raw.path !== 'string' || !raw.path) return undefined;
  const ranges = (raw.line_ranges ?? raw.lineRanges ?? []) as unknown[];
  const lineRanges: [number, number][] = [];
  for (const r of Array.isArray(ranges) ? ranges : []) {
    if (Array.isArray(r) && r.length >= 2 && Number.isFinite(r[0]) && Number.isFinite(r[1])) lineRanges.push([Number(r[0]), Number(r[1])]);
  }
  const symbols = Array.isArray(raw.symbols) ? raw.symbols.filter((s): s is string => typeof s === 'string') : undefined;
  return { path: raw.path.replace(/\\/g, '/').replace(/^\.\//, ''), lineRanges, ...(symbols?.length ? { symbols } : {}) };
}

/**
 * Parses a questions file in the SWE-QA format (one JSON object per line: `query_id`, `repo`,
 * `commit`, `question`, `silver_gold: [{path, line_ranges}]`), or a JSON array of such objects.
 * `gold` is accepted as a synonym of `silver_gold`, `id` of `query_id`, and a gold entry may be a
 * plain path string. `commit` is the commit to ask the question at (`sift eval` checks it out when
 * it is not the folder's own). Questions without gold files are dropped (they cannot be scored);
 * `filter` keeps only questions whose repo equals it or ends with `/filter`.
 */
export function parseQuestions(text: string, filter?: string): { questions: EvalQuestion[]; droppedNoGold: number } {
  const questions: EvalQuestion[] = [];
  let droppedNoGold = 0;
  // A JSON array of questions, or one question per line (JSON Lines).
  let entries: { raw: unknown; where: string; n: number }[];
  if (text.trimStart().startsWith('[')) {
    let all: unknown;
    try {
      all = JSON.parse(text);
    } catch (err) {
      throw new SiftError(`questions file is not a JSON array: ${(err as Error).message}`, 'general');
    }
    if (!Array.isArray(all)) throw new SiftError('questions file is not a JSON array', 'general');
    entries = all.map((raw: unknown, i) => ({ raw, where: `entry ${i + 1}`, n: i + 1 }));
  } else {
    entries = text.split(/\r?\n/).flatMap((line, i) => {
      if (!line.trim()) return [];
      try {
        return [{ raw: JSON.parse(line) as unknown, where: `line ${i + 1}`, n: i + 1 }];
      } catch (err) {
        throw new SiftError(`questions file line ${i + 1} is not JSON: ${(err as Error).message}`, 'general');
      }
    });
  }
  for (const { raw: value, where, n } of entries) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new SiftError(`questions file ${where} is not a JSON object`, 'general');
    const raw = value as Record<string, unknown>;
    const question = typeof raw.question === 'string' ? raw.question : '';
    if (!question.trim()) throw new SiftError(`questions file ${where} has no "question"`, 'general');
    const repo = typeof raw.repo === 'string' ? raw.repo : undefined;
    if (filter && !(repo === filter || repo?.endsWith(`/${filter}`) || repo?.split('/').pop() === filter)) continue;
    const rawGold = (raw.silver_gold ?? raw.gold ?? []) as RawGold[];
    const gold = (Array.isArray(rawGold) ? rawGold : []).map((g) => toGold(typeof g === 'string' ? { path: g } : (g ?? {}))).filter((g): g is GoldFile => Boolean(g));
    // Merge duplicate paths.
    const byPath = new Map<string, GoldFile>();
    for (const g of gold) {
      const seen = byPath.get(g.path);
      if (seen) seen.lineRanges.push(...g.lineRanges);
      else byPath.set(g.path, g);
    }
    if (!byPath.size) {
      droppedNoGold++;
      continue;
    }
    const id = String(raw.query_id ?? raw.id ?? `q${n}`);
    const commit = typeof raw.commit === 'string' ? raw.commit : undefined;
    questions.push({ id, question, gold: [...byPath.values()], ...(repo ? { repo } : {}), ...(commit ? { commit } : {}) });
  }
  return { questions, droppedNoGold };
}
