#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Summarise bench_lm.sh results.jsonl into one JSON object (stdout)."""
import json
import statistics
import sys


MODES = ("direct", "epoll", "poll", "adaptive", "net_vhost")


def med(v):
    return statistics.median(v) if v else 0


def throughput(rows):
    out = []
    keys = sorted({(r["queues"], r["size"]) for r in rows})
    for q, size in keys:
        sel = [r for r in rows if r["queues"] == q and r["size"] == size]
        ent = {"queues": q, "size": size}
        direct = {r["rep"]: r["pps"] for r in sel if r["mode"] == "direct"}
        modes = list(MODES) + sorted({r["mode"] for r in sel} - set(MODES))
        for mode in modes:
            m = [r for r in sel if r["mode"] == mode]
            if not m:
                continue
            # ratio to direct I/O of the same repetition
            ratios = [r["pps"] / direct[r["rep"]] for r in m
                      if direct.get(r["rep"])]
            ent[mode] = {"pps": med([r["pps"] for r in m]),
                         "ratio": round(med(ratios), 3),
                         "relay_cpu": round(med([r["relay_cpu"] for r in m]), 3),
                         "hw_cpu": round(med([r["hw_cpu"] for r in m]), 3),
                         "proc_cpu": round(med([r.get("proc_cpu", 0)
                                                for r in m]), 3),
                         # CPU ns per guest packet (TX and RX), medians
                         "relay_ns_pkt": round(med([r.get("relay_ns_pkt", 0)
                                                    for r in m]), 1),
                         "hw_ns_pkt": round(med([r.get("hw_ns_pkt", 0)
                                                 for r in m]), 1),
                         "proc_ns_pkt": round(med([r.get("proc_ns_pkt", 0)
                                                   for r in m]), 1),
                         "ok": all(r["ok"] for r in m)}
        out.append(ent)
    return out


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    by = {}
    for r in rows:
        by.setdefault(r["test"], []).append(r)
    res = {"throughput": throughput(by.get("throughput", [])),
           "idle": by.get("idle", []),
           "switchover": by.get("switchover", []),
           "switchscale": by.get("switchscale", []),
           # several devices: per device rows, and per cycle sums
           "switchdevs": by.get("switchdevs", []),
           "switchdevs_cycle": by.get("switchdevs-cycle", []),
           "scale": by.get("scale-queues", []) + by.get("scale-devices", []),
           "timeline": by.get("timeline", []),
           # relay against direct I/O within one run (do_paired)
           "paired": by.get("paired", []),
           "profile": by.get("profile", [])}
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
