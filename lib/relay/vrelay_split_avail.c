/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Split ring avail relay: guest avail ring -> checked -> mediated avail
 * ring; and the chains already in flight when a queue is created.
 *
 * The device keeps using the guest's descriptor table, so the only thing
 * copied is the head id; what is checked is that the chain behind it is
 * one the device may safely follow and whose writes the used relay can
 * bound and log.
 */

#include <string.h>

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

/*
 * A chain of one direct descriptor (no NEXT, no INDIRECT): what virtio-net
 * drivers post for nearly every TX frame and RX buffer. The same checks as
 * the chain walk (vrelay_split_chain_walk(), vrelay_chain_buffer()), on
 * the same one snapshot of the descriptor, without the walk's machinery:
 * the buffer inside guest memory; a writable one recorded as the slot's
 * only segment. @return 0, 1 if the chain is longer (walk it), or -EIO.
 */
static int
avail_take_single(struct vrelay_queue *q, uint16_t head)
{
	struct vrelay_slot *s = &q->slots[head];
	struct vring_desc d;

	/* One snapshot, as bytes: the guest may race with us. */
	memcpy(&d, (const void *)&q->split.gdesc[head], sizeof(d));
	if (d.flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT))
		return 1;
	if (!vrelay_mem_contains_fast(&q->dev->mem, d.addr, d.len))
		return vrelay_queue_break(q, "buffer outside guest memory");
	s->nseg = 0;
	s->wlen = 0;
	if (d.flags & VRING_DESC_F_WRITE) {
		s->wlen = d.len;
		if (d.len != 0) {
			s->seg_gpa[0] = d.addr;
			s->seg_len[0] = d.len;
			s->nseg = 1;
		}
	}
	s->inflight = 1;
	q->inflight++;
	return 0;
}

/* Any other chain: walk it (out of line: the fast path stays small). */
static __attribute__((noinline)) int
avail_take_walk(struct vrelay_queue *q, uint16_t head)
{
	struct vrelay_slot rec = { .nseg = 0 };
	const char *why = NULL;
	uint64_t wlen;

	if (vrelay_split_chain_walk(q, head, &wlen, vrelay_slot_record_seg,
				    &rec, &why) != 0)
		return vrelay_queue_break(q, why);
	q->slots[head] = rec;
	q->slots[head].inflight = 1;
	q->slots[head].wlen = wlen > UINT32_MAX ? UINT32_MAX : wlen;
	q->inflight++;
	return 0;
}

/*
 * Check one head and record its chain in the slot table, with its
 * writable segments: the used side logs from them. twice: what a head
 * already in flight means, for the break reason.
 */
static inline int
avail_take_head(struct vrelay_queue *q, uint16_t head, const char *twice)
{
	int ret;

	if (head < q->size) {
		if (q->slots[head].inflight)
			return vrelay_queue_break(q, twice);
		ret = avail_take_single(q, head);
		if (ret <= 0)
			return ret;
	}
	/* A head out of range fails there, with its reason. */
	return avail_take_walk(q, head);
}

/* Remember the chains the device fetched before the switch. */
int
vrelay_split_seed_inflight(struct vrelay_queue *q)
{
	uint16_t n = q->split.last_avail - q->split.last_used;
	uint16_t i, idx, head;

	if (n > q->size)
		return vrelay_queue_break(q,
			"device indices more than a ring apart");
	/*
	 * The device completes in order often enough that the heads of
	 * [last_used, last_avail) are the ones in flight; an out-of-order
	 * device is still bounded by each chain's writable length. Each
	 * slot gets its segments as on the avail side: nseg 0 would log
	 * nothing for the buffers the device fills right after the switch.
	 */
	for (i = 0; i < n; i++) {
		idx = q->split.last_used + i;
		head = vrelay_load16(
			&q->split.gavail->ring[idx & q->split.mask]);
		if (avail_take_head(q, head, "head in flight twice") != 0)
			return -EIO;
	}
	return 0;
}

/* The queue is not broken: vrelay_queue_relay_avail() checked. */
int
vrelay_split_relay_avail(struct vrelay_queue *q, unsigned int budget)
{
	const struct vring_avail *gavail = q->split.gavail;
	struct vring_avail *mavail = q->split.mavail;
	uint16_t avail_idx, pending, n, i, idx, head, old;

	/* Read avail->idx before the ring entries it covers. */
	avail_idx = __atomic_load_n(&gavail->idx, __ATOMIC_ACQUIRE);
	pending = avail_idx - q->split.last_avail;
	if (pending > q->size)
		return vrelay_queue_break(q,
			"avail idx moved by more than the ring size");
	n = pending < budget ? pending : budget;
	if (n == 0)
		return 0;
	old = q->split.last_avail;
	for (i = 0; i < n; i++) {
		idx = (old + i) & q->split.mask;
		head = vrelay_load16(&gavail->ring[idx]);
		/*
		 * Post-copy window: the chain's pages first. Missing ones
		 * are fetched in the background; the chain stays in the
		 * guest's avail ring until then (retry, not broken).
		 */
		if (vrelay_prefault_window(q->dev) &&
		    vrelay_prefault_split_chain(q, head) != 0)
			break;
		if (avail_take_head(q, head,
				    "head made available while in flight") != 0)
			return -EIO;
		mavail->ring[idx] = head;
	}
	n = i;
	if (n == 0)
		return 0;
	q->split.last_avail = old + n;
	/* Mediated ring entries visible before mediated avail->idx. */
	__atomic_store_n(&mavail->idx, q->split.last_avail, __ATOMIC_RELEASE);
	q->stats.avail_relayed += n;
	/*
	 * Armed (want_notify): move the guest's avail_event along with what
	 * we consumed. Quiet, the suppression set_notify wrote stays: flags
	 * need no moving, and an event index one behind where the engine
	 * went quiet asks for nothing until the index wraps (a spurious
	 * kick per 64 Ki entries at most): no guest write, no log per batch.
	 */
	if (q->want_notify)
		vrelay_split_notify_apply(q);
	/* Ring the device's doorbell if it asked for it. */
	vrelay_split_notify_peer(q, false, old, false);
	return n;
}
