/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Fuzz target: the packed avail relay's chain checks. The input is a
 * whole packed guest (descriptor ring with a run of available slots,
 * indirect tables, device positions with chains in flight, event areas)
 * plus rounds of "guest rewrites slots, relay runs". Invariants, on top
 * of ASan/UBSan and the guard pages around guest memory:
 *  - a failed pass leaves the queue broken, and broken is final;
 *  - a pass forwards at most budget chains;
 *  - every chain the device can see on the mediated ring from the
 *    relay's position on (succeeded pass or not) is one the guest made
 *    available: it ends within the ring, lies in guest memory (checked
 *    by an independent walker), and its slots are the guest's with the
 *    AVAIL/USED bits of their lap;
 *  - forwarding logs nothing but the guest's device event area.
 */

#include <errno.h>
#include <string.h>

#include "fuzz_packed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The chain at the relay's position is mirrored; returns its slots. */
static uint16_t
check_mirrored(struct fp_guest *p)
{
	uint16_t pos = p->pos, i;
	bool wrap = p->wrap;
	struct fp_chain c;

	FG_ASSERT(fp_walk(p, false, pos, 0, NULL, NULL, &c) == 0);
	FG_ASSERT(c.in_mem && c.id < p->g.size);
	for (i = 0; i < c.ndesc; i++) {
		const struct vring_packed_desc *g = &p->ring[pos];
		const struct vring_packed_desc *m = &p->mring[pos];

		FG_ASSERT(m->addr == g->addr && m->len == g->len &&
			  m->id == g->id);
		FG_ASSERT(fp_is_avail(m->flags, wrap));
		FG_ASSERT((m->flags & ~(FP_F_AVAIL | FP_F_USED)) ==
			  (g->flags & ~(FP_F_AVAIL | FP_F_USED)));
		fp_advance(p->g.size, &pos, &wrap, 1);
	}
	return c.ndesc;
}

/* Everything available on the mediated ring from the relay's position. */
static int
check_forwarded(struct fp_guest *p)
{
	int n = 0;

	while (n <= p->g.size &&
	       fp_is_avail(p->mring[p->pos].flags, p->wrap)) {
		fp_advance(p->g.size, &p->pos, &p->wrap, check_mirrored(p));
		n++;
	}
	return n;
}

static void
check_no_log(const struct fp_guest *p)
{
	uint64_t page, dev = FG_USED_GPA >> VRELAY_LOG_PAGE_SHIFT;

	for (page = 0; page < p->g.log_size * 8; page++)
		FG_ASSERT(page == dev || !fg_log_test(&p->g, page));
}

static bool
avail_round(struct fp_guest *p, struct fg_in *in)
{
	unsigned int budget = 1 + fg_u16(in) % 300;
	int ret, n;

	fp_mutate(p, in);
	ret = vrelay_queue_relay_avail(p->g.q, budget);
	n = check_forwarded(p);
	check_no_log(p);
	if (ret < 0) {
		FG_ASSERT(ret == -EIO);
		FG_ASSERT(vrelay_queue_state(p->g.q) == VRELAY_QUEUE_BROKEN);
		FG_ASSERT(vrelay_queue_relay_avail(p->g.q, budget) == -EIO);
		return false;
	}
	FG_ASSERT((unsigned int)ret <= budget && n == ret);
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_guest p;
	struct fg_in in;
	uint8_t rounds, r;

	if (fp_setup(data, size, &in, &p) != 0)
		return 0;
	/* Chains seeded at create are past the device: not on the ring. */
	if (vrelay_queue_state(p.g.q) != VRELAY_QUEUE_BROKEN) {
		rounds = 1 + fg_u8(&in) % 4;
		for (r = 0; r < rounds; r++)
			if (!avail_round(&p, &in))
				break;
	}
	fg_guest_teardown(&p.g);
	return 0;
}
