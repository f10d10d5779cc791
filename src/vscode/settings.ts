import * as vscode from 'vscode';
import { type Effect, SETTINGS, type SettingKey, type SiftSettings } from './settingsSchema';

export function readSettings(scope?: vscode.ConfigurationScope): SiftSettings {
  const config = vscode.workspace.getConfiguration('sift', scope);
  const out = {} as Record<string, unknown>;
  for (const key of Object.keys(SETTINGS) as SettingKey[]) out[key] = config.get(key, SETTINGS[key].default);
  return out as SiftSettings;
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

/** VS Code's `files.exclude` (enabled entries) as globs for discovery. */
export function filesExcludeGlobs(folder: vscode.WorkspaceFolder): string[] {
  const value = vscode.workspace.getConfiguration('files', folder.uri).get<Record<string, unknown>>('exclude', {});
  return Object.entries(value)
    .filter(([, on]) => on === true)
    .map(([glob]) => glob);
}
