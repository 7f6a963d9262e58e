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
#   negative:        the same with the relay forced off: vu-migrate must
#                    find mismatching pages (a test that cannot fail
#                    proves nothing).
#
# Usage: test_ifcvf_sw_migration.sh VDPA_LM VU_MIGRATE relay epoll|poll|auto
#        test_ifcvf_sw_migration.sh VDPA_LM VU_MIGRATE negative
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$HERE/../integration/lib.sh"

LM=$1
MIGRATE=$2
WHAT=$3
ENGINE=${4:-epoll}
WRITES=0

start_lm() {
	it_file_prefix mig
	lm_spawn IT_PIDS "$IT_TMP/lm.log" "$LM" "$IT_FILE_PREFIX" -- \
		--socket "$IT_TMP/src.sock" --socket "$IT_TMP/dst.sock" \
		--queues 4 --stats-period 0 "$@"
	wait_for_socket "$IT_TMP/src.sock" 20 "$LM_PID"
	wait_for_socket "$IT_TMP/dst.sock" 20 "$LM_PID"
}

# run NAME VU-MIGRATE-ARGS...: one migration; its output is kept.
run() {
	local name=$1 out=$IT_TMP/$1.out rc=0 sent

	shift
	"$MIGRATE" --socket "$IT_TMP/src.sock" --dest-socket \
		"$IT_TMP/dst.sock" "$@" >"$out" 2>&1 || rc=$?
	grep -E "round|final|migration:" "$out" | sed "s/^/[$name] /"
	tail -1 "$out"
	if [ $rc -ne 0 ]; then
		check_fail "$name" "vu-migrate exit status $rc"
		return
	fi
	# Each frame is one TX completion and one RX buffer write.
	sent=$(tail -1 "$out" | sed -n 's/.* sent=\([0-9]*\).*/\1/p')
	WRITES=$((WRITES + 2 * ${sent:-0}))
	check_pass "$name"
}

case $WHAT in
relay)
	start_lm --relay "$ENGINE"
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
	if grep -q "broken\|DMA fault\|malformed" "$IT_TMP/lm.log"; then
		check_fail lm-log "device or relay reported an error:"
		grep "broken\|DMA fault\|malformed" "$IT_TMP/lm.log" | head -3
	fi
	it_log "engine $ENGINE: $WRITES device writes checked"
	;;
negative)
	start_lm --relay-policy off
	run relay-off --queues 4 --mrg on --expect-mismatch
	;;
*)
	it_die "unknown set $WHAT"
	;;
esac

check_finish
