#!/usr/bin/env bash
# Per-step overhead: what a step of `true` costs in a stage of 51 (from the first step.started to the last
# step.finished in the audit log, so process start and the pass around the steps are left out; best of 5
# runs), set beside what fork/exec of `/bin/sh -c true` costs by itself (a loop of 50). Modes: steps as the agent's own
# user, and (as root) as another OS user with everything a step left killed.
# OLD_BIN=path/to/older/pipeline-agent adds the same figures for an older build.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product pipeline-agent >/dev/null
BIN="$PWD/.build/release/pipeline-agent"
many=51
work=$(mktemp -d "${TMPDIR:-/tmp}/pa-bench-steps.XXXXXX"); chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

# a repository whose one pipeline has a stage of $1 steps of `true`, as $work/team-$1.git
make_repo() {
  local count=$1 repo="$work/repo-$1"
  mkdir -p "$repo/pipelines" "$repo/app"
  {
    echo "apiVersion: pipeline-agent/v1"; echo "kind: Pipeline"; echo "metadata: {name: bench}"
    echo "spec:"; echo "  source: {branch: main, paths: [\"app/**\"]}"; echo "  stages:"
    echo "    - name: dev"; echo "      steps:"
    for i in $(seq 1 "$count"); do echo "        - {name: s$i, run: \"true\"}"; done
  } > "$repo/pipelines/bench.yaml"
  echo v1 > "$repo/app/x"
  (cd "$repo" && git init -q -b main && git add -A && git -c user.email=b@x -c user.name=b commit -qm v1 \
    && git clone -q --bare . "../team-$count.git")
}
make_repo "$many"

# best of 5 fresh `run --once` over the repository of $2 steps: seconds a step, from the audit log
best_run() {
  local bin=$1 count=$2 extra=$3 best=""
  for _ in 1 2 3 4 5; do
    rm -rf "$work/state" "$work/state-work"
    printf 'source: {url: ./team-%s.git, branch: main}\nstate: {path: ./state}\n%s\n' "$count" "$extra" > "$work/agent.yaml"
    "$bin" run --once --config "$work/agent.yaml" >/dev/null 2>&1
    best=$(python3 - "$work/state/audit.jsonl" "$count" "$best" <<'PY'
import json, sys
from datetime import datetime
records = [json.loads(line) for line in open(sys.argv[1])]
times = [datetime.fromisoformat(r["time"].replace("Z", "+00:00")) for r in records if r["type"] in ("step.started", "step.finished")]
each = (times[-1] - times[0]).total_seconds() / int(sys.argv[2])
print(min(each, float(sys.argv[3])) if sys.argv[3] else each)
PY
)
  done
  echo "$best"
}

# fork/exec of `sh -c true` alone, seconds a step (best of 5 loops of 50)
forkexec=$(python3 -c "
import subprocess, time
best = min(
    (lambda start: (sum(subprocess.run(['/bin/sh', '-c', 'true']).returncode for _ in range(50)), time.perf_counter() - start)[1])(time.perf_counter())
    for _ in range(5))
print(best / 50)")

measure() {
  local bin=$1 extra=$2 label=$3 step
  step=$(best_run "$bin" "$many" "$extra")
  python3 -c "
import sys
step, forkexec = float(sys.argv[1]), float(sys.argv[2])
print(f'{1000*step:5.2f} ms a step ({1000*(step - forkexec):5.2f} ms beyond fork/exec of sh -c true, {1000*forkexec:4.2f} ms)   ({sys.argv[3]})')
" "$step" "$forkexec" "$label"
}

if [ -n "${OLD_BIN:-}" ]; then measure "$OLD_BIN" "" "older build $OLD_BIN, steps as the agent's user"; fi
measure "$BIN" "" "this build, steps as the agent's user"
if [ "$(id -u)" -eq 0 ]; then
  id pa-bench >/dev/null 2>&1 || useradd --system --shell /usr/sbin/nologin pa-bench
  measure "$BIN" "execution: {stepUser: pa-bench, requireIsolation: true}" "this build, steps as pa-bench via setpriv, leftovers killed"
else
  echo "skipped: steps as another user (needs root to create pa-bench and switch to it)"
fi
