/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Fuzz target: the packed used relay and its dirty logging. The guest's
 * chains are forwarded once; then the "device" writes arbitrary used
 * descriptors at its used position (ids in flight or not, lens within
 * or beyond the chain's writable length, flags of the right lap or not,
 * moving on by the chain's slots or not) while the guest rewrites its
 * ring and tables behind the relay's back. The relay keeps each packed
 * chain's buffers when it checks it, so what it logs must be exact
 * against the chains as forwarded, whatever the guest did since.
 * Invariants, on top of ASan/UBSan and the guard pages:
 *  - a failed pass leaves the queue broken;
 *  - each used descriptor the guest now sees is the device's, at the
 *    same slot, for a chain forwarded (and in guest memory);
 *  - no lost page: the first len bytes of its writable buffers, as
 *    forwarded, and its guest ring slot, are logged (where the log
 *    reaches);
 *  - no stray page: every bit a pass sets is such a page, or the
 *    guest's device event area; so nothing outside guest memory.
 */

#include <errno.h>
#include <string.h>

#include "fuzz_packed.h"
#include "vrelay_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fwd {
	uint16_t pos[FG_MAX_RING];	/* head slot, by buffer id */
	uint16_t ndesc[FG_MAX_RING];	/* 0: not in flight */
	uint16_t ids[FG_MAX_RING];
	uint16_t n;
};

/* Record a chain at the relay's avail position and move past it. */
static void
record(struct fp_guest *p, struct fwd *f)
{
	struct fp_chain c;

	FG_ASSERT(fp_walk(p, false, p->pos, 0, NULL, NULL, &c) == 0);
	f->pos[c.id] = p->pos;
	f->ndesc[c.id] = c.ndesc;
	f->ids[f->n++] = c.id;
	fp_advance(p->g.size, &p->pos, &p->wrap, c.ndesc);
}

/*
 * The chains seeded at create (the device fetched them before the
 * switch: from its used position on), then all the guest has available.
 */
static void
forward_all(struct fp_guest *p, struct fwd *f, uint16_t upos, bool uwrap)
{
	uint16_t apos = p->pos;
	bool awrap = p->wrap;
	int ret, i;

	p->pos = upos;
	p->wrap = uwrap;
	while (p->pos != apos || p->wrap != awrap)
		record(p, f);
	ret = vrelay_queue_relay_avail(p->g.q, p->g.size);
	for (i = 0; i < ret; i++)
		record(p, f);
	/* Chains as checked: the guest may rewrite them from now on. */
	fg_snapshot();
}

/* The device writes n used descriptors from its used position on. */
static void
device_write_used(struct fp_guest *p, struct fg_in *in, const struct fwd *f,
		  uint16_t pos, bool wrap)
{
	uint16_t n = fg_u8(in) % (p->g.size + 1), i, id, step;
	uint8_t sel;
	uint32_t lenv;

	for (i = 0; i < n; i++) {
		struct vring_packed_desc *m = &p->mring[pos];

		sel = fg_u8(in);
		lenv = fg_u32(in);
		id = ((sel & 0x80) || f->n == 0) ? fg_u16(in) :
			f->ids[sel % f->n];
		if (!(lenv & 0x80000000))
			lenv %= 0x3000;
		m->id = id;
		m->len = lenv;
		m->flags = (sel & 0x40) ? fg_u16(in) :
			(wrap ? FP_F_AVAIL | FP_F_USED : 0);
		step = id < FG_MAX_RING && f->ndesc[id] && !(sel & 0x20) ?
			f->ndesc[id] : 1 + sel % 4;
		fp_advance(p->g.size, &pos, &wrap, step);
	}
}

/* Pages one used descriptor must (and alone may) have logged. */
static void
entry_pages(const struct fp_guest *p, const struct fwd *f,
	    const struct vring_packed_desc *e, uint16_t slot,
	    struct fg_pageset *req)
{
	struct fp_chain c;

	FG_ASSERT(e->id < p->g.size && f->ndesc[e->id] != 0);
	FG_ASSERT(fp_walk(p, true, f->pos[e->id], e->len, fg_pageset_add, req,
			  &c) == 0);
	FG_ASSERT(c.in_mem && !req->outside && c.ndesc == f->ndesc[e->id]);
	fg_pages(FG_DESC_GPA + 16ULL * slot, 16, fg_pageset_add, req);
}

/*
 * The descriptors the relay published: from the guest's used position to
 * the relay's (its state moves after each burst it published), each in
 * the guest's ring equal to the device's; their pages in req.
 */
static uint16_t
published(struct fp_guest *p, struct fwd *f, uint16_t *pos, bool *wrap,
	  struct fg_pageset *req)
{
	struct vrelay_qstate st;
	uint16_t n = 0;

	vrelay_queue_get_qstate(p->g.q, &st);
	while (*pos != st.used_idx || *wrap != st.used_wrap) {
		const struct vring_packed_desc *g = &p->ring[*pos];
		const struct vring_packed_desc *m = &p->mring[*pos];

		FG_ASSERT(n < p->g.size);
		FG_ASSERT(fp_is_used(g->flags, *wrap));
		FG_ASSERT(g->id == m->id && g->len == m->len);
		entry_pages(p, f, g, *pos, req);
		fp_advance(p->g.size, pos, wrap, f->ndesc[g->id]);
		f->ndesc[g->id] = 0;
		n++;
	}
	return n;
}

static void
check_log(const struct fp_guest *p, const uint8_t *before,
	  const struct fg_pageset *req)
{
	uint64_t pg, dev = FG_USED_GPA >> VRELAY_LOG_PAGE_SHIFT;

	if (p->g.log == NULL)
		return;
	for (pg = 0; pg < p->g.log_size * 8; pg++) {
		bool now = fg_log_test(&p->g, pg);
		bool was = before[pg >> 3] & (1U << (pg & 7));
		bool want = pg < FG_PAGES && req->in[pg];

		if (want)
			FG_ASSERT(now);		/* no lost page */
		if (now && !was)
			FG_ASSERT(want || pg == dev);	/* no stray page */
	}
}

static bool
used_round(struct fp_guest *p, struct fg_in *in, struct fwd *f,
	   uint16_t *upos, bool *uwrap)
{
	uint8_t before[FG_LOG_MAX];
	struct fg_pageset req;
	uint8_t act;
	uint16_t n;
	int ret;

	memset(&req, 0, sizeof(req));
	fp_mutate(p, in);
	device_write_used(p, in, f, *upos, *uwrap);
	act = fg_u8(in);
	if (p->g.log != NULL)
		memcpy(before, p->g.log, p->g.log_size);
	if (act & 1)
		ret = vrelay_queue_flush(p->g.q);
	else
		ret = vrelay_queue_relay_used(p->g.q, 1 + fg_u16(in) % 300);
	n = published(p, f, upos, uwrap, &req);
	if (ret < 0) {
		FG_ASSERT(ret == -EIO);
		FG_ASSERT(vrelay_queue_state(p->g.q) == VRELAY_QUEUE_BROKEN);
	} else {
		FG_ASSERT(n == ret);
	}
	/* Whatever was published before a break is logged too. */
	check_log(p, before, &req);
	return ret >= 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fwd f;
	struct fp_guest p;
	struct fg_in in;
	uint8_t rounds, r;
	uint16_t upos;
	bool uwrap;

	if (fp_setup(data, size, &in, &p) != 0)
		return 0;
	memset(&f, 0, sizeof(f));
	upos = p.upos;
	uwrap = p.uwrap;
	if (vrelay_queue_state(p.g.q) != VRELAY_QUEUE_BROKEN) {
		forward_all(&p, &f, upos, uwrap);
		rounds = 1 + fg_u8(&in) % 4;
		for (r = 0; r < rounds; r++)
			if (!used_round(&p, &in, &f, &upos, &uwrap))
				break;
	}
	fg_guest_teardown(&p.g);
	return 0;
}
