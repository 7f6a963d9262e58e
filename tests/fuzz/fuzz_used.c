/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Fuzz target: the used relay and its dirty logging. The guest's chains
 * are forwarded once; then the "device" writes arbitrary used entries
 * (ids in flight or not, lens within or beyond the chain's writable
 * length, used idx running ahead) while the guest may rewrite its
 * descriptors behind the relay's back. Invariants, on top of ASan/UBSan
 * and the guard pages around guest memory and the log:
 *  - a failed pass leaves the queue broken;
 *  - entries reach the guest used ring unchanged and in order;
 *  - every relayed entry's chain, as it was when forwarded, lies in
 *    guest memory;
 *  - no lost dirty page: for a chain the guest left alone, every page
 *    covered by the first len bytes of its writable buffers, and the
 *    used ring, is set in the log (when the log covers it);
 *  - no stray page: every bit a pass sets is such a page of the chain
 *    as forwarded or as it is now (the relay may log either: it keeps
 *    the segments of short chains and re-walks long ones), or of the
 *    used ring (which includes avail_event and flags, written by the
 *    relay); so nothing outside guest memory is ever logged.
 * A chain the guest rewrote after forwarding is the guest's problem
 * (design.md): only its own migrated memory may suffer, never the host.
 */

#include <errno.h>
#include <string.h>

#include "fuzz_guest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fwd {
	uint16_t heads[FG_MAX_RING];
	uint16_t n;
};

static void
forward_all(struct fg_guest *g, struct fg_in *in, struct fwd *f)
{
	const struct vring_avail *ma = vrelay_queue_mring(g->q)->driver_area;
	uint16_t from = ma->idx;
	int ret, i;

	g->avail->idx = fg_decode_avail_idx(g, in, from);
	ret = vrelay_queue_relay_avail(g->q, g->size);
	for (i = 0; i < ret; i++)
		f->heads[f->n++] = ma->ring[(uint16_t)(from + i) &
					    (g->size - 1)];
	/* Chains as checked: the guest may rewrite them from now on. */
	fg_snapshot();
}

/* The device writes n used entries after the mediated used idx. */
static uint16_t
device_write_used(struct fg_guest *g, struct fg_in *in,
		  const struct fwd *f)
{
	struct vring_used *mu = vrelay_queue_mring(g->q)->device_area;
	uint16_t n = fg_u8(in) % (g->size + 1), i, id;
	uint8_t sel;
	uint32_t lenv;

	for (i = 0; i < n; i++) {
		sel = fg_u8(in);
		lenv = fg_u32(in);
		if ((sel & 0x80) || f->n == 0)
			id = fg_u16(in);
		else
			id = f->heads[sel % f->n];
		/* Mostly a few pages at most: the writable lengths seen. */
		if (!(lenv & 0x80000000))
			lenv %= 0x3000;
		mu->ring[(uint16_t)(mu->idx + i) & (g->size - 1)] =
			(struct vring_used_elem){ id, lenv };
	}
	return n;
}

/* Pages the relay must log (req) and may log (allowed) for one entry. */
static void
entry_pages(struct fg_guest *g, const struct vring_used_elem *e,
	    struct fg_pageset *req, struct fg_pageset *allowed)
{
	struct fg_pageset fwd, now;
	bool in_mem, now_ok;
	uint64_t p;

	memset(&fwd, 0, sizeof(fwd));
	memset(&now, 0, sizeof(now));
	FG_ASSERT(fg_oracle_walk_snap(g, e->id, e->len, fg_pageset_add, &fwd,
				      &in_mem) == 0);
	FG_ASSERT(in_mem && !fwd.outside);
	now_ok = fg_oracle_walk(g, e->id, e->len, fg_pageset_add, &now,
				&in_mem) == 0 && in_mem && !now.outside;
	for (p = 0; p < FG_PAGES; p++) {
		if (now_ok && memcmp(fwd.in, now.in, sizeof(fwd.in)) == 0)
			req->in[p] |= fwd.in[p];
		allowed->in[p] |= fwd.in[p] | (now_ok ? now.in[p] : 0);
	}
}

static void
check_pass(struct fg_guest *g, const uint8_t *log_before,
	   uint16_t gidx_before)
{
	struct vring_used *mu = vrelay_queue_mring(g->q)->device_area;
	uint16_t n = g->used->idx - gidx_before, i, slot;
	struct fg_pageset req, allowed;
	uint64_t p, ring_first, ring_last;

	memset(&req, 0, sizeof(req));
	memset(&allowed, 0, sizeof(allowed));
	for (i = 0; i < n; i++) {
		slot = (uint16_t)(gidx_before + i) & (g->size - 1);
		FG_ASSERT(g->used->ring[slot].id == mu->ring[slot].id);
		FG_ASSERT(g->used->ring[slot].len == mu->ring[slot].len);
		entry_pages(g, &g->used->ring[slot], &req, &allowed);
	}
	if (g->log == NULL)
		return;
	ring_first = FG_USED_GPA >> VRELAY_LOG_PAGE_SHIFT;
	ring_last = (FG_USED_GPA + 6 + 8ULL * g->size) >>
		VRELAY_LOG_PAGE_SHIFT;
	for (p = 0; p < g->log_size * 8; p++) {
		bool now = fg_log_test(g, p);
		bool was = log_before[p >> 3] & (1U << (p & 7));
		bool ring = p >= ring_first && p <= ring_last;

		/* No lost dirty page. */
		if (p < FG_PAGES && req.in[p])
			FG_ASSERT(now);
		if (n > 0 && ring)
			FG_ASSERT(now);
		/* No stray page. */
		if (now && !was)
			FG_ASSERT(ring || (p < FG_PAGES && allowed.in[p]));
	}
}

static bool
used_round(struct fg_guest *g, struct fg_in *in, const struct fwd *f)
{
	struct vring_used *mu = vrelay_queue_mring(g->q)->device_area;
	uint8_t log_before[FG_LOG_MAX];
	uint16_t gidx = g->used->idx, n;
	uint8_t act;
	int ret;

	fg_mutate_descs(g, in);
	n = device_write_used(g, in, f);
	act = fg_u8(in);
	/* Sometimes the device's idx runs past what it wrote. */
	__atomic_store_n(&mu->idx, (uint16_t)(mu->idx + n +
			 ((act & 0x30) == 0x30 ? fg_u8(in) : 0)),
			 __ATOMIC_RELEASE);
	if (g->log != NULL)
		memcpy(log_before, g->log, g->log_size);
	if (act & 1)
		ret = vrelay_queue_flush(g->q);
	else
		ret = vrelay_queue_relay_used(g->q, 1 + fg_u16(in) % 300);
	if (ret < 0) {
		FG_ASSERT(ret == -EIO);
		FG_ASSERT(vrelay_queue_state(g->q) == VRELAY_QUEUE_BROKEN);
	} else {
		FG_ASSERT((uint16_t)(g->used->idx - gidx) == ret);
	}
	/* Whatever was published before a break must be logged too. */
	check_pass(g, log_before, gidx);
	return ret >= 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_in in, gin;
	struct fg_guest g;
	struct fwd f = { .n = 0 };
	uint8_t rounds, r;

	if (fg_setup(data, size, &in, &gin, &g) != 0)
		return 0;
	forward_all(&g, &in, &f);
	rounds = 1 + fg_u8(&in) % 4;
	for (r = 0; r < rounds; r++) {
		if (vrelay_queue_state(g.q) == VRELAY_QUEUE_BROKEN)
			break;
		if (!used_round(&g, &in, &f))
			break;
	}
	fg_guest_teardown(&g);
	return 0;
}
