import * as vscode from 'vscode';
import { type Effect, SETTINGS, type SiftSettings } from './settingsSchema';
import { type RefusedSetting, refusedMessage, resolveSettings } from './trust';

let reportRefused: ((r: RefusedSetting) => void) | undefined;

/**
 * Where refused workspace values are reported (the extension logs each distinct one and shows one
 * warning per setting). Returns the disposable that stops reporting.
 */
export function reportRefusedSettings(log: vscode.LogOutputChannel): vscode.Disposable {
  const logged = new Set<string>();
  const shown = new Set<string>();
  reportRefused = (r) => {
    const id = `${r.key}|${r.where}|${JSON.stringify(r.value)}`;
    if (logged.has(id)) return;
    logged.add(id);
    const message = refusedMessage(r);
    log.warn(message);
    if (shown.has(r.key)) return;
    shown.add(r.key);
    void vscode.window.showWarningMessage(message, 'Open User Settings').then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', `sift.${r.key}`);
    });
  };
  return new vscode.Disposable(() => (reportRefused = undefined));
}

/**
 * Sift's settings for a scope. Settings that choose where code, the API key or model files go
 * come from user settings only (src/vscode/trust.ts); a workspace value for one is refused and
 * reported.
 */
export function readSettings(scope?: vscode.ConfigurationScope): SiftSettings {
  const config = vscode.workspace.getConfiguration('sift', scope);
  const { settings, refused } = resolveSettings((key) => config.inspect(key), (key) => config.get(key));
  for (const r of refused) reportRefused?.(r);
  return settings;
}

/** The strongest effect among the settings a configuration change touched. */
export function effectOf(e: vscode.ConfigurationChangeEvent): Effect | undefined {
  let strongest: Effect | undefined;
  const rank: Record<Effect, number> = { none: 0, 'reload-models': 1, reindex: 2 };
  for (const [key, d] of Object.entries(SETTINGS)) {
    if (!e.affectsConfiguration(`sift.${key}`)) continue;
    if (!strongest || rank[d.effect] > rank[strongest]) strongest = d.effect;
  }
  if (e.affectsConfiguration('files.exclude') && (!strongest || rank[strongest] < rank.reindex)) strongest = 'reindex';
  return strongest;
}

/** VS Code's `files.exclude` for a folder (enabled entries) as globs for discovery. */
export function filesExcludeGlobs(folder: vscode.Uri): string[] {
  const value = vscode.workspace.getConfiguration('files', folder).get<Record<string, unknown>>('exclude', {});
  return Object.entries(value)
    .filter(([, on]) => on === true)
    .map(([glob]) => glob);
}
