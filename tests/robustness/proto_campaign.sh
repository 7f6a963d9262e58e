#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Long campaign of the random vhost-user protocol tester against one
# vdpa-lm (not part of the suite):
#   proto_campaign.sh BUILD_DIR MESSAGES [POLICY] [FIRST_SEED]
# Runs `vu-proto fuzz` with seeds FIRST_SEED, FIRST_SEED+1, ... (20,000
# messages each) until MESSAGES were sent, against vdpa-lm with
# --relay-policy POLICY (default auto). A crashed vdpa-lm is recorded
# (seed, exit status, last log lines) and restarted. At the end: one
# migration through the last vdpa-lm, and a summary line with messages,
# sessions, back-end closes, crashes, unanswered requests and vdpa-lm's
# threads/fds before and after. Extra fuzz options: PROTO_FUZZ_ARGS
# (e.g. --bad-mmap-offset).
set -euo pipefail

BUILD=$(cd "$1" && pwd)
TOTAL=$2
POLICY=${3:-auto}
SEED=${4:-1000}
LM=$BUILD/apps/vdpa-lm/vdpa-lm
HOSTILE=$BUILD/tests/robustness/vu-hostile
PROTO=$BUILD/tests/robustness/vu-proto
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/robustness/lib_rob.sh
. "$HERE/lib_rob.sh"

PER=20000
sent=0 sessions=0 closed=0 hangs=0 crashes=0 runs=0

start() {
	rob_start_lm "camp$crashes" --relay epoll --relay-policy "$POLICY"
	rob_hostile camp-warm churn --socket "$SOCK_A" --count 2 --log || true
}

start
sleep 0.5
before=$(rob_resources "$LM_PID")
while [ "$sent" -lt "$TOTAL" ]; do
	# shellcheck disable=SC2086
	rob_proto "camp-$SEED" fuzz --socket "$SOCK_A" --region-mb 8 \
		--seed "$SEED" --messages "$PER" ${PROTO_FUZZ_ARGS:-} || true
	line=$(grep "fuzz seed" "$IT_TMP/camp-$SEED.out" || true)
	read -r m s c h <<<"$(sed -E 's/.*: ([0-9]+) messages, ([0-9]+) sessions, ([0-9]+) closed.* ([0-9]+) unanswered.*/\1 \2 \3 \4/' <<<"${line:-0 0 0 0}")"
	sent=$((sent + ${m:-0})) sessions=$((sessions + ${s:-0}))
	closed=$((closed + ${c:-0})) hangs=$((hangs + ${h:-0}))
	runs=$((runs + 1))
	if ! kill -0 "$LM_PID" 2>/dev/null; then
		crashes=$((crashes + 1))
		rc=0
		wait "$LM_PID" 2>/dev/null || rc=$?
		it_forget_pid "$LM_PID"
		it_log "CRASH: seed $SEED, vdpa-lm exit status $rc"
		tail -n 5 "$LM_LOG" >&2
		start
	fi
	SEED=$((SEED + 1))
done
sleep 0.5
after=$(rob_resources "$LM_PID")
rob_hostile camp-migrate migrate --socket "$SOCK_A" --dest-socket "$SOCK_B" \
	--queues 2 --replace-log-round 0 || check_fail migrate "migration after the campaign"
rob_check_sanitizer
rob_stop_lm
it_log "campaign: policy $POLICY, $runs seeds, $sent messages, $sessions sessions," \
	"$closed closed by vdpa-lm, $hangs unanswered, $crashes crashes;" \
	"threads/fds/rss before '$before' after '$after' (last vdpa-lm)"
check_finish
