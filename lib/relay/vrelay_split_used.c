/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Split ring used relay: mediated used ring -> validated, logged -> guest
 * used ring; and the in-flight window a switchover logs.
 *
 * Each used entry is checked against the chain the relay forwarded under
 * that id, and exactly the first `len` bytes of the chain's writable
 * buffers are logged (what the device wrote), not the whole buffers.
 * The log is written before the guest can see the entry: a page the
 * guest may read as fresh data must already be dirty in the log.
 */

#include <stddef.h>

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

/* Bytes of a used len still to attribute to writable buffers. */
struct used_walk {
	struct vrelay_queue *q;
	uint32_t left;
};

static int
used_collect(void *arg, uint64_t gpa, uint32_t len)
{
	struct used_walk *w = arg;
	struct vrelay_queue *q = w->q;
	uint32_t take;

	if (w->left == 0)
		return 0;
	if (q->nranges == VRELAY_RANGES_CAP)
		return -1;
	take = len < w->left ? len : w->left;
	q->ranges[q->nranges].gpa = gpa;
	q->ranges[q->nranges].len = take;
	q->nranges++;
	w->left -= take;
	return 0;
}

/*
 * Collect the ranges the device wrote for one entry; no slot checks.
 * budget: as for vrelay_split_chain_walk_budget(), NULL for none.
 */
static int
used_collect_entry(struct vrelay_queue *q, uint16_t id, uint32_t len,
		   uint32_t *budget, const char **why)
{
	struct used_walk w = { .q = q, .left = len };
	uint64_t wlen;

	if (vrelay_split_chain_walk_budget(q, id, budget, &wlen, used_collect,
					   &w, why) != 0)
		return -EIO;
	if (w.left != 0) {
		*why = "used len exceeds the chain's writable length";
		return -EIO;
	}
	return 0;
}

/* Add the guest used ring entries [start, start + n) and used->idx. */
static void
used_ring_ranges(struct vrelay_queue *q, uint16_t start, uint16_t n)
{
	uint64_t ring = q->device_area_gpa + offsetof(struct vring_used, ring);
	uint16_t first = start & q->split.mask;
	uint16_t head = n;

	if (first + n > q->size)
		head = q->size - first;
	q->ranges[q->nranges].gpa = ring + first * sizeof(struct vring_used_elem);
	q->ranges[q->nranges].len = head * sizeof(struct vring_used_elem);
	q->nranges++;
	if (head != n) {
		q->ranges[q->nranges].gpa = ring;
		q->ranges[q->nranges].len =
			(n - head) * sizeof(struct vring_used_elem);
		q->nranges++;
	}
	q->ranges[q->nranges].gpa = q->device_area_gpa +
		offsetof(struct vring_used, idx);
	q->ranges[q->nranges].len = sizeof(q->split.gused->idx);
	q->nranges++;
}

/*
 * Collect the ranges the device wrote from the segments recorded when
 * the chain was checked: the first len bytes across them, in order.
 */
static void
used_collect_recorded(struct vrelay_queue *q, const struct vrelay_slot *s,
		      uint32_t len)
{
	uint8_t i;

	for (i = 0; i < s->nseg && len != 0; i++) {
		uint32_t take = s->seg_len[i] < len ? s->seg_len[i] : len;

		q->ranges[q->nranges].gpa = s->seg_gpa[i];
		q->ranges[q->nranges].len = take;
		q->nranges++;
		len -= take;
	}
}

/* Validate one used entry the device wrote and collect its ranges. */
static int
used_check_entry(struct vrelay_queue *q, const struct vring_used_elem *e)
{
	const char *why = NULL;

	if (e->id >= q->size || !q->slots[e->id].inflight)
		return vrelay_queue_break(q, "used id not in flight");
	if (e->len > q->slots[e->id].wlen)
		return vrelay_queue_break(q, "used len exceeds writable length");
	if (q->slots[e->id].nseg <= VRELAY_SLOT_SEGS)
		used_collect_recorded(q, &q->slots[e->id], e->len);
	else if (used_collect_entry(q, e->id, e->len, NULL, &why) != 0)
		return vrelay_queue_break(q, why);
	q->slots[e->id].inflight = 0;
	q->inflight--;
	return 0;
}

/* Relay up to n (<= VRELAY_BURST) used entries as one logged burst. */
static int
used_burst(struct vrelay_queue *q, uint16_t n)
{
	struct vring_used_elem el[VRELAY_BURST];
	const volatile struct vring_used_elem *src;
	struct vring_used *gused = q->split.gused;
	uint16_t i, idx, first = q->split.last_used;

	q->nranges = 0;
	for (i = 0; i < n; i++) {
		/* Room for a longest chain plus the used ring ranges. */
		if (q->nranges + VRELAY_MAX_CHAIN_LEN + 3 > VRELAY_RANGES_CAP)
			break;
		src = &q->split.mused->ring[(first + i) & q->split.mask];
		el[i].id = src->id;
		el[i].len = src->len;
		if (used_check_entry(q, &el[i]) != 0)
			return -EIO;
	}
	n = i;
	/*
	 * Buffer pages first: the device wrote them before it wrote the
	 * used entries we just read, so they are dirty before the guest can
	 * see an entry that points at them.
	 */
	q->stats.pages_logged += vrelay_log_ranges(q->dev, q->ranges,
						   q->nranges);
	for (i = 0; i < n; i++) {
		idx = first + i;
		gused->ring[idx & q->split.mask] = el[i];
	}
	/*
	 * Used ring entries visible before used->idx: once the guest sees
	 * the index it may consume the buffers.
	 */
	__atomic_store_n(&gused->idx, first + n, __ATOMIC_RELEASE);
	/*
	 * The used ring pages only after writing them. The hypervisor
	 * clears a bit and then copies the page: a bit set before our write
	 * could be cleared, and the page copied, before the write lands,
	 * leaving a stale used ring at the destination (the guest would
	 * then take old ids for new buffers). The release store above
	 * orders the writes before the atomic OR.
	 */
	q->nranges = 0;
	used_ring_ranges(q, first, n);
	q->stats.pages_logged += vrelay_log_ranges(q->dev, q->ranges,
						   q->nranges);
	q->stats.log_bursts++;
	q->split.last_used += n;
	return n;
}

/* The queue is not broken: vrelay_queue_relay_used() checked. */
int
vrelay_split_relay_used(struct vrelay_queue *q, unsigned int budget,
			bool force_call)
{
	uint16_t used_idx, pending, old = q->split.last_used;
	unsigned int todo, total = 0;
	int ret;

	/* Read used->idx before the used entries it covers. */
	used_idx = __atomic_load_n(&q->split.mused->idx, __ATOMIC_ACQUIRE);
	pending = used_idx - q->split.last_used;
	if (pending > q->inflight)
		return vrelay_queue_break(q,
			"device used idx ahead of entries in flight");
	todo = pending < budget ? pending : budget;
	while (total < todo) {
		ret = used_burst(q, todo - total < VRELAY_BURST ?
				 todo - total : VRELAY_BURST);
		if (ret < 0)
			return ret;
		total += ret;
	}
	if (total == 0)
		return 0;
	q->stats.used_relayed += total;
	/* Armed: move the device's used_event along (see the avail side). */
	if (q->want_notify)
		vrelay_split_notify_apply(q);
	/* Interrupt the guest if it asked for it (or force_call). */
	vrelay_split_notify_peer(q, true, old, force_call);
	return total;
}

/*
 * Log the used entries [from, to) the device wrote to the guest used ring
 * in direct I/O after logging began: from the conf's log_from_used_idx
 * to the device's used index at suspend.
 *
 * The entries and the chains they name are guest-writable, so their
 * walk is bounded: at most size entries and VRELAY_WINDOW_DESC_BUDGET
 * descriptors in all, i.e. O(size + VRELAY_MAX_CHAIN_LEN) descriptor
 * reads. Pages cannot be attributed when the window is longer than the
 * ring (the oldest entries were overwritten), a chain no longer walks
 * (the guest rewrote it), a len exceeds its chain, or the budget runs
 * out: then all of guest memory is logged, with one warning line. A
 * device that already wrote is never made to lose a page.
 */
int
vrelay_split_log_window(struct vrelay_queue *q,
			const struct vrelay_queue_conf *c)
{
	const uint32_t budget0 = VRELAY_WINDOW_DESC_BUDGET(q->size);
	const uint16_t from = c->log_from_used_idx, to = c->state.used_idx;
	const volatile struct vring_used_elem *e;
	uint32_t budget = budget0;
	uint16_t n = to - from, i = 0, id;
	const char *why = NULL;
	uint64_t pages = 0;
	uint32_t len;

	q->window_descs = 0;
	if (n == 0)
		return 0;
	if (n > q->size) {
		why = "window longer than the ring";
		goto log_all;
	}
	q->nranges = 0;
	for (i = 0; i < n; i++) {
		if (q->nranges + VRELAY_MAX_CHAIN_LEN + 3 > VRELAY_RANGES_CAP) {
			pages += vrelay_log_ranges(q->dev, q->ranges,
						   q->nranges);
			q->nranges = 0;
		}
		e = &q->split.gused->ring[(from + i) & q->split.mask];
		id = e->id;
		len = e->len;
		if (used_collect_entry(q, id, len, &budget, &why) != 0)
			goto log_all;
	}
	q->window_descs = budget0 - budget;
	used_ring_ranges(q, from, n);
	pages += vrelay_log_ranges(q->dev, q->ranges, q->nranges);
	q->stats.pages_logged += pages;
	q->stats.log_bursts++;
	q->stats.inflight_logged += n;
	return n;

log_all:
	q->window_descs = budget0 - budget;
	VRELAY_LOG(WARNING, "%s: in-flight window [%u, %u), used %u: %s; "
		   "logging all guest memory", q->name, from, to,
		   (uint16_t)(from + i), why);
	/* The used ring is guest memory (checked at create), so covered. */
	pages += vrelay_log_all_memory(q->dev, q->ranges);
	q->stats.pages_logged += pages;
	q->stats.log_bursts++;
	q->stats.inflight_logged += n;
	q->stats.window_log_all++;
	return n;
}
