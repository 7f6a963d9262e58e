#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Hostile guest against a running vdpa-lm:
#   test_hostile.sh VDPA_LM VU_HOSTILE relay|direct
# Device A gets one broken ring per attack on queue 3 (TX of queue pair
# 1) while queue pair 0 keeps carrying verified traffic; device B runs
# clean verified traffic for the whole time. Expected for each attack:
# relay: the relay marks queue 3 broken (log line with the reason,
# relay_broken in telemetry); direct: the device faults queue 3 (log
# line, dma_faults or ring_errors in telemetry). vdpa-lm stays up and
# serves a fresh connection afterwards.
set -euo pipefail

LM=$1
HOSTILE=$2
MODE=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/robustness/lib_rob.sh
. "$HERE/lib_rob.sh"

KINDS="head-oob next-oob loop indirect-len indirect-self buf-oob buf-gap idx-jump used-flags"

case $MODE in
relay) rob_start_lm hostile --relay epoll --relay-policy on ;;
direct) rob_start_lm hostile --relay epoll --relay-policy off ;;
*) it_die "unknown mode $MODE" ;;
esac

# A queue's fault counters in this mode.
faults() {
	if [ "$MODE" = relay ]; then
		rob_tel_q ifcvf_sw0 3 relay_broken
	else
		echo $(($(rob_tel_q ifcvf_sw0 3 dma_faults) + \
			$(rob_tel_q ifcvf_sw0 3 ring_errors)))
	fi
}

# Clean traffic on the other device for the whole attack sequence.
"$HOSTILE" traffic --socket "$SOCK_B" --seconds 12 </dev/null \
	>"$IT_TMP/clean.out" 2>&1 &
CLEAN_PID=$!
IT_PIDS+=("$CLEAN_PID")

for kind in $KINDS; do
	before=$(faults)
	lines=$(grep -c "q3 broken\|queue 3 stopped" "$LM_LOG" || true)
	if ! rob_hostile "attack-$kind" attack --socket "$SOCK_A" \
		--kind "$kind"; then
		check_fail "$kind" "attack run failed"
		continue
	fi
	after=$(faults)
	now=$(grep -c "q3 broken\|queue 3 stopped" "$LM_LOG" || true)
	if [ "$kind" = used-flags ]; then
		# Legal enough: the device owns the field and ignores it.
		[ "$after" = "$before" ] ||
			check_fail "$kind" "queue faulted by used flags"
	elif [ "$after" -le "$before" ] || [ "$now" -le "$lines" ]; then
		check_fail "$kind" "queue 3 not reported ($before -> $after)"
	else
		it_log "$kind: $(grep "q3 broken\|queue 3 stopped" "$LM_LOG" |
			tail -n 1)"
	fi
	rob_lm_alive || break
done

# The clean device never noticed.
rc=0
wait "$CLEAN_PID" || rc=$?
it_forget_pid "$CLEAN_PID"
tail -n 1 "$IT_TMP/clean.out" >&2
[ $rc -eq 0 ] || check_fail clean-device "traffic on device B failed"

# Process up, and a fresh connection to the attacked device works.
if rob_lm_alive; then
	rob_hostile fresh churn --socket "$SOCK_A" --count 2 ||
		check_fail fresh "new session after the attacks failed"
	rob_lm_alive || true
fi
rob_check_sanitizer
rob_stop_lm
check_finish
