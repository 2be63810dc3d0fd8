#!/usr/bin/env bash
# Three agents share one local PostgreSQL and promote examples/minimal. The agent running staging's (slow)
# deploy is killed with SIGKILL in the middle of the step; another agent takes its promotion over after the
# lease, records it interrupted, rolls it back and promotes again; `audit verify` checks the one chain.
# Exits non-zero if any of that does not happen.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/.build/debug/pipeline-agent"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/pipeline-agent-demo-ha.XXXXXX")
export HELLO_ROOT="$scratch/deployed" HELLO_PAUSE=8
export GIT_AUTHOR_NAME="Dana Dev" GIT_AUTHOR_EMAIL="dana@acme.test" GIT_COMMITTER_NAME="Dana Dev" GIT_COMMITTER_EMAIL="dana@acme.test"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { echo "demo-ha failed: $*" >&2; exit 1; }
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  pg_stop
}

say "1. A PostgreSQL cluster of Debian's postgresql package in $scratch/pg"
source scripts/local-postgres.sh "$scratch/pg"
trap cleanup EXIT
echo "PA_DATABASE_URL=$PA_DATABASE_URL"

say "2. The team repository from examples/minimal, and one config for every agent (only state.path differs)"
mkdir -p "$scratch/work"
cp -R examples/minimal/. "$scratch/work/"
(cd "$scratch/work" && git init -q -b main && git add -A && git commit -qm "Initial greeting" && git clone -q --bare . ../team.git)
config() {
  printf 'source: {url: ./team.git, branch: main, pollInterval: 2s}\nstate: {path: ./state-%s, postgres: {urlEnv: PA_DATABASE_URL}}\nha: {leaseTimeout: 5s}\nshutdownGrace: 2s\n' "$1"
}
for name in a b c; do config "$name" > "$scratch/agent-$name.yaml"; done
cat "$scratch/agent-a.yaml"
agent() { "$BIN" "$@" --config "$scratch/agent-a.yaml"; }

say "3. Three agents start; staging's deploy takes ${HELLO_PAUSE}s"
for name in a b c; do
  "$BIN" run --config "$scratch/agent-$name.yaml" 2> "$scratch/agent-$name.log" & pids+=($!)
  echo "agent $name: pid $!"
done
runner=""
for _ in $(seq 1 120); do
  runner=$(agent status --output json 2>/dev/null | jq -r '.agents[]? | select(.running | map(startswith("hello/staging#")) | any) | .pid' | head -1 || true)
  [ -n "$runner" ] && break
  sleep 0.5
done
[ -n "$runner" ] || fail "no agent started staging's promotion"
agent status | grep '^agent '

say "4. SIGKILL to the agent running staging's step (pid $runner)"
kill -9 "$runner"
killed_at=$(date +%s)
for _ in $(seq 1 120); do
  [ "$(agent status --output json | jq -r '.pipelines[0].stages[] | select(.name=="staging") | .phase')" = InSync ] && break
  sleep 0.5
done
[ "$(agent status --output json | jq -r '.pipelines[0].stages[] | select(.name=="staging") | .phase')" = InSync ] \
  || fail "staging was not promoted after its agent died"
echo "staging promoted again $(( $(date +%s) - killed_at ))s after the kill (lease 5s, poll 2s, deploy ${HELLO_PAUSE}s)"
agent status | grep -E '^agent |^  (dev|staging|prod) '
echo
echo "staging's promotions in the audit chain, with the agent that wrote each record:"
agent audit log --stage staging --output json | jq -r 'select(.type | startswith("promotion.") or startswith("rollback.")) | "#\(.seq) \(.type) by \(.agent) \(.detail.reason // "")"'

say "5. The survivors stop (SIGTERM); the one chain verifies"
for pid in "${pids[@]}"; do [ "$pid" = "$runner" ] || kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${pids[@]}"; do [ "$pid" = "$runner" ] || wait "$pid" || fail "agent $pid did not stop cleanly"; done
agent audit verify
echo "demo-ha: done. Agents' logs are in $scratch/agent-*.log."
