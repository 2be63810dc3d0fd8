#!/usr/bin/env bash
# Promotions at once (issue 15): PIPELINES (default 200) pipelines whose one step sleeps 1 s, promoted on a local
# PostgreSQL by 1 agent × 1 promotion at a time, 1 agent × 8 and 3 agents × 8; wall time against the ideal
# (PIPELINES seconds / promotions at once). Then audit appends per second on PostgreSQL next to the SQLite file.
# SPARSE=1: each stage checks out only its own directory (`checkout: {paths: [...]}`) instead of the whole repository.
set -euo pipefail
cd "$(dirname "$0")/.."
PIPELINES=${PIPELINES:-200}
swift build -c release --product pipeline-agent --product audit-bench >/dev/null 2>&1 || {
  swift build -c release --product pipeline-agent >/dev/null; swift build -c release --product audit-bench >/dev/null; }
BIN="$PWD/.build/release/pipeline-agent"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/pipeline-agent-bench-agents.XXXXXX")
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done; pg_stop; [ -n "${KEEP:-}" ] || rm -rf "$scratch"; }
source scripts/local-postgres.sh "$scratch/pg"
trap cleanup EXIT
base_url=$PA_DATABASE_URL

mkdir -p "$scratch/work/pipelines"
for i in $(seq -w 1 "$PIPELINES"); do
  mkdir -p "$scratch/work/p$i"; echo 1 > "$scratch/work/p$i/x.txt"
  cat > "$scratch/work/pipelines/p$i.yaml" <<YAML
apiVersion: pipeline-agent/v1
kind: Pipeline
metadata: {name: p$i}
spec:
  source: {branch: main, paths: ["p$i/**"]}
  stages:
    - name: dev
${SPARSE:+      checkout: {paths: ["p$i/**"]}}
      steps:
        - {name: deploy, run: sleep 1}
YAML
done
(cd "$scratch/work" && git init -q -b main && git add -A && git -c user.name=b -c user.email=b@b commit -qm pipelines \
  && git clone -q --bare . ../team.git)

# run AGENTS CONCURRENCY: wall seconds until every stage is InSync, on a fresh database.
run() {
  local agents=$1 concurrency=$2 database="bench_$1_$2"
  pg_psql "CREATE DATABASE $database"
  export PA_DATABASE_URL="${base_url%/postgres}/$database"
  for n in $(seq 1 "$agents"); do
    printf 'source: {url: ./team.git, branch: main, pollInterval: 1s}\nstate: {path: ./state-%s-%s}\nexecution: {maxConcurrentPromotions: %s}\nshutdownGrace: 1s\n' \
      "$database" "$n" "$concurrency" | sed 's|state-\([^}]*\)}|state-\1, postgres: {urlEnv: PA_DATABASE_URL}}|' > "$scratch/$database-$n.yaml"
  done
  local start end
  start=$(date +%s.%N)
  for n in $(seq 1 "$agents"); do "$BIN" run --config "$scratch/$database-$n.yaml" 2> "$scratch/$database-$n.log" & pids+=($!); done
  until [ "$("$BIN" status --output json --config "$scratch/$database-1.yaml" 2>/dev/null | jq '[.pipelines[].stages[] | select(.phase=="InSync")] | length' 2>/dev/null || echo 0)" = "$PIPELINES" ]; do
    sleep 0.2
  done
  end=$(date +%s.%N)
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
  "$BIN" audit verify --config "$scratch/$database-1.yaml" >/dev/null || { echo "chain broken in $database"; exit 1; }
  awk -v s="$start" -v e="$end" -v p="$PIPELINES" -v a="$agents" -v c="$concurrency" 'BEGIN {
    ideal = p / (a * c); wall = e - s
    printf "%d agent(s) x %d at once   %8.1f s   ideal %6.1f s   %5.2fx the ideal\n", a, c, wall, ideal, wall / ideal }'
}

echo "== $PIPELINES pipelines, one step of sleep 1 s each, on PostgreSQL (wall time from the agents' start, fetch and first plan included)"
for scenario in ${SCENARIOS:-1x1 1x8 3x8}; do run "${scenario%x*}" "${scenario#*x}"; done
echo
echo "== audit appends per second"
pg_psql "CREATE DATABASE appends"
.build/release/audit-bench postgres --url "${base_url%/postgres}/appends" --records 2000
.build/release/audit-bench figures --verify-records 10000 | head -2
