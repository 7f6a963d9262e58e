/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packed virtqueue, driver side (virtio 1.1+, section 2.8): the
 * VQ_PACKED operations behind the virtq.h seam.
 *
 * One ring of 16-byte descriptors serves both directions. The driver
 * makes a descriptor available by writing AVAIL = its wrap counter and
 * USED = the inverse; the device hands a buffer back by overwriting the
 * first slot of its chain with a used descriptor (buffer ID, written
 * length, AVAIL = USED = the device's wrap counter) and skipping the
 * chain's other slots. Buffer IDs come from a free list and are not
 * ring slots: a buffer is found by the ID the device echoes back.
 *
 * Positions are (slot, wrap counter) pairs; vhost-user encodes them as
 * slot | wrap << 15 (DPDK lib/vhost SET/GET_VRING_BASE, QEMU alike).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "virtq.h"

#define PDESC_SZ sizeof(struct vring_packed_desc)
#define EVT_SZ sizeof(struct vring_packed_desc_event)
#define F_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED (1u << VRING_PACKED_DESC_F_USED)
#define WRAP_BIT (1u << VRING_PACKED_EVENT_F_WRAP_CTR)

/* AVAIL/USED bits that make a descriptor available in lap @wrap. */
static uint16_t
avail_bits(bool wrap)
{
	return wrap ? F_AVAIL : F_USED;
}

/* Move a ring position by @n slots, flipping @wrap on each lap. */
static void
advance(const struct virtq *vq, uint16_t *slot, bool *wrap, uint16_t n)
{
	uint32_t s = (uint32_t)*slot + n;

	if (s >= vq->size) {
		s -= vq->size;
		*wrap = !*wrap;
	}
	*slot = (uint16_t)s;
}

static int
packed_map(struct virtq *vq, struct guest_mem *gm)
{
	vq->gm = gm;
	vq->pdesc = gm_hva(gm, vq->desc_gpa, PDESC_SZ * vq->size);
	vq->drv_evt = gm_hva(gm, vq->avail_gpa, EVT_SZ);
	vq->dev_evt = gm_hva(gm, vq->used_gpa, EVT_SZ);
	if (!vq->pdesc || !vq->drv_evt || !vq->dev_evt)
		return -EFAULT;
	return 0;
}

/*
 * Driver event suppression: we poll, so the device should not
 * interrupt. Without EVENT_IDX that is RING_EVENT_FLAGS_DISABLE. With
 * it, descriptor mode with the event at last_used in the other lap: the
 * device's used position stays within one ring of last_used, so it
 * never reaches the event before we consume more (the packed twin of
 * split's used_event half the index space away).
 */
static void
driver_event_far(struct virtq *vq)
{
	uint16_t off = vq->last_used | (vq->used_wrap ? 0 : WRAP_BIT);

	gm_mark(vq->gm, vq->avail_gpa + offsetof(struct vring_packed_desc_event,
						 off_wrap), 2);
	__atomic_store_n(&vq->drv_evt->off_wrap, off, __ATOMIC_RELAXED);
}

static void
driver_event_init(struct virtq *vq)
{
	uint16_t flags = vq->event_idx ? VRING_PACKED_EVENT_FLAG_DESC :
					 VRING_PACKED_EVENT_FLAG_DISABLE;

	driver_event_far(vq);
	gm_mark(vq->gm, vq->avail_gpa + offsetof(struct vring_packed_desc_event,
						 flags), 2);
	/*
	 * Virtio 2.8 "Driver and Device Event Suppression": off_wrap must
	 * be valid before
	 * flags select descriptor mode; the device reads flags first
	 * (DPDK: acquire fence after the flags load), so flags are stored
	 * with release.
	 */
	__atomic_store_n(&vq->drv_evt->flags, flags, __ATOMIC_RELEASE);
}

static int
packed_alloc(struct virtq *vq, struct guest_mem *gm)
{
	int ret;

	vq->desc_gpa = gm_alloc(gm, PDESC_SZ * vq->size, 4096);
	/* Event areas on their own pages: device writes are easy to tell. */
	vq->avail_gpa = gm_alloc(gm, EVT_SZ, 4096);
	vq->used_gpa = gm_alloc(gm, EVT_SZ, 4096);
	vq->indir_gpa = gm_alloc(gm, PDESC_SZ * VQ_MAX_SEGS * vq->size, 4096);
	if (!vq->desc_gpa || !vq->avail_gpa || !vq->used_gpa || !vq->indir_gpa)
		return -ENOMEM;
	ret = packed_map(vq, gm);
	if (ret < 0)
		return ret;
	/*
	 * Virtio 2.8.1 "Driver and Device Ring Wrap Counters": both wrap
	 * counters start at 1 and the ring is zero-initialized, so zeroed
	 * descriptors (AVAIL = USED = 0) are neither available nor used.
	 */
	vq->avail_wrap = vq->used_wrap = true;
	gm_mark(gm, vq->desc_gpa, PDESC_SZ * vq->size);
	memset(vq->pdesc, 0, PDESC_SZ * vq->size);
	driver_event_init(vq);
	return 0;
}

/* Fill addr, len and id of one ring descriptor; flags come separately. */
static void
fill_desc(struct virtq *vq, uint16_t slot, const struct vq_seg *s,
	  uint16_t id)
{
	struct vring_packed_desc *d = &vq->pdesc[slot];

	gm_mark(vq->gm, vq->desc_gpa + slot * PDESC_SZ, PDESC_SZ);
	d->addr = s->gpa;
	d->len = s->len;
	d->id = id;
}

/*
 * Write the indirect table of buffer @id (virtio 2.8 "Indirect Flag":
 * len / 16 packed descriptors read in sequence, WRITE the only valid
 * flag, id ignored) and return the ring descriptor pointing at it
 * (WRITE is reserved there).
 */
static struct vq_seg
write_table(struct virtq *vq, uint16_t id, const struct vq_seg *segs,
	    unsigned int n)
{
	uint64_t tbl = vq->indir_gpa + (uint64_t)id * VQ_MAX_SEGS * PDESC_SZ;
	struct vring_packed_desc *t = gm_wptr(vq->gm, tbl, n * PDESC_SZ);
	unsigned int i;

	for (i = 0; i < n; i++)
		t[i] = (struct vring_packed_desc){
			.addr = segs[i].gpa, .len = segs[i].len,
			.flags = segs[i].write ? VRING_DESC_F_WRITE : 0,
		};
	return (struct vq_seg){ .gpa = tbl, .len = n * PDESC_SZ };
}

/*
 * Arguments and room (ring slots) were checked by virtq_add(). The
 * chain takes consecutive slots, every descriptor with the buffer ID
 * and correct AVAIL/USED/WRITE bits (virtio 2.8 "Next Flag: Descriptor
 * Chaining"). Every descriptor but the head gets its flags now; the
 * head's flags wait in vq->pend until virtq_publish(), because the
 * driver must not make the first descriptor of a list available before
 * the rest (2.8 "Scatter-Gather Support", driver requirements).
 */
static int
packed_add(struct virtq *vq, const struct vq_seg *segs, unsigned int n,
	   bool indirect, void *token)
{
	uint16_t slot = vq->avail_idx, id, f;
	unsigned int i, ndesc = indirect ? 1 : n;
	bool wrap = vq->avail_wrap;
	struct vq_seg hs;

	if (vq->num_ids == 0 || vq->npend >= vq->size)
		return -ENOSPC;
	id = vq->free_stack[--vq->num_ids];
	if (indirect) {
		hs = write_table(vq, id, segs, n);
		segs = &hs;
	}
	for (i = 0; i < ndesc; i++) {
		f = avail_bits(wrap) |
		    (i + 1 < ndesc ? VRING_DESC_F_NEXT : 0) |
		    (indirect ? VRING_DESC_F_INDIRECT : 0) |
		    (segs[i].write ? VRING_DESC_F_WRITE : 0);
		fill_desc(vq, slot, &segs[i], id);
		if (i == 0)
			vq->pend[vq->npend++] = (struct vq_pend){ slot, f };
		else
			vq->pdesc[slot].flags = f;
		advance(vq, &slot, &wrap, 1);
	}
	vq->chain_len[id] = ndesc;
	vq->token[id] = token;
	vq->num_free -= ndesc;
	vq->added += ndesc;
	vq->avail_idx = slot;
	vq->avail_wrap = wrap;
	return 0;
}

/*
 * Device event suppression (virtio 2.8 "Driver and Device Event
 * Suppression"; driver side as in Linux's
 * virtqueue_kick_prepare_packed): ENABLE kicks, DISABLE does not, DESC
 * (EVENT_IDX) kicks if the descriptors just published crossed the
 * event position. Positions of the previous lap are represented as
 * slot - size, so the u16 arithmetic of vring_need_event() holds across
 * a wrap.
 */
static bool
need_kick(const struct virtq *vq, uint16_t old, uint16_t new)
{
	struct vring_packed_desc_event e;
	uint32_t raw;
	uint16_t event;

	/* One 32-bit load: flags and off_wrap from the same device update. */
	raw = __atomic_load_n((const uint32_t *)(const void *)vq->dev_evt,
			      __ATOMIC_RELAXED);
	memcpy(&e, &raw, sizeof(e));
	if (e.flags != VRING_PACKED_EVENT_FLAG_DESC)
		return e.flags != VRING_PACKED_EVENT_FLAG_DISABLE;
	event = e.off_wrap & ~WRAP_BIT;
	if (!!(e.off_wrap & WRAP_BIT) != vq->avail_wrap)
		event -= vq->size;
	return vring_need_event(event, new, old);
}

static int
packed_publish(struct virtq *vq)
{
	uint16_t i, new = vq->avail_idx, old = new - vq->added;
	const struct vq_pend *p;

	if (vq->npend == 0)
		return -1;
	for (i = 0; i < vq->npend; i++) {
		p = &vq->pend[i];
		gm_mark(vq->gm, vq->desc_gpa + p->slot * PDESC_SZ +
			offsetof(struct vring_packed_desc, flags), 2);
		/*
		 * Virtio 2.8 "Supplying Buffers to The Device / Updating
		 * flags": addr, len, id and the rest of the chain must be
		 * visible before the head's flags make it available:
		 * release store of the flags.
		 */
		__atomic_store_n(&vq->pdesc[p->slot].flags, p->flags,
				 __ATOMIC_RELEASE);
	}
	vq->npend = 0;
	vq->added = 0;
	/*
	 * Virtio 2.8 "Sending Available Buffer Notifications": a full
	 * barrier between exposing the flags and reading the Device Area,
	 * or a stale DISABLE/off_wrap could hide a device that just
	 * stopped polling (a mandatory notification lost).
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return need_kick(vq, old, new);
}

/*
 * Virtio 2.8.1: a descriptor is used when AVAIL and USED both equal the
 * wrap counter the driver expects at that position.
 */
static bool
is_used(const struct virtq *vq, uint16_t slot, bool wrap)
{
	/*
	 * Virtio 2.8 "Receiving Used Buffers From The Device" (read
	 * barrier after flags): the device writes id and len before flags;
	 * reading flags with acquire orders the reads of id, len and the
	 * buffer data after it.
	 */
	uint16_t f = __atomic_load_n(&vq->pdesc[slot].flags, __ATOMIC_ACQUIRE);

	return !!(f & F_AVAIL) == wrap && !!(f & F_USED) == wrap;
}

/* Buffer ID of the used descriptor at @slot, or -EPROTO. */
static int
used_id(const struct virtq *vq, uint16_t slot)
{
	uint16_t id = vq->pdesc[slot].id;

	if (id >= vq->size || vq->token[id] == NULL)
		return -EPROTO;
	return id;
}

/*
 * Walk at most @n used elements from last_used, in ring order. A used
 * descriptor stands for its whole chain (the device skips the other
 * slots), so each step advances by the chain's descriptor count.
 * *slot and *wrap end after the walked elements; *bad is set if the walk
 * stopped at a used descriptor with an unknown buffer ID.
 */
static uint16_t
walk(const struct virtq *vq, uint16_t n, uint16_t *slot, bool *wrap,
     bool *bad)
{
	uint16_t k, out = vq->size - vq->num_ids;
	int id;

	*slot = vq->last_used;
	*wrap = vq->used_wrap;
	*bad = false;
	for (k = 0; k < n && k < out; k++) {
		if (!is_used(vq, *slot, *wrap))
			break;
		id = used_id(vq, *slot);
		if (id < 0) {
			*bad = true;
			break;
		}
		advance(vq, slot, wrap, vq->chain_len[id]);
	}
	return k;
}

static uint16_t
packed_pending(const struct virtq *vq)
{
	uint16_t slot;
	bool wrap, bad;
	uint16_t k = walk(vq, UINT16_MAX, &slot, &wrap, &bad);

	/* A bad element counts, so that virtq_get_used() reports it. */
	return k + bad;
}

static int
packed_peek_used(const struct virtq *vq, uint16_t n, struct vq_used *u)
{
	uint16_t slot;
	bool wrap, bad;
	int id;

	if (walk(vq, n, &slot, &wrap, &bad) < n)
		return bad ? -EPROTO : 0;
	if (n >= vq->size - vq->num_ids || !is_used(vq, slot, wrap))
		return 0;
	id = used_id(vq, slot);
	if (id < 0)
		return id;
	u->token = vq->token[id];
	u->len = vq->pdesc[slot].len;
	u->slot = slot;
	return 1;
}

static int
packed_get_used(struct virtq *vq, struct vq_used *u)
{
	int ret = packed_peek_used(vq, 0, u);
	uint16_t id, n;

	if (ret <= 0)
		return ret;
	id = vq->pdesc[vq->last_used].id;
	n = vq->chain_len[id];
	advance(vq, &vq->last_used, &vq->used_wrap, n);
	vq->num_free += n;
	vq->token[id] = NULL;
	vq->free_stack[vq->num_ids++] = id;
	if (vq->event_idx)
		driver_event_far(vq);
	return 1;
}

static uint16_t
packed_used_idx(const struct virtq *vq)
{
	uint16_t slot;
	bool wrap, bad;

	walk(vq, UINT16_MAX, &slot, &wrap, &bad);
	return slot | (wrap ? WRAP_BIT : 0);
}

/* The device wrote one used descriptor in place; nothing else. */
static void
packed_mark_used_write(const struct virtq *vq, uint16_t slot,
		       struct dl_bitmap *bm)
{
	dl_bitmap_set_range(bm, vq->desc_gpa + (uint64_t)slot * PDESC_SZ,
			    PDESC_SZ);
}

const struct virtq_ops virtq_packed_ops = {
	.map = packed_map,
	.alloc = packed_alloc,
	.add = packed_add,
	.publish = packed_publish,
	.pending = packed_pending,
	.peek_used = packed_peek_used,
	.get_used = packed_get_used,
	.used_idx = packed_used_idx,
	.mark_used_write = packed_mark_used_write,
	.initial_base = WRAP_BIT,
};
