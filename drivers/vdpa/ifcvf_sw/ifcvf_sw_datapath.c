/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Datapath of the emulated VF: split virtqueues, in-order device.
 *
 * Runs on the device thread with the DMA read lock held. The rings
 * themselves (q->desc, q->avail, q->used) were translated at queue start;
 * every descriptor buffer and indirect table is reached through the DMA
 * map, so a bad guest address is a counted fault, never a host access.
 *
 * Chains are fetched and completed strictly in avail order, and a burst
 * never leaves a fetched chain without its used entry: between two calls
 * last_avail_idx - last_used_idx is constant, which is what lets the
 * driver read exact indices after a stop.
 *
 * Rings are little endian (VIRTIO_F_VERSION_1).
 */

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <rte_atomic.h>
#include <rte_byteorder.h>
#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "ifcvf_sw_dma.h"
#include "ifcvf_sw_hw.h"
#include "ifcvf_sw_log.h"

/* Chains per internal batch: bounds the stack arrays, one used-idx store. */
#define DP_BURST 32u
/* Largest frame the VF sends or receives (jumbo). */
#define DP_MAX_PKT 9728
/* Offset of num_buffers in struct virtio_net_hdr_mrg_rxbuf. */
#define DP_NUM_BUFFERS_OFF 10
/* Indirect table indices are 16 bit: a longer walk must be a loop. */
#define DP_MAX_INDIRECT 65536u

/* One descriptor of a chain, as the walker hands it out. */
struct dp_seg {
	uint64_t addr;
	uint32_t len;
	bool write;
};

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

static inline uint16_t
dp_hdr_len(const struct ifcsw_hwq *q)
{
	/* MRG_RXBUF implies the 12-byte header even if HDR_MRG was missed. */
	if (q->regs.features & (IFCSW_HWQ_F_HDR_MRG | IFCSW_HWQ_F_MRG_RXBUF))
		return sizeof(struct virtio_net_hdr_mrg_rxbuf);
	return sizeof(struct virtio_net_hdr);
}

static inline int
dp_ring_error(struct ifcsw_hwq *q)
{
	q->stats.ring_errors++;
	return -EIO;
}

static inline int
dp_dma_fault(struct ifcsw_hwq *q)
{
	q->stats.dma_faults++;
	return -EFAULT;
}

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

/* Next descriptor of the chain: 1 and *seg, 0 at the end, or -errno. */
static inline int
dp_walk_next(struct ifcsw_hwq *q, struct dp_walk *w, struct dp_seg *seg)
{
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

/* Driver's "interrupt me" test for EVENT_IDX: event in [old, new). */
static inline bool
dp_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* Interrupt the driver after used entries were published, unless told not. */
static void
dp_notify(struct ifcsw_hwq *q)
{
	uint16_t new_idx = q->regs.last_used_idx;
	uint64_t one = 1;
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
	if (!fire)
		return;
	q->stats.irqs++;
	if (q->regs.irq_fd >= 0 &&
	    write(q->regs.irq_fd, &one, sizeof(one)) != sizeof(one)) {
		/* Only EAGAIN (counter saturated): already pending. */
	}
}

/* ------------------------------------------------------------------ TX */

/* Append [addr, addr + len) of guest memory to the mbuf chain. */
static int
dp_tx_copy(struct ifcsw_hwq *q, struct rte_mbuf *head, struct rte_mbuf **cur,
	   uint64_t addr, uint32_t len)
{
	struct rte_mbuf *m = *cur;

	while (len > 0) {
		uint32_t room = rte_pktmbuf_tailroom(m);
		uint32_t n;

		if (room == 0) {
			struct rte_mbuf *nxt;

			nxt = rte_pktmbuf_alloc(q->hw->conf.mp);
			if (unlikely(nxt == NULL))
				return -ENOBUFS;
			m->next = nxt;
			head->nb_segs++;
			m = nxt;
			*cur = m;
			room = rte_pktmbuf_tailroom(m);
		}
		n = RTE_MIN(len, room);
		if (unlikely(ifcsw_dma_read(&q->hw->dma, addr,
				rte_pktmbuf_mtod_offset(m, void *, m->data_len),
				n) != 0))
			return dp_dma_fault(q);
		m->data_len += n;
		head->pkt_len += n;
		addr += n;
		len -= n;
	}
	return 0;
}

static void
dp_swap_macs(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh;
	struct rte_ether_addr tmp;

	/* A runt or a split Ethernet header is sent as is. */
	if (m->data_len < sizeof(*eh))
		return;
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	rte_ether_addr_copy(&eh->src_addr, &tmp);
	rte_ether_addr_copy(&eh->dst_addr, &eh->src_addr);
	rte_ether_addr_copy(&tmp, &eh->dst_addr);
}

/*
 * Copy one TX chain into *out (NULL: nothing to send, chain still done).
 * -ENOBUFS: no mbuf, chain not consumed, retry later.
 */
static int
dp_tx_chain(struct ifcsw_hwq *q, uint16_t head, struct rte_mbuf **out)
{
	uint8_t hdr[sizeof(struct virtio_net_hdr_mrg_rxbuf)];
	uint32_t hdr_len = dp_hdr_len(q), hdr_got = 0;
	struct rte_mbuf *m, *cur;
	struct dp_walk w;
	struct dp_seg s;
	bool too_big = false;
	int ret;

	*out = NULL;
	ret = dp_walk_start(q, &w, head);
	if (ret < 0)
		return ret;
	m = rte_pktmbuf_alloc(q->hw->conf.mp);
	if (unlikely(m == NULL))
		return -ENOBUFS;
	cur = m;
	while ((ret = dp_walk_next(q, &w, &s)) > 0) {
		uint32_t n;

		/* Nothing for the device to write in a TX chain: ignore. */
		if (s.write)
			continue;
		/* The header is read like real hardware would (offloads). */
		n = RTE_MIN(s.len, hdr_len - hdr_got);
		if (n > 0) {
			if (ifcsw_dma_read(&q->hw->dma, s.addr, hdr + hdr_got,
					   n) != 0) {
				ret = dp_dma_fault(q);
				break;
			}
			hdr_got += n;
			s.addr += n;
			s.len -= n;
		}
		if (s.len == 0 || too_big)
			continue;
		if ((uint64_t)m->pkt_len + s.len > DP_MAX_PKT) {
			too_big = true;
			continue;
		}
		ret = dp_tx_copy(q, m, &cur, s.addr, s.len);
		if (ret < 0)
			break;
	}
	if (ret == 0 && hdr_got < hdr_len)
		ret = dp_ring_error(q);
	if (ret < 0 || too_big || m->pkt_len == 0) {
		rte_pktmbuf_free(m);
		if (ret == 0 && too_big)
			q->stats.drops++;
		return ret;
	}
	if (q->hw->conf.loopback)
		dp_swap_macs(m);
	*out = m;
	return 0;
}

int
ifcsw_dp_tx(struct ifcsw_hwq *q, unsigned int budget)
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
			ret = dp_tx_chain(q, head, &pkts[nb_pkts]);
			if (ret < 0)
				break;
			if (pkts[nb_pkts] != NULL) {
				q->stats.packets++;
				q->stats.bytes += pkts[nb_pkts]->pkt_len;
				nb_pkts++;
			}
			/* virtio-net: TX buffers are returned with len 0. */
			dp_used_write(q, last_used++, head, 0);
			last_avail++;
			q->stats.descs++;
		}
		if (nb_pkts > 0) {
			unsigned int sent = rte_ring_sp_enqueue_burst(q->wire,
					(void **)pkts, nb_pkts, NULL);

			/* Cannot happen with a single producer; be safe. */
			if (unlikely(sent < nb_pkts)) {
				q->stats.drops += nb_pkts - sent;
				rte_pktmbuf_free_bulk(&pkts[sent],
						      nb_pkts - sent);
			}
		}
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

/* Bytes still to place: the header first, then the mbuf segments. */
struct dp_src {
	const uint8_t *ptr;
	uint32_t left;
	const struct rte_mbuf *next;
};

/* Write [addr, addr + len) of one writable descriptor from src. */
static int
dp_rx_copy(struct ifcsw_hwq *q, struct dp_src *src, uint64_t addr,
	   uint32_t len, uint32_t *written)
{
	*written = 0;
	while (len > 0) {
		uint32_t n;

		while (src->left == 0) {
			if (src->next == NULL)
				return 0;
			src->ptr = rte_pktmbuf_mtod(src->next, const uint8_t *);
			src->left = src->next->data_len;
			src->next = src->next->next;
		}
		n = RTE_MIN(len, src->left);
		if (unlikely(ifcsw_dma_write(&q->hw->dma, addr, src->ptr,
					     n) != 0))
			return dp_dma_fault(q);
		src->ptr += n;
		src->left -= n;
		addr += n;
		len -= n;
		*written += n;
	}
	return 0;
}

/* Where the num_buffers bytes of the first buffer's header went. */
struct dp_nbuf_pos {
	uint64_t addr[2];
	unsigned int found;
};

static void
dp_nbuf_note(struct dp_nbuf_pos *pos, uint32_t off, uint64_t addr,
	     uint32_t n)
{
	/* Descriptor covered packet bytes [off, off + n). */
	while (pos->found < 2 && DP_NUM_BUFFERS_OFF + pos->found >= off &&
	       DP_NUM_BUFFERS_OFF + pos->found < off + n) {
		pos->addr[pos->found] =
			addr + (DP_NUM_BUFFERS_OFF + pos->found - off);
		pos->found++;
	}
}

/* Fill one RX chain from src; *used_len gets the bytes written. */
static int
dp_rx_fill_chain(struct ifcsw_hwq *q, uint16_t head, struct dp_src *src,
		 uint32_t *placed, struct dp_nbuf_pos *pos, uint32_t total,
		 uint32_t *used_len)
{
	struct dp_walk w;
	struct dp_seg s;
	int ret;

	*used_len = 0;
	ret = dp_walk_start(q, &w, head);
	if (ret < 0)
		return ret;
	/* Stop at the packet's end: the rest of the chain is not needed. */
	while (*placed < total && (ret = dp_walk_next(q, &w, &s)) > 0) {
		uint32_t n;

		if (!s.write)
			continue;	/* readable ones precede, skip them */
		ret = dp_rx_copy(q, src, s.addr, s.len, &n);
		if (ret < 0)
			return ret;
		if (pos != NULL)
			dp_nbuf_note(pos, *placed, s.addr, n);
		*placed += n;
		*used_len += n;
	}
	return ret < 0 ? ret : 0;
}

/*
 * Place one packet from *cursor on. Returns the chains used (used
 * entries written from used_idx, not yet published), 0 if the driver
 * has not made enough buffers available yet, -E2BIG to drop it.
 */
static int
dp_rx_place(struct ifcsw_hwq *q, struct rte_mbuf *m, uint16_t avail_idx,
	    uint16_t *cursor, uint16_t used_idx)
{
	struct virtio_net_hdr_mrg_rxbuf hdr;
	bool mrg = q->regs.features & IFCSW_HWQ_F_MRG_RXBUF;
	uint32_t hdr_len = dp_hdr_len(q);
	uint32_t total = hdr_len + m->pkt_len, placed = 0;
	struct dp_nbuf_pos pos = { .found = 0 };
	struct dp_src src;
	uint16_t cur = *cursor, nb = 0;
	int ret;

	/* No offloads: only num_buffers, 1 unless more buffers get merged. */
	memset(&hdr, 0, sizeof(hdr));
	hdr.num_buffers = rte_cpu_to_le_16(1);
	src = (struct dp_src){ .ptr = (const uint8_t *)&hdr,
			       .left = hdr_len, .next = m };
	while (placed < total) {
		uint32_t used_len;

		if (nb > 0 && !mrg)
			return -E2BIG;	/* must fit one chain: drop it */
		if (cur == avail_idx) {
			/* Whole ring offered and still short: never fits. */
			if ((uint16_t)(avail_idx - *cursor) == q->regs.size)
				return -E2BIG;
			return 0;	/* wait for more buffers */
		}
		ret = dp_rx_fill_chain(q, dp_avail_head(q, cur), &src,
				       &placed, mrg ? &pos : NULL,
				       total, &used_len);
		if (ret < 0)
			return ret;
		/* Entries beyond used->idx are ours until published. */
		dp_used_write(q, used_idx + nb, dp_avail_head(q, cur),
			      used_len);
		cur++;
		nb++;
	}
	if (nb > 1) {
		uint8_t v[2];

		/* Patch num_buffers where the header's bytes 10-11 went. */
		v[0] = nb & 0xff;
		v[1] = nb >> 8;
		if (pos.found < 2)
			return dp_ring_error(q);	/* buffers < 12 bytes */
		if (pos.addr[1] == pos.addr[0] + 1)
			ret = ifcsw_dma_write(&q->hw->dma, pos.addr[0], v, 2);
		else
			ret = ifcsw_dma_write(&q->hw->dma, pos.addr[0], v,
					      1) ||
			      ifcsw_dma_write(&q->hw->dma, pos.addr[1], v + 1,
					      1);
		if (ret != 0)
			return dp_dma_fault(q);
	}
	*cursor = cur;
	return nb;
}

/* Next wire packet: the pending one first, then the local stash. */
static struct rte_mbuf *
dp_rx_next_pkt(struct ifcsw_hwq *q, struct rte_mbuf **stash,
	       unsigned int *nb_stash, unsigned int *pos, unsigned int want)
{
	struct rte_mbuf *m;

	if (q->rx_pending != NULL) {
		m = q->rx_pending;
		q->rx_pending = NULL;
		return m;
	}
	if (*pos == *nb_stash) {
		/*
		 * A dequeued packet that finds no buffer can only be kept
		 * in rx_pending, so take no more than surely fit: one per
		 * free chain without MRG, one at a time with it.
		 */
		*pos = 0;
		*nb_stash = rte_ring_sc_dequeue_burst(q->wire, (void **)stash,
				(q->regs.features & IFCSW_HWQ_F_MRG_RXBUF) ?
				RTE_MIN(want, 1u) : RTE_MIN(want, DP_BURST),
				NULL);
		if (*nb_stash == 0)
			return NULL;
	}
	m = stash[(*pos)++];
	if (*pos < *nb_stash)
		rte_prefetch0(rte_pktmbuf_mtod(stash[*pos], void *));
	return m;
}

int
ifcsw_dp_rx(struct ifcsw_hwq *q, unsigned int budget)
{
	struct rte_mbuf *stash[DP_BURST];
	unsigned int nb_stash = 0, pos = 0, done = 0;
	uint16_t avail_idx, cursor, used_idx;
	bool published = false;
	int ret = 0;

	ret = dp_avail_count(q, &avail_idx);
	if (ret < 0)
		return ret;
	cursor = q->regs.last_avail_idx;
	used_idx = q->regs.last_used_idx;
	while (done < budget) {
		unsigned int want = RTE_MIN(budget - done,
				(unsigned int)(uint16_t)(avail_idx - cursor));
		struct rte_mbuf *m;

		if (want == 0 && q->rx_pending == NULL && pos == nb_stash)
			break;	/* no buffer: leave packets on the wire */
		m = dp_rx_next_pkt(q, stash, &nb_stash, &pos, want);
		if (m == NULL)
			break;
		ret = dp_rx_place(q, m, avail_idx, &cursor, used_idx);
		if (ret == 0) {
			q->rx_pending = m;	/* retried with new buffers */
			break;
		}
		if (ret == -E2BIG) {
			q->stats.drops++;
			rte_pktmbuf_free(m);
			ret = 0;
			continue;
		}
		if (ret < 0) {
			q->rx_pending = m;
			break;
		}
		q->stats.packets++;
		q->stats.bytes += m->pkt_len;
		q->stats.descs += ret;
		used_idx += ret;
		rte_pktmbuf_free(m);
		done++;
		ret = 0;
	}
	/* One used-idx store per burst (budget bounds the delay). */
	if (used_idx != q->regs.last_used_idx) {
		dp_publish(q, cursor, used_idx);
		published = true;
	}
	/* Only after a fault: the queue stops, the stash cannot stay. */
	if (pos < nb_stash) {
		q->stats.drops += nb_stash - pos;
		rte_pktmbuf_free_bulk(&stash[pos], nb_stash - pos);
	}
	if (published)
		dp_notify(q);
	return ret < 0 ? ret : (int)done;
}

/* -------------------------------------------------------- notifications */

bool
ifcsw_dp_has_avail(const struct ifcsw_hwq *q)
{
	return rte_le_to_cpu_16(__atomic_load_n(&q->avail->idx,
			__ATOMIC_ACQUIRE)) != q->regs.last_avail_idx;
}

bool
ifcsw_dp_enable_notify(struct ifcsw_hwq *q)
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
	/*
	 * virtio: the notification request must be visible before we
	 * re-read avail->idx; otherwise the driver may add a buffer, read
	 * the old request (no doorbell), and we sleep with work pending.
	 */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ifcsw_dp_has_avail(q);
}

void
ifcsw_dp_disable_notify(struct ifcsw_hwq *q)
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
