# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The vdpa-relay authors
# shellcheck shell=bash
#
# Post-copy scenarios (issue 17), sourced by run.sh: "postcopy" migrates
# the guest A->B post-copy through vdpa-lm --postcopy under the UDP
# stream and pings; the destination's relay prefaults every chain before
# its device may DMA it. Then the negative control: the same with the
# prefault off (VRELAY_POSTCOPY_PREFAULT=0), where the destination's
# ifcvf_sw, an IOMMU without page faults, must fault on pages that have
# not arrived.
#
# Pre-copy is held at PC_PRECOPY_BW for PC_PRECOPY_SECS, so that most of
# the guest's pages (the rx buffers the device wrote on the source among
# them, dirty in its log) are still on the source when post-copy starts;
# post-copy's background stream is held at PC_POSTCOPY_BW, so that they
# stay missing while the device starts on the destination.
PC_PRECOPY_BW=${E2E_PC_PRECOPY_BW:-4194304}
PC_POSTCOPY_BW=${E2E_PC_POSTCOPY_BW:-1048576}
# Post-copy starts 0.2 s into pre-copy: the rx buffers posted at the
# switch have not been sent yet (measured with 1 s: the prefault-off run
# faulted in one of two runs only).
PC_PRECOPY_SECS=${E2E_PC_PRECOPY_SECS:-0.2}
# Post-copy at 1 MB/s lasts longer than the network takes to find the
# guest on B (its announcement), so datagrams reach the destination's
# device while pages are still missing: the stream must cover it.
PC_STREAM_SECS=${E2E_PC_STREAM_SECS:-16}
PC_NEG_ATTEMPTS=${E2E_PC_NEG_ATTEMPTS:-5}

# pc_mig_ram KEY: KEY of the "ram" part of query-migrate's last answer.
pc_mig_ram() {
	"$E2E_PYTHON" -c 'import json, sys
print(json.loads(sys.argv[1]).get("ram", {}).get(sys.argv[2], -1))' \
		"$MIG" "$1" 2>/dev/null || echo -1
}

# pc_status_field HOST KEY: KEY=N of host HOST's last vdpa-lm status line.
pc_status_field() {
	e2e_vdpa_status "$1" | sed -n "s/.* $2=\([0-9]*\).*/\1/p"
}

# migrate_postcopy TO: migrate the running guest to TO post-copy, under
# traffic. Sets MIG, MIG_STATUS, DOWNTIME, TOTAL, PC_REQUESTS (pages the
# destination asked for) and the destination's PC_WAITS, PC_PAGES
# (relay prefault) and PC_FAULTS (device DMA faults).
migrate_postcopy() {
	local to=$1 dst q

	QSEQ=$((QSEQ + 1))
	dst=q$QSEQ
	e2e_qemu_start "$dst" "$to" incoming
	for q in "$CUR" "$dst"; do
		e2e_qmp "$q" migrate-set-capabilities \
			'{"capabilities": [{"capability": "postcopy-ram", "state": true}]}' \
			>/dev/null || check "QEMU $q accepts postcopy-ram" false
	done
	e2e_qmp "$CUR" migrate-set-parameters \
		"{\"max-bandwidth\": $PC_PRECOPY_BW, \"max-postcopy-bandwidth\": $PC_POSTCOPY_BW}" \
		>/dev/null
	traffic_start "$PC_STREAM_SECS"
	sleep 1.5
	e2e_qmp "$CUR" migrate "{\"uri\": \"unix:$E2E_TMP/migrate.sock\"}" \
		>/dev/null
	sleep "$PC_PRECOPY_SECS"
	check "post-copy started while pre-copy ran" \
		e2e_qmp "$CUR" migrate-start-postcopy
	MIG=$(e2e_qmp "$CUR" wait-migrate 90) || true
	MIG_STATUS=$(mig_field status gone)
	DOWNTIME=$(mig_field downtime -1)
	TOTAL=$(mig_field total-time -1)
	PC_REQUESTS=$(pc_mig_ram postcopy-requests)
	traffic_stop
	sleep 1.2	# one more status line from the destination's vdpa-lm
	PC_WAITS=$(pc_status_field "$to" prefault_waits)
	PC_PAGES=$(pc_status_field "$to" prefault_pages)
	PC_FAULTS=$(pc_status_field "$to" dma_faults)
	e2e_log "  destination: $(e2e_vdpa_status "$to")"
	if [ "$MIG_STATUS" = completed ]; then
		check "destination running" \
			e2e_qmp "$dst" wait-status running 10 >/dev/null
		e2e_qemu_stop "$CUR"
		CUR=$dst
		CUR_HOST=$to
	else
		e2e_qemu_stop "$dst"
	fi
}

pc_record() {
	record "scenario=$1" "backend=vdpa-postcopy" "dir=$2" \
		"status=$MIG_STATUS" "downtime_ms=$DOWNTIME" \
		"total_ms=$TOTAL" "postcopy_requests=$PC_REQUESTS" \
		"prefault_waits=${PC_WAITS:-?}" "prefault_pages=${PC_PAGES:-?}" \
		"dma_faults=${PC_FAULTS:-?}" "ping_gap_ms=$PING_GAP" \
		"udp_rx=$(e2e_field rx "$REPORT")" \
		"udp_lost=$(e2e_field lost "$REPORT")" \
		"udp_dup=$(e2e_field dup "$REPORT")" \
		"udp_corrupt=$(e2e_field corrupt "$REPORT")"
}

scen_postcopy() {
	local dup corrupt

	SCEN=postcopy
	e2e_log "scenario $SCEN: post-copy A->B, prefault on"
	backends vdpa vdpa --postcopy
	boot_guest A
	migrate_postcopy B
	pc_record "$SCEN" A-B
	dup=$(e2e_field dup "$REPORT")
	corrupt=$(e2e_field corrupt "$REPORT")
	check "post-copy migration completed" [ "$MIG_STATUS" = completed ]
	check "the destination asked for pages (post-copy ran)" \
		[ "${PC_REQUESTS:--1}" -gt 0 ]
	check "guest reports counters after migration" [ -n "$REPORT" ]
	check "guest received the stream" [ "$(e2e_field rx "$REPORT")" -gt 0 ]
	check "no corrupted UDP datagrams" [ "${corrupt:-1}" -eq 0 ]
	check "no duplicated UDP datagrams" [ "${dup:-1}" -eq 0 ]
	check "guest kernel did not complain" guest_console_clean
	check "no device DMA fault on the destination" \
		[ "${PC_FAULTS:-1}" -eq 0 ]
	# Not asserted: whether a chain found a page missing depends on
	# what arrived before the device started; recorded.
	shutdown_guest

	# Whether a page is still missing when the device first writes it
	# depends on when the stream reaches the destination (after the
	# guest's announcement, seconds into post-copy under TCG) against
	# what has arrived by then: one run faults about every other time
	# (seen: 4 of 4 by hand; in CI 0 of 1, then 1 of 2). Up to
	# PC_NEG_ATTEMPTS runs (about 65 s each), until one faults.
	local attempt faults=0

	SCEN=postcopy-neg
	for ((attempt = 1; attempt <= PC_NEG_ATTEMPTS; attempt++)); do
		e2e_log "scenario $SCEN: post-copy A->B, prefault off" \
			"(negative control, run $attempt of at most $PC_NEG_ATTEMPTS)"
		VRELAY_POSTCOPY_PREFAULT=0 backends vdpa vdpa --postcopy
		boot_guest A
		migrate_postcopy B
		pc_record "$SCEN" "A-B-$attempt"
		shutdown_guest
		faults=${PC_FAULTS:-0}
		[ "$faults" -gt 0 ] && break
	done
	STRICT=${E2E_STRICT_NEGATIVE:-1} \
		check "prefault off: the destination's device faulted on pages not arrived" \
		[ "$faults" -gt 0 ]
}
