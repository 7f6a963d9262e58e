/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Avail relay: guest avail ring -> checked -> mediated avail ring.
 *
 * The device keeps using the guest's descriptor table, so the only thing
 * copied is the head id; what is checked is that the chain behind it is
 * one the device may safely follow and whose writes the used relay can
 * bound and log.
 */

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

/*
 * Remember a writable buffer of the chain being checked (arg: the
 * struct vrelay_slot being filled). Also used when the chains already in
 * flight at a switchover are seeded: every in-flight slot must carry
 * its segments, or its used entry would log nothing.
 */
int
vrelay_slot_record_seg(void *arg, uint64_t gpa, uint32_t len)
{
	struct vrelay_slot *s = arg;

	if (s->nseg < VRELAY_SLOT_SEGS) {
		s->seg_gpa[s->nseg] = gpa;
		s->seg_len[s->nseg] = len;
	}
	if (s->nseg <= VRELAY_SLOT_SEGS)
		s->nseg++;
	return 0;
}

/* Check one head and record its chain in the slot table. */
static int
avail_check_head(struct vrelay_queue *q, uint16_t head)
{
	struct vrelay_slot rec = { .nseg = 0 };
	const char *why = NULL;
	uint64_t wlen;

	if (head < q->size && q->slots[head].inflight)
		return vrelay_queue_break(q, "head made available while in flight");
	if (vrelay_chain_walk(q, head, &wlen, vrelay_slot_record_seg, &rec,
			      &why) != 0)
		return vrelay_queue_break(q, why);
	q->slots[head] = rec;
	q->slots[head].inflight = 1;
	q->slots[head].wlen = wlen > UINT32_MAX ? UINT32_MAX : wlen;
	q->inflight++;
	return 0;
}

/* Ring the device's doorbell if it asked for notifications. */
static void
avail_kick_device(struct vrelay_queue *q, uint16_t old, uint16_t new)
{
	bool kick;

	/*
	 * Mediated avail->idx visible before we read the device's
	 * suppression (virtio: the driver publishes idx, then reads
	 * flags/avail_event, so a device re-enabling notifications
	 * either sees the entries or is notified).
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx)
		kick = vring_need_event(
			vrelay_load16(vrelay_avail_event(q->mused, q->size)),
			new, old);
	else
		kick = !(vrelay_load16(&q->mused->flags) &
			 VRING_USED_F_NO_NOTIFY);
	if (kick) {
		vrelay_eventfd_signal(q->doorbell_fd);
		q->stats.device_kicks++;
	}
}

int
vrelay_queue_relay_avail(struct vrelay_queue *q, unsigned int budget)
{
	uint16_t avail_idx, pending, n, i, idx, head, old;

	if (vrelay_queue_is_broken(q))
		return -EIO;
	/* Read avail->idx before the ring entries it covers. */
	avail_idx = __atomic_load_n(&q->gavail->idx, __ATOMIC_ACQUIRE);
	pending = avail_idx - q->last_avail;
	if (pending > q->size)
		return vrelay_queue_break(q, "avail idx moved by more than the ring size");
	n = pending < budget ? pending : budget;
	if (n == 0)
		return 0;
	old = q->last_avail;
	for (i = 0; i < n; i++) {
		idx = old + i;
		head = vrelay_load16(&q->gavail->ring[idx & q->mask]);
		if (avail_check_head(q, head) != 0)
			return -EIO;
		q->mavail->ring[idx & q->mask] = head;
	}
	q->last_avail = old + n;
	/* Mediated ring entries visible before mediated avail->idx. */
	__atomic_store_n(&q->mavail->idx, q->last_avail, __ATOMIC_RELEASE);
	q->stats.avail_relayed += n;
	/* Move the guest's avail_event along with what we consumed. */
	vrelay_queue_set_notify(q, q->want_notify);
	avail_kick_device(q, old, q->last_avail);
	return n;
}
