#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# PNG plots for doc/performance.md from the benchmark outputs.
# Usage: plot.sh RELAY_USED.json BENCH_LM_OUTDIR IMGDIR
# RELAY_USED.json "-" leaves the used-relay plot as it is; a paired run
# (paired-1-64-adaptive.dat in BENCH_LM_OUTDIR) adds paired.png.
set -euo pipefail

RU=$1
LMO=$2
IMG=$3
TMP=$(mktemp -d /tmp/bench-plot.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$IMG"

python3 - "$RU" "$LMO" "$TMP" <<'PY'
import json, os, sys
ru, lmo, tmp = sys.argv[1:4]
with open(tmp + "/ru.dat", "w") as f:
    for r in json.load(open(ru))["results"] if ru != "-" else []:
        f.write('"%dB/%dK" %s %s %s %s\n' % (
            r["pkt"], r["buf"] // 1024, r["ours"]["ns_per_entry"],
            r["dpdk"]["ns_per_entry"], r["ours"].get("ir_per_entry", 0),
            r["dpdk"].get("ir_per_entry", 0)))
rows = [json.loads(l) for l in open(lmo + "/results.jsonl") if l.strip()]
# Queue pairs on the relay thread: devices x pairs (16 = 2 devices x 8,
# as a virtio-user port stops at 8 pairs).
xkey = {"scale-queues": lambda r: r["devices"] * r["queues"],
        "scale-devices": lambda r: r["devices"]}
for test in ("scale-queues", "scale-devices"):
    for mode in ("direct", "epoll", "poll", "adaptive"):
        sel = sorted((xkey[test](r), r["pps"], r["relay_cpu"],
                      r.get("relay_ns_pkt", 0)) for r in rows
                     if r["test"] == test and r["mode"] == mode)
        with open("%s/%s-%s.dat" % (tmp, test, mode), "w") as f:
            for x in sel:
                f.write("%d %d %s %s\n" % x)
# CPU ns per packet, 1 queue pair, per mode: relay thread, device thread
# (net_vhost: its forwarding lcore) and the rest of the process.
import statistics
with open(tmp + "/cpu.dat", "w") as f:
    for size in (64,):
        for mode in ("epoll-before", "adaptive-before", "epoll", "poll",
                     "adaptive", "net_vhost", "direct"):
            sel = [r for r in rows if r["test"] == "throughput" and
                   r["queues"] == 1 and r["size"] == size and
                   r["mode"] == mode and "relay_ns_pkt" in r]
            if not sel:
                continue
            m = lambda k: statistics.median(r[k] for r in sel)
            rest = max(0.0, m("proc_ns_pkt") - m("relay_ns_pkt") - m("hw_ns_pkt"))
            f.write('"%s" %s %s %s\n' % (mode, m("relay_ns_pkt"),
                                          m("hw_ns_pkt"), rest))
# Paired run: frames/s of each 0.1 s sample, direct and relay apart.
pd = lmo + "/paired-1-64-adaptive.dat"
if os.path.exists(pd):
    s = [json.loads(l) for l in open(pd) if l.strip()]
    with open(tmp + "/paired.dat", "w") as f:
        for a, b in zip(s, s[1:]):
            if a["state"] != b["state"] or a["switches"] != b["switches"] \
                    or a["state"] not in ("direct", "relay"):
                continue
            rate = (b["frames"] - a["frames"]) / (b["t"] - a["t"]) / 1e6
            f.write("%.2f %.3f %.3f\n" % (a["t"] - s[0]["t"],
                    rate if a["state"] == "direct" else float("nan"),
                    rate if a["state"] == "relay" else float("nan")))
PY
awk '{ print $1, $2, ($3 == "relay" ? 1 : 0) }' "$LMO/timeline.dat" >"$TMP/tl.dat"

gnuplot <<GP
set terminal pngcairo size 900,450 noenhanced
set output "$IMG/switchover-timeline.png"
set title "64 B loopback, 1 queue pair: relay (adaptive) on and off every 1.5 s"
set xlabel "time (s)"; set ylabel "packets/s"; set y2label "relay on"
set y2range [0:4]; set y2tics ("off" 0, "on" 1)
set grid
plot "$TMP/tl.dat" using 1:2 with lines lw 2 title "throughput", \
     "" using 1:3 axes x1y2 with steps lc rgb "gray" title "relay on"

if (system("test -s $TMP/paired.dat && echo 1") eq "1") {
set output "$IMG/paired.png"
set title "64 B, 1 queue pair: direct I/O and the relay (adaptive) in turns of 300 ms, one run (0.05 s samples)"
set xlabel "time (s)"; set ylabel "M frames/s"; unset y2label; unset y2tics
set yrange [0:*]
plot "$TMP/paired.dat" using 1:2 with points pt 7 ps 0.6 title "direct I/O", \
     "" using 1:3 with points pt 5 ps 0.6 title "relay"
set yrange [*:*]
}

if (system("test -s $TMP/ru.dat && echo 1") eq "1") {
set output "$IMG/relay-used-cost.png"
set title "Used-ring relay with dirty logging, per entry (burst 32)"
unset y2label; unset y2tics
set style data histograms; set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "ns / entry"; set xlabel "packet / buffer size"
set multiplot layout 1,2
plot "$TMP/ru.dat" using 2:xtic(1) title "vdpa-relay", "" using 3 title "DPDK rte\\\\_vdpa\\\\_relay\\\\_vring\\\\_used"
set ylabel "instructions / entry (callgrind)"
set title "Instructions per entry"
plot "$TMP/ru.dat" using 4:xtic(1) title "vdpa-relay", "" using 5 title "DPDK"
unset multiplot
}

set output "$IMG/cpu-per-packet.png"
set title "CPU per 64 B packet, 1 queue pair (loopback; net_vhost: DPDK's software vhost)"
set style data histograms; set style histogram rowstacked; set boxwidth 0.7
set style fill solid 0.8 border -1
unset logscale; set xtics rotate by -30
set ylabel "CPU ns / packet (TX + RX)"; set xlabel ""
plot "$TMP/cpu.dat" using 2:xtic(1) title "relay thread", \
     "" using 3 title "device thread (net_vhost: forwarding lcore)", \
     "" using 4 title "rest of the process"
set xtics norotate autofreq; set style fill empty

set output "$IMG/scale.png"
set title ""
set style data linespoints
set multiplot layout 1,2 title "64 B loopback, one relay thread: relay CPU per packet"
set xlabel "queue pairs (16 = 2 devices x 8)"; set ylabel "relay CPU ns / packet"; set logscale x 2
set yrange [0:*]
plot for [m in "epoll poll adaptive"] "$TMP/scale-queues-".m.".dat" using 1:4 title m
set xlabel "devices on one relay thread"
plot for [m in "epoll poll adaptive"] "$TMP/scale-devices-".m.".dat" using 1:4 title m
unset multiplot
GP
ls "$IMG"
