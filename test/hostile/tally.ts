import { appendFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI_SCRIPT } from '../helpers';

/**
 * Counters for the hostile suite's summary. Each test file runs in its own process, so records are
 * appended as JSON lines to the file named by SIFT_HOSTILE_TALLY (set by test/hostile/run.mjs);
 * the runner adds them up and prints the summary.
 */
export interface TallyRecord {
  area: string;
  faultsInjected?: number;
  faultsSurvived?: number;
  payloadsTried?: number;
  payloadsExecuted?: number;
  filesLost?: number;
  /** Secret values planted where Sift could send them (LLM request, index files, logs). */
  secretsTried?: number;
  /** Planted secret values that were found where they must never be. */
  secretsLeaked?: number;
  /** Pathological inputs tried (rules, names, lines, depths, special files, crafted indexes). */
  slowTried?: number;
  /** Of those, how many took longer than their bound or hung. */
  slowExceeded?: number;
  note?: string;
}

export const TALLY_FILE = process.env.SIFT_HOSTILE_TALLY ?? path.join(os.tmpdir(), 'sift-hostile-tally.jsonl');

export function tally(record: TallyRecord): void {
  appendFileSync(TALLY_FILE, `${JSON.stringify(record)}\n`);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs dist/cli.js with a clean LLM environment (no OPENAI_* from the caller). */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, spawnOpts: { uid?: number; gid?: number; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const childEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, OPENAI_BASE_URL: undefined, OPENAI_API_KEY: undefined, SIFT_DEBUG: undefined, ...env })) if (v !== undefined) childEnv[k] = v;
    const child = spawn(process.execPath, [CLI_SCRIPT, ...args], { env: childEnv, ...spawnOpts });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** True when stderr carries a JavaScript stack trace (never acceptable for user-facing failures). */
export function hasStackTrace(text: string): boolean {
  return /\n\s+at .+[(:]\d+/.test(text) || /Unhandled|TypeError|ReferenceError|SyntaxError: /.test(text);
}
