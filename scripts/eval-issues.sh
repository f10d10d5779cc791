#!/usr/bin/env bash
# Issue-style questions mined from other repositories' history (issue 19): question = a commit's
# subject + body, gold = the implementation files it changed (`--gold-roles source`: not its tests,
# docs, changelog or config). Two fixed splits by repository — tuning data never reported, and
# report data never used for any choice:
#
#   scripts/eval-issues.sh tune   [--work DIR] [--only NAME] [--n N]   # → $WORK/<name>.json/.md/.ltr.jsonl
#   scripts/eval-issues.sh report [--work DIR] [--only NAME] [--n N]
#   scripts/eval-issues.sh domain [--work DIR] [--only NAME] [--n N]   # test frameworks and doc generators
#   (--candidates K: the top K dumped and reordered, default 50; scripts/issue-eval.ts --k scores a smaller K from the same dump)
#
# Repositories come from bare mirrors under /work/.mirror/<owner>+<name>/repo (else GitHub), cloned
# at a pinned commit into $WORK/git/<name>. Lexical-only, K = 50 (--candidates), variants bm25, bm25+q, bm25+ltr, bm25+ltr+q;
# the candidate dumps ($WORK/<name>.ltr.jsonl) feed scripts/issue-eval.ts (per-kind tables, offline
# scoring of the same candidates) and scripts/train-ltr.ts. Environment: SIFT (default node dist/cli.js).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
MODE="${1:-}"; shift || true
MIRRORS=/work/.mirror
WORK=/tmp/sift-issues
ONLY=""
N=60
CANDIDATES=50
while [[ $# -gt 0 ]]; do
  case "$1" in
    --mirrors) MIRRORS="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --n) N="$2"; shift 2 ;;
    --candidates) CANDIDATES="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
SIFT="${SIFT:-node $HERE/dist/cli.js}"

# Tuning split (feature design, prior values, LTR training): the five repositories the shipped LTR
# model was already trained on, plus attrs.
TUNE=(
  "pallets/click 2c8cd3ac958a7eb316d67f2d316c27086c4c0369"
  "encode/starlette cb8f84f5284dc301ca7a31eb732b9e140769dd48"
  "tiangolo/typer 233009a37d35249c1e430ee1db11ed9c06a9dcc3"
  "expressjs/express a3714473feb3d2908add734d340e7755fd85e0a3"
  "python-attrs/attrs c1dc5dcba16ed827aa6dcad896b41a3afedb4e32"
)
# Report split: never used for a choice (three Python, one JavaScript, one TypeScript, one Go).
REPORT=(
  "encode/httpx ae1b9f66238f75ced3ced5e4485408435de10768"
  "encode/uvicorn e6c7ce791fc634b6eedee40e0d0207faa8a9aefd"
  "marshmallow-code/marshmallow 341b927f219205704728c05cd61f04d7e9727523"
  "koajs/koa e0ba8ef39d27fe5dae5492f9fe753d155124f994"
  "sindresorhus/got d00d845a0b435365ec73ea5a1fca6e17ee677184"
  "spf13/cobra adbc8813901bba65827259daa8e22ff94ec1f30e"
)
# Domain split (issue 19, added 2026-12-08): repositories whose own code is *about* tests or docs —
# test frameworks and documentation generators, where a report names tests and docs in every line
# but its answer is still the implementation (the held-out check's worst repositories were of this
# kind). mkdocs and mocha were read while designing the question-kind rules; the other four were
# scored once, after.
DOMAIN=(
  "mkdocs/mkdocs 2862536793b3c67d9d83c33e0dd6d50a791928f8"
  "mochajs/mocha e6b9ee773481fd739ae24caeb42f32ac0b010f95"
  "mitmproxy/pdoc 00e18eb12ae2f06f3c245f796bfe7f6224db033a"
  "TypeStrong/typedoc 6d8c856bbb46b089371952981f113c3e318818fd"
  "nose-devs/nose2 704c9a3dfc8a96f669ec922124cdcd596dc78459"
  "stretchr/testify 12f8b5612e125f337c4589e198771e5f8970f160"
)
case "$MODE" in
  tune) LIST=("${TUNE[@]}") ;;
  report) LIST=("${REPORT[@]}") ;;
  domain) LIST=("${DOMAIN[@]}") ;;
  *) echo "usage: $0 tune|report|domain [--work DIR] [--only NAME] [--n N]" >&2; exit 2 ;;
esac

mkdir -p "$WORK/git" "$WORK/index"
for entry in "${LIST[@]}"; do
  read -r repo commit <<<"$entry"; name="${repo#*/}"
  [[ -z "$ONLY" || "$ONLY" == "$name" ]] || continue
  dest="$WORK/git/$name"
  if [[ ! -d "$dest/.git" ]]; then
    src="$MIRRORS/${repo/\//+}/repo"
    [[ -d "$src" ]] || src="https://github.com/$repo.git"
    git clone -q "$src" "$dest"
  fi
  git -C "$dest" checkout -q --detach "$commit"
  $SIFT eval "$dest" --from-git-history "$N" --gold-roles source --index-dir "$WORK/index/$name" --quiet --lexical-only --offline --candidates "$CANDIDATES" \
    --variants bm25,bm25+q,bm25+ltr,bm25+ltr+q --ltr-dump "$WORK/$name.ltr.jsonl" --json-out "$WORK/$name.json" >"$WORK/$name.md"
  echo "$name: $(wc -l <"$WORK/$name.ltr.jsonl") questions → $WORK/$name.md"
done
