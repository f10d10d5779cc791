/**
 * End-to-end harness: drives the real VS Code workbench (code-server 4.100.3 = VS Code 1.100.3,
 * Node 20 extension host) in Debian's Chromium through playwright-core, like a user would.
 *
 * Prerequisite: `bash scripts/e2e/setup-code-server.sh` (installs code-server into a cache outside
 * the repository and Chromium via apt). `npm run test:e2e` does it all.
 *
 *   const wb = await startWorkbench({ vsix: buildVsix(), workspace: dir, name: 'smoke' });
 *   try { await wb.runCommand('Sift: Show Logs'); … } finally { await wb.stop(); }
 *
 * Everything lives in a fresh temp folder (user data, extensions, code-server config and logs);
 * `stop()` copies the logs into `test-results/e2e/<name>/` and removes the temp folder. code-server
 * runs under a small guardian process that kills its whole process group when the test process
 * goes away, even when it is killed with SIGKILL, so no server outlives a test run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Frame, type Page } from 'playwright-core';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const RESULTS_DIR = path.join(REPO_ROOT, 'test-results', 'e2e');
export const CODE_SERVER_VERSION = '4.100.3';
export const E2E_CACHE = process.env.SIFT_E2E_CACHE || path.join(os.homedir(), '.cache', 'sift-e2e');
export const CODE_SERVER_ENTRY =
  process.env.SIFT_E2E_CODE_SERVER ||
  path.join(E2E_CACHE, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const CHROMIUM = process.env.SIFT_E2E_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Workspace trust, as code-server handles it:
 * - `trusted` (default): `--disable-workspace-trust` (trust is off for the session: everything runs).
 * - `untrusted`: trust enabled, `security.workspace.trust.startupPrompt: "never"` so no modal is
 *   shown; a folder never trusted before opens in Restricted Mode (each start uses a fresh
 *   user-data-dir, so nothing is remembered). Extensions without
 *   `capabilities.untrustedWorkspaces` are disabled there.
 * - `prompt`: trust enabled with VS Code's defaults: the "Do you trust the authors…" modal shows
 *   and the test answers it (see `visibleDialogs()`).
 * Setting `security.workspace.trust.enabled: false` in `settings` also disables trust (persistently).
 */
export type TrustMode = 'trusted' | 'untrusted' | 'prompt';

export interface WorkbenchOptions {
  /** The .vsix to install (`--install-extension`) into a fresh extensions dir. */
  vsix: string;
  /** Further .vsix files installed after `vsix` (e.g. a test-only extension that drives an API). */
  extraVsix?: string[];
  /** The folder to open (absolute). */
  workspace: string;
  /** User settings, merged over DEFAULT_SETTINGS into `<user-data-dir>/User/settings.json`. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server, inherited by the extension host (so by the extension). */
  env?: Record<string, string>;
  /** Further code-server arguments, e.g. `['--enable-proposed-api', 'publisher.name']` for a test extension. */
  serverArgs?: string[];
  /** Default `trusted`. */
  trust?: TrustMode;
  /**
   * Names the artifact folder `test-results/e2e/<name>/` (screenshots, logs; emptied at start).
   * Default `workbench`. A second start with the same name in one process uses `<name>-2`.
   */
  name?: string;
  /** Default 1400×900. */
  viewport?: { width: number; height: number };
  /**
   * Also wait until the remote extension host has started and activated its eager extensions
   * ("Eager extensions activated" in its log): from then on the palette lists every installed
   * extension's commands. Default true, except with `trust: 'prompt'` (the host waits for the answer).
   */
  waitForExtensionHost?: boolean;
  /** How long to wait for code-server to listen, `.monaco-workbench` and the extension host. Default 90 s. */
  startTimeoutMs?: number;
}

export interface ConsoleEntry {
  type: string;
  text: string;
  url: string;
}

export interface Workbench {
  page: Page;
  /** The browser (a persistent context: one window, `page`). */
  context: BrowserContext;
  /** e.g. http://127.0.0.1:41234/?folder=/tmp/ws */
  url: string;
  port: number;
  workspace: string;
  userDataDir: string;
  extensionsDir: string;
  /** `test-results/e2e/<name>/` */
  artifactsDir: string;
  /** F1, type the command's title as shown in the palette ("Sift: Show Logs"), run the exact match. */
  runCommand(title: string, opts?: { timeoutMs?: number }): Promise<void>;
  /**
   * The first frame (webviews are nested iframes, searched through `page.frames()`) that contains
   * `selector`, or for which `predicate(frame)` is true; polls until `timeoutMs` (default 30 s).
   */
  findWebviewFrame(selectorOrPredicate: string | ((frame: Frame) => Promise<boolean>), opts?: { timeoutMs?: number }): Promise<Frame>;
  /** PNG of the page into `test-results/e2e/<name>/<file>.png`; returns the path. */
  screenshot(file: string): Promise<string>;
  /** Browser console errors so far, minus IGNORED_CONSOLE_ERRORS (pass `all: true` for everything). */
  consoleErrors(opts?: { all?: boolean }): ConsoleEntry[];
  /** Every console message so far (all types). */
  consoleMessages(): ConsoleEntry[];
  /** Native page dialogs (alert/confirm/prompt/beforeunload) seen so far: they are dismissed. */
  pageDialogs(): string[];
  /** Text of the workbench's own modal dialogs currently shown (`.monaco-dialog-box`). */
  visibleDialogs(): Promise<string[]>;
  /** Clicks the button labelled `label` in the workbench's modal dialog (e.g. the trust prompt) and waits for it to close. */
  clickDialogButton(label: string, opts?: { timeoutMs?: number }): Promise<void>;
  /** Text of the notification toasts currently shown. */
  visibleNotifications(): Promise<string[]>;
  /** The extension host log (`<user-data-dir>/logs/<ts>/exthost<N>/remoteexthost.log`, all N). */
  extensionHostLog(): string;
  /**
   * A log file of an extension's LogOutputChannel, e.g. `extensionLog('Sift')` reads
   * `exthost<N>/sift-dev.sift-codebase-qa/Sift.log`. Empty string when absent.
   */
  extensionLog(channel: string, extensionId?: string): string;
  /** Waits until `read()` matches `pattern` (polling), returns the text. */
  waitForLog(read: () => string, pattern: RegExp, opts?: { timeoutMs?: number }): Promise<string>;
  /** Every log file under the user-data-dir's logs folder, absolute paths. */
  logFiles(): string[];
  /** code-server's own stdout+stderr so far. */
  serverOutput(): string;
  /** Screenshots `final.png`, closes the browser, kills code-server's process group, keeps logs in artifactsDir, removes temp files. Idempotent. */
  stop(): Promise<void>;
}

/** Settings that keep the workbench quiet and offline; `settings` overrides any of them. */
export const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
  'github.gitAuthentication': false,
  'chat.commandCenter.enabled': false,
  'window.restoreWindows': 'none',
};

/**
 * Console errors that code-server always logs and that say nothing about the extension:
 * vsda (Microsoft's closed-source signing module) is absent from code-server; the welcome page
 * and gallery try the network (unreachable here).
 */
export const IGNORED_CONSOLE_ERRORS: Array<(e: ConsoleEntry) => boolean> = [
  (e) => /\/vsda\//.test(e.url),
  // "Developer: Reload Window": the old window's logger writes after its IndexedDB closed, and the
  // workbench reports its own (chat, remote) slow shutdown participants.
  (e) => /Unable to write file 'vscode-log:.*IndexedDB database '[^']+' is closed/.test(e.text),
  (e) => /\[lifecycle\] Long running operations during shutdown/.test(e.text),
  (e) => /net::ERR_NAME_NOT_RESOLVED|net::ERR_INTERNET_DISCONNECTED|net::ERR_CONNECTION_REFUSED/.test(e.text) && !/^https?:\/\/127\.0\.0\.1/.test(e.url),
  // The workbench's own cancelled request (e.g. Quick Open's file search superseded by Enter while
  // the machine is busy), logged by workbench.js itself as a bare "Canceled" — never from Sift's
  // webview, whose messages come from its own frame.
  (e) => /\/workbench\/workbench\.js$/.test(e.url) && /^%c\s+ERR color: #f33 Canceled: Error: Canceled\n/.test(e.text),
];

let vsixBuilt: string | undefined;
const usedNames = new Map<string, number>();

/**
 * Builds the VSIX with `npm run package` once per process and returns the path of a private copy
 * (another `npm run package` meanwhile rewrites the one in the repo: a half-written zip fails to
 * install). When `SIFT_E2E_VSIX` is set (scripts/e2e/run.sh builds once for all test files, and
 * copies it), uses that instead.
 */
export function buildVsix(): string {
  if (process.env.SIFT_E2E_VSIX) {
    if (!existsSync(process.env.SIFT_E2E_VSIX)) throw new Error(`SIFT_E2E_VSIX=${process.env.SIFT_E2E_VSIX} does not exist`);
    return process.env.SIFT_E2E_VSIX;
  }
  if (vsixBuilt) return vsixBuilt;
  const started = Date.now();
  // stdin closed: vsce asks "continue? [y/N]" on a TTY for some warnings; never hang on it.
  const r = spawnSync('npm', ['run', 'package'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  // vsce prints "DONE  Packaged: /abs/name.vsix (N files, X MB)"; the name is set by the script.
  const packaged = /Packaged: (.+?\.vsix)/.exec(r.stdout)?.[1];
  const vsix = packaged && path.resolve(REPO_ROOT, packaged);
  if (r.status !== 0 || !vsix || !existsSync(vsix) || statSync(vsix).mtimeMs < started - 2000) {
    throw new Error(`npm run package failed (exit ${r.status}, vsix ${vsix ?? 'not reported'}):\n${r.stdout}\n${r.stderr}`);
  }
  const copyDir = mkdtempSync(path.join(os.tmpdir(), 'sift-e2e-vsix-'));
  process.on('exit', () => rmSync(copyDir, { recursive: true, force: true }));
  vsixBuilt = path.join(copyDir, path.basename(vsix));
  cpSync(vsix, vsixBuilt);
  return vsixBuilt;
}

/**
 * Runs code-server under a guardian process. code-server leads its own process group (with the
 * extension host, file watcher, terminals). The guardian kills that group when its stdin closes:
 * after a "stop" line on stop(), or without one when the test process died (even by SIGKILL); in
 * that case it also removes the temp folder. argv: tmpDir, entry.js, code-server args.
 */
const GUARDIAN = `
const { spawn } = require('child_process');
const { rmSync } = require('fs');
const [tmp, entry, ...args] = process.argv.slice(1);
const child = spawn(process.execPath, [entry, ...args], { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
console.error('[guardian] code-server pid ' + child.pid);
// Escalation grace periods (not synchronisation): SIGTERM first, SIGKILL if still alive after this.
const KILL_GRACE_MS = 3000, CLEANUP_RETRY_MS = 2000;
let stopRequested = false, ending = false;
const killGroup = (sig) => { try { process.kill(-child.pid, sig); } catch {} };
function end() {
  if (ending) return; ending = true;
  killGroup('SIGTERM');
  setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
}
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { if (d.includes('stop')) stopRequested = true; });
process.stdin.on('end', end); process.stdin.on('error', end);
process.on('SIGTERM', end); process.on('SIGINT', end);
child.on('exit', (code, signal) => {
  console.error('[guardian] code-server exited (' + (signal || code) + ')');
  killGroup('SIGKILL'); // whatever is left of its group
  if (!stopRequested) {
    // The test process is gone: nobody else will clean up. The browser quits on its own when
    // its pipe closes; remove again a moment later for files it wrote meanwhile.
    const rm = () => { try { rmSync(tmp, { recursive: true, force: true, maxRetries: 3 }); } catch {} };
    rm(); setTimeout(() => { rm(); process.exit(0); }, CLEANUP_RETRY_MS);
  } else process.exit(0);
});
`;

export async function startWorkbench(opts: WorkbenchOptions): Promise<Workbench> {
  const trust = opts.trust ?? 'trusted';
  const name = opts.name ?? 'workbench';
  const startTimeoutMs = opts.startTimeoutMs ?? 90_000;
  if (!existsSync(CODE_SERVER_ENTRY)) {
    throw new Error(`code-server not found at ${CODE_SERVER_ENTRY}: run \`bash scripts/e2e/setup-code-server.sh\` first`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run \`bash scripts/e2e/setup-code-server.sh\` first`);
  if (!existsSync(opts.vsix)) throw new Error(`VSIX not found: ${opts.vsix}`);
  if (!path.isAbsolute(opts.workspace) || !existsSync(opts.workspace)) throw new Error(`workspace must be an existing absolute path: ${opts.workspace}`);

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sift-e2e-'));
  const userDataDir = path.join(tmp, 'user-data');
  const extensionsDir = path.join(tmp, 'extensions');
  // Fresh per run; a second workbench with the same name in one process gets `<name>-2`, ….
  const n = (usedNames.get(name) ?? 0) + 1;
  usedNames.set(name, n);
  const artifactsDir = path.join(RESULTS_DIR, n === 1 ? name : `${name}-${n}`);
  rmSync(artifactsDir, { recursive: true, force: true });
  mkdirSync(artifactsDir, { recursive: true });
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });

  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  if (trust === 'untrusted') settings['security.workspace.trust.startupPrompt'] = 'never';
  Object.assign(settings, opts.settings);
  writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));

  // code-server writes a config.yaml (random password) and coder-logs under the XDG dirs unless
  // told otherwise: keep both in the temp folder, never in $HOME.
  const configFile = path.join(tmp, 'config.yaml');
  writeFileSync(configFile, 'auth: none\ncert: false\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(tmp, 'xdg-config'),
    XDG_DATA_HOME: path.join(tmp, 'xdg-data'),
    // Sift's model cache and indexes: keep the real ~/.cache/sift out of tests unless asked.
    SIFT_HOME: path.join(tmp, 'sift-home'),
    ...opts.env,
  };
  delete env.PASSWORD;
  delete env.HASHED_PASSWORD;
  delete env.VSCODE_IPC_HOOK_CLI; // when run from a VS Code terminal, code-server would forward to it
  const common = ['--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  const install = spawnSync(process.execPath, [CODE_SERVER_ENTRY, ...common, '--install-extension', opts.vsix, '--force'], {
    env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
  });
  if (install.status !== 0 || !/successfully installed/i.test(install.stdout + install.stderr)) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`code-server --install-extension ${opts.vsix} failed (exit ${install.status}):\n${install.stdout}\n${install.stderr}`);
  }
  for (const extra of opts.extraVsix ?? []) {
    const r = spawnSync(process.execPath, [CODE_SERVER_ENTRY, ...common, '--install-extension', extra, '--force'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    if (r.status !== 0 || !/successfully installed/i.test(r.stdout + r.stderr)) {
      rmSync(tmp, { recursive: true, force: true });
      throw new Error(`code-server --install-extension ${extra} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
  }

  const serverArgs = [
    ...common,
    '--auth', 'none',
    '--bind-addr', '127.0.0.1:0', // code-server picks a free port and prints it
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...(trust === 'trusted' ? ['--disable-workspace-trust'] : []),
    ...(opts.serverArgs ?? []),
    opts.workspace,
  ];
  const server: ChildProcess = spawn(process.execPath, ['-e', GUARDIAN, tmp, CODE_SERVER_ENTRY, ...serverArgs], {
    env, detached: true, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let serverOut = '';
  server.stdout!.on('data', (d: Buffer) => (serverOut += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (serverOut += d.toString()));
  const serverExited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  // Keep the guardian's stdin open while we live; do not keep the event loop alive for it.
  (server.stdin as unknown as { unref?: () => void }).unref?.();
  server.unref();
  (server.stdout as unknown as { unref?: () => void }).unref?.();
  (server.stderr as unknown as { unref?: () => void }).unref?.();

  let context: BrowserContext | undefined;
  let stopped = false;
  const console_: ConsoleEntry[] = [];
  const dialogs: string[] = [];

  const logsDir = path.join(userDataDir, 'logs');
  const logFiles = (): string[] => {
    const out: string[] = [];
    const walk = (d: string) => {
      if (!existsSync(d)) return;
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else out.push(p);
      }
    };
    walk(logsDir);
    return out.sort();
  };
  const readAll = (files: string[]) => files.map((f) => { try { return readFileSync(f, 'utf8'); } catch { return ''; } }).join('');
  const exthostLogs = (suffix: string) =>
    logFiles().filter((f) => /[\\/]exthost\d+[\\/]/.test(f) && f.endsWith(suffix))
      .sort((a, b) => mtime(a) - mtime(b));

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    if (context) {
      // What the workbench showed at the end: the first thing to look at when a test failed.
      const page = context.pages()[0];
      if (page) await page.screenshot({ path: path.join(artifactsDir, 'final.png'), timeout: 10_000 }).catch(() => undefined);
      await withTimeout(context.close().catch(() => undefined), 15_000);
    }
    server.stdin?.end('stop\n');
    if (!(await withTimeout(serverExited, 10_000))) {
      killHard();
      await withTimeout(serverExited, 5_000);
    }
    try {
      if (existsSync(logsDir)) cpSync(logsDir, path.join(artifactsDir, 'logs'), { recursive: true });
      writeFileSync(path.join(artifactsDir, 'code-server.log'), serverOut);
      writeFileSync(path.join(artifactsDir, 'console.log'), console_.map((c) => `[${c.type}] ${c.text} (${c.url})`).join('\n') + '\n');
    } catch { /* artifacts are best effort */ }
    rmSync(tmp, { recursive: true, force: true });
  };
  // SIGKILL to code-server's process group, then the guardian's (which then removes the temp folder
  // unless stop() asked it not to).
  const killHard = () => {
    const csPid = Number(/\[guardian\] code-server pid (\d+)/.exec(serverOut)?.[1]);
    for (const pid of [csPid, server.pid]) {
      if (pid) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    }
  };
  // The test process exits without stop() (an uncaught error, process.exit): kill synchronously.
  // (When it is killed outright, the guardian sees its stdin close and does the same.)
  const killOnExit = () => {
    const csPid = Number(/\[guardian\] code-server pid (\d+)/.exec(serverOut)?.[1]);
    if (csPid) try { process.kill(-csPid, 'SIGKILL'); } catch { /* gone */ }
  };
  process.on('exit', killOnExit);

  try {
    const port = await waitForListening(server, () => serverOut, startTimeoutMs);
    debug(`code-server listening on 127.0.0.1:${port} (${tmp})`);
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(opts.workspace).replace(/%2F/g, '/')}`;

    // A persistent context keeps the browser profile in our temp folder (not /tmp/playwright_*), and
    // Chromium's own files (crash reports in ~/.config/chromium, temp files) go there too.
    const chromiumHome = path.join(tmp, 'chromium');
    mkdirSync(path.join(chromiumHome, 'tmp'), { recursive: true });
    context = await chromium.launchPersistentContext(path.join(chromiumHome, 'profile'), {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
      viewport: opts.viewport ?? { width: 1400, height: 900 },
      artifactsDir: path.join(chromiumHome, 'artifacts'),
      env: {
        ...process.env,
        TMPDIR: path.join(chromiumHome, 'tmp'),
        XDG_CONFIG_HOME: path.join(chromiumHome, 'config'),
        XDG_CACHE_HOME: path.join(chromiumHome, 'cache'),
      },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m: ConsoleMessage) => console_.push({ type: m.type(), text: m.text(), url: m.location().url }));
    page.on('pageerror', (e) => console_.push({ type: 'error', text: `pageerror: ${e.stack ?? e.message}`, url: '' }));
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss().catch(() => undefined);
    });
    debug('browser started');
    await page.goto(url, { timeout: startTimeoutMs });
    await page.locator('.monaco-workbench').waitFor({ state: 'attached', timeout: startTimeoutMs });
    debug('.monaco-workbench attached');
    if (opts.waitForExtensionHost ?? trust !== 'prompt') {
      await waitFor(() => (/Eager extensions activated/.test(readAll(exthostLogs(`${path.sep}remoteexthost.log`))) ? true : undefined),
        startTimeoutMs, 'the extension host ("Eager extensions activated" in remoteexthost.log)');
      debug('extension host ready');
    }

    const wb: Workbench = {
      page, context, url, port, workspace: opts.workspace, userDataDir, extensionsDir, artifactsDir,
      runCommand: (title, o) => runCommand(page, title, o?.timeoutMs ?? 30_000),
      findWebviewFrame: (sel, o) => findFrame(page, sel, o?.timeoutMs ?? 30_000),
      async screenshot(file) {
        const p = path.join(artifactsDir, file.endsWith('.png') ? file : `${file}.png`);
        await page.screenshot({ path: p });
        return p;
      },
      consoleErrors: (o) => console_.filter((c) => c.type === 'error' && (o?.all || !IGNORED_CONSOLE_ERRORS.some((f) => f(c)))),
      consoleMessages: () => [...console_],
      pageDialogs: () => [...dialogs],
      visibleDialogs: () => page.locator('.monaco-dialog-box').allInnerTexts(),
      async clickDialogButton(label, o) {
        const box = page.locator('.monaco-dialog-box');
        await box.locator('.monaco-button', { hasText: label }).first().click({ timeout: o?.timeoutMs ?? 30_000 });
        await box.waitFor({ state: 'hidden', timeout: o?.timeoutMs ?? 30_000 });
      },
      visibleNotifications: () => page.locator('.notifications-toasts .notification-toast').allInnerTexts(),
      extensionHostLog: () => readAll(exthostLogs(`${path.sep}remoteexthost.log`)),
      extensionLog: (channel, extensionId = 'sift-dev.sift-codebase-qa') =>
        readAll(exthostLogs(`${path.sep}${extensionId}${path.sep}${channel}.log`)),
      waitForLog: (read, pattern, o) => waitFor(() => { const t = read(); return pattern.test(t) ? t : undefined; }, o?.timeoutMs ?? 30_000, `log to match ${pattern}`),
      logFiles,
      serverOutput: () => serverOut,
      stop,
    };
    return wb;
  } catch (e) {
    await stop(); // screenshots final.png when the browser got that far
    const err = e as Error;
    err.message += `\n--- code-server output ---\n${serverOut.slice(-4000)}`;
    throw err;
  }
}

async function waitForListening(server: ChildProcess, out: () => string, timeoutMs: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const check = () => {
      const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out());
      if (m) { done(); resolve(Number(m[1])); }
    };
    const onExit = (code: number | null) => { done(); reject(new Error(`code-server exited (${code}) before listening`)); };
    const timer = setTimeout(() => { done(); reject(new Error(`code-server did not listen within ${timeoutMs} ms`)); }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      server.stdout!.off('data', check);
      server.stderr!.off('data', check);
      server.off('exit', onExit);
    };
    server.stdout!.on('data', check);
    server.stderr!.on('data', check);
    server.once('exit', onExit);
    check();
  });
}

/** Opens the palette with F1, types the title, runs the row whose label is exactly `title`. */
async function runCommand(page: Page, title: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const input = page.locator('.quick-input-widget .quick-input-box input');
  // An extension's commands appear once the extension host has scanned it: reopen until they do.
  for (let attempt = 1; ; attempt++) {
    if (!(await input.isVisible())) {
      await page.locator('.monaco-workbench').focus().catch(() => undefined);
      await page.keyboard.press('F1');
      try {
        await input.waitFor({ state: 'visible', timeout: Math.max(1000, deadline - Date.now()) });
      } catch (e) {
        const modal = await page.locator('.monaco-dialog-box').allInnerTexts().catch(() => []);
        throw new Error(`F1 did not open the command palette${modal.length ? `; a modal dialog is open: ${JSON.stringify(modal)}` : ''}`, { cause: e });
      }
    }
    await input.fill(`>${title}`);
    debug(`runCommand "${title}": attempt ${attempt}`);
    const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({
      has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) }),
    });
    try {
      await row.first().waitFor({ state: 'visible', timeout: Math.min(3000, Math.max(500, deadline - Date.now())) });
    } catch (e) {
      if (Date.now() >= deadline) {
        const shown = await page.locator('.quick-input-widget .quick-input-list .monaco-list-row .label-name').allInnerTexts().catch(() => []);
        throw new Error(`command "${title}" not found in the palette after ${attempt} attempts; shown: ${JSON.stringify(shown)}`, { cause: e });
      }
      debug(`runCommand "${title}": not listed yet, palette shows ${JSON.stringify(await page.locator('.quick-input-widget .quick-input-list .monaco-list-row .label-name').allInnerTexts().catch(() => []))}`);
      await page.keyboard.press('Escape');
      await input.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
      continue;
    }
    await row.first().click();
    await input.waitFor({ state: 'hidden', timeout: Math.max(1000, deadline - Date.now()) });
    return;
  }
}

async function findFrame(page: Page, sel: string | ((f: Frame) => Promise<boolean>), timeoutMs: number): Promise<Frame> {
  const test = typeof sel === 'string' ? async (f: Frame) => (await f.$(sel)) !== null : sel;
  return waitFor(async () => {
    for (const f of page.frames()) {
      if (f.isDetached()) continue;
      try {
        if (await test(f)) return f;
      } catch { /* frame navigated or detached while we looked */ }
    }
    return undefined;
  }, timeoutMs, `a frame containing ${typeof sel === 'string' ? sel : 'the predicate'}`);
}

/** Polls `probe` (every 100 ms) until it returns a value other than undefined. */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(100);
  }
}

/** true when `p` settled within `ms`; never keeps the process alive once `p` settled. */
async function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIFT_E2E_DEBUG=1 traces the harness on stderr. */
function debug(msg: string): void {
  if (process.env.SIFT_E2E_DEBUG) console.error(`[e2e ${new Date().toISOString().slice(11, 23)}] ${msg}`);
}

function mtime(f: string): number {
  try { return statSync(f).mtimeMs; } catch { return 0; }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
