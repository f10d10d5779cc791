#!/usr/bin/env bash
# Runs `sift eval` on the six SWE-QA repositories (../shared/eval/swe-qa) at their pinned commits.
#
#   scripts/eval-swe-qa.sh [--mirrors DIR] [--work DIR] [--train [--history DIR]] [--dump] [-- extra sift eval options]
#
# Each repository is exported (git archive, never committed here) to $WORK/src/<name> from a bare
# mirror $MIRRORS/<owner>+<name>/repo when present, else cloned from GitHub (needs network).
# Indexes live in $WORK/index/<name> and are reused across runs (incremental).
#
# Steps:
#   1. eval bm25 (+ dense/hybrid/+ce when models are given via extra options), dumping the top-K
#      candidates' LTR features (--ltr-dump) to $WORK/out/<name>.ltr.jsonl;
#   2. with --train: scripts/train-ltr.ts trains one model per held-out repository on the OTHER
#      five (leave-one-repository-out) into $LTR_DIR (default eval/ltr-models, committed), plus the
#      git-history dumps in --history DIR (`scripts/eval-history.sh dump` writes them, one
#      <name>.ltr.jsonl per training repository), and the shipped model on everything;
#   3. eval each repository with its held-out model (ltr-loro-<name>.json): the +ltr rows are on
#      questions the model never saw. Tables: $WORK/out/<name>.md, per-question JSON: <name>.json.
#      With --dump (and without --train) this step also writes the candidate dumps
#      $WORK/out/<name>.ltr.jsonl, which scripts/issue-eval.ts scores offline (`+q` variants).
#
# Environment: QUESTIONS (default ../shared/eval/swe-qa/questions.jsonl next to this repo),
# SIFT (default "node dist/cli.js"), LTR_DIR.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
MIRRORS=/work/.mirror
WORK=/tmp/swe-qa
TRAIN=0
DUMP=0
HISTORY=""
EXTRA=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --mirrors) MIRRORS="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --train) TRAIN=1; shift ;;
    --history) HISTORY="$2"; shift 2 ;;
    --dump) DUMP=1; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
QUESTIONS="${QUESTIONS:-$HERE/../shared/eval/swe-qa/questions.jsonl}"
LTR_DIR="${LTR_DIR:-$HERE/eval/ltr-models}"
SIFT="${SIFT:-node $HERE/dist/cli.js}"
[[ -f "$HERE/dist/cli.js" ]] || (cd "$HERE" && npm run build --silent)
[[ ${#EXTRA[@]} -gt 0 ]] || EXTRA=(--lexical-only --offline --variants bm25,bm25+q,bm25+ltr,bm25+ltr+q)

REPOS=(
  "pallets/flask 85c5d93cbd049c4bd0679c36fd1ddcae8c37b642"
  "psf/requests 46e939b5525d9c72b677340985582b04b128478a"
  "pytest-dev/pytest 5989efe3efec31a9d14f550d89903b6311dfc828"
  "pydata/xarray 40119bf35c53fc222934894d842cfc07b2e264bf"
  "sphinx-doc/sphinx 6c9e3209c4ebc81c7c09f6a30eeaa4651f32f461"
  "pylint-dev/pylint 44740e5e5cdd2b80321a4f0ed4254213d058b9f6"
)
mkdir -p "$WORK/src" "$WORK/index" "$WORK/out"

for entry in "${REPOS[@]}"; do
  read -r repo commit <<<"$entry"
  name="${repo#*/}"
  dest="$WORK/src/$name"
  if [[ ! -f "$dest/.sift-commit" || "$(cat "$dest/.sift-commit")" != "$commit" ]]; then
    gitdir="$MIRRORS/${repo/\//+}/repo"
    if [[ ! -d "$gitdir" ]]; then
      gitdir="$WORK/git/$name.git"
      [[ -d "$gitdir" ]] || git clone --bare --filter=blob:none "https://github.com/$repo.git" "$gitdir"
    fi
    rm -rf "$dest" && mkdir -p "$dest"
    # Some repositories (sphinx) have files git cannot re-encode; the rest of the tree is intact.
    git --git-dir="$gitdir" archive "$commit" | tar -x -C "$dest" || true
    echo "$commit" >"$dest/.sift-commit"
  fi
done

run_eval() { # name, extra args...
  local name="$1"; shift
  $SIFT eval --repo "$WORK/src/$name" --questions "$QUESTIONS" --filter "$name" \
    --index-dir "$WORK/index/$name" --quiet "$@"
}

if [[ $TRAIN == 1 ]]; then
  for entry in "${REPOS[@]}"; do
    read -r repo _ <<<"$entry"; name="${repo#*/}"
    run_eval "$name" "${EXTRA[@]}" --no-ltr --ltr-dump "$WORK/out/$name.ltr.jsonl" >/dev/null
  done
  mkdir -p "$LTR_DIR"
  HIST_ARGS=()
  if [[ -n "$HISTORY" ]]; then for f in "$HISTORY"/*.ltr.jsonl; do HIST_ARGS+=(--extra "$f"); done; fi
  (cd "$HERE" && node --import tsx scripts/train-ltr.ts --data "$WORK/out" --out "$LTR_DIR" "${HIST_ARGS[@]}" --ship "$HERE/src/core/ltr/model.json")
fi

for entry in "${REPOS[@]}"; do
  read -r repo _ <<<"$entry"; name="${repo#*/}"
  DUMP_ARGS=()
  [[ $DUMP == 1 && $TRAIN == 0 ]] && DUMP_ARGS=(--ltr-dump "$WORK/out/$name.ltr.jsonl")
  run_eval "$name" "${EXTRA[@]}" "${DUMP_ARGS[@]}" --ltr-model "$LTR_DIR/ltr-loro-$name.json" --json-out "$WORK/out/$name.json" | tee "$WORK/out/$name.md"
done
