#!/usr/bin/env bash
# End-to-end tests in the real VS Code workbench (code-server + Chromium, see test/e2e/harness.ts):
#   1. set up code-server and Chromium (cached outside the repo; seconds when already done)
#   2. build the VSIX once (npm run package) for all test files
#   3. run test/e2e/**/*.e2e.test.ts one file at a time (each starts its own workbench)
# Usage: bash scripts/e2e/run.sh [test files…]     (npm run test:e2e [-- test files…])
# Artifacts (screenshots, code-server and extension host logs): test-results/e2e/<name>/
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "== e2e: setup" >&2
paths="$(bash scripts/e2e/setup-code-server.sh)" || { echo "e2e: setup failed (see above)" >&2; exit 1; }
eval "$paths"
export SIFT_E2E_CACHE SIFT_E2E_CODE_SERVER SIFT_E2E_CHROMIUM

echo "== e2e: building the VSIX (npm run package)" >&2
# stdin from /dev/null: vsce asks "continue? [y/N]" on a terminal for some warnings.
if ! out="$(npm run package </dev/null 2>&1)"; then
  printf '%s\n' "$out" >&2
  echo "e2e: npm run package failed" >&2
  exit 1
fi
vsix="$(printf '%s\n' "$out" | sed -n 's/.*Packaged: \(.*\.vsix\).*/\1/p' | tail -1)"
[[ -n "$vsix" && -f "$vsix" ]] || { printf '%s\n' "$out" >&2; echo "e2e: no VSIX reported by npm run package" >&2; exit 1; }
# Tests install a private copy: a concurrent `npm run package` rewrites the one in the repo, and a
# half-written zip fails to install.
vsix_dir="$(mktemp -d "${TMPDIR:-/tmp}/sift-e2e-vsix-XXXXXX")"
trap 'rm -rf "$vsix_dir"' EXIT
cp "$vsix" "$vsix_dir/"
export SIFT_E2E_VSIX="$vsix_dir/$(basename "$vsix")"
if command -v unzip >/dev/null && ! unzip -tq "$SIFT_E2E_VSIX" >/dev/null; then
  echo "e2e: $vsix is not a valid zip (rewritten by a concurrent npm run package?)" >&2
  exit 1
fi
echo "   $(realpath "$vsix") ($(du -h "$vsix" | cut -f1)), tests use a copy: $SIFT_E2E_VSIX" >&2

echo "== e2e: tests" >&2
# Node 20's test runner does not expand globs: bash does.
shopt -s globstar nullglob
if (($#)); then files=("$@"); else files=(test/e2e/**/*.e2e.test.ts); fi
((${#files[@]})) || { echo "e2e: no test files" >&2; exit 1; }
node --import tsx --test --test-concurrency=1 "${files[@]}"
