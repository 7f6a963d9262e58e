#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Pre-copy migration through ifcvf_sw, proven by memory contents.
#
# vdpa-lm serves two ifcvf_sw devices (source and destination) in
# loopback. vu-migrate plays the hypervisor: it runs traffic, turns dirty
# logging on (the device switches to the relay), copies guest memory in
# rounds by the dirty log, stops the device (GET_VRING_BASE), compares the
# destination image with the source byte for byte, then resumes traffic
# on the destination device at the migrated indices.
#
#   relay  <engine>: the positive matrix for one relay engine;
#   packed <engine>: the same on packed rings (ifcvf_sw packed=1):
#                    1 and 4 queue pairs, mergeable on and off, indirect
#                    small buffers, 3-descriptor chains, no EVENT_IDX,
#                    cancelled then retried; and on devices that
#                    complete out of order (completion=ooo), which must
#                    say they reordered;
#   negative, negative-packed:
#                    the same with the relay forced off: vu-migrate must
#                    find mismatching pages (a test that cannot fail
#                    proves nothing).
#
# Every migration must report 0 mismatching pages and its log precision
# (pages logged / pages the device wrote). At the end the source device's
# relay counters (vdpa-lm's last status line) must have moved: avail and
# used entries relayed and pages logged; with the relay off, none.
#
# Usage: test_ifcvf_sw_migration.sh VDPA_LM VU_MIGRATE relay|packed ENGINE
#        test_ifcvf_sw_migration.sh VDPA_LM VU_MIGRATE negative[-packed]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$HERE/../integration/lib.sh"

LM=$1
MIGRATE=$2
WHAT=$3
ENGINE=${4:-epoll}
WRITES=0

# start_lm [EAL-OPTION...] -- VDPA-LM-OPTION...: the sockets are served
# by SRC_DEV and DST_DEV if set (vdevs given with the EAL), else by
# devices vdpa-lm makes.
SRC_DEV=()
DST_DEV=()
start_lm() {
	local eal=()

	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		eal+=("$1")
		shift
	done
	[ $# -eq 0 ] || shift
	it_file_prefix mig
	lm_spawn IT_PIDS "$IT_TMP/lm.log" "$LM" "$IT_FILE_PREFIX" \
		"${eal[@]}" -- --socket "$IT_TMP/src.sock" "${SRC_DEV[@]}" \
		--socket "$IT_TMP/dst.sock" "${DST_DEV[@]}" --queues 4 \
		--stats-period 0 "$@"
	wait_for_socket "$IT_TMP/src.sock" 20 "$LM_PID"
	wait_for_socket "$IT_TMP/dst.sock" 20 "$LM_PID"
}

# start_lm_packed RELAY MODE [DEVARGS [EAL-OPTION...]]: two packed
# ifcvf_sw devices (vdpa-lm takes a vdev given with the EAL as it is: its
# relay= and relay_mode=), with more devargs if given.
start_lm_packed() {
	local dev=queues=4,loopback=1,packed=1,relay=$1,relay_mode=$2${3:+,$3}

	shift 2
	[ $# -eq 0 ] || shift
	SRC_DEV=(--device ifcvf_sw0)
	DST_DEV=(--device ifcvf_sw1)
	start_lm --vdev "ifcvf_sw0,$dev" --vdev "ifcvf_sw1,$dev" "$@" --
}

# check_reordered: the source VF's close line (INFO) says it completed
# out of order, else the out-of-order row proves nothing.
check_reordered() {
	local n

	n=$(sed -n 's/.*ifcvf_sw0: completion=ooo: \([0-9]*\) used.*/\1/p' \
		"$IT_TMP/lm.log" | tail -1)
	if [ "${n:-0}" -gt 0 ]; then
		check_pass reordered "ifcvf_sw0: $n used descriptors out of order"
	else
		check_fail reordered "ifcvf_sw0 reports ${n:-no} reordered"
	fi
}

# stop_lm: SIGTERM, a clean exit, and the source device's last status.
stop_lm() {
	local rc=0

	kill -TERM "$LM_PID"
	wait "$LM_PID" || rc=$?
	it_forget_pid "$LM_PID"
	[ "$rc" = 0 ] || check_fail lm-exit "vdpa-lm exited with $rc"
	SRC_STATUS=$(grep '^ifcvf_sw0:' "$IT_TMP/lm.log" | tail -1)
}

# check_relay_counters WANT: the source device relayed and logged
# (WANT=moved), or did nothing of the kind (WANT=none).
check_relay_counters() {
	local want=$1 f v ok=1 line=""

	for f in relay_avail relay_used pages_logged; do
		v=$(sed -n "s/.* $f=\([0-9]*\).*/\1/p" <<<"$SRC_STATUS")
		line+=" $f=${v:-?}"
		if [ "$want" = moved ]; then
			[ "${v:-0}" -gt 0 ] || ok=0
		else
			[ "${v:-x}" = 0 ] || ok=0
		fi
	done
	if [ "$ok" = 1 ]; then
		check_pass "relay-counters-$want" "$line"
	else
		check_fail "relay-counters-$want" "$line"
	fi
}

# run NAME VU-MIGRATE-ARGS...: one migration; its output is kept.
run() {
	local name=$1 out=$IT_TMP/$1.out rc=0 sent mism prec

	shift
	"$MIGRATE" --socket "$IT_TMP/src.sock" --dest-socket \
		"$IT_TMP/dst.sock" "$@" >"$out" 2>&1 || rc=$?
	grep -E "round|final|migration:" "$out" | sed "s/^/[$name] /"
	tail -1 "$out"
	if [ $rc -ne 0 ]; then
		check_fail "$name" "vu-migrate exit status $rc"
		return
	fi
	# vu-migrate's verdict, double-checked: the page comparison ran.
	mism=$(tail -1 "$out" | sed -n 's/.* mismatches=\([0-9]*\).*/\1/p')
	prec=$(tail -1 "$out" | sed -n 's/.* precision=\([0-9.]*\).*/\1/p')
	case "$*" in
	*--expect-mismatch*) [ "${mism:-0}" -gt 0 ] ;;
	*) [ "${mism:-x}" = 0 ] && [ -n "$prec" ] ;;
	esac || {
		check_fail "$name" "mismatches=${mism:-?} precision=${prec:-?}"
		return
	}
	# Each frame is one TX completion and one RX buffer write.
	sent=$(tail -1 "$out" | sed -n 's/.* sent=\([0-9]*\).*/\1/p')
	WRITES=$((WRITES + 2 * ${sent:-0}))
	check_pass "$name" "mismatches=$mism precision=$prec"
}

# lm_log_clean: no queue broke, no DMA fault, no malformed ring.
lm_log_clean() {
	if grep -q "broken\|DMA fault\|malformed" "$IT_TMP/lm.log"; then
		check_fail lm-log "device or relay reported an error:"
		grep "broken\|DMA fault\|malformed" "$IT_TMP/lm.log" | head -3
	fi
}

case $WHAT in
relay)
	start_lm -- --relay "$ENGINE"
	run q4-mrg --queues 4 --mrg on
	run q4-nomrg --queues 4 --mrg off
	run q1-indirect --queues 1 --mrg on --indirect --pkt-size 1500 \
		--buf-size 512
	run q1-jumbo --queues 1 --mrg on --pkt-size 9000 --buf-size 4096
	run q2-small --queues 2 --mrg off --pkt-size 64 --packets 150000
	# direct -> relay -> direct -> relay -> stop, with traffic throughout
	run q4-mrg-cancel-then-migrate --queues 4 --mrg on --cancel-first
	run q4-nomrg-cancel-then-migrate --queues 4 --mrg off --cancel-first
	run q1-mrg-cancel-then-migrate --queues 1 --mrg on --cancel-first
	run q1-nomrg-cancel-then-migrate --queues 1 --mrg off --cancel-first
	run q1-reconnect --queues 1 --mrg on --reconnect
	stop_lm
	lm_log_clean
	check_relay_counters moved
	it_log "engine $ENGINE: $WRITES device writes checked"
	;;
packed)
	# The testpmd packed matrix (meson.build), through the relay.
	start_lm_packed auto "$ENGINE"
	run p1q-mrg --packed --queues 1 --mrg on
	run p1q-nomrg --packed --queues 1 --mrg off
	run p4q-mrg --packed --queues 4 --mrg on
	run p4q-nomrg-cancel-then-migrate --packed --queues 4 --mrg off \
		--cancel-first
	run p2q-indirect-smallbuf --packed --queues 2 --indirect \
		--pkt-size 1500 --buf-size 512
	# 3-descriptor RX chains: used descriptors skip slots, and chains
	# straddle the end of the ring.
	run p2q-nomrg-chain --packed --queues 2 --mrg off --pkt-size 1500 \
		--buf-size 512
	run p1q-noeventidx --packed --queues 1 --no-event-idx
	stop_lm
	lm_log_clean
	check_relay_counters moved
	# Devices that complete out of order: the relay maps their buffer
	# ids to the guest's (a cancel, then the migration), merged RX
	# packets (1500 B over 512 B buffers) reordered whole.
	start_lm_packed auto "$ENGINE" completion=ooo \
		--log-level=pmd.vdpa.ifcvf_sw:info
	run p2q-ooo-mrg-smallbuf-cancel-then-migrate --packed --queues 2 \
		--mrg on --pkt-size 1500 --buf-size 512 --cancel-first
	stop_lm
	lm_log_clean
	check_relay_counters moved
	check_reordered
	it_log "packed, engine $ENGINE: $WRITES device writes checked"
	;;
negative)
	start_lm -- --relay-policy off
	run relay-off --queues 4 --mrg on --expect-mismatch
	stop_lm
	check_relay_counters none
	;;
negative-packed)
	start_lm_packed off epoll
	run packed-relay-off --packed --queues 2 --mrg on --expect-mismatch
	stop_lm
	check_relay_counters none
	;;
*)
	it_die "unknown set $WHAT"
	;;
esac

check_finish
