#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Markdown tables for doc/performance.md from the benchmark outputs.

  tables.py LM_OUT_DIR [CYCLE.json ...]

LM_OUT_DIR: bench_lm.sh --out (results.jsonl); CYCLE.json:
bench_relay_cycle.sh outputs, each labelled by its file name.
"""
import json
import os
import statistics
import sys


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def fmt_pps(p):
    if p is None:
        return "-"
    return "%.2f M" % (p / 1e6) if p >= 1e6 else "%.0f k" % (p / 1e3)


def fmt(v, f="%.0f"):
    return "-" if v is None else f % v


def throughput(rows):
    tp = [r for r in rows if r["test"] == "throughput"]
    if not tp:
        return
    modes = []
    for r in tp:
        if r["mode"] not in modes:
            modes.append(r["mode"])
    order = ["direct", "epoll-before", "poll-before", "adaptive-before",
             "epoll", "poll", "adaptive", "net_vhost"]
    modes = [m for m in order if m in modes] + \
        [m for m in modes if m not in order]
    print("| queues | size | mode | pps | /direct | relay CPU | relay ns/pkt"
          " | device ns/pkt | process ns/pkt |")
    print("|---|---|---|---|---|---|---|---|---|")
    for q, size in sorted({(r["queues"], r["size"]) for r in tp}):
        sel = [r for r in tp if r["queues"] == q and r["size"] == size]
        direct = {r["rep"]: r["pps"] for r in sel if r["mode"] == "direct"}
        for m in modes:
            s = [r for r in sel if r["mode"] == m]
            if not s:
                continue
            ratio = med([r["pps"] / direct[r["rep"]] for r in s
                         if direct.get(r["rep"])])
            print("| %d | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                q, size, m, fmt_pps(med([r["pps"] for r in s])),
                fmt(ratio, "%.2f"),
                fmt(med([r["relay_cpu"] * 100 for r in s]), "%.0f %%"),
                fmt(med([r.get("relay_ns_pkt") for r in s]), "%.0f"),
                fmt(med([r.get("hw_ns_pkt") for r in s]), "%.0f"),
                fmt(med([r.get("proc_ns_pkt") for r in s]), "%.0f")))
    print()


def paired(rows):
    pr = [r for r in rows if r["test"] == "paired"]
    if not pr:
        return
    print("| queues | size | engine | pairs: all / fast / slow |"
          " relay/direct: all / fast / slow | direct, relay pps |"
          " relay ns/pkt: all / fast | device ns/pkt relayed (direct),"
          " fast | process ns/pkt relayed, fast |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in pr:
        print("| %d | %d | %s | %d / %d / %d | %s / %s / %s | %s, %s |"
              " %s / %s | %s (%s) | %s |" % (
                  r["queues"], r["size"], r["mode"], r["pairs"],
                  r["pairs_fast"], r["pairs_slow"], fmt(r["ratio"], "%.2f"),
                  fmt(r["ratio_fast"] or None, "%.2f"),
                  fmt(r["ratio_slow"] or None, "%.2f"),
                  fmt_pps(r["direct_pps"]), fmt_pps(r["relay_pps"]),
                  fmt(r["relay_ns_pkt"]), fmt(r["relay_ns_pkt_fast"] or None),
                  fmt(r["hw_ns_pkt_fast"] or None),
                  fmt(r["direct_hw_ns_pkt_fast"] or None),
                  fmt(r["proc_ns_pkt_fast"] or None)))
    print()


def scale(rows):
    sc = [r for r in rows if r["test"].startswith("scale")]
    if not sc:
        return
    print("| test | devices x pairs | mode | pps | relay CPU | relay ns/pkt"
          " | device ns/pkt |")
    print("|---|---|---|---|---|---|---|")
    for r in sc:
        print("| %s | %d x %d | %s | %s | %.0f %% | %.0f | %.0f |" % (
            r["test"], r["devices"], r["queues"], r["mode"],
            fmt_pps(r["pps"]), r["relay_cpu"] * 100,
            r.get("relay_ns_pkt", 0), r.get("hw_ns_pkt", 0)))
    print()


def other(rows):
    for r in rows:
        if r["test"] == "idle":
            print("idle %s: relay CPU %.1f %%" % (r["mode"],
                                                 r["relay_cpu"] * 100))
    sw = [r for r in rows if r["test"] == "switchover"]
    if sw:
        print()
        print("| engine | queues | window | kpps | switches | to relay"
              " p50/p99/max (us) | to direct p50/p99/max (us) |")
        print("|---|---|---|---|---|---|---|")
        for r in sw:
            a, b = r["switch"]["to_relay"], r["switch"]["to_direct"]
            print("| %s | %d | %d | %.0f | %d | %d / %d / %d | %d / %d / %d |"
                  % (r["mode"], r["queues"], r["window"], r["pps"] / 1e3,
                     a["n"] + b["n"], a["p50_us"], a["p99_us"], a["max_us"],
                     b["p50_us"], b["p99_us"], b["max_us"]))
    for r in rows:
        if r["test"] == "profile":
            print("profile %s: kernel %.0f %%, ring code %.0f %%" % (
                r["mode"], r["kernel_pct"], r["ring_code_pct"]))
    print()


def cycle(files):
    if not files:
        return
    print("| build | format | peers | ns/pkt | Mpps/core | Ir/pkt |"
          " doorbells+calls/pkt |")
    print("|---|---|---|---|---|---|---|")
    for f in files:
        lab = os.path.basename(f).rsplit(".", 1)[0]
        for r in json.load(open(f))["results"]:
            print("| %s | %s | %s | %.1f | %.1f | %s | %.3f |" % (
                lab, r["format"], r["peers"], r["ns_per_pkt"],
                r["mpps_per_core"], r.get("ir_per_pkt", "-"),
                r["doorbells_per_pkt"] + r["calls_per_pkt"]))
    print()


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    rows = [json.loads(line) for line in
            open(os.path.join(sys.argv[1], "results.jsonl")) if line.strip()]
    throughput(rows)
    paired(rows)
    scale(rows)
    other(rows)
    cycle(sys.argv[2:])


if __name__ == "__main__":
    main()
