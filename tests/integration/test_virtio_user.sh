#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Loopback traffic test with DPDK's unmodified virtio-user PMD as the guest
# (vu_guest) against a vhost-user server that loops every frame back on
# its queue pair with MACs swapped.
#
# Usage: test_virtio_user.sh --guest PATH/vu_guest [--server-cmd CMD]
#                            [--quick] [--no-negative] [--packed]
#
# --packed: the guest uses packed virtqueues (packed_vq=1) in every run,
# negative ones included (a server must offer VIRTIO_F_RING_PACKED, as
# net_vhost does).
#
# The server defaults to dpdk-testpmd with net_vhost in macswap mode. To
# test another server (e.g. the ifcvf_sw one) pass --server-cmd or set
# IT_SERVER_CMD: a bash snippet that is exec'ed with these variables set:
#   IT_SOCK     vhost-user socket path the server must listen on
#   IT_QUEUES   number of queue pairs
#   IT_PREFIX   a unique EAL --file-prefix for it
#   IT_LCORES   EAL lcore option for it (e.g. "--lcores 0@1,1@1")
# Example, vdpa-lm with the EAL arguments every test starts it with
# (tests/lib/lm.sh; run from the source tree):
#   IT_SERVER_CMD='. tests/lib/lm.sh; lm_eal_args "$IT_PREFIX" $IT_LCORES
#       exec vdpa-lm "${LM_EAL[@]}" -- --socket "$IT_SOCK" \
#       --queues "$IT_QUEUES" --stats-period 0'
# It must keep running until SIGTERM. Negative checks (frames dropped or
# not MAC-swapped must make vu_guest fail) always use testpmd, since they
# validate the checker, not the server.
#
# Guest constraints exercised here: 9000 B frames are sent as multi-segment
# chains; with mrg_rxbuf=1 they are received into chained 2 KB buffers,
# with mrg_rxbuf=0 vu_guest falls back to ~9 KB mbufs.

set -euo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$IT_DIR/lib.sh"

GUEST=${VU_GUEST:-}
SERVER_CMD=${IT_SERVER_CMD:-}
QUICK=0
NEGATIVE=1
TESTPMD=${TESTPMD:-dpdk-testpmd}
PACKETS=${IT_PACKETS:-20000}
PACKED=0

while [ $# -gt 0 ]; do
	case $1 in
	--guest) GUEST=$2; shift 2 ;;
	--server-cmd) SERVER_CMD=$2; shift 2 ;;
	--quick) QUICK=1; shift ;;
	--no-negative) NEGATIVE=0; shift ;;
	--packed) PACKED=1; shift ;;
	*) it_die "unknown argument: $1" ;;
	esac
done
# Ring options of every guest run.
VU_RING="in_order=0,packed_vq=$PACKED"
[ -x "$GUEST" ] || it_die "vu_guest not found: '$GUEST' (use --guest)"
command -v "$TESTPMD" >/dev/null || it_die "$TESTPMD not found"

# Baseline server: testpmd with one net_vhost port forwarding to itself.
# It needs a main lcore besides the forwarding one; both sit on CPU 1 so
# the guest keeps CPU 0 (the main lcore only wakes once a second).
# --stats-period keeps it from reading stdin; it exits on SIGTERM.
# The $IT_* references are expanded later, by the shell that execs it.
# shellcheck disable=SC2016
testpmd_server_cmd() {
	local fwd=$1

	printf '%s' "exec \"$TESTPMD\" "'$IT_LCORES --no-huge -m 512 --no-pci '
	printf '%s' '--no-shconf --no-telemetry --file-prefix "$IT_PREFIX" '
	printf '%s' '--vdev "net_vhost0,iface=$IT_SOCK,queues=$IT_QUEUES,client=0" '
	printf '%s' "-- --forward-mode=$fwd --auto-start --nb-cores=1 "
	printf '%s' '--rxq="$IT_QUEUES" --txq="$IT_QUEUES" --stats-period 3600 '
	printf '%s' '--max-pkt-len 9600 --total-num-mbufs 16384'
}

# start_server NAME QUEUES CMD: sets SRV_PID, SRV_SOCK, SRV_LOG.
start_server() {
	local name=$1 queues=$2 cmd=$3

	SRV_SOCK="$IT_TMP/$name.sock"
	SRV_LOG="$IT_TMP/$name.server.log"
	rm -f "$SRV_SOCK"
	it_file_prefix server
	it_spawn "$SRV_LOG" env IT_SOCK="$SRV_SOCK" IT_QUEUES="$queues" \
		IT_PREFIX="$IT_FILE_PREFIX" \
		IT_LCORES="${IT_SERVER_LCORES:---lcores 0@1,1@1}" \
		bash -c "$cmd"
	SRV_PID=$IT_LAST_PID
	if ! wait_for_socket "$SRV_SOCK" 20 "$SRV_PID"; then
		tail -n 30 "$SRV_LOG" >&2 || true
		stop_server
		return 1
	fi
}

stop_server() {
	[ -n "$SRV_PID" ] || return 0
	it_stop_pid "$SRV_PID" || true
	it_forget_pid "$SRV_PID"
	SRV_PID=
	SRV_KEY=
}

# ensure_server KEY QUEUES CMD: reuse the running server if it was started
# for KEY and is alive (a vhost-user server must accept a new guest after
# the previous one left), else start a fresh one. IT_FRESH_SERVER=1
# restarts it for every scenario.
SRV_PID=
SRV_KEY=
ensure_server() {
	if [ -z "${IT_FRESH_SERVER:-}" ] && [ -n "$SRV_PID" ] &&
	   [ "$SRV_KEY" = "$1" ] && kill -0 "$SRV_PID" 2>/dev/null; then
		return 0
	fi
	stop_server
	start_server "$@" && SRV_KEY=$1
}

# json_field LINE KEY: numeric value of top-level "KEY":N in vu_guest's
# summary (the per-queue list, which repeats keys, is cut off first).
json_field() {
	sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" <<<"${1%%,\"queues\"*}"
}

# guest_run NAME VU_ARGS APP_ARGS...: runs the guest against SRV_SOCK,
# sets GUEST_RC and GUEST_SUMMARY, keeps the full output in the tmp dir.
guest_run() {
	local name=$1 vu_args=$2 out="$IT_TMP/$1.guest.log"

	shift 2
	GUEST_RC=0
	run_guest "$GUEST" 0 "path=$SRV_SOCK,$vu_args" "$@" >"$out" 2>&1 ||
		GUEST_RC=$?
	GUEST_SUMMARY=$(grep '^{"result"' "$out" | tail -n 1 || true)
	it_log "$name: rc=$GUEST_RC ${GUEST_SUMMARY:-<no summary>}"
	if [ -z "$GUEST_SUMMARY" ]; then
		tail -n 20 "$out" >&2 || true
	fi
}

server_alive() {
	if ! kill -0 "$SRV_PID" 2>/dev/null; then
		it_log "server died; log tail:"
		tail -n 30 "$SRV_LOG" >&2 || true
		stop_server
		return 1
	fi
}

# positive QUEUES MRG SIZES: frames must all come back intact.
positive() {
	local q=$1 mrg=$2 sizes=$3 name ok=0
	local cmd=${SERVER_CMD:-$(testpmd_server_cmd macswap)}

	name="q${q}-mrg${mrg}-${sizes//,/_}"
	if ensure_server "loopback-q$q" "$q" "$cmd"; then
		guest_run "$name" \
			"queues=$q,mrg_rxbuf=$mrg,$VU_RING" \
			--packets "$PACKETS" --sizes "$sizes" --queues "$q" \
			--timeout 30
		[ "$GUEST_RC" -eq 0 ] && server_alive &&
			[ "$(json_field "$GUEST_SUMMARY" lost)" = 0 ] &&
			[ "$(json_field "$GUEST_SUMMARY" received)" = "$PACKETS" ] &&
			ok=1
	fi
	check_record "$name" "$ok"
}

# negative NAME FWD_MODE FIELD [APP_ARGS...]: with a server that does not
# loop frames back properly vu_guest must exit non-zero and blame FIELD.
negative() {
	local name=$1 fwd=$2 field=$3 ok=0 val

	shift 3
	stop_server
	if start_server "$name" 2 "$(testpmd_server_cmd "$fwd")"; then
		guest_run "$name" "queues=2,mrg_rxbuf=1,$VU_RING" \
			--packets 5000 --sizes 64,1500 --queues 2 --timeout 10 \
			--idle-timeout 1000 "$@"
		val=$(json_field "$GUEST_SUMMARY" "$field")
		[ "$GUEST_RC" -ne 0 ] && [ "${val:-0}" -gt 0 ] && ok=1
		stop_server
	fi
	check_record "$name" "$ok"
}

# --expect-loss must turn pure loss into success, but nothing else.
negative_expect_loss() {
	local name=neg-expect-loss ok=0

	stop_server
	if start_server "$name" 1 "$(testpmd_server_cmd rxonly)"; then
		guest_run "$name" "queues=1,mrg_rxbuf=1,$VU_RING" \
			--packets 2000 --queues 1 --timeout 10 \
			--idle-timeout 1000 --expect-loss
		[ "$GUEST_RC" -eq 0 ] &&
			[ "$(json_field "$GUEST_SUMMARY" lost)" -gt 0 ] && ok=1
		stop_server
	fi
	check_record "$name" "$ok"
}

if [ "$QUICK" = 1 ]; then
	positive 4 1 64,1500,9000
else
	for q in 1 4; do
		for mrg in 1 0; do
			positive "$q" "$mrg" 64
			positive "$q" "$mrg" 1500
		done
		positive "$q" 1 9000
		positive "$q" 1 64,1500,9000
	done
	# not required of a backend, but vu_guest handles it with big mbufs
	positive 4 0 64,1500,9000
fi
stop_server

if [ "$NEGATIVE" = 1 ]; then
	# rxonly: the server eats every frame -> loss
	negative neg-loss rxonly lost
	# io: frames come back untouched, MACs not swapped -> corrupt
	negative neg-noswap io corrupt
	negative_expect_loss
fi

check_finish
