#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for bench_lm.sh (stdlib only).

  sample PID OUT PERIOD        per-thread CPU time (ns) of PID every PERIOD s
  window OUT T_END SECS PREFIX CPU share of threads named PREFIX* over
                               [T_END - SECS, T_END] (CLOCK_MONOTONIC);
                               PREFIX "" is the whole process
  nspp SHARE PPS               CPU ns per packet: SHARE cores at PPS
  now                          CLOCK_MONOTONIC seconds
  timeline SOCK DEV PERIOD SECS packets/s of DEV from telemetry
  switches LOG [DEV]           p50/p99/max of the switchover log lines
                               (of device DEV only)
  cycles LOG NDEV              p50/p99/max of the sum of NDEV devices'
                               consecutive device totals (one --relay-cycle
                               turn of every device), per direction
  paired SOCK PID DEV PERIOD SECS
                               every PERIOD s for SECS s, a JSON line: DEV's
                               state, switch count and frames, and the CPU
                               time of PID's relay, device and all threads
  pairs FILE SKIP              from paired's lines: each relay phase's rate
                               against the direct phases either side of it
                               (SKIP intervals dropped after each switch),
                               and CPU ns per frame, medians over phases
"""
import json
import os
import re
import socket
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def thread_ns(pid):
    """CPU time of each thread of pid, in ns, by thread id, with its
    name: schedstat's run time (ns) where the kernel has it, else
    utime+stime (clock ticks)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                s = f.read()
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    ns = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                fields = s[s.rindex(")") + 2:].split()
                ns = (int(fields[11]) + int(fields[12])) * 10**9 // HZ
        except OSError:
            continue
        out[tid] = [s[s.index("(") + 1:s.rindex(")")], ns]
    return out


def cmd_sample(pid, out, period):
    with open(out, "w") as f:
        while os.path.exists(f"/proc/{pid}"):
            try:
                t = thread_ns(pid)
            except OSError:
                break
            f.write(json.dumps({"t": time.monotonic(), "thr": t}) + "\n")
            f.flush()
            time.sleep(float(period))


def sample_at(samples, t):
    best = samples[0]
    for s in samples:
        if s["t"] <= t:
            best = s
    return best


def cmd_window(out, t_end, secs, prefix):
    """CPU share (cores) of the threads named prefix* over the window;
    an empty prefix ("") is the whole process. Per thread id, from its
    value at the window's start (0 if it started later) to the last
    sample that saw it inside the window: a thread that ends early (the
    relay engine goes when the guest leaves) still counts, less its
    last sample interval at most."""
    with open(out) as f:
        samples = [json.loads(line) for line in f if line.strip()]
    if not samples:
        print("0.0")
        return
    t1 = float(t_end)
    s0 = sample_at(samples, t1 - float(secs))
    s1 = sample_at(samples, t1)
    last = {}
    for s in samples:
        if s0["t"] <= s["t"] <= s1["t"]:
            for tid, (comm, v) in s["thr"].items():
                if comm.startswith(prefix):
                    last[tid] = v
    ns = sum(v - s0["thr"].get(tid, ["", 0])[1] for tid, v in last.items())
    dt = s1["t"] - s0["t"]
    print("%.4f" % (ns / 1e9 / dt if dt > 0 else 0.0))


def tel_query(sock, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sock)
    s.recv(4096)  # greeting
    s.send(cmd.encode())
    data = json.loads(s.recv(1 << 20).decode())
    s.close()
    return data[cmd.split(",")[0]]


def dev_packets(stats):
    return sum(v.get("packets", 0) for v in stats.values()
               if isinstance(v, dict))


def cmd_timeline(sock, dev, period, secs):
    t_start = time.monotonic()
    last = None
    while time.monotonic() - t_start < float(secs):
        try:
            st = tel_query(sock, "/vdpa_relay/stats," + dev)
        except (OSError, ValueError, KeyError):
            time.sleep(float(period))
            continue
        now = time.monotonic()
        pk = dev_packets(st)
        if last is not None and now > last[0]:
            # each frame is counted on TX and on RX by the device
            pps = (pk - last[1]) / 2 / (now - last[0])
            print("%.3f %.0f %s" % (now - t_start, pps, st.get("state")))
            sys.stdout.flush()
        last = (now, pk)
        time.sleep(float(period))


def pct(v, p):
    v = sorted(v)
    if not v:
        return 0
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


SWITCH_RX = re.compile(r"(\S+): relay (on|off).*worst queue unavailable "
                       r"(\d+) us(?:, device total (\d+) us)?")


def switch_lines(log, dev=None):
    """(direction, worst, total or None) of each switch line, in order."""
    with open(log, errors="replace") as f:
        for line in f:
            m = SWITCH_RX.search(line)
            if m and (dev is None or m.group(1) == dev):
                yield (m.group(2), int(m.group(3)),
                       None if m.group(4) is None else int(m.group(4)))


def summary(v, t):
    res = {"n": len(v), "p50_us": pct(v, 50), "p99_us": pct(v, 99),
           "max_us": max(v) if v else 0}
    if t:
        # the device total: first queue stopped to last running
        res["total"] = {"p50_us": pct(t, 50), "p99_us": pct(t, 99),
                        "max_us": max(t)}
    return res


def cmd_switches(log, dev=None):
    worst = {"on": [], "off": []}
    total = {"on": [], "off": []}
    for d, w, t in switch_lines(log, dev):
        worst[d].append(w)
        if t is not None:
            total[d].append(t)
    print(json.dumps({"to_relay": summary(worst["on"], total["on"]),
                      "to_direct": summary(worst["off"], total["off"])}))


def cmd_cycles(log, ndev):
    # One --relay-cycle turn switches every device in turn, the same
    # direction: NDEV consecutive lines of one direction are one turn.
    sums = {"on": [], "off": []}
    cur, acc, k = None, 0, 0
    for d, w, t in switch_lines(log):
        if d != cur:
            cur, acc, k = d, 0, 0
        acc += t if t is not None else w
        k += 1
        if k == ndev:
            sums[d].append(acc)
            acc, k = 0, 0
    print(json.dumps({name: {"n": len(v), "p50_us": pct(v, 50),
                             "p99_us": pct(v, 99),
                             "max_us": max(v) if v else 0}
                      for name, v in (("to_relay", sums["on"]),
                                      ("to_direct", sums["off"]))}))


def cpu_by_kind(pid):
    """CPU ns of pid's relay engine threads, device threads and all."""
    out = {"relay": 0, "hw": 0, "all": 0}
    for name, ns in thread_ns(pid).values():
        out["all"] += ns
        if name.startswith("relay-"):
            out["relay"] += ns
        elif name.startswith("ifcsw-"):
            out["hw"] += ns
    return out


def cmd_paired(sock, pid, dev, period, secs):
    t_start = time.monotonic()
    while time.monotonic() - t_start < float(secs):
        try:
            st = tel_query(sock, "/vdpa_relay/stats," + dev)
            cpu = cpu_by_kind(pid)
        except (OSError, ValueError, KeyError):
            time.sleep(float(period))
            continue
        # each frame is counted on TX and on RX by the device
        print(json.dumps({"t": time.monotonic(), "state": st.get("state"),
                          "switches": st.get("switches", 0),
                          "frames": dev_packets(st) / 2, "cpu": cpu}))
        sys.stdout.flush()
        time.sleep(float(period))


def paired_phases(samples, skip):
    """Phases of one state between switches: frames, seconds and CPU ns
    over the intervals after the first skip ones (the switch's own)."""
    phases = []
    cur, k = None, 0
    for a, b in zip(samples, samples[1:]):
        if a["switches"] != b["switches"] or a["state"] != b["state"]:
            cur = None
            continue
        if cur is None or cur["switches"] != a["switches"]:
            cur = {"state": a["state"], "switches": a["switches"],
                   "frames": 0, "secs": 0.0, "relay": 0, "hw": 0, "all": 0}
            phases.append(cur)
            k = 0
        k += 1
        if k <= skip:
            continue
        cur["frames"] += b["frames"] - a["frames"]
        cur["secs"] += b["t"] - a["t"]
        for c in ("relay", "hw", "all"):
            cur[c] += b["cpu"][c] - a["cpu"][c]
    return [p for p in phases if p["secs"] > 0 and p["frames"] > 0]


def cmd_pairs(path, skip):
    """Each relay phase against the mean of the direct phases either side.
    Stable pairs: those two direct phases within 15 % of each other (no
    change of the machine's speed across the pair). Fast pairs: stable,
    with direct at 80 % or more of the run's 90th percentile direct phase
    (the machine's fast state, where CPU 0 limits both modes); slow
    pairs: the other stable ones. Per group: the median ratio, and the
    median CPU ns per frame of its relay phases (relay thread, device
    thread, process) and of its direct phases (device thread)."""
    with open(path) as f:
        samples = [json.loads(line) for line in f if line.strip()]
    ph = paired_phases(samples, int(skip))
    rate = [p["frames"] / p["secs"] for p in ph]
    pairs = []
    for i in range(1, len(ph) - 1):
        if ph[i]["state"] != "relay" or ph[i - 1]["state"] != "direct" \
                or ph[i + 1]["state"] != "direct":
            continue
        d = (rate[i - 1] + rate[i + 1]) / 2
        pairs.append({"ratio": rate[i] / d, "direct": d, "i": i,
                      "stable": abs(rate[i - 1] - rate[i + 1]) <= 0.15 * d})
    top = pct([r for p, r in zip(ph, rate) if p["state"] == "direct"], 90)
    stable = [p for p in pairs if p["stable"]]
    groups = (("", pairs), ("_stable", stable),
              ("_fast", [p for p in stable if p["direct"] >= 0.8 * top]),
              ("_slow", [p for p in stable if p["direct"] < 0.8 * top]))
    res = {"direct_pps": round(pct([r for p, r in zip(ph, rate)
                                    if p["state"] == "direct"], 50)),
           "relay_pps": round(pct([r for p, r in zip(ph, rate)
                                   if p["state"] == "relay"], 50))}
    for name, g in groups:
        res["pairs" + name] = len(g)
        res["ratio" + name] = round(pct([p["ratio"] for p in g], 50), 3)
        for c, key in (("relay", "relay_ns_pkt"), ("hw", "hw_ns_pkt"),
                       ("all", "proc_ns_pkt")):
            res[key + name] = round(pct(
                [ph[p["i"]][c] / ph[p["i"]]["frames"] for p in g], 50), 1)
        res["direct_hw_ns_pkt" + name] = round(pct(
            [ph[j]["hw"] / ph[j]["frames"] for p in g
             for j in (p["i"] - 1, p["i"] + 1)], 50), 1)
    res["ratio_min"] = round(min((p["ratio"] for p in pairs), default=0), 3)
    res["ratio_max"] = round(max((p["ratio"] for p in pairs), default=0), 3)
    print(json.dumps(res))


def main():
    a = sys.argv[1:]
    if not a:
        print(__doc__)
        sys.exit(2)
    if a[0] == "sample":
        cmd_sample(*a[1:4])
    elif a[0] == "window":
        cmd_window(*a[1:5])
    elif a[0] == "nspp":
        pps = float(a[2])
        print("%.1f" % (float(a[1]) * 1e9 / pps if pps > 0 else 0.0))
    elif a[0] == "now":
        print("%.6f" % time.monotonic())
    elif a[0] == "timeline":
        cmd_timeline(*a[1:5])
    elif a[0] == "switches":
        cmd_switches(*a[1:3])
    elif a[0] == "paired":
        cmd_paired(*a[1:6])
    elif a[0] == "pairs":
        cmd_pairs(*a[1:3])
    elif a[0] == "cycles":
        cmd_cycles(a[1], int(a[2]))
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
