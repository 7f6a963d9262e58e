#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Throughput, CPU per packet, idle CPU, switchover and scale of ifcvf_sw
# served by vdpa-lm in loopback, with vu_guest (DPDK virtio-user) as the
# guest; and the same guest traffic through DPDK's software vhost datapath
# (a net_vhost port in dpdk-testpmd, macswap, on CPU 0) as the baseline.
#
# Usage: [VU_TRAFFIC=vu-traffic] bench_lm.sh [--quick] [--out DIR] VDPA_LM VU_GUEST [WHAT...]
#   WHAT: throughput paired idle switchover timeline scale switchscale
#   switchdevs (default: all but switchscale and switchdevs, which are
#   long: see do_switchscale, do_switchdevs),
#   and profile (perf samples of the relay thread; not in the default)
#
# Pinning (2 CPUs): vdpa-lm's main thread, the device thread and the relay
# thread on CPU 0 (-l 0 --hw-cpu 0 --relay-cpu 0), every guest on CPU 1.
# Relay figures are ratios to direct I/O measured in the same run, the
# modes interleaved (rotated order) in every repetition.
#
# CPU per packet: each thread's CPU time (/proc/PID/task/*/schedstat, ns)
# over the guest's traffic window, divided by the packets the guest got
# back in it. A packet is one guest frame, which crosses the relay twice
# (TX queue out, RX queue back). relay_*: the relay engine thread; hw_*:
# the device thread (ifcvf_sw's; for net_vhost, testpmd's forwarding
# lcore, rte-worker-1); proc_*: every thread of the process.
#
# Output: one JSON object per line in DIR/results.jsonl, a summary in
# DIR/summary.json, and data files for doc/img plots (plot.sh).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/proc.sh
. "$BENCH_DIR/../lib/proc.sh"
PROBE="python3 $BENCH_DIR/lm_probe.py"
QUICK=0
OUT=""
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1; shift ;;
	--out) OUT=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || { echo "usage: $0 [--quick] [--out DIR] VDPA_LM VU_GUEST [WHAT...]" >&2; exit 2; }
LM=$1
GUEST=$2
shift 2
WHAT=("$@")
[ ${#WHAT[@]} -gt 0 ] || WHAT=(throughput idle switchover timeline scale)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-lm.XXXXXX")
[ -n "$OUT" ] || OUT=$TMP/out
mkdir -p "$OUT"
RES=$OUT/results.jsonl
: >"$RES"
PIDS=()
PREFIX_BASE="bench-lm-$$"
SEQ=0
RUNDIR=/var/run/dpdk
[ "$(id -u)" -eq 0 ] || RUNDIR=${XDG_RUNTIME_DIR:-/tmp}/dpdk

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

stop_pid() {
	proc_stop "$1" 5 || true
}

cleanup() {
	local rc=$? pid

	trap - EXIT INT TERM
	set +e
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	rm -rf "${RUNDIR:?}/$PREFIX_BASE"-*
	rm -rf "$TMP/socks"
	[ "$OUT" = "$TMP/out" ] && [ $rc -ne 0 ] && log "keeping $TMP"
	[ "$OUT" = "$TMP/out" ] || rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$TMP/socks"

prefix() {
	SEQ=$((SEQ + 1))
	PREFIX="$PREFIX_BASE-$1-$SEQ"
}

# server_prep NDEV TAG: the sockets (SOCKS) and the DPDK file prefix and
# log (LM_PREFIX, LM_LOG) of the next server, vdpa-lm or testpmd.
server_prep() {
	local i

	SOCKS=()
	for ((i = 0; i < $1; i++)); do
		SOCKS+=("$TMP/socks/$SEQ.$i.sock")
	done
	prefix "$2"
	LM_PREFIX=$PREFIX
	LM_LOG=$TMP/$PREFIX.log
}

# server_ready: the server just started in the background (vdpa-lm or
# testpmd, LM_PID) has made its last socket; then sample its threads'
# CPU time into SAMPLES.
server_ready() {
	local i

	PIDS+=("$LM_PID")
	for ((i = 0; i < 200; i++)); do
		[ -S "${SOCKS[-1]}" ] && break
		kill -0 "$LM_PID" 2>/dev/null || { tail "$LM_LOG" >&2; return 1; }
		sleep 0.05
	done
	SAMPLES=$TMP/$PREFIX.cpu
	$PROBE sample "$LM_PID" "$SAMPLES" 0.05 &
	PIDS+=("$!")
}

# start_lm NDEV QUEUES LM-OPTS...: vdpa-lm with NDEV sockets; sets LM_PID,
# LM_LOG, LM_PREFIX, SOCKS, SAMPLES (per-thread CPU samples). LM_OPTS:
# more vdpa-lm options for every run (e.g. --hw-poll-us 0).
start_lm() {
	local ndev=$1 queues=$2 i args=()

	shift 2
	server_prep "$ndev" lm
	for ((i = 0; i < ndev; i++)); do
		args+=(--socket "${SOCKS[$i]}")
		# LM_NAMED: device i is the EAL --vdev ifcvf_sw<i>.
		[ -n "${LM_NAMED:-}" ] && args+=(--device "ifcvf_sw$i")
	done
	# shellcheck disable=SC2086
	"$LM" -l 0 --no-huge -m 1024 --no-pci --file-prefix "$LM_PREFIX" \
		--log-level=pmd.vdpa.ifcvf_sw:info \
		--log-level=lib.relay:"${LM_RELAY_LOG:-info}" ${LM_EAL:-} \
		-- "${args[@]}" \
		--queues "$queues" --stats-period 0 --hw-cpu 0 --relay-cpu 0 \
		"$@" ${LM_OPTS:-} </dev/null >"$LM_LOG" 2>&1 &
	LM_PID=$!
	server_ready
}

stop_lm() {
	stop_pid "$LM_PID"
	rm -f "${SOCKS[@]}"
}

# start_lm_dev NDEV QUEUES QCTL LM-OPTS...: devices ifcvf_sw0..NDEV-1
# created with EAL --vdev, so that their queue control (queue | device)
# can be chosen; one socket each.
start_lm_dev() {
	local ndev=$1 q=$2 qctl=$3 i eal=""

	shift 3
	for ((i = 0; i < ndev; i++)); do
		eal+=" --vdev ifcvf_sw$i,queues=$q,loopback=1,relay=auto,relay_mode=epoll,relay_cpu=0,hw_cpu=0,queue_control=$qctl"
	done
	LM_EAL=$eal LM_NAMED=1 start_lm "$ndev" "$q" "$@"
}

# start_vhost NDEV QUEUES: the baseline, DPDK's software vhost datapath:
# dpdk-testpmd with one net_vhost port per socket, each forwarding to
# itself (macswap, as ifcvf_sw's loopback does), its main and forwarding
# lcores both on CPU 0. Sets the same variables as start_lm.
TESTPMD=${TESTPMD:-dpdk-testpmd}
start_vhost() {
	local ndev=$1 queues=$2 i vdevs=()

	server_prep "$ndev" vh
	for ((i = 0; i < ndev; i++)); do
		vdevs+=(--vdev "net_vhost$i,iface=${SOCKS[$i]},queues=$queues")
	done
	# stdin held open: testpmd quits at EOF of its "Press enter" read.
	[ -p "$TMP/vh.fifo" ] || mkfifo "$TMP/vh.fifo"
	exec 7<>"$TMP/vh.fifo"
	"$TESTPMD" --lcores 0@0,1@0 --no-huge -m 1024 --no-pci \
		--file-prefix "$LM_PREFIX" --log-level=error "${vdevs[@]}" -- \
		--forward-mode=macswap --port-topology=loop --nb-cores=1 \
		--rxq="$queues" --txq="$queues" --total-num-mbufs=32768 \
		<&7 >"$LM_LOG" 2>&1 &
	LM_PID=$!
	server_ready
}

have_vhost() {
	command -v "$TESTPMD" >/dev/null
}

# guest_cmd SOCK QUEUES SIZE PACKETS: the guest's command line: vu_guest
# (DPDK virtio-user, at most 8 queue pairs), or with GUEST_FE set the
# project's own front-end, vu-traffic (tests/bench/vu_traffic.c, up to
# 16 pairs); both on CPU 1, both print the same result line.
guest_cmd() {
	prefix g
	if [ -n "${GUEST_FE:-}" ]; then
		GCMD=(taskset -c 1 "$GUEST_FE" --socket "$1" --queues "$2" \
			--size "$3" --packets "$4" --timeout 10 \
			--window "${GUEST_WINDOW:-256}")
		return
	fi
	GCMD=("$GUEST" -l 1 --no-huge -m 256 --no-pci --no-shconf \
		--no-telemetry --file-prefix "$PREFIX" --log-level error \
		--vdev "net_virtio_user0,path=$1,queues=$2,mrg_rxbuf=1" -- \
		--packets "$4" --sizes "$3" --queues "$2" --timeout 120 \
		--window "${GUEST_WINDOW:-256}")
}

# run_guests QUEUES SIZE PACKETS: one guest per socket, all on CPU 1, in
# parallel; sets PPS (sum), ELAPSED (max), T_END, GOK (all passed), and
# W_END, W_SECS: the traffic window (CLOCK_MONOTONIC) of all guests, from
# their own clocks (the window of their teardown is not traffic).
run_guests() {
	local q=$1 size=$2 pkts=$3 i gp=() line

	for ((i = 0; i < ${#SOCKS[@]}; i++)); do
		guest_cmd "${SOCKS[$i]}" "$q" "$size" "$pkts"
		"${GCMD[@]}" </dev/null >"$TMP/g.$i.out" 2>&1 &
		gp+=("$!")
		PIDS+=("$!")
	done
	GOK=1
	for i in "${gp[@]}"; do
		wait "$i" || GOK=0
	done
	T_END=$($PROBE now)
	PPS=0
	ELAPSED=0
	W_END=$T_END
	W_SECS=0
	local ws=1e18 we=0
	for ((i = 0; i < ${#SOCKS[@]}; i++)); do
		line=$(grep '^{"result"' "$TMP/g.$i.out" | tail -1 || true)
		[ -n "$line" ] || { GOK=0; tail -3 "$TMP/g.$i.out" >&2; continue; }
		PPS=$(python3 -c 'import json,sys; print(int(json.loads(sys.argv[1])["pps"]) + int(sys.argv[2]))' "$line" "$PPS")
		ELAPSED=$(python3 -c 'import json,sys; print(max(float(json.loads(sys.argv[1])["elapsed_s"]), float(sys.argv[2])))' "$line" "$ELAPSED")
		read -r ws we < <(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(min(r.get("mono_start",1e18),float(sys.argv[2])), max(r.get("mono_end",0),float(sys.argv[3])))' "$line" "$ws" "$we")
	done
	# Guests that print their window (vu_guest does); else up to T_END.
	if python3 -c 'import sys; sys.exit(not 0 < float(sys.argv[1]) < float(sys.argv[2]))' "$ws" "$we"; then
		W_END=$we
		W_SECS=$(python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$ws" "$we")
	else
		W_SECS=$ELAPSED
	fi
}

mode_opts() {
	case $1 in
	direct) echo "--relay-policy off" ;;
	epoll) echo "--relay-policy on --relay epoll" ;;
	poll) echo "--relay-policy on --relay poll" ;;
	adaptive) echo "--relay-policy on --relay auto" ;;
	esac
}

# one_run TEST NDEV QUEUES SIZE MODE PACKETS REP: one measurement line.
one_run() {
	local test=$1 ndev=$2 q=$3 size=$4 mode=$5 pkts=$6 rep=$7 cpu hw all
	local hwp=ifcsw-

	if [ "$mode" = net_vhost ]; then
		have_vhost || { log "no $TESTPMD: no net_vhost row"; return 0; }
		start_vhost "$ndev" "$q"
		hwp=rte-worker
	elif [ "${mode%-before}" != "$mode" ]; then
		# MODE-before: the same mode with LM_BEFORE's vdpa-lm (an
		# earlier build), interleaved with the others in one run.
		[ -n "${LM_BEFORE:-}" ] || { log "no LM_BEFORE: no $mode row"; return 0; }
		# shellcheck disable=SC2046
		LM=$LM_BEFORE start_lm "$ndev" "$q" $(mode_opts "${mode%-before}")
	else
		# shellcheck disable=SC2046
		start_lm "$ndev" "$q" $(mode_opts "$mode")
	fi
	run_guests "$q" "$size" "$pkts"
	sleep 0.15
	cpu=$($PROBE window "$SAMPLES" "$W_END" "$W_SECS" relay-)
	hw=$($PROBE window "$SAMPLES" "$W_END" "$W_SECS" "$hwp")
	all=$($PROBE window "$SAMPLES" "$W_END" "$W_SECS" "")
	stop_lm
	printf '{"test":"%s","devices":%d,"queues":%d,"size":%d,"mode":"%s","rep":%d,"ok":%d,"pps":%d,"elapsed_s":%s,"relay_cpu":%s,"hw_cpu":%s,"proc_cpu":%s,"relay_ns_pkt":%s,"hw_ns_pkt":%s,"proc_ns_pkt":%s}\n' \
		"$test" "$ndev" "$q" "$size" "$mode" "$rep" "$GOK" "$PPS" \
		"$ELAPSED" "$cpu" "$hw" "$all" "$($PROBE nspp "$cpu" "$PPS")" \
		"$($PROBE nspp "$hw" "$PPS")" "$($PROBE nspp "$all" "$PPS")" \
		| tee -a "$RES" >&2
}

# Packets for about SECS seconds of traffic at the given size.
packets_for() {
	local size=$1 secs=$2

	if [ "$QUICK" = 1 ]; then
		echo 20000
	elif [ "$size" -le 64 ]; then
		echo $((1000000 * secs))
	else
		echo $((250000 * secs))
	fi
}

# Environment: MODES, QUEUES, SIZES (space separated) and REPS narrow
# the throughput matrix (e.g. for a short sanity run), TP_SECS (default
# 2) scales its packet counts; SCALE_MODES the
# scale runs', SWITCH_MODES the switchover runs' (epoll poll auto). A mode MODE-before
# (e.g. epoll-before) runs MODE with the vdpa-lm named by LM_BEFORE, an
# earlier build, interleaved with the others: before/after in one run.
read -ra THROUGHPUT_MODES <<<"${MODES:-direct epoll poll adaptive net_vhost}"
read -ra TP_QUEUES <<<"${QUEUES:-1 4}"
read -ra TP_SIZES <<<"${SIZES:-64 1500}"
do_throughput() {
	local reps=${REPS:-2} rep q size mode modes=("${THROUGHPUT_MODES[@]}") k
	local nm=${#THROUGHPUT_MODES[@]}

	[ "$QUICK" = 1 ] && reps=1
	for ((rep = 0; rep < reps; rep++)); do
		for q in "${TP_QUEUES[@]}"; do
			for size in "${TP_SIZES[@]}"; do
				[ "$QUICK" = 1 ] && { [ "$q" != 1 ] || [ "$size" != 64 ]; } && continue
				for ((k = 0; k < nm; k++)); do
					mode=${modes[$(((k + rep) % nm))]}
					one_run throughput 1 "$q" "$size" "$mode" \
						"$(packets_for "$size" "${TP_SECS:-2}")" "$rep"
				done
			done
		done
	done
}

# Paired: relay against direct I/O within one run of one guest. vdpa-lm
# flips the device between the two every PAIRED_CYCLE_MS (default 300,
# --relay-cycle); lm_probe.py samples its frames, state and per-thread
# CPU every PAIRED_PERIOD s (0.05), drops each phase's first PAIRED_SKIP
# intervals (1: the switch's), and rates each relay phase against the
# direct phases either side of it. This machine's speed changes by up to
# 2x for seconds at a time (a 2-vCPU VM on a shared host:
# doc/performance.md, "Caveats"), which separate runs cannot tell from
# the relay's cost; adjacent phases a few hundred ms apart see the same
# conditions, and lm_probe.py sorts the pairs by the machine's state
# (fast, slow). Rows: PAIRED_MODES (default epoll poll adaptive) x
# QUEUES x SIZES, PAIRED_SECS of traffic each (default 30: ~50 pairs).
# The guest is stopped at the end (SIGINT): frames in flight then count
# as lost; duplicated, corrupt or misrouted ones fail the row.
do_paired() {
	local secs=${PAIRED_SECS:-30} cycle=${PAIRED_CYCLE_MS:-300} q size
	local period=${PAIRED_PERIOD:-0.05}
	local mode gp sock line res

	[ "$QUICK" = 1 ] && secs=5
	for q in "${TP_QUEUES[@]}"; do
		for size in "${TP_SIZES[@]}"; do
			[ "$QUICK" = 1 ] && { [ "$q" != 1 ] || [ "$size" != 64 ]; } && continue
			for mode in ${PAIRED_MODES:-epoll poll adaptive}; do
				# shellcheck disable=SC2046
				start_lm 1 "$q" $(mode_opts "$mode") \
					--relay-policy auto --relay-cycle "$cycle"
				sock=$RUNDIR/$LM_PREFIX/dpdk_telemetry.v2
				guest_cmd "${SOCKS[0]}" "$q" "$size" 400000000
				"${GCMD[@]}" --expect-loss </dev/null >"$TMP/gp.out" 2>&1 &
				gp=$!
				PIDS+=("$gp")
				# On the guest's CPU: CPU 0 carries only vdpa-lm.
				taskset -c 1 $PROBE paired "$sock" "$LM_PID" \
					ifcvf_sw0 "$period" \
					"$secs" >"$TMP/paired.dat"
				kill -INT "$gp" 2>/dev/null || true
				wait "$gp" || true
				stop_lm
				line=$(grep '^{"result"' "$TMP/gp.out" | tail -1 || true)
				res=$($PROBE pairs "$TMP/paired.dat" "${PAIRED_SKIP:-1}")
				cp "$TMP/paired.dat" "$OUT/paired-$q-$size-$mode.dat"
				python3 -c 'import json,sys
g = json.loads(sys.argv[5]) if sys.argv[5] else {}
r = {"test": "paired", "queues": int(sys.argv[1]), "size": int(sys.argv[2]),
     "mode": sys.argv[3], "ok": int(g.get("dup", 1) == 0 and
     g.get("corrupt", 1) == 0 and g.get("misrouted", 1) == 0)}
r.update(json.loads(sys.argv[4]))
print(json.dumps(r))' "$q" "$size" "$mode" "$res" "$line" | tee -a "$RES" >&2
			done
		done
	done
}

# Relay thread CPU with a connected guest that sends nothing: the guest
# is stopped (SIGSTOP) after a short burst of traffic.
do_idle() {
	local mode gpid secs=3 t0 cpu

	[ "$QUICK" = 1 ] && secs=1
	for mode in epoll poll adaptive; do
		[ "$QUICK" = 1 ] && [ "$mode" != adaptive ] && continue
		# shellcheck disable=SC2046
		start_lm 1 1 $(mode_opts "$mode")
		guest_cmd "${SOCKS[0]}" 1 64 100000000
		"${GCMD[@]}" </dev/null >"$TMP/idle.out" 2>&1 &
		gpid=$!
		PIDS+=("$gpid")
		sleep 2
		kill -STOP "$gpid"
		sleep 1
		t0=$($PROBE now)
		sleep "$secs"
		cpu=$($PROBE window "$SAMPLES" "$($PROBE now)" "$secs" relay-)
		kill -CONT "$gpid"
		stop_pid "$gpid"
		stop_lm
		printf '{"test":"idle","mode":"%s","secs":%d,"relay_cpu":%s}\n' \
			"$mode" "$secs" "$cpu" | tee -a "$RES" >&2
		: "$t0"
	done
}

# Switchover: flip relay on/off every 2 ms under 64 B traffic and parse
# the relay controller's per-switch "worst queue unavailable" lines.
# Switchover under a saturating guest (window 256: every thread of the
# host busy) and under moderate traffic (window 32).
do_switchover() {
	local mode q win pkts=3000000 sw

	[ "$QUICK" = 1 ] && pkts=20000
	for win in 256 32; do
		for mode in ${SWITCH_MODES:-epoll poll auto}; do
			for q in 1 4; do
				[ "$QUICK" = 1 ] && { [ "$mode" != auto ] ||
					[ "$q" != 1 ] || [ "$win" != 256 ]; } && continue
				start_lm 1 "$q" --relay "$mode" --relay-cycle 2
				GUEST_WINDOW=$win run_guests "$q" 64 "$pkts"
				stop_lm
				sw=$($PROBE switches "$LM_LOG")
				grep -o 'relay \(on\|off\).*unavailable [0-9]* us' \
					"$LM_LOG" >"$OUT/switch-$mode-q$q-w$win.log" || true
				printf '{"test":"switchover","mode":"%s","queues":%d,"window":%d,"ok":%d,"pps":%d,"switch":%s}\n' \
					"$mode" "$q" "$win" "$GOK" "$PPS" "$sw" | tee -a "$RES" >&2
			done
		done
	done
}

# Switchover against queue count, both figures, both directions, both
# kinds of queue control: a device of Q queue pairs (1, 4, 8, 16), every
# queue carrying 64 B traffic at moderate load (window 32 per queue
# pair), the relay switched on and off every 2 ms (--relay-cycle 2) for
# the whole run. Per device switch the controller logs the worst queue's
# unavailable time and the device total (first queue stopped to last
# running again); lm_probe.py gives p50/p99/max over all switches. The
# guest checks every frame: loss, duplicates, misrouting, corruption.
# The guest is vu-traffic (the project's front-end) when VU_TRAFFIC
# names it, for every Q; else vu_guest (virtio-user), which stops at 8
# pairs, so 16 is skipped. SWITCHSCALE_PACKETS (over all queues; default
# 4 M at 1 pair, 24 M from 4) sets the run's length: 5-15 s of traffic
# on a quiet machine, over 1,000 switches per direction and
# configuration here (the JSON gives n); SWITCHSCALE_Q and
# SWITCHSCALE_QCTL narrow the matrix.
do_switchscale() {
	local q qctl pkts guest=vu_guest quick_q=4

	# --quick: one size, 16 pairs for the guest that alone drives it.
	[ -n "${VU_TRAFFIC:-}" ] && guest=vu-traffic && quick_q=16
	for qctl in ${SWITCHSCALE_QCTL:-queue device}; do
		for q in ${SWITCHSCALE_Q:-1 4 8 16}; do
			[ "$QUICK" = 1 ] && [ "$q" != "$quick_q" ] && continue
			if [ "$guest" = vu_guest ] && [ "$q" -gt 8 ]; then
				log "switchscale: $q pairs need VU_TRAFFIC (virtio-user stops at 8)"
				continue
			fi
			case $q in
			1) pkts=4000000 ;;
			*) pkts=24000000 ;;
			esac
			pkts=${SWITCHSCALE_PACKETS:-$pkts}
			[ "$QUICK" = 1 ] && pkts=20000
			switch_run switchscale 1 "$q" "$qctl" "$pkts" "$guest" \
				"switchscale-$qctl-q$q"
		done
	done
}

# switch_run TEST NDEV Q QCTL PACKETS GUEST NAME: NDEV devices of Q
# pairs in one vdpa-lm, one guest each (window 32 per pair, PACKETS
# each), the relay cycled on all of them every 2 ms (one control thread:
# device 0, 1, ... in turn); one JSON line per device to results.jsonl
# (TEST switchscale: the one device's line, no "device" key), its
# switch lines in OUT/NAME[.dI].log, the batch's phases in NAME.phases.
switch_run() {
	local test=$1 ndev=$2 q=$3 qctl=$4 pkts=$5 guest=$6 name=$7 i sw gline
	local dev f

	start_lm_dev "$ndev" "$q" "$qctl" --relay epoll --relay-cycle 2
	GUEST_FE=${VU_TRAFFIC:-} GUEST_WINDOW=32 run_guests "$q" 64 "$pkts"
	stop_lm
	# The batch's phases (lib/relay), where the time goes; to the relay
	# the line names the device, back to direct it does not (devices
	# in cycle order).
	grep -o 'queues switched to .*as a batch.*' "$LM_LOG" \
		>"$OUT/$name.phases" || true
	for ((i = 0; i < ndev; i++)); do
		dev=ifcvf_sw$i
		f=$OUT/$name
		[ "$ndev" -gt 1 ] && f=$f.d$i
		sw=$($PROBE switches "$LM_LOG" "$dev")
		gline=$(grep '^{"result"' "$TMP/g.$i.out" | tail -1 || echo '{}')
		grep -o "$dev: relay \(on\|off\).*device total [0-9]* us" \
			"$LM_LOG" >"$f.log" || true
		python3 - "$test" "$ndev" "$i" "$qctl" "$q" "$GOK" "$PPS" "$sw" \
			"$gline" "$guest" <<'PY' | tee -a "$RES" >&2
import json, sys
test, ndev, dev, qctl, q, ok, pps, sw, g, guest = sys.argv[1:]
g = json.loads(g)
r = {"test": test, "queue_control": qctl, "queues": int(q), "window": 32,
     "guest": guest, "ok": int(ok), "pps": int(pps),
     "switch": json.loads(sw),
     "traffic": {k: g.get(k) for k in
                 ("result", "sent", "received", "lost", "dup", "corrupt",
                  "misrouted")}}
if test != "switchscale":
    # pps: every guest's sum; guest_pps: this device's own guest.
    r.update({"devices": int(ndev), "device": int(dev),
              "guest_pps": int(g.get("pps", 0))})
print(json.dumps(r))
PY
	done
	[ "$ndev" -gt 1 ] || return 0
	# Every device's switch of one cycle, back to back: their totals'
	# sum (what the last device of the cycle waited for, in all).
	python3 - "$ndev" "$q" "$qctl" "$($PROBE cycles "$LM_LOG" "$ndev")" \
		<<'PY' | tee -a "$RES" >&2
import json, sys
ndev, q, qctl, c = sys.argv[1:]
print(json.dumps({"test": "switchdevs-cycle", "devices": int(ndev),
                  "queues": int(q), "queue_control": qctl,
                  "cycle": json.loads(c)}))
PY
}

# Switchover with several devices (issue #18): NDEV devices of Q pairs
# served by one vdpa-lm (one relay thread, one device thread, one
# control thread, all on CPU 0), each with its own guest on CPU 1 (64 B,
# window 32 per pair), the relay cycled on every device every 2 ms;
# per device both figures, both directions, and its guest's traffic
# check. One control thread switches the devices one after another, so
# a device switches while the others' queues run (direct or relayed, on
# the same relay thread); "switchdevs-cycle" rows sum one cycle's
# device totals. SWITCHDEVS: NDEVxQ configurations (default 1x4 2x4
# 4x4 1x8 2x8: the one-device rows are the baseline for interference);
# SWITCHDEVS_PACKETS: frames per configuration, split over its guests
# (default 16 M); SWITCHSCALE_QCTL: queue control(s). VU_TRAFFIC: as
# switchscale. Not in --quick runs' defaults (bench-quick).
do_switchdevs() {
	local cfg n q qctl pkts guest=vu_guest

	[ -n "${VU_TRAFFIC:-}" ] && guest=vu-traffic
	for qctl in ${SWITCHSCALE_QCTL:-queue}; do
		for cfg in ${SWITCHDEVS:-1x4 2x4 4x4 1x8 2x8}; do
			n=${cfg%x*}
			q=${cfg#*x}
			pkts=${SWITCHDEVS_PACKETS:-16000000}
			[ "$QUICK" = 1 ] && pkts=$((20000 * n))
			switch_run switchdevs "$n" "$q" "$qctl" \
				$((pkts / n)) "$guest" "switchdevs-$qctl-${n}x$q"
		done
	done
}

# Throughput over time across switchovers: 1.5 s direct, 1.5 s relay...
do_timeline() {
	local secs=9 sock

	[ "$QUICK" = 1 ] && secs=2
	start_lm 1 1 --relay auto --relay-cycle 1500
	sock=$RUNDIR/$LM_PREFIX/dpdk_telemetry.v2
	$PROBE timeline "$sock" ifcvf_sw0 0.1 "$secs" >"$OUT/timeline.dat" &
	PIDS+=("$!")
	# Enough frames to keep direct I/O (the fastest mode) busy for the
	# whole window: the plot is about the switches, not the end of a run.
	run_guests 1 64 $((200000 * (secs + 3) * 12))
	wait "${PIDS[-1]}" || true
	stop_lm
	printf '{"test":"timeline","samples":%d}\n' \
		"$(wc -l <"$OUT/timeline.dat")" | tee -a "$RES" >&2
}

do_scale() {
	local q n mode pk

	local sm
	read -ra sm <<<"${SCALE_MODES:-direct epoll poll adaptive}"
	for mode in "${sm[@]}"; do
		[ "$QUICK" = 1 ] && [ "$mode" != adaptive ] && continue
		for q in 1 4 8; do
			[ "$QUICK" = 1 ] && continue
			one_run scale-queues 1 "$q" 64 "$mode" \
				"$(packets_for 64 3)" 0
		done
		# 16 queue pairs on one relay thread: virtio-user ports stop at
		# 8 pairs, so two devices of 8.
		[ "$QUICK" = 1 ] || one_run scale-queues 2 8 64 "$mode" \
			$(($(packets_for 64 3) / 2)) 0
		for n in 1 4 8; do
			[ "$QUICK" = 1 ] && [ "$n" != 4 ] && continue
			pk=$(packets_for 64 3)
			one_run scale-devices "$n" 1 64 "$mode" \
				$((pk / n)) 0
		done
	done
}

# Where the relay thread's time goes (not in the default WHAT): perf's
# cpu-clock samples of the relay-* thread for 1.5 s of 64 B traffic, 1
# queue pair, per mode of PROFILE_MODES (MODE-before: LM_BEFORE's
# build). DIR/profile-MODE.txt: the top symbols; results.jsonl: the
# share of samples in the kernel and in lib/relay's ring code.
do_profile() {
	local mode tid gp f pm

	command -v perf >/dev/null || { log "no perf: no profile"; return 0; }
	read -ra pm <<<"${PROFILE_MODES:-epoll adaptive}"
	for mode in "${pm[@]}"; do
		if [ "${mode%-before}" != "$mode" ]; then
			[ -n "${LM_BEFORE:-}" ] || continue
			# shellcheck disable=SC2046
			LM=$LM_BEFORE start_lm 1 1 $(mode_opts "${mode%-before}")
		else
			# shellcheck disable=SC2046
			start_lm 1 1 $(mode_opts "$mode")
		fi
		guest_cmd "${SOCKS[0]}" 1 64 "$(packets_for 64 6)"
		"${GCMD[@]}" </dev/null >"$TMP/prof.out" 2>&1 &
		gp=$!
		PIDS+=("$gp")
		tid=""
		for _ in $(seq 100); do
			sleep 0.05
			for f in /proc/"$LM_PID"/task/*/comm; do
				[[ $(cat "$f" 2>/dev/null) == relay-* ]] &&
					tid=$(basename "$(dirname "$f")")
			done
			[ -n "$tid" ] && break
		done
		sleep 0.5
		f=$TMP/perf.$mode.data
		[ -n "$tid" ] && perf record -q -e cpu-clock -F 4000 -t "$tid" \
			-o "$f" -- sleep 1.5 >/dev/null 2>&1 || true
		wait "$gp" || true
		stop_lm
		[ -s "$f" ] || { log "profile $mode: no samples"; continue; }
		perf report -i "$f" --stdio --no-children --sort dso,symbol \
			2>/dev/null | grep -v '^#' | grep -v '^$' | sed -n '1,40p' \
			>"$OUT/profile-$mode.txt"
		python3 - "$OUT/profile-$mode.txt" "$mode" <<'PY' | tee -a "$RES" >&2
import json, re, sys
kern = ring = tot = 0.0
for line in open(sys.argv[1]):
    m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(\S+)", line)
    if not m:
        continue
    pct, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4)
    tot += pct
    if kind == "k":
        kern += pct
    elif "vdpa_relay" in dso and not sym.startswith("engine_"):
        ring += pct
print(json.dumps({"test": "profile", "mode": sys.argv[2],
                  "kernel_pct": round(kern, 1), "ring_code_pct": round(ring, 1),
                  "top_pct_listed": round(tot, 1)}))
PY
	done
}

for w in "${WHAT[@]}"; do
	log "== $w"
	"do_$w"
done
python3 "$BENCH_DIR/summarize.py" "$RES" >"$OUT/summary.json"
cat "$OUT/summary.json"
