#!/usr/bin/env bash
# The main job: the Olist dbt project promoted dev -> staging -> prod by the agent, for real.
# A team repository is made from examples/olist-analytics; changes are merged; the agent builds and
# verifies them with dbt on DuckDB; two approvers sign prod; a freeze blocks once and is lifted; a bad
# change is caught by staging's stricter thresholds and rolled back; a fix flows through; everything is
# audited. Exits non-zero if any step of the story does not happen as told.
# DEMO_DIR: where to work (default: a new temporary directory, left for you to explore).
# --serve: at the end, keep the agent running and serving its web page until Ctrl-C (what `make demo` does).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$root/.build/debug/pipeline-agent"
export PATH="$root/.venv/bin:$PATH"
command -v dbt >/dev/null || { echo "dbt is not installed: run make deps" >&2; exit 1; }
scratch="${DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/olist-demo.XXXXXX")}"
mkdir -p "$scratch"
export OLIST_WAREHOUSE_DIR="$scratch/warehouse" DBT_SEND_ANONYMOUS_USAGE_STATS=false PD_ROUTING_KEY="demo-routing-key"
export GIT_AUTHOR_NAME="Dana Dev" GIT_AUTHOR_EMAIL="dana@acme.test" GIT_COMMITTER_NAME="Dana Dev" GIT_COMMITTER_EMAIL="dana@acme.test"
mkdir -p "$OLIST_WAREHOUSE_DIR"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { echo "demo failed: $*" >&2; exit 1; }
agent() { "$BIN" "$@" --config "$scratch/agent.yaml"; }
stage() { agent status --output json | jq -r ".pipelines[0].stages[] | select(.name==\"$1\") | .$2 // \"none\""; }
rows() { python3 -c "import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True); print(c.execute('select count(*) from ' + sys.argv[2]).fetchone()[0])" "$OLIST_WAREHOUSE_DIR/$1.duckdb" "$2"; }
commit() { (cd "$scratch/work" && git add -A && git commit -qm "$1" && git push -q ../team.git main && git rev-parse HEAD); }

say "1. The team repository, three approver keys, the agent's allowed_signers and config"
mkdir -p "$scratch/work/examples" "$scratch/work/pipelines" "$scratch/keys"
(cd "$root/examples" && tar --exclude=target --exclude=logs -cf - olist-analytics) | (cd "$scratch/work/examples" && tar -xf -)
# This team works around the clock, and starts in a code freeze: both are commits to the spec.
sed -e 's/days: \[mon, tue, wed, thu\], from: "09:00", to: "16:00"/days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"/' \
    -e 's/      freeze: false/      freeze: true/' "$root/pipelines/olist-analytics.yaml" > "$scratch/work/pipelines/olist-analytics.yaml"
(cd "$scratch/work" && git init -q -b main && git add -A && git commit -qm "Olist analytics: first version" && git clone -q --bare . ../team.git)
for who in alice bob carol; do
  ssh-keygen -q -t ed25519 -N "" -C "$who@acme.test" -f "$scratch/keys/$who"
  echo "$who@acme.test namespaces=\"pipeline-agent\" $(cut -d' ' -f1,2 "$scratch/keys/$who.pub")" >> "$scratch/allowed_signers"
done
# Steps are code any committer wrote: as root, the agent runs them as their own OS users (docs/operations.md,
# "Isolation"); elsewhere it runs them as you, and says so.
execution=""
if [ "$(id -u)" -eq 0 ]; then
  for user in pa-step pa-prod; do
    id "$user" >/dev/null 2>&1 || useradd --system --create-home --shell /usr/sbin/nologin "$user"
  done
  chmod 755 "$scratch"; chmod 1777 "$OLIST_WAREHOUSE_DIR"   # the step users write the warehouse, nothing else
  if setpriv --reuid pa-step --regid pa-step --clear-groups "$root/.venv/bin/python" -c "" 2>/dev/null \
     && setpriv --reuid pa-step --regid pa-step --clear-groups test -r "$scratch/work/pipelines/olist-analytics.yaml"; then
    execution='execution: {stepUser: pa-step, users: {"*/prod": pa-prod}, requireIsolation: true}'
  else
    echo "note: pa-step cannot run $root/.venv/bin/python or read $scratch (a private parent directory, or a venv made"
    echo "      from an interpreter in a private home): steps will run as root, and the agent says NOT ISOLATED"
  fi
else
  echo "note: not root, so the agent cannot switch users: steps will run as $(id -un) (the agent says NOT ISOLATED)"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$root/scripts/notification_receiver.py" "$port" "$scratch/notifications.jsonl" >/dev/null 2>&1 & receiver=$!
trap 'kill -KILL $receiver 2>/dev/null || true' EXIT  # KILL: a parent may have blocked TERM
cat > "$scratch/agent.yaml" <<YAML
source: {url: ./team.git, branch: main, pollInterval: 60s}
state: {path: ./state}
trust: {allowedSigners: ./allowed_signers}
notifications:
  analytics-dev: {type: webhook, url: "http://127.0.0.1:$port/analytics-dev"}
  analytics-production: {type: webhook, url: "http://127.0.0.1:$port/analytics-production"}
  on-call: {type: pagerduty, url: "http://127.0.0.1:$port/pagerduty", routingKeyEnv: PD_ROUTING_KEY}
$execution
protect:   # the floor, outside the repository: a merged commit may tighten prod, never loosen it
  - pipeline: "*"
    stage: prod
    promotion: manual
    minApprovals: 2
    approvers: [alice@acme.test, bob@acme.test, carol@acme.test]
YAML
"$BIN" validate --config "$scratch/agent.yaml" "$scratch/work"
cat "$scratch/agent.yaml"

say "2. The first change: dev and staging build and verify automatically; prod waits for approval"
agent run --once
good=$(cd "$scratch/work" && git rev-parse HEAD)
[ "$(stage staging current)" = "$good" ] || fail "staging is not on $good"
[ "$(stage prod phase)" = "WaitingApproval" ] || fail "prod should wait for approval, is $(stage prod phase)"
agent plan
echo "staging fct_orders rows: $(rows staging fct_orders)   dev (sampled to DEV_ROW_LIMIT): $(rows dev fct_orders)"

say "3. Two approvers sign (alice with pipeline-agent approve, bob with plain ssh-keygen)"
(cd "$scratch/work" && "$BIN" approve --repo . --pipeline olist-analytics --stage prod --candidate "$good" \
  --approver alice@acme.test --key "$scratch/keys/alice" --comment "Marts reviewed" --commit)
mkdir -p "$scratch/work/approvals/olist-analytics/prod"
cat > "$scratch/work/approvals/olist-analytics/prod/bob.yaml" <<YAML
apiVersion: pipeline-agent/v1
kind: Approval
pipeline: olist-analytics
stage: prod
candidate: "$good"
approver: bob@acme.test
stageDigest: $("$BIN" approval-digest --repo "$scratch/work" --pipeline olist-analytics --stage prod)
comment: "CLV numbers match the finance report"
YAML
ssh-keygen -q -Y sign -f "$scratch/keys/bob" -n pipeline-agent "$scratch/work/approvals/olist-analytics/prod/bob.yaml"
commit "bob approves $good for prod" >/dev/null
agent run --once
[ "$(stage prod phase)" = "Frozen" ] || fail "the freeze should block prod, phase is $(stage prod phase)"
echo "prod is approved (2 of 2) but frozen: $(stage prod reason)"
sed -i 's/      freeze: true/      freeze: false/' "$scratch/work/pipelines/olist-analytics.yaml"
commit "Lift the code freeze" >/dev/null
agent run --once
[ "$(stage prod current)" = "$good" ] || fail "prod should run $good"
prod_orders=$(rows prod fct_orders); staging_orders=$(rows staging fct_orders)
echo "prod is live: fct_orders $prod_orders rows, daily_revenue $(rows prod daily_revenue) days, dbt docs in target/prod-docs"

say "4. A bad change: fct_orders joins payments directly, duplicating orders paid in two parts"
sed -i "s|join {{ ref('int_order_payments_summary') }} as p using (order_id)|join (select order_id, payment_value as paid_value, 1 as payment_count, payment_type as first_payment_type from {{ ref('stg_payments') }}) as p using (order_id)|" \
  "$scratch/work/examples/olist-analytics/models/marts/fct_orders.sql"
bad=$(commit "fct_orders: read payments straight from staging")
set +e; agent run --once; status=$?; set -e
[ "$status" -eq 1 ] || fail "run --once should exit 1 when a promotion fails, exited $status"
[ "$(stage dev current)" = "$bad" ] || fail "dev's lenient thresholds should let the change through"
[ "$(stage staging current)" = "$good" ] || fail "staging should stay on the good candidate"
[ "$(stage staging phase)" = "Failed" ] || fail "staging should show Failed"
[ "$(stage prod current)" = "$good" ] || fail "prod must be untouched"
[ "$(rows staging fct_orders)" = "$staging_orders" ] || fail "staging's warehouse was not restored"
[ "$(rows prod fct_orders)" = "$prod_orders" ] || fail "prod's warehouse changed"
echo "dev has $(rows dev fct_orders) fct_orders rows (duplicates, within dev's warn > 100 / error > 1000)"
echo "staging rolled back to $staging_orders rows; prod still $prod_orders"
agent audit log --stage staging --candidate "${bad:0:12}" | grep -E "verify|rollback|promotion" | cut -c1-190

say "5. The fix is merged and flows through dev and staging; prod waits for new approvals"
(cd "$scratch/work" && git revert --no-edit HEAD >/dev/null)
git -C "$scratch/work" log -1 --format=%s | grep -q Revert || fail "could not revert the bad change"
git -C "$scratch/work" push -q ../team.git main
fixed=$(git -C "$scratch/work" rev-parse HEAD)
agent run --once
[ "$(stage staging current)" = "$fixed" ] || fail "staging should run the fix"
[ "$(stage prod phase)" = "WaitingApproval" ] || fail "prod should wait for approvals of the fix"
echo "A merged PR sets prod to auto and required: 0; the agent's floor holds prod at 2 of alice/bob/carol:"
sed -i -e 's/      promotion: manual/      promotion: auto/' -e 's/        required: 2/        required: 0/' \
  "$scratch/work/pipelines/olist-analytics.yaml"
commit "prod: promote automatically" >/dev/null
agent run --once
[ "$(stage prod phase)" = "WaitingApproval" ] || fail "the floor should keep prod waiting, is $(stage prod phase)"
agent plan | grep -E "^  prod|floor:"

say "6. Status, the audit trail of prod, and the chain verified"
agent status
agent audit log --stage prod | cut -c1-170 | tail -15
agent audit verify
echo "who ran each stage's steps (runAs in promotion.started):"
agent audit log --output json | jq -r 'select(.type == "promotion.started") | "  \(.pipeline)/\(.stage): \(.detail.runAs)"' | sort -u
echo "notifications received by the local receiver: $(wc -l < "$scratch/notifications.jsonl")"
echo
echo "Everything above happened for real. Explore: $scratch"

[ "${1:-}" = "--serve" ] || exit 0
say "7. The agent's web page: the same story for approvers, auditors and on-call"
port=8080
python3 -c "import socket; socket.socket().bind(('127.0.0.1', $port))" 2>/dev/null \
  || port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "http: {listen: \"127.0.0.1:$port\"}" >> "$scratch/agent.yaml"
rolled_back=$(sqlite3 "$scratch/state/state.sqlite" "select id from promotions where status = 'rolled-back'")
echo "Open http://127.0.0.1:$port/ (the overview: prod waits for approval under the floor)"
echo "     http://127.0.0.1:$port/promotions/$rolled_back (staging's rolled-back promotion: the failing check, the restore)"
echo "     http://127.0.0.1:$port/audit (the trail, its filters, the chain verified, the export)"
echo "The agent runs on (its log: $scratch/agent.log); Ctrl-C stops it."
"$BIN" run --config "$scratch/agent.yaml" 2>"$scratch/agent.log"
