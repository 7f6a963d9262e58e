/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue, driver side (virtio 1.x, section 2.7): the
 * VQ_SPLIT operations behind the virtq.h seam.
 */
#include <errno.h>
#include <stddef.h>

#include "virtq.h"

#define DESC_SZ sizeof(struct vring_desc)
/* flags + idx + ring[size] + used_event */
#define AVAIL_SZ(n) (4u + 2u * (n) + 2u)
/* flags + idx + ring[size] + avail_event */
#define USED_SZ(n) (4u + 8u * (n) + 2u)

/* Keep the device from interrupting us: we poll. */
#define USED_EVENT_FAR 0x8000u

static uint16_t *
used_event(const struct virtq *vq)
{
	return &vq->avail->ring[vq->size];
}

static uint16_t *
avail_event(const struct virtq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->size];
}

static int
map_rings(struct virtq *vq, struct guest_mem *gm)
{
	vq->gm = gm;
	vq->desc = gm_hva(gm, vq->desc_gpa, DESC_SZ * vq->size);
	vq->avail = gm_hva(gm, vq->avail_gpa, AVAIL_SZ(vq->size));
	vq->used = gm_hva(gm, vq->used_gpa, USED_SZ(vq->size));
	if (!vq->desc || !vq->avail || !vq->used)
		return -EFAULT;
	return 0;
}

static int
alloc_rings(struct virtq *vq, struct guest_mem *gm)
{
	vq->desc_gpa = gm_alloc(gm, DESC_SZ * vq->size, 4096);
	vq->avail_gpa = gm_alloc(gm, AVAIL_SZ(vq->size), 4096);
	/* Used ring on its own page(s): device writes are easy to tell. */
	vq->used_gpa = gm_alloc(gm, USED_SZ(vq->size), 4096);
	vq->indir_gpa = gm_alloc(gm, DESC_SZ * VQ_MAX_SEGS * vq->size, 4096);
	if (!vq->desc_gpa || !vq->avail_gpa || !vq->used_gpa || !vq->indir_gpa)
		return -ENOMEM;
	return map_rings(vq, gm);
}

/* Rings allocated; we poll the used ring: ask for no interrupts. */
static int
split_alloc(struct virtq *vq, struct guest_mem *gm)
{
	int ret = alloc_rings(vq, gm);

	if (ret < 0)
		return ret;
	gm_mark(gm, vq->avail_gpa, AVAIL_SZ(vq->size));
	vq->avail->flags = vq->event_idx ? 0 : VRING_AVAIL_F_NO_INTERRUPT;
	*used_event(vq) = USED_EVENT_FAR;
	return 0;
}

static void
write_desc(struct virtq *vq, struct vring_desc *d, uint64_t d_gpa,
	   const struct vq_seg *s, uint16_t flags, uint16_t next)
{
	gm_mark(vq->gm, d_gpa, DESC_SZ);
	d->addr = s->gpa;
	d->len = s->len;
	d->flags = flags | (s->write ? VRING_DESC_F_WRITE : 0);
	d->next = next;
}

static uint16_t
add_indirect(struct virtq *vq, const struct vq_seg *segs, unsigned int n)
{
	uint16_t head = vq->free_stack[--vq->num_free];
	uint64_t tbl = vq->indir_gpa + (uint64_t)head * VQ_MAX_SEGS * DESC_SZ;
	struct vring_desc *t = gm_hva(vq->gm, tbl, n * DESC_SZ);
	struct vq_seg hs = { .gpa = tbl, .len = n * DESC_SZ };
	unsigned int i;

	for (i = 0; i < n; i++)
		write_desc(vq, &t[i], tbl + i * DESC_SZ, &segs[i],
			   i + 1 < n ? VRING_DESC_F_NEXT : 0, i + 1);
	write_desc(vq, &vq->desc[head], vq->desc_gpa + head * DESC_SZ, &hs,
		   VRING_DESC_F_INDIRECT, 0);
	vq->chain_len[head] = 1;
	return head;
}

static uint16_t
add_direct(struct virtq *vq, const struct vq_seg *segs, unsigned int n)
{
	uint16_t id[VQ_MAX_SEGS];
	unsigned int i;

	for (i = 0; i < n; i++)
		id[i] = vq->free_stack[--vq->num_free];
	for (i = 0; i < n; i++) {
		bool more = i + 1 < n;

		vq->next[id[i]] = more ? id[i + 1] : 0;
		write_desc(vq, &vq->desc[id[i]],
			   vq->desc_gpa + id[i] * DESC_SZ, &segs[i],
			   more ? VRING_DESC_F_NEXT : 0, vq->next[id[i]]);
	}
	vq->chain_len[id[0]] = n;
	return id[0];
}

/* Arguments and room were checked by virtq_add(). */
static int
split_add(struct virtq *vq, const struct vq_seg *segs, unsigned int n,
	  bool indirect, void *token)
{
	uint16_t head, slot;

	head = indirect ? add_indirect(vq, segs, n) : add_direct(vq, segs, n);
	vq->token[head] = token;
	slot = vq->avail_idx & (vq->size - 1);
	gm_mark(vq->gm, vq->avail_gpa + offsetof(struct vring_avail, ring) +
		slot * 2u, 2);
	vq->avail->ring[slot] = head;
	vq->avail_idx++;
	return 0;
}

static bool
need_kick(struct virtq *vq, uint16_t old, uint16_t new)
{
	if (vq->event_idx)
		return vring_need_event(__atomic_load_n(avail_event(vq),
							__ATOMIC_RELAXED),
					new, old);
	return !(__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED) &
		 VRING_USED_F_NO_NOTIFY);
}

static int
split_publish(struct virtq *vq)
{
	uint16_t old = vq->kicked_idx, new = vq->avail_idx;

	if (old == new)
		return -1;
	gm_mark(vq->gm, vq->avail_gpa + offsetof(struct vring_avail, idx), 2);
	/*
	 * Virtio 2.7.13.2/2.7.13.3: descriptor table and avail ring entries
	 * must be visible before the new avail->idx (write barrier).
	 */
	__atomic_store_n(&vq->avail->idx, new, __ATOMIC_RELEASE);
	/*
	 * Virtio 2.7.13.4: a full barrier between publishing idx and reading
	 * the notification suppression fields, or the driver could read a
	 * stale NO_NOTIFY/avail_event while the device stops polling.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->kicked_idx = new;
	return need_kick(vq, old, new);
}

static uint16_t
split_used_idx(const struct virtq *vq)
{
	/*
	 * Virtio 2.7.14 (read barrier): used ring entries and buffer data
	 * written by the device are only read after seeing used->idx, so
	 * this load has acquire semantics.
	 */
	return __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
}

static uint16_t
split_pending(const struct virtq *vq)
{
	return (uint16_t)(split_used_idx(vq) - vq->last_used);
}

static int
read_elem(const struct virtq *vq, uint16_t slot, struct vq_used *u)
{
	const struct vring_used_elem *e = &vq->used->ring[slot & (vq->size - 1)];
	uint32_t id = e->id;

	if (id >= vq->size || vq->token[id] == NULL)
		return -EPROTO;
	u->token = vq->token[id];
	u->len = e->len;
	u->slot = slot;
	return 1;
}

static int
split_peek_used(const struct virtq *vq, uint16_t n, struct vq_used *u)
{
	if (n >= split_pending(vq))
		return 0;
	return read_elem(vq, vq->last_used + n, u);
}

static void
free_chain(struct virtq *vq, uint16_t head)
{
	uint16_t i, d = head, n = vq->chain_len[head];

	for (i = 0; i < n; i++) {
		vq->free_stack[vq->num_free++] = d;
		d = vq->next[d];
	}
	vq->token[head] = NULL;
}

static int
split_get_used(struct virtq *vq, struct vq_used *u)
{
	uint16_t slot = vq->last_used;
	int ret;

	if (split_pending(vq) == 0)
		return 0;
	ret = read_elem(vq, slot, u);
	if (ret < 0)
		return ret;
	free_chain(vq, vq->used->ring[slot & (vq->size - 1)].id);
	vq->last_used++;
	if (vq->event_idx) {
		/* Keep used_event out of reach: no interrupts wanted. */
		gm_mark(vq->gm, vq->avail_gpa + AVAIL_SZ(vq->size) - 2, 2);
		__atomic_store_n(used_event(vq),
				 (uint16_t)(vq->last_used + USED_EVENT_FAR),
				 __ATOMIC_RELAXED);
	}
	return 1;
}

static void
split_mark_used_write(const struct virtq *vq, uint16_t slot,
		      struct dl_bitmap *bm)
{
	uint64_t e = vq->used_gpa + offsetof(struct vring_used, ring) +
		     (uint64_t)(slot & (vq->size - 1)) *
		     sizeof(struct vring_used_elem);

	dl_bitmap_set_range(bm, e, sizeof(struct vring_used_elem));
	dl_bitmap_set_range(bm, vq->used_gpa + offsetof(struct vring_used, idx),
			    2);
}

const struct virtq_ops virtq_split_ops = {
	.map = map_rings,
	.alloc = split_alloc,
	.add = split_add,
	.publish = split_publish,
	.pending = split_pending,
	.peek_used = split_peek_used,
	.get_used = split_get_used,
	.used_idx = split_used_idx,
	.mark_used_write = split_mark_used_write,
	.initial_base = 0,
};
