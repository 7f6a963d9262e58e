#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The relay's whole per-packet cycle in one thread (bench_relay_cycle.c):
# ns per packet (timed run) and instructions per packet (callgrind,
# collection toggled on the engine's pass function only), for split and
# packed rings, with quiet peers (the busy steady state) and with peers
# that ask for every notification.
#
# Usage: bench_relay_cycle.sh [--quick] [--no-callgrind] BENCH_RELAY_CYCLE
#                             [OUT.json] [-- BENCH OPTIONS...]
set -euo pipefail

# shellcheck source=tests/bench/bench_opts.sh
. "$(dirname "$0")/bench_opts.sh"
bench_opts "$0 [--quick] [--no-callgrind] BENCH [OUT.json] [-- OPTS]" "$@"
set -- "${BENCH_ARGS[@]}"
BIN=$1
OUTF=${2:-/dev/stdout}
shift $(($# >= 2 ? 2 : 1))
[ "${1:-}" = -- ] && shift
EXTRA=("$@")
TMP=$(mktemp -d /tmp/bench-cycle.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

SCEN=("" "--notify" "--packed" "--packed --notify")
i=0
for s in "${SCEN[@]}"; do
	# shellcheck disable=SC2086
	"$BIN" --json "${QUICK[@]}" $s "${EXTRA[@]}" >"$TMP/t.$i.json"
	if [ "$CG" = 1 ]; then
		# shellcheck disable=SC2086
		valgrind --tool=callgrind \
			--toggle-collect=vrelay_engine_pass_queues \
			--callgrind-out-file="$TMP/cg.$i" \
			"$BIN" --json --rounds 100 --blocks 3 $s "${EXTRA[@]}" \
			>"$TMP/cg.$i.json" 2>"$TMP/cg.$i.err" ||
			{ tail "$TMP/cg.$i.err" >&2; exit 1; }
	fi
	i=$((i + 1))
done

python3 - "$TMP" "$i" >"$OUTF" <<'PY'
import json, os, re, sys
tmp, n = sys.argv[1], int(sys.argv[2])
res = []
for i in range(n):
    r = json.load(open(os.path.join(tmp, "t.%d.json" % i)))
    cg = os.path.join(tmp, "cg.%d" % i)
    if os.path.exists(cg):
        c = json.load(open(cg + ".json"))
        t = re.search(r"^totals: (\d+)", open(cg, errors="replace").read(),
                      re.M)
        # collection covers the warm-up rounds too
        pk = c["packets"] + c["warmup_packets"]
        if t and pk:
            r["ir_per_pkt"] = round(int(t.group(1)) / pk, 1)
    res.append(r)
print(json.dumps({"bench": "relay_cycle", "results": res}))
PY
