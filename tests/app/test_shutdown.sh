#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vdpa-lm must end promptly and cleanly on SIGTERM and SIGINT while a
# guest is connected and sending: status 0 within a few seconds, its
# socket removed, no process left. Also in interactive mode (the CLI must
# not sit in a blocking read) and with the relay active.
#
# usage: test_shutdown.sh VDPA_LM VU_GUEST

set -euo pipefail

VDPA_LM=${1:?usage: test_shutdown.sh VDPA_LM VU_GUEST}
VU_GUEST=${2:?usage: test_shutdown.sh VDPA_LM VU_GUEST}
# shellcheck source=tests/app/app_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/app_lib.sh"

LIMIT_S=${SHUTDOWN_LIMIT_S:-5}

# shutdown_case NAME SIGNAL [vdpa-lm options...]
shutdown_case() {
	local name=$1 sig=$2 sock="$IT_TMP/$1.sock" t0 ms

	shift 2
	LM_STDIN=/dev/null
	if [[ " $* " == *" -i "* ]]; then
		# An open, silent stdin: the CLI waits for input forever.
		LM_STDIN="$IT_TMP/$name.in"
		mkfifo "$LM_STDIN"
		exec 4<>"$LM_STDIN"
	fi
	lm_start "$IT_TMP/$name.lm.log" --socket "$sock" --queues 2 \
		--stats-period 0 "$@"
	wait_for_socket "$sock" 20 "$LM_PID" || fail "$name: no socket"
	guest_start "$IT_TMP/$name.guest.log" "$sock" 2 \
		--packets 1000000000 --sizes 64,1500 --timeout 60
	wait_for_log "$LM_LOG" 'frontend connected' 20 ||
		fail "$name: guest did not connect"
	sleep 1
	kill -0 "$GUEST_PID" 2>/dev/null || fail "$name: guest not running"

	t0=$(date +%s%N)
	kill "-$sig" "$LM_PID"
	lm_wait_exit "$LIMIT_S"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$LM_RC" -eq 0 ] || { tail -n 20 "$LM_LOG" >&2;
		fail "$name: exit status $LM_RC after SIG$sig"; }
	[ ! -e "$sock" ] || fail "$name: $sock left behind"
	no_process_with "$LM_PREFIX" || fail "$name: a vdpa-lm process is left"
	guest_stop
	[[ $LM_STDIN == /dev/null ]] || exec 4>&-
	pass "$name: SIG$sig -> exit 0 in $ms ms"
}

shutdown_case term TERM
shutdown_case int INT
shutdown_case term-interactive TERM -i
shutdown_case term-relay TERM --relay-policy on
