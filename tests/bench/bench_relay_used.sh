#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Used-ring relay cost, ours (split, and packed) vs DPDK's
# rte_vdpa_relay_vring_used() (split only):
# ns/entry (interleaved blocks, one process), instructions/entry (one
# callgrind run per implementation, collection toggled on the relay
# function only, one dump per scenario) and pages logged per packet.
#
# Usage: bench_relay_used.sh [--quick] [--no-callgrind] BENCH_RELAY_USED [OUT.json]
set -euo pipefail

# shellcheck source=tests/bench/bench_opts.sh
. "$(dirname "$0")/bench_opts.sh"
bench_opts "$0 [--quick] [--no-callgrind] BENCH [OUT.json]" "$@"
set -- "${BENCH_ARGS[@]}"
BIN=$1
OUTF=${2:-/dev/stdout}
TMP=$(mktemp -d /tmp/bench-ru.XXXXXX)
PREFIX="bench-ru-$$"
RUNDIR=/var/run/dpdk
[ "$(id -u)" -eq 0 ] || RUNDIR=${XDG_RUNTIME_DIR:-/tmp}/dpdk

cleanup() {
	local rc=$?

	trap - EXIT INT TERM
	rm -rf "$TMP" "${RUNDIR:?}/$PREFIX"-*
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

eal() {
	echo -l 1 --no-huge -m 128 --no-pci --no-shconf --no-telemetry \
		--file-prefix "$PREFIX-$1" --log-level=error
}

# Timed run: both implementations, interleaved.
# shellcheck disable=SC2046
"$BIN" $(eal t) -- --json "${QUICK[@]}" >"$TMP/timed.json"

# Instruction counts: one implementation per process.
if [ "$CG" = 1 ]; then
	for impl in ours dpdk packed; do
		fn=vrelay_queue_relay_used
		[ "$impl" = dpdk ] && fn=rte_vdpa_relay_vring_used
		# shellcheck disable=SC2046
		valgrind --tool=callgrind --toggle-collect="$fn" \
			--callgrind-out-file="$TMP/cg.$impl" \
			"$BIN" $(eal "$impl") -- --json --impl "$impl" \
			--rounds 50 --blocks 1 >"$TMP/cg.$impl.json" \
			2>"$TMP/cg.$impl.err" || { tail "$TMP/cg.$impl.err" >&2; exit 1; }
	done
fi

python3 - "$TMP" >"$OUTF" <<'PY'
import glob, json, os, re, sys
tmp = sys.argv[1]
res = json.load(open(os.path.join(tmp, "timed.json")))
for impl in ("ours", "dpdk", "packed"):
    jf = os.path.join(tmp, "cg.%s.json" % impl)
    if not os.path.exists(jf):
        continue
    ent = {(r["pkt"], r["buf"]): r[impl]["entries"]
           for r in json.load(open(jf))["results"]}
    for f in glob.glob(os.path.join(tmp, "cg.%s.*" % impl)):
        txt = open(f, errors="replace").read()
        m = re.search(r"Client Request: pkt(\d+)-buf(\d+)", txt)
        t = re.search(r"^totals: (\d+)", txt, re.M)
        if not m or not t:
            continue
        key = (int(m.group(1)), int(m.group(2)))
        for r in res["results"]:
            if (r["pkt"], r["buf"]) == key and ent.get(key):
                r[impl]["ir_per_entry"] = round(int(t.group(1)) / ent[key], 1)
for r in res["results"]:
    o, d = r["ours"], r["dpdk"]
    r["ns_ratio"] = round(o["ns_per_entry"] / d["ns_per_entry"], 3) if d["ns_per_entry"] else None
    if "ir_per_entry" in o and "ir_per_entry" in d:
        r["ir_ratio"] = round(o["ir_per_entry"] / d["ir_per_entry"], 3)
    p = r.get("packed")
    if p and o["ns_per_entry"]:
        r["packed_split_ns_ratio"] = round(p["ns_per_entry"] / o["ns_per_entry"], 3)
print(json.dumps(res))
PY
