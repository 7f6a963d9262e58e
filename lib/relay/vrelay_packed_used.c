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

/* One used descriptor read from the mediated ring. */
struct used_el {
	uint16_t pos;		/* its slot, in both rings */
	uint16_t id;
	uint32_t len;
	uint16_t flags;
	uint16_t ndesc;		/* descriptors its chain took */
};

/* Add the first len bytes of a recorded chain's writable buffers. */
static void
used_collect(struct vrelay_queue *q, const struct vrelay_slot *s,
	     uint32_t len)
{
	struct vrelay_range *r = &q->ranges[q->nranges];
	uint16_t i;

	for (i = 0; i < s->nseg && len != 0; i++, r++) {
		if (s->nseg <= VRELAY_SLOT_SEGS) {
			r->gpa = s->seg_gpa[i];
			r->len = s->seg_len[i];
		} else {
			*r = s->ovf[i];
		}
		if (r->len > len)
			r->len = len;
		len -= r->len;
		q->nranges++;
	}
}

/* Validate a used descriptor, collect its ranges, free its id. */
static int
used_check(struct vrelay_queue *q, struct used_el *e, bool *log_all)
{
	struct vrelay_slot *s;

	if (e->id >= q->size || !q->slots[e->id].inflight)
		return vrelay_queue_break(q, "used id not in flight");
	s = &q->slots[e->id];
	if (e->len > s->wlen)
		return vrelay_queue_break(q, "used len exceeds writable length");
	if (s->log_all)
		*log_all = true;
	else
		used_collect(q, s, e->len);
	e->ndesc = s->ndesc;
	vrelay_packed_slot_release(q, s);
	s->inflight = 0;
	s->log_all = 0;
	q->inflight--;
	q->packed.inflight_desc -= s->ndesc;
	return 0;
}

/* Publish used descriptors in the guest's ring, flags last each. */
static void
used_write_guest(struct vrelay_queue *q, const struct used_el *el,
		 unsigned int n)
{
	struct vring_packed_desc *g;
	unsigned int i;

	for (i = 0; i < n; i++) {
		g = &q->packed.gdesc[el[i].pos];
		g->id = el[i].id;
		g->len = el[i].len;
		/*
		 * id and len visible before the flags that make the slot
		 * used: the guest reads the flags, then the rest (virtio
		 * "Receiving Used Buffers From The Device": flags last).
		 */
		__atomic_store_n(&g->flags, el[i].flags, __ATOMIC_RELEASE);
	}
}

/*
 * The guest ring slots written for a burst, as ranges in q->ranges:
 * slots next to each other (in-order completions of one-descriptor
 * chains, the common case) make one range. @return how many.
 */
static uint32_t
used_slot_ranges(struct vrelay_queue *q, const struct used_el *el,
		 unsigned int n)
{
	const uint64_t sz = sizeof(struct vring_packed_desc);
	struct vrelay_range *r = q->ranges;
	uint32_t nr = 0;
	unsigned int i;
	uint64_t gpa;

	for (i = 0; i < n; i++) {
		gpa = q->packed.desc_gpa + el[i].pos * sz;
		if (nr > 0 && r[nr - 1].gpa + r[nr - 1].len == gpa) {
			r[nr - 1].len += sz;
			continue;
		}
		r[nr].gpa = gpa;
		r[nr].len = sz;
		nr++;
	}
	return nr;
}

/* Relay up to max (<= VRELAY_BURST) used descriptors as one burst. */
static int
used_burst(struct vrelay_queue *q, unsigned int max)
{
	struct used_el el[VRELAY_BURST];
	uint16_t pos = q->packed.last_used, flags;
	bool wrap = q->packed.used_wrap, log_all = false;
	const struct vring_packed_desc *m;
	unsigned int n;
	uint64_t pages;

	q->nranges = 0;
	for (n = 0; n < max; n++) {
		/* Room for a longest chain (the ring slots come later). */
		if (q->nranges + VRELAY_MAX_CHAIN_LEN > VRELAY_RANGES_CAP)
			break;
		m = &q->packed.mdesc[pos];
		/* Flags first: the device writes them last. */
		flags = __atomic_load_n(&m->flags, __ATOMIC_ACQUIRE);
		if (!vrelay_packed_desc_used(flags, wrap))
			break;
		el[n] = (struct used_el){
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
	if (log_all)
		pages = vrelay_log_all_memory(q->dev, q->ranges);
	else
		pages = vrelay_log_ranges(q->dev, q->ranges, q->nranges);
	used_write_guest(q, el, n);
	/*
	 * The guest ring's slots only after writing them: a dirty bit set
	 * before the write could be cleared, and the page copied, before
	 * the write lands (the release stores above order the writes before
	 * the log's atomic OR).
	 */
	pages += vrelay_log_ranges(q->dev, q->ranges,
				   used_slot_ranges(q, el, n));
	q->stats.pages_logged += pages;
	q->stats.log_bursts++;
	q->packed.last_used = pos;
	q->packed.used_wrap = wrap;
	return n;
}

/*
 * Relay up to budget used descriptors. Bounded: each must name a chain
 * in flight, so a call relays at most the ring size.
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

	while (total < budget) {
		ret = used_burst(q, budget - total < VRELAY_BURST ?
				 budget - total : VRELAY_BURST);
		if (ret < 0)
			return ret;
		if (ret == 0)
			break;
		total += ret;
	}
	if (total == 0)
		return 0;
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
