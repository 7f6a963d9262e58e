#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The vdpa-relay authors
#
# postcopy_probe.sh GUEST_DIR
#
# Standalone probe for issue 17 (not run by the suite): QEMU post-copy
# of the e2e guest (GUEST_DIR/vmlinuz, GUEST_DIR/initrd.gz, see
# build-guest.sh) whose NIC is a vhost-user backend offering post-copy
# (testpmd's net_vhost with postcopy-support=1 by default) on source and
# destination; reports whether post-copy completes.
#
# With PROBE_TRACE=1 three tracefs instances record the destination:
# the removals of pages of the guest memfd (filemap tracepoint filtered
# to its inode, kernel stacks); the memory syscalls of its QEMU and
# backend; every page the backend puts on an LRU (kernel stacks). A new
# page of a shmem file is not reported by filemap's add tracepoint
# (shmem inserts it itself), but every new page goes through an LRU.
# For the page whose placement failed (QEMU prints its address) it then
# prints its removal when the destination exits, which names its
# physical page, and the backend's insertion of that physical page.
#
# Environment:
#   PROBE_QEMU      QEMU binary (default qemu-system-x86_64)
#   PROBE_BACKEND   testpmd (default); vdpa-lm (PROBE_VDPA_LM: its
#                   binary, run with --postcopy); or none: the
#                   same guest with no vhost-user NIC (the control)
#   PROBE_TRACE     1: trace the destination (needs tracefs)
#   PROBE_MLOCK     0: testpmd with --no-mlockall (default: testpmd's
#                   own default, mlockall(MCL_CURRENT | MCL_FUTURE))
#   PROBE_PRECOPY   seconds of pre-copy before migrate-start-postcopy
#                   (default 1; pre-copy runs at 4 MB/s)
#   PROBE_OUT       directory for the logs (default: a new one in TMPDIR);
#                   kept
#
# Needs root. Takes the CPU for a while: run it under
# `flock /tmp/vdpa-heavy.lock`. Everything it starts (processes, EAL
# runtime dirs, tracefs instances) is removed on exit.
set -euo pipefail

GUEST=$(realpath "${1:?usage: postcopy_probe.sh GUEST_DIR}")
SRC=$(dirname "$(realpath "$0")")
QEMU=${PROBE_QEMU:-qemu-system-x86_64}
BACKEND=${PROBE_BACKEND:-testpmd}
TRACE=${PROBE_TRACE:-0}
MLOCK=${PROBE_MLOCK:-1}
VDPA_LM=${PROBE_VDPA_LM:-}
PRECOPY=${PROBE_PRECOPY:-1}
OUT=${PROBE_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/postcopy-probe.XXXXXX")}
RAM_KB=262136	# as the e2e suite (lib.sh explains the odd size)
ID=$$
TRACEFS=/sys/kernel/tracing
TR_PAGES=$TRACEFS/instances/pcprobe-pages-$ID
TR_CALLS=$TRACEFS/instances/pcprobe-calls-$ID
TR_BACK=$TRACEFS/instances/pcprobe-back-$ID
PYTHON=/usr/bin/python3

# shellcheck source=tests/lib/proc.sh
. "$SRC/../lib/proc.sh"

PIDS=()
PREFIXES=()
declare -A QPID=() BPID=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S.%N | cut -c1-12)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

cleanup() {
	local rc=$? i p

	trap - EXIT INT TERM
	set +e
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		kill -0 "${PIDS[$i]}" 2>/dev/null && proc_stop "${PIDS[$i]}" 5
	done
	for p in "$TR_PAGES" "$TR_CALLS" "$TR_BACK"; do
		[ -d "$p" ] || continue
		echo 0 >"$p/tracing_on"
		echo 0 >"$p/events/enable"
		echo >"$p/set_event_pid"
		rmdir "$p"
	done
	for p in "${PREFIXES[@]}"; do
		rm -rf "/var/run/dpdk/$p"
	done
	rm -f "$OUT"/*.sock "$OUT"/*.qmp
	log "logs in $OUT"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

spawn() {
	proc_spawn PIDS "$@"
}

qmp() {
	local name=$1

	shift
	"$PYTHON" "$SRC/qmp.py" "$OUT/qemu-$name.qmp" "$@"
}

# backend_start HOST: the backend of HOST. testpmd: a postcopy-capable
# net_vhost port, io forwarding on the port alone (no network needed:
# the failure is in the memory, not in the traffic). vdpa-lm: one
# ifcvf_sw device in loopback. Vhost-user config messages at debug
# level, so that the message sequence is in the log.
backend_start() {
	local h=$1 prefix=pcprobe$ID$1 opt=()
	local eal=(--no-huge -m 256 --no-pci --no-telemetry
		   --file-prefix "$prefix" --log-level=lib.vhost.config:debug)

	PREFIXES+=("$prefix")
	rm -f "$OUT/vhost-$h.sock"
	if [ "$BACKEND" = vdpa-lm ]; then
		spawn "$OUT/backend-$h.log" "$VDPA_LM" "${eal[@]}" -l 0 \
			--log-level=lib.relay:info \
			--log-level=pmd.vdpa.ifcvf_sw:info -- --postcopy \
			--socket "$OUT/vhost-$h.sock" --stats-period 5
	else
		[ "$MLOCK" = 0 ] && opt=(--no-mlockall)
		spawn "$OUT/backend-$h.log" dpdk-testpmd "${eal[@]}" -l 0,1 \
			--vdev "net_vhost0,iface=$OUT/vhost-$h.sock,queues=1,postcopy-support=1" \
			-- --forward-mode=io --auto-start --stats-period 5 \
			--nb-cores=1 --txd=256 --rxd=256 --total-num-mbufs=8192 \
			"${opt[@]}"
	fi
	BPID[$h]=$PROC_LAST_PID
	proc_wait_for 30 test -S "$OUT/vhost-$h.sock" ||
		{ cat "$OUT/backend-$h.log" >&2; die "$BACKEND $h: no socket"; }
}

# qemu_start NAME HOST [incoming]: as e2e_qemu_start in lib.sh.
qemu_start() {
	local name=$1 h=$2 extra=()

	[ -n "${3:-}" ] && extra=(-incoming "unix:$OUT/migrate.sock")
	if [ "$BACKEND" != none ]; then
		# shellcheck disable=SC2054 # commas inside QEMU options
		extra+=(-chardev "socket,id=vu,path=$OUT/vhost-$h.sock"
			-netdev vhost-user,id=n0,chardev=vu
			-device "virtio-net-pci,id=nic0,netdev=n0,vectors=0,mac=52:54:00:99:00:10,romfile=")
	fi
	spawn "$OUT/qemu-$name.log" "$QEMU" -name "pcprobe-$name" \
		-accel tcg,tb-size=64 \
		-machine pc,memory-backend=mem -m "${RAM_KB}K" -smp 1 \
		-object "memory-backend-memfd,id=mem,size=${RAM_KB}K,share=on" \
		-kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1" \
		-nodefaults -display none -no-reboot -monitor none \
		-serial "file:$OUT/qemu-$name.console" \
		-qmp "unix:$OUT/qemu-$name.qmp,server=on,wait=off" "${extra[@]}"
	QPID[$name]=$PROC_LAST_PID
	proc_wait_for 20 test -S "$OUT/qemu-$name.qmp" ||
		{ cat "$OUT/qemu-$name.log" >&2; die "qemu $name did not start"; }
	qmp "$name" migrate-set-capabilities \
		'{"capabilities": [{"capability": "postcopy-ram", "state": true}]}' \
		>/dev/null || die "qemu $name refuses postcopy-ram"
}

# The inode of QEMU's guest memfd ("/memfd:mem").
memfd_inode() {
	local f

	for f in /proc/"$1"/fd/*; do
		case "$(readlink "$f")" in
		/memfd:mem*) stat -L -c %i "$f"; return 0 ;;
		esac
	done
	return 1
}

# All threads of the processes given.
tids() {
	local p

	for p in "$@"; do
		ls "/proc/$p/task"
	done
}

# trace_start INODE QEMU_PID [BACKEND_PID]: three tracefs instances.
# "pages": removals (and filemap-reported insertions) of the memfd's
# pages, any task, with kernel stacks. "calls": memory syscalls of the
# destination's QEMU and backend threads (and of their new threads).
# "back": every page the backend puts on an LRU, with kernel stacks.
trace_start() {
	local ino=$1 ev

	shift
	mkdir "$TR_PAGES" "$TR_CALLS"
	for ev in mm_filemap_add_to_page_cache mm_filemap_delete_from_page_cache; do
		echo "i_ino == $ino" >"$TR_PAGES/events/filemap/$ev/filter"
		echo 'stacktrace' >"$TR_PAGES/events/filemap/$ev/trigger"
		echo 1 >"$TR_PAGES/events/filemap/$ev/enable"
	done
	echo 32768 >"$TR_PAGES/buffer_size_kb"
	tids "$@" | tr '\n' ' ' >"$TR_CALLS/set_event_pid"
	echo 1 >"$TR_CALLS/options/event-fork"
	for ev in mmap munmap madvise fallocate get_mempolicy mbind ioctl \
		  userfaultfd mlock mlockall; do
		echo 1 >"$TR_CALLS/events/syscalls/sys_enter_$ev/enable"
		echo 1 >"$TR_CALLS/events/syscalls/sys_exit_$ev/enable"
	done
	echo 32768 >"$TR_CALLS/buffer_size_kb"
	if [ -n "${2:-}" ]; then
		mkdir "$TR_BACK"
		tids "$2" | tr '\n' ' ' >"$TR_BACK/set_event_pid"
		echo 1 >"$TR_BACK/options/event-fork"
		echo 'stacktrace' >"$TR_BACK/events/pagemap/mm_lru_insertion/trigger"
		echo 1 >"$TR_BACK/events/pagemap/mm_lru_insertion/enable"
		echo 32768 >"$TR_BACK/buffer_size_kb"
	fi
	for ev in "$TR_PAGES" "$TR_CALLS" "$TR_BACK"; do
		[ -d "$ev" ] || continue
		echo mono >"$ev/trace_clock"
		echo 1 >"$ev/tracing_on"
	done
}

trace_stop() {
	local t

	for t in pages calls back; do
		[ -d "$TRACEFS/instances/pcprobe-$t-$ID" ] || continue
		echo 0 >"$TRACEFS/instances/pcprobe-$t-$ID/tracing_on"
		cat "$TRACEFS/instances/pcprobe-$t-$ID/trace" >"$OUT/trace-$t.txt"
	done
}

# trace_records FILE PATTERN: the records of FILE that contain PATTERN,
# each with its stack.
trace_records() {
	awk -v pat="$2" '
	     /^ *=> / { if (keep) print; next }
	     /<stack trace>/ { if (keep) print; next }
	     { keep = index($0, pat) > 0; if (keep) print }' "$1"
}

# page_report OFFSET: what the traces say about the memfd page at
# OFFSET: its removals (the last one, when the destination went away,
# names the physical page that held it), then the backend's LRU
# insertion of that physical page, and the backend's mmap()s of the
# memfd around it.
page_report() {
	local ofs=$1 pfn

	echo "--- memfd offset $ofs: removals from the page cache"
	trace_records "$OUT/trace-pages.txt" "ofs=$ofs "
	pfn=$(grep "ofs=$ofs " "$OUT/trace-pages.txt" | tail -1 |
		sed -n 's/.* pfn=\(0x[0-9a-f]*\) .*/\1/p')
	[ -n "$pfn" ] && [ -f "$OUT/trace-back.txt" ] || return 0
	echo "--- the backend's LRU insertions of pfn $pfn"
	trace_records "$OUT/trace-back.txt" "pfn=$pfn "
	echo "--- the backend's insertions: $(grep -c 'mm_lru_insertion:' "$OUT/trace-back.txt")" \
		"pages, by $(grep 'mm_lru_insertion:' "$OUT/trace-back.txt" |
			awk '{print $1}' | sed 's/-[0-9]*$//' | sort | uniq -c |
			tr -s ' ' | tr '\n' ',')"
	echo "--- QEMU's first UFFDIO ioctl that failed with EEXIST"
	grep -m1 -B1 'sys_ioctl -> 0xffffffffffffffef' "$OUT/trace-calls.txt"
	echo "--- the backend's memory syscalls and UFFDIO_REGISTERs, QEMU's" \
		"discards (punch hole) and UFFDIO_REGISTERs"
	grep -E 'vhost-events.*sys_(mmap|munmap|get_mempolicy|userfaultfd|madvise)|sys_ioctl\(fd: [0-9a-fx]*, cmd: 0xc020aa00|sys_fallocate' \
		"$OUT/trace-calls.txt" | head -40
}

# The memfd offset of host address $2 in QEMU $1's mapping of the
# memfd, from its maps saved in $OUT/maps-$1.txt.
memfd_offset() {
	"$PYTHON" - "$OUT/maps-$1.txt" "$2" <<'EOF'
import sys
addr = int(sys.argv[2], 16)
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 6 or not f[5].startswith("/memfd:mem"):
        continue
    lo, hi = (int(x, 16) for x in f[0].split("-"))
    if lo <= addr < hi:
        print(addr - lo + int(f[2], 16))
        break
EOF
}

# Migration status of QEMU $1 (empty when it is gone).
mig_status() {
	qmp "$1" query-migrate 2>/dev/null |
		sed -n 's/.*"status": "\([a-z-]*\)".*/\1/p' || true
}

main() {
	local st_src st_dst err host ofs ino run

	[ "$(id -u)" -eq 0 ] || die "needs root"
	[ -f "$GUEST/vmlinuz" ] || die "no guest in $GUEST"
	mkdir -p "$OUT"
	log "QEMU: $("$QEMU" --version | head -1); backend: $BACKEND; out: $OUT"
	case "$BACKEND" in
	testpmd|none) ;;
	vdpa-lm) [ -x "$VDPA_LM" ] || die "PROBE_VDPA_LM: no vdpa-lm binary" ;;
	*) die "PROBE_BACKEND: testpmd, vdpa-lm or none" ;;
	esac
	if [ "$BACKEND" != none ]; then
		backend_start A
		backend_start B
	fi
	qemu_start src A
	proc_wait_for 120 grep -q E2E-READY "$OUT/qemu-src.console" ||
		die "guest did not boot"
	log "guest up"
	qemu_start dst B incoming
	proc_wait_for 10 test -S "$OUT/migrate.sock" || die "no incoming socket"
	cp "/proc/${QPID[dst]}/maps" "$OUT/maps-dst.txt"
	if [ "$TRACE" = 1 ]; then
		ino=$(memfd_inode "${QPID[dst]}") || die "no memfd in dst QEMU"
		trace_start "$ino" "${QPID[dst]}" ${BPID[B]:+"${BPID[B]}"}
		log "tracing memfd inode $ino (dst QEMU ${QPID[dst]}, backend ${BPID[B]:-none})"
	fi
	# Slow pre-copy, so that post-copy starts while most pages are
	# still on the source (post-copy itself runs unlimited).
	qmp src migrate-set-parameters '{"max-bandwidth": 4194304}' >/dev/null
	qmp src migrate "{\"uri\": \"unix:$OUT/migrate.sock\"}" >/dev/null
	sleep "$PRECOPY"
	qmp src migrate-start-postcopy >/dev/null ||
		log "migrate-start-postcopy refused (migration already over?)"
	# Post-copy ends in completed, or the destination pauses.
	for _ in $(seq 600); do
		st_src=$(mig_status src)
		st_dst=$(mig_status dst)
		case "$st_src/$st_dst" in
		completed/completed|*failed*|*paused*|*cancelled*) break ;;
		esac
		sleep 0.1
	done
	sleep 1
	cp "/proc/${QPID[dst]}/maps" "$OUT/maps-dst.txt" 2>/dev/null || true
	qmp src query-migrate >"$OUT/migrate-src.json" 2>&1 || true
	qmp dst query-migrate >"$OUT/migrate-dst.json" 2>&1 || true
	run=$(qmp dst query-status 2>/dev/null |
		sed -n 's/.*"status": "\([a-z-]*\)".*/\1/p' || true)
	if [ "$TRACE" = 1 ]; then
		# The destination goes away while the trace runs: the
		# removals of the memfd's pages name their physical pages.
		proc_stop "${QPID[dst]}" 5 || true
		[ -n "${BPID[B]:-}" ] && { proc_stop "${BPID[B]}" 5 || true; }
		sleep 0.5
		trace_stop
	fi
	echo "postcopy: qemu=$("$QEMU" --version | head -1 | awk '{print $4}')" \
		"backend=$BACKEND$([ "$BACKEND" = testpmd ] && echo " mlockall=$MLOCK")" \
		"src=${st_src:-no-answer}" \
		"dst=${st_dst:-no-answer} dst-runstate=${run:-no-answer}" \
		"postcopy-requests=$(sed -n 's/.*"postcopy-requests": \([0-9]*\).*/\1/p' "$OUT/migrate-src.json")"
	err=$(grep -m1 -E 'error|failed|File exists' "$OUT/qemu-dst.log" || true)
	[ -n "$err" ] && echo "dst error: $err"
	# QEMU 7.2: "... host: 0x...", 10.0: "uffd_*() failed: addr=0x..."
	host=$(grep -o -m1 -E '(host: |addr=)0x[0-9a-f]+' "$OUT/qemu-dst.log" |
		head -1 | grep -o '0x.*' || true)
	[ -n "$host" ] || return 0
	ofs=$(memfd_offset dst "$host")
	echo "failing page: host $host = memfd offset ${ofs:-?}"
	if [ "$TRACE" = 1 ] && [ -n "$ofs" ]; then
		page_report "$ofs"
	fi
}

main
