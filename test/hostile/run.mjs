#!/usr/bin/env node
// Runs the hostile-input / fault-injection suite (test/hostile/*.test.ts) and prints its summary:
// faults injected / survived, payloads tried / executed, files lost. Exit code: the test run's,
// or 1 when a fault was not survived, a payload executed or a file was lost.
// Usage: npm run test:hostile  (builds first)   or   node test/hostile/run.mjs [test files…]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(here).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join('test', 'hostile', f));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'sift-hostile-'));
const tallyFile = path.join(tmp, 'tally.jsonl');
const started = Date.now();
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
  cwd: repo,
  stdio: 'inherit',
  env: { ...process.env, SIFT_HOSTILE_TALLY: tallyFile },
});
const records = existsSync(tallyFile) ? readFileSync(tallyFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
rmSync(tmp, { recursive: true, force: true });

const sum = (k) => records.reduce((n, r) => n + (r[k] ?? 0), 0);
const byArea = new Map();
for (const r of records) {
  const a = byArea.get(r.area) ?? { faultsInjected: 0, faultsSurvived: 0, payloadsTried: 0, payloadsExecuted: 0, filesLost: 0, secretsTried: 0, secretsLeaked: 0, slowTried: 0, slowExceeded: 0 };
  for (const k of Object.keys(a)) a[k] += r[k] ?? 0;
  byArea.set(r.area, a);
}
const total = {
  faultsInjected: sum('faultsInjected'),
  faultsSurvived: sum('faultsSurvived'),
  payloadsTried: sum('payloadsTried'),
  payloadsExecuted: sum('payloadsExecuted'),
  filesLost: sum('filesLost'),
  secretsTried: sum('secretsTried'),
  secretsLeaked: sum('secretsLeaked'),
  slowTried: sum('slowTried'),
  slowExceeded: sum('slowExceeded'),
};
const line = (name, a) => `  ${name.padEnd(22)} faults ${String(a.faultsSurvived).padStart(4)}/${String(a.faultsInjected).padEnd(4)} survived   payloads ${String(a.payloadsExecuted).padStart(3)}/${String(a.payloadsTried).padEnd(4)} executed   files lost ${a.filesLost}   secrets ${String(a.secretsLeaked).padStart(3)}/${String(a.secretsTried).padEnd(4)} leaked   slow ${String(a.slowExceeded).padStart(3)}/${String(a.slowTried).padEnd(4)} over bound`;
console.log('\n── Sift hostile-input summary ─────────────────────────────────────────────');
for (const [area, a] of [...byArea].sort()) console.log(line(area, a));
console.log(line('TOTAL', total));
for (const r of records.filter((x) => x.note)) console.log(`  · ${r.area}: ${r.note}`);
console.log(`  (${Math.round((Date.now() - started) / 1000)} s)`);
const ok = run.status === 0 && total.faultsInjected === total.faultsSurvived && total.payloadsExecuted === 0 && total.filesLost === 0 && total.secretsLeaked === 0 && total.slowExceeded === 0 && records.length > 0;
if (!ok && run.status === 0) console.error('hostile suite: a fault was not survived, a payload executed, a file was lost, a secret leaked, a pathological input ran over its bound, or nothing was recorded');
process.exit(run.status === 0 ? (ok ? 0 : 1) : (run.status ?? 1));
