#!/usr/bin/env bash
# Regenerates the README screenshots (media/screenshots/*.png) from the real workbench: runs
# test/e2e/platforms.e2e.test.ts (the universal VSIX in code-server + Chromium, answering with the
# tiny test models and a local OpenAI-compatible server), which crops the panel to the answer with
# its sources, one source's provenance and the compare view. ~2–3 min; not part of CI.
# Usage: bash scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out="$PWD/media/screenshots"
SIFT_E2E_SCREENSHOTS="$out" bash scripts/e2e/run.sh test/e2e/platforms.e2e.test.ts
for f in answer compare provenance; do
  size=$(stat -c %s "$out/$f.png")
  echo "$out/$f.png: $((size / 1024)) KB"
  ((size <= 160 * 1024)) || { echo "screenshots: $f.png is over 160 KB (the README budget): crop it smaller" >&2; exit 1; }
done
