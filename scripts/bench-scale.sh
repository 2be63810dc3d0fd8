#!/usr/bin/env bash
# Cost against size, side by side with what git itself needs (issue 14's table), from a release build.
# Repositories come from Benchmarks/generate-repo.py: P pipelines (dev -> staging, steps `true`) x C commits.
#   scripts/bench-scale.sh                 P = 10 100 1000, C = 2000, sparse checkouts
#   PIPELINES="10 100" COMMITS=20000 CHECKOUT=full scripts/bench-scale.sh
# CHECKOUT=sparse (default): each stage checks out its team's files (`checkout.paths`); full: the whole tree,
# which at 1,000 pipelines writes 2,001 files a promotion (about a second on this disk, for git too).
# Figures are best of 3 where a run can be repeated; the machine is noisy, compare within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product pipeline-agent >/dev/null
swift build -c release --product fetch-bench >/dev/null
BIN="$PWD/.build/release/pipeline-agent"
FETCH="$PWD/.build/release/fetch-bench"
CHECKOUT=${CHECKOUT:-sparse}
GEN="$PWD/Benchmarks/generate-repo.py"
PIPELINES=${PIPELINES:-"10 100 1000"}
COMMITS=${COMMITS:-2000}
work=$(mktemp -d "${TMPDIR:-/tmp}/pa-bench-scale.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# seconds taken by a command (its output discarded)
timed() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || true
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.4f}')"
}
best3() { python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$(timed "$@")" "$(timed "$@")" "$(timed "$@")"; }
ms() { python3 -c "import sys; print(f'{1000*float(sys.argv[1]):9.1f} ms')" "$1"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/max(float(sys.argv[2]),1e-9):7.1f}x')" "$1" "$2"; }
row() { printf '%-58s %s   %-34s %s\n' "$1" "$(ms "$2")" "$3 $(ms "$4")" "$(ratio "$2" "$4")"; }

# a commit changing one pipeline's data, pushed to the repository's main
push_change() {
  local repo=$1 index=$2 clone="$work/clone-$RANDOM"
  git clone -q "$repo" "$clone"
  echo "$RANDOM" > "$clone/teams/p$index/data.txt"
  git -C "$clone" -c user.email=b@x -c user.name=b commit -qam "bench change p$index"
  git -C "$clone" push -q origin main
  rm -rf "$clone"
}

# seconds from a signed webhook for a pushed commit to that commit's first step.started in the audit log
push_to_first_step() {
  local dir=$1 port=$2 sha=$3
  python3 - "$dir/state/audit.jsonl" "http://127.0.0.1:$port/hooks/git" "$sha" <<'PY'
import json, os, sys, time, urllib.request
log, url, sha = sys.argv[1:]
offset = os.path.getsize(log)
body = json.dumps({"object_kind": "push", "after": sha}).encode()
request = urllib.request.Request(url, data=body, headers={"X-Gitlab-Token": "bench-secret"}, method="POST")
start = time.monotonic()
urllib.request.urlopen(request, timeout=10).read()
while time.monotonic() - start < 120:
    with open(log, "rb") as handle:
        handle.seek(offset)
        data = handle.read()
    complete = data[: data.rfind(b"\n") + 1]  # a line being written is read again next time
    offset += len(complete)
    for line in complete.splitlines():
        record = json.loads(line)
        if record.get("type") == "step.started" and record.get("candidate") == sha:
            print(f"{time.monotonic() - start:.4f}")
            sys.exit(0)
    time.sleep(0.002)
print("120")
PY
}

# starts the service on $port polling every $poll; waits for its first pass; sets $service_pid
start_service() {
  local dir=$1 port=$2 poll=$3
  printf 'source: {url: ./team.git, branch: main, pollInterval: %s}\nstate: {path: ./state}\nhttp: {listen: "127.0.0.1:%s", webhookSecretEnv: PA_BENCH_HOOK}\n' \
    "$poll" "$port" > "$dir/service.yaml"
  PA_BENCH_HOOK=bench-secret "$BIN" run --config "$dir/service.yaml" >/dev/null 2>&1 &
  service_pid=$!
  for _ in $(seq 1 600); do
    passes=$(sample_passes "$port" || true)
    [ -n "$passes" ] && [ "$(echo "$passes" | cut -d' ' -f2)" != "0" ] && return 0
    sleep 0.2
  done
}
sample_passes() { curl -sf "http://127.0.0.1:$1/metrics" | awk '/^pipeline_agent_pass_duration_seconds_(sum|count)/ {print $2}' | paste -sd' '; }

# the mean idle pass from /metrics (polling every second), then push -> first step with a poll too slow to
# beat the webhook (the median of 3 pushes)
service_figures() {
  local dir=$1 port=$2 first second
  start_service "$dir" "$port" 1s
  sleep 1; first=$(sample_passes "$port"); sleep 6; second=$(sample_passes "$port")
  python3 -c "
import sys
s1, c1 = map(float, sys.argv[1].split()); s2, c2 = map(float, sys.argv[2].split())
print(f'{(s2 - s1) / max(c2 - c1, 1):.5f}')" "$first" "$second" > "$dir/idle-pass"
  kill -TERM "$service_pid"; wait "$service_pid" 2>/dev/null || true
  start_service "$dir" "$port" 10m
  : > "$dir/push-to-step-all"
  for index in 0 1 2; do
    push_change "$dir/team.git" "$index"
    push_to_first_step "$dir" "$port" "$(git -C "$dir/team.git" rev-parse main)" >> "$dir/push-to-step-all"
    sleep 1
  done
  sort -n "$dir/push-to-step-all" | sed -n 2p > "$dir/push-to-step"
  kill -TERM "$service_pid"; wait "$service_pid" 2>/dev/null || true
}

# the repositories over git:// on loopback, for the first fetch against `git clone --mirror` (a path
# would measure libgit2's local transport, which packs in-process and costs 4-5x the network protocol)
daemon_port=18699
git daemon --reuseaddr --base-path="$work" --export-all --port="$daemon_port" "$work" >/dev/null 2>&1 &
echo "pipeline-agent scale figures, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $COMMITS commits per repository, $CHECKOUT checkouts"
printf '%-58s %12s   %-34s %8s\n' "measure" "agent" "git / shell baseline" "ratio"
port=18700
for P in $PIPELINES; do
  dir="$work/p$P"; mkdir -p "$dir"
  sparse=(); [ "$CHECKOUT" = sparse ] && sparse=(--sparse)
  python3 "$GEN" --pipelines "$P" --commits "$COMMITS" "${sparse[@]}" --out "$dir/team.git"
  printf 'source: {url: ./team.git, branch: main}\nstate: {path: ./state}\n' > "$dir/agent.yaml"
  url="git://127.0.0.1:$daemon_port/p$P/team.git"
  fetch=$(python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" \
    "$("$FETCH" "$url" "$dir/f1.git")" "$("$FETCH" "$url" "$dir/f2.git")" "$("$FETCH" "$url" "$dir/f3.git")")
  rm -rf "$dir"/f?.git
  clone=$(best3 sh -c "rm -rf '$dir/c.git' && git clone -q --mirror '$url' '$dir/c.git'")
  row "first fetch over git://, $P pipelines" "$fetch" "clone --mirror git://" "$clone"
  plan=$(timed "$BIN" plan --config "$dir/agent.yaml")
  rm -rf "$dir/state"
  clone=$(timed git clone -q --mirror "$dir/team.git" "$dir/baseline.git")
  row "first fetch + index + plan (plan, fresh state), $P pipelines" "$plan" "clone --mirror (path)" "$clone"
  first=$(timed "$BIN" run --once --config "$dir/agent.yaml")
  printf '%-58s %s   (2 x %s promotions, %s checkouts)\n' "first run --once, $P pipelines" "$(ms "$first")" "$P" "$CHECKOUT"
  idle=$(best3 "$BIN" run --once --config "$dir/agent.yaml")
  lsremote=$(best3 git ls-remote "$dir/team.git")
  row "idle run --once, $P pipelines" "$idle" "git ls-remote" "$lsremote"
  port=$((port + 1))
  service_figures "$dir" "$port"
  row "idle service pass, $P pipelines" "$(cat "$dir/idle-pass")" "git ls-remote" "$lsremote"
  fetchonly=$(timed git -C "$dir/baseline.git" fetch -q origin '+refs/heads/*:refs/heads/*')
  row "push -> webhook -> first step.started (median of 3), $P" "$(cat "$dir/push-to-step")" "git fetch" "$fetchonly"
  before=$(stat -c %s "$dir/state/audit.jsonl")
  for i in 1 2 3 4 5; do push_change "$dir/team.git" $((i % P)); "$BIN" run --once --config "$dir/agent.yaml" >/dev/null 2>&1; done
  after=$(stat -c %s "$dir/state/audit.jsonl")
  printf '%-58s %9d B\n' "audit growth per commit (1 pipeline changed), $P pipelines" $(((after - before) / 5))
  push_change "$dir/team.git" 1
  promoted=$(timed "$BIN" run --once --config "$dir/agent.yaml")
  only=""; [ "$CHECKOUT" = sparse ] && only="teams/p1"
  baseline=$(timed sh -c "git -C '$dir/baseline.git' fetch -q origin '+refs/heads/*:refs/heads/*' && \
    for s in 1 2; do rm -rf '$dir/co' && mkdir '$dir/co' && git -C '$dir/baseline.git' archive main $only | tar -x -C '$dir/co' && sh -c true; done")
  row "1 new commit -> promoted (dev, staging), $P pipelines" "$promoted" "fetch + 2 checkouts + 2 steps" "$baseline"
  printf '%-58s %12s\n' "disk: state directory / checkouts left, $P pipelines" \
    "$(du -sh "$dir/state" | cut -f1) / $(du -sh "$dir/state-work" 2>/dev/null | cut -f1 || echo 0)"
done
