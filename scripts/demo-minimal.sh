#!/usr/bin/env bash
# The main job, told with real runs of the agent on the bundled minimal example: a team repository
# is created, changes are merged, the agent promotes them dev -> staging, holds prod for approval,
# rolls back a bad change in staging and audits everything. (The Olist dbt story replaces it when
# the example project lands.) Exits non-zero if any step of the story does not happen as told.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/.build/debug/pipeline-agent"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/pipeline-agent-demo.XXXXXX")
export HELLO_ROOT="$scratch/deployed"
export GIT_AUTHOR_NAME="Dana Dev" GIT_AUTHOR_EMAIL="dana@acme.test" GIT_COMMITTER_NAME="Dana Dev" GIT_COMMITTER_EMAIL="dana@acme.test"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { echo "demo failed: $*" >&2; exit 1; }
agent() { "$BIN" "$@" --config "$scratch/agent.yaml"; }
phase() { agent status --output json | jq -r ".pipelines[0].stages[] | select(.name==\"$1\") | .phase"; }
current() { agent status --output json | jq -r ".pipelines[0].stages[] | select(.name==\"$1\") | .current // \"none\""; }
merge() { (cd "$scratch/work" && printf '%s\n' "$2" > app/greeting.txt && git commit -qam "$1" && git push -q ../team.git main && git rev-parse HEAD); }

say "1. A team repository from examples/minimal, and an agent config next to the agent"
mkdir -p "$scratch/work"
cp -R examples/minimal/. "$scratch/work/"
(cd "$scratch/work" && git init -q -b main && git add -A && git commit -qm "Initial greeting" && git clone -q --bare . ../team.git)
mkdir -p "$scratch/keys"
for who in alice bob carol; do
  ssh-keygen -q -t ed25519 -N "" -C "$who@acme.test" -f "$scratch/keys/$who"
  echo "$who@acme.test namespaces=\"pipeline-agent\" $(cut -d' ' -f1,2 "$scratch/keys/$who.pub")" >> "$scratch/allowed_signers"
done
printf 'source: {url: ./team.git, branch: main, pollInterval: 30s}\nstate: {path: ./state}\ntrust: {allowedSigners: ./allowed_signers}\n' > "$scratch/agent.yaml"
"$BIN" validate "$scratch/work"
cat "$scratch/agent.yaml"
echo "allowed_signers (kept with the agent, not in the repository):"; cut -c1-80 "$scratch/allowed_signers"

say "2. pipeline-agent plan: what would happen"
agent plan

say "3. pipeline-agent run --once: dev and staging build and verify; prod waits for approval"
agent run --once
good=$(cd "$scratch/work" && git rev-parse HEAD)
[ "$(current staging)" = "$good" ] || fail "staging is not on $good"
[ "$(phase prod)" = "WaitingApproval" ] || fail "prod should wait for approval, is $(phase prod)"
agent status

say "4. Two of three approvers sign: alice with pipeline-agent approve, bob with plain ssh-keygen"
(cd "$scratch/work" && "$BIN" approve --repo . --pipeline hello --stage prod --candidate "$good" \
  --approver alice@acme.test --key "$scratch/keys/alice" --comment "Greeting reviewed" --commit)
(cd "$scratch/work" && mkdir -p approvals/hello/prod && cat > approvals/hello/prod/bob.yaml <<YAML
apiVersion: pipeline-agent/v1
kind: Approval
pipeline: hello
stage: prod
candidate: "$good"
approver: bob@acme.test
stageDigest: $("$BIN" approval-digest --repo . --pipeline hello --stage prod)
comment: "Looks good to me"
YAML
ssh-keygen -q -Y sign -f "$scratch/keys/bob" -n pipeline-agent approvals/hello/prod/bob.yaml
git add approvals && git commit -qm "bob approves $good for prod" && git push -q ../team.git main)
agent run --once
[ "$(current prod)" = "$good" ] || fail "prod should run $good after two approvals"
agent audit log --stage prod | grep -E "approval.accepted|promotion.started" | cut -c1-200

say "5. A bad change is merged: dev lets it through, staging verification fails and is rolled back"
bad=$(merge "Greeting placeholder" "TODO: write a greeting")
set +e; agent run --once; status=$?; set -e
[ "$status" -eq 1 ] || fail "run --once should exit 1 when a promotion fails, exited $status"
[ "$(current dev)" = "$bad" ] || fail "dev should run the bad change"
[ "$(current staging)" = "$good" ] || fail "staging should stay on the good candidate"
[ "$(phase staging)" = "Failed" ] || fail "staging should show Failed"
[ "$(current prod)" = "$good" ] || fail "prod must be untouched"
grep -q "Hello" "$HELLO_ROOT/staging/greeting.txt" || fail "staging's deployed greeting was not restored"
echo "staging still serves: $(cat "$HELLO_ROOT/staging/greeting.txt")"
agent status

say "6. A fix is merged and flows through again (prod waits for new approvals)"
fixed=$(merge "Better greeting" "Hello again, from a fixed change!")
agent run --once
[ "$(current staging)" = "$fixed" ] || fail "staging should run the fix"
[ "$(phase staging)" = "InSync" ] || fail "staging should be InSync"
[ "$(phase prod)" = "WaitingApproval" ] || fail "prod should wait for approvals of the fix"
agent status

say "7. The audit trail of staging, and the chain verified"
agent audit log --stage staging | cut -c1-160
agent audit verify
echo
echo "Everything above happened for real. Explore: $scratch (agent.yaml, state/, deployed/)"
