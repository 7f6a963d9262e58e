/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Packed ring avail relay: guest descriptor ring -> checked -> mediated
 * descriptor ring, slot for slot; and the chains in flight at a switch.
 *
 * Each chain is read once into local copies, checked (the same rules as
 * split: bounded length, indirect rules, readable before writable, every
 * buffer inside guest memory), and the copies are what the device sees:
 * the guest cannot change a descriptor after its check. Its writable
 * buffers are kept in the slot of its buffer id, all of them: a packed
 * chain's slots may be reused (out-of-order completion) while it is in
 * flight, so the used side cannot walk it again as split does.
 */

#include <string.h>

#include <rte_common.h>

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

#define DESC_F_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define DESC_F_USED (1u << VRING_PACKED_DESC_F_USED)

/* One chain being checked. */
struct packed_walk {
	struct vrelay_queue *q;
	struct vrelay_chain_acc acc;
	uint16_t ndesc;		/* ring descriptors */
	uint16_t nseg;		/* writable buffers in q->packed.chain */
	uint32_t total;		/* descriptors, indirect entries included */
	uint16_t id;		/* buffer id: the last ring descriptor's */
};

/* vrelay_wdesc_fn: keep a writable buffer in the queue's chain scratch. */
static int
walk_seg(void *arg, uint64_t gpa, uint32_t len)
{
	struct packed_walk *w = arg;

	/* total <= VRELAY_MAX_CHAIN_LEN bounds nseg: never full. */
	w->q->packed.chain[w->nseg].gpa = gpa;
	w->q->packed.chain[w->nseg].len = len;
	w->nseg++;
	return 0;
}

/*
 * Walk an indirect table (virtio "Indirect Flag"): len / 16 consecutive packed
 * descriptors; NEXT means nothing there, a nested INDIRECT is refused.
 */
static const char *
walk_indirect(struct vrelay_queue *q, struct packed_walk *w,
	      const struct vring_packed_desc *d)
{
	const struct vring_packed_desc *t;
	struct vring_packed_desc e;
	const char *err;
	uint32_t n, i;

	if (!q->indirect)
		return "indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC";
	if (d->flags & VRING_DESC_F_NEXT)
		return "descriptor has both NEXT and INDIRECT";
	if (d->len == 0 || d->len % sizeof(e) != 0)
		return "indirect table length not a non-zero multiple of 16";
	n = d->len / sizeof(e);
	if (n > VRELAY_MAX_CHAIN_LEN - w->total)
		return "indirect table too long";
	t = vrelay_mem_translate(&q->dev->mem, d->addr, d->len);
	if (t == NULL)
		return "indirect table outside guest memory";
	for (i = 0; i < n; i++) {
		/* One snapshot as bytes: the table need not be aligned. */
		memcpy(&e, &t[i], sizeof(e));
		if (e.flags & VRING_DESC_F_INDIRECT)
			return "indirect descriptor inside an indirect table";
		/*
		 * A read-only queue's WRITE flags are ignored here, as its
		 * device ignores them (DPDK's virtio PMD leaves WRITE on its
		 * TX indirect entries): none of its buffers is writable.
		 */
		err = vrelay_chain_buffer(q, &w->acc, e.addr, e.len,
					  (e.flags & VRING_DESC_F_WRITE) &&
					  !q->device_read_only, walk_seg, w);
		if (err != NULL)
			return err;
	}
	w->total += n;
	return NULL;
}

/* A descriptor's flags as available at a slot of lap wrap. */
static uint16_t
mirror_flags(uint16_t flags, bool wrap)
{
	flags &= ~(DESC_F_AVAIL | DESC_F_USED);
	return flags | (wrap ? DESC_F_AVAIL : DESC_F_USED);
}

/*
 * Walk and check the chain at (pos, wrap), whose head flags the caller
 * read; with mirror, copy each checked descriptor to the same slot of
 * the mediated ring, all but the head's flags (*hflags: the caller
 * publishes them). The chain may take at most room ring descriptors.
 * @return NULL, or why the chain breaks a rule.
 */
static const char *
chain_walk(struct vrelay_queue *q, struct packed_walk *w, uint16_t pos,
	   bool wrap, uint16_t head_flags, uint16_t room, bool mirror,
	   uint16_t *hflags)
{
	struct vring_packed_desc d, *m;
	const char *err;

	for (;;) {
		if (w->ndesc == room)
			return room == q->size ? "chain longer than the ring" :
				"more descriptors in flight than the ring holds";
		if (w->total == VRELAY_MAX_CHAIN_LEN)
			return "chain too long";
		memcpy(&d, &q->packed.gdesc[pos], sizeof(d));
		/* The head as checked available, whatever the guest does now. */
		if (w->ndesc == 0)
			d.flags = head_flags;
		w->ndesc++;
		w->total++;
		if ((d.flags & VRING_DESC_F_INDIRECT) && w->ndesc > 1)
			/* Virtio: an indirect descriptor is a list of its own. */
			err = "indirect descriptor inside a chain";
		else if (d.flags & VRING_DESC_F_INDIRECT)
			err = walk_indirect(q, w, &d);
		else
			err = vrelay_chain_buffer(q, &w->acc, d.addr, d.len,
						  d.flags & VRING_DESC_F_WRITE,
						  walk_seg, w);
		if (err != NULL)
			return err;
		w->id = d.id;
		if (mirror) {
			m = &q->packed.mdesc[pos];
			m->addr = d.addr;
			m->len = d.len;
			m->id = d.id;
			if (w->ndesc == 1)
				*hflags = mirror_flags(d.flags, wrap);
			else
				m->flags = mirror_flags(d.flags, wrap);
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			return NULL;
		vrelay_packed_advance(q->size, &pos, &wrap, 1);
	}
}

/* Keep the chain's writable buffers for its completion. */
static void
slot_record(struct vrelay_queue *q, struct vrelay_slot *s,
	    const struct packed_walk *w)
{
	const struct vrelay_range *c = q->packed.chain;
	uint16_t i;

	*s = (struct vrelay_slot){
		.wlen = w->acc.wlen > UINT32_MAX ? UINT32_MAX : w->acc.wlen,
		.ndesc = w->ndesc,
		.nseg = w->nseg,
		.inflight = 1,
	};
	if (w->nseg <= VRELAY_SLOT_SEGS) {
		for (i = 0; i < w->nseg; i++) {
			s->seg_gpa[i] = c[i].gpa;
			s->seg_len[i] = c[i].len;
		}
		return;
	}
	vrelay_packed_ovf_store(q, s, c, w->nseg);
}

/*
 * Check the chain at the relay's avail position, whose head flags were
 * read available, record it under its buffer id and, with mirror, copy
 * it to the mediated ring and publish it there.
 * @return the ring descriptors it takes (> 0), or -EIO (queue broken).
 */
static __attribute__((noinline)) int
avail_take_chain(struct vrelay_queue *q, uint16_t head_flags, bool mirror)
{
	struct packed_walk w = { .q = q };
	uint16_t pos = q->packed.last_avail, hflags = 0;
	const char *err;

	err = chain_walk(q, &w, pos, q->packed.avail_wrap, head_flags,
			 q->size - q->packed.inflight_desc, mirror, &hflags);
	if (err != NULL)
		return vrelay_queue_break(q, err);
	/* Ids index the slot table, as Linux and DPDK drivers use them. */
	if (w.id >= q->size)
		return vrelay_queue_break(q, "buffer id out of range");
	if (q->slots[w.id].inflight)
		return vrelay_queue_break(q,
			"buffer id made available while in flight");
	slot_record(q, &q->slots[w.id], &w);
	q->packed.inflight_desc += w.ndesc;
	q->inflight++;
	/*
	 * The chain's descriptors visible before its head's flags: the
	 * device reads the head flags, then the chain (virtio "Updating
	 * flags": a barrier before the first descriptor's flags).
	 */
	if (mirror)
		__atomic_store_n(&q->packed.mdesc[pos].flags, hflags,
				 __ATOMIC_RELEASE);
	return w.ndesc;
}

/*
 * A chain of one direct descriptor (head flags without NEXT and
 * INDIRECT): what virtio-net drivers post for nearly every TX frame and
 * RX buffer. The same checks as chain_walk() and avail_take_chain(), on
 * the same one snapshot of the descriptor with the head flags as
 * checked, without the walk's machinery: room in the ring, the buffer
 * inside guest memory, the id in range and not in flight; a writable
 * buffer recorded as the slot's only segment.
 * @return 1 (the ring descriptors it takes), or -EIO (queue broken).
 */
static __rte_always_inline int
avail_take_single(struct vrelay_queue *q, uint16_t head_flags, bool mirror)
{
	const uint16_t pos = q->packed.last_avail;
	struct vring_packed_desc d, *m;
	struct vrelay_slot *s;
	bool writable;

	if (q->packed.inflight_desc >= q->size)
		return vrelay_queue_break(q,
			"more descriptors in flight than the ring holds");
	/* One snapshot, as bytes: the guest may race with us. */
	memcpy(&d, &q->packed.gdesc[pos], sizeof(d));
	if (!vrelay_mem_contains_fast(&q->dev->mem, d.addr, d.len))
		return vrelay_queue_break(q, "buffer outside guest memory");
	/* Ids index the slot table, as Linux and DPDK drivers use them. */
	if (d.id >= q->size)
		return vrelay_queue_break(q, "buffer id out of range");
	s = &q->slots[d.id];
	if (s->inflight)
		return vrelay_queue_break(q,
			"buffer id made available while in flight");
	writable = (head_flags & VRING_DESC_F_WRITE) != 0;
	s->wlen = writable ? d.len : 0;
	s->nseg = writable && d.len != 0;
	s->seg_gpa[0] = d.addr;
	s->seg_len[0] = d.len;
	s->ndesc = 1;
	s->log_all = 0;
	s->inflight = 1;
	q->packed.inflight_desc++;
	q->inflight++;
	if (mirror) {
		m = &q->packed.mdesc[pos];
		m->addr = d.addr;
		m->len = d.len;
		m->id = d.id;
		/* Descriptor visible before its flags (avail_take_chain()). */
		__atomic_store_n(&m->flags,
				 mirror_flags(head_flags, q->packed.avail_wrap),
				 __ATOMIC_RELEASE);
	}
	return 1;
}

/* One chain at the avail position, by the fast path when it is one. */
static __rte_always_inline int
avail_take(struct vrelay_queue *q, uint16_t head_flags, bool mirror)
{
	if (!(head_flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT)))
		return avail_take_single(q, head_flags, mirror);
	return avail_take_chain(q, head_flags, mirror);
}

/*
 * Ring descriptors from (from, from_wrap) to (to, to_wrap): at most a
 * ring; -1 if to is not within one lap ahead.
 */
static int32_t
ring_distance(uint16_t size, uint16_t from, bool from_wrap, uint16_t to,
	      bool to_wrap)
{
	if (from_wrap == to_wrap)
		return to >= from ? to - from : -1;
	return to <= from ? size - from + to : -1;
}

/*
 * Remember the chains the device fetched before the switch: the slots
 * between its used and avail positions, walked as it fetched them (the
 * guest's ring still holds them there: no used descriptor was written
 * past the used position). A device that drained at suspend has none.
 * Not mirrored: the device is past them.
 */
int
vrelay_packed_seed_inflight(struct vrelay_queue *q)
{
	const uint16_t avail = q->packed.last_avail;
	const bool avail_wrap = q->packed.avail_wrap;
	int32_t n = ring_distance(q->size, q->packed.last_used,
				  q->packed.used_wrap, avail, avail_wrap);
	uint16_t flags;
	int ret = 0;

	if (n < 0)
		return vrelay_queue_break(q,
			"device positions more than a ring apart");
	q->packed.last_avail = q->packed.last_used;
	q->packed.avail_wrap = q->packed.used_wrap;
	while (n > 0) {
		flags = vrelay_load16(
			&q->packed.gdesc[q->packed.last_avail].flags);
		if (!vrelay_packed_desc_avail(flags, q->packed.avail_wrap)) {
			ret = vrelay_queue_break(q,
				"chain in flight no longer in the guest's ring");
			break;
		}
		ret = avail_take(q, flags, false);
		if (ret < 0)
			break;
		vrelay_packed_advance(q->size, &q->packed.last_avail,
				      &q->packed.avail_wrap, ret);
		n -= ret;
		ret = 0;
	}
	if (ret == 0 && n < 0)
		ret = vrelay_queue_break(q,
			"chain in flight past the device's avail position");
	q->packed.last_avail = avail;
	q->packed.avail_wrap = avail_wrap;
	return ret;
}

/*
 * Forward up to budget guest chains. Work is bounded per call: budget
 * chains of at most VRELAY_MAX_CHAIN_LEN descriptors each, and never
 * more ring descriptors than the ring holds in flight.
 * The queue is not broken: vrelay_queue_relay_avail() checked.
 */
int
vrelay_packed_relay_avail(struct vrelay_queue *q, unsigned int budget)
{
	const uint16_t old = q->packed.last_avail;
	const bool old_wrap = q->packed.avail_wrap;
	unsigned int n = 0;
	uint16_t flags;
	int ret;

	while (n < budget) {
		/*
		 * The head's flags before the chain: the driver writes them
		 * last (virtio "Updating flags"), so the acquire load orders our reads
		 * of the descriptors after it.
		 */
		flags = __atomic_load_n(
			&q->packed.gdesc[q->packed.last_avail].flags,
			__ATOMIC_ACQUIRE);
		if (!vrelay_packed_desc_avail(flags, q->packed.avail_wrap))
			break;
		/*
		 * Post-copy window: the chain's pages first; missing ones
		 * are fetched in the background and the chain waits in the
		 * guest's ring (retry, not broken).
		 */
		if (vrelay_prefault_window(q->dev) &&
		    vrelay_prefault_packed_chain(q) != 0)
			break;
		ret = avail_take(q, flags, true);
		if (ret < 0)
			return ret;
		vrelay_packed_advance(q->size, &q->packed.last_avail,
				      &q->packed.avail_wrap, ret);
		n++;
	}
	if (n == 0)
		return 0;
	q->stats.avail_relayed += n;
	/* Ring the device's doorbell if it asked for it. */
	vrelay_packed_notify_peer(q, false, old, old_wrap, false);
	return n;
}
