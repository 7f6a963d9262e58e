# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Helpers for the robustness suite, on top of tests/integration/lib.sh
# (which owns the EXIT/INT/TERM trap: processes we spawn and their EAL
# runtime dirs are removed even when a test fails or is interrupted).
# Expects LM (vdpa-lm) and HOSTILE (vu-hostile) to be set, and PROTO
# (vu-proto) for rob_proto. Failures are recorded with check_fail and
# reported by check_finish (tests/lib/check.sh), so a test runs all its
# checks before it fails.

ROB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$ROB_HERE/../integration/lib.sh"

# rob_start_lm NAME ARGS...: vdpa-lm serving $IT_TMP/NAME-a.sock and
# NAME-b.sock with 2 queue pairs each; sets LM_PID, LM_LOG, LM_TEL.
rob_start_lm() {
	local name=$1

	shift
	it_file_prefix "$name"
	LM_LOG=$IT_TMP/$name-lm.log
	SOCK_A=$IT_TMP/$name-a.sock
	SOCK_B=$IT_TMP/$name-b.sock
	lm_spawn IT_PIDS "$LM_LOG" "$LM" "$IT_FILE_PREFIX" -- \
		--socket "$SOCK_A" --socket "$SOCK_B" --queues 2 \
		--stats-period 0 "$@"
	LM_TEL=$(it_runtime_dir)/$IT_FILE_PREFIX/dpdk_telemetry.v2
	wait_for_socket "$SOCK_A" 20 "$LM_PID"
	wait_for_socket "$SOCK_B" 20 "$LM_PID"
	for ((i = 0; i < 50; i++)); do
		[ -S "$LM_TEL" ] && break
		sleep 0.1
	done
}

rob_stop_lm() {
	it_stop_pid "$LM_PID" || check_fail lm-exit "vdpa-lm exit status $?"
	it_forget_pid "$LM_PID"
}

rob_lm_alive() {
	if ! kill -0 "$LM_PID" 2>/dev/null; then
		check_fail lm-died "vdpa-lm (pid $LM_PID) is gone"
		tail -n 20 "$LM_LOG" >&2
		return 1
	fi
}

# rob_tel_q DEVICE QUEUE FIELD: one per-queue telemetry counter.
rob_tel_q() {
	python3 "$ROB_HERE/telemetry.py" "$LM_TEL" "/vdpa_relay/stats,$1" |
		python3 -c 'import json, sys
d = json.load(sys.stdin)["/vdpa_relay/stats"]
# A queue no session has used yet has no entry: nothing counted.
print(d.get(sys.argv[1], {}).get(sys.argv[2], 0))' "q$2" "$3"
}

# rob_tel_q_opt DEVICE QUEUE FIELD: like rob_tel_q, but prints nothing
# when the counter does not exist (not in this build's telemetry).
rob_tel_q_opt() {
	python3 "$ROB_HERE/telemetry.py" "$LM_TEL" "/vdpa_relay/stats,$1" |
		python3 -c 'import json, sys
q = json.load(sys.stdin)["/vdpa_relay/stats"].get(sys.argv[1], {})
if sys.argv[2] in q:
    print(q[sys.argv[2]])' "q$2" "$3"
}

# rob_run BIN LOGNAME ARGS...: run a front-end in the foreground (tracked
# by the trap); its output goes to $IT_TMP/LOGNAME.out.
rob_run() {
	local bin=$1 out=$IT_TMP/$2.out rc=0

	shift 2
	"$bin" "$@" </dev/null >"$out" 2>&1 &
	IT_PIDS+=("$!")
	wait "$!" || rc=$?
	it_forget_pid "$!"
	tail -n 1 "$out" >&2
	return "$rc"
}

# rob_hostile LOGNAME ARGS...: rob_run for vu-hostile.
rob_hostile() {
	rob_run "$HOSTILE" "$@"
}

# rob_proto LOGNAME ARGS...: rob_run for vu-proto.
rob_proto() {
	rob_run "$PROTO" "$@"
}

# rob_resources PID: "threads fds rss_kb" of a live process.
rob_resources() {
	local pid=$1 t f r

	t=$(find "/proc/$pid/task" -mindepth 1 -maxdepth 1 | wc -l)
	f=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
	r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
	echo "$t $f $r"
}

# rob_check_leaks TAG BEFORE AFTER RSS_SLACK_KB: same threads and fds,
# RSS grown by at most the slack.
rob_check_leaks() {
	local tag=$1 slack=$4 t0 f0 r0 t1 f1 r1

	read -r t0 f0 r0 <<<"$2"
	read -r t1 f1 r1 <<<"$3"
	it_log "$tag: threads $t0 -> $t1, fds $f0 -> $f1, rss ${r0}k -> ${r1}k"
	[ "$t1" -le "$t0" ] || check_fail "$tag-threads" "threads $t0 -> $t1"
	[ "$f1" -le "$f0" ] || check_fail "$tag-fds" "fds $f0 -> $f1"
	[ "$r1" -le $((r0 + slack)) ] || check_fail "$tag-rss" "rss ${r0}k -> ${r1}k"
}

# The sanitizer runtime reports to stderr, which is the lm log.
rob_check_sanitizer() {
	if grep -q "Sanitizer\|runtime error:" "$LM_LOG"; then
		check_fail sanitizer "sanitizer report in $LM_LOG"
		grep -m 5 -A 10 "Sanitizer\|runtime error:" "$LM_LOG" >&2
	fi
}
