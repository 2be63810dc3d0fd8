#!/usr/bin/env bash
# The main job. Until the reconciler lands it shows what exists: spec validation as a team
# would run it in PR checks, on the reference pipeline, the examples and a broken spec.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/debug/pipeline-agent

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "pipeline-agent validate pipelines   (the reference Olist pipeline)"
$BIN validate pipelines

step "pipeline-agent validate examples"
$BIN validate examples

scratch=$(mktemp -d "${TMPDIR:-/tmp}/pipeline-agent-demo.XXXXXX")
mkdir -p "$scratch/pipelines"
sed -e 's/from: staging/from: stagin/' -e 's/errorIf: ">10"/errorIf: "10"/' \
  -e 's/"16:00"/16:00/' pipelines/olist-analytics.yaml > "$scratch/pipelines/olist-analytics.yaml"
step "a broken copy is rejected with located messages (exit 1 expected)"
set +e
$BIN validate "$scratch"
status=$?
set -e
if [ "$status" -ne 1 ]; then
  echo "demo failed: validate of a broken spec exited $status, expected 1" >&2
  exit 1
fi
echo "exit status $status, as a PR check expects; scratch copy left in $scratch"
