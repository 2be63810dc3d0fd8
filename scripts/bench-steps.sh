#!/usr/bin/env bash
# Per-step overhead of running a step: one stage of 50 steps of `true`, `run --once`, best of 5 runs.
# Modes: steps as the agent's own user, and (as root) as another OS user with everything a step left killed.
# OLD_BIN=path/to/older/pipeline-agent adds the same figure for an older build ("today's").
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product pipeline-agent >/dev/null
BIN="$PWD/.build/release/pipeline-agent"
steps=50
work=$(mktemp -d "${TMPDIR:-/tmp}/pa-bench-steps.XXXXXX"); chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/repo/pipelines" "$work/repo/app"
{
  echo "apiVersion: pipeline-agent/v1"; echo "kind: Pipeline"; echo "metadata: {name: bench}"
  echo "spec:"; echo "  source: {branch: main, paths: [\"app/**\"]}"; echo "  stages:"
  echo "    - name: dev"; echo "      steps:"
  for i in $(seq 1 $steps); do echo "        - {name: s$i, run: \"true\"}"; done
} > "$work/repo/pipelines/bench.yaml"
echo v1 > "$work/repo/app/x"
(cd "$work/repo" && git init -q -b main && git add -A && git -c user.email=b@x -c user.name=b commit -qm v1 && git clone -q --bare . ../team.git)

# best of 5 fresh runs, seconds
measure() {
  local bin=$1 extra=$2 best=""
  for run in 1 2 3 4 5; do
    rm -rf "$work/state" "$work/state-work"
    printf 'source: {url: ./team.git, branch: main}\nstate: {path: ./state}\n%s\n' "$extra" > "$work/agent.yaml"
    local start end
    start=$(date +%s.%N)
    "$bin" run --once --config "$work/agent.yaml" >/dev/null 2>&1
    end=$(date +%s.%N)
    best=$(python3 -c "import sys; a=float(sys.argv[1]); b=sys.argv[2]; print(min(a, float(b)) if b else a)" "$(echo "$end - $start" | bc)" "$best")
  done
  python3 -c "import sys; t=float(sys.argv[1]); print(f'{t:6.3f} s for {sys.argv[2]} steps = {1000*t/int(sys.argv[2]):5.1f} ms a step   ({sys.argv[3]})')" "$best" "$steps" "$3"
}

if [ -n "${OLD_BIN:-}" ]; then measure "$OLD_BIN" "" "older build $OLD_BIN, steps as the agent's user"; fi
measure "$BIN" "" "this build, steps as the agent's user"
if [ "$(id -u)" -eq 0 ]; then
  id pa-bench >/dev/null 2>&1 || useradd --system --shell /usr/sbin/nologin pa-bench
  measure "$BIN" "execution: {stepUser: pa-bench, requireIsolation: true}" "this build, steps as pa-bench via setpriv, leftovers killed"
else
  echo "skipped: steps as another user (needs root to create pa-bench and switch to it)"
fi
