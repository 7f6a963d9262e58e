#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ifcvf_sw against DPDK's unmodified virtio-user PMD (vu_guest), served by
# vdpa-lm in loopback. Every scenario checks, in the guest, that every
# frame came back once, on its own queue, MAC-swapped and byte-exact.
#
#  direct: 1 and 4 queue pairs, mergeable RX on and off, 64/1500 B
#          (and 9000 B with mergeable buffers).
#  relay:  the same traffic while vdpa-lm flips the device between
#          direct I/O and the relay every few milliseconds (suspend,
#          re-point, resume under load), with the epoll and the polling
#          engine; the device must report switchovers, and vhost must hand
#          back ring indices equal to the packets the guest counted.
#  packed: packed virtqueues (virtio-user packed_vq=1, ifcvf_sw packed=1)
#          in direct I/O; through the relay from the first frame
#          (relay=on, both engines); and flipped between direct I/O and
#          the relay every few milliseconds under load (both engines).
#          Out-of-order completion (ifcvf_sw completion=ooo: each burst
#          handed back whole packets in reverse): relayed from the first
#          frame, and flipped under load; the VF must report reordered
#          completions, and completion=ooo without packed=1 is refused.
#          And fail closed: when every switch to the relay fails
#          (VRELAY_FAULT_SWITCH=1) the queues are held, never run on the
#          guest's rings: no frame moves and vdpa-lm says why.
#  poll:   the device's poll budget (--hw-poll-us): with one frame in
#          flight at a time the device runs out of work after every
#          frame; with a budget longer than a round trip it must not
#          sleep (almost no doorbells), with none it must (doorbells for
#          most frames). And a connected guest that stops sending: the
#          device polls out its budget, then sleeps (its thread nearly
#          idle), and the guest's traffic resumes intact afterwards.
#
# Every scenario also checks the relay's counters from vdpa-lm's last
# status line: none in direct I/O, some when flipping, and every frame's
# TX and RX entries (2 x frames, avail and used) with the relay on.
#
# Usage: test_ifcvf_sw.sh VDPA_LM VU_GUEST [direct|relay|packed|poll]
set -euo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$IT_DIR/lib.sh"

LM=$1
GUEST=$2
WHAT=${3:-direct}
PACKETS=${IT_PACKETS:-20000}

# start_lm NAME EXTRA-OPTS...: vdpa-lm on CPU 0, sets LM_PID and LM_LOG.
start_lm() {
	local name=$1

	shift
	it_file_prefix lm
	LM_SOCK=$IT_TMP/$name.sock
	LM_LOG=$IT_TMP/$name.lm.log
	# shellcheck disable=SC2086
	lm_spawn IT_PIDS "$LM_LOG" "$LM" "$IT_FILE_PREFIX" \
		--log-level=lib.relay:notice ${SW_EAL:-} \
		-- --socket "$LM_SOCK" --stats-period 0 "$@"
	wait_for_socket "$LM_SOCK" 20 "$LM_PID"
}

# stop_lm: SIGTERM and require a clean exit.
stop_lm() {
	local rc=0

	kill -TERM "$LM_PID"
	wait "$LM_PID" || rc=$?
	it_forget_pid "$LM_PID"
	if [ "$rc" != 0 ]; then
		it_log "vdpa-lm exited with $rc"
		tail -20 "$LM_LOG" >&2
		return 1
	fi
	[ ! -e "$LM_SOCK" ] || { it_log "socket left behind"; return 1; }
}

scenario() {
	local name=$1 queues=$2 mrg=$3 sizes=$4 lm_opts=$5 out=""

	it_log "scenario $name: queues=$queues mrg=$mrg sizes=$sizes $lm_opts"
	# shellcheck disable=SC2086
	start_lm "$name" --queues "$queues" $lm_opts
	# Not in $(...): the guest must stay a child of this shell, so that
	# the cleanup trap can kill it.
	if ! run_guest "$GUEST" 1 \
		"path=$LM_SOCK,queues=$queues,mrg_rxbuf=$mrg${GUEST_VU:-}" \
		--packets "$PACKETS" --sizes "$sizes" --queues "$queues" \
		--timeout 60 >"$IT_TMP/$name.guest" 2>&1; then
		out=$(tail -1 "$IT_TMP/$name.guest")
		check_fail "$name" "guest: $out"
		stop_lm || true
		return
	fi
	out=$(tail -1 "$IT_TMP/$name.guest")
	stop_lm || { check_fail "$name" "vdpa-lm"; return; }
	if ! check_lm_log "$name" "$lm_opts"; then
		check_fail "$name" "vdpa-lm's log"
		return
	fi
	check_pass "$name" "$(echo "$out" | tail -1 | cut -c1-120)"
}

# status_field STATUS KEY: numeric value of " KEY=N" in a status line.
status_field() {
	sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1"
}

# check_reordered NAME: with OOO=1, the VF's close line (INFO) says it
# wrote used descriptors out of order: else the scenario proves nothing.
check_reordered() {
	local name=$1 n

	[ "${OOO:-0}" = 1 ] || return 0
	n=$(sed -n 's/.*completion=ooo: \([0-9]*\) used descriptors.*/\1/p' \
		"$LM_LOG" | tail -1)
	if [ "${n:-0}" -le 0 ]; then
		it_log "$name: the VF reports ${n:-no} reordered completions"
		return 1
	fi
	it_log "$name: $n used descriptors written out of order"
}

# devarg_refused NAME VDEV PATTERN: vdpa-lm must fail to probe VDEV, and
# its log say why (PATTERN).
devarg_refused() {
	local name=$1 vdev=$2 pattern=$3 i rc=0

	it_log "scenario $name: --vdev $vdev must be refused"
	it_file_prefix lm
	LM_LOG=$IT_TMP/$name.lm.log
	lm_spawn IT_PIDS "$LM_LOG" "$LM" "$IT_FILE_PREFIX" --vdev "$vdev" \
		-- --socket "$IT_TMP/$name.sock" --device ifcvf_sw0 \
		--stats-period 0
	for i in $(seq 100); do
		kill -0 "$LM_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$LM_PID" 2>/dev/null; then
		stop_lm || true
		check_fail "$name" "vdpa-lm started with --vdev $vdev"
		return
	fi
	wait "$LM_PID" || rc=$?
	it_forget_pid "$LM_PID"
	if [ "$rc" = 0 ] || ! grep -q "$pattern" "$LM_LOG"; then
		check_fail "$name" "exit status $rc, no '$pattern' in the log"
		return
	fi
	check_pass "$name" "$(grep -m1 "$pattern" "$LM_LOG" | cut -c1-120)"
}

# check_relayed NAME STATUS: the relay's counters agree with RELAYED:
# none (direct I/O only), some (flipped under traffic: both sides moved)
# or all (relayed from the first frame: at least one TX and one RX entry
# per frame, each side).
check_relayed() {
	local name=$1 status=$2 avail used want=0

	avail=$(status_field "$status" relay_avail)
	used=$(status_field "$status" relay_used)
	case $RELAYED in
	none) [ "${avail:-x}" = 0 ] && [ "${used:-x}" = 0 ] && want=1 ;;
	some) [ "${avail:-0}" -gt 0 ] && [ "${used:-0}" -gt 0 ] && want=1 ;;
	all) [ "${avail:-0}" -ge $((2 * PACKETS)) ] &&
		[ "${used:-0}" -ge $((2 * PACKETS)) ] && want=1 ;;
	esac
	if [ "$want" != 1 ]; then
		it_log "$name: relay_avail=${avail:-?} relay_used=${used:-?}," \
			"want $RELAYED of $((2 * PACKETS)) entries relayed"
		return 1
	fi
	it_log "$name: relay_avail=$avail relay_used=$used ($RELAYED)"
}

# The last status line vdpa-lm prints on exit, and vhost's GET_VRING_BASE
# answers, must agree with what the guest sent.
check_lm_log() {
	local name=$1 lm_opts=$2 status switches pkts

	status=$(grep '^ifcvf_sw0:' "$LM_LOG" | tail -1)
	switches=$(status_field "$status" switches)
	pkts=$(status_field "$status" packets)
	# Each frame is counted once on TX and once on RX by the device.
	if [ "${pkts:-0}" != $((2 * PACKETS)) ]; then
		it_log "$name: device counted ${pkts:-?} packets, want $((2 * PACKETS))"
		return 1
	fi
	check_relayed "$name" "$status" || return 1
	check_reordered "$name" || return 1
	case $lm_opts in
	*relay-cycle*)
		if [ "${switches:-0}" -lt 4 ]; then
			it_log "$name: only ${switches:-0} switchovers"
			return 1
		fi
		it_log "$name: $switches switchovers under traffic"
		;;
	esac
	if grep -q "broken\|DMA fault\|malformed" "$LM_LOG"; then
		it_log "$name: device or relay reported an error"
		grep "broken\|DMA fault\|malformed" "$LM_LOG" | head -3 >&2
		return 1
	fi
}

# packed_held NAME: the relay is wanted from the start and every switch
# to it fails (VRELAY_FAULT_SWITCH=1): every queue held, no frame
# through, a clear log line.
packed_held() {
	local name=$1 status pkts

	it_log "scenario $name: packed rings, switches fail: must be held"
	export VRELAY_FAULT_SWITCH=1
	start_lm "$name" --queues 1 --device ifcvf_sw0
	unset VRELAY_FAULT_SWITCH
	if run_guest "$GUEST" 1 "path=$LM_SOCK,queues=1,mrg_rxbuf=1$GUEST_VU" \
		--packets 1000 --sizes 64 --queues 1 \
		--timeout 5 >"$IT_TMP/$name.guest" 2>&1; then
		check_fail "$name" "traffic flowed on packed queues that the relay refused"
		stop_lm || true
		return
	fi
	stop_lm || { check_fail "$name" "vdpa-lm"; return; }
	status=$(grep '^ifcvf_sw0:' "$LM_LOG" | tail -1)
	pkts=$(echo "$status" | sed -n 's/.* packets=\([0-9]*\).*/\1/p')
	if [ "${pkts:-x}" != 0 ]; then
		check_fail "$name" "device counted ${pkts:-?} packets, want 0"
		return
	fi
	if [ "$(grep -c "switch of queue [01] to relay failed" "$LM_LOG")" \
		-lt 2 ] ||
	   [ "$(grep -c "queue [01] held stopped" "$LM_LOG")" != 2 ]; then
		check_fail "$name" "no log line says the packed queues are held"
		return
	fi
	check_pass "$name" "$(grep -m1 "held stopped" "$LM_LOG" | cut -c1-120)"
}

# poll_doorbells NAME POLL_US OP LIMIT: POLL_FRAMES frames of 64 B, one in
# flight at a time (--window 1); the device's doorbell count (vdpa-lm's
# last status line) must be -OP LIMIT. The device is on CPU 0, the guest
# on CPU 1, so a round trip is microseconds.
POLL_FRAMES=2000
poll_doorbells() {
	local name=$1 us=$2 op=$3 limit=$4 n

	it_log "scenario $name: --hw-poll-us $us, one frame in flight"
	start_lm "$name" --queues 1 --hw-cpu 0 --hw-poll-us "$us"
	if ! run_guest "$GUEST" 1 "path=$LM_SOCK,queues=1,mrg_rxbuf=1" \
		--packets "$POLL_FRAMES" --sizes 64 --queues 1 --window 1 \
		--timeout 60 >"$IT_TMP/$name.guest" 2>&1; then
		check_fail "$name" "guest: $(tail -1 "$IT_TMP/$name.guest")"
		stop_lm || true
		return
	fi
	stop_lm || { check_fail "$name" "vdpa-lm"; return; }
	n=$(status_field "$(grep '^ifcvf_sw0:' "$LM_LOG" | tail -1)" doorbells)
	if [ -z "$n" ] || ! [ "$n" -"$op" "$limit" ]; then
		check_fail "$name" "doorbells=${n:-?} for $POLL_FRAMES frames," \
			"want -$op $limit"
		return
	fi
	check_pass "$name" "doorbells=$n for $POLL_FRAMES frames"
}

# thread_cpu_ns PID PREFIX: CPU time (ns) of PID's threads named PREFIX*.
thread_cpu_ns() {
	local t sum=0

	for t in /proc/"$1"/task/*; do
		case $(cat "$t/comm" 2>/dev/null) in
		"$2"*) sum=$((sum + $(cut -d' ' -f1 "$t/schedstat"))) ;;
		esac
	done
	echo "$sum"
}

# poll_idle NAME: a guest in full flow is stopped (SIGSTOP), connected:
# after its 10 ms budget the device must sleep, its thread under 10 % of
# a CPU over the next second (a budget that never ends spins ~100 %);
# then the guest goes on (SIGCONT) and all its frames come back.
poll_idle() {
	local name=$1 gpid="" job c0 c1 i

	it_log "scenario $name: --hw-poll-us 10000, guest stopped mid-flow"
	start_lm "$name" --queues 1 --hw-cpu 0 --hw-poll-us 10000
	# Enough frames to be mid-flow a second in (~5 s at 4 M a second).
	run_guest "$GUEST" 1 "path=$LM_SOCK,queues=1,mrg_rxbuf=1" \
		--packets 20000000 --sizes 64 --queues 1 --timeout 60 \
		--idle-timeout 20000 >"$IT_TMP/$name.guest" 2>&1 &
	job=$!
	IT_PIDS+=("$job")
	for ((i = 0; i < 100; i++)); do
		gpid=$(pgrep -f "path=$LM_SOCK," | grep -vx "$job" | head -1 || true)
		[ -n "$gpid" ] && break
		sleep 0.1
	done
	[ -n "$gpid" ] && IT_PIDS+=("$gpid")
	sleep 1
	# A guest that already finished would leave nothing to stop.
	grep -q '"result"' "$IT_TMP/$name.guest" && gpid=""
	[ -n "$gpid" ] && kill -STOP "$gpid"
	sleep 0.2
	c0=$(thread_cpu_ns "$LM_PID" ifcsw-)
	sleep 1
	c1=$(thread_cpu_ns "$LM_PID" ifcsw-)
	[ -n "$gpid" ] && kill -CONT "$gpid"
	if ! wait "$job"; then
		check_fail "$name" "guest: $(tail -1 "$IT_TMP/$name.guest")"
		stop_lm || true
		return
	fi
	it_forget_pid "$job"
	it_forget_pid "$gpid"
	stop_lm || { check_fail "$name" "vdpa-lm"; return; }
	if [ -z "$gpid" ]; then
		check_fail "$name" "no guest in flow to stop"
		return
	fi
	if [ $((c1 - c0)) -ge 100000000 ]; then
		check_fail "$name" "device thread used $(((c1 - c0) / 1000000))" \
			"ms of CPU in 1 s with the guest stopped (pid $gpid)"
		return
	fi
	check_pass "$name" "device thread $(((c1 - c0) / 1000)) us of CPU" \
		"in 1 s with the guest stopped; $(tail -1 "$IT_TMP/$name.guest" | cut -c1-60)"
}

RELAYED=none
case $WHAT in
poll)
	poll_doorbells poll-on 10000 lt $((POLL_FRAMES / 20))
	poll_doorbells poll-off 0 gt $((POLL_FRAMES / 4))
	poll_idle poll-idle
	;;
packed)
	GUEST_VU=",packed_vq=1"
	PW=ifcvf_sw0,loopback=1,packed=1
	for q in 1 2; do
		SW_EAL="--vdev $PW,queues=$q"
		scenario "p-q$q-mrg1" "$q" 1 64,1500,9000 "--device ifcvf_sw0"
		scenario "p-q$q-mrg0" "$q" 0 64,1500 "--device ifcvf_sw0"
	done
	# The vdev is used as is: its relay= and relay_mode= devargs, not
	# --relay-policy and --relay.
	RELAYED=all
	SW_EAL="--vdev $PW,queues=2,relay=on,relay_mode=epoll"
	scenario p-on-epoll-q2-mrg1 2 1 64,1500,9000 "--device ifcvf_sw0"
	SW_EAL="--vdev $PW,queues=1,relay=on,relay_mode=poll"
	scenario p-on-poll-q1-mrg0 1 0 64,1500 "--device ifcvf_sw0"
	RELAYED=some
	PACKETS=${IT_PACKETS:-50000}
	SW_EAL="--vdev $PW,queues=2,relay_mode=epoll"
	scenario p-cycle-epoll-q2-mrg1 2 1 64,1500,9000 \
		"--device ifcvf_sw0 --relay-cycle 5"
	SW_EAL="--vdev $PW,queues=1,relay_mode=poll"
	scenario p-cycle-poll-q1-mrg0 1 0 64,1500 \
		"--device ifcvf_sw0 --relay-cycle 5"
	# Out of order: the relay maps the VF's buffer ids to the guest's
	# (relayed throughout, then flipped), the guest maps them too.
	OOO=1
	OOO_LOG=--log-level=pmd.vdpa.ifcvf_sw:info
	RELAYED=all
	PACKETS=${IT_PACKETS:-10000}
	SW_EAL="--vdev $PW,queues=2,relay=on,completion=ooo $OOO_LOG"
	scenario p-ooo-on-q2-mrg1 2 1 64,1500,9000 "--device ifcvf_sw0"
	RELAYED=some
	PACKETS=${IT_PACKETS:-20000}
	SW_EAL="--vdev $PW,queues=1,completion=ooo $OOO_LOG"
	scenario p-ooo-cycle-q1-mrg1 1 1 64,1500,9000 \
		"--device ifcvf_sw0 --relay-cycle 5"
	OOO=0
	devarg_refused p-ooo-split ifcvf_sw0,loopback=1,completion=ooo \
		"completion=ooo: packed rings only"
	devarg_refused p-ooo-bad ifcvf_sw0,loopback=1,packed=1,completion=x \
		"completion=x: expected inorder or ooo"
	RELAYED=none
	SW_EAL="--vdev $PW,queues=1,relay=on"
	packed_held p-held
	;;
direct)
	scenario d-q1-mrg1 1 1 64,1500,9000 ""
	scenario d-q1-mrg0 1 0 64,1500 ""
	scenario d-q4-mrg1 4 1 64,1500 ""
	scenario d-q4-mrg0 4 0 64,1500 ""
	scenario d-q8-mrg1 8 1 64,1500 ""
	;;
relay)
	PACKETS=${IT_PACKETS:-100000}
	RELAYED=some
	for engine in epoll poll; do
		scenario "r-$engine-q1-mrg1" 1 1 64,1500,9000 \
			"--relay $engine --relay-cycle 5"
		scenario "r-$engine-q4-mrg0" 4 0 64,1500 \
			"--relay $engine --relay-cycle 5"
		scenario "r-$engine-q4-mrg1" 4 1 64,1500 \
			"--relay $engine --relay-cycle 5"
	done
	RELAYED=all
	scenario r-on-q4-mrg1 4 1 64,1500 "--relay-policy on"
	;;
*)
	it_die "unknown scenario set $WHAT"
	;;
esac

check_finish
