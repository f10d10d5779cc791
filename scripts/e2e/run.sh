#!/usr/bin/env bash
# End-to-end tests in the real VS Code workbench (code-server + Chromium, see test/e2e/harness.ts):
#   1. set up code-server and Chromium (cached outside the repo; seconds when already done)
#   2. build the VSIXs once per source tree (linux-x64 for every test, universal for platforms.e2e)
#   3. run test/e2e/**/*.e2e.test.ts one file at a time (each starts its own workbench)
# Usage: bash scripts/e2e/run.sh [test files…]     (npm run test:e2e [-- test files…])
# Artifacts (screenshots, code-server and extension host logs): test-results/e2e/<name>/
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "== e2e: setup" >&2
paths="$(bash scripts/e2e/setup-code-server.sh)" || { echo "e2e: setup failed (see above)" >&2; exit 1; }
eval "$paths"
export SIFT_E2E_CACHE SIFT_E2E_CODE_SERVER SIFT_E2E_CHROMIUM

echo "== e2e: the VSIXs (scripts/package-all.mjs linux-x64 universal, cached by content hash)" >&2
# Built once per source tree into ~/.cache/sift-e2e/vsix/<hash>/ (test/e2e/packages.ts): an
# unchanged tree reuses them, and the tests install those copies (a concurrent `npm run package`
# rewrites the ones in the repo; a half-written zip fails to install).
SIFT_E2E_VSIX="$(node --import tsx -e 'process.stdout.write(require("./test/e2e/packages.ts").packagedVsix("linux-x64"))')" \
  || { echo "e2e: building the packages failed (see above)" >&2; exit 1; }
export SIFT_E2E_VSIX
if command -v unzip >/dev/null && ! unzip -tq "$SIFT_E2E_VSIX" >/dev/null; then
  echo "e2e: $SIFT_E2E_VSIX is not a valid zip" >&2
  exit 1
fi
echo "   $SIFT_E2E_VSIX ($(du -h "$SIFT_E2E_VSIX" | cut -f1))" >&2

echo "== e2e: tests" >&2
# Node 20's test runner does not expand globs: bash does.
shopt -s globstar nullglob
if (($#)); then files=("$@"); else files=(test/e2e/**/*.e2e.test.ts); fi
((${#files[@]})) || { echo "e2e: no test files" >&2; exit 1; }
node --import tsx --test --test-concurrency=1 "${files[@]}"
