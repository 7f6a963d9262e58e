#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Two ifcvf_sw devices of different queue-control kinds migrate at the
# same time in one vdpa-lm, sharing one relay engine (issue #12):
#
#   ifcvf_sw0  queue_control=queue   queues stop one at a time
#   ifcvf_sw1  queue_control=device  the VF stops as a whole, like IFCVF
#
# One vu-migrate per device (2 queue pairs, dirty logging, traffic
# running; --cancel-first: direct -> relay -> direct -> relay -> stop;
# --reconnect: the destination is a new session on the same device)
# runs concurrently with the other. Checked:
#   - each migration: 0 mismatched pages, no lost or corrupt frame;
#   - while both devices relay, the process has exactly one thread
#     named relay-epoll (the engine is shared across kinds);
#   - telemetry: every queue of both devices switched to the relay;
#     ifcvf_sw1 was stopped as a whole (its stops parked more queues
#     than there were stops), no register write was refused and no
#     queue ran on the guest's rings while the frontend logged
#     (unlogged_starts == 0); ifcvf_sw0 was never stopped as a whole;
#   - no queue broke, no DMA fault.
#
# Usage: test_mixed_qctl.sh VDPA_LM VU_MIGRATE
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$HERE/../integration/lib.sh"

LM=$1
MIGRATE=$2
TEL_PY=$HERE/../robustness/telemetry.py
DEVS=(ifcvf_sw0 ifcvf_sw1)
PACKETS=${MIXED_PACKETS:-60000}
# Two migrations at once on two shared cores: a stall limit for a hang,
# not the 3 s that suits one migration on an idle host.
STALL_MS=${MIXED_STALL_MS:-20000}

start_lm() {
	local common=queues=2,loopback=1,relay=auto,relay_mode=epoll

	it_file_prefix mixed
	lm_spawn IT_PIDS "$IT_TMP/lm.log" "$LM" "$IT_FILE_PREFIX" \
		--vdev "ifcvf_sw0,$common,queue_control=queue" \
		--vdev "ifcvf_sw1,$common,queue_control=device" -- \
		--socket "$IT_TMP/sw0.sock" --device ifcvf_sw0 \
		--socket "$IT_TMP/sw1.sock" --device ifcvf_sw1 \
		--stats-period 0
	TEL=$(it_runtime_dir)/$IT_FILE_PREFIX/dpdk_telemetry.v2
	wait_for_socket "$IT_TMP/sw0.sock" 20 "$LM_PID"
	wait_for_socket "$IT_TMP/sw1.sock" 20 "$LM_PID"
	wait_for_socket "$TEL" 20 "$LM_PID"
}

# tel DEVICE: the device's /vdpa_relay/stats (lib/relay: queues) and
# /ifcvf_sw/hw (the VF: queue control) merged into one JSON object.
tel() {
	python3 - "$TEL_PY" "$TEL" "$1" <<'PY'
import json, subprocess, sys
tel_py, sock, dev = sys.argv[1:]
out = {}
for cmd in ("/vdpa_relay/stats", "/ifcvf_sw/hw"):
    r = subprocess.run([sys.executable, tel_py, sock, cmd + "," + dev],
                       capture_output=True, text=True, check=True)
    out.update(json.loads(r.stdout)[cmd])
print(json.dumps({"/vdpa_relay/stats": out}))
PY
}

# watch_engine PID...: while any PID lives, sample both devices' state
# and the engine threads on one telemetry connection; a sample counts
# only if both devices relay before and after the thread count. Prints
# "SAMPLES BAD".
watch_engine() {
	python3 - "$TEL" "$LM_PID" "$@" <<'PY'
import glob, json, os, socket, sys, time
sys.path.insert(0, os.environ["ROB_DIR"])
from telemetry import alive, query

tel, lm, pids = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(tel)
s.recv(4096)

def relaying():
    return all(json.loads(query(s, "/vdpa_relay/stats," + d))
               ["/vdpa_relay/stats"]["state"] == "relay"
               for d in ("ifcvf_sw0", "ifcvf_sw1"))

def engines():
    n = 0
    for f in glob.glob("/proc/%s/task/*/comm" % lm):
        try:
            n += open(f).read().strip() == "relay-epoll"
        except OSError:
            pass
    return n

samples = bad = 0
while any(alive(p) for p in pids):
    if relaying():
        n = engines()
        if relaying():
            samples += 1
            if n != 1:
                bad += 1
                print("both relay, %d relay-epoll threads" % n,
                      file=sys.stderr)
    time.sleep(0.002)
print(samples, bad)
PY
}

# check_migration DEVICE: its vu-migrate passed with 0 mismatches.
check_migration() {
	local dev=$1 rc=$2 out=$IT_TMP/$1.out last

	last=$(tail -1 "$out")
	grep -E "round|final|migration:" "$out" | sed "s/^/[$dev] /" || true
	echo "[$dev] $last"
	if [ "$rc" -ne 0 ]; then
		check_fail "$dev-migration" "vu-migrate exit status $rc"
	elif ! grep -q " mismatches=0 " <<<"$last"; then
		check_fail "$dev-migration" "mismatched pages"
	else
		check_pass "$dev-migration"
	fi
}

# check_telemetry DEVICE KIND: queue switches and queue-control counters.
check_telemetry() {
	local dev=$1 kind=$2 verdict

	verdict=$(tel "$dev" | python3 -c 'import json, sys
d = json.load(sys.stdin)["/vdpa_relay/stats"]
kind = sys.argv[1]
bad = []
for q in ("q0", "q1", "q2", "q3"):
    if d.get(q, {}).get("switch_to_relay", 0) == 0:
        bad.append(q + " never switched to the relay")
if d["hw_control"] != kind:
    bad.append("hw_control=" + d["hw_control"])
# As a whole: the stops parked more queues than there were stops.
if kind == "device" and d["dev_parked"] <= d["dev_stops"]:
    bad.append("never stopped as a whole (%d stops parked %d queues)" %
               (d["dev_stops"], d["dev_parked"]))
if kind == "queue" and d["dev_stops"] != 0:
    bad.append("per-queue device stopped as a whole")
for k in ("regs_refused", "unlogged_starts"):
    if d[k] != 0:
        bad.append("%s=%d" % (k, d[k]))
print("; ".join(bad) if bad else "ok dev_stops=%d dev_parked=%d "
      "dev_starts=%d" % (d["dev_stops"], d["dev_parked"], d["dev_starts"]))' \
	"$kind")
	if [ "${verdict%% *}" = ok ]; then
		check_pass "$dev-telemetry" "$kind control, ${verdict#ok }"
	else
		check_fail "$dev-telemetry" "$verdict"
	fi
}

start_lm
MIG=()
for i in 0 1; do
	"$MIGRATE" --socket "$IT_TMP/sw$i.sock" --reconnect --queues 2 \
		--cancel-first --mrg on --packets "$PACKETS" \
		--timeout-ms "$STALL_MS" >"$IT_TMP/${DEVS[$i]}.out" 2>&1 &
	IT_PIDS+=("$!")
	MIG+=("$!")
done
read -r SAMPLES BAD_SAMPLES < <(ROB_DIR=$HERE/../robustness \
	watch_engine "${MIG[@]}")
RC=()
for i in 0 1; do
	RC[i]=0
	wait "${MIG[$i]}" || RC[i]=$?
	it_forget_pid "${MIG[$i]}"
done
check_migration ifcvf_sw0 "${RC[0]}"
check_migration ifcvf_sw1 "${RC[1]}"
if [ "$SAMPLES" -eq 0 ]; then
	check_fail shared-engine "never saw both devices relay at once"
elif [ "$BAD_SAMPLES" -ne 0 ]; then
	check_fail shared-engine "$BAD_SAMPLES of $SAMPLES samples"
else
	check_pass shared-engine "one relay-epoll thread in $SAMPLES samples"
fi
check_telemetry ifcvf_sw0 queue
check_telemetry ifcvf_sw1 device
if grep -q "broken\|DMA fault\|malformed\|refused" "$IT_TMP/lm.log"; then
	check_fail lm-log "device or relay reported an error:"
	grep "broken\|DMA fault\|malformed\|refused" "$IT_TMP/lm.log" | head -5
fi
kill -0 "$LM_PID" 2>/dev/null || check_fail lm-alive "vdpa-lm exited"
check_finish
