# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The vdpa-relay authors
# shellcheck shell=bash
#
# Helpers for the real-QEMU e2e suite. Source from a `set -euo pipefail`
# bash script. Installs an EXIT/INT/TERM trap that always tears down what
# it set up: processes, network namespaces (and with them the veths,
# bridges and taps inside), sockets, EAL runtime dirs.
#
# Topology (one run; NN = the test's PID so runs never collide):
#
#   vrN$NN:  brN (10.99.0.1/24) -- vAn --+-- vBn      "the outside network":
#                                        |            udp_send and ping run here
#   vrA$NN:  brA -- vA (veth) , vrtapA (tap of the backend on host A)
#   vrB$NN:  brB -- vB (veth) , vrtapB (tap of the backend on host B)
#
# QEMU runs in the root namespace and reaches a backend through its
# vhost-user unix socket, so "migrating from A to B" means moving the guest
# from one tap+bridge to the other: the outside bridge brN must relearn the
# guest's MAC, which is what the guest's announcement does.

E2E_ID=$$
E2E_NS_N=vrN$E2E_ID
E2E_GUEST_MAC=52:54:00:99:00:10
E2E_GUEST_IP=10.99.0.10
E2E_OUTSIDE_IP=10.99.0.1
# Guest RAM: 256 MiB less 8 KiB (QEMU rounds -m to 8 KiB), on purpose.
# QEMU 7.2 syncs the dirty bitmap of a RAM block whose size is a multiple
# of 64 pages through a fast path that does not reset the TCG TLB: guest
# stores through a TLB entry made writable before the sync are never
# marked dirty again and reach the destination stale, which crashed
# guests after migration with every backend (fixed upstream by QEMU
# commit 03bfc2188f, "physmem: Fix migration dirty bitmap coherency with
# TCG memory access", March 2024). Any other size takes the per-page
# path, which resets the TLB.
# doc/performance.md has the evidence.
E2E_GUEST_RAM_KB=${E2E_GUEST_RAM_KB:-262136}
# Virtqueue format of the guest's NIC and of the vdpa-lm devices: split
# or packed (packed=on on the NIC, ifcvf_sw devarg packed=1). DPDK's
# net_vhost takes either.
E2E_RING=${E2E_RING:-split}
# The QEMU to run (VDPA_E2E_QEMU: e.g. build/qemu10/qemu-system-x86_64,
# scripts/qemu10.sh), and the NIC's MSI-X vectors: 0 by default, since
# QEMU 7.2 under TCG crashes on vhost-user virtio-net with MSI-X.
E2E_QEMU=${VDPA_E2E_QEMU:-qemu-system-x86_64}
E2E_NIC_VECTORS=${E2E_NIC_VECTORS:-0}
E2E_GUEST_RAM_BYTES=$((E2E_GUEST_RAM_KB << 10))
E2E_TMP=$(mktemp -d /tmp/vdpa-e2e.XXXXXX)
E2E_PIDS=()
declare -A E2E_NS=([A]=vrA$E2E_ID [B]=vrB$E2E_ID)
declare -A E2E_BACKEND_PID=() E2E_BACKEND_KIND=() E2E_BACKEND_LOG=()
declare -A E2E_QEMU_PID=()
E2E_BACKEND_SEQ=0
E2E_PREFIXES=()
E2E_FAILED=0

e2e_log() { printf '[%s] %s\n' "$(date +%H:%M:%S.%N | cut -c1-12)" "$*" >&2; }
e2e_die() { e2e_log "FATAL: $*"; E2E_FAILED=1; exit 1; }

e2e_ns() { ip netns exec "$1" "${@:2}"; }

# TERM, then KILL after a grace period, then reap.
# shellcheck source=tests/lib/proc.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/proc.sh"

e2e_stop_pid() {
	proc_stop "$1" 5 || true
}

e2e_cleanup() {
	local rc=$? pid p ns i

	trap - EXIT INT TERM
	set +e
	# Newest first: frontends (QEMU) go before their backends.
	for ((i = ${#E2E_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${E2E_PIDS[$i]}
		kill -0 "$pid" 2>/dev/null && e2e_stop_pid "$pid"
	done
	for ns in "${E2E_NS[@]}" "$E2E_NS_N"; do
		ip netns del "$ns" 2>/dev/null
	done
	for p in "${E2E_PREFIXES[@]}"; do
		rm -rf "/var/run/dpdk/$p"
	done
	if [ $rc -ne 0 ] || [ "$E2E_FAILED" -ne 0 ] ||
	   [ -n "${E2E_KEEP_LOGS:-}" ]; then
		e2e_log "$([ $rc -ne 0 ] || [ "$E2E_FAILED" -ne 0 ] &&
			echo "failed (rc $rc); ")logs kept in ${E2E_LOGDIR:-$E2E_TMP}"
		[ -n "${E2E_LOGDIR:-}" ] && mkdir -p "$E2E_LOGDIR" &&
			cp -r "$E2E_TMP"/*.log "$E2E_TMP"/*.console "$E2E_TMP"/ramdiff-* \
				"$E2E_LOGDIR"/ 2>/dev/null
	fi
	rm -rf "$E2E_TMP"
	exit $rc
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

# e2e_spawn LOG CMD...: start in the background, remember the pid.
e2e_spawn() {
	proc_spawn E2E_PIDS "$@"
	E2E_LAST_PID=$PROC_LAST_PID
}

# e2e_wait_for SECS CMD...: poll CMD every 0.1 s until it succeeds.
e2e_wait_for() {
	proc_wait_for "$@"
}

e2e_topology_up() {
	local h ns

	ip netns add "$E2E_NS_N"
	e2e_ns "$E2E_NS_N" ip link set lo up
	e2e_ns "$E2E_NS_N" ip link add brN type bridge
	e2e_ns "$E2E_NS_N" ip addr add "$E2E_OUTSIDE_IP/24" dev brN
	e2e_ns "$E2E_NS_N" ip link set brN up
	for h in A B; do
		ns=${E2E_NS[$h]}
		ip netns add "$ns"
		e2e_ns "$ns" ip link set lo up
		e2e_ns "$ns" ip link add "br$h" type bridge
		e2e_ns "$ns" ip link set "br$h" up
		# Created straight inside the namespaces: no root-ns names.
		ip link add "v$h" netns "$ns" type veth \
			peer name "v${h}n" netns "$E2E_NS_N"
		e2e_ns "$ns" ip link set "v$h" master "br$h" up
		e2e_ns "$E2E_NS_N" ip link set "v${h}n" master brN up
	done
}

# e2e_eal_args HOST [telemetry]: EAL arguments for one DPDK process in
# E2E_EAL: no hugepages, no PCI, an own file prefix (remembered here,
# not in a subshell, so the trap can remove its runtime dir), telemetry
# off unless asked for (vdpa-lm's, which vdpa-lm-compat reads).
e2e_eal_args() {
	local prefix tel=(--no-telemetry)

	prefix=$(e2e_prefix "$1")
	[ "${2:-}" = telemetry ] && tel=()
	E2E_PREFIXES+=("$prefix")
	E2E_EAL=(--no-huge -m 256 --no-pci "${tel[@]}" --file-prefix "$prefix")
}

# e2e_prefix HOST: the EAL file prefix of host HOST's backend.
e2e_prefix() {
	echo "e2e${E2E_ID}$1"
}

# e2e_vdpa_device [vdpa-lm options...]: vdpa-lm's options for the
# ifcvf_sw device of E2E_RING (--packed for a packed one). Sets
# E2E_VDPA_OPTS.
e2e_vdpa_device() {
	E2E_VDPA_OPTS=("$@")
	[ "$E2E_RING" = packed ] && E2E_VDPA_OPTS+=(--packed)
	return 0
}

# e2e_backend_start HOST vdpa|vhost [vdpa-lm options...]: start the
# backend of host HOST (A or B) serving $E2E_TMP/vhost-HOST.sock and
# bridge its tap with the host's veth.
e2e_backend_start() {
	local h=$1 kind=$2 ns=${E2E_NS[$1]} sock=$E2E_TMP/vhost-$1.sock
	local log

	# Numbered: every backend of a run keeps its own log.
	E2E_BACKEND_SEQ=$((E2E_BACKEND_SEQ + 1))
	log=$E2E_TMP/backend-$E2E_BACKEND_SEQ-$1-$kind.log

	shift 2
	rm -f "$sock"
	if [ "$kind" = vdpa ]; then
		e2e_eal_args "$h" telemetry
		e2e_vdpa_device "$@"
		# E2E_VDPA_EAL: more EAL arguments for every vdpa-lm, e.g.
		# --log-level=lib.relay:debug (word-split).
		# shellcheck disable=SC2086
		e2e_spawn "$log" ip netns exec "$ns" "$E2E_VDPA_LM" \
			"${E2E_EAL[@]}" -l 0 \
			${E2E_VDPA_EAL:-} \
			--vdev "net_tap0,iface=vrtap$h" -- \
			--socket "$sock" --uplink net_tap0 --stats-period 1 \
			"${E2E_VDPA_OPTS[@]}"
	else
		# io forwarding between the vhost port and the tap; the
		# forwarding lcore busy-polls, so keep it to CPU 1.
		e2e_eal_args "$h"
		e2e_spawn "$log" ip netns exec "$ns" dpdk-testpmd \
			"${E2E_EAL[@]}" -l 0,1 \
			--vdev "net_vhost0,iface=$sock,queues=1" \
			--vdev "net_tap0,iface=vrtap$h" -- \
			--forward-mode=io --auto-start --stats-period 5 \
			--nb-cores=1 --txd=256 --rxd=256 --total-num-mbufs=8192
	fi
	E2E_BACKEND_PID[$h]=$E2E_LAST_PID
	E2E_BACKEND_KIND[$h]=$kind
	E2E_BACKEND_LOG[$h]=$log
	e2e_wait_for 30 test -S "$sock" ||
		{ cat "$log" >&2; e2e_die "backend $kind on $h: no socket"; }
	e2e_wait_for 10 e2e_ns "$ns" ip link show "vrtap$h" >/dev/null ||
		e2e_die "backend $kind on $h: no tap"
	e2e_ns "$ns" ip link set "vrtap$h" master "br$h" up
	e2e_log "host $h: $kind backend up (pid $E2E_LAST_PID)"
}

e2e_backend_stop() {
	local h=$1

	[ -n "${E2E_BACKEND_PID[$h]:-}" ] || return 0
	e2e_stop_pid "${E2E_BACKEND_PID[$h]}"
	unset "E2E_BACKEND_PID[$h]"
}

e2e_backend_log() {
	echo "${E2E_BACKEND_LOG[$1]}"
}

# Last status line of host H's vdpa-lm.
e2e_vdpa_status() {
	grep '^ifcvf_sw0:' "$(e2e_backend_log "$1")" | tail -1
}

e2e_qmp() {
	local name=$1

	shift
	"$E2E_PYTHON" "$E2E_SRC/qmp.py" "$E2E_TMP/qemu-$name.qmp" "$@"
}

# e2e_qemu_start NAME HOST [incoming]: a QEMU whose NIC is host HOST's
# backend. TCG only (KVM hangs on these machines); memfd shared memory
# for vhost-user; vectors=$E2E_NIC_VECTORS (0 unless asked: QEMU 7.2
# under TCG crashes with MSI-X on vhost-user virtio-net); romfile= because no option ROM is
# needed to boot a -kernel guest; packed=on|off after E2E_RING.
e2e_qemu_start() {
	local name=$1 h=$2 incoming=${3:-} extra=() packed=off

	[ "$E2E_RING" = packed ] && packed=on
	[ -n "$incoming" ] && extra=(-incoming "unix:$E2E_TMP/migrate.sock")
	# Paused on arrival when the caller compares guest RAM first.
	[ -n "$incoming" ] && [ -n "${E2E_RAMCMP:-}" ] && extra+=(-S)
	rm -f "$E2E_TMP/migrate.sock" "$E2E_TMP/qemu-$name.qmp"
	e2e_spawn "$E2E_TMP/qemu-$name.log" "$E2E_QEMU" \
		-name "e2e-$name" -accel tcg,tb-size=64 \
		-machine pc,memory-backend=mem -m "${E2E_GUEST_RAM_KB}K" -smp 1 \
		-object memory-backend-memfd,id=mem,size=${E2E_GUEST_RAM_KB}K,share=on \
		-kernel "$E2E_GUEST/vmlinuz" -initrd "$E2E_GUEST/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 ${E2E_KERNEL_ARGS:-}" \
		-nodefaults -display none -no-reboot -monitor none \
		-serial "file:$E2E_TMP/qemu-$name.console" \
		-chardev "socket,id=vu,path=$E2E_TMP/vhost-$h.sock" \
		-netdev vhost-user,id=n0,chardev=vu \
		-device "virtio-net-pci,id=nic0,netdev=n0,vectors=$E2E_NIC_VECTORS,packed=$packed,mac=$E2E_GUEST_MAC,romfile=${E2E_NIC_OPTS:-}" \
		-qmp "unix:$E2E_TMP/qemu-$name.qmp,server=on,wait=off" \
		"${extra[@]}"
	E2E_QEMU_PID[$name]=$E2E_LAST_PID
	e2e_wait_for 20 test -S "$E2E_TMP/qemu-$name.qmp" ||
		{ cat "$E2E_TMP/qemu-$name.log" >&2; e2e_die "qemu $name did not start"; }
	if [ -n "$incoming" ]; then
		e2e_wait_for 10 test -S "$E2E_TMP/migrate.sock" ||
			e2e_die "qemu $name does not listen for migration"
	fi
}

e2e_qemu_stop() {
	local name=$1

	[ -n "${E2E_QEMU_PID[$name]:-}" ] || return 0
	e2e_qmp "$name" quit >/dev/null 2>&1 || true
	e2e_stop_pid "${E2E_QEMU_PID[$name]}"
	unset "E2E_QEMU_PID[$name]"
}

# Wait for the guest's ready marker, then for the network to reach it.
e2e_guest_wait_ready() {
	local name=$1

	e2e_wait_for 120 grep -q E2E-READY "$E2E_TMP/qemu-$name.console" || {
		tail -20 "$E2E_TMP/qemu-$name.console" >&2
		e2e_die "guest in $name did not boot"
	}
	e2e_wait_for 30 e2e_ns "$E2E_NS_N" ping -c1 -W1 -q "$E2E_GUEST_IP" \
		>/dev/null || e2e_die "guest in $name does not answer pings"
	e2e_log "guest in $name is up"
}

# e2e_guest_ring NAME: the ring format the guest in QEMU NAME
# negotiated (packed if its driver acked VIRTIO_F_RING_PACKED, bit 34),
# as the guest itself printed it at boot.
e2e_guest_ring() {
	local f

	f=$(sed -n 's/^E2E-READY .*features=\([01]*\).*/\1/p' \
		"$E2E_TMP/qemu-$1.console" | tail -1)
	if [ ${#f} -le 34 ]; then
		echo unknown
	elif [ "${f:34:1}" = 1 ]; then
		echo packed
	else
		echo split
	fi
}

# e2e_qemu_ring NAME: the same as QEMU NAME sees it now (after a
# migration: what the destination loaded).
e2e_qemu_ring() {
	e2e_qmp "$1" x-query-virtio-status \
		'{"path": "/machine/peripheral/nic0/virtio-backend"}' |
		"$E2E_PYTHON" -c 'import json, sys
t = json.load(sys.stdin)["guest-features"]["transports"]
print("packed" if any(f.startswith("VIRTIO_F_RING_PACKED:") for f in t)
      else "split")' 2>/dev/null || echo unknown
}

# e2e_ping_gap_ms LOG START END: longest silence (ms) between two
# consecutive ping replies in a `ping -D` log, counting START and END
# (epoch seconds) as replies so that pings that never came back (or
# never started) count as silence too.
e2e_ping_gap_ms() {
	awk -v start="$2" -v end="$3" '
	     function seen(t) { if (t - last > gap) gap = t - last; last = t }
	     BEGIN { last = start }
	     /bytes from/ { seen(substr($1, 2, length($1) - 2) + 0) }
	     END { seen(end); printf "%d\n", gap * 1000 }' "$1"
}

e2e_guest_report() {
	e2e_ns "$E2E_NS_N" "$E2E_UDP_SEND" report "$E2E_GUEST_IP" "${1:-5000}"
}

# field NAME from a "k=v k=v" line
e2e_field() {
	tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"
}
