/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Datapath of the emulated VF on packed virtqueues (virtio 1.1, 2.8),
 * in-order device. The shared parts are in ifcvf_sw_dp.c.
 *
 * One descriptor ring (q->pdesc), translated read-write at queue start:
 * the device reads available descriptors and writes used ones in place.
 * The device keeps two positions with their wrap counters: where it
 * fetches (regs.last_avail_idx, regs.avail_wrap) and where it writes the
 * next used descriptor (regs.last_used_idx, regs.used_wrap). A chain is
 * consecutive descriptors linked by NEXT, or one descriptor pointing at
 * an indirect table; its buffer id is in its last ring descriptor.
 *
 * One used descriptor per buffer, written at the used position, which
 * then moves by the descriptor count of the chain it completes: so after
 * a burst both positions are equal and exact, with nothing in flight.
 * Buffers complete in the order they were made available, or with
 * completion=ooo (hw->conf.ooo) out of order: a burst's completions wait
 * for its end and are written whole packets in reverse (the used ids say
 * which buffers; a merged RX packet's buffers stay consecutive, its
 * first one's flags last, virtio "Multi-buffer requests"). The positions,
 * and so event suppression, are those of in-order completion.
 */

#include <errno.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include <rte_atomic.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_memcpy.h>
#include <rte_ring.h>

#include "ifcvf_sw_dma.h"
#include "ifcvf_sw_dp.h"

#define PK_F_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define PK_F_USED (1u << VRING_PACKED_DESC_F_USED)
#define PK_WRAP_SHIFT VRING_PACKED_EVENT_F_WRAP_CTR
/* Most buffers one RX packet may take (their used descriptors wait). */
#define PK_RX_MAX_BUFS 64u
/* completion=ooo: most packets, and buffers, a burst holds back. */
#define PK_DONE_PKTS DP_BURST
#define PK_DONE_BUFS (2 * PK_RX_MAX_BUFS)

/* Walks one chain: ring descriptors, or one indirect table. */
struct pk_walk {
	const struct vring_packed_desc *ind;	/* indirect table, or NULL */
	uint32_t ind_size;			/* entries in ind */
	uint32_t ind_idx;			/* next entry of ind */
	uint16_t pos;		/* next ring position */
	bool wrap;		/* driver wrap counter at pos */
	uint16_t ndesc;		/* ring descriptors of the chain so far */
	uint16_t id;		/* buffer id, valid at the end */
	bool end;		/* chain exhausted */
	bool seen_write;	/* a device-writable one was seen */
};

/* One RX buffer filled, its used descriptor not yet written. */
struct pk_buf {
	uint16_t id;
	uint16_t ndesc;
	uint32_t len;
};

/*
 * completion=ooo: the burst's completions not yet written, packet by
 * packet (packet j is bufs[first[j]] to bufs[first[j + 1] - 1]).
 */
struct pk_done {
	unsigned int nb_pkts;
	unsigned int nb_bufs;
	uint16_t first[PK_DONE_PKTS + 1];
	struct pk_buf bufs[PK_DONE_BUFS];
};

static inline void
pk_advance(const struct ifcsw_hwq *q, uint16_t *pos, bool *wrap, uint16_t n)
{
	uint32_t p = (uint32_t)*pos + n;

	/* virtio 2.8.1: each counter flips when its position wraps. */
	if (p >= q->regs.size) {
		p -= q->regs.size;
		*wrap = !*wrap;
	}
	*pos = (uint16_t)p;
}

/* virtio 2.8.1: available means AVAIL == wrap counter and USED != it. */
static inline bool
pk_desc_avail(const struct ifcsw_hwq *q, uint16_t pos, bool wrap)
{
	/*
	 * Acquire pairs with the driver's write barrier before it stores
	 * the head's flags: the rest of the chain is visible once they are.
	 */
	uint16_t flags = rte_le_to_cpu_16(__atomic_load_n(&q->pdesc[pos].flags,
							  __ATOMIC_ACQUIRE));

	return !!(flags & PK_F_AVAIL) == wrap && !!(flags & PK_F_USED) != wrap;
}

static inline void
pk_walk_start(const struct ifcsw_hwq *q, struct pk_walk *w)
{
	memset(w, 0, sizeof(*w));
	w->pos = q->regs.last_avail_idx;
	w->wrap = q->regs.avail_wrap;
}

/* The chain's end: its buffer id must name a ring slot. */
static inline int
pk_walk_end(struct ifcsw_hwq *q, struct pk_walk *w, uint16_t id)
{
	w->end = true;
	w->id = id;
	return id < q->regs.size ? 0 : dp_ring_error(q);
}

/* Switch the walk to the indirect table that ring descriptor d gives. */
static int
pk_walk_indirect(struct ifcsw_hwq *q, struct pk_walk *w,
		 const struct vring_packed_desc *d, uint16_t flags)
{
	uint32_t len = rte_le_to_cpu_32(d->len);
	const struct vring_packed_desc *tbl;

	/* virtio 2.8.19: alone in its chain, never with NEXT. */
	if (!(q->regs.features & IFCSW_HWQ_F_INDIRECT) || w->ndesc != 1 ||
	    (flags & VRING_DESC_F_NEXT) || len == 0 ||
	    len % sizeof(*tbl) != 0 || len / sizeof(*tbl) > DP_MAX_INDIRECT)
		return dp_ring_error(q);
	tbl = ifcsw_dma_translate(&q->hw->dma, rte_le_to_cpu_64(d->addr), len,
				  IFCSW_DMA_READ);
	if (unlikely(tbl == NULL))
		return dp_dma_fault(q);
	w->ind = tbl;
	w->ind_size = len / sizeof(*tbl);
	w->ind_idx = 0;
	return pk_walk_end(q, w, rte_le_to_cpu_16(d->id)) < 0 ? -EIO : 0;
}

/* dp_walk_next_t of packed rings. */
static int
pk_walk_next(struct ifcsw_hwq *q, void *arg, struct dp_seg *seg)
{
	struct pk_walk *w = arg;
	struct vring_packed_desc d;
	uint16_t flags;
	int ret;

	if (w->ind != NULL) {
		if (w->ind_idx == w->ind_size)
			return 0;
		/* One 16-byte read: the table need not be aligned. */
		rte_memcpy(&d, &w->ind[w->ind_idx++], sizeof(d));
	} else {
		if (w->end)
			return 0;
		/* Longer than the ring: it runs into itself, malformed. */
		if (unlikely(w->ndesc == q->regs.size))
			return dp_ring_error(q);
		rte_memcpy(&d, &q->pdesc[w->pos], sizeof(d));
		pk_advance(q, &w->pos, &w->wrap, 1);
		w->ndesc++;
	}
	flags = rte_le_to_cpu_16(d.flags);
	if (w->ind == NULL && (flags & VRING_DESC_F_INDIRECT)) {
		ret = pk_walk_indirect(q, w, &d, flags);
		return ret < 0 ? ret : pk_walk_next(q, w, seg);
	}
	seg->addr = rte_le_to_cpu_64(d.addr);
	seg->len = rte_le_to_cpu_32(d.len);
	/* virtio 2.8.19: in a table only WRITE counts, NEXT is ignored. */
	seg->write = !!(flags & VRING_DESC_F_WRITE);
	/*
	 * DPDK's virtio PMD presets WRITE on every entry of its TX indirect
	 * tables and leaves it on the header's; vhost ignores WRITE when it
	 * transmits, and so does the VF: a TX buffer is all device-readable.
	 */
	if (w->ind != NULL && (q->index & 1))
		seg->write = false;
	/* virtio: device-readable descriptors come before writable ones. */
	if (unlikely(!seg->write && w->seen_write))
		return dp_ring_error(q);
	w->seen_write |= seg->write;
	if (w->ind == NULL && !(flags & VRING_DESC_F_NEXT) &&
	    pk_walk_end(q, w, rte_le_to_cpu_16(d.id)) < 0)
		return -EIO;
	return 1;
}

/* Walk what is left of a chain: its length and buffer id. */
static int
pk_walk_finish(struct ifcsw_hwq *q, struct pk_walk *w)
{
	struct dp_seg s;
	int ret;

	while ((ret = pk_walk_next(q, w, &s)) > 0)
		;
	return ret;
}

/* Fill a used descriptor at the used position, all but its flags. */
static inline struct vring_packed_desc *
pk_used_fill(struct ifcsw_hwq *q, const struct pk_buf *b, uint16_t *flags)
{
	struct vring_packed_desc *d = &q->pdesc[q->regs.last_used_idx];

	d->id = rte_cpu_to_le_16(b->id);
	d->len = rte_cpu_to_le_32(b->len);
	/* virtio 2.8.1: used means AVAIL == USED == the used wrap counter. */
	*flags = q->regs.used_wrap ? PK_F_AVAIL | PK_F_USED : 0;
	pk_advance(q, &q->regs.last_used_idx, &q->regs.used_wrap, b->ndesc);
	return d;
}

/*
 * Hand buffers back: one used descriptor each, the first one's flags
 * last, so that the driver sees all of them (a merged packet) at once.
 */
static void
pk_used_write(struct ifcsw_hwq *q, const struct pk_buf *bufs, unsigned int nb)
{
	struct vring_packed_desc *first;
	uint16_t first_flags, flags;
	unsigned int i;

	first = pk_used_fill(q, &bufs[0], &first_flags);
	for (i = 1; i < nb; i++) {
		struct vring_packed_desc *d = pk_used_fill(q, &bufs[i], &flags);

		/*
		 * virtio 2.8.1: id and len must be visible before the flags
		 * that hand the descriptor back (release pairs with the
		 * driver's read barrier after it sees them).
		 */
		__atomic_store_n(&d->flags, rte_cpu_to_le_16(flags),
				 __ATOMIC_RELEASE);
	}
	/* Same rule; release also orders it after the others' flags. */
	__atomic_store_n(&first->flags, rte_cpu_to_le_16(first_flags),
			 __ATOMIC_RELEASE);
}

/*
 * completion=ooo: write the held-back completions, whole packets in
 * reverse: the last packet's used descriptors go to the used position,
 * and so on. Counts the used descriptors that land elsewhere than in
 * order would have put them.
 */
static void
pk_done_flush(struct ifcsw_hwq *q, struct pk_done *dn)
{
	uint32_t total = 0, after = 0;
	unsigned int i, j;

	for (i = 0; i < dn->nb_bufs; i++)
		total += dn->bufs[i].ndesc;
	for (j = dn->nb_pkts; j-- > 0;) {
		unsigned int b = dn->first[j], nb = dn->first[j + 1] - b;
		uint32_t nd = 0;

		for (i = b; i < b + nb; i++)
			nd += dn->bufs[i].ndesc;
		/* In order at total - after - nd, now at after. */
		if (total - after - nd != after)
			q->stats.reordered += nb;
		pk_used_write(q, &dn->bufs[b], nb);
		after += nd;
	}
	dn->nb_pkts = 0;
	dn->nb_bufs = 0;
}

/*
 * One packet's buffers are done: in order, hand them back now; out of
 * order, hold them for the burst's end (making room first if full).
 */
static void
pk_done_add(struct ifcsw_hwq *q, struct pk_done *dn,
	    const struct pk_buf *bufs, unsigned int nb)
{
	if (!q->hw->conf.ooo) {
		pk_used_write(q, bufs, nb);
		return;
	}
	if (dn->nb_pkts == PK_DONE_PKTS || dn->nb_bufs + nb > PK_DONE_BUFS)
		pk_done_flush(q, dn);
	memcpy(&dn->bufs[dn->nb_bufs], bufs, nb * sizeof(*bufs));
	dn->first[dn->nb_pkts++] = dn->nb_bufs;
	dn->nb_bufs += nb;
	dn->first[dn->nb_pkts] = dn->nb_bufs;
}

/* Interrupt after used descriptors were written, unless told not. */
static void
pk_notify(struct ifcsw_hwq *q)
{
	uint16_t flags, off_wrap, off, old, new_idx = q->regs.last_used_idx;
	bool valid = q->signalled_used_valid;

	/*
	 * virtio: the used flags must be visible before we read the
	 * driver's event suppression; otherwise the driver may enable
	 * interrupts after checking a stale ring and we read the old
	 * suppression: nobody wakes it.
	 */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = rte_le_to_cpu_16(__atomic_load_n(&q->drv_event->flags,
						 __ATOMIC_RELAXED));
	/* virtio 2.8.10: DESC is only meaningful with EVENT_IDX. */
	if (flags != VRING_PACKED_EVENT_FLAG_DESC ||
	    !(q->regs.features & IFCSW_HWQ_F_EVENT_IDX)) {
		if (flags != VRING_PACKED_EVENT_FLAG_DISABLE)
			dp_irq(q);
		return;
	}
	off_wrap = rte_le_to_cpu_16(__atomic_load_n(&q->drv_event->off_wrap,
						    __ATOMIC_RELAXED));
	old = q->signalled_used;
	q->signalled_used = new_idx;
	q->signalled_used_valid = true;
	if (!valid) {
		dp_irq(q);
		return;
	}
	/*
	 * Positions restart at 0 on each wrap: unfold old and the event
	 * position onto one line ending at new_idx, as vhost does, then
	 * the split rule applies (event in [old, new)).
	 */
	off = off_wrap & ~(1u << PK_WRAP_SHIFT);
	if (new_idx <= old)
		old -= q->regs.size;
	if (q->regs.used_wrap != !!(off_wrap >> PK_WRAP_SHIFT))
		off -= q->regs.size;
	if (dp_need_event(off, new_idx, old))
		dp_irq(q);
}

/* ------------------------------------------------------------------ TX */

int
dp_packed_tx(struct ifcsw_hwq *q, unsigned int budget)
{
	struct rte_mbuf *pkts[DP_BURST];
	struct pk_done dn;
	unsigned int done = 0;
	int ret = 0;

	dn.nb_pkts = dn.nb_bufs = 0;

	while (done < budget && ret == 0) {
		unsigned int batch, i, nb_pkts = 0;

		batch = RTE_MIN(budget - done, (unsigned int)DP_BURST);
		/* Single producer: the free count can only grow meanwhile. */
		batch = RTE_MIN(batch, rte_ring_free_count(q->wire));
		for (i = 0; i < batch; i++) {
			struct pk_walk w;
			struct pk_buf b;

			if (!pk_desc_avail(q, q->regs.last_avail_idx,
					   q->regs.avail_wrap))
				break;
			pk_walk_start(q, &w);
			ret = dp_tx_chain(q, pk_walk_next, &w, &pkts[nb_pkts]);
			if (ret < 0)
				break;
			if (pkts[nb_pkts] != NULL)
				nb_pkts++;
			/* virtio-net: TX buffers are returned with len 0. */
			b = (struct pk_buf){ .id = w.id, .ndesc = w.ndesc };
			pk_done_add(q, &dn, &b, 1);
			q->regs.last_avail_idx = w.pos;
			q->regs.avail_wrap = w.wrap;
			q->stats.descs++;
		}
		/* The burst's end, also after an error: all it took is done. */
		pk_done_flush(q, &dn);
		dp_tx_send(q, pkts, nb_pkts);
		done += i;
		if (i < batch || batch == 0)
			break;	/* ring empty, wire full, or an error */
	}
	if (done > 0)
		pk_notify(q);
	/* No mbuf: like a full wire, the chain stays for the next burst. */
	if (ret == -ENOBUFS)
		ret = 0;
	return ret < 0 ? ret : (int)done;
}

/* ------------------------------------------------------------------ RX */

static unsigned int
pk_rx_room(struct ifcsw_hwq *q, void *ctx __rte_unused)
{
	/* Chains are not counted ahead: one packet at a time. */
	return pk_desc_avail(q, q->regs.last_avail_idx, q->regs.avail_wrap);
}

/*
 * Place one packet from the avail position on. Used descriptors are
 * written only once the whole packet is in: in a packed ring a written
 * one is the driver's at once. Returns the buffers used, 0 if the driver
 * has not offered enough yet, -E2BIG to drop the packet.
 */
static int
pk_rx_place(struct ifcsw_hwq *q, const struct rte_mbuf *m, void *ctx)
{
	struct pk_buf bufs[PK_RX_MAX_BUFS];
	struct pk_walk w;
	struct dp_rx_pkt p;
	uint32_t seen = 0;
	unsigned int nb = 0;
	int ret;

	dp_rx_pkt_init(q, &p, m);
	pk_walk_start(q, &w);
	while (p.placed < p.total) {
		uint32_t used_len;

		if (nb > 0 && !p.mrg)
			return -E2BIG;	/* must fit one chain: drop it */
		/* Whole ring offered and still short: never fits. */
		if (nb == PK_RX_MAX_BUFS || seen >= q->regs.size)
			return -E2BIG;
		if (!pk_desc_avail(q, w.pos, w.wrap))
			return 0;	/* wait for more buffers */
		/* Next chain where the last one ended. */
		w = (struct pk_walk){ .pos = w.pos, .wrap = w.wrap };
		ret = dp_rx_fill_chain(q, pk_walk_next, &w, &p, &used_len);
		if (ret == 0)
			ret = pk_walk_finish(q, &w);
		if (ret < 0)
			return ret;
		bufs[nb++] = (struct pk_buf){ w.id, w.ndesc, used_len };
		seen += w.ndesc;
	}
	ret = dp_rx_patch_nbuf(q, &p, nb);
	if (ret < 0)
		return ret;
	pk_done_add(q, ctx, bufs, nb);
	q->regs.last_avail_idx = w.pos;
	q->regs.avail_wrap = w.wrap;
	return nb;
}

static const struct dp_rx_ring pk_rx_ring = {
	.room = pk_rx_room,
	.place = pk_rx_place,
};

int
dp_packed_rx(struct ifcsw_hwq *q, unsigned int budget)
{
	uint64_t descs = q->stats.descs;
	struct pk_done dn;
	int ret;

	dn.nb_pkts = dn.nb_bufs = 0;
	ret = dp_rx_loop(q, budget, &pk_rx_ring, &dn);
	/* The burst's end, also after a fault: all it placed is done. */
	pk_done_flush(q, &dn);
	if (q->stats.descs != descs)
		pk_notify(q);
	return ret;
}

/* -------------------------------------------------------- notifications */

bool
dp_packed_has_avail(const struct ifcsw_hwq *q)
{
	return pk_desc_avail(q, q->regs.last_avail_idx, q->regs.avail_wrap);
}

void
dp_packed_notify_on(struct ifcsw_hwq *q)
{
	uint16_t flags = VRING_PACKED_EVENT_FLAG_ENABLE;

	if (q->regs.features & IFCSW_HWQ_F_EVENT_IDX) {
		uint16_t off_wrap = q->regs.last_avail_idx |
			(uint16_t)(q->regs.avail_wrap << PK_WRAP_SHIFT);

		__atomic_store_n(&q->dev_event->off_wrap,
				 rte_cpu_to_le_16(off_wrap), __ATOMIC_RELAXED);
		flags = VRING_PACKED_EVENT_FLAG_DESC;
	}
	/*
	 * virtio 2.8.10: the driver reads off_wrap after seeing DESC in
	 * flags; release orders the two stores.
	 */
	__atomic_store_n(&q->dev_event->flags, rte_cpu_to_le_16(flags),
			 __ATOMIC_RELEASE);
}

void
dp_packed_notify_off(struct ifcsw_hwq *q)
{
	__atomic_store_n(&q->dev_event->flags,
			 rte_cpu_to_le_16(VRING_PACKED_EVENT_FLAG_DISABLE),
			 __ATOMIC_RELAXED);
}
