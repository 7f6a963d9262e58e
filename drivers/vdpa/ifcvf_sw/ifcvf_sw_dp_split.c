/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Datapath of the emulated VF on split virtqueues (virtio 1.1, 2.7),
 * in-order device. The shared parts are in ifcvf_sw_dp.c.
 *
 * The rings themselves (q->desc, q->avail, q->used) were translated at
 * queue start; descriptor buffers and indirect tables are reached
 * through the DMA map.
 *
 * Chains are fetched and completed strictly in avail order, and a burst
 * never leaves a fetched chain without its used entry: between two calls
 * last_avail_idx - last_used_idx is constant, which is what lets the
 * driver read exact indices after a stop.
 */

#include <errno.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include <rte_atomic.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "ifcvf_sw_dma.h"
#include "ifcvf_sw_dp.h"

/* Walks one chain, direct or through one indirect table. */
struct dp_walk {
	const struct vring_desc *tbl;	/* ring table or indirect table */
	uint32_t tbl_size;		/* entries in tbl */
	uint32_t steps;			/* descriptors left before "too long" */
	uint16_t idx;			/* next descriptor in tbl */
	bool end;			/* chain exhausted */
	bool indirect;			/* tbl is an indirect table */
	bool seen_write;		/* a device-writable one was seen */
};

/* Number of new avail entries, or -EIO if the driver moved idx too far. */
static inline int
dp_avail_count(struct ifcsw_hwq *q, uint16_t *avail_idx)
{
	uint16_t n;

	/*
	 * virtio: read avail->idx before the ring entries it covers
	 * (acquire pairs with the driver's write barrier before its idx
	 * store).
	 */
	*avail_idx = rte_le_to_cpu_16(__atomic_load_n(&q->avail->idx,
						      __ATOMIC_ACQUIRE));
	n = (uint16_t)(*avail_idx - q->regs.last_avail_idx);
	if (unlikely(n > q->regs.size))
		return dp_ring_error(q);
	return n;
}

static inline uint16_t
dp_avail_head(const struct ifcsw_hwq *q, uint16_t idx)
{
	return rte_le_to_cpu_16(q->avail->ring[idx & (q->regs.size - 1)]);
}

static inline int
dp_walk_start(struct ifcsw_hwq *q, struct dp_walk *w, uint16_t head)
{
	if (unlikely(head >= q->regs.size))
		return dp_ring_error(q);
	w->tbl = q->desc;
	w->tbl_size = q->regs.size;
	w->steps = q->regs.size;
	w->idx = head;
	w->end = false;
	w->indirect = false;
	w->seen_write = false;
	return 0;
}

/* Switch the walk to the indirect table described by d. */
static int
dp_walk_indirect(struct ifcsw_hwq *q, struct dp_walk *w,
		 const struct vring_desc *d, uint16_t flags)
{
	uint32_t len = rte_le_to_cpu_32(d->len);
	const struct vring_desc *tbl;

	/* Not negotiated, nested, or INDIRECT|NEXT: all forbidden by virtio. */
	if (!(q->regs.features & IFCSW_HWQ_F_INDIRECT) || w->indirect ||
	    (flags & VRING_DESC_F_NEXT) || len == 0 ||
	    len % sizeof(struct vring_desc) != 0)
		return dp_ring_error(q);
	tbl = ifcsw_dma_translate(&q->hw->dma, rte_le_to_cpu_64(d->addr), len,
				  IFCSW_DMA_READ);
	if (unlikely(tbl == NULL))
		return dp_dma_fault(q);
	w->tbl = tbl;
	w->tbl_size = len / sizeof(struct vring_desc);
	w->steps = RTE_MIN(w->tbl_size, DP_MAX_INDIRECT);
	w->idx = 0;
	w->indirect = true;
	return 0;
}

/* dp_walk_next_t of split rings. */
static int
dp_walk_next(struct ifcsw_hwq *q, void *arg, struct dp_seg *seg)
{
	struct dp_walk *w = arg;
	struct vring_desc dsnap;
	const struct vring_desc *d = &dsnap;
	uint16_t flags;
	int ret;

	if (w->end)
		return 0;
	/* Every step costs one; a looping chain runs out and is malformed. */
	if (unlikely(w->steps == 0))
		return dp_ring_error(q);
	w->steps--;
	/*
	 * One 16-byte read, as the VF's DMA engine does: a consistent
	 * snapshot, and no assumption that an indirect table is aligned.
	 */
	rte_memcpy(&dsnap, &w->tbl[w->idx], sizeof(dsnap));
	flags = rte_le_to_cpu_16(d->flags);
	if (flags & VRING_DESC_F_INDIRECT) {
		ret = dp_walk_indirect(q, w, d, flags);
		if (ret < 0)
			return ret;
		return dp_walk_next(q, w, seg);
	}
	seg->addr = rte_le_to_cpu_64(d->addr);
	seg->len = rte_le_to_cpu_32(d->len);
	seg->write = !!(flags & VRING_DESC_F_WRITE);
	/* virtio: device-readable descriptors come before writable ones. */
	if (unlikely(!seg->write && w->seen_write))
		return dp_ring_error(q);
	w->seen_write |= seg->write;
	if (flags & VRING_DESC_F_NEXT) {
		w->idx = rte_le_to_cpu_16(d->next);
		if (unlikely(w->idx >= w->tbl_size))
			return dp_ring_error(q);
	} else {
		w->end = true;
	}
	return 1;
}

static inline void
dp_used_write(struct ifcsw_hwq *q, uint16_t used_idx, uint16_t id,
	      uint32_t len)
{
	struct vring_used_elem *e =
		&q->used->ring[used_idx & (q->regs.size - 1)];

	e->id = rte_cpu_to_le_32(id);
	e->len = rte_cpu_to_le_32(len);
}

/* Make used entries up to used_idx visible and update the registers. */
static inline void
dp_publish(struct ifcsw_hwq *q, uint16_t avail_idx, uint16_t used_idx)
{
	/*
	 * virtio: a used entry must be visible before the used->idx that
	 * covers it (release pairs with the driver's read barrier after
	 * reading used->idx).
	 */
	__atomic_store_n(&q->used->idx, rte_cpu_to_le_16(used_idx),
			 __ATOMIC_RELEASE);
	q->regs.last_avail_idx = avail_idx;
	q->regs.last_used_idx = used_idx;
}

/* Interrupt the driver after used entries were published, unless told not. */
static void
dp_notify(struct ifcsw_hwq *q)
{
	uint16_t new_idx = q->regs.last_used_idx;
	bool fire;

	/*
	 * virtio: the used idx store must be visible before reading the
	 * driver's suppression (avail->flags / used_event); otherwise the
	 * driver may re-enable interrupts after checking a stale used->idx
	 * and we read the old suppression: nobody wakes it.
	 */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->regs.features & IFCSW_HWQ_F_EVENT_IDX) {
		uint16_t event = rte_le_to_cpu_16(__atomic_load_n(
			&q->avail->ring[q->regs.size], __ATOMIC_RELAXED));
		uint16_t old_idx = q->signalled_used;
		bool valid = q->signalled_used_valid;

		q->signalled_used = new_idx;
		q->signalled_used_valid = true;
		fire = !valid || dp_need_event(event, new_idx, old_idx);
	} else {
		uint16_t flags = rte_le_to_cpu_16(__atomic_load_n(
			&q->avail->flags, __ATOMIC_RELAXED));

		fire = !(flags & VRING_AVAIL_F_NO_INTERRUPT);
	}
	if (fire)
		dp_irq(q);
}

/* ------------------------------------------------------------------ TX */

static int
dp_split_tx_one(struct ifcsw_hwq *q, uint16_t head, struct rte_mbuf **out)
{
	struct dp_walk w;
	int ret;

	ret = dp_walk_start(q, &w, head);
	if (ret < 0)
		return ret;
	return dp_tx_chain(q, dp_walk_next, &w, out);
}

int
dp_split_tx(struct ifcsw_hwq *q, unsigned int budget)
{
	struct rte_mbuf *pkts[DP_BURST];
	uint16_t avail_idx, last_avail, last_used;
	unsigned int done = 0;
	int ret = 0, left;

	left = dp_avail_count(q, &avail_idx);
	if (left <= 0)
		return left;
	last_avail = q->regs.last_avail_idx;
	last_used = q->regs.last_used_idx;
	while (done < budget && left > 0 && ret == 0) {
		unsigned int batch, i, nb_pkts = 0;

		batch = RTE_MIN(RTE_MIN((unsigned int)left, budget - done),
				(unsigned int)DP_BURST);
		/* Single producer: the free count can only grow meanwhile. */
		batch = RTE_MIN(batch, rte_ring_free_count(q->wire));
		if (batch == 0)
			break;	/* wire full: retry later, not an error */
		for (i = 0; i < batch; i++) {
			uint16_t head = dp_avail_head(q, last_avail);

			if (i + 1 < batch)
				rte_prefetch0(&q->desc[dp_avail_head(q,
						last_avail + 1) &
						(q->regs.size - 1)]);
			ret = dp_split_tx_one(q, head, &pkts[nb_pkts]);
			if (ret < 0)
				break;
			if (pkts[nb_pkts] != NULL)
				nb_pkts++;
			/* virtio-net: TX buffers are returned with len 0. */
			dp_used_write(q, last_used++, head, 0);
			last_avail++;
			q->stats.descs++;
		}
		dp_tx_send(q, pkts, nb_pkts);
		done += i;
		left -= i;
		if (i > 0)
			dp_publish(q, last_avail, last_used);
	}
	if (done > 0)
		dp_notify(q);
	/* No mbuf: like a full wire, the chain stays for the next burst. */
	if (ret == -ENOBUFS)
		ret = 0;
	return ret < 0 ? ret : (int)done;
}

/* ------------------------------------------------------------------ RX */

/* Where an RX burst is: entries beyond used->idx are ours until published. */
struct dp_split_rx_ctx {
	uint16_t avail_idx;	/* driver's avail->idx at burst start */
	uint16_t cursor;	/* next avail entry to use */
	uint16_t used_idx;	/* next used entry to write */
};

static unsigned int
dp_split_rx_room(struct ifcsw_hwq *q, void *arg)
{
	struct dp_split_rx_ctx *c = arg;
	unsigned int n = (uint16_t)(c->avail_idx - c->cursor);

	/* With MRG a packet may take every buffer: one at a time. */
	if (q->regs.features & IFCSW_HWQ_F_MRG_RXBUF)
		return RTE_MIN(n, 1u);
	return n;
}

/*
 * Place one packet from c->cursor on. Returns the chains used (used
 * entries written from c->used_idx, not yet published), 0 if the driver
 * has not made enough buffers available yet, -E2BIG to drop it.
 */
static int
dp_split_rx_place(struct ifcsw_hwq *q, const struct rte_mbuf *m, void *arg)
{
	struct dp_split_rx_ctx *c = arg;
	struct dp_rx_pkt p;
	uint16_t cur = c->cursor, nb = 0;
	int ret;

	dp_rx_pkt_init(q, &p, m);
	while (p.placed < p.total) {
		uint32_t used_len;
		struct dp_walk w;
		uint16_t head;

		if (nb > 0 && !p.mrg)
			return -E2BIG;	/* must fit one chain: drop it */
		if (cur == c->avail_idx) {
			/* Whole ring offered and still short: never fits. */
			if ((uint16_t)(c->avail_idx - c->cursor) ==
			    q->regs.size)
				return -E2BIG;
			return 0;	/* wait for more buffers */
		}
		head = dp_avail_head(q, cur);
		ret = dp_walk_start(q, &w, head);
		if (ret == 0)
			ret = dp_rx_fill_chain(q, dp_walk_next, &w, &p,
					       &used_len);
		if (ret < 0)
			return ret;
		/* Entries beyond used->idx are ours until published. */
		dp_used_write(q, c->used_idx + nb, head, used_len);
		cur++;
		nb++;
	}
	ret = dp_rx_patch_nbuf(q, &p, nb);
	if (ret < 0)
		return ret;
	c->cursor = cur;
	c->used_idx += nb;
	return nb;
}

static const struct dp_rx_ring dp_split_rx_ring = {
	.room = dp_split_rx_room,
	.place = dp_split_rx_place,
};

int
dp_split_rx(struct ifcsw_hwq *q, unsigned int budget)
{
	struct dp_split_rx_ctx c;
	int ret;

	ret = dp_avail_count(q, &c.avail_idx);
	if (ret < 0)
		return ret;
	c.cursor = q->regs.last_avail_idx;
	c.used_idx = q->regs.last_used_idx;
	ret = dp_rx_loop(q, budget, &dp_split_rx_ring, &c);
	/* One used-idx store per burst (budget bounds the delay). */
	if (c.used_idx != q->regs.last_used_idx) {
		dp_publish(q, c.cursor, c.used_idx);
		dp_notify(q);
	}
	return ret;
}

/* -------------------------------------------------------- notifications */

bool
dp_split_has_avail(const struct ifcsw_hwq *q)
{
	return rte_le_to_cpu_16(__atomic_load_n(&q->avail->idx,
			__ATOMIC_ACQUIRE)) != q->regs.last_avail_idx;
}

void
dp_split_notify_on(struct ifcsw_hwq *q)
{
	if (q->regs.features & IFCSW_HWQ_F_EVENT_IDX) {
		uint16_t *avail_event =
			(uint16_t *)&q->used->ring[q->regs.size];

		__atomic_store_n(avail_event,
				 rte_cpu_to_le_16(q->regs.last_avail_idx),
				 __ATOMIC_RELAXED);
	} else {
		uint16_t flags = rte_le_to_cpu_16(q->used->flags);

		__atomic_store_n(&q->used->flags,
			rte_cpu_to_le_16(flags & ~VRING_USED_F_NO_NOTIFY),
			__ATOMIC_RELAXED);
	}
}

void
dp_split_notify_off(struct ifcsw_hwq *q)
{
	uint16_t flags;

	/* With EVENT_IDX a stale avail_event already silences the driver. */
	if (q->regs.features & IFCSW_HWQ_F_EVENT_IDX)
		return;
	flags = rte_le_to_cpu_16(q->used->flags);
	__atomic_store_n(&q->used->flags,
			 rte_cpu_to_le_16(flags | VRING_USED_F_NO_NOTIFY),
			 __ATOMIC_RELAXED);
}
