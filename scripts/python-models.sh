#!/usr/bin/env bash
# Runs scripts/make-tiny-models.py with Debian's python3-torch, python3-onnx and python3-numpy,
# installing them first when they are missing (apt, as root or with sudo). Used by
# `npm run models:tiny` and by `npm run bench` (MiniLM-shaped models, made once).
#   scripts/python-models.sh --shape tiny|minilm OUT_DIR
set -euo pipefail
PY=/usr/bin/python3 # Debian's packages are seen by the system python, not by another python3 on PATH
PACKAGES=(python3-torch python3-onnx python3-numpy)
die() { echo "python-models: $*" >&2; exit 1; }

[[ -x "$PY" ]] || die "$PY not found: the models are made with Debian's python3 and ${PACKAGES[*]}"
if ! "$PY" -c 'import torch, onnx, numpy' 2>/dev/null; then
  command -v apt-get >/dev/null || die "torch, onnx or numpy is missing for $PY and there is no apt-get: install ${PACKAGES[*]} (or pip install torch onnx numpy for $PY)"
  SUDO=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || die "need root (or sudo) to apt-get install ${PACKAGES[*]}"
    SUDO=(sudo)
  fi
  echo "python-models: apt-get install ${PACKAGES[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Try with the current package lists first; refresh them only if that fails (stale or absent).
  if ! "${SUDO[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}" >&2; then
    echo "python-models: apt-get update, then apt-get install ${PACKAGES[*]}" >&2
    "${SUDO[@]}" apt-get update >&2 || die "apt-get update failed"
    "${SUDO[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}" >&2 || die "apt-get install ${PACKAGES[*]} failed"
  fi
  "$PY" -c 'import torch, onnx, numpy' || die "torch, onnx and numpy are still not importable by $PY after installing ${PACKAGES[*]}"
fi
exec "$PY" "$(dirname "$0")/make-tiny-models.py" "$@"
