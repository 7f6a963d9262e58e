# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Helpers for the vdpa-lm tests, on top of the integration helpers (which
# own the EXIT trap: every process started here is stopped, every EAL
# runtime dir and the private tmp dir removed, whatever happens).
# Lcores: vdpa-lm and testpmd on CPU 0, the guest on CPU 1.

APP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$APP_DIR/../integration/lib.sh"

fail() {
	it_die "$*"
}

pass() {
	check_pass "$*"
}

# lm_start LOG [vdpa-lm options...]: start vdpa-lm in the background
# (stdin from LM_STDIN, default /dev/null). Sets LM_PID, LM_PREFIX, LM_LOG.
lm_start() {
	LM_LOG=$1
	shift
	it_file_prefix lm
	lm_spawn IT_PIDS "$LM_LOG" "$VDPA_LM" "$IT_FILE_PREFIX" -- "$@"
}

# lm_wait_exit TIMEOUT_S: wait for vdpa-lm to exit; sets LM_RC. Fails the
# test if it is still running after TIMEOUT_S seconds.
lm_wait_exit() {
	local i

	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$LM_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$LM_PID" 2>/dev/null &&
		fail "vdpa-lm (pid $LM_PID) still running after $1 s"
	LM_RC=0
	# shellcheck disable=SC2034 # read by the test scripts
	wait "$LM_PID" || LM_RC=$?
	it_forget_pid "$LM_PID"
}

# guest_start LOG SOCK QUEUES [vu_guest options...]: a guest in the
# background. Sets GUEST_PID.
guest_start() {
	local log=$1 sock=$2 queues=$3

	shift 3
	it_file_prefix guest
	"$VU_GUEST" -l 1 --no-huge -m 512 --no-pci --no-shconf --no-telemetry \
		--file-prefix "$IT_FILE_PREFIX" --log-level error \
		--vdev "net_virtio_user0,path=$sock,queues=$queues" \
		-- --queues "$queues" "$@" </dev/null >"$log" 2>&1 &
	GUEST_PID=$!
	IT_PIDS+=("$GUEST_PID")
}

guest_stop() {
	it_stop_pid "$GUEST_PID" || true
	it_forget_pid "$GUEST_PID"
}

# guest_traffic SOCK QUEUES PACKETS SIZES: run a guest to completion and
# require every frame back intact.
guest_traffic() {
	local sock=$1 queues=$2 packets=$3 sizes=$4 out summary rc=0

	out="$IT_TMP/guest.$IT_PREFIX_SEQ.log"
	run_guest "$VU_GUEST" 1 "path=$sock,queues=$queues" \
		--packets "$packets" --sizes "$sizes" --queues "$queues" \
		--timeout 20 >"$out" 2>&1 || rc=$?
	summary=$(grep '^{"result"' "$out" | tail -n 1 || true)
	it_log "guest: rc=$rc ${summary:-<no summary>}"
	if [ "$rc" -ne 0 ] || [[ $summary != *'"result":"PASS"'* ]] ||
	   [[ $summary != *"\"received\":$packets,\"lost\":0,\"dup\":0,\"corrupt\":0,"* ]]; then
		tail -n 20 "$out" >&2
		fail "guest traffic over $sock failed"
	fi
}

# wait_for_log FILE REGEX TIMEOUT_S
wait_for_log() {
	local i

	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE -- "$2" "$1" && return 0
		sleep 0.1
	done
	it_log "timeout waiting for '$2' in $1; tail:"
	tail -n 20 "$1" >&2
	return 1
}

# no_process_with PREFIX: no process still runs with this EAL file prefix.
no_process_with() {
	! pgrep -f -- "--file-prefix $1( |\$)" >/dev/null
}
