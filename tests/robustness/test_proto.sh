#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Protocol-level regressions against a running vdpa-lm (vu-proto, see
# the top of tests/robustness/vu_proto.c), and the random protocol
# tester:
#   test_proto.sh VDPA_LM VU_HOSTILE VU_PROTO WHAT
#
#   stale-size        SET_VRING_NUM 16 / ring at the end of RAM / KICK /
#   stale-size-relay  NUM 32768: the queue must not run, vdpa-lm stays
#                     up, logs an error, serves a fresh session (policy
#                     auto with LOG_ALL on before queue 3 is enabled, so
#                     the relay meets the ring; and policy on)
#   event-idx-late    the used ring fits only without avail_event, then
#                     EVENT_IDX is negotiated (policy on): same checks
#   short-tx-header   a TX chain shorter than the virtio-net header
#                     faults the queue under the relay: GET_VRING_BASE
#                     gives the device's index; 20 sessions leak nothing
#   forged-used-idx   used->idx forged a ring ahead before LOG_ALL: at
#                     most 2 "in-flight" warnings, inflight_logged < 1024
#                     when exported, device B's traffic unaffected
#   bad-log-base      rejected SET_LOG_BASE messages mid-migration (relay
#                     on): 0 mismatches; 300 of them leak no fd or memory
#   switch-fail       VRELAY_FAULT_SWITCH=1: the failed switch reaches
#                     the front-end, nothing is written unlogged
#   fuzz-auto         vu-proto fuzz (ROB_FUZZ_MESSAGES, default 30000;
#   fuzz-on           ROB_FUZZ_SEED, default 1): vdpa-lm alive, no leak,
#                     then a migration through it finds 0 mismatches
set -euo pipefail

LM=$1
HOSTILE=$2
PROTO=$3
WHAT=$4
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/robustness/lib_rob.sh
. "$HERE/lib_rob.sh"

RSS_SLACK_KB=${ROB_RSS_SLACK_KB:-8192}
# The error a ring that does not fit guest memory must produce: it names
# the queue (driver "queue 3" or relay ".../q3") and guest memory; with
# DPDK >= 23.03 the relay refuses the late SET_VRING_KICK that would set
# the ring up (vhost would abort the process on it), and says so.
RING_ERR='(queue 3|/q3)\b.*(guest memory|outside|not fit|SET_VRING_KICK .* refused)'

# Keep ASan's quarantine small so RSS means something (no effect
# without ASan).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1

# settled_resources BEFORE: resources of vdpa-lm once its fds and
# threads are back to BEFORE's (teardown of the last session is
# asynchronous), or after 3 s.
settled_resources() {
	local t0 f0 r0 t1 f1 r1 i

	read -r t0 f0 r0 <<<"$1"
	for ((i = 0; i < 30; i++)); do
		read -r t1 f1 r1 <<<"$(rob_resources "$LM_PID")"
		[ "$t1" -le "$t0" ] && [ "$f1" -le "$f0" ] && break
		sleep 0.1
	done
	rob_resources "$LM_PID"
}

# lm_done: common end of every test.
lm_done() {
	rob_lm_alive || true
	rob_check_sanitizer
	rob_stop_lm
}

# stale VARIANT-ARGS POLICY: a ring that does not fit guest memory.
stale() {
	local args=$1 policy=$2 lines now

	rob_start_lm stale --relay epoll --relay-policy "$policy"
	lines=$(grep -ciE "$RING_ERR" "$LM_LOG" || true)
	# shellcheck disable=SC2086
	rob_proto stale stale-size --socket "$SOCK_A" $args ||
		check_fail stale-run "queue with a ring outside guest memory ran"
	if rob_lm_alive; then
		now=$(grep -ciE "$RING_ERR" "$LM_LOG" || true)
		if [ "$now" -le "$lines" ]; then
			check_fail stale-log "no error about queue 3's ring"
		else
			it_log "logged: $(grep -iE "$RING_ERR" "$LM_LOG" | tail -n 1)"
		fi
		rob_hostile fresh churn --socket "$SOCK_A" --count 2 ||
			check_fail fresh "fresh session after the bad ring failed"
	fi
	lm_done
}

case $WHAT in
stale-size)
	stale --log-first auto
	;;
stale-size-relay)
	stale "" on
	;;
event-idx-late)
	stale --event-idx-late on
	;;
short-tx-header)
	rob_start_lm shorttx --relay epoll --relay-policy auto
	# Warm-up: the first sessions allocate lasting state (engines).
	rob_proto shorttx-warm short-tx-header --socket "$SOCK_A" --count 2 ||
		check_fail short-tx-warm "GET_VRING_BASE of the faulted queue"
	before=$(settled_resources "$(rob_resources "$LM_PID")")
	rob_proto shorttx short-tx-header --socket "$SOCK_A" --count 20 ||
		check_fail short-tx-header "GET_VRING_BASE of the faulted queue"
	grep "FAIL short-tx-header session" "$IT_TMP/shorttx.out" |
		head -n 2 >&2 || true
	if rob_lm_alive; then
		after=$(settled_resources "$before")
		rob_check_leaks short-tx "$before" "$after" "$RSS_SLACK_KB"
	fi
	lm_done
	;;
forged-used-idx)
	rob_start_lm forged --relay epoll --relay-policy auto
	"$HOSTILE" traffic --socket "$SOCK_B" --seconds 6 </dev/null \
		>"$IT_TMP/clean.out" 2>&1 &
	CLEAN_PID=$!
	IT_PIDS+=("$CLEAN_PID")
	rob_proto forged forged-used-idx --socket "$SOCK_A" ||
		check_fail forged-run "session with a forged used idx failed"
	n=$(grep -c "in-flight" "$LM_LOG" || true)
	it_log "forged-used-idx: $n 'in-flight' lines"
	[ "$n" -le 2 ] || check_fail forged-warnings "$n in-flight warning lines"
	v=$(rob_tel_q_opt ifcvf_sw0 0 inflight_logged || true)
	if [ -n "$v" ]; then
		it_log "forged-used-idx: q0 inflight_logged $v"
		[ "$v" -lt 1024 ] ||
			check_fail forged-counter "inflight_logged $v: a forged ring"
	else
		it_log "forged-used-idx: no inflight_logged in telemetry"
	fi
	rc=0
	wait "$CLEAN_PID" || rc=$?
	it_forget_pid "$CLEAN_PID"
	tail -n 1 "$IT_TMP/clean.out" >&2
	[ $rc -eq 0 ] || check_fail clean-device "traffic on device B failed"
	lm_done
	;;
bad-log-base)
	rob_start_lm badlog --relay epoll --relay-policy on
	rob_hostile badlog-migrate migrate --socket "$SOCK_A" \
		--dest-socket "$SOCK_B" --queues 2 --bad-log-round 3 \
		--replace-log-round 4 ||
		check_fail bad-log-migrate "migration with rejected SET_LOG_BASE"
	grep -q "bad SET_LOG_BASE rejected" "$IT_TMP/badlog-migrate.out" ||
		check_fail bad-log-sent "the rejected messages were not sent"
	rob_proto badlog-warm bad-log-repeat --socket "$SOCK_A" --count 30 ||
		check_fail bad-log-warm "session with rejected SET_LOG_BASE"
	before=$(settled_resources "$(rob_resources "$LM_PID")")
	rob_proto badlog bad-log-repeat --socket "$SOCK_A" --count 300 ||
		check_fail bad-log-repeat "session with rejected SET_LOG_BASE"
	if rob_lm_alive; then
		after=$(settled_resources "$before")
		rob_check_leaks bad-log "$before" "$after" \
			"${ROB_BADLOG_SLACK_KB:-1024}"
	fi
	lm_done
	;;
switch-fail)
	VRELAY_FAULT_SWITCH=1 \
		rob_start_lm swfail --relay epoll --relay-policy auto
	rob_proto swfail switch-fail --socket "$SOCK_A" ||
		check_fail switch-fail "failed switch to relay not handled"
	lm_done
	;;
fuzz-auto | fuzz-on)
	rob_start_lm fuzz --relay epoll --relay-policy "${WHAT#fuzz-}"
	rob_hostile fuzz-warm churn --socket "$SOCK_A" --count 2 --log ||
		check_fail fuzz-warm "clean sessions before fuzzing"
	before=$(settled_resources "$(rob_resources "$LM_PID")")
	rob_proto fuzz fuzz --socket "$SOCK_A" --region-mb 8 \
		--seed "${ROB_FUZZ_SEED:-1}" \
		--messages "${ROB_FUZZ_MESSAGES:-30000}" ||
		check_fail fuzz "random protocol run"
	grep "fuzz seed" "$IT_TMP/fuzz.out" >&2 || true
	if rob_lm_alive; then
		after=$(settled_resources "$before")
		rob_check_leaks fuzz "$before" "$after" "$RSS_SLACK_KB"
		rob_hostile fuzz-migrate migrate --socket "$SOCK_A" \
			--dest-socket "$SOCK_B" --queues 2 \
			--replace-log-round 0 ||
			check_fail fuzz-migrate "migration after fuzzing"
	fi
	lm_done
	;;
*)
	it_die "unknown test $WHAT"
	;;
esac
check_finish
