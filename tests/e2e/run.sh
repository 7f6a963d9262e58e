#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The vdpa-relay authors
#
# run.sh VDPA_LM BUILD_ROOT UDP_SEND [UDP_CHECK]
#
# Real-QEMU live-migration suite (issue 6). Boots a small Debian guest
# under TCG, gives it a vhost-user NIC served by vdpa-lm (ifcvf_sw) on
# "host A", and migrates it between hosts A and B while a UDP stream and
# pings from the outside network run into it. Then the same migrations
# with DPDK's plain vhost backend (testpmd net_vhost) on both hosts as a
# baseline. Last, stress sets whose guest RAM is compared page by page
# after each migration: DPDK's vhost, the relay (epoll and poll
# engines), and the relay forced off (the negative control). Then the
# relay's scenarios with packed virtqueues (issue 13): A->B, B->A,
# cancel and retry, and the stress sets through the relay and with it
# off.
#
# Then vdpa-lm-compat's verdicts against real migrations (compat, issue
# 16): one it accepts, one it rejects, which QEMU must refuse as well,
# and one to DPDK's net_vhost judged by its description.
#
# "postcopy" (not run by default; e2e-qemu10 runs it, postcopy.sh):
# post-copy through the relay's prefault, and with the prefault off.
#
# E2E_SCENARIOS (default "a b c d e base neg packed compat") selects
# scenarios,
# E2E_STRESS (default "dpdk on poll off") the stress sets,
# E2E_PACKED_STRESS (default "on off") the packed ones; "pbase" (not
# run by default) is the packed DPDK baseline. Figures go to
# BUILD_ROOT/e2e-results.txt and .json; logs of a failed run (of any
# run with E2E_KEEP_LOGS=1) to BUILD_ROOT/e2e-logs/.
set -euo pipefail

E2E_VDPA_LM=$(realpath "${1:?usage: run.sh VDPA_LM BUILD_ROOT UDP_SEND [UDP_CHECK]}")
BUILD_ROOT=$(realpath "${2:?}")
E2E_UDP_SEND=$(realpath "${3:?}")
UDP_CHECK=${4:-}
E2E_SRC=$(dirname "$(realpath "$0")")
E2E_GUEST=$BUILD_ROOT/e2e-guest
E2E_LOGDIR=${E2E_RESULTS:-$BUILD_ROOT/e2e}-logs
RESULTS=${E2E_RESULTS:-$BUILD_ROOT/e2e-results}
SCENARIOS=${E2E_SCENARIOS:-a b c d e base neg packed compat}
PPS=${E2E_PPS:-2000}
# Migration of an idle 256 MB TCG guest takes 1-3 s: stream long enough
# to cover it with margin on both sides.
STREAM_SECS=${E2E_STREAM_SECS:-6}
# The announcement must redirect the network within 1 s of the guest
# resuming: the ping gap may exceed QEMU's downtime by at most this.
MAX_ANNOUNCE_MS=${E2E_MAX_ANNOUNCE_MS:-1000}

skip() { echo "e2e: SKIP: $*" >&2; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v "${VDPA_E2E_QEMU:-qemu-system-x86_64}" >/dev/null ||
	skip "${VDPA_E2E_QEMU:-qemu-system-x86_64} is not installed (scripts/setup.sh e2e)"
for t in ping busybox cpio depmod dpdk-testpmd; do
	command -v "$t" >/dev/null || { echo "e2e: missing $t" >&2; exit 1; }
done
E2E_PYTHON=$(command -v /usr/bin/python3 || command -v python3)

# shellcheck source=tests/e2e/lib.sh
. "$E2E_SRC/lib.sh"
# shellcheck source=tests/e2e/postcopy.sh
. "$E2E_SRC/postcopy.sh"

CUR=""		# name of the QEMU that runs the guest now
CUR_HOST=""	# host (A|B) whose backend serves it
QSEQ=0
STREAM=0
FAILS=()
rm -f "$RESULTS.txt" "$RESULTS.json" "$RESULTS.jsonl"
rm -rf "$E2E_LOGDIR"

# check WHAT CMD...: an assertion. With STRICT=0 (the DPDK baseline,
# whose behaviour is not ours to assert, and known issues that must not
# fail the suite) a failure is only a warning.
STRICT=1
WARNS=()
check() {
	local what=$1

	shift
	if "$@"; then
		e2e_log "  ok: $what"
	elif [ "$STRICT" -eq 0 ]; then
		e2e_log "  WARN: $what"
		WARNS+=("$SCEN: $what")
	else
		e2e_log "  FAIL: $what"
		FAILS+=("$SCEN: $what")
	fi
}

# record scenario=LABEL KEY=VALUE...: one results row (with the ring).
record() {
	set -- "$1" "ring=$E2E_RING" "${@:2}"
	echo "$*" | tee -a "$RESULTS.txt"
	"$E2E_PYTHON" -c 'import json, sys
d = dict(kv.split("=", 1) for kv in sys.argv[1:])
print(json.dumps(d))' "$@" >>"$RESULTS.jsonl"
}

boot_guest() {
	local h=$1

	QSEQ=$((QSEQ + 1))
	CUR=q$QSEQ
	CUR_HOST=$h
	e2e_qemu_start "$CUR" "$h"
	e2e_guest_wait_ready "$CUR"
	# So that a packed set cannot pass on split rings.
	SCEN=boot-$CUR check "guest negotiated the $E2E_RING ring" \
		[ "$(e2e_guest_ring "$CUR")" = "$E2E_RING" ]
}

shutdown_guest() {
	[ -n "$CUR" ] && e2e_qemu_stop "$CUR"
	CUR=""
}

# Start the outside traffic: a UDP stream and 100 Hz pings.
traffic_start() {
	STREAM=$((STREAM + 1))
	PING_START=$(date +%s.%N)
	e2e_spawn "$E2E_TMP/ping-$STREAM.log" ip netns exec "$E2E_NS_N" \
		ping -D -i 0.01 -W 1 "$E2E_GUEST_IP"
	PING_PID=$E2E_LAST_PID
	e2e_spawn "$E2E_TMP/udp-$STREAM.log" ip netns exec "$E2E_NS_N" \
		"$E2E_UDP_SEND" send "$E2E_GUEST_IP" "$PPS" "$1" "$STREAM"
	UDP_PID=$E2E_LAST_PID
}

# Wait for the stream's end, stop the pings, read the guest's counters.
traffic_stop() {
	wait "$UDP_PID" || true
	sleep 0.5	# let the tail of the stream drain into the guest
	kill -INT "$PING_PID" 2>/dev/null || true
	wait "$PING_PID" 2>/dev/null || true
	PING_GAP=$(e2e_ping_gap_ms "$E2E_TMP/ping-$STREAM.log" \
		"$PING_START" "$(date +%s.%N)")
	REPORT=$(e2e_guest_report 5000) || REPORT=""
	e2e_log "  guest: ${REPORT:-no report}; ping gap ${PING_GAP} ms"
}

# migrate TO_HOST [cancel]: migrate the running guest to TO_HOST's
# backend under traffic; with "cancel", cancel it mid-way instead.
# Sets MIG (query-migrate's last answer), MIG_STATUS, DOWNTIME. With
# E2E_RETURN_PATH set, both QEMUs get the return-path capability: the
# source then learns that the destination failed to load and resumes
# the guest (without it, the source reports "completed" and stops).
migrate() {
	local to=$1 mode=${2:-} dst q

	QSEQ=$((QSEQ + 1))
	dst=q$QSEQ
	e2e_qemu_start "$dst" "$to" incoming
	for q in ${E2E_RETURN_PATH:+"$CUR" "$dst"}; do
		e2e_qmp "$q" migrate-set-capabilities \
			'{"capabilities": [{"capability": "return-path", "state": true}]}' \
			>/dev/null
	done
	if [ "$mode" = cancel ]; then
		# Slow enough to be caught mid-way (the guest's non-zero pages
		# alone are tens of MB).
		e2e_qmp "$CUR" migrate-set-parameters \
			'{"max-bandwidth": 2097152}' >/dev/null
	else
		e2e_qmp "$CUR" migrate-set-parameters \
			'{"max-bandwidth": 1073741824}' >/dev/null
	fi
	traffic_start "$STREAM_SECS"
	sleep 1.5
	[ -n "${E2E_DEBUG:-}" ] && e2e_log "  before migrate: $(e2e_guest_report 1000 || true)"
	e2e_qmp "$CUR" migrate "{\"uri\": \"unix:$E2E_TMP/migrate.sock\"}" \
		>/dev/null
	if [ "$mode" = cancel ]; then
		sleep 2
		MIG=$(e2e_qmp "$CUR" query-migrate) || MIG=""
		check "migration still active before cancel" \
			grep -q '"status": "active"' <<<"$MIG"
		SRC_STATUS_DURING=$(e2e_vdpa_status "$CUR_HOST" || true)
		e2e_qmp "$CUR" migrate_cancel >/dev/null || true
	fi
	MIG=$(e2e_qmp "$CUR" wait-migrate 120) || true
	MIG_STATUS=$(mig_field status gone)
	DOWNTIME=$(mig_field downtime -1)
	TOTAL=$(mig_field total-time -1)
	RAMDIFF="" RAMDATA=""
	if [ -n "${E2E_RAMCMP:-}" ] && [ "$MIG_STATUS" = completed ]; then
		ram_compare "$dst"
		e2e_qmp "$dst" cont >/dev/null
	fi
	traffic_stop
	if [ "$MIG_STATUS" = completed ]; then
		STRICT=${E2E_STRICT_RUNNING:-$STRICT} \
			check "destination running" \
			e2e_qmp "$dst" wait-status running 10 >/dev/null
		check "destination runs the $E2E_RING ring" \
			[ "$(e2e_qemu_ring "$dst")" = "$E2E_RING" ]
		e2e_qemu_stop "$CUR"
		CUR=$dst
		CUR_HOST=$to
	else
		# The destination gives up (and exits) when the stream breaks.
		e2e_qemu_stop "$dst"
		# A source that exited took the guest along (assert_migration
		# fails the scenario): boot a new one for the next.
		if ! e2e_qmp "$CUR" query-status >/dev/null 2>&1; then
			e2e_log "  source $CUR exited:" \
				"$(tail -3 "$E2E_TMP/qemu-$CUR.log" | tr '\n' ' ')"
			shutdown_guest
			boot_guest "$CUR_HOST"
		fi
	fi
}

# mig_field KEY DEFAULT: KEY of query-migrate's last answer (MIG), or
# DEFAULT (no answer: the source is gone).
mig_field() {
	"$E2E_PYTHON" -c 'import json, sys
print(json.loads(sys.argv[1]).get(sys.argv[2], sys.argv[3]))' \
		"$MIG" "$1" "$2" 2>/dev/null || echo "$2"
}

# ram_compare DST: with the source stopped and the destination not yet
# started (-S), compare the guest RAM of both page by page. Sets
# RAMDIFF (pages that differ) and RAMDATA (of them, pages whose
# differing bytes are datagram data the device wrote: a device write
# that was not logged). Other pages were written by the guest CPU and
# are QEMU's to migrate (see E2E_GUEST_RAM_KB in lib.sh).
ram_compare() {
	local dst=$1 f out

	for f in src dst; do
		e2e_qmp "$([ $f = src ] && echo "$CUR" || echo "$dst")" \
			pmemsave "{\"val\": 0, \"size\": $E2E_GUEST_RAM_BYTES, \"filename\": \"$E2E_TMP/$f.ram\"}" \
			>/dev/null || break
	done
	out=$("$E2E_PYTHON" "$E2E_SRC/ramcmp.py" "$E2E_TMP/src.ram" \
		"$E2E_TMP/dst.ram" "$E2E_TMP/ramdiff-$SCEN" 2>/dev/null) || out=""
	rm -f "$E2E_TMP/src.ram" "$E2E_TMP/dst.ram"
	read -r RAMDIFF RAMDATA _ <<<"$out"
	if [ -z "$out" ]; then
		e2e_log "  guest RAM comparison failed"
	else
		e2e_log "  guest RAM, source vs destination: $RAMDIFF page(s)" \
			"differ, $RAMDATA with datagram data ${out#*:}"
	fi
}

# The guest's console stays silent (quiet) unless its kernel hits
# something: after a migration that usually means corrupted guest RAM.
guest_console_clean() {
	local f=$E2E_TMP/qemu-$CUR.console

	if grep -Eq 'BUG|Oops|panic|WARNING|E2E-ERROR' "$f"; then
		grep -E -A3 'BUG|Oops|panic|WARNING|E2E-ERROR' "$f" | head -8 >&2
		return 1
	fi
}

# Assertions and the results line for the migration just done.
assert_migration() {
	local label=$1 want=${2:-completed} backend=$3 dir=$4
	local rx lost dup corrupt reorder stale

	rx=$(e2e_field rx "$REPORT")
	stale=$(e2e_field stale "$REPORT")
	lost=$(e2e_field lost "$REPORT")
	dup=$(e2e_field dup "$REPORT")
	corrupt=$(e2e_field corrupt "$REPORT")
	reorder=$(e2e_field reorder "$REPORT")
	record "scenario=$label" "backend=$backend" "dir=$dir" \
		"status=$MIG_STATUS" "downtime_ms=$DOWNTIME" \
		"total_ms=$TOTAL" "ping_gap_ms=$PING_GAP" \
		"udp_rx=${rx:-?}" "udp_lost=${lost:-?}" "udp_dup=${dup:-?}" \
		"udp_corrupt=${corrupt:-?}" "udp_reorder=${reorder:-?}" \
		"udp_stale=${stale:-?}"
	check "migration $want" [ "$MIG_STATUS" = "$want" ]
	check "guest reports counters after migration" [ -n "$REPORT" ]
	check "guest kernel did not complain (BUG/Oops/panic)" \
		guest_console_clean
	check "no corrupted UDP datagrams" [ "${corrupt:-1}" -eq 0 ]
	check "no duplicated UDP datagrams" [ "${dup:-1}" -eq 0 ]
	check "guest received the stream" [ "${rx:-0}" -gt 0 ]
	# Datagrams of an earlier stream reaching this guest were queued in
	# a backend while no guest was attached there and delivered to the
	# next guest (ifcvf_sw now drops them at stop, as a VF reset does).
	STRICT=${E2E_STRICT_STALE:-1} \
		check "no stale datagrams from an earlier stream" \
		[ "${stale:-0}" -eq 0 ]
	if [ "$want" = completed ]; then
		check "network found the guest within ${MAX_ANNOUNCE_MS} ms of resuming" \
			[ "$PING_GAP" -le $((DOWNTIME + MAX_ANNOUNCE_MS)) ]
	fi
}

# backends KIND_A KIND_B [vdpa-lm options]: (re)start both hosts'
# backends; the options go to every vdpa-lm.
backends() {
	e2e_backend_stop A
	e2e_backend_stop B
	e2e_backend_start A "$1" "${@:3}"
	e2e_backend_start B "$2" "${@:3}"
}

# (a) A->B, (b) B->A on the current backends.
scen_ab() {
	local backend=$1

	SCEN=a-$backend
	e2e_log "scenario $SCEN: pre-copy migration A->B"
	migrate B
	assert_migration "$SCEN" completed "$backend" A-B
	SCEN=b-$backend
	e2e_log "scenario $SCEN: migration back B->A"
	migrate A
	assert_migration "$SCEN" completed "$backend" B-A
}

# (c) cancelled migration, then a good one.
scen_c() {
	local backend=$1 st i

	SCEN=c-$backend
	e2e_log "scenario $SCEN: migration cancelled mid-way"
	migrate B cancel
	assert_migration "$SCEN-cancel" cancelled "$backend" A-B
	if [ "${E2E_BACKEND_KIND[$CUR_HOST]}" = vdpa ]; then
		e2e_log "  source during migration: $SRC_STATUS_DURING"
		check "source relayed while logging" \
			grep -q 'relay vid=.* logging=1' <<<"$SRC_STATUS_DURING"
		st=""
		for ((i = 0; i < 30; i++)); do
			st=$(e2e_vdpa_status "$CUR_HOST")
			grep -q ': direct .*logging=0' <<<"$st" && break
			sleep 0.2
		done
		e2e_log "  source after cancel: $st"
		check "source back to direct, logging=0, after cancel" \
			grep -q ': direct .*logging=0' <<<"$st"
	fi
	migrate B
	assert_migration "$SCEN-retry" completed "$backend" A-B
}

# (d) ten migrations in a row.
scen_d() {
	local backend=$1 i from to

	for ((i = 1; i <= ${E2E_PINGPONG:-10}; i++)); do
		SCEN=d$i-$backend
		from=$CUR_HOST
		to=$([ "$from" = A ] && echo B || echo A)
		e2e_log "scenario $SCEN: ping-pong $from->$to"
		migrate "$to"
		assert_migration "$SCEN" completed "$backend" "$from-$to"
	done
}

want() { [[ " $SCENARIOS " == *" $1 "* ]]; }

# vdpa-lm-compat as a management layer runs it before migrating (issue
# 16), on both backends' telemetry.
COMPAT_TOOL=$E2E_SRC/../../apps/vdpa-lm/vdpa-lm-compat
NET_VHOST_DESC=$E2E_SRC/../../apps/vdpa-lm/net_vhost-dpdk22.11.json

# compat_check FROM TO: FROM and TO are hosts (their vdpa-lm's
# telemetry) or description files. Sets COMPAT_RC and COMPAT_OUT.
compat_check() {
	local from=$1 to=$2

	[ -f "$from" ] || from=tel:$(e2e_prefix "$from")
	[ -f "$to" ] || to=tel:$(e2e_prefix "$to")
	COMPAT_RC=0
	COMPAT_OUT=$("$E2E_PYTHON" "$COMPAT_TOOL" "$from" "$to" 2>&1) ||
		COMPAT_RC=$?
	e2e_log "  vdpa-lm-compat $1 -> $2: exit $COMPAT_RC: $COMPAT_OUT"
}

# What the check accepts migrates; a destination it rejects because it
# does not offer a feature the guest negotiated (mergeable rx buffers)
# makes QEMU's migration fail too (virtio_load refuses features the
# destination's backend does not offer), and with the return path the
# guest runs on at the source. Then the same destination with the
# feature takes it. Last, the check against the net_vhost description
# accepts a DPDK vhost destination, and that migration completes.
scen_compat() {
	local src E2E_RETURN_PATH=1

	backends vdpa vdpa
	boot_guest A
	SCEN=compat-accept
	e2e_log "scenario $SCEN: the check accepts A->B, and it migrates"
	compat_check A B
	check "vdpa-lm-compat: A->B compatible (exit 0)" \
		[ "$COMPAT_RC:$COMPAT_OUT" = 0:compatible ]
	migrate B
	assert_migration "$SCEN" completed vdpa A-B

	SCEN=compat-reject
	e2e_log "scenario $SCEN: host A's device without mergeable rx buffers"
	e2e_backend_stop A
	e2e_backend_start A vdpa --no-mrg-rxbuf
	compat_check B A
	check "vdpa-lm-compat: B->A incompatible (exit 1)" [ "$COMPAT_RC" -eq 1 ]
	check "vdpa-lm-compat: the reason is mergeable rx buffers" \
		grep -q '^feature VIRTIO_NET_F_MRG_RXBUF (bit 15) negotiated by the guest, not offered by the destination$' \
		<<<"$COMPAT_OUT"
	src=$CUR
	migrate A
	assert_migration "$SCEN" failed vdpa B-A
	check "destination QEMU refused the guest's features" \
		grep -q 'Features 0x[0-9a-f]* unsupported' "$E2E_TMP/qemu-q$QSEQ.log"
	check "the guest runs on at the source" [ "$CUR" = "$src" ]
	check "the source QEMU is running" \
		e2e_qmp "$CUR" wait-status running 10 >/dev/null

	SCEN=compat-retry
	e2e_log "scenario $SCEN: host A with mergeable rx buffers again"
	e2e_backend_stop A
	e2e_backend_start A vdpa
	compat_check B A
	check "vdpa-lm-compat: B->A compatible (exit 0)" \
		[ "$COMPAT_RC:$COMPAT_OUT" = 0:compatible ]
	migrate A
	assert_migration "$SCEN" completed vdpa B-A
	shutdown_guest

	SCEN=compat-vhost
	e2e_log "scenario $SCEN: A->B, B DPDK's net_vhost, by its description"
	backends vdpa vhost
	boot_guest A
	compat_check A "$NET_VHOST_DESC"
	check "vdpa-lm-compat: A->net_vhost description compatible (exit 0)" \
		[ "$COMPAT_RC:$COMPAT_OUT" = 0:compatible ]
	migrate B
	assert_migration "$SCEN" completed vdpa+vhost A-B
	shutdown_guest
}

# The relay's scenarios again with packed rings (issue 13): A->B, B->A,
# cancel and retry, then the stress sets, the relay-off negative control
# among them, of E2E_PACKED_MIGRATIONS (default 4) migrations each.
# E2E_RING is local: every function called sees packed.
packed_scenarios() {
	local E2E_RING=packed NEG_MIGRATIONS=${E2E_PACKED_MIGRATIONS:-4}

	backends vdpa vdpa
	boot_guest A
	scen_ab vdpa-packed
	scen_c vdpa-packed
	shutdown_guest
	negative_control "${E2E_PACKED_STRESS:-on off}" -packed
}

# DPDK's net_vhost on both hosts with packed rings: what this QEMU does
# with a packed vhost-user NIC without vdpa-lm.
packed_baseline() {
	local E2E_RING=packed STRICT=0

	backends vhost vhost
	boot_guest A
	scen_ab dpdk-packed
	scen_c dpdk-packed
	shutdown_guest
}

# The guest's checker must be static; meson builds it unless the project
# is built with sanitizers (whose runtimes only link dynamically).
guest_checker() {
	if [ -n "$UDP_CHECK" ]; then
		UDP_CHECK=$(realpath "$UDP_CHECK")
		return
	fi
	mkdir -p "$E2E_GUEST"
	UDP_CHECK=$E2E_GUEST/udp_check
	"${CC:-cc}" -O2 -Wall -static -o "$UDP_CHECK" "$E2E_SRC/udp_check.c"
}

main() {
	guest_checker
	bash "$E2E_SRC/build-guest.sh" "$E2E_GUEST" "$UDP_CHECK"
	e2e_topology_up

	if want a || want b || want c || want d || want e; then
		backends vdpa vdpa
		boot_guest A
		if want a || want b; then scen_ab vdpa; fi
		if [ "$CUR_HOST" != A ]; then migrate A; fi
		if want c; then scen_c vdpa; fi
		if want d; then scen_d vdpa; fi
		shutdown_guest
	fi
	if want e; then
		# (e) vdpa-lm on A, plain DPDK vhost on B, there and back.
		backends vdpa vhost
		boot_guest A
		SCEN=e-vdpa-to-vhost
		e2e_log "scenario $SCEN"
		migrate B
		assert_migration "$SCEN" completed vdpa+vhost A-B
		SCEN=e-vhost-to-vdpa
		e2e_log "scenario $SCEN"
		migrate A
		assert_migration "$SCEN" completed vdpa+vhost B-A
		shutdown_guest
	fi
	if want base; then
		# Baseline: the same migrations between two DPDK vhost hosts.
		backends vhost vhost
		STRICT=0
		boot_guest A
		scen_ab dpdk
		scen_c dpdk
		E2E_PINGPONG=${E2E_BASE_PINGPONG:-2} scen_d dpdk
		shutdown_guest
		STRICT=1
	fi
	if want neg; then
		negative_control
	fi
	if want compat; then scen_compat; fi
	if want postcopy; then scen_postcopy; fi
	if want pbase; then packed_baseline; fi
	if want packed; then packed_scenarios; fi

	# One JSON document for tools: an array of the per-migration rows.
	"$E2E_PYTHON" -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
json.dump(rows, open(sys.argv[2], "w"), indent=1)' \
		"$RESULTS.jsonl" "$RESULTS.json"
	rm -f "$RESULTS.jsonl"
	echo "---- e2e results ($RESULTS.txt) ----"
	cat "$RESULTS.txt"
	if [ ${#WARNS[@]} -ne 0 ]; then
		printf 'warning: %s\n' "${WARNS[@]}" | tee -a "$RESULTS.txt"
	fi
	if [ ${#FAILS[@]} -ne 0 ]; then
		printf 'FAILED: %s\n' "${FAILS[@]}" >&2
		E2E_FAILED=1
		exit 1
	fi
	echo "e2e: all checks passed"
}

# Stress sets: a fast stream into a 1024-entry rx ring, so that the
# device writes many pages during the migration that only its log can
# name. The guest must not write those pages itself, or its own writes
# would mark them dirty and hide a missing device log: it boots with
# init_on_alloc=0 (Debian's kernel zeroes every page it allocates,
# rx buffers included), and 1400-byte datagrams fill the rx buffers so
# that virtio-net copies the packet instead of writing an
# skb_shared_info into the buffer's tail (build_skb).
#
# Each destination waits paused (-S) until the guest RAM of the stopped
# source and of the destination has been compared page by page
# (ram_compare). A page with datagram data that differs is a device
# write nobody logged: with the relay on there must be none, with the
# epoll engine and with a polling one. The same sets run with DPDK's
# vhost on both hosts (the baseline, logging in software) and with the
# relay forced off (--relay-policy off, the negative control, which must
# find stale datagram pages).
#
# Pages the guest CPU wrote are QEMU's to migrate; QEMU 7.2 under TCG
# loses some unless the guest RAM size avoids its fast dirty-sync path
# (lib.sh, E2E_GUEST_RAM_KB). Should a guest still be lost, it is
# counted, a new one is booted and the set goes on.
NEG_PPS=${NEG_PPS:-20000}
NEG_MIGRATIONS=${NEG_MIGRATIONS:-6}

# stress_migrations LABEL vdpa|vhost [POLICY [ENGINE]]: NEG_MIGRATIONS
# migrations under the stress (vdpa: relay policy and engine, default
# epoll). Sets COMPARED (migrations whose RAM was compared),
# STALE (of them, with stale datagram pages), CPU_LOST (with other
# differing pages), DAMAGED (dup/corrupt datagrams) and CRASHED.
stress_migrations() {
	local label=$1 kind=$2 policy=${3:-} engine=${4:-epoll} i from to
	local dup corrupt E2E_KERNEL_ARGS=init_on_alloc=0 opts=()

	COMPARED=0 STALE=0 CPU_LOST=0 DAMAGED=0 CRASHED=0
	if [ "$kind" = vdpa ]; then
		opts=(--relay-policy "$policy" --relay "$engine")
		# A polling relay spins on a core of its own while it relays
		# (vdpa-lm's other threads are on CPU 0).
		[ "$engine" = poll ] && opts+=(--relay-cpu 1)
		backends vdpa vdpa "${opts[@]}"
	else
		backends vhost vhost
	fi
	E2E_NIC_OPTS=",rx_queue_size=1024" boot_guest A
	for ((i = 1; i <= NEG_MIGRATIONS; i++)); do
		SCEN=$label$i
		from=$CUR_HOST
		to=$([ "$from" = A ] && echo B || echo A)
		E2E_RAMCMP=1 E2E_STRICT_RUNNING=0 PPS=$NEG_PPS migrate "$to"
		dup=$(e2e_field dup "$REPORT")
		corrupt=$(e2e_field corrupt "$REPORT")
		record "scenario=$SCEN" \
			"backend=$kind${policy:+-relay-$policy-$engine}" \
			"dir=$from-$to" "status=$MIG_STATUS" \
			"downtime_ms=$DOWNTIME" "total_ms=$TOTAL" \
			"ping_gap_ms=$PING_GAP" "ram_pages_differ=${RAMDIFF:-?}" \
			"ram_pages_datagram=${RAMDATA:-?}" \
			"udp_rx=$(e2e_field rx "$REPORT")" \
			"udp_lost=$(e2e_field lost "$REPORT")" \
			"udp_dup=$dup" "udp_corrupt=$corrupt" \
			"udp_reorder=$(e2e_field reorder "$REPORT")" \
			"udp_stale=$(e2e_field stale "$REPORT")"
		if [ -n "$RAMDIFF" ]; then
			COMPARED=$((COMPARED + 1))
			[ "$RAMDATA" -gt 0 ] && STALE=$((STALE + 1))
			[ "$RAMDIFF" -gt "$RAMDATA" ] && CPU_LOST=$((CPU_LOST + 1))
		fi
		if [ "${dup:-0}" -ne 0 ] || [ "${corrupt:-0}" -ne 0 ]; then
			DAMAGED=$((DAMAGED + 1))
		fi
		if [ "$MIG_STATUS" != completed ] || [ -z "$REPORT" ] ||
		   ! guest_console_clean; then
			CRASHED=$((CRASHED + 1))
			e2e_log "  guest lost: booting a new one"
			shutdown_guest
			E2E_NIC_OPTS=",rx_queue_size=1024" boot_guest A
		fi
	done
	echo "$label: $kind ${policy:+relay $policy/$engine, }$NEG_PPS pps," \
		"1024-entry $E2E_RING rx ring: RAM compared after $COMPARED of" \
		"$NEG_MIGRATIONS migrations; stale datagram pages after $STALE," \
		"other differing pages after $CPU_LOST; dup/corrupt datagrams" \
		"after $DAMAGED; guest lost after $CRASHED" | tee -a "$RESULTS.txt"
	shutdown_guest
}

# Checks after a stress set through the relay.
relay_set_checks() {
	local what=$1

	check "$what: guest RAM compared after most migrations" \
		[ "$COMPARED" -ge $((NEG_MIGRATIONS / 2)) ]
	check "$what: no stale datagram pages at any destination" \
		[ "$STALE" -eq 0 ]
	check "$what: no other differing guest pages" [ "$CPU_LOST" -eq 0 ]
	check "$what: no corrupted or duplicated datagrams" \
		[ "$DAMAGED" -eq 0 ]
	check "$what: guest kept running" [ "$CRASHED" -eq 0 ]
}

# negative_control [SETS [SUFFIX]]: the stress sets SETS (default
# E2E_STRESS, itself by default "dpdk on poll off") on E2E_RING rings,
# SUFFIX appended to their labels.
negative_control() {
	local sets=" ${1:-${E2E_STRESS:-dpdk on poll off}} " sfx=${2:-}

	if [[ $sets == *" dpdk "* ]]; then
		SCEN=stress-dpdk$sfx
		e2e_log "stress baseline: DPDK vhost on both hosts, $NEG_PPS pps"
		stress_migrations "stress-dpdk$sfx" vhost
		STRICT=0 check "DPDK vhost: guest RAM equal after every migration" \
			[ $((STALE + CPU_LOST)) -eq 0 ]
	fi
	if [[ $sets == *" on "* ]]; then
		SCEN=stress-relay-on$sfx
		e2e_log "stress: relay auto (epoll engine), $NEG_PPS pps"
		stress_migrations "stress-relay-on$sfx" vdpa auto epoll
		relay_set_checks "relay/epoll"
	fi
	if [[ $sets == *" poll "* ]]; then
		SCEN=stress-relay-poll$sfx
		e2e_log "stress: relay auto (poll engine), $NEG_PPS pps"
		stress_migrations "stress-relay-poll$sfx" vdpa auto poll
		relay_set_checks "relay/poll"
	fi
	if [[ $sets == *" off "* ]]; then
		SCEN=neg-relay-off$sfx
		e2e_log "negative control: --relay-policy off, $NEG_PPS pps"
		stress_migrations "neg-relay-off$sfx" vdpa off
		STRICT=${E2E_STRICT_NEGATIVE:-1} \
			check "relay off: stale datagram pages at a destination" \
			[ "$STALE" -gt 0 ]
		STRICT=${E2E_STRICT_NEGATIVE:-1} \
			check "relay off: the guest saw duplicated or corrupted datagrams" \
			[ "$DAMAGED" -gt 0 ]
	fi
}

main
