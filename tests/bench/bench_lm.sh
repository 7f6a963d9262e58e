#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Throughput, CPU per packet, idle CPU, switchover and scale of ifcvf_sw
# served by vdpa-lm in loopback, with vu_guest (DPDK virtio-user) as the
# guest; and the same guest traffic through DPDK's software vhost datapath
# (a net_vhost port in dpdk-testpmd, macswap, on CPU 0) as the baseline.
#
# Usage: bench_lm.sh [--quick] [--out DIR] VDPA_LM VU_GUEST [WHAT...]
#   WHAT: throughput idle switchover timeline scale switchscale
#   (default: all but switchscale, which is long: see do_switchscale),
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

# start_lm NDEV QUEUES LM-OPTS...: vdpa-lm with NDEV sockets; sets LM_PID,
# LM_LOG, LM_PREFIX, SOCKS, SAMPLES (per-thread CPU samples).
start_lm() {
	local ndev=$1 queues=$2 i args=()

	shift 2
	SOCKS=()
	for ((i = 0; i < ndev; i++)); do
		SOCKS+=("$TMP/socks/$SEQ.$i.sock")
		args+=(--socket "$TMP/socks/$SEQ.$i.sock")
	done
	prefix lm
	LM_PREFIX=$PREFIX
	LM_LOG=$TMP/$PREFIX.log
	# shellcheck disable=SC2086
	"$LM" -l 0 --no-huge -m 1024 --no-pci --file-prefix "$LM_PREFIX" \
		--log-level=pmd.vdpa.ifcvf_sw:info \
		--log-level=lib.relay:"${LM_RELAY_LOG:-info}" ${LM_EAL:-} \
		-- "${args[@]}" \
		--queues "$queues" --stats-period 0 --hw-cpu 0 --relay-cpu 0 \
		"$@" </dev/null >"$LM_LOG" 2>&1 &
	LM_PID=$!
	PIDS+=("$LM_PID")
	for ((i = 0; i < 200; i++)); do
		[ -S "${SOCKS[$((ndev - 1))]}" ] && break
		kill -0 "$LM_PID" 2>/dev/null || { tail "$LM_LOG" >&2; return 1; }
		sleep 0.05
	done
	SAMPLES=$TMP/$PREFIX.cpu
	$PROBE sample "$LM_PID" "$SAMPLES" 0.05 &
	PIDS+=("$!")
}

stop_lm() {
	stop_pid "$LM_PID"
	rm -f "${SOCKS[@]}"
}

# start_lm_dev QUEUES QCTL LM-OPTS...: one device ifcvf_sw0 created with
# EAL --vdev, so that its queue control (queue | device) can be chosen.
start_lm_dev() {
	local q=$1 qctl=$2

	shift 2
	LM_EAL="--vdev ifcvf_sw0,queues=$q,loopback=1,relay=auto,relay_mode=epoll,relay_cpu=0,hw_cpu=0,queue_control=$qctl" \
		start_lm 1 "$q" --device ifcvf_sw0 "$@"
}

# start_vhost NDEV QUEUES: the baseline, DPDK's software vhost datapath:
# dpdk-testpmd with one net_vhost port per socket, each forwarding to
# itself (macswap, as ifcvf_sw's loopback does), its main and forwarding
# lcores both on CPU 0. Sets the same variables as start_lm.
TESTPMD=${TESTPMD:-dpdk-testpmd}
start_vhost() {
	local ndev=$1 queues=$2 i vdevs=()

	SOCKS=()
	for ((i = 0; i < ndev; i++)); do
		SOCKS+=("$TMP/socks/$SEQ.$i.sock")
		vdevs+=(--vdev "net_vhost$i,iface=$TMP/socks/$SEQ.$i.sock,queues=$queues")
	done
	prefix vh
	LM_PREFIX=$PREFIX
	LM_LOG=$TMP/$PREFIX.log
	# stdin held open: testpmd quits at EOF of its "Press enter" read.
	[ -p "$TMP/vh.fifo" ] || mkfifo "$TMP/vh.fifo"
	exec 7<>"$TMP/vh.fifo"
	"$TESTPMD" --lcores 0@0,1@0 --no-huge -m 1024 --no-pci \
		--file-prefix "$LM_PREFIX" --log-level=error "${vdevs[@]}" -- \
		--forward-mode=macswap --port-topology=loop --nb-cores=1 \
		--rxq="$queues" --txq="$queues" --total-num-mbufs=32768 \
		<&7 >"$LM_LOG" 2>&1 &
	LM_PID=$!
	PIDS+=("$LM_PID")
	for ((i = 0; i < 200; i++)); do
		[ -S "${SOCKS[$((ndev - 1))]}" ] && break
		kill -0 "$LM_PID" 2>/dev/null || { tail "$LM_LOG" >&2; return 1; }
		sleep 0.05
	done
	SAMPLES=$TMP/$PREFIX.cpu
	$PROBE sample "$LM_PID" "$SAMPLES" 0.05 &
	PIDS+=("$!")
}

have_vhost() {
	command -v "$TESTPMD" >/dev/null
}

# guest_cmd SOCK QUEUES SIZE PACKETS: the vu_guest command line.
guest_cmd() {
	prefix g
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
# the throughput matrix (e.g. for a short sanity run); SCALE_MODES the
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
						"$(packets_for "$size" 2)" "$rep"
				done
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
# kinds of queue control: a device of Q queue pairs (1, 4, 8: a
# virtio-user guest stops at 8 pairs, so 16 active queues is the most one
# device gets here; issue #18 asks for 32), every queue carrying 64 B traffic at moderate load (window 32 per queue),
# the relay switched on and off every 2 ms (--relay-cycle 2) for the
# whole run. Per device switch the controller logs the worst queue's
# unavailable time and the device total (first queue stopped to last
# running again); lm_probe.py gives p50/p99/max over all switches. The
# guest checks every frame: loss, duplicates, misrouting, corruption.
# SWITCHSCALE_PACKETS (over all queues; default 4 M at 1 pair, 24 M at
# 4 and 8) sets the run's length: 5-15 s of traffic on a quiet machine,
# over 1,000 switches per direction and configuration here (the JSON
# gives n); SWITCHSCALE_Q and SWITCHSCALE_QCTL narrow the matrix.
do_switchscale() {
	local q qctl sw gline pkts

	for qctl in ${SWITCHSCALE_QCTL:-queue device}; do
		for q in ${SWITCHSCALE_Q:-1 4 8}; do
			[ "$QUICK" = 1 ] && [ "$q" != 4 ] && continue
			case $q in
			1) pkts=4000000 ;;
			*) pkts=24000000 ;;
			esac
			pkts=${SWITCHSCALE_PACKETS:-$pkts}
			[ "$QUICK" = 1 ] && pkts=20000
			start_lm_dev "$q" "$qctl" --relay epoll --relay-cycle 2
			GUEST_WINDOW=32 run_guests "$q" 64 "$pkts"
			stop_lm
			sw=$($PROBE switches "$LM_LOG")
			gline=$(grep '^{"result"' "$TMP/g.0.out" | tail -1 || echo '{}')
			grep -o 'relay \(on\|off\).*device total [0-9]* us' \
				"$LM_LOG" >"$OUT/switchscale-$qctl-q$q.log" || true
			# The batch's phases (lib/relay), where the time goes.
			grep -o 'queues switched to .*as a batch.*' "$LM_LOG" \
				>"$OUT/switchscale-$qctl-q$q.phases" || true
			python3 - "$qctl" "$q" "$GOK" "$PPS" "$sw" "$gline" <<'PY' | tee -a "$RES" >&2
import json, sys
qctl, q, ok, pps, sw, g = sys.argv[1:]
g = json.loads(g)
print(json.dumps({"test": "switchscale", "queue_control": qctl,
                  "queues": int(q), "window": 32, "ok": int(ok),
                  "pps": int(pps), "switch": json.loads(sw),
                  "traffic": {k: g.get(k) for k in
                              ("result", "sent", "received", "lost", "dup",
                               "corrupt", "misrouted")}}))
PY
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
