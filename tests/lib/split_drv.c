/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Split virtqueue, driver side, for tests (see split_drv.h). Section
 * numbers are virtio 1.2's (split rings: 2.7). Ring fields are host
 * byte order: the tests run little-endian only, as the relay does.
 */

#include <string.h>

#include "split_drv.h"

int
split_drv_init(struct split_drv *d, uint16_t size, uint64_t desc_gpa,
	       uint64_t avail_gpa, uint64_t used_gpa,
	       vq_drv_xlate_t xlate, void *opaque)
{
	memset(d, 0, sizeof(*d));
	d->xlate = xlate;
	d->opaque = opaque;
	d->size = size;
	d->desc_gpa = desc_gpa;
	d->avail_gpa = avail_gpa;
	d->used_gpa = used_gpa;
	d->desc = xlate(opaque, desc_gpa, SPLIT_DRV_DESC_BYTES(size));
	d->avail = xlate(opaque, avail_gpa, SPLIT_DRV_AVAIL_BYTES(size));
	d->used = xlate(opaque, used_gpa, SPLIT_DRV_USED_BYTES(size));
	return d->desc && d->avail && d->used ? 0 : -1;
}

void
split_drv_clear(struct split_drv *d)
{
	memset(d->desc, 0, SPLIT_DRV_DESC_BYTES(d->size));
	memset(d->avail, 0, SPLIT_DRV_AVAIL_BYTES(d->size));
	memset(d->used, 0, SPLIT_DRV_USED_BYTES(d->size));
	d->next_desc = 0;
	d->used_seen = 0;
}

void
split_drv_reset(struct split_drv *d, uint16_t start)
{
	d->avail->idx = start;
	d->used->idx = start;
	d->next_desc = 0;
	d->used_seen = start;
}

void *
split_drv_ptr(const struct split_drv *d, uint64_t gpa, uint64_t len)
{
	return d->xlate(d->opaque, gpa, len);
}

uint16_t
split_drv_write_chain(struct vring_desc *tbl, uint16_t tbl_size,
		      uint16_t first, const struct vq_drv_seg *s,
		      unsigned int n)
{
	uint16_t idx = first;
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint16_t nxt = (uint16_t)((idx + 1) % tbl_size);
		bool more = i + 1 < n;

		tbl[idx].addr = s[i].gpa;
		tbl[idx].len = s[i].len;
		tbl[idx].flags = s[i].flags | (more ? VRING_DESC_F_NEXT : 0);
		tbl[idx].next = more ? nxt : 0;
		idx = nxt;
	}
	return idx;
}

uint16_t
split_drv_add(struct split_drv *d, const struct vq_drv_seg *s,
	      unsigned int n)
{
	uint16_t head = d->next_desc;

	d->next_desc = split_drv_write_chain(d->desc, d->size, head, s, n);
	split_drv_publish(d, head);
	return head;
}

uint16_t
split_drv_add_indirect(struct split_drv *d, const struct vq_drv_seg *s,
		       unsigned int n, uint64_t table_gpa)
{
	uint32_t bytes = sizeof(struct vring_desc) * n;
	struct vring_desc *tbl = split_drv_ptr(d, table_gpa, bytes);
	struct vq_drv_seg ind = { table_gpa, bytes, VRING_DESC_F_INDIRECT };

	if (tbl == NULL)
		return UINT16_MAX;
	split_drv_write_chain(tbl, (uint16_t)n, 0, s, n);
	/* Table before the ring entry: the publish barrier covers both. */
	return split_drv_add(d, &ind, 1);
}

void
split_drv_publish_n(struct split_drv *d, const uint16_t *heads,
		    unsigned int n)
{
	/*
	 * Read back, not shadowed: the driver is the only writer of
	 * avail->idx, and tests that move it by hand expect the next
	 * publish to follow on from there.
	 */
	uint16_t idx = d->avail->idx;
	unsigned int i;

	for (i = 0; i < n; i++)
		d->avail->ring[(uint16_t)(idx + i) % d->size] = heads[i];
	/*
	 * 2.7.13.3.1: descriptors, tables and ring entries must be visible
	 * before the new idx is: release store.
	 */
	__atomic_store_n(&d->avail->idx, (uint16_t)(idx + n),
			 __ATOMIC_RELEASE);
}

void
split_drv_publish(struct split_drv *d, uint16_t head)
{
	split_drv_publish_n(d, &head, 1);
}

uint16_t
split_drv_used_idx(const struct split_drv *d)
{
	/*
	 * 2.7.14: used entries are read after idx; acquire pairs with the
	 * barrier the device puts between its entries and its idx update
	 * (2.7.8), so entries up to idx are complete when read.
	 */
	return __atomic_load_n(&d->used->idx, __ATOMIC_ACQUIRE);
}

uint16_t
split_drv_used_pending(const struct split_drv *d)
{
	return (uint16_t)(split_drv_used_idx(d) - d->used_seen);
}

struct vring_used_elem *
split_drv_used_elem(const struct split_drv *d, uint16_t i)
{
	return &d->used->ring[(uint16_t)(d->used_seen + i) % d->size];
}

void
split_drv_used_consume(struct split_drv *d, uint16_t n)
{
	d->used_seen += n;
}

void
split_drv_set_used_event(struct split_drv *d, uint16_t idx)
{
	/*
	 * 2.7.7: used_event sits after the avail ring. No fence here: a
	 * driver that re-checks used idx afterwards must put a full barrier
	 * between the two itself (the store-load order a release cannot
	 * give).
	 */
	__atomic_store_n(&d->avail->ring[d->size], idx, __ATOMIC_RELAXED);
}

uint16_t
split_drv_avail_event(const struct split_drv *d)
{
	/* 2.7.10: avail_event sits after the used ring. */
	return __atomic_load_n((const uint16_t *)&d->used->ring[d->size],
			       __ATOMIC_RELAXED);
}
