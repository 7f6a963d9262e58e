#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vdpa-lm-compat against live vdpa-lm processes (their
# /vdpa_lm/migration_info telemetry) with a real virtio-user guest on
# the source, so the check runs on what the guest negotiated:
#  - compatible: vdpa-lm -> vdpa-lm, vdpa-lm -> the net_vhost description
#    (whose features are checked against a live testpmd net_vhost);
#  - each reason it is not, exit 1: a feature the guest negotiated
#    (mergeable rx buffers) not offered, fewer queue pairs, a packed ring
#    not offered, a source that cannot log, a destination that already
#    serves a guest, a different model and version, a too-small MTU;
#  - usage and I/O errors, exit 2.
#
# usage: test_compat.sh VDPA_LM VU_GUEST VDPA_LM_COMPAT NET_VHOST_JSON

set -euo pipefail

VDPA_LM=${1:?usage: test_compat.sh VDPA_LM VU_GUEST VDPA_LM_COMPAT NET_VHOST_JSON}
VU_GUEST=${2:?}
COMPAT=${3:?}
NET_VHOST=${4:?}
# shellcheck source=tests/app/app_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/app_lib.sh"

# start_lm NAME [EAL options...] -- [vdpa-lm options...]: a vdpa-lm
# (its file prefix in LM_PREFIX).
start_lm() {
	local name=$1

	shift
	it_file_prefix "$name"
	lm_spawn IT_PIDS "$IT_TMP/lm-$name.log" "$VDPA_LM" "$IT_FILE_PREFIX" \
		"$@"
}

# expect RC REGEX SRC DST: run the check, require exit status RC and an
# output line matching REGEX.
expect() {
	local want=$1 re=$2 rc=0 out

	shift 2
	out=$(python3 "$COMPAT" "$@" 2>&1) || rc=$?
	it_log "vdpa-lm-compat $*: rc=$rc: $(tr '\n' '|' <<<"$out")"
	[ "$rc" -eq "$want" ] || fail "$*: exit $rc, expected $want"
	grep -qE -- "$re" <<<"$out" || fail "$*: no line matching '$re'"
}

# Source: the guest's device (2 queue pairs), a packed one, and one
# with the relay forced off.
start_lm src --vdev ifcvf_sw1,queues=2,packed=1,loopback=1 \
	--vdev ifcvf_sw2,queues=2,relay=off,loopback=1 -- \
	--queues 2 --stats-period 0 --socket "$IT_TMP/s.sock" \
	--socket "$IT_TMP/s-packed.sock" --device ifcvf_sw1 \
	--socket "$IT_TMP/s-off.sock" --device ifcvf_sw2
SRC="tel:$LM_PREFIX"
# Destinations: like the source, with 1 queue pair, without mergeable
# rx buffers.
start_lm dst --vdev ifcvf_sw1,queues=1,loopback=1 \
	--vdev ifcvf_sw2,queues=2,mrg_rxbuf=0,loopback=1 -- \
	--queues 2 --stats-period 0 --socket "$IT_TMP/d.sock" \
	--socket "$IT_TMP/d-q1.sock" --device ifcvf_sw1 \
	--socket "$IT_TMP/d-nomrg.sock" --device ifcvf_sw2
DST="tel:$LM_PREFIX"
for s in s s-packed s-off d d-q1 d-nomrg; do
	wait_for_socket "$IT_TMP/$s.sock" 20 || fail "no socket $s"
done

expect 1 'source has no guest connected' "$SRC,ifcvf_sw0" "$DST,ifcvf_sw0"
pass "no guest on the source: nothing to check"

guest_start "$IT_TMP/guest.log" "$IT_TMP/s.sock" 2 --packets 1000000000 \
	--sizes 64 --timeout 60
wait_for_log "$IT_TMP/lm-src.log" 'frontend connected' 20 ||
	fail "guest did not connect"
python3 "$COMPAT" --show "$SRC,$IT_TMP/s.sock" >"$IT_TMP/src.json" ||
	fail "--show"
python3 - "$IT_TMP/src.json" <<'PY' || fail "source description"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["model"] == "virtio-net" and d["migration_version"] == 1, d
assert d["ring_formats"] == ["split"] and d["queue_pairs"] == 2, d
assert d["can_log"] == 1 and "guest" in d, d
g = d["guest"]
assert g["queue_pairs"] == 2, g
assert g["features"] & (1 << 15), "guest did not negotiate MRG_RXBUF"
assert g["features"] & ~d["features"] & ~(1 << 26) == 0, "negotiated > offered"
PY
pass "source describes its guest: $(tr -d '\n ' <"$IT_TMP/src.json" | cut -c1-160)"

expect 0 '^compatible$' "$SRC,ifcvf_sw0" "$DST,$IT_TMP/d.sock"
expect 0 '^compatible$' "$IT_TMP/src.json" "$DST,ifcvf_sw0"
pass "vdpa-lm -> vdpa-lm: compatible (live and from a saved description)"
expect 1 'feature VIRTIO_NET_F_MRG_RXBUF \(bit 15\) negotiated by the guest, not offered' \
	"$SRC,ifcvf_sw0" "$DST,ifcvf_sw2"
pass "destination without mergeable rx buffers: rejected"
expect 1 'queue pairs: the guest uses 2, the destination offers 1' \
	"$SRC,ifcvf_sw0" "$DST,ifcvf_sw1"
expect 1 'queue pairs: the guest uses 2, the destination offers 1' \
	"$SRC,ifcvf_sw0" "$NET_VHOST"
pass "fewer queue pairs: rejected (vdpa-lm and net_vhost destinations)"
expect 1 'destination already serves a guest' "$SRC,ifcvf_sw0" \
	"$SRC,ifcvf_sw0"
pass "busy destination: rejected"

# A saved description with another model and version, and one whose
# guest was given a 9000-byte MTU, to a destination that takes 1500.
python3 - "$IT_TMP/src.json" "$IT_TMP" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
json.dump(dict(d, model="virtio-blk", migration_version=2, guest=None),
          open(sys.argv[2] + "/other.json", "w"))
d["guest"]["mtu"] = 9000
json.dump(d, open(sys.argv[2] + "/mtu-src.json", "w"))
json.dump(dict(d, max_mtu=1500, guest=None), open(sys.argv[2] + "/mtu-dst.json", "w"))
PY
expect 1 'device model differs: source virtio-net, destination virtio-blk' \
	"$SRC,ifcvf_sw0" "$IT_TMP/other.json"
expect 1 'migration version differs: source 1, destination 2' \
	"$SRC,ifcvf_sw0" "$IT_TMP/other.json"
expect 1 'MTU: the guest was given 9000, the destination takes at most 1500' \
	"$IT_TMP/mtu-src.json" "$IT_TMP/mtu-dst.json"
pass "model, version and MTU: rejected"
guest_stop

# A guest with one queue pair: net_vhost takes it.
guest_start "$IT_TMP/guest1.log" "$IT_TMP/s.sock" 1 --packets 1000000000 \
	--sizes 64 --timeout 60
sleep 1
expect 0 '^compatible$' "$SRC,ifcvf_sw0" "$NET_VHOST"
expect 0 '^compatible$' "$SRC,ifcvf_sw0" "$DST,ifcvf_sw1"
pass "vdpa-lm -> net_vhost description: compatible"
guest_stop

# A packed guest, to a destination that offers split only.
guest_start "$IT_TMP/guest-p.log" "$IT_TMP/s-packed.sock,packed_vq=1" 1 \
	--packets 1000000000 --sizes 64 --timeout 60
sleep 1
expect 1 'ring format packed used by the guest, not offered by the destination' \
	"$SRC,ifcvf_sw1" "$DST,ifcvf_sw0"
pass "packed guest to a split-only destination: rejected"
guest_stop

# A guest on the device whose relay is off: no source.
guest_start "$IT_TMP/guest-o.log" "$IT_TMP/s-off.sock" 1 \
	--packets 1000000000 --sizes 64 --timeout 60
sleep 1
expect 1 'source cannot log dirty pages \(relay policy is off\)' \
	"$SRC,ifcvf_sw2" "$DST,ifcvf_sw0"
pass "source with the relay off: rejected"
guest_stop

# The net_vhost description says what a live testpmd net_vhost offers.
NV_SOCK=$IT_TMP/nv.sock
it_file_prefix nv
it_spawn "$IT_TMP/testpmd.log" dpdk-testpmd -l 0,1 --no-huge -m 256 \
	--no-pci --no-telemetry --file-prefix "$IT_FILE_PREFIX" \
	--vdev "net_vhost0,iface=$NV_SOCK,queues=1" -- --forward-mode=io \
	--auto-start --nb-cores=1 --total-num-mbufs=2048 --stats-period 1
wait_for_socket "$NV_SOCK" 20 "$IT_LAST_PID" || fail "testpmd did not start"
python3 "$(dirname "${BASH_SOURCE[0]}")/vu_features.py" "$NV_SOCK" \
	>"$IT_TMP/nv-live.json" || fail "cannot ask net_vhost its features"
python3 "$COMPAT" --show "$NET_VHOST" >"$IT_TMP/nv-desc.json"
python3 - "$IT_TMP/nv-live.json" "$IT_TMP/nv-desc.json" <<'PY' ||
import json, sys
live, desc = (json.load(open(p)) for p in sys.argv[1:])
assert live["features"] == desc["features"], \
    "net_vhost offers %#x, its description says %#x" % (live["features"], desc["features"])
PY
	fail "net_vhost description out of date"
pass "net_vhost description matches a live testpmd net_vhost"

# Usage and I/O errors.
expect 2 'usage' "$SRC"
expect 2 'usage' -x "$DST"
expect 2 'No such file' "$IT_TMP/none.json" "$NET_VHOST"
expect 2 'telemetry at' "tel:no-such-prefix-$$" "$NET_VHOST"
expect 2 'no description' "$SRC,ifcvf_sw9" "$NET_VHOST"
echo '{"model": "virtio-net"}' >"$IT_TMP/bad.json"
expect 2 "description has no 'migration_version'" "$IT_TMP/bad.json" \
	"$NET_VHOST"
pass "usage, I/O and description errors: exit 2"
pass "compat"
