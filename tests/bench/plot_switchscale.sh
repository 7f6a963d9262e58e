#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Switchover time against queue count (issue #18), from bench_lm.sh
# switchscale runs: one-by-one (before) and batched (after), per-queue
# and whole-device queue control, both directions; p99 and p50 of the
# device total (batched, the worst queue's figure is the total), 1 to 16
# queue pairs (16 needs the vu-traffic guest: bench_lm.sh VU_TRAFFIC);
# the issue's goals (worst queue p99 <= 1 ms, total p99 <= 2 ms) drawn.
# Usage: plot_switchscale.sh BEFORE_OUTDIR AFTER_OUTDIR IMGDIR
set -euo pipefail

BEFORE=$1
AFTER=$2
IMG=$3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-plot.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$IMG"

python3 - "$BEFORE" "$AFTER" "$TMP" <<'PY'
import json, sys
before, after, tmp = sys.argv[1:4]
for tag, d in (("before", before), ("after", after)):
    rows = [json.loads(l) for l in open(d + "/results.jsonl")
            if l.strip() and json.loads(l)["test"] == "switchscale"]
    for qctl in ("queue", "device"):
        for dirn in ("to_relay", "to_direct"):
            sel = sorted((r["queues"], r["switch"][dirn]) for r in rows
                         if r["queue_control"] == qctl)
            with open("%s/%s-%s-%s.dat" % (tmp, tag, qctl, dirn), "w") as f:
                for q, s in sel:
                    f.write("%d %d %d %d %d\n" % (
                        q, s["total"]["p50_us"], s["total"]["p99_us"],
                        s["p99_us"], s["total"]["max_us"]))
PY

gnuplot <<GP
set terminal pngcairo size 1000,700 noenhanced
set output "$IMG/switchover-queues.png"
set multiplot layout 2,2 title "Switchover vs queue pairs: 64 B, window 32 per pair, relay on/off every 2 ms (before / after)"
set xlabel "queue pairs (2 queues each)"; set ylabel "us"
set logscale y; set grid; set xtics (1, 4, 8, 16); set xrange [0.5:17]
set key top left font ",8" samplen 2
do for [qctl in "queue device"] {
  do for [d in "to_relay to_direct"] {
    set title sprintf("queue_control=%s, %s", qctl, d)
    plot "$TMP/before-".qctl."-".d.".dat" using 1:3 with linespoints lw 2 lc rgb "red" title "before: device total p99", \
         "" using 1:2 with linespoints dt 2 lc rgb "red" title "before: device total p50", \
         "$TMP/after-".qctl."-".d.".dat" using 1:3 with linespoints lw 2 lc rgb "blue" title "after: device total p99", \
         "" using 1:2 with linespoints dt 2 lc rgb "blue" title "after: device total p50", \
         1000 with lines dt 3 lc rgb "black" title "goal: worst queue p99 1 ms", \
         2000 with lines dt 4 lc rgb "gray" title "goal: device total p99 2 ms"
  }
}
unset multiplot
GP
ls "$IMG/switchover-queues.png"
