/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Fuzz target: the avail relay's chain checks. The input is a whole
 * guest (descriptor table, avail ring, indirect tables, device indices)
 * plus a few rounds of "guest publishes a new avail index, maybe
 * rewrites descriptors, relay runs". Invariants, on top of ASan/UBSan
 * and the guard pages around guest memory:
 *  - a failed pass leaves the queue broken, and a broken queue stays so;
 *  - a pass forwards at most budget entries, exactly the guest's heads,
 *    at the guest's indices, and publishes the matching mediated idx;
 *  - every chain forwarded ends and lies entirely in guest memory
 *    (checked by an independent walker).
 */

#include <errno.h>
#include <string.h>

#include "fuzz_guest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_forwarded(struct fg_guest *g, uint16_t from, int n)
{
	const struct vring_avail *ma = vrelay_queue_mring(g->q)->driver_area;
	uint16_t idx, head;
	bool in_mem;
	int i;

	FG_ASSERT(ma->idx == (uint16_t)(from + n));
	for (i = 0; i < n; i++) {
		idx = from + i;
		head = g->avail->ring[idx & (g->size - 1)];
		FG_ASSERT(ma->ring[idx & (g->size - 1)] == head);
		FG_ASSERT(fg_oracle_walk(g, head, 0, NULL, NULL,
					 &in_mem) == 0);
		FG_ASSERT(in_mem);
	}
}

static bool
avail_round(struct fg_guest *g, struct fg_in *in)
{
	const struct vring_avail *ma = vrelay_queue_mring(g->q)->driver_area;
	uint16_t from = ma->idx;
	unsigned int budget;
	int ret;

	fg_mutate_descs(g, in);
	g->avail->idx = fg_decode_avail_idx(g, in, from);
	budget = 1 + fg_u16(in) % 512;
	ret = vrelay_queue_relay_avail(g->q, budget);
	if (ret < 0) {
		FG_ASSERT(ret == -EIO);
		FG_ASSERT(vrelay_queue_state(g->q) == VRELAY_QUEUE_BROKEN);
		/* Broken is final: nothing more is forwarded. */
		FG_ASSERT(vrelay_queue_relay_avail(g->q, budget) == -EIO);
		FG_ASSERT(ma->idx == from);
		return false;
	}
	FG_ASSERT((unsigned int)ret <= budget);
	FG_ASSERT(vrelay_queue_state(g->q) != VRELAY_QUEUE_BROKEN);
	check_forwarded(g, from, ret);
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_in in, gin;
	struct fg_guest g;
	uint8_t rounds, r;

	if (fg_setup(data, size, &in, &gin, &g) != 0)
		return 0;
	rounds = 1 + fg_u8(&in) % 4;
	for (r = 0; r < rounds; r++)
		if (!avail_round(&g, &in))
			break;
	fg_guest_teardown(&g);
	return 0;
}
