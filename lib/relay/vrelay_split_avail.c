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

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

/*
 * Check one head and record its chain in the slot table, with its
 * writable segments: the used side logs from them. twice: what a head
 * already in flight means, for the break reason.
 */
static int
avail_take_head(struct vrelay_queue *q, uint16_t head, const char *twice)
{
	struct vrelay_slot rec = { .nseg = 0 };
	const char *why = NULL;
	uint64_t wlen;

	if (head < q->size && q->slots[head].inflight)
		return vrelay_queue_break(q, twice);
	if (vrelay_split_chain_walk(q, head, &wlen, vrelay_slot_record_seg,
				    &rec, &why) != 0)
		return vrelay_queue_break(q, why);
	q->slots[head] = rec;
	q->slots[head].inflight = 1;
	q->slots[head].wlen = wlen > UINT32_MAX ? UINT32_MAX : wlen;
	q->inflight++;
	return 0;
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
		if (avail_take_head(q, head,
				    "head made available while in flight") != 0)
			return -EIO;
		mavail->ring[idx] = head;
	}
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
