#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vdpa-lm option parsing: every bad option must end the program with
# exit code 2, one error line naming the option and the usage text;
# --help exits 0; an uplink that does not exist fails cleanly.
#
# usage: test_args.sh VDPA_LM

set -euo pipefail

VDPA_LM=${1:?usage: test_args.sh VDPA_LM}
VU_GUEST=
# shellcheck source=tests/app/app_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/app_lib.sh"

SOCK="$IT_TMP/args.sock"

# run_lm NAME OPTIONS...: run vdpa-lm to completion; sets RC, OUT, ERR.
run_lm() {
	local name=$1

	shift
	OUT="$IT_TMP/$name.out"
	ERR="$IT_TMP/$name.err"
	it_file_prefix args
	RC=0
	lm_eal_args "$IT_FILE_PREFIX" --no-telemetry --log-level error
	timeout 30 "$VDPA_LM" "${LM_EAL[@]}" -- "$@" \
		</dev/null >"$OUT" 2>"$ERR" || RC=$?
}

# bad NAME REGEX OPTIONS...: must exit 2 with exactly one error line
# matching REGEX on stderr and the usage on stdout.
bad() {
	local name=$1 re=$2 lines

	shift 2
	run_lm "$name" "$@"
	lines=$(grep -c '^vdpa-lm: ' "$ERR" || true)
	[ "$RC" -eq 2 ] || fail "$name: exit code $RC, expected 2"
	[ "$lines" -eq 1 ] || { cat "$ERR" >&2; fail "$name: $lines error lines"; }
	grep -qE -- "^vdpa-lm: .*$re" "$ERR" ||
		{ cat "$ERR" >&2; fail "$name: error does not match '$re'"; }
	grep -q '^Usage: ' "$OUT" || fail "$name: no usage text"
	[ ! -e "$SOCK" ] || fail "$name: left $SOCK behind"
	pass "$name: $(grep '^vdpa-lm: ' "$ERR")"
}

bad no-socket '--socket' --stats-period 0
bad queues-0 "--queues .*'0'" --socket "$SOCK" --queues 0
bad queues-99 "--queues .*'99'" --socket "$SOCK" --queues 99
bad queues-text "--queues .*'two'" --socket "$SOCK" --queues two
bad queues-missing "'--queues'" --socket "$SOCK" --queues
bad relay-foo "--relay .*'foo'" --socket "$SOCK" --relay foo
bad policy-bar "--relay-policy .*'bar'" --socket "$SOCK" --relay-policy bar
bad stats-period "--stats-period .*'-1'" --socket "$SOCK" --stats-period -1
bad relay-cpu "CPU .*'x'" --socket "$SOCK" --relay-cpu x
bad hw-poll-us "--hw-poll-us .*'10001'" --socket "$SOCK" --hw-poll-us 10001
bad unknown "'--frobnicate'" --socket "$SOCK" --frobnicate
bad positional "'stray'" --socket "$SOCK" stray
bad device-first "--device ifcvf_sw5 must follow" --device ifcvf_sw5 \
	--socket "$SOCK"
bad device-name "--device .*'vf5'" --socket "$SOCK" --device vf5

# --device maps the preceding socket to a named device; SIGTERM after the
# first status line must exit 0.
it_file_prefix args
lm_eal_args "$IT_FILE_PREFIX" --no-telemetry --log-level error
timeout 30 "$VDPA_LM" "${LM_EAL[@]}" -- \
	--socket "$SOCK" --device ifcvf_sw7 --stats-period 1 \
	</dev/null >"$IT_TMP/map.out" 2>&1 &
MAP_PID=$!
IT_PIDS+=("$MAP_PID")
for ((i = 0; i < 100; i++)); do
	grep -q '^ifcvf_sw7: ' "$IT_TMP/map.out" && break
	sleep 0.1
done
grep -q '^ifcvf_sw7: ' "$IT_TMP/map.out" ||
	{ cat "$IT_TMP/map.out" >&2; fail "--device: no ifcvf_sw7 status line"; }
RC=0
it_stop_pid "$MAP_PID" || RC=$?
it_forget_pid "$MAP_PID"
[ "$RC" -eq 0 ] || fail "--device: exit code $RC after SIGTERM"
pass "--device maps a socket to ifcvf_sw7"

run_lm help --help
[ "$RC" -eq 0 ] || fail "--help: exit code $RC"
grep -q '^Usage: ' "$OUT" || fail "--help: no usage text"
grep -q -- '--relay-policy' "$OUT" || fail "--help: options not listed"
pass "--help"

# Not a usage error but a runtime one: non-zero, a line naming the port,
# and the socket it had already opened is gone again.
run_lm uplink --socket "$SOCK" --uplink missing-port --stats-period 0
[ "$RC" -ne 0 ] || fail "--uplink missing-port: exit code 0"
[ "$RC" -ne 124 ] || fail "--uplink missing-port: hung"
# 128+N: killed by signal N, e.g. a crash while cleaning up.
[ "$RC" -lt 128 ] || fail "--uplink missing-port: died with signal $((RC - 128))"
grep -q 'uplink port missing-port not found' "$OUT" "$ERR" ||
	{ cat "$OUT" "$ERR" >&2; fail "--uplink missing-port: no error line"; }
[ ! -e "$SOCK" ] || fail "--uplink missing-port: left $SOCK behind"
pass "--uplink missing-port (exit $RC)"

# A bad EAL argument is reported by EAL, also with the usage exit code.
RC=0
it_file_prefix args
lm_eal_args "$IT_FILE_PREFIX" --no-telemetry --bogus-eal-flag
timeout 30 "$VDPA_LM" "${LM_EAL[@]}" -- --socket "$SOCK" \
	</dev/null >"$IT_TMP/eal.out" 2>&1 || RC=$?
[ "$RC" -eq 2 ] || fail "bad EAL option: exit code $RC, expected 2"
pass "bad EAL option"
