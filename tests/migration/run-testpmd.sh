#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Positive control for vu-migrate: DPDK's own software vhost back-end
# (net_vhost in dpdk-testpmd) logs dirty pages itself, so migrating
# between two of its ports must lose nothing.
#
# usage: run-testpmd.sh VU_MIGRATE [--queues N] [vu-migrate options...]
#
# One testpmd process, two vhost-user ports (source and destination),
# each forwarding to itself (--port-topology=loop, macswap): a loopback
# device as vu-migrate expects.
set -u
bin=$1; shift
queues=1
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
	[ "${args[$i]}" = "--queues" ] && queues=${args[$((i + 1))]}
done

dir=$(mktemp -d /tmp/vu-migrate.XXXXXX)
fifo=$dir/stdin
mkfifo "$fifo"
dpdk-testpmd -l 0-1 --no-huge -m 512 --no-pci --no-shconf --no-telemetry --file-prefix vum$$ \
	--vdev "net_vhost0,iface=$dir/src.sock,queues=$queues" \
	--vdev "net_vhost1,iface=$dir/dst.sock,queues=$queues" \
	-- --forward-mode=macswap --port-topology=loop --nb-cores=1 --total-num-mbufs=16384 \
	--rxq="$queues" --txq="$queues" <"$fifo" >"$dir/testpmd.log" 2>&1 &
tpid=$!
exec 3>"$fifo"

cleanup() {
	exec 3>&-
	for _ in $(seq 50); do
		kill -0 "$tpid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$tpid" 2>/dev/null && wait "$tpid" 2>/dev/null
	rm -rf "$dir" "${XDG_RUNTIME_DIR:-/var/run}/dpdk/vum$$" "/var/run/dpdk/vum$$"
}
trap cleanup EXIT

for _ in $(seq 100); do
	[ -S "$dir/src.sock" ] && [ -S "$dir/dst.sock" ] && break
	kill -0 "$tpid" 2>/dev/null || { cat "$dir/testpmd.log"; exit 1; }
	sleep 0.1
done

"$bin" --socket "$dir/src.sock" --dest-socket "$dir/dst.sock" "$@"
rc=$?
[ $rc -ne 0 ] && [ -n "${VU_MIGRATE_LOG:-}" ] && cat "$dir/testpmd.log"
exit $rc
