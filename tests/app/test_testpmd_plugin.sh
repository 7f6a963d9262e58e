#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The ifcvf_sw driver as a plugin of the unmodified dpdk-testpmd: its wire
# side is testpmd's port 0, forwarded back with MACs swapped, so a 2-queue
# guest gets every frame back intact. Bad devargs must stop testpmd from
# starting, with an ifcvf_sw log line saying why.
#
# usage: test_testpmd_plugin.sh IFCVF_SW_SO VU_GUEST

set -euo pipefail

SO=${1:?usage: test_testpmd_plugin.sh IFCVF_SW_SO VU_GUEST}
VU_GUEST=${2:?usage: test_testpmd_plugin.sh IFCVF_SW_SO VU_GUEST}
# shellcheck source=tests/app/app_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/app_lib.sh"

TESTPMD=${TESTPMD:-dpdk-testpmd}
command -v "$TESTPMD" >/dev/null || { it_log "SKIP: no $TESTPMD"; exit 77; }
[ -f "$SO" ] || fail "no driver at $SO"

# dir_is_safe DIR: neither DIR nor a parent is world-writable.
dir_is_safe() {
	local d=$1

	while :; do
		[[ $(stat -c %A "$d") == ????????w? ]] && return 1
		[ "$d" = / ] && return 0
		d=$(dirname "$d")
	done
}

# EAL refuses to load a plugin from under a world-writable directory
# (e.g. a build dir in /tmp). Load a copy from a private dir under a safe
# place instead, with the project's libraries it links (the shared relay
# library, libvdpa_relay.so.N) copied beside it: the build-tree rpath does
# not reach them from there, so testpmd gets that dir in LD_LIBRARY_PATH.
PLUGIN_ENV=()
plugin_path() {
	local base dir lib

	if dir_is_safe "$(dirname "$(realpath "$SO")")"; then
		PLUGIN=$(realpath "$SO")
		return
	fi
	for base in "${APP_PLUGIN_DIR:-}" "${HOME:-}" "$APP_DIR"; do
		if [ -z "$base" ] || [ ! -d "$base" ] || [ ! -w "$base" ] ||
		   ! dir_is_safe "$base"; then
			continue
		fi
		dir=$(mktemp -d "$base/.ifcvf_sw-plugin.XXXXXX")
		it_on_cleanup "rm -rf '$dir'"
		cp "$SO" "$dir/"
		PLUGIN="$dir/$(basename "$SO")"
		# "libvdpa_relay.so.0 => /path/libvdpa_relay.so.0 (0x...)"
		while read -r lib; do
			[ -n "$lib" ] || continue
			[ -f "$lib" ] || fail "$SO: cannot resolve $lib"
			cp -L "$lib" "$dir/"
		done < <(ldd "$SO" | awk '$1 ~ /^libvdpa_/ { print $3 }')
		PLUGIN_ENV=(env "LD_LIBRARY_PATH=$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
		it_log "$SO is under a world-writable dir; loading a copy: $PLUGIN"
		return
	done
	it_log "SKIP: no directory without world-writable parents for the plugin"
	exit 77
}

# dpdk-testpmd is not instrumented: a plugin built with -Dsanitize=true
# needs the ASan runtime loaded first (DPDK's own exit-time allocations
# are not ours to report).
ASAN_ENV=()
if nm -D "$SO" 2>/dev/null | grep ' U __asan_init' >/dev/null; then
	ASAN_ENV=(env "LD_PRELOAD=$(gcc -print-file-name=libasan.so)"
		  ASAN_OPTIONS=detect_leaks=0)
fi

# tp_start NAME DEVARGS: testpmd on CPU 0 (main lcore plus one forwarding
# lcore, both on CPU 0). Its stdin is a FIFO we hold open: testpmd leaves
# on a newline or at end of input. Sets TP_PID, TP_LOG, TP_SOCK.
tp_start() {
	local name=$1 devargs=$2 fifo="$IT_TMP/$1.in"

	TP_LOG="$IT_TMP/$name.testpmd.log"
	mkfifo "$fifo"
	exec 3<>"$fifo"
	it_file_prefix testpmd
	# Line-buffered, so its progress can be waited for in the log.
	"${PLUGIN_ENV[@]}" "${ASAN_ENV[@]}" stdbuf -oL -eL "$TESTPMD" --lcores 0@0,1@0 --no-huge -m 512 --no-pci \
		--file-prefix "$IT_FILE_PREFIX" -d "$PLUGIN" \
		--vdev "ifcvf_sw0,$devargs" -- --forward-mode=macswap -a \
		--total-num-mbufs 8192 --rxq=2 --txq=2 \
		<"$fifo" >"$TP_LOG" 2>&1 &
	TP_PID=$!
	IT_PIDS+=("$TP_PID")
}

# tp_wait_exit TIMEOUT_S: sets TP_RC; fails if testpmd is still running.
tp_wait_exit() {
	local i

	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$TP_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$TP_PID" 2>/dev/null &&
		{ tail -n 20 "$TP_LOG" >&2; fail "testpmd still running"; }
	TP_RC=0
	wait "$TP_PID" || TP_RC=$?
	it_forget_pid "$TP_PID"
	exec 3>&-
}

plugin_path

# ---- positive: 2 queues, both directions, no loss, no corruption ------
SOCK="$IT_TMP/tp.sock"
tp_start ok "socket=$SOCK,queues=2"
wait_for_socket "$SOCK" 30 "$TP_PID" ||
	{ tail -n 30 "$TP_LOG" >&2; fail "testpmd did not serve $SOCK"; }
wait_for_log "$TP_LOG" 'Press enter to exit' 20 || fail "testpmd not forwarding"
grep -q 'macswap packet forwarding - ports=1 ' "$TP_LOG" ||
	fail "testpmd does not forward one port (the ifcvf_sw wire side)"
guest_traffic "$SOCK" 2 20000 64,512,1500
printf '\n' >&3
tp_wait_exit 20
[ "$TP_RC" -eq 0 ] || { tail -n 20 "$TP_LOG" >&2; fail "testpmd exit status $TP_RC"; }
# The frames really went through testpmd's port 0 (both guest queues).
grep -qE 'RX-packets: 20000 +RX-dropped: 0 +RX-total: 20000' "$TP_LOG" ||
	{ tail -n 30 "$TP_LOG" >&2; fail "testpmd did not forward 20000 frames"; }
grep -qE 'TX-packets: 20000 +TX-dropped: 0 +TX-total: 20000' "$TP_LOG" ||
	fail "testpmd did not send 20000 frames back"
[ ! -e "$SOCK" ] || fail "$SOCK left behind"
pass "testpmd macswap over ifcvf_sw0, 2 queues, 20000 frames"

# ---- negative: bad devargs -------------------------------------------
# bad NAME DEVARGS REGEX
bad() {
	local name=$1 sock="$IT_TMP/$1.sock"

	tp_start "$name" "socket=$sock,$2"
	tp_wait_exit 30
	[ "$TP_RC" -ne 0 ] || fail "$name: testpmd started with '$2'"
	[ "$TP_RC" -lt 128 ] || fail "$name: testpmd died of signal $((TP_RC - 128))"
	grep -qE -- "^ifcvf_sw: .*$3" "$TP_LOG" ||
		{ cat "$TP_LOG" >&2; fail "$name: no ifcvf_sw line matching '$3'"; }
	[ ! -e "$sock" ] || fail "$name: $sock left behind"
	pass "$name: $(grep -m 1 '^ifcvf_sw: ' "$TP_LOG")"
}

bad bogus "bogus=1" "invalid devargs 'socket=.*bogus=1'"
bad queues-99 "queues=99" "queues=99: expected"
bad poll-us "poll_us=10001" "poll_us=10001: expected 0..10000"
