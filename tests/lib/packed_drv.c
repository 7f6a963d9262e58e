/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Packed virtqueue, driver and device sides, for tests (see
 * packed_drv.h). Section numbers are virtio 1.2's (packed rings: 2.8).
 * Ring fields are host byte order: the tests run little-endian only, as
 * the relay does.
 */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "packed_drv.h"

#define EVENT_WRAP	(1u << VRING_PACKED_EVENT_F_WRAP_CTR)

void
packed_pos_add(struct packed_pos *p, uint16_t size, uint16_t n)
{
	uint32_t i = (uint32_t)p->idx + n;

	if (i >= size) {
		i -= size;
		p->wrap = !p->wrap;
	}
	p->idx = (uint16_t)i;
}

uint16_t
packed_avail_bits(bool wrap)
{
	/* 2.8.1: AVAIL equal to the driver's wrap counter, USED not. */
	return wrap ? PACKED_F_AVAIL : PACKED_F_USED;
}

bool
packed_is_avail(uint16_t flags, bool wrap)
{
	return !!(flags & PACKED_F_AVAIL) == wrap &&
		!!(flags & PACKED_F_USED) != wrap;
}

bool
packed_is_used(uint16_t flags, bool wrap)
{
	return !!(flags & PACKED_F_AVAIL) == wrap &&
		!!(flags & PACKED_F_USED) == wrap;
}

void
packed_event_set(struct vring_packed_desc_event *ev, uint16_t flags,
		 struct packed_pos at)
{
	/* 2.8.10: the position before the flags that make it count. */
	__atomic_store_n(&ev->off_wrap,
			 (uint16_t)(at.idx | (at.wrap ? EVENT_WRAP : 0)),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&ev->flags, flags, __ATOMIC_RELEASE);
}

/* ---- driver side ---------------------------------------------------- */

int
packed_drv_init(struct packed_drv *d, uint16_t size, uint64_t desc_gpa,
		uint64_t driver_gpa, uint64_t device_gpa,
		vq_drv_xlate_t xlate, void *opaque)
{
	memset(d, 0, sizeof(*d));
	d->xlate = xlate;
	d->opaque = opaque;
	d->size = size;
	d->desc_gpa = desc_gpa;
	d->driver_gpa = driver_gpa;
	d->device_gpa = device_gpa;
	d->desc = xlate(opaque, desc_gpa, PACKED_DRV_DESC_BYTES(size));
	d->driver = xlate(opaque, driver_gpa, PACKED_DRV_EVENT_BYTES);
	d->device = xlate(opaque, device_gpa, PACKED_DRV_EVENT_BYTES);
	d->ndesc = calloc(size, sizeof(*d->ndesc));
	return d->desc && d->driver && d->device && d->ndesc ? 0 : -1;
}

void
packed_drv_fini(struct packed_drv *d)
{
	free(d->ndesc);
	d->ndesc = NULL;
}

void
packed_drv_reset(struct packed_drv *d, struct packed_pos at)
{
	uint16_t i;

	for (i = 0; i < d->size; i++) {
		bool lap = i < at.idx ? at.wrap : !at.wrap;

		memset(&d->desc[i], 0, sizeof(d->desc[i]));
		/* 2.8.1: a used descriptor has AVAIL == USED == its lap. */
		d->desc[i].flags = lap ? PACKED_F_AVAIL | PACKED_F_USED : 0;
	}
	memset(d->driver, 0, PACKED_DRV_EVENT_BYTES);
	memset(d->device, 0, PACKED_DRV_EVENT_BYTES);
	memset(d->ndesc, 0, d->size * sizeof(*d->ndesc));
	d->avail = at;
	d->used = at;
	d->inflight = 0;
}

void *
packed_drv_ptr(const struct packed_drv *d, uint64_t gpa, uint64_t len)
{
	return d->xlate(d->opaque, gpa, len);
}

uint16_t
packed_drv_add(struct packed_drv *d, const struct vq_drv_seg *s,
	       unsigned int n, uint16_t id)
{
	struct packed_pos head = d->avail;
	uint16_t head_flags = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct vring_packed_desc *e = &d->desc[d->avail.idx];
		uint16_t f = s[i].flags | packed_avail_bits(d->avail.wrap) |
			(i + 1 < n ? VRING_DESC_F_NEXT : 0);

		e->addr = s[i].gpa;
		e->len = s[i].len;
		/* The device takes the last one's; the others match it. */
		e->id = id;
		if (i == 0)
			head_flags = f;
		else
			e->flags = f;
		packed_pos_add(&d->avail, d->size, 1);
	}
	if (id < d->size)
		d->ndesc[id] = (uint16_t)n;
	d->inflight++;
	/* 2.8.21: the rest of the chain visible before its head's flags. */
	__atomic_store_n(&d->desc[head.idx].flags, head_flags,
			 __ATOMIC_RELEASE);
	return head.idx;
}

uint16_t
packed_drv_add_indirect(struct packed_drv *d, const struct vq_drv_seg *s,
			unsigned int n, uint16_t id, uint64_t table_gpa)
{
	uint32_t bytes = sizeof(struct vring_packed_desc) * n;
	struct vring_packed_desc *tbl = packed_drv_ptr(d, table_gpa, bytes);
	struct vq_drv_seg ind = { table_gpa, bytes, VRING_DESC_F_INDIRECT };
	unsigned int i;

	if (tbl == NULL)
		return UINT16_MAX;
	/* 2.8.19: a table is read in order; its ids and NEXT unused. */
	for (i = 0; i < n; i++)
		tbl[i] = (struct vring_packed_desc){ .addr = s[i].gpa,
			.len = s[i].len, .id = 0, .flags = s[i].flags };
	return packed_drv_add(d, &ind, 1, id);
}

int
packed_drv_get_used(struct packed_drv *d, uint16_t *id, uint32_t *len)
{
	struct vring_packed_desc *e = &d->desc[d->used.idx];
	/* 2.8.22: id and len are read after flags say the slot is used. */
	uint16_t f = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

	if (!packed_is_used(f, d->used.wrap))
		return 0;
	*id = e->id;
	*len = e->len;
	if (*id >= d->size || d->ndesc[*id] == 0)
		return -1;
	packed_pos_add(&d->used, d->size, d->ndesc[*id]);
	d->ndesc[*id] = 0;
	d->inflight--;
	return 1;
}

void
packed_drv_set_driver_event(struct packed_drv *d, uint16_t flags,
			    struct packed_pos at)
{
	packed_event_set(d->driver, flags, at);
}

bool
packed_drv_device_wants_kick(const struct packed_drv *d)
{
	return __atomic_load_n(&d->device->flags, __ATOMIC_ACQUIRE) !=
		VRING_PACKED_EVENT_FLAG_DISABLE;
}

/* ---- device side ---------------------------------------------------- */

void
packed_dev_init(struct packed_dev *v, uint16_t size,
		struct vring_packed_desc *desc,
		struct vring_packed_desc_event *driver,
		struct vring_packed_desc_event *device,
		vq_drv_xlate_t xlate, void *opaque,
		struct packed_pos avail, struct packed_pos used)
{
	*v = (struct packed_dev){ .size = size, .desc = desc,
		.driver = driver, .device = device, .xlate = xlate,
		.opaque = opaque, .avail = avail, .used = used };
}

static void
chain_seg(struct packed_dev_chain *c, const struct vring_packed_desc *e)
{
	if (c->nseg < PACKED_DEV_MAX_SEGS)
		c->seg[c->nseg] = (struct vq_drv_seg){ e->addr, e->len,
			e->flags & VRING_DESC_F_WRITE };
	c->nseg++;
}

/* The buffers of an indirect table, in order (2.8.19). */
static int
chain_table(const struct packed_dev *v, struct packed_dev_chain *c,
	    const struct vring_packed_desc *e)
{
	const struct vring_packed_desc *tbl = v->xlate(v->opaque, e->addr,
						       e->len);
	uint32_t i;

	if (tbl == NULL)
		return -1;
	for (i = 0; i < e->len / sizeof(*tbl); i++)
		chain_seg(c, &tbl[i]);
	return 0;
}

int
packed_dev_fetch(struct packed_dev *v, struct packed_dev_chain *c)
{
	const struct vring_packed_desc *e = &v->desc[v->avail.idx];
	uint16_t f = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

	if (!packed_is_avail(f, v->avail.wrap))
		return 0;
	memset(c, 0, offsetof(struct packed_dev_chain, seg));
	for (;;) {
		e = &v->desc[v->avail.idx];
		f = e->flags;
		if ((f & VRING_DESC_F_INDIRECT) && chain_table(v, c, e) != 0)
			return -1;
		if (!(f & VRING_DESC_F_INDIRECT))
			chain_seg(c, e);
		c->id = e->id;
		c->ndesc++;
		packed_pos_add(&v->avail, v->size, 1);
		if (!(f & VRING_DESC_F_NEXT) || c->ndesc == v->size)
			return 1;
	}
}

uint32_t
packed_dev_fill(const struct packed_dev *v, const struct packed_dev_chain *c,
		uint32_t len, uint8_t pattern)
{
	uint32_t done = 0, k;
	uint16_t i;

	for (i = 0; i < c->nseg && i < PACKED_DEV_MAX_SEGS && len > 0; i++) {
		const struct vq_drv_seg *s = &c->seg[i];
		void *p;

		if (!(s->flags & VRING_DESC_F_WRITE))
			continue;
		k = s->len < len ? s->len : len;
		p = v->xlate(v->opaque, s->gpa, k);
		if (p != NULL)
			memset(p, pattern, k);
		done += k;
		len -= k;
	}
	return done;
}

void
packed_dev_complete(struct packed_dev *v, uint16_t id, uint32_t len,
		    uint16_t ndesc)
{
	struct vring_packed_desc *e = &v->desc[v->used.idx];
	uint16_t f = v->used.wrap ? PACKED_F_AVAIL | PACKED_F_USED : 0;

	e->id = id;
	e->len = len;
	/* id and len visible before the flags that publish them. */
	__atomic_store_n(&e->flags, f, __ATOMIC_RELEASE);
	packed_pos_add(&v->used, v->size, ndesc);
}

bool
packed_dev_driver_wants_irq(const struct packed_dev *v)
{
	return __atomic_load_n(&v->driver->flags, __ATOMIC_ACQUIRE) !=
		VRING_PACKED_EVENT_FLAG_DISABLE;
}
