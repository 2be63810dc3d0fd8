#!/usr/bin/env bash
# The web page's cost at 1,000 pipelines (issue 17's goal: the overview renders in under 100 ms on the server
# and weighs under 1 MB). A release agent promotes P pipelines (dev -> staging -> prod, steps `true`, sparse
# checkouts) with a `protect` floor holding prod for two approvals, then serves its page; each page is fetched
# N times and the render time the agent reports (`Server-Timing: render;dur=…`, from reading the state to the
# last byte of HTML) and the size are printed: median, worst and the first fetch (cold: nothing reused yet).
#   scripts/bench-web.sh                  P=1000 N=20; KEEP=1 leaves the state and the agent's config (for perf)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product pipeline-agent >/dev/null
BIN="$PWD/.build/release/pipeline-agent"
P=${P:-1000}
N=${N:-20}
work=$(mktemp -d "${TMPDIR:-/tmp}/pa-bench-web.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
python3 Benchmarks/generate-repo.py --pipelines "$P" --commits 2 --sparse --prod --out "$work/team.git" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/agent.yaml" <<YAML
source: {url: ./team.git, branch: main, pollInterval: 1h}
state: {path: ./state}
http: {listen: "127.0.0.1:$port"}
protect:
  - {pipeline: "*", stage: prod, promotion: manual, minApprovals: 2, approvers: [alice@acme.test, bob@acme.test, carol@acme.test]}
YAML
start=$(date +%s)
"$BIN" run --once --config "$work/agent.yaml" >/dev/null 2>&1 || true
echo "state for $P pipelines made in $(( $(date +%s) - start )) s ($(sqlite3 "$work/state/state.sqlite" 'select count(*) from promotions') promotions)"
"$BIN" run --config "$work/agent.yaml" 2>"$work/agent.log" &
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
sleep 2  # the service's first pass

# median and worst render time (ms) and size (bytes) of N fetches of a path
measure() {
  local path=$1 label=$2 times=() sizes=()
  for _ in $(seq "$N"); do
    line=$(curl -s -o /dev/null -D - -w 'size=%{size_download}\n' "http://127.0.0.1:$port$path" | tr -d '\r' \
      | awk -F'[=;]' '/^Server-Timing/ {t=$3} /^size=/ {s=$2} END {print t, s}')
    times+=("${line% *}"); sizes+=("${line#* }")
  done
  python3 - "$label" "${times[*]}" "${sizes[*]}" <<'PY'
import statistics, sys
label, times, sizes = sys.argv[1], [float(x) for x in sys.argv[2].split()], [int(x) for x in sys.argv[3].split()]
print(f"{label:<46} render median {statistics.median(times):7.1f} ms, worst {max(times):7.1f} ms, "
      f"first {times[0]:7.1f} ms; size {statistics.median(sizes) / 1024:7.1f} KiB ({statistics.median(sizes)} bytes)")
PY
}
measure / "overview ($P pipelines x 3 stages)"
measure "/pipelines/p7/stages/staging" "a stage page"
measure "/promotions/1" "a promotion page"
measure "/audit" "the audit page (first 100 of all records)"
measure "/audit?pipeline=p7" "the audit page filtered to one pipeline"
echo "audit records: $(wc -l < "$work/state/audit.jsonl")"
