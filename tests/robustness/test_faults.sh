#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Faults against a running vdpa-lm:
#   test_faults.sh VDPA_LM VU_HOSTILE VU_MIGRATE kill|switchover|toggle|logswap|delay
#
#   kill        front-ends SIGKILLed or vanishing mid-traffic while the
#               relay runs (logging on); no leaked thread, fd or memory
#   switchover  the same with --relay-cycle 1: queues switch between
#               relay and direct every millisecond while the peer dies
#   toggle      LOG_ALL on/off 1000 times under verified traffic
#   logswap     SET_LOG_BASE replaced mid-migration: 0 mismatches
#   delay       relay slowed by VRELAY_FAULT_DELAY_US while the device
#               runs flat out: migrations still find 0 mismatches
#   stats-race  telemetry /vdpa_relay/stats read back to back while
#               LOG_ALL goes on/off 300 times under traffic: vdpa-lm
#               stays up, no sanitizer report
set -euo pipefail

LM=$1
HOSTILE=$2
MIGRATE=$3
WHAT=$4
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/robustness/lib_rob.sh
. "$HERE/lib_rob.sh"

# Slack for RSS growth over a batch (allocator high-water marks, DPDK
# per-device caches): small against the ~MiB a leaked session costs.
RSS_SLACK_KB=${ROB_RSS_SLACK_KB:-8192}

# kill_batch SOCKET N: N sessions with traffic, each SIGKILLed at a
# random moment between 0.2 s and 0.7 s into its run.
kill_batch() {
	local sock=$1 n=$2 i pid

	for ((i = 0; i < n; i++)); do
		"$HOSTILE" traffic --socket "$sock" --log </dev/null \
			>>"$IT_TMP/kill.out" 2>&1 &
		pid=$!
		IT_PIDS+=("$pid")
		sleep "0.$((2 + RANDOM % 6))"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		it_forget_pid "$pid"
	done
}

# One connect/relay/disconnect batch: SIGKILLs, abrupt closes and clean
# stops on both devices.
fault_batch() {
	kill_batch "$SOCK_A" 4
	kill_batch "$SOCK_B" 2
	rob_hostile churn-a churn --socket "$SOCK_A" --count 4 --log ||
		check_fail churn-a "sessions with abrupt closes failed"
	rob_hostile churn-b churn --socket "$SOCK_B" --count 2 ||
		check_fail churn-b "sessions with abrupt closes failed"
}

leak_test() {
	local tag=$1 before after

	shift
	# Under ASan, freed blocks sit in a quarantine (256 MiB by default)
	# and RSS grows until it is full: keep it small so RSS means
	# something. No effect on a build without ASan.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1 \
		rob_start_lm "$tag" "$@"
	# Warm-up: first sessions allocate lasting state (engines, pools).
	fault_batch
	sleep 0.5
	before=$(rob_resources "$LM_PID")
	fault_batch
	fault_batch
	sleep 0.5
	rob_lm_alive || return 0
	after=$(rob_resources "$LM_PID")
	rob_check_leaks "$tag" "$before" "$after" "$RSS_SLACK_KB"
	# A fresh session still gets intact traffic through the relay.
	rob_hostile fresh traffic --socket "$SOCK_A" --log --seconds 2 ||
		check_fail fresh "traffic after the faults failed"
	rob_check_sanitizer
	rob_stop_lm
}

# migrate LOGNAME ARGS...: the migration simulator, both devices.
migrate() {
	local name=$1

	shift
	if "$MIGRATE" --socket "$SOCK_A" --dest-socket "$SOCK_B" "$@" \
		</dev/null >"$IT_TMP/$name.out" 2>&1; then
		tail -n 1 "$IT_TMP/$name.out" >&2
	else
		tail -n 5 "$IT_TMP/$name.out" >&2
		check_fail "$name" "migration failed"
	fi
}

case $WHAT in
kill)
	leak_test kill --relay epoll --relay-policy auto
	;;
switchover)
	leak_test switch --relay epoll --relay-policy auto --relay-cycle 1
	;;
toggle)
	rob_start_lm toggle --relay poll --relay-policy auto
	rob_hostile toggle toggle --socket "$SOCK_A" --count 1000 ||
		check_fail toggle "logging toggled 1000 times"
	# Each toggle really went through the relay and back.
	sw=$(python3 "$ROB_HERE/telemetry.py" "$LM_TEL" \
		/vdpa_relay/stats,ifcvf_sw0 | python3 -c 'import json, sys
print(json.load(sys.stdin)["/vdpa_relay/stats"]["switches"])')
	it_log "toggle: $sw switchovers"
	[ "$sw" -ge 2000 ] || check_fail toggle-switches "only $sw switchovers"
	rob_lm_alive || true
	rob_check_sanitizer
	rob_stop_lm
	;;
logswap)
	rob_start_lm logswap --relay epoll --relay-policy auto
	for round in 1 3; do
		if rob_hostile "logswap-$round" migrate --socket "$SOCK_A" \
			--dest-socket "$SOCK_B" --queues 2 \
			--replace-log-round "$round"; then
			grep -q "dirty log replaced" "$IT_TMP/logswap-$round.out" ||
				check_fail "logswap-$round" "log was not replaced"
		else
			check_fail "logswap-$round" "migration with log replacement"
		fi
	done
	rob_lm_alive || true
	rob_check_sanitizer
	rob_stop_lm
	;;
delay)
	VRELAY_FAULT_DELAY_US=${ROB_DELAY_US:-300} \
		rob_start_lm delay --relay epoll --relay-policy auto
	migrate delay-q2 --queues 2 --mrg on --packets 20000
	migrate delay-q1-nomrg --queues 1 --mrg off --packets 20000
	if rob_hostile delay-logswap migrate --socket "$SOCK_A" \
		--dest-socket "$SOCK_B" --queues 2 --replace-log-round 2; then
		:
	else
		check_fail delay-logswap "log replacement under a slow relay"
	fi
	# Engines start at the first switch to relay: look only now.
	grep -q "fault injection" "$LM_LOG" ||
		check_fail delay-hook "VRELAY_FAULT_DELAY_US not taken"
	rob_lm_alive || true
	rob_check_sanitizer
	rob_stop_lm
	;;
stats-race)
	rob_start_lm race --relay poll --relay-policy auto
	"$HOSTILE" toggle --socket "$SOCK_A" --count 300 </dev/null \
		>"$IT_TMP/race-toggle.out" 2>&1 &
	TOGGLE_PID=$!
	IT_PIDS+=("$TOGGLE_PID")
	reads=$(python3 "$ROB_HERE/telemetry.py" --while-pid "$TOGGLE_PID" \
		"$LM_TEL" /vdpa_relay/stats,ifcvf_sw0) ||
		check_fail stats-read "telemetry read failed"
	rc=0
	wait "$TOGGLE_PID" || rc=$?
	it_forget_pid "$TOGGLE_PID"
	tail -n 1 "$IT_TMP/race-toggle.out" >&2
	it_log "stats-race: ${reads:-0} telemetry replies during the toggles"
	[ $rc -eq 0 ] || check_fail stats-toggle "logging toggled 300 times"
	[ "${reads:-0}" -gt 0 ] || check_fail stats-reads "no telemetry reply"
	rob_lm_alive || true
	rob_check_sanitizer
	rob_stop_lm
	;;
*)
	it_die "unknown test $WHAT"
	;;
esac
check_finish
