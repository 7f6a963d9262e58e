/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Packed ring used relay: used descriptors the device wrote into the
 * mediated ring -> validated, logged -> the same slots of the guest's
 * ring; and the in-flight window of a switch.
 *
 * Each used descriptor is checked against the chain the relay forwarded
 * under its buffer id, and exactly the first len bytes of that chain's
 * writable buffers are logged. The relay's used position then moves by
 * the descriptors that chain took in the ring (virtio "Next Flag:
 * Descriptor Chaining"), which is
 * where the device writes its next used descriptor, in order or not.
 */

#include <stddef.h>

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

#define USED_FLAGS_KEPT ((1u << VRING_PACKED_DESC_F_AVAIL) | \
			 (1u << VRING_PACKED_DESC_F_USED) | VRING_DESC_F_WRITE)

/* Add the first len bytes of a recorded chain's writable buffers. */
static void
used_collect(struct vrelay_queue *q, const struct vrelay_slot *s,
	     uint32_t len)
{
	struct vrelay_range *r = &q->ranges[q->nranges];
	uint16_t i;

	if (s->nseg > VRELAY_SLOT_SEGS) {
		vrelay_packed_ovf_collect(q, s, len);
		return;
	}
	for (i = 0; i < s->nseg && len != 0; i++, r++) {
		r->gpa = s->seg_gpa[i];
		r->len = s->seg_len[i] < len ? s->seg_len[i] : len;
		len -= r->len;
		q->nranges++;
	}
}

/*
 * A chain of more than one writable buffer, or one whose buffers were
 * not kept: collect them (or ask for all memory), release the segments.
 */
static __attribute__((noinline)) void
used_collect_many(struct vrelay_queue *q, struct vrelay_slot *s,
		  uint32_t len, bool *log_all)
{
	if (s->log_all)
		*log_all = true;
	else
		used_collect(q, s, len);
	vrelay_packed_ovf_release(q, s);
	s->log_all = 0;
}

/* Validate a used descriptor, collect its ranges, free its id. */
static inline int
used_check(struct vrelay_queue *q, struct vrelay_packed_used *e,
	   bool *log_all)
{
	struct vrelay_slot *s;

	if (e->id >= q->size || !q->slots[e->id].inflight)
		return vrelay_queue_break(q, "used id not in flight");
	s = &q->slots[e->id];
	if (e->len > s->wlen)
		return vrelay_queue_break(q, "used len exceeds writable length");
	/*
	 * One writable buffer or none (a TX frame, an RX buffer): at most
	 * one range, in place. Only longer chains keep segments out of
	 * line or log all (slot_record()).
	 */
	if (s->nseg > 1)
		used_collect_many(q, s, e->len, log_all);
	else if (s->nseg == 1 && e->len != 0)
		q->ranges[q->nranges++] = (struct vrelay_range){
			.gpa = s->seg_gpa[0],
			.len = e->len < s->seg_len[0] ? e->len : s->seg_len[0],
		};
	e->ndesc = s->ndesc;
	s->inflight = 0;
	q->inflight--;
	q->packed.inflight_desc -= s->ndesc;
	return 0;
}

/*
 * Read up to max (<= VRELAY_BURST) ready used descriptors as one burst:
 * check them, log the buffer pages, and write id and len into the
 * guest's slots; the flags wait in q->packed.pend for used_publish().
 * @return descriptors read, or -EIO (queue broken).
 */
static int
used_burst(struct vrelay_queue *q, unsigned int max)
{
	struct vrelay_packed_used *el = &q->packed.pend[q->packed.npend];
	uint16_t pos = q->packed.last_used, flags;
	bool wrap = q->packed.used_wrap, log_all = false;
	const struct vring_packed_desc *m;
	struct vring_packed_desc *g;
	unsigned int i, n;

	q->nranges = 0;
	for (n = 0; n < max; n++) {
		/* Room for a longest chain. */
		if (q->nranges + VRELAY_MAX_CHAIN_LEN > VRELAY_RANGES_CAP)
			break;
		m = &q->packed.mdesc[pos];
		/* Flags first: the device writes them last. */
		flags = __atomic_load_n(&m->flags, __ATOMIC_ACQUIRE);
		if (!vrelay_packed_desc_used(flags, wrap))
			break;
		el[n] = (struct vrelay_packed_used){
			.pos = pos, .id = m->id, .len = m->len,
			.flags = flags & USED_FLAGS_KEPT,
		};
		if (used_check(q, &el[n], &log_all) != 0)
			return -EIO;
		vrelay_packed_advance(q->size, &pos, &wrap, el[n].ndesc);
	}
	if (n == 0)
		return 0;
	/*
	 * Buffer pages first: the device wrote them before the used
	 * descriptors we just read, so they are dirty before the guest can
	 * see a completion that points at them.
	 */
	q->stats.pages_logged += log_all ?
		vrelay_log_all_memory(q->dev, q->ranges) :
		vrelay_log_ranges(q->dev, q->ranges, q->nranges);
	q->stats.log_bursts++;
	for (i = 0; i < n; i++) {
		g = &q->packed.gdesc[el[i].pos];
		g->id = el[i].id;
		g->len = el[i].len;
	}
	q->packed.npend += n;
	q->packed.last_used = pos;
	q->packed.used_wrap = wrap;
	return n;
}

/* Add the guest slots [first, last] as one range, flushing a full list. */
static uint32_t
used_slot_range(struct vrelay_queue *q, uint32_t nr, uint16_t first,
		uint16_t last)
{
	const uint64_t sz = sizeof(struct vring_packed_desc);

	if (nr == VRELAY_RANGES_CAP) {
		q->stats.pages_logged += vrelay_log_ranges(q->dev, q->ranges,
							   nr);
		nr = 0;
	}
	q->ranges[nr].gpa = q->packed.desc_gpa + first * sz;
	q->ranges[nr].len = (uint64_t)(last - first + 1) * sz;
	return nr + 1;
}

/*
 * Log the guest slots of the pending descriptors after they were
 * written, as few ranges as they make: a run of consecutive slots (the
 * common case of in-order one-descriptor chains) is one range, found
 * from the positions alone; in chunks that fit q->ranges.
 */
static void
used_log_slots(struct vrelay_queue *q)
{
	const struct vrelay_packed_used *p = q->packed.pend;
	uint16_t i, first, last;
	uint32_t nr = 0;

	if (q->packed.npend == 0)
		return;
	first = last = p[0].pos;
	for (i = 1; i < q->packed.npend; i++) {
		if (p[i].pos == last + 1) {
			last++;
			continue;
		}
		nr = used_slot_range(q, nr, first, last);
		first = last = p[i].pos;
	}
	nr = used_slot_range(q, nr, first, last);
	q->stats.pages_logged += vrelay_log_ranges(q->dev, q->ranges, nr);
}

/*
 * Make the pass's used descriptors visible to the guest, flags last (id
 * and len went with their burst) and in reverse: the pass becomes
 * visible at once, its first slot last, so a multi-buffer packet
 * (mergeable RX) is never seen without its other buffers, which the
 * device made used before its first (virtio "Multi-buffer requests").
 * Then the slots are logged, after they were written: a dirty bit set
 * before the write could be cleared, and the page copied, before the
 * write lands (the release stores order the writes before the log's
 * atomic OR).
 */
static void
used_publish(struct vrelay_queue *q)
{
	const struct vrelay_packed_used *p = q->packed.pend;
	uint16_t i;

	/*
	 * id and len visible before the flags that make a slot used: the
	 * guest reads the flags, then the rest (virtio "Receiving Used
	 * Buffers From The Device").
	 */
	for (i = q->packed.npend; i-- > 0;)
		__atomic_store_n(&q->packed.gdesc[p[i].pos].flags, p[i].flags,
				 __ATOMIC_RELEASE);
	used_log_slots(q);
	q->packed.npend = 0;
}

/*
 * Relay the used descriptors ready, published together. budget is not
 * a cap here: a pass that stopped between the buffers of a multi-buffer
 * packet would show the guest its first buffer without the rest (the
 * device makes the first used last, so when it is ready the rest is).
 * Bounded all the same: each must name a chain in flight, so a pass
 * relays at most the ring size.
 * The queue is not broken: vrelay_queue_relay_used() checked.
 */
int
vrelay_packed_relay_used(struct vrelay_queue *q, unsigned int budget,
			 bool force_call)
{
	const uint16_t old = q->packed.last_used;
	const bool old_wrap = q->packed.used_wrap;
	unsigned int total = 0;
	int ret;

	if (budget == 0)
		return 0;
	q->packed.npend = 0;
	do {
		ret = used_burst(q, VRELAY_BURST);
		if (ret < 0)
			return ret;
		total += ret;
	} while (ret != 0);
	if (total == 0)
		return 0;
	used_publish(q);
	q->stats.used_relayed += total;
	/* Interrupt the guest if it asked for it (or force_call). */
	vrelay_packed_notify_peer(q, true, old, old_wrap, force_call);
	return total;
}

/*
 * The in-flight window of a packed ring: completions the device wrote in
 * direct I/O after logging began. Each overwrote the chain it completes
 * and the guest may have reused the slots since, so nothing says which
 * buffers they covered: when there may be any (conf->log_window_all),
 * all of guest memory is logged, once per switch.
 */
int
vrelay_packed_log_window(struct vrelay_queue *q,
			 const struct vrelay_queue_conf *c)
{
	uint64_t pages;

	q->window_descs = 0;
	if (!c->log_window_all)
		return 0;
	pages = vrelay_log_all_memory(q->dev, q->ranges);
	VRELAY_LOG(INFO, "%s: packed completions since logging began cannot "
		   "be attributed: all guest memory logged (%" PRIu64
		   " pages)", q->name, pages);
	q->stats.pages_logged += pages;
	q->stats.log_bursts++;
	q->stats.window_log_all++;
	return 0;
}
