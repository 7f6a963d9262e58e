#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# bench-quick: the benchmarks still run and print well-formed JSON with
# the expected fields. No performance assertion of any kind.
#
# Usage: bench_quick.sh BENCH_RELAY_USED VDPA_LM VU_GUEST BENCH_RELAY_CYCLE
#        VU_TRAFFIC
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RU=$1
LM=$2
GUEST=$3
CY=$4
VU_TRAFFIC=$5
TMP=$(mktemp -d /tmp/bench-quick.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

bash "$BENCH_DIR/bench_relay_used.sh" --quick "$RU" "$TMP/relay_used.json"
bash "$BENCH_DIR/bench_relay_cycle.sh" --quick --no-callgrind "$CY" \
	"$TMP/relay_cycle.json"
bash "$BENCH_DIR/bench_lm.sh" --quick --out "$TMP/lm" "$LM" "$GUEST" \
	throughput paired idle switchover timeline scale switchscale >/dev/null
# 16 queue pairs, which only the project's front-end (vu-traffic) drives.
VU_TRAFFIC=$VU_TRAFFIC bash "$BENCH_DIR/bench_lm.sh" --quick --out "$TMP/lm16" \
	"$LM" "$GUEST" switchscale >/dev/null

python3 - "$TMP/relay_used.json" "$TMP/lm/summary.json" \
	"$TMP/relay_cycle.json" "$TMP/lm16/summary.json" <<'PY'
import json, sys
ru = json.load(open(sys.argv[1]))
cy = json.load(open(sys.argv[3]))
assert len(cy["results"]) == 4, "relay_cycle: 4 scenarios"
for r in cy["results"]:
    assert r["packets"] > 0 and r["ns_per_pkt"] > 0, r
assert len(ru["results"]) == 6, "relay_used: 6 scenarios"
for r in ru["results"]:
    for impl in ("ours", "dpdk"):
        assert r[impl]["entries"] > 0 and r[impl]["ns_per_entry"] > 0, r
        assert r[impl]["pages_per_pkt"] > 0, r
lm = json.load(open(sys.argv[2]))
for k in ("throughput", "idle", "switchover", "scale", "timeline"):
    assert lm[k], "bench_lm: no %s results" % k
for t in lm["throughput"]:
    for mode in ("direct", "epoll", "poll", "adaptive", "net_vhost"):
        if mode == "net_vhost" and mode not in t:
            continue        # no dpdk-testpmd here: bench_lm said so
        assert t[mode]["pps"] > 0, t
        for k in ("relay_ns_pkt", "hw_ns_pkt", "proc_ns_pkt"):
            assert k in t[mode], (mode, k)
for s in lm["scale"]:
    assert "relay_ns_pkt" in s and "hw_ns_pkt" in s, s
assert {p["mode"] for p in lm["paired"]} == {"epoll", "poll", "adaptive"}
for p in lm["paired"]:
    assert p["ok"] == 1 and p["pairs"] > 0 and p["ratio"] > 0, p
    for k in ("relay_ns_pkt", "hw_ns_pkt", "direct_hw_ns_pkt",
              "ratio_stable", "ratio_fast", "ratio_slow"):
        assert k in p, (p["mode"], k)
for s in lm["switchover"]:
    assert s["switch"]["to_relay"]["n"] > 0, s
assert lm["switchscale"], "bench_lm: no switchscale results"
for s in lm["switchscale"]:
    for d in ("to_relay", "to_direct"):
        assert s["switch"][d]["n"] > 0 and "total" in s["switch"][d], s
    assert s["traffic"]["result"] == "PASS", s
lm16 = json.load(open(sys.argv[4]))["switchscale"]
assert len(lm16) == 2, "bench_lm: switchscale at 16 pairs, both controls"
for s in lm16:
    assert s["queues"] == 16 and s["guest"] == "vu-traffic", s
    assert s["switch"]["to_relay"]["n"] > 0, s
    assert s["traffic"]["result"] == "PASS" and s["traffic"]["lost"] == 0, s
print("bench-quick: relay_used, relay_cycle and bench_lm JSON well formed")
PY
