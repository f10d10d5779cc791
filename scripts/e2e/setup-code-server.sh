#!/usr/bin/env bash
# Installs what the end-to-end tests need to drive the real VS Code workbench, offline:
#   - Debian packages: chromium (the browser playwright-core drives), ripgrep (VS Code's search
#     binary, whose npm postinstall would download it from GitHub), libkrb5-dev (kerberos build)
#   - code-server 4.100.3 (= VS Code 1.100.3 with a Node 20 extension host; 4.104+ needs Node 22)
#     with its native modules built from source, cached OUTSIDE the repository.
#
# Idempotent: a finished install leaves a stamp (version + Node ABI); a second run only checks the
# stamp and the Debian packages and returns in about a second. An interrupted install has no
# stamp and is redone from scratch. Fails loudly, naming the step, on any error.
#
# Usage: bash scripts/e2e/setup-code-server.sh [--force]
#   SIFT_E2E_CACHE  cache directory (default: $HOME/.cache/sift-e2e)
# Prints, as the last lines, shell assignments for the paths (eval-able):
#   SIFT_E2E_CODE_SERVER=<entry.js>  SIFT_E2E_CHROMIUM=<browser>  SIFT_E2E_CACHE=<dir>
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
CACHE="${SIFT_E2E_CACHE:-$HOME/.cache/sift-e2e}"
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
ENTRY="$CS_DIR/node_modules/code-server/out/node/entry.js"
STAMP="$CS_DIR/.sift-e2e-ready"
CHROMIUM=/usr/bin/chromium
APT_PACKAGES=(libkrb5-dev ripgrep chromium)
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

log() { printf '[setup-code-server] %s\n' "$*" >&2; }
die() { printf '[setup-code-server] ERROR: %s\n' "$*" >&2; exit 1; }
CURRENT_STEP="starting"
step() { CURRENT_STEP="$*"; log "$*"; }
trap 'rc=$?; [[ $rc -ne 0 ]] && printf "[setup-code-server] FAILED (exit %s) during: %s\n" "$rc" "$CURRENT_STEP" >&2' EXIT

command -v node >/dev/null || die "node is not on PATH"
command -v npm >/dev/null || die "npm is not on PATH"
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
[[ "$NODE_MAJOR" == "20" ]] || die "code-server $CODE_SERVER_VERSION needs Node 20 (found $(node --version)): its native modules are built for the running Node"
NODE_ABI="$(node -p 'process.versions.modules')"
STAMP_TEXT="code-server=$CODE_SERVER_VERSION node-abi=$NODE_ABI"

# ---- 1. Debian packages -------------------------------------------------------------------------
CURRENT_STEP="checking Debian packages ${APT_PACKAGES[*]}"
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  step "apt-get install ${missing[*]}"
  SUDO=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || die "need root (or sudo) to apt-get install ${missing[*]}"
    SUDO=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Try with the current package lists first; refresh them only if that fails (stale or absent).
  if ! "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    step "apt-get update (package lists missing or stale), then apt-get install ${missing[*]}"
    "${SUDO[@]}" apt-get update >&2 || die "apt-get update failed"
    "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
  fi
fi
[[ -x "$CHROMIUM" ]] || die "$CHROMIUM not found after installing the chromium package"
RG="$(command -v rg || true)"
[[ -n "$RG" ]] || die "rg (ripgrep) not found after installing the ripgrep package"

# ---- 2. code-server (cached) --------------------------------------------------------------------
CURRENT_STEP="preparing the cache directory $CACHE"
mkdir -p "$CACHE" || die "cannot create the cache directory $CACHE"
# One installer at a time (two test runs starting together): the second waits, then finds the stamp.
exec 9>"$CACHE/.setup.lock"
flock 9 || die "cannot lock $CACHE/.setup.lock"
if [[ $FORCE == 0 && -f "$STAMP" && "$(cat "$STAMP")" == "$STAMP_TEXT" && -f "$ENTRY" ]]; then
  log "code-server $CODE_SERVER_VERSION already installed in $CS_DIR"
else
  step "installing code-server $CODE_SERVER_VERSION into $CS_DIR (a few minutes)"
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR"
  # An anchor package.json so npm installs here and not into some parent project.
  printf '{ "name": "sift-e2e-code-server", "private": true }\n' >"$CS_DIR/package.json"
  # node-pty's install calls `npx node-gyp`, which refuses to run without a prompt otherwise.
  export npm_config_yes=true
  export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

  cd "$CS_DIR"
  step "npm install code-server@$CODE_SERVER_VERSION --ignore-scripts"
  npm install "code-server@$CODE_SERVER_VERSION" --ignore-scripts >&2

  VSCODE_DIR="$CS_DIR/node_modules/code-server/lib/vscode"
  [[ -d "$VSCODE_DIR" ]] || die "$VSCODE_DIR missing after npm install"
  cd "$VSCODE_DIR"
  step "lib/vscode: npm install --omit=dev --ignore-scripts"
  npm install --omit=dev --ignore-scripts >&2
  step "lib/vscode: ripgrep from Debian (its npm postinstall downloads rg from GitHub)"
  mkdir -p node_modules/@vscode/ripgrep/bin
  cp "$RG" node_modules/@vscode/ripgrep/bin/rg
  step "lib/vscode: npm rebuild kerberos node-pty native-watchdog"
  npm rebuild kerberos node-pty native-watchdog >&2
  for m in @vscode/spdlog @vscode/deviceid; do
    step "lib/vscode: node-gyp rebuild in node_modules/$m"
    (cd "node_modules/$m" && npx --yes node-gyp rebuild >&2)
  done
  ln -sfn node_modules node_modules.asar
  step "lib/vscode/extensions: npm install --omit=dev --ignore-scripts"
  (cd extensions && npm install --omit=dev --ignore-scripts >&2)

  cd "$CS_DIR"
  step "npm rebuild argon2"
  npm rebuild argon2 >&2

  step "checking: code-server --version"
  # code-server writes a default config.yaml (with a random password) and a log folder under the
  # XDG dirs on every start, even for --version: point them at a throwaway folder, not at $HOME.
  xdg_tmp="$(mktemp -d)"
  version_out="$(XDG_CONFIG_HOME="$xdg_tmp/config" XDG_DATA_HOME="$xdg_tmp/data" node "$ENTRY" --version 2>&1)" \
    || { rm -rf "$xdg_tmp"; die "code-server --version failed: $version_out"; }
  rm -rf "$xdg_tmp"
  grep -q "^$CODE_SERVER_VERSION" <<<"$version_out" || die "unexpected code-server --version output: $version_out"
  printf '%s' "$STAMP_TEXT" >"$STAMP"
  log "code-server $CODE_SERVER_VERSION installed"
fi

CURRENT_STEP="done"
echo "SIFT_E2E_CACHE=$CACHE"
echo "SIFT_E2E_CODE_SERVER=$ENTRY"
echo "SIFT_E2E_CHROMIUM=$CHROMIUM"
