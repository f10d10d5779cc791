/**
 * File discovery: which files under a root are indexed, and why every other path is not.
 * Pure Node (no `vscode`): used by the CLI, the indexer and (through `DiscoveryMatcher`) the
 * editor's file watcher.
 */
export * from './types';
export * from './defaults';
export { discover, discoverFiles, DEFAULT_DISCOVERY_CONCURRENCY, type WalkOptions } from './discover';
export { DiscoveryMatcher, type EntryKind } from './matcher';
export { RuleList, GlobSet, normalizeGlob } from './patterns';
export { sniffBinary, sniffMinified, type ContentVerdict } from './content';
