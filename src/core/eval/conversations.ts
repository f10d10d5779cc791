import { createHash } from 'node:crypto';
import { isTestFile } from '../conversation/relatedTests';
import { fileRole } from '../query/roles';
import { git, listTree } from '../util/git';
import { classifyCommit, commitQuestion } from './gitHistory';
import type { GoldFile } from './questions';

/**
 * Conversations with known answers (issue 18): each turn is a question and the files that answer
 * it. File format: JSON lines, one conversation per line —
 *   {"id": "c1", "split": "report", "turns": [
 *     {"question": "Fix the retry of failed uploads", "gold": ["src/upload.py"]},
 *     {"question": "and where is this tested?", "gold": [{"path": "tests/test_upload.py"}]}]}
 * — or one JSON array of such objects. A gold entry is a path or `{path, line_ranges}`. `split`
 * (`tune` / `report`, optional) is the half a mined conversation belongs to; `repo`, `commit` are
 * informational. A line that is not a conversation (not JSON, no turns, a turn without a question
 * or gold) is dropped with a message naming it; the other lines are kept.
 */
export interface ConversationTurnSpec {
  question: string;
  gold: GoldFile[];
}

export interface EvalConversation {
  id: string;
  turns: ConversationTurnSpec[];
  split?: 'tune' | 'report';
  repo?: string;
  commit?: string;
}

export interface ParsedConversations {
  conversations: EvalConversation[];
  /** One message per dropped line or entry. */
  dropped: string[];
}

const MAX_TURNS = 20;

export function parseConversations(text: string): ParsedConversations {
  const conversations: EvalConversation[] = [];
  const dropped: string[] = [];
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  let entries: { where: string; value: unknown; error?: string }[];
  if (trimmed.startsWith('[')) {
    try {
      const all = JSON.parse(trimmed) as unknown[];
      entries = all.map((value, i) => ({ where: `entry ${i + 1}`, value }));
    } catch (err) {
      return { conversations, dropped: [`the file starts with "[" but is not a JSON array: ${(err as Error).message}`] };
    }
  } else {
    entries = [];
    text.split(/\r?\n/).forEach((line, i) => {
      if (!line.trim() || line.trim().startsWith('//')) return;
      try {
        entries.push({ where: `line ${i + 1}`, value: JSON.parse(line) });
      } catch (err) {
        entries.push({ where: `line ${i + 1}`, value: undefined, error: `not JSON (${(err as Error).message})` });
      }
    });
  }
  const ids = new Set<string>();
  for (const e of entries) {
    const problem = e.error ?? checkConversation(e.value);
    if (typeof problem === 'string') {
      dropped.push(`${e.where}: ${problem}; dropped`);
      continue;
    }
    const base = problem.id || e.where.replace(/\s+/g, '-');
    let id = base;
    for (let n = 2; ids.has(id); n++) id = `${base}#${n}`;
    ids.add(id);
    conversations.push({ ...problem, id });
  }
  return { conversations, dropped };
}

/** The conversation in `raw`, or why it is not one. */
function checkConversation(raw: unknown): EvalConversation | string {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return 'not a JSON object';
  const r = raw as Record<string, unknown>;
  if (!Array.isArray(r.turns)) return 'no "turns" array';
  if (r.turns.length < 1) return '"turns" is empty';
  const turns: ConversationTurnSpec[] = [];
  for (const [i, t] of r.turns.slice(0, MAX_TURNS).entries()) {
    if (!t || typeof t !== 'object') return `turn ${i + 1} is not an object`;
    const q = (t as Record<string, unknown>).question;
    if (typeof q !== 'string' || !q.trim()) return `turn ${i + 1} has no "question"`;
    const gold = goldOf((t as Record<string, unknown>).gold);
    if (!gold.length) return `turn ${i + 1} has no gold files ("gold": ["path", …])`;
    turns.push({ question: q.slice(0, 20_000), gold });
  }
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 200) : undefined);
  const split = r.split === 'tune' || r.split === 'report' ? r.split : undefined;
  const repo = str(r.repo);
  const commit = str(r.commit);
  return { id: str(r.id) ?? '', turns, ...(split ? { split } : {}), ...(repo ? { repo } : {}), ...(commit ? { commit } : {}) };
}

function goldOf(raw: unknown): GoldFile[] {
  const byPath = new Map<string, GoldFile>();
  for (const g of Array.isArray(raw) ? raw : []) {
    const p = typeof g === 'string' ? g : g && typeof g === 'object' ? (g as Record<string, unknown>).path : undefined;
    if (typeof p !== 'string' || !p.trim() || p.includes('\0')) continue;
    const rel = p.trim().replace(/\\/g, '/').replace(/^\.\//, '');
    const ranges = typeof g === 'object' ? ((g as Record<string, unknown>).line_ranges ?? (g as Record<string, unknown>).lineRanges) : undefined;
    const lineRanges = (Array.isArray(ranges) ? ranges : []).filter((x): x is [number, number] => Array.isArray(x) && Number.isFinite(x[0]) && Number.isFinite(x[1])).map((x) => [Number(x[0]), Number(x[1])] as [number, number]);
    const seen = byPath.get(rel);
    if (seen) seen.lineRanges.push(...lineRanges);
    else byPath.set(rel, { path: rel, lineRanges });
  }
  return [...byPath.values()];
}

/** Elliptical follow-ups about tests (each refers back: a pronoun, a demonstrative or a leading "and"). */
export const TEST_FOLLOW_UPS = [
  'and where is this tested?',
  'how is that tested?',
  'which tests cover it?',
  'and what about the tests for this?',
  'where are the tests for that?',
  'what tests exercise this?',
] as const;

export interface MineConversationsOptions {
  max: number;
  /** Seeds the choice of follow-up phrasing and the tune/report split (default 1). */
  seed?: number;
  rev?: string;
  /** Commits changing more source and test files than this are skipped (default 8; other files do not count). */
  maxFiles?: number;
  scanLimit?: number;
}

export interface MinedConversations {
  conversations: EvalConversation[];
  scanned: number;
  skipped: Record<string, number>;
}

const CODE = /\.(?:[cm]?[jt]sx?|py|go|rs|java|kt|scala|rb|php|cs|swift|c|cc|cpp|h|hpp|ex|exs|sh|bats)$/i;

/**
 * Conversations from a repository's history: each commit (not a merge, revert, version bump or
 * formatting change; a message of 3+ words) that changed at least one source file and one test
 * file (not a helper or fixture under a test folder), all still present at `rev`, 8 at most, gives turn 1 = the commit's question (gold: its source files)
 * and turn 2 = an elliptical follow-up about tests (gold: its test files). The phrasing and the
 * split are drawn from a hash of the seed and the commit, so a file is reproducible and a commit
 * keeps its half whatever else is mined. Evaluated against the work tree at `rev`.
 */
export async function mineConversations(repo: string, opts: MineConversationsOptions): Promise<MinedConversations> {
  const seed = opts.seed ?? 1;
  const maxFiles = opts.maxFiles ?? 8;
  const rev = opts.rev ?? 'HEAD';
  const present = new Set((await listTree(repo, rev)).filter((e) => e.type === 'blob').map((e) => e.path));
  const commits = await git(repo, ['rev-list', `-n${opts.scanLimit ?? Math.max(400, opts.max * 40)}`, '--first-parent', '--end-of-options', rev, '--']);
  const SEP = '\u001e';
  const FIELD = '\u001f';
  const log = await git(repo, ['diff-tree', '--stdin', '--always', '--root', '-r', '-M', '--name-status', `--format=${SEP}%H${FIELD}%P${FIELD}%s${FIELD}%b${FIELD}`], { input: commits });
  const skipped: Record<string, number> = {};
  const skip = (why: string) => (skipped[why] = (skipped[why] ?? 0) + 1);
  const conversations: EvalConversation[] = [];
  let scanned = 0;
  for (const record of log.split(SEP).slice(1)) {
    if (conversations.length >= opts.max) break;
    scanned++;
    const [hash, parentsText, subject, body, statusText] = record.split(FIELD) as [string, string, string, string, string];
    const parents = parentsText.trim() ? parentsText.trim().split(' ') : [];
    const status = (statusText ?? '').split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
      const parts = l.split('\t');
      return { code: parts[0]!, path: parts[parts.length - 1]! };
    });
    // Docs and changelogs ride along in many commits: the limit counts the code files only.
    const reason = classifyCommit({ parents, subject, body, status }, Number.MAX_SAFE_INTEGER);
    if (reason && reason !== 'root-commit') {
      skip(reason);
      continue;
    }
    const code = status.filter((s) => s.code !== 'D' && CODE.test(s.path) && present.has(s.path)).map((s) => s.path);
    const sources = code.filter((p) => fileRole(p) === 'source');
    const tests = code.filter(isTestFile);
    if (!sources.length || !tests.length) {
      skip('no source and test pair');
      continue;
    }
    if (sources.length + tests.length > maxFiles) {
      skip('too-many-files');
      continue;
    }
    const draw = createHash('sha256').update(`${seed}\u0000${hash}`).digest();
    const followUp = TEST_FOLLOW_UPS[draw.readUInt32BE(0) % TEST_FOLLOW_UPS.length]!;
    conversations.push({
      id: `conv-${hash.slice(0, 10)}`,
      split: draw[4]! % 2 === 0 ? 'tune' : 'report',
      commit: hash,
      turns: [
        { question: commitQuestion(subject, body), gold: sources.map((p) => ({ path: p, lineRanges: [] })) },
        { question: followUp, gold: tests.map((p) => ({ path: p, lineRanges: [] })) },
      ],
    });
  }
  return { conversations, scanned, skipped };
}

/** The JSON-lines text of a conversations file. */
export function conversationsJsonl(conversations: readonly EvalConversation[]): string {
  return conversations
    .map((c) => JSON.stringify({ id: c.id, ...(c.split ? { split: c.split } : {}), ...(c.repo ? { repo: c.repo } : {}), ...(c.commit ? { commit: c.commit } : {}), turns: c.turns.map((t) => ({ question: t.question, gold: t.gold.map((g) => g.path) })) }))
    .join('\n') + (conversations.length ? '\n' : '');
}
