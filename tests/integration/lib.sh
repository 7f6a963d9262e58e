# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Helpers for integration tests. Source it from a bash script that runs
# with `set -euo pipefail`; it installs an EXIT/INT/TERM trap, so do not
# install another one (use it_on_cleanup to add steps instead).

# shellcheck source=tests/lib/proc.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/proc.sh"
# shellcheck source=tests/lib/lm.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lm.sh"
# shellcheck source=tests/lib/check.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"

IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vdpa-it.XXXXXX")
IT_PIDS=()		# background processes we started
IT_PREFIXES=()		# EAL --file-prefix values we handed out
IT_CLEANUP_HOOKS=()
IT_KILL_GRACE=${IT_KILL_GRACE:-5}	# seconds between TERM and KILL
IT_PREFIX_SEQ=0

it_log() {
	check_log "$@"
}

it_die() {
	it_log "FATAL: $*"
	exit 1
}

it_on_cleanup() {
	IT_CLEANUP_HOOKS+=("$1")
}

# EAL keeps a runtime dir per file prefix even with --no-shconf.
it_runtime_dir() {
	if [ "$(id -u)" -eq 0 ]; then
		echo /var/run/dpdk
	else
		echo "${XDG_RUNTIME_DIR:-/tmp}/dpdk"
	fi
}

# A file prefix unique to this test run and this process, so parallel
# runs and leftovers of crashed ones never share EAL state. Sets
# IT_FILE_PREFIX (no subshell, so the prefix is remembered for cleanup).
it_file_prefix() {
	IT_FILE_PREFIX="vdpa-it-$$-${1:-p}-$IT_PREFIX_SEQ"
	IT_PREFIX_SEQ=$((IT_PREFIX_SEQ + 1))
	IT_PREFIXES+=("$IT_FILE_PREFIX")
}

# Stop one process: TERM, wait up to IT_KILL_GRACE seconds, then KILL.
# Returns the process's exit status if it was ours to reap.
it_stop_pid() {
	proc_stop "$1" "$IT_KILL_GRACE"
}

it_forget_pid() {
	local pid=$1 i

	for i in "${!IT_PIDS[@]}"; do
		[ "${IT_PIDS[$i]}" = "$pid" ] && unset 'IT_PIDS[i]'
	done
	IT_PIDS=("${IT_PIDS[@]}")
}

# it_spawn LOGFILE CMD...: start CMD in the background with stdin from
# /dev/null, remember its pid in IT_LAST_PID.
it_spawn() {
	proc_spawn IT_PIDS "$@"
	IT_LAST_PID=$PROC_LAST_PID
}

it_kill_all() {
	local pid

	for pid in "${IT_PIDS[@]}"; do
		it_stop_pid "$pid" || true
	done
	IT_PIDS=()
}

it_cleanup() {
	local rc=$? hook p rundir

	trap - EXIT INT TERM
	set +e
	for hook in "${IT_CLEANUP_HOOKS[@]}"; do
		eval "$hook"
	done
	it_kill_all
	rundir=$(it_runtime_dir)
	# the glob also catches prefixes handed out in subshells
	for p in "${IT_PREFIXES[@]}"; do
		rm -rf "${rundir:?}/$p"
	done
	rm -rf "${rundir:?}"/vdpa-it-"$$"-*
	if [ -n "${IT_KEEP_TMP:-}" ]; then
		it_log "keeping $IT_TMP"
	else
		rm -rf "$IT_TMP"
	fi
	exit "$rc"
}

it_on_signal() {
	it_log "interrupted"
	exit 130
}

trap it_cleanup EXIT
trap it_on_signal INT TERM

# wait_for_socket PATH TIMEOUT [PID]: wait until PATH is a unix socket;
# fail early if PID (the process meant to create it) has died.
wait_for_socket() {
	local path=$1 timeout=$2 pid=${3:-} i

	for ((i = 0; i < timeout * 10; i++)); do
		[ -S "$path" ] && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			it_log "pid $pid exited before creating $path"
			return 1
		fi
		sleep 0.1
	done
	it_log "timeout waiting for socket $path"
	return 1
}

# run_guest VU_GUEST LCORE VIRTIO_USER_ARGS [APP ARGS...]
# Runs vu_guest in the foreground against the virtio-user port described
# by VIRTIO_USER_ARGS (e.g. "path=/x.sock,queues=4,mrg_rxbuf=1") and
# returns its exit status. Output goes to stdout/stderr; the guest's
# summary is its last stdout line. Redirect it to a file rather than
# calling it inside $(...): in a subshell the guest's pid is not tracked
# by the parent's trap (the runtime dir is still removed by the glob).
run_guest() {
	local bin=$1 lcore=$2 vu_args=$3 prefix pid rc=0

	shift 3
	it_file_prefix guest
	prefix=$IT_FILE_PREFIX
	# --no-huge implies legacy memory, which rules out --in-memory; a
	# private prefix plus --no-shconf keeps processes apart instead.
	# virtio-user shares the no-huge memfd with the backend.
	# Run in the background and wait so INT/TERM reach our trap at once.
	"$bin" -l "$lcore" --no-huge -m "${IT_GUEST_MEM:-512}" --no-pci \
		--no-shconf --no-telemetry --file-prefix "$prefix" \
		--log-level "${IT_GUEST_LOG:-error}" \
		--vdev "net_virtio_user0,$vu_args" -- "$@" </dev/null &
	pid=$!
	IT_PIDS+=("$pid")
	wait "$pid" || rc=$?
	it_forget_pid "$pid"
	return "$rc"
}
