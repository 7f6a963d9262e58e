/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Datapath of the emulated VF, the part both ring formats share: the
 * entry points the device thread calls (dispatched on the queue's ring
 * format), TX gather into an mbuf, RX fill from one with the virtio-net
 * header and merged buffers, the RX burst loop, interrupts.
 *
 * Runs on the device thread with the DMA read lock held. Every buffer
 * and indirect table is reached through the DMA map, so a bad guest
 * address is a counted fault, never a host access. Rings are little
 * endian (VIRTIO_F_VERSION_1).
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <rte_atomic.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "ifcvf_sw_dma.h"
#include "ifcvf_sw_dp.h"

static inline bool
dp_packed(const struct ifcsw_hwq *q)
{
	return (q->regs.features & IFCSW_HWQ_F_PACKED) != 0;
}

void
dp_irq(struct ifcsw_hwq *q)
{
	uint64_t one = 1;

	q->stats.irqs++;
	if (q->regs.irq_fd >= 0 &&
	    write(q->regs.irq_fd, &one, sizeof(one)) != sizeof(one)) {
		/* Only EAGAIN (counter saturated): already pending. */
	}
}

/* --------------------------------------------------------------- mbufs */

/*
 * The device thread is not an EAL lcore, so rte_pktmbuf_alloc() and
 * rte_pktmbuf_free() would skip the mempool's per-lcore cache and go to
 * its ring every time: FIFO over every mbuf of the pool (8192 by
 * default), so each packet starts on a cold mbuf. DPDK's answer for
 * non-EAL threads is a cache of the thread's own: the last mbufs freed
 * are the next ones taken, still in cache, as for any PMD on an lcore.
 * (Issue 14: the cold mbufs cost most where the relay shares the CPU.)
 */
#define DP_MCACHE_SIZE 256u

int
ifcsw_dp_mcache_create(struct ifcsw_hw *hw)
{
	uint32_t size;

	if (hw->conf.mp == NULL)
		return 0;	/* a device without a datapath (tests) */
	/* Leave most of a small pool to the other threads that use it. */
	size = RTE_MIN(DP_MCACHE_SIZE, hw->conf.mp->size / 8);
	hw->mcache = rte_mempool_cache_create(size, hw->conf.mp->socket_id);
	return hw->mcache != NULL ? 0 : -ENOMEM;
}

void
ifcsw_dp_mcache_free(struct ifcsw_hw *hw)
{
	if (hw->mcache == NULL)
		return;
	rte_mempool_cache_flush(hw->mcache, hw->conf.mp);
	rte_mempool_cache_free(hw->mcache);
	hw->mcache = NULL;
}

static struct rte_mbuf *
dp_mbuf_alloc(struct ifcsw_hwq *q)
{
	struct ifcsw_hw *hw = q->hw;
	void *obj;

	if (unlikely(rte_mempool_generic_get(hw->conf.mp, &obj, 1,
					     hw->mcache) < 0))
		return NULL;
	/* As rte_pktmbuf_alloc(): a pool's mbufs have refcnt 1, one seg. */
	rte_pktmbuf_reset(obj);
	return obj;
}

static void
dp_mbuf_free(struct ifcsw_hwq *q, struct rte_mbuf *m)
{
	struct ifcsw_hw *hw = q->hw;

	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m = rte_pktmbuf_prefree_seg(m);
		/* Wire-port mbufs may come from another pool: no cache. */
		if (m != NULL && m->pool == hw->conf.mp)
			rte_mempool_generic_put(m->pool, (void **)&m, 1,
						hw->mcache);
		else if (m != NULL)
			rte_mbuf_raw_free(m);
		m = next;
	}
}

static void
dp_mbuf_free_bulk(struct ifcsw_hwq *q, struct rte_mbuf **m, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		dp_mbuf_free(q, m[i]);
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

			nxt = dp_mbuf_alloc(q);
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

int
dp_tx_chain(struct ifcsw_hwq *q, dp_walk_next_t next, void *walk,
	    struct rte_mbuf **out)
{
	uint8_t hdr[sizeof(struct virtio_net_hdr_mrg_rxbuf)];
	uint32_t hdr_len = dp_hdr_len(q), hdr_got = 0;
	struct rte_mbuf *m, *cur;
	struct dp_seg s;
	bool too_big = false;
	int ret;

	*out = NULL;
	m = dp_mbuf_alloc(q);
	if (unlikely(m == NULL))
		return -ENOBUFS;
	cur = m;
	while ((ret = next(q, walk, &s)) > 0) {
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
		dp_mbuf_free(q, m);
		if (ret == 0 && too_big)
			q->stats.drops++;
		return ret;
	}
	if (q->hw->conf.loopback)
		dp_swap_macs(m);
	*out = m;
	return 0;
}

void
dp_tx_send(struct ifcsw_hwq *q, struct rte_mbuf **pkts, unsigned int nb_pkts)
{
	unsigned int i, sent;

	if (nb_pkts == 0)
		return;
	for (i = 0; i < nb_pkts; i++) {
		q->stats.packets++;
		q->stats.bytes += pkts[i]->pkt_len;
	}
	sent = rte_ring_sp_enqueue_burst(q->wire, (void **)pkts, nb_pkts,
					 NULL);
	/* Cannot happen: callers take no more than the free count. */
	if (unlikely(sent < nb_pkts)) {
		q->stats.drops += nb_pkts - sent;
		dp_mbuf_free_bulk(q, &pkts[sent], nb_pkts - sent);
	}
}

/* ------------------------------------------------------------------ RX */

void
dp_rx_pkt_init(struct ifcsw_hwq *q, struct dp_rx_pkt *p,
	       const struct rte_mbuf *m)
{
	uint32_t hdr_len = dp_hdr_len(q);

	/* No offloads: only num_buffers, 1 unless more buffers get merged. */
	memset(&p->hdr, 0, sizeof(p->hdr));
	p->hdr.num_buffers = rte_cpu_to_le_16(1);
	p->ptr = (const uint8_t *)&p->hdr;
	p->left = hdr_len;
	p->next = m;
	p->placed = 0;
	p->total = hdr_len + m->pkt_len;
	p->mrg = (q->regs.features & IFCSW_HWQ_F_MRG_RXBUF) != 0;
	p->pos.found = 0;
}

/* Write [addr, addr + len) of one writable descriptor from the packet. */
static int
dp_rx_copy(struct ifcsw_hwq *q, struct dp_rx_pkt *p, uint64_t addr,
	   uint32_t len, uint32_t *written)
{
	*written = 0;
	while (len > 0) {
		uint32_t n;

		while (p->left == 0) {
			if (p->next == NULL)
				return 0;
			p->ptr = rte_pktmbuf_mtod(p->next, const uint8_t *);
			p->left = p->next->data_len;
			p->next = p->next->next;
		}
		n = RTE_MIN(len, p->left);
		if (unlikely(ifcsw_dma_write(&q->hw->dma, addr, p->ptr,
					     n) != 0))
			return dp_dma_fault(q);
		p->ptr += n;
		p->left -= n;
		addr += n;
		len -= n;
		*written += n;
	}
	return 0;
}

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

int
dp_rx_fill_chain(struct ifcsw_hwq *q, dp_walk_next_t next, void *walk,
		 struct dp_rx_pkt *p, uint32_t *used_len)
{
	struct dp_seg s;
	int ret = 0;

	*used_len = 0;
	/* Stop at the packet's end: the rest of the chain is not needed. */
	while (p->placed < p->total && (ret = next(q, walk, &s)) > 0) {
		uint32_t n;

		if (!s.write)
			continue;	/* readable ones precede, skip them */
		ret = dp_rx_copy(q, p, s.addr, s.len, &n);
		if (ret < 0)
			return ret;
		if (p->mrg)
			dp_nbuf_note(&p->pos, p->placed, s.addr, n);
		p->placed += n;
		*used_len += n;
	}
	return ret < 0 ? ret : 0;
}

int
dp_rx_patch_nbuf(struct ifcsw_hwq *q, const struct dp_rx_pkt *p, uint16_t nb)
{
	const struct dp_nbuf_pos *pos = &p->pos;
	uint8_t v[2];
	int ret;

	if (nb <= 1)
		return 0;	/* the header already says 1 */
	/* Patch num_buffers where the header's bytes 10-11 went. */
	v[0] = nb & 0xff;
	v[1] = nb >> 8;
	if (pos->found < 2)
		return dp_ring_error(q);	/* buffers < 12 bytes */
	if (pos->addr[1] == pos->addr[0] + 1)
		ret = ifcsw_dma_write(&q->hw->dma, pos->addr[0], v, 2);
	else
		ret = ifcsw_dma_write(&q->hw->dma, pos->addr[0], v, 1) ||
		      ifcsw_dma_write(&q->hw->dma, pos->addr[1], v + 1, 1);
	return ret != 0 ? dp_dma_fault(q) : 0;
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
		 * in rx_pending, so take no more than surely fit (the
		 * ring's room()).
		 */
		*pos = 0;
		*nb_stash = rte_ring_sc_dequeue_burst(q->wire, (void **)stash,
				RTE_MIN(want, DP_BURST), NULL);
		if (*nb_stash == 0)
			return NULL;
	}
	m = stash[(*pos)++];
	if (*pos < *nb_stash)
		rte_prefetch0(rte_pktmbuf_mtod(stash[*pos], void *));
	return m;
}

int
dp_rx_loop(struct ifcsw_hwq *q, unsigned int budget,
	   const struct dp_rx_ring *ring, void *ctx)
{
	struct rte_mbuf *stash[DP_BURST];
	unsigned int nb_stash = 0, pos = 0, done = 0;
	int ret = 0;

	while (done < budget) {
		unsigned int want = RTE_MIN(budget - done, ring->room(q, ctx));
		struct rte_mbuf *m;

		if (want == 0 && q->rx_pending == NULL && pos == nb_stash)
			break;	/* no buffer: leave packets on the wire */
		m = dp_rx_next_pkt(q, stash, &nb_stash, &pos, want);
		if (m == NULL)
			break;
		ret = ring->place(q, m, ctx);
		if (ret == 0) {
			q->rx_pending = m;	/* retried with new buffers */
			break;
		}
		if (ret == -E2BIG) {
			q->stats.drops++;
			dp_mbuf_free(q, m);
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
		dp_mbuf_free(q, m);
		done++;
		ret = 0;
	}
	/* Only after a fault: the queue stops, the stash cannot stay. */
	if (pos < nb_stash) {
		q->stats.drops += nb_stash - pos;
		dp_mbuf_free_bulk(q, &stash[pos], nb_stash - pos);
	}
	return ret < 0 ? ret : (int)done;
}

/* ------------------------------------------------- device thread entries */

int
ifcsw_dp_tx(struct ifcsw_hwq *q, unsigned int budget)
{
	return dp_packed(q) ? dp_packed_tx(q, budget) : dp_split_tx(q, budget);
}

int
ifcsw_dp_rx(struct ifcsw_hwq *q, unsigned int budget)
{
	return dp_packed(q) ? dp_packed_rx(q, budget) : dp_split_rx(q, budget);
}

bool
ifcsw_dp_has_avail(const struct ifcsw_hwq *q)
{
	return dp_packed(q) ? dp_packed_has_avail(q) : dp_split_has_avail(q);
}

bool
ifcsw_dp_enable_notify(struct ifcsw_hwq *q)
{
	if (dp_packed(q))
		dp_packed_notify_on(q);
	else
		dp_split_notify_on(q);
	/*
	 * virtio: the notification request must be visible before we
	 * re-read the ring; otherwise the driver may add a buffer, read
	 * the old request (no doorbell), and we sleep with work pending.
	 */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ifcsw_dp_has_avail(q);
}

void
ifcsw_dp_disable_notify(struct ifcsw_hwq *q)
{
	if (dp_packed(q))
		dp_packed_notify_off(q);
	else
		dp_split_notify_off(q);
}
