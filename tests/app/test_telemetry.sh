#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The driver's /vdpa_relay/ telemetry commands, read with DPDK's own
# client (dpdk-telemetry.py) from a running vdpa-lm with a guest.
#
# usage: test_telemetry.sh VDPA_LM VU_GUEST

set -euo pipefail

VDPA_LM=${1:?usage: test_telemetry.sh VDPA_LM VU_GUEST}
VU_GUEST=${2:?usage: test_telemetry.sh VDPA_LM VU_GUEST}
# shellcheck source=tests/app/app_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/app_lib.sh"

TELEMETRY=${DPDK_TELEMETRY:-dpdk-telemetry.py}
command -v "$TELEMETRY" >/dev/null || { it_log "SKIP: no $TELEMETRY"; exit 77; }
SOCK="$IT_TMP/tel.sock"

# tel OUT CMD...: one reply (a JSON line) per command into OUT. The
# client finds the socket from the file prefix alone, the way an operator
# would use it; RUNTIME_DIRECTORY would send it elsewhere than EAL.
tel() {
	local out=$1

	shift
	printf '%s\n' "$@" | timeout 20 env -u RUNTIME_DIRECTORY \
		"$TELEMETRY" -f "$LM_PREFIX" >"$out" 2>&1 ||
		{ cat "$out" >&2; fail "$TELEMETRY failed"; }
	[ "$(grep -c '^{' "$out")" -eq $# ] ||
		{ cat "$out" >&2; fail "$TELEMETRY: expected $# replies"; }
}

# check OUT STATE: assert on the replies of tel with list, stats of
# ifcvf_sw0, stats of a missing device.
check() {
	python3 - "$1" "$2" <<'PY'
import json, sys
path, state = sys.argv[1], sys.argv[2]
lines = [json.loads(l) for l in open(path) if l.startswith("{")]
lst, st, missing = lines[0], lines[1]["/vdpa_relay/stats"], lines[2]
assert "ifcvf_sw0" in lst["/vdpa_relay/list"], lst
assert st["device"] == "ifcvf_sw0", st
assert st["state"] == state, "state %s, expected %s" % (st["state"], state)
for key in ("relay_policy", "relay_mode", "logging", "vid", "switches"):
    assert key in st, key
queues = {k: v for k, v in st.items() if k.startswith("q")}
assert len(queues) == 2, queues
for name, q in queues.items():
    assert q["packets"] > 0, "%s: no packets: %s" % (name, q)
    assert q["dma_faults"] == 0 and q["ring_errors"] == 0, q
assert missing["/vdpa_relay/stats"] is None, missing
print("state=%s q0.packets=%d q1.packets=%d" %
      (st["state"], queues["q0"]["packets"], queues["q1"]["packets"]))
PY
}

lm_start "$IT_TMP/lm.log" --socket "$SOCK" --queues 1 --stats-period 0
wait_for_socket "$SOCK" 20 "$LM_PID" || fail "vdpa-lm did not start"
guest_traffic "$SOCK" 1 20000 64,1500

tel "$IT_TMP/idle.json" /vdpa_relay/list /vdpa_relay/stats,ifcvf_sw0 \
	/vdpa_relay/stats,ifcvf_sw9
res=$(check "$IT_TMP/idle.json" idle) ||
	{ cat "$IT_TMP/idle.json" >&2; fail "telemetry after traffic"; }
pass "after traffic: $res"

# And while a guest is connected and sending.
guest_start "$IT_TMP/guest-long.log" "$SOCK" 1 --packets 1000000000 \
	--sizes 64 --timeout 60
wait_for_log "$LM_LOG" 'frontend connected' 20 || fail "guest did not connect"
sleep 0.5
tel "$IT_TMP/live.json" /vdpa_relay/list /vdpa_relay/stats,ifcvf_sw0 \
	/vdpa_relay/stats,ifcvf_sw9
res=$(check "$IT_TMP/live.json" direct) ||
	{ cat "$IT_TMP/live.json" >&2; fail "telemetry with a guest"; }
pass "with a guest: $res"
grep -q '"vid": 0' "$IT_TMP/live.json" || fail "no vid while connected"
guest_stop

kill -TERM "$LM_PID"
lm_wait_exit 10
[ "$LM_RC" -eq 0 ] || fail "vdpa-lm exit status $LM_RC"
pass "telemetry"
