#!/usr/bin/env bash
# Questions mined from other repositories' git history: training dumps for the learning-to-rank
# model, and the unseen-repository tables.
#
#   scripts/eval-history.sh dump [--mirrors DIR] [--work DIR]            # training repositories → $WORK/<name>.ltr.jsonl
#   scripts/eval-history.sh eval [--mirrors DIR] [--work DIR] [--only NAME] [MODEL]
#                                  # unseen repositories, bm25 vs bm25+ltr → $WORK/<name>.json/.md, and the
#                                  # candidates as $WORK/unseen/<name>.ltr.jsonl (for scripts/simulate-feedback.ts)
#
# Each repository is cloned at a pinned commit into $WORK/git/<name> (from a bare mirror
# $MIRRORS/<owner>+<name>/repo when present, else from GitHub; never committed here); `sift eval
# --from-git-history N` mines N questions from the history behind that commit and evaluates each
# at its parent (index in $WORK/index/<name>, reused across runs). Lexical-only, K = 50.
# MODEL defaults to the shipped src/core/ltr/model.json. Environment: SIFT (default "node dist/cli.js").
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
MODE="${1:-}"; shift || true
MIRRORS=/work/.mirror
WORK=/tmp/sift-history
MODEL="$HERE/src/core/ltr/model.json"
ONLY=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --mirrors) MIRRORS="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    *) MODEL="$1"; shift ;;
  esac
done
SIFT="${SIFT:-node $HERE/dist/cli.js}"
[[ -f "$HERE/dist/cli.js" ]] || (cd "$HERE" && npm run build --silent)

# Training repositories (git-history questions added to SWE-QA when training): three Python, two
# JavaScript — the five the committed models were trained on (psf/black was listed here too, but its
# dump never finished and no model was trained on it).
TRAIN=(
  "pallets/click 2c8cd3ac958a7eb316d67f2d316c27086c4c0369 80"
  "encode/starlette cb8f84f5284dc301ca7a31eb732b9e140769dd48 80"
  "tiangolo/typer 233009a37d35249c1e430ee1db11ed9c06a9dcc3 80"
  "axios/axios 23a25af0688d1db2c396deb09229d2271cc24f6c 80"
  "expressjs/express a3714473feb3d2908add734d340e7755fd85e0a3 80"
)
# Never used for training, feature design or choosing hyper-parameters: reporting only. The last two
# were added when the current model was final, and evaluated once (docs/eval.md).
UNSEEN=(
  "encode/httpx ae1b9f66238f75ced3ced5e4485408435de10768 60"
  "encode/uvicorn e6c7ce791fc634b6eedee40e0d0207faa8a9aefd 60"
  "koajs/koa e0ba8ef39d27fe5dae5492f9fe753d155124f994 60"
  "marshmallow-code/marshmallow 341b927f219205704728c05cd61f04d7e9727523 60"
  "sindresorhus/got d00d845a0b435365ec73ea5a1fca6e17ee677184 60"
)

checkout() { # owner/name commit → path of a clone at that commit
  local repo="$1" commit="$2" name="${1#*/}" dest="$WORK/git/${1#*/}"
  if [[ ! -d "$dest/.git" ]]; then
    local src="$MIRRORS/${repo/\//+}/repo"
    [[ -d "$src" ]] || src="https://github.com/$repo.git"
    git clone -q "$src" "$dest"
  fi
  git -C "$dest" checkout -q --detach "$commit"
  echo "$dest"
}

mkdir -p "$WORK/git" "$WORK/index"
case "$MODE" in
  dump)
    for entry in "${TRAIN[@]}"; do
      read -r repo commit n <<<"$entry"; name="${repo#*/}"
      dir="$(checkout "$repo" "$commit")"
      $SIFT eval "$dir" --from-git-history "$n" --index-dir "$WORK/index/$name" --quiet --lexical-only --offline \
        --variants bm25 --no-ltr --ltr-dump "$WORK/$name.ltr.jsonl" --json-out "$WORK/$name.base.json" >"$WORK/$name.base.md"
      echo "$name: $(wc -l <"$WORK/$name.ltr.jsonl") questions → $WORK/$name.ltr.jsonl"
    done
    ;;
  eval)
    mkdir -p "$WORK/unseen"
    for entry in "${UNSEEN[@]}"; do
      read -r repo commit n <<<"$entry"; name="${repo#*/}"
      [[ -z "$ONLY" || "$ONLY" == "$name" ]] || continue
      dir="$(checkout "$repo" "$commit")"
      $SIFT eval "$dir" --from-git-history "$n" --index-dir "$WORK/index/$name" --quiet --lexical-only --offline \
        --variants bm25,bm25+ltr --ltr-model "$MODEL" --json-out "$WORK/$name.json" --ltr-dump "$WORK/unseen/$name.ltr.jsonl" | tee "$WORK/$name.md"
    done
    ;;
  *) echo "usage: scripts/eval-history.sh dump|eval [--mirrors DIR] [--work DIR] [--only NAME] [MODEL]" >&2; exit 2 ;;
esac
