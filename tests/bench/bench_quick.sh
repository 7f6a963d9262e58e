#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# bench-quick: the benchmarks still run and print well-formed JSON with
# the expected fields. No performance assertion of any kind.
#
# Usage: bench_quick.sh BENCH_RELAY_USED VDPA_LM VU_GUEST
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RU=$1
LM=$2
GUEST=$3
TMP=$(mktemp -d /tmp/bench-quick.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

bash "$BENCH_DIR/bench_relay_used.sh" --quick "$RU" "$TMP/relay_used.json"
bash "$BENCH_DIR/bench_lm.sh" --quick --out "$TMP/lm" "$LM" "$GUEST" \
	throughput idle switchover timeline scale switchscale >/dev/null

python3 - "$TMP/relay_used.json" "$TMP/lm/summary.json" <<'PY'
import json, sys
ru = json.load(open(sys.argv[1]))
assert len(ru["results"]) == 6, "relay_used: 6 scenarios"
for r in ru["results"]:
    for impl in ("ours", "dpdk"):
        assert r[impl]["entries"] > 0 and r[impl]["ns_per_entry"] > 0, r
        assert r[impl]["pages_per_pkt"] > 0, r
lm = json.load(open(sys.argv[2]))
for k in ("throughput", "idle", "switchover", "scale", "timeline"):
    assert lm[k], "bench_lm: no %s results" % k
for t in lm["throughput"]:
    for mode in ("direct", "epoll", "poll"):
        assert t[mode]["pps"] > 0, t
for s in lm["switchover"]:
    assert s["switch"]["to_relay"]["n"] > 0, s
assert lm["switchscale"], "bench_lm: no switchscale results"
for s in lm["switchscale"]:
    for d in ("to_relay", "to_direct"):
        assert s["switch"][d]["n"] > 0 and "total" in s["switch"][d], s
    assert s["traffic"]["result"] == "PASS", s
print("bench-quick: relay_used and bench_lm JSON well formed")
PY
