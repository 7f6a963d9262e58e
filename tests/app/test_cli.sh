#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vdpa-lm -i driven through a FIFO (stdin is not a tty), with a real
# virtio-user guest: list, stats after traffic, relay policy and engine
# mode changes seen by `migration`, a clear error for an unknown device,
# and `quit` ending the program with status 0 and its socket removed.
#
# usage: test_cli.sh VDPA_LM VU_GUEST

set -euo pipefail

VDPA_LM=${1:?usage: test_cli.sh VDPA_LM VU_GUEST}
VU_GUEST=${2:?usage: test_cli.sh VDPA_LM VU_GUEST}
# shellcheck source=tests/app/app_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/app_lib.sh"

SOCK="$IT_TMP/cli.sock"
FIFO="$IT_TMP/cli.in"

# cli CMD REGEX [TIMEOUT_S]: type CMD, wait for an output line matching
# REGEX after it; the line is left in CLI_LINE.
cli() {
	local cmd=$1 re=$2 timeout=${3:-10} off i

	off=$(stat -c %s "$LM_LOG")
	printf '%s\n' "$cmd" >&3
	for ((i = 0; i < timeout * 10; i++)); do
		CLI_LINE=$(tail -c +"$((off + 1))" "$LM_LOG" |
			grep -E -m 1 -- "$re" || true)
		[ -n "$CLI_LINE" ] && return 0
		kill -0 "$LM_PID" 2>/dev/null || break
		sleep 0.1
	done
	it_log "'$cmd': no line matching '$re'; output was:"
	tail -c +"$((off + 1))" "$LM_LOG" >&2
	return 1
}

# cli_until CMD REGEX TIMEOUT_S: repeat CMD until its output matches.
cli_until() {
	local i

	for ((i = 0; i < $3; i++)); do
		cli "$1" "$2" 1 2>/dev/null && return 0
	done
	fail "'$1' never printed '$2'"
}

mkfifo "$FIFO"
# Read-write open: never blocks, and vdpa-lm sees no end of input until
# we close fd 3 (the cleanup hook does, so it can never hang on us).
exec 3<>"$FIFO"
it_on_cleanup 'exec 3>&-'
LM_STDIN=$FIFO lm_start "$IT_TMP/lm.log" -i --socket "$SOCK" --queues 1
wait_for_socket "$SOCK" 20 "$LM_PID" || fail "vdpa-lm did not start"

cli help 'migration <device>' || fail "help"
pass "help"
cli list "socket=$SOCK device=ifcvf_sw0 state=idle" || fail "list"
pass "list: $CLI_LINE"
cli "migration-info $SOCK" "^socket=$SOCK device=ifcvf_sw0 model=virtio-net migration_version=1 features=0x[0-9a-f]+ ring_formats=split queue_pairs=1 max_mtu=0 can_log=1\$" ||
	fail "migration-info without a guest"
pass "migration-info: $CLI_LINE"

guest_traffic "$SOCK" 1 20000 64
cli "stats ifcvf_sw0" 'device=ifcvf_sw0 queue=0 .*packets=[1-9][0-9]*' ||
	fail "stats after traffic"
pass "stats: $CLI_LINE"
cli "stats ifcvf_sw0 1" 'device=ifcvf_sw0 queue=1 .*packets=[1-9]' ||
	fail "stats of queue 1"
cli "stats ifcvf_sw0 1" 'rte_vdpa_get_stats: device=ifcvf_sw0 queue=1 packets=[1-9]' ||
	fail "rte_vdpa_get_stats of queue 1"
cli "stats ifcvf_sw0 5" 'error: ifcvf_sw0 has no queue 5' ||
	fail "stats of a missing queue"
pass "stats per queue"

# Relay changes need a running frontend: keep a guest sending.
guest_start "$IT_TMP/guest-long.log" "$SOCK" 1 --packets 1000000000 \
	--sizes 64,1500 --timeout 60
cli_until "migration ifcvf_sw0" 'device=ifcvf_sw0 state=direct' 20
pass "guest connected: $CLI_LINE"
cli "migration-info ifcvf_sw0" ' can_log=1 guest_features=0x[0-9a-f]+ guest_queue_pairs=1 guest_mtu=0$' ||
	fail "migration-info with a guest"
pass "migration-info with a guest: $CLI_LINE"

cli "relay ifcvf_sw0 on" 'device=ifcvf_sw0 policy=on' || fail "relay on"
cli "migration ifcvf_sw0" 'device=ifcvf_sw0 state=relay .*policy=on' ||
	fail "relay on: state is not relay"
pass "relay on: $CLI_LINE"
cli "mode ifcvf_sw0 poll" 'device=ifcvf_sw0 mode=poll' || fail "mode poll"
cli "migration ifcvf_sw0" 'state=relay .*mode=poll' ||
	fail "mode poll: not in effect"
pass "mode poll: $CLI_LINE"
cli "relay ifcvf_sw0 auto" 'device=ifcvf_sw0 policy=auto' || fail "relay auto"
cli "migration ifcvf_sw0" 'device=ifcvf_sw0 state=direct .*policy=auto' ||
	fail "relay auto: state is not direct"
pass "relay auto: $CLI_LINE"
cli "stats ifcvf_sw0 0" 'queue=0 .*switch_to_relay=[1-9].*switch_to_direct=[1-9]' ||
	fail "switch counters"
pass "switch counters: $CLI_LINE"
kill -0 "$GUEST_PID" 2>/dev/null || fail "guest died during the switches"

cli "migration ifcvf_sw9" '^error: no device ifcvf_sw9$' ||
	fail "unknown device"
cli "migration-info ifcvf_sw9" '^error: no socket or device ifcvf_sw9$' ||
	fail "migration-info of an unknown device"
cli "relay ifcvf_sw0 sideways" "^error: relay expects on, off or auto" ||
	fail "bad relay value"
cli "mode ifcvf_sw0 turbo" "^error: mode expects epoll, poll or auto" ||
	fail "bad mode value"
cli "frobnicate" 'Command not found' || fail "unknown command"
pass "errors"

# Quit with the guest still connected.
printf 'quit\n' >&3
lm_wait_exit 10
[ "$LM_RC" -eq 0 ] || fail "quit: exit status $LM_RC"
[ ! -e "$SOCK" ] || fail "quit: $SOCK left behind"
no_process_with "$LM_PREFIX" || fail "quit: vdpa-lm still running"
pass "quit"
guest_stop
