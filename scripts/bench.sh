#!/usr/bin/env bash
# Performance figures from a release build (not part of `make test`: machines are noisy):
# audit-log appends per second with fsync (single and batched), the time to verify a log of N
# records (default 1,000,000; ~480 MiB of temp space), an idle planner pass over 1,000 pipelines, the cost
# of a step, the web page at 1,000 pipelines (scripts/bench-web.sh), promotions at once on PostgreSQL with 1 and 3 agents (scripts/bench-agents.sh), and cost against repository size (scripts/bench-scale.sh at 10, 100 and 1,000 pipelines × 20,000 commits; PIPELINES="10 100" COMMITS=2000 for a quicker run).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product audit-bench >/dev/null
.build/release/audit-bench planner --pipelines 1000
.build/release/audit-bench figures --verify-records "${1:-1000000}"
scripts/bench-steps.sh
scripts/bench-web.sh
PIPELINES=${PIPELINES:-"10 100 1000"} COMMITS=${COMMITS:-20000} scripts/bench-scale.sh
if ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then scripts/bench-agents.sh; else echo "skipped the agents benchmark: no PostgreSQL server (Debian package postgresql)"; fi
