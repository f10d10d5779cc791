/**
 * P5 time to first answer (issue 17): a fresh corpus of `files` source files (10k in the full run)
 * that was never indexed, the MiniLM-shaped embedder on `threads` cores. A fresh process plays the
 * extension host (first-answer-child.ts): inference worker and indexing thread started, lexical
 * first, the question asked as soon as every file is keyword-searchable. Reported beside the goals:
 * time from start to the answer (≤ 30 s) and the host thread's worst event-loop delay meanwhile
 * (≤ 50 ms); in the notes, the keyword pass, the chunk count and the dense pass's rate afterwards.
 * Beside them, informational: the first answer from what is ready — the same question asked at the
 * keyword pass's first commit (as the editor and the MCP server answer a question asked then), with
 * the share of files it covered. P5's goal stays compared with the answer over every file.
 */
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { runBundledChild } from './bundleChild';
import { writeSourceRepo } from './corpus';
import type { Row } from './bench';

export interface FirstAnswerConfig {
  embedder: string;
  workerScript: string;
  indexerScript: string;
  workDir: string;
  threads: number;
  dtype: 'q8' | 'fp32';
  /** Source files in the fresh corpus (10 000 in the full run). */
  files: number;
  /** How long the dense pass runs after the answer before it is cancelled (its rate and event loop). */
  denseSeconds: number;
  log?: (line: string) => void;
}

export interface FirstAnswerArgs {
  worker: string;
  indexer: string;
  root: string;
  indexDir: string;
  model: string;
  dtype: 'q8' | 'fp32';
  threads: number;
  cacheDir: string;
  question: string;
  denseSeconds: number;
}

type Loop = { max: number; p99: number; mean: number };

export interface FirstAnswerReport {
  files: number;
  chunks: number;
  /** From start to the embedding model loaded (worker started, model read). */
  modelMs: number;
  /** From start to every file searchable by keywords. */
  lexicalReadyMs: number;
  /** From start to the answer's ranked sources. */
  answerMs: number;
  hits: number;
  retrieval: string;
  /** The question asked at the keyword pass's first commit: when it came, when answered, from how many files. */
  ready?: { committedMs: number; answerMs: number; hits: number; files: { searchable: number; total: number }; chunks: number };
  /** The host thread's event-loop delay from start to the answer (ms). */
  loop: Loop;
  /** The largest delay before the question (indexing alone, ms). */
  loopBeforeQuestion: number;
  /**
   * The host thread's longest pause (a 5 ms timer's lateness, ms) by what it was doing: indexing
   * alone (its events), the question at the first commit, the question once every file is searchable.
   */
  pauses: { indexing: number; 'ready-question': number; question: number };
  /** The same while the dense pass ran afterwards. */
  denseLoop?: Loop;
  dense: { embedded: number; chunks: number; rate?: number };
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

export async function benchFirstAnswer(cfg: FirstAnswerConfig): Promise<Row[]> {
  const log = cfg.log ?? (() => undefined);
  const root = path.join(cfg.workDir, 'p5-corpus');
  log(`P5: writing a fresh corpus of ${cfg.files} files`);
  // Three functions per file: ≈ 10 chunks a file, the ~100k chunks of a 10k-file repository the issue describes.
  writeSourceRepo(root, cfg.files, { seed: 55, functionsPerFile: 3 });
  const args: FirstAnswerArgs = {
    worker: cfg.workerScript,
    indexer: cfg.indexerScript,
    root,
    indexDir: path.join(cfg.workDir, 'p5-index'),
    model: cfg.embedder,
    dtype: cfg.dtype,
    threads: cfg.threads,
    cacheDir: path.join(cfg.workDir, 'model-cache'),
    question: 'where do we retry the upload when the session token fails',
    denseSeconds: cfg.denseSeconds,
  };
  log('P5: time to first answer (fresh process, lexical first)');
  const r = await runChild(args);
  rmSync(root, { recursive: true, force: true });
  rmSync(args.indexDir, { recursive: true, force: true });
  const seconds = r.answerMs / 1000;
  const denseLoop = r.denseLoop ? `; while embedding afterwards: max ${round(r.denseLoop.max)} ms, p99 ${round(r.denseLoop.p99)} ms` : '';
  log(`P5: ${r.files} files, ${r.chunks} chunks: keyword-searchable at ${round(r.lexicalReadyMs / 1000, 2)} s, answered at ${round(seconds, 2)} s; event loop max ${round(r.loop.max)} ms (${round(r.loopBeforeQuestion)} ms before the question; longest pauses: indexing ${round(r.pauses.indexing)} ms, question at the first commit ${round(r.pauses['ready-question'])} ms, question ${round(r.pauses.question)} ms)${denseLoop}; dense ${r.dense.rate ?? '?'} chunks/s`);
  if (r.answerMs < 0 || !r.hits) throw new Error(`P5: no answer (${JSON.stringify(r)})`);
  const coverage = r.dense.chunks ? round((100 * r.dense.embedded) / r.dense.chunks) : 0;
  const ready = r.ready;
  const readyPct = ready ? Math.floor((100 * ready.files.searchable) / ready.files.total) : 0;
  if (ready) log(`P5: first answer from what is ready: first keyword commit at ${round(ready.committedMs / 1000, 2)} s, answered at ${round(ready.answerMs / 1000, 2)} s from ${ready.files.searchable} of ${ready.files.total} files (${readyPct} %, ${ready.chunks} chunks), ${ready.hits} sources`);
  const readyRow: Row[] = ready
    ? [
        {
          id: 'P5.first-answer-ready',
          section: 'P5',
          metric: `first answer from what is ready (asked at the keyword pass's first commit), fresh ${r.files}-file corpus`,
          value: round(ready.answerMs / 1000, 2),
          unit: 's',
          goal: 'informational',
          note: `covers ${readyPct} % of files (${ready.files.searchable} of ${ready.files.total}; ${ready.chunks} chunks), ${ready.hits} sources; first commit at ${round(ready.committedMs / 1000, 2)} s. Not P5's goal, which is the answer over every file (P5.first-answer)`,
        },
      ]
    : [];
  return [
    {
      id: 'P5.first-answer',
      section: 'P5',
      metric: `time to first answer, fresh ${r.files}-file corpus (${r.chunks} chunks), lexical first`,
      value: round(seconds, 2),
      unit: 's',
      goal: '≤ 30 s',
      met: seconds <= 30,
      note: `from process start (worker, model load ${Math.round(r.modelMs)} ms included): every file keyword-searchable at ${round(r.lexicalReadyMs / 1000, 2)} s, ${r.hits} sources (${r.retrieval}) at ${round(seconds, 2)} s; then the dense pass ran ${cfg.denseSeconds} s+ at ${r.dense.rate ?? '?'} chunks/s (${coverage} % covered when cancelled, ≈ ${r.dense.rate ? Math.round(r.dense.chunks / r.dense.rate / 60) : '?'} min for all)`,
    },
    {
      id: 'P5.eventloop',
      section: 'P5',
      metric: 'extension-host event-loop delay until the first answer (max)',
      value: round(r.loop.max),
      unit: 'ms',
      baseline: { label: 'p99', value: round(r.loop.p99), unit: 'ms' },
      goal: '≤ 50 ms',
      met: r.loop.max <= 50,
      note: `indexing on its own thread, the question's retrieval on the host thread; max ${round(r.loopBeforeQuestion)} ms before the question (indexing alone and the question at the first commit); longest pause while indexing alone ${round(r.pauses.indexing)} ms, in the question at the first commit ${round(r.pauses['ready-question'])} ms, in the question ${round(r.pauses.question)} ms; mean ${round(r.loop.mean)} ms${denseLoop}`,
    },
    ...readyRow,
  ];
}

function runChild(args: FirstAnswerArgs): Promise<FirstAnswerReport> {
  // Plain JavaScript, not `--import tsx`: tsx's loader would run in every thread the child starts (bundleChild.ts).
  return runBundledChild<FirstAnswerReport>(path.join(__dirname, 'first-answer-child.ts'), args, { nodeArgs: ['--expose-gc'] });
}
