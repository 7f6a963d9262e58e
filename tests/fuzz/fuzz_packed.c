/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Packed guest model for the fuzz targets (see fuzz_packed.h). The ring
 * and the indirect tables come from fuzz_guest.c's decoder (split
 * records, turned into packed ones in place: the next field becomes the
 * buffer id); then a run of slots from the device's used position is
 * made available with the AVAIL/USED bits of its lap, so chains reach
 * the relay's checks instead of stopping at the flags.
 */

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>

#include "fuzz_packed.h"

#define FP_DRIVER_GPA	FG_AVAIL_GPA
#define FP_DEVICE_GPA	FG_USED_GPA

static int fp_doorbell = -1;

void
fp_advance(uint16_t size, uint16_t *pos, bool *wrap, uint16_t n)
{
	uint32_t p = (uint32_t)*pos + n;

	if (p >= size) {
		p -= size;
		*wrap = !*wrap;
	}
	*pos = (uint16_t)p;
}

bool
fp_is_avail(uint16_t flags, bool wrap)
{
	return !!(flags & FP_F_AVAIL) == wrap && !!(flags & FP_F_USED) != wrap;
}

bool
fp_is_used(uint16_t flags, bool wrap)
{
	return !!(flags & FP_F_AVAIL) == wrap && !!(flags & FP_F_USED) == wrap;
}

/* A decoded split record as a packed descriptor: next -> id. */
static void
fp_convert(struct vring_packed_desc *out, const struct vring_desc *in,
	   uint16_t size)
{
	struct vring_desc d = *in;

	out->addr = d.addr;
	out->len = d.len;
	/* Mostly a valid id, anything when bit 15 is set. */
	out->id = (d.next & 0x8000) ? d.next : d.next % size;
	out->flags = d.flags & ~(FP_F_AVAIL | FP_F_USED);
}

static void
fp_decode_desc(struct fg_in *in, struct vring_packed_desc *out,
	       uint16_t size)
{
	struct vring_desc d;

	fg_decode_desc(in, &d);
	fp_convert(out, &d, size);
}

/*
 * Slots [used, used + navail) available in their laps, the others used
 * in theirs (an idle ring otherwise, 2.8.1); noise keeps the decoded
 * AVAIL/USED bits of some slots.
 */
static void
fp_lay_flags(struct fp_guest *p, uint16_t used, bool used_wrap,
	     uint16_t navail, uint8_t noise)
{
	uint16_t n = p->g.size, i, pos = used;
	bool wrap = used_wrap;

	for (i = 0; i < n; i++) {
		struct vring_packed_desc *d = &p->ring[pos];
		bool lap = i < navail ? wrap : !wrap;

		if (noise && (d->addr & 0xff) < noise)
			d->flags ^= (uint16_t)(d->len & (FP_F_AVAIL | FP_F_USED));
		else if (i < navail)
			d->flags |= lap ? FP_F_AVAIL : FP_F_USED;
		else
			d->flags |= lap ? FP_F_AVAIL | FP_F_USED : 0;
		fp_advance(n, &pos, &wrap, 1);
	}
}

static void
fp_reset(struct fp_guest *p, struct fg_in *ctl, struct fg_in *gin)
{
	struct vring_desc *t;
	uint16_t size, i;

	fg_guest_reset(&p->g, ctl, gin);
	size = 1 + fg_u8(ctl) % FG_MAX_RING;
	p->g.size = size;
	p->ring = (struct vring_packed_desc *)p->g.desc;
	for (i = 0; i < size; i++)
		fp_convert(&p->ring[i], &p->g.desc[i], size);
	t = (struct vring_desc *)p->g.c;
	for (i = 0; i < FG_ITABLE_MAX; i++)
		fp_convert((struct vring_packed_desc *)&t[i], &t[i], size);
	/* The event areas from the control block, not the avail ring. */
	((struct vring_packed_desc_event *)p->g.avail)->off_wrap = fg_u16(ctl);
	((struct vring_packed_desc_event *)p->g.avail)->flags = fg_u8(ctl) % 4;
	memset(p->g.used, 0, VRELAY_PACKED_EVENT_LEN);
}

static void
fp_conf(struct fp_guest *p, struct vrelay_queue_conf *c, struct fg_in *in)
{
	uint16_t used = fg_u16(in) % p->g.size, inflight, navail;
	bool used_wrap = fg_u8(in) & 1;
	uint8_t noise = fg_u8(in);

	inflight = fg_u16(in) % (p->g.size + 1);
	navail = inflight + fg_u16(in) % (p->g.size + 1 - inflight);
	fp_lay_flags(p, used, used_wrap, navail, noise & 0x0f ? 0 : noise);
	c->name = "pq";
	c->size = p->g.size;
	c->format = VRELAY_RING_PACKED;
	c->desc = p->ring;
	c->driver_area = p->g.avail;
	c->device_area = p->g.used;
	c->desc_gpa = FG_DESC_GPA;
	c->device_area_gpa = FP_DEVICE_GPA;
	c->event_idx = p->g.event_idx;
	c->indirect = p->g.indirect;
	c->guest_kick_fd = -1;
	c->guest_call_fd = -1;
	c->device_doorbell_fd = fp_doorbell;
	c->device_irq_fd = -1;
	c->state.used_idx = used;
	c->state.used_wrap = used_wrap;
	c->state.avail_idx = used;
	c->state.avail_wrap = used_wrap;
	/* The device fetched the first chains: up to inflight slots. */
	fp_advance(p->g.size, &c->state.avail_idx, &c->state.avail_wrap,
		   inflight);
	c->log_window_all = (noise & 0x30) == 0x30;
}

/*
 * At create: the window logs all of guest memory (and nothing outside),
 * or nothing but the device event area. The log is cleared after.
 */
static void
fp_check_create_log(struct fp_guest *p, bool window_all)
{
	uint64_t page, dev = FP_DEVICE_GPA >> VRELAY_LOG_PAGE_SHIFT;
	bool guest;

	if (p->g.log == NULL)
		return;
	for (page = 0; page < p->g.log_size * 8; page++) {
		guest = page < FG_PAGES &&
			fg_in_memory(page << VRELAY_LOG_PAGE_SHIFT,
				     VRELAY_LOG_PAGE_SIZE);
		if (window_all && guest)
			FG_ASSERT(fg_log_test(&p->g, page));
		else if (page != dev || !guest)
			FG_ASSERT(!fg_log_test(&p->g, page));
	}
	memset(p->g.log, 0, p->g.log_size);
}

int
fp_setup(const uint8_t *data, size_t size, struct fg_in *in,
	 struct fp_guest *p)
{
	struct vrelay_queue_conf c = { 0 };
	struct fg_in gin;
	uint8_t lsz;

	fg_global_init();
	if (fp_doorbell < 0)
		fp_doorbell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	memset(p, 0, sizeof(*p));
	fg_split(data, size, in, &gin);
	fp_reset(p, in, &gin);
	fp_conf(p, &c, in);
	lsz = fg_u8(in);
	p->g.dev = vrelay_device_create("fz", &p->g.mem);
	FG_ASSERT(p->g.dev != NULL);
	if (lsz != 0) {
		p->g.log_size = 1 + lsz % FG_LOG_MAX;
		/* Its last byte right before fuzz_guest.c's guard page. */
		p->g.log = fg_log_area() + 4096 - p->g.log_size;
		FG_ASSERT(vrelay_device_set_log(p->g.dev, p->g.log,
						p->g.log_size) == 0);
	}
	p->g.q = vrelay_queue_create(p->g.dev, &c);
	if (p->g.q == NULL) {
		FG_ASSERT(errno == EINVAL || errno == EFAULT);
		fg_guest_teardown(&p->g);
		return -1;
	}
	if (vrelay_queue_state(p->g.q) != VRELAY_QUEUE_BROKEN)
		fp_check_create_log(p, c.log_window_all);
	p->mring = vrelay_queue_mring(p->g.q)->desc;
	p->pos = c.state.avail_idx;
	p->wrap = c.state.avail_wrap;
	p->upos = c.state.used_idx;
	p->uwrap = c.state.used_wrap;
	return 0;
}

void
fp_mutate(struct fp_guest *p, struct fg_in *in)
{
	uint8_t n = fg_u8(in) % 8, i;

	for (i = 0; i < n; i++) {
		uint16_t at = fg_u16(in);
		struct vring_packed_desc *d = (at & 0x8000) ?
			(struct vring_packed_desc *)p->g.c + at % FG_ITABLE_MAX :
			&p->ring[at % p->g.size];
		uint16_t keep = d->flags & (FP_F_AVAIL | FP_F_USED);

		fp_decode_desc(in, d, p->g.size);
		d->flags |= keep;
	}
}

/* One buffer: in memory or not, pages of its writable bytes by len. */
static void
fp_buffer(const struct vring_packed_desc *d, uint64_t *len, fg_page_fn fn,
	  void *arg, struct fp_chain *c)
{
	uint64_t take;

	if (!fg_in_memory(d->addr, d->len))
		c->in_mem = false;
	if ((d->flags & VRING_DESC_F_WRITE) && *len > 0 && fn != NULL) {
		take = d->len < *len ? d->len : *len;
		fg_pages(d->addr, take, fn, arg);
		*len -= take;
	}
}

static int
fp_table(const struct fp_guest *p, bool snap,
	 const struct vring_packed_desc *d, uint64_t *len, fg_page_fn fn,
	 void *arg, struct fp_chain *c)
{
	struct vring_packed_desc e;
	const uint8_t *t;
	uint32_t i;

	if (d->len == 0 || d->len % 16 != 0)
		return -1;
	t = fg_view(fg_hva(&p->g, d->addr, d->len), snap);
	if (t == NULL)
		return -1;
	for (i = 0; i < d->len / 16; i++) {
		/* A table need not be aligned: read it as bytes. */
		memcpy(&e, t + 16 * i, sizeof(e));
		fp_buffer(&e, len, fn, arg, c);
	}
	return 0;
}

int
fp_walk(const struct fp_guest *p, bool snap, uint16_t pos, uint64_t len,
	fg_page_fn fn, void *arg, struct fp_chain *c)
{
	const struct vring_packed_desc *r = fg_view(p->ring, snap);
	bool wrap = false;

	*c = (struct fp_chain){ .in_mem = true };
	while (c->ndesc < p->g.size) {
		const struct vring_packed_desc *d = &r[pos];

		if (d->flags & VRING_DESC_F_INDIRECT) {
			if (fp_table(p, snap, d, &len, fn, arg, c) != 0)
				return -1;
		} else {
			fp_buffer(d, &len, fn, arg, c);
		}
		c->id = d->id;
		c->ndesc++;
		if (!(d->flags & VRING_DESC_F_NEXT))
			return 0;
		fp_advance(p->g.size, &pos, &wrap, 1);
	}
	return -1;
}
