#!/usr/bin/env bash
# Prints audit-log figures from a release build: appends per second with fsync (single and
# batched) and the time to verify a log of N records (default 1,000,000; ~480 MiB of temp space).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product audit-bench >/dev/null
.build/release/audit-bench figures --verify-records "${1:-1000000}"
