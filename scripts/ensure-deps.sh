#!/usr/bin/env bash
# Installs the npm dependencies from the lockfile when they are absent or older than the lockfile
# (a fresh clone, a pulled lockfile change). Used by ./sift and `npm run bench`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "sift: installing dependencies (npm ci, first run)…" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
