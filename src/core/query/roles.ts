import type { QuestionKind } from './understand';

/**
 * What a file is for, from its path alone (issue 19): most of the wrong top-5 files for a bug
 * report are tests and docs, which Sift indexes on purpose (users ask about them too).
 */
export type FileRole = 'source' | 'test' | 'doc' | 'example' | 'generated' | 'config';

const TEST = [
  /(?:^|\/)(?:tests?|__tests__|testing|spec|specs|test_?utils?)\//i,
  /(?:^|\/)test_[^/]*\.py$/,
  /(?:^|\/)[^/]*_tests?\.(?:py|go|rs|rb|exs?)$/,
  /(?:^|\/)conftest\.py$/,
  /\.(?:test|spec|e2e)\.[cm]?[jt]sx?$/,
  /(?:^|\/)[^/]*Tests?\.(?:java|kt|scala|cs|swift)$/,
  /(?:^|\/)src\/test\//,
];
const DOC = [/(?:^|\/)(?:docs?|documentation|doc_src|man)\//i, /\.(?:md|markdown|rst|adoc|txt)$/i, /(?:^|\/)(?:README|CHANGELOG|CHANGES|HISTORY|CONTRIBUTING|AUTHORS|LICENSE)(?:\.[^/]*)?$/i];
const EXAMPLE = [/(?:^|\/)(?:examples?|samples?|demos?|tutorials?|cookbook)\//i];
const GENERATED = [
  /(?:^|\/)(?:dist|build|out|generated|__generated__|gen|vendor|third_party|node_modules)\//,
  /\.(?:min\.[cm]?js|pb\.go|pb\.cc|pb\.h|g\.dart|designer\.cs)$/,
  /_pb2(?:_grpc)?\.pyi?$/,
  /(?:^|\/)[^/]*\.generated\.[^/]+$/,
  /(?:^|\/)(?:package-lock\.json|yarn\.lock|pnpm-lock\.yaml|Cargo\.lock|poetry\.lock|go\.sum|bun\.lockb?|npm-shrinkwrap\.json)$/,
  /(?:^|\/)[^/]*\.lock$/,
];
const CONFIG = [
  /(?:^|\/)\.(?:github|circleci|gitlab|vscode|devcontainer)\//,
  // Dotfiles: .gitignore, .npmrc, .coveragerc, .eslintrc, .prettierrc, .editorconfig, .gitattributes …
  /(?:^|\/)\.[\w.-]+$/,
  /\.(?:json|ya?ml|toml|ini|cfg|conf|properties|editorconfig)$/i,
  /(?:^|\/)(?:setup\.py|setup\.cfg|pyproject\.toml|package\.json|tsconfig[^/]*\.json|Makefile|Dockerfile|tox\.ini|noxfile\.py|Gemfile|go\.mod|Cargo\.toml|pom\.xml|build\.gradle(?:\.kts)?|CMakeLists\.txt)$/,
  /(?:^|\/)[^/]*\.config\.[cm]?[jt]s$/,
];

export function fileRole(path: string): FileRole {
  const p = path.replace(/\\/g, '/');
  if (GENERATED.some((r) => r.test(p))) return 'generated';
  if (TEST.some((r) => r.test(p))) return 'test';
  if (EXAMPLE.some((r) => r.test(p))) return 'example';
  if (DOC.some((r) => r.test(p))) return 'doc';
  if (CONFIG.some((r) => r.test(p))) return 'config';
  return 'source';
}

/**
 * A multiplier on a file's lexical score by its role and the question's kind: implementation first
 * for a bug report, a change to make or a "where is it implemented" question; tests first when the
 * question asks about tests, docs when it asks about docs. How strongly it acts is the exponent
 * per kind in src/core/search/fileEvidence.ts (EvidenceWeights), chosen by measurement.
 */
export function rolePrior(role: FileRole, kind: QuestionKind): number {
  if (kind === 'tests') return role === 'test' ? 1.5 : role === 'source' ? 1 : 0.7;
  if (kind === 'docs') return role === 'doc' ? 1.5 : role === 'source' || role === 'example' ? 1 : 0.7;
  const explanation = kind === 'explanation';
  switch (role) {
    case 'source':
      return 1;
    case 'doc':
      return explanation ? 0.85 : 0.5;
    case 'example':
      return explanation ? 0.85 : 0.6;
    case 'test':
      return 0.5;
    case 'config':
      return 0.7;
    case 'generated':
      return 0.4;
  }
}
