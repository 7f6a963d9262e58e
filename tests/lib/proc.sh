# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Process helpers shared by the test scripts (sourced; no side effects).

# proc_stop PID [GRACE_S]: stop a child process: wake it if it was
# stopped, SIGTERM, wait up to GRACE_S seconds (default 5), then SIGKILL.
# Returns the child's exit status when it was ours to reap.
proc_stop() {
	local pid=$1 grace=${2:-5} i

	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return; }
	kill -CONT "$pid" 2>/dev/null || true
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "proc_stop: pid $pid ignored SIGTERM, sending SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null
}

# proc_spawn PIDS LOG CMD...: start CMD in the background, stdin from
# PROC_STDIN (default /dev/null) and output to LOG; append its pid to the
# array named PIDS (the caller's list of processes to stop) and set
# PROC_LAST_PID.
proc_spawn() {
	local -n proc_pids=$1
	local log=$2

	shift 2
	"$@" <"${PROC_STDIN:-/dev/null}" >"$log" 2>&1 &
	PROC_LAST_PID=$!
	proc_pids+=("$PROC_LAST_PID")
}

# proc_wait_for SECS CMD...: poll CMD every 0.1 s until it succeeds;
# fail after SECS seconds.
proc_wait_for() {
	local secs=$1 i

	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
