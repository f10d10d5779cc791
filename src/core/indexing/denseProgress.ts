/**
 * Rate and ETA of the dense (embedding) pass, computed in one place from the indexer's events
 * (`lexical-ready`, `dense`) for every front end: the editor's status bar, the MCP server's
 * `index_status`, the CLI. The clock is injected, so tests drive it without waiting.
 */
import type { IndexEvent } from './indexer';
import { formatCount } from '../util/format';

/** What a front end shows while vectors are computed (and after: `rate`/`etaSeconds` absent). */
export interface DenseStatus {
  /** Chunks with vectors, of all chunks in the index. */
  embedded: number;
  chunks: number;
  /** Whole percent of chunks dense search covers (floored: 100 only when every chunk is embedded). */
  percent: number;
  /** Chunks embedded per second, smoothed; absent until two progress events a measurable time apart. */
  rate?: number;
  /** Seconds until every chunk is embedded at `rate`; absent without a rate or once done. */
  etaSeconds?: number;
  /** Whether the dense pass is running now. */
  running: boolean;
}

export interface DenseTrackerOptions {
  /** Milliseconds, monotonic (default `performance.now`). */
  now?: () => number;
  /**
   * Time constant of the exponential smoothing (ms): a rate measured over `dt` weighs
   * `1 - exp(-dt / smoothingMs)` against the previous estimate (default 30 s).
   */
  smoothingMs?: number;
}

/**
 * Follows one folder's dense pass: `observe` every indexer event, read `status()` whenever the
 * front end renders. The rate is an exponentially weighted average over time (not over events),
 * so irregular commit intervals do not skew it.
 */
export class DenseTracker {
  private readonly now: () => number;
  private readonly smoothingMs: number;
  private embedded = 0;
  private chunks = 0;
  private running = false;
  private last?: { at: number; done: number };
  private rate?: number;

  constructor(opts: DenseTrackerOptions = {}) {
    this.now = opts.now ?? (() => performance.now());
    this.smoothingMs = opts.smoothingMs ?? 30_000;
  }

  /** Feeds one indexer event; events other than `lexical-ready` and `dense` are ignored. Returns whether the status changed. */
  observe(e: IndexEvent): boolean {
    if (e.type === 'lexical-ready') {
      // A pass still running (interrupted for saved changes, not stopped) continues: its rate is kept.
      const continuing = this.running;
      this.set(e.embedded, e.chunks);
      this.running = e.embedded < e.chunks;
      this.last = { at: this.now(), done: 0 };
      if (!continuing || !this.running) this.rate = undefined;
      return true;
    }
    if (e.type !== 'dense') return false;
    const at = this.now();
    if (!this.running || !this.last) {
      // A dense pass without lexical-ready (not lexical first): start measuring here.
      this.running = true;
      this.last = { at, done: e.done };
    } else {
      const dt = at - this.last.at;
      const dn = e.done - this.last.done;
      if (dt > 0 && dn >= 0) {
        const instant = (dn * 1000) / dt;
        const w = 1 - Math.exp(-dt / this.smoothingMs);
        this.rate = this.rate === undefined ? instant : this.rate + w * (instant - this.rate);
        this.last = { at, done: e.done };
      }
    }
    this.set(e.embedded, e.chunks);
    if (e.done >= e.total) this.running = false;
    return true;
  }

  /** The pass ended (finished, stopped or failed): rate and ETA are no longer shown. */
  stop(coverage?: { embedded: number; chunks: number }): void {
    if (coverage) this.set(coverage.embedded, coverage.chunks);
    this.running = false;
    this.last = undefined;
    this.rate = undefined;
  }

  status(): DenseStatus {
    const percent = this.chunks ? Math.floor((100 * this.embedded) / this.chunks) : 100;
    const left = this.chunks - this.embedded;
    const rate = this.running && this.rate !== undefined && this.rate > 0 ? this.rate : undefined;
    return {
      embedded: this.embedded,
      chunks: this.chunks,
      percent,
      running: this.running,
      ...(rate !== undefined ? { rate: Math.round(rate * 10) / 10, ...(left > 0 ? { etaSeconds: Math.ceil(left / rate) } : {}) } : {}),
    };
  }

  private set(embedded: number, chunks: number): void {
    this.embedded = embedded;
    this.chunks = chunks;
  }
}

/** "1 h 5 min", "12 min", "40 s": an ETA for people. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * One sentence for a status bar tooltip, a log line or an agent: "Dense search covers 34 % of
 * chunks (3,400 of 10,000); embedding 74.2 chunks/s, about 2 min left."
 */
export function describeDense(d: DenseStatus): string {
  const covers = `Dense search covers ${d.percent} % of chunks (${formatCount(d.embedded)} of ${formatCount(d.chunks)})`;
  if (!d.running) return `${covers}.`;
  const rate = d.rate !== undefined ? ` ${d.rate} chunks/s` : '';
  const eta = d.etaSeconds !== undefined ? `, about ${formatDuration(d.etaSeconds)} left` : d.rate === undefined ? ' (measuring the rate)' : '';
  return `${covers}; embedding${rate}${eta}.`;
}

/**
 * Several folders' dense status as one (the status bar, an answer over several folders): chunks
 * and coverage summed; the rates of the passes running now added, and their ETAs too (the editor
 * runs one folder's pass at a time, so they follow each other).
 */
export function combineDense(parts: readonly DenseStatus[]): DenseStatus {
  let embedded = 0;
  let chunks = 0;
  let rate: number | undefined;
  let eta: number | undefined;
  let running = false;
  for (const p of parts) {
    embedded += p.embedded;
    chunks += p.chunks;
    if (!p.running) continue;
    running = true;
    if (p.rate !== undefined) rate = (rate ?? 0) + p.rate;
    if (p.etaSeconds !== undefined) eta = (eta ?? 0) + p.etaSeconds;
  }
  return {
    embedded,
    chunks,
    percent: chunks ? Math.floor((100 * embedded) / chunks) : 100,
    running,
    ...(rate !== undefined ? { rate: Math.round(rate * 10) / 10 } : {}),
    ...(eta !== undefined ? { etaSeconds: eta } : {}),
  };
}
