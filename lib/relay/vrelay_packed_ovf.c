/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The overflow pool of a packed queue: the writable buffers of chains
 * with more than VRELAY_SLOT_SEGS of them, kept from their avail check
 * to their completion (a packed chain's ring slots may be reused while
 * it is in flight, so the used side cannot walk it again as split does).
 *
 * One mapping made when the queue is prepared, populated then: the
 * relay thread never allocates. Entries are single segments linked by
 * index (ovf_next); a chain takes nseg entries off the free list, in
 * order, and gives them back as one splice at its completion, so
 * out-of-order completion cannot fragment the pool. Its size is the
 * budget the relay has always had, 32 * size + VRELAY_MAX_CHAIN_LEN
 * segments in flight (Linux's big-packet RX chains take 19 a slot): a
 * chain past it keeps nothing and its completion logs all of guest
 * memory instead. Never a lost page. 20 bytes an entry: 184 KiB for a
 * ring of 256, 675 KiB for 1024.
 */

#include <sys/mman.h>

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

static size_t
pool_bytes(uint32_t cap)
{
	return (size_t)cap * (sizeof(struct vrelay_range) + sizeof(uint32_t));
}

int
vrelay_packed_ovf_alloc(struct vrelay_queue *q)
{
	const uint32_t cap = 32u * (uint32_t)q->size + VRELAY_MAX_CHAIN_LEN;
	void *m;
	uint32_t i;

	m = mmap(NULL, pool_bytes(cap), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (m == MAP_FAILED)
		return -ENOMEM;
	q->packed.ovf_seg = m;
	q->packed.ovf_next = (uint32_t *)(q->packed.ovf_seg + cap);
	/* Every entry free, in order; the last one's next is never read. */
	for (i = 0; i < cap; i++)
		q->packed.ovf_next[i] = i + 1;
	q->packed.ovf_free = 0;
	q->packed.ovf_cap = cap;
	q->packed.ovf_segs = 0;
	return 0;
}

void
vrelay_packed_ovf_free(struct vrelay_queue *q)
{
	munmap(q->packed.ovf_seg, pool_bytes(q->packed.ovf_cap));
	q->packed.ovf_seg = NULL;
	q->packed.ovf_next = NULL;
}

/*
 * Keep the n (> VRELAY_SLOT_SEGS) writable buffers c of the chain of
 * slot s, or, past the budget, mark it to log all memory at completion.
 * O(n): the chain check that found them was O(n) too.
 */
void
vrelay_packed_ovf_store(struct vrelay_queue *q, struct vrelay_slot *s,
			const struct vrelay_range *c, uint16_t n)
{
	uint32_t i, last = 0;
	uint16_t k;

	/* Free entries: cap - ovf_segs, all on the free list. */
	if (q->packed.ovf_segs + n > q->packed.ovf_cap) {
		s->log_all = 1;
		if (!q->packed.ovf_warned)
			VRELAY_LOG(WARNING, "%s: writable buffers in flight "
				   "past %u: such chains log all guest memory",
				   q->name, q->packed.ovf_cap);
		q->packed.ovf_warned = true;
		return;
	}
	i = q->packed.ovf_free;
	s->ovf_head = i;
	for (k = 0; k < n; k++) {
		q->packed.ovf_seg[i] = c[k];
		last = i;
		i = q->packed.ovf_next[i];
	}
	/* The chain stays linked head to last, through ovf_next. */
	s->ovf_last = last;
	q->packed.ovf_free = i;
	q->packed.ovf_segs += n;
}

/* Add the first len bytes of slot s's kept buffers to q->ranges. */
void
vrelay_packed_ovf_collect(struct vrelay_queue *q, const struct vrelay_slot *s,
			  uint32_t len)
{
	struct vrelay_range *r = &q->ranges[q->nranges];
	uint32_t i = s->ovf_head;
	uint16_t k;

	for (k = 0; k < s->nseg && len != 0; k++, r++) {
		*r = q->packed.ovf_seg[i];
		if (r->len > len)
			r->len = len;
		len -= r->len;
		q->nranges++;
		i = q->packed.ovf_next[i];
	}
}

/* Give slot s's kept buffers back, if it has any: at its completion. */
void
vrelay_packed_ovf_release(struct vrelay_queue *q, struct vrelay_slot *s)
{
	if (s->nseg <= VRELAY_SLOT_SEGS || s->log_all)
		return;
	q->packed.ovf_next[s->ovf_last] = q->packed.ovf_free;
	q->packed.ovf_free = s->ovf_head;
	q->packed.ovf_segs -= s->nseg;
}
