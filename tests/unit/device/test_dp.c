/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The datapath against the test driver (tests/lib/split_drv.h) over
 * synthetic split rings in malloc'd "guest memory": TX queue 1 and RX
 * queue 0 share one wire ring (loopback), so what the guest sends comes
 * back, MACs swapped.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "ifcvf_sw_hw.h"
#include "split_drv.h"
#include "test_common.h"

#define G_IOVA	0x40000000ull	/* guest memory, two adjacent mappings */
#define G_SIZE	(4u << 20)
#define G_GUARD	(64u << 10)	/* host bytes after guest memory, unmapped */
#define RO_IOVA	0x80000000ull	/* a read-only mapping */
#define RING	64
#define RW_PERM	(IFCSW_DMA_READ | IFCSW_DMA_WRITE)

static struct ifcsw_hw hw;
static uint8_t *gmem;		/* G_SIZE + G_GUARD bytes */
static uint8_t ro_mem[4096];
/* The driver's view of guest memory: its own, not the device's map. */
static struct vq_drv_flat gflat;

struct drv {
	struct ifcsw_hwq *q;
	struct split_drv r;
	/* r's ring areas, for the cases that corrupt or inspect them */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

/* One RX chain's writable buffer, by head id. */
static uint64_t rx_buf_iova[RING];

static struct t_arena arena = { .iova = G_IOVA, .size = G_SIZE };

static void *
gva(uint64_t iova)
{
	return t_arena_ptr(&arena, iova);
}

static uint64_t
galloc(size_t len)
{
	return t_arena_alloc(&arena, len);
}

static uint64_t
eventfd_take(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void
drv_setup(struct drv *d, uint16_t index, uint32_t features,
	  struct rte_ring *wire)
{
	struct ifcsw_hwq *q = &hw.q[index];
	uint64_t desc, avail, used;

	if (q->regs.irq_fd > 0)
		close(q->regs.irq_fd);
	memset(d, 0, sizeof(*d));
	memset(q, 0, sizeof(*q));
	desc = galloc(SPLIT_DRV_DESC_BYTES(RING));
	avail = galloc(SPLIT_DRV_AVAIL_BYTES(RING));
	used = galloc(SPLIT_DRV_USED_BYTES(RING));
	CHECK(split_drv_init(&d->r, RING, desc, avail, used,
			     vq_drv_xlate_flat, &gflat) == 0);
	split_drv_clear(&d->r);
	q->hw = &hw;
	q->index = index;
	q->regs.desc_iova = desc;
	q->regs.avail_iova = avail;
	q->regs.used_iova = used;
	q->regs.size = RING;
	q->regs.features = features;
	q->regs.doorbell_fd = -1;
	q->regs.irq_fd = eventfd(0, EFD_NONBLOCK);
	q->state = IFCSW_HWQ_RUNNING;
	/* What queue start does: rings translated once. */
	q->desc = ifcsw_dma_translate(&hw.dma, desc, 16 * RING,
				      IFCSW_DMA_READ);
	q->avail = ifcsw_dma_translate(&hw.dma, avail, 4 + 2 * RING + 2,
				       IFCSW_DMA_READ);
	q->used = ifcsw_dma_translate(&hw.dma, used,
			4 + sizeof(struct vring_used_elem) * RING + 2, RW_PERM);
	CHECK(q->desc != NULL && q->avail != NULL && q->used != NULL);
	q->wire = wire;
	d->q = q;
	d->desc = d->r.desc;
	d->avail = d->r.avail;
	d->used = d->r.used;
}

/* Post a chain, directly or through an indirect table. Returns head. */
static uint16_t
drv_post(struct drv *d, const struct vq_drv_seg *s, unsigned int n,
	 bool indirect)
{
	if (indirect)
		return split_drv_add_indirect(&d->r, s, n,
				galloc(sizeof(struct vring_desc) * n));
	return split_drv_add(&d->r, s, n);
}

static uint16_t
drv_used_idx(const struct drv *d)
{
	return split_drv_used_idx(&d->r);
}

static void
fill_frame(uint8_t *p, uint32_t len, uint8_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
	memset(p, 0xd0 + seed % 16, 6);		/* dst MAC */
	memset(p + 6, 0x50 + seed % 16, 6);	/* src MAC */
}

/* The frame as it comes back from the loopback wire. */
static void
expect_frame(uint8_t *p, uint32_t len, uint8_t seed)
{
	fill_frame(p, len, seed);
	memset(p, 0x50 + seed % 16, 6);
	memset(p + 6, 0xd0 + seed % 16, 6);
}

enum tx_layout { TX_HDR_OWN, TX_HDR_SHARED, TX_SPLIT3 };

/* Post a TX frame with its virtio-net header laid out as asked. */
static uint16_t
tx_post(struct drv *d, uint32_t len, uint8_t seed, enum tx_layout lay,
	bool indirect)
{
	uint32_t hl = (d->q->regs.features & IFCSW_HWQ_F_HDR_MRG) ? 12 : 10;
	uint64_t b = galloc(hl + len);
	struct vq_drv_seg s[3];
	unsigned int n;

	memset(gva(b), 0x77, hl);	/* the device must skip it whatever */
	fill_frame((uint8_t *)gva(b) + hl, len, seed);
	switch (lay) {
	case TX_HDR_OWN:
		s[0] = (struct vq_drv_seg){ b, hl, 0 };
		s[1] = (struct vq_drv_seg){ b + hl, len, 0 };
		n = 2;
		break;
	case TX_HDR_SHARED:
		s[0] = (struct vq_drv_seg){ b, hl + len, 0 };
		n = 1;
		break;
	default:
		s[0] = (struct vq_drv_seg){ b, hl + 100, 0 };
		s[1] = (struct vq_drv_seg){ b + hl + 100, len / 2, 0 };
		s[2] = (struct vq_drv_seg){ b + hl + 100 + len / 2,
				     len - 100 - len / 2, 0 };
		n = 3;
		break;
	}
	return drv_post(d, s, n, indirect);
}

/* Post count RX chains of buflen writable bytes each. */
static void
rx_post(struct drv *d, uint32_t buflen, unsigned int count, bool indirect)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		uint64_t b = galloc(buflen);
		struct vq_drv_seg s[2] = {
			{ b, buflen, VRING_DESC_F_WRITE },
			{ b + buflen / 2, buflen - buflen / 2,
			  VRING_DESC_F_WRITE },
		};
		uint16_t head;

		memset(gva(b), 0xee, buflen);
		/* Every other chain is split: packets cross descriptors. */
		if (i % 2)
			s[0].len = buflen / 2;
		head = drv_post(d, s, i % 2 ? 2 : 1, indirect);
		rx_buf_iova[head] = b;
	}
}

/*
 * Check the next received packet: nb used entries, header, payload.
 * Buffers are buflen bytes, contiguous per chain.
 */
static void
rx_check(struct drv *d, uint32_t len, uint8_t seed, uint32_t buflen,
	 uint16_t nb_expected)
{
	uint32_t hl = (d->q->regs.features & IFCSW_HWQ_F_HDR_MRG) ? 12 : 10;
	uint8_t *got = malloc(hl + len), *exp = malloc(len);
	uint32_t off = 0;
	uint16_t i;

	for (i = 0; i < nb_expected; i++) {
		struct vring_used_elem *e = split_drv_used_elem(&d->r, i);
		uint32_t want = RTE_MIN(buflen, hl + len - off);

		CHECK_EQ(e->len, want);
		if (e->len != want || e->id >= RING)
			goto out;
		memcpy(got + off, gva(rx_buf_iova[e->id]), want);
		/* Nothing written past used len. */
		if (want < buflen)
			CHECK_EQ(((uint8_t *)gva(rx_buf_iova[e->id]))[want],
				 0xee);
		off += want;
	}
	CHECK_EQ(off, hl + len);
	expect_frame(exp, len, seed);
	CHECK(memcmp(got + hl, exp, len) == 0);
	for (i = 0; i < 10; i++)
		CHECK_EQ(got[i], 0);
	if (hl == 12)
		CHECK_EQ(got[10] | got[11] << 8, nb_expected);
out:
	split_drv_used_consume(&d->r, nb_expected);
	free(got);
	free(exp);
}

static void
tx_check_used(struct drv *d, const uint16_t *heads, unsigned int n)
{
	unsigned int i;

	CHECK_EQ(drv_used_idx(d), (uint16_t)(d->r.used_seen + n));
	for (i = 0; i < n; i++) {
		struct vring_used_elem *e = split_drv_used_elem(&d->r, i);

		CHECK_EQ(e->id, heads[i]);
		CHECK_EQ(e->len, 0);
	}
	split_drv_used_consume(&d->r, n);
}

static struct rte_mempool *mp;
static struct rte_ring *wire;
static struct drv txd, rxd;

static void
wire_drain(struct rte_ring *r)
{
	void *m;

	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

/* Fresh queues and buffers for one case. */
static void
reset(uint32_t features)
{
	wire_drain(wire);
	rte_pktmbuf_free(hw.q[0].rx_pending);
	hw.q[0].rx_pending = NULL;
	arena.brk = 0;
	drv_setup(&txd, 1, features, wire);
	drv_setup(&rxd, 0, features, wire);
}

/* 64, 1500 and 9000 byte frames out and back in, one layout each. */
static void
case_loopback(uint32_t features, bool indirect)
{
	bool mrg = features & IFCSW_HWQ_F_MRG_RXBUF;
	struct ifcsw_hwq *tq = &hw.q[1], *rq = &hw.q[0];
	uint16_t heads[3];
	struct rte_mbuf *m[3];

	reset(features);
	heads[0] = tx_post(&txd, 64, 1, TX_HDR_OWN, indirect);
	heads[1] = tx_post(&txd, 1500, 2, TX_HDR_SHARED, indirect);
	heads[2] = tx_post(&txd, 9000, 3, TX_SPLIT3, indirect);
	CHECK(ifcsw_dp_has_avail(tq));
	CHECK_EQ(ifcsw_dp_tx(tq, 32), 3);
	CHECK(!ifcsw_dp_has_avail(tq));
	tx_check_used(&txd, heads, 3);
	CHECK_EQ(tq->regs.last_avail_idx, 3);
	CHECK_EQ(tq->regs.last_used_idx, 3);
	CHECK_EQ(tq->stats.packets, 3);
	CHECK_EQ(tq->stats.bytes, 64 + 1500 + 9000);
	CHECK_EQ(tq->stats.descs, 3);
	CHECK_EQ(tq->stats.irqs, 1);
	CHECK_EQ(eventfd_take(tq->regs.irq_fd), 1);

	/* On the wire: the jumbo frame is an mbuf chain. */
	CHECK_EQ(rte_ring_dequeue_bulk(wire, (void **)m, 3, NULL), 3);
	CHECK_EQ(m[0]->pkt_len, 64);
	CHECK_EQ(m[1]->pkt_len, 1500);
	CHECK_EQ(m[2]->pkt_len, 9000);
	CHECK(m[2]->nb_segs > 1);
	CHECK_EQ(rte_pktmbuf_pkt_len(m[2]), 9000);
	CHECK_EQ(rte_ring_enqueue_bulk(wire, (void **)m, 3, NULL), 3);

	if (mrg) {
		/* 12 + 9000 bytes need five 2048-byte buffers. */
		rx_post(&rxd, 2048, 8, indirect);
		CHECK_EQ(ifcsw_dp_rx(rq, 32), 3);
		CHECK_EQ(drv_used_idx(&rxd), 7);
		rx_check(&rxd, 64, 1, 2048, 1);
		rx_check(&rxd, 1500, 2, 2048, 1);
		rx_check(&rxd, 9000, 3, 2048, 5);
		CHECK_EQ(rq->regs.last_avail_idx, 7);
		CHECK_EQ(rq->regs.last_used_idx, 7);
		CHECK_EQ(rq->stats.descs, 7);
		CHECK_EQ(rq->stats.drops, 0);
	} else {
		/* Two chains for three packets: the third waits. */
		rx_post(&rxd, 2048, 2, indirect);
		CHECK_EQ(ifcsw_dp_rx(rq, 32), 2);
		/* No MRG: only as many packets leave the wire as chains. */
		CHECK(rq->rx_pending == NULL);
		CHECK_EQ(rte_ring_count(wire), 1);
		CHECK_EQ(drv_used_idx(&rxd), 2);
		rx_check(&rxd, 64, 1, 2048, 1);
		rx_check(&rxd, 1500, 2, 2048, 1);
		CHECK_EQ(eventfd_take(rq->regs.irq_fd), 1);
		/* One chain cannot hold 9000 bytes: dropped, chain kept. */
		rx_post(&rxd, 2048, 1, indirect);
		CHECK_EQ(ifcsw_dp_rx(rq, 32), 0);
		CHECK(rq->rx_pending == NULL);
		CHECK_EQ(rq->stats.drops, 1);
		CHECK_EQ(rq->regs.last_avail_idx, 2);
		CHECK_EQ(drv_used_idx(&rxd), 2);
		CHECK_EQ(eventfd_take(rq->regs.irq_fd), 0);
		/* The kept chain takes the next frame. */
		heads[0] = tx_post(&txd, 1000, 4, TX_HDR_OWN, indirect);
		CHECK_EQ(ifcsw_dp_tx(tq, 32), 1);
		tx_check_used(&txd, heads, 1);
		/* The dropped attempt may have scribbled in the buffer. */
		memset(gva(rx_buf_iova[rxd.avail->ring[2]]), 0xee, 2048);
		CHECK_EQ(ifcsw_dp_rx(rq, 32), 1);
		rx_check(&rxd, 1000, 4, 2048, 1);
		CHECK_EQ(rq->regs.last_avail_idx, 3);
		CHECK_EQ(rq->regs.last_used_idx, 3);
	}
	CHECK_EQ(rq->stats.bytes, 64 + 1500 + (mrg ? 9000 : 1000));
	CHECK_EQ(rq->stats.dma_faults + rq->stats.ring_errors, 0);
	CHECK_EQ(rq->stats.irqs, mrg ? 1 : 2);
	CHECK_EQ(rte_ring_count(wire), 0);
}

/* MRG: a packet waits, unpublished, until enough buffers arrive. */
static void
case_mrg_pending(void)
{
	struct ifcsw_hwq *tq = &hw.q[1], *rq = &hw.q[0];
	uint16_t head;

	reset(IFCSW_HWQ_F_MRG_RXBUF | IFCSW_HWQ_F_HDR_MRG);
	head = tx_post(&txd, 9000, 9, TX_HDR_OWN, false);
	CHECK_EQ(ifcsw_dp_tx(tq, 32), 1);
	tx_check_used(&txd, &head, 1);
	rx_post(&rxd, 2048, 2, false);
	CHECK_EQ(ifcsw_dp_rx(rq, 32), 0);
	CHECK(rq->rx_pending != NULL);
	CHECK_EQ(drv_used_idx(&rxd), 0);
	CHECK_EQ(rq->regs.last_avail_idx, 0);
	CHECK_EQ(rq->regs.last_used_idx, 0);
	CHECK_EQ(eventfd_take(rq->regs.irq_fd), 0);
	rx_post(&rxd, 2048, 3, false);
	CHECK_EQ(ifcsw_dp_rx(rq, 32), 1);
	CHECK(rq->rx_pending == NULL);
	CHECK_EQ(drv_used_idx(&rxd), 5);
	rx_check(&rxd, 9000, 9, 2048, 5);
	CHECK_EQ(rq->regs.last_avail_idx, 5);
	CHECK_EQ(eventfd_take(rq->regs.irq_fd), 1);
}

/* Send one small frame and return the interrupts it raised. */
static uint64_t
tx_one_irqs(void)
{
	uint16_t head = tx_post(&txd, 60, 5, TX_HDR_SHARED, false);

	CHECK_EQ(ifcsw_dp_tx(&hw.q[1], 32), 1);
	tx_check_used(&txd, &head, 1);
	wire_drain(wire);
	return eventfd_take(hw.q[1].regs.irq_fd);
}

static void
case_irq_flags(void)
{
	struct ifcsw_hwq *tq = &hw.q[1];

	reset(0);
	txd.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	CHECK_EQ(tx_one_irqs(), 0);
	CHECK_EQ(tq->stats.irqs, 0);
	txd.avail->flags = 0;
	CHECK_EQ(tx_one_irqs(), 1);
	CHECK_EQ(tq->stats.irqs, 1);

	ifcsw_dp_disable_notify(tq);
	CHECK(txd.used->flags & VRING_USED_F_NO_NOTIFY);
	CHECK(!ifcsw_dp_enable_notify(tq));
	CHECK(!(txd.used->flags & VRING_USED_F_NO_NOTIFY));
	tx_post(&txd, 60, 6, TX_HDR_SHARED, false);
	CHECK(ifcsw_dp_enable_notify(tq));
}

static void
case_irq_event_idx(void)
{
	struct ifcsw_hwq *tq = &hw.q[1];

	reset(IFCSW_HWQ_F_EVENT_IDX);
	/* The first interrupt is unconditional: nothing signalled yet. */
	split_drv_set_used_event(&txd.r, 0xffff);
	CHECK_EQ(tx_one_irqs(), 1);		/* used 0 -> 1 */
	split_drv_set_used_event(&txd.r, 2);	/* "after entry 2 is used" */
	CHECK_EQ(tx_one_irqs(), 0);		/* 1 -> 2 */
	CHECK_EQ(tx_one_irqs(), 1);		/* 2 -> 3 crosses */
	split_drv_set_used_event(&txd.r, 100);
	CHECK_EQ(tx_one_irqs(), 0);
	CHECK_EQ(tx_one_irqs(), 0);
	CHECK_EQ(tq->stats.irqs, 2);
	/* Flags are not the suppression with EVENT_IDX. */
	txd.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	split_drv_set_used_event(&txd.r, 5);	/* current used idx */
	CHECK_EQ(tx_one_irqs(), 1);

	ifcsw_dp_disable_notify(tq);
	CHECK_EQ(txd.used->flags, 0);
	CHECK(!ifcsw_dp_enable_notify(tq));
	CHECK_EQ(split_drv_avail_event(&txd.r), tq->regs.last_avail_idx);
	CHECK_EQ(split_drv_avail_event(&txd.r), 6);
}

/* Bad addresses fault without touching anything outside the map. */
static void
case_faults(void)
{
	struct ifcsw_hwq *tq = &hw.q[1], *rq = &hw.q[0];
	uint64_t end = G_IOVA + G_SIZE;
	uint64_t faults0 = hw.dma.faults;
	uint8_t ro_copy[sizeof(ro_mem)];
	struct vq_drv_seg s[2];
	unsigned int i;

	reset(IFCSW_HWQ_F_INDIRECT | IFCSW_HWQ_F_HDR_MRG |
	      IFCSW_HWQ_F_MRG_RXBUF);
	/* TX data runs off the end of guest memory. */
	s[0] = (struct vq_drv_seg){ galloc(12), 12, 0 };
	s[1] = (struct vq_drv_seg){ end - 16, 64, 0 };
	drv_post(&txd, s, 2, false);
	CHECK_EQ(ifcsw_dp_tx(tq, 32), -EFAULT);
	CHECK_EQ(tq->stats.dma_faults, 1);
	CHECK_EQ(tq->regs.last_avail_idx, 0);
	CHECK_EQ(drv_used_idx(&txd), 0);
	CHECK_EQ(rte_ring_count(wire), 0);

	/* Indirect table outside the map. */
	reset(IFCSW_HWQ_F_INDIRECT);
	s[0] = (struct vq_drv_seg){ 0x1000, 64, 0 };
	drv_post(&txd, s, 1, false);
	txd.desc[0].flags = VRING_DESC_F_INDIRECT;
	CHECK_EQ(ifcsw_dp_tx(tq, 32), -EFAULT);
	CHECK_EQ(tq->stats.dma_faults, 1);

	/* RX into a read-only mapping, then across the end of the map. */
	reset(IFCSW_HWQ_F_HDR_MRG);
	tx_one_irqs();
	tx_post(&txd, 100, 7, TX_HDR_SHARED, false);
	CHECK_EQ(ifcsw_dp_tx(tq, 32), 1);
	memcpy(ro_copy, ro_mem, sizeof(ro_mem));
	s[0] = (struct vq_drv_seg){ RO_IOVA, 2048, VRING_DESC_F_WRITE };
	drv_post(&rxd, s, 1, false);
	CHECK_EQ(ifcsw_dp_rx(rq, 32), -EFAULT);
	CHECK_EQ(rq->stats.dma_faults, 1);
	CHECK(memcmp(ro_copy, ro_mem, sizeof(ro_mem)) == 0);
	CHECK_EQ(drv_used_idx(&rxd), 0);
	CHECK_EQ(rq->regs.last_avail_idx, 0);

	reset(IFCSW_HWQ_F_HDR_MRG);
	tx_post(&txd, 100, 7, TX_HDR_SHARED, false);
	CHECK_EQ(ifcsw_dp_tx(tq, 32), 1);
	memset(gmem + G_SIZE - 8, 0xee, 8);
	s[0] = (struct vq_drv_seg){ end - 8, 2048, VRING_DESC_F_WRITE };
	drv_post(&rxd, s, 1, false);
	CHECK_EQ(ifcsw_dp_rx(rq, 32), -EFAULT);
	CHECK_EQ(rq->stats.dma_faults, 1);
	for (i = 0; i < 8; i++)
		CHECK_EQ(gmem[G_SIZE - 8 + i], 0xee);
	for (i = 0; i < G_GUARD; i++)
		if (gmem[G_SIZE + i] != 0x5a)
			break;
	CHECK_EQ(i, G_GUARD);
	CHECK_EQ(drv_used_idx(&rxd), 0);
	CHECK_EQ(hw.dma.faults - faults0, 4);
}

/* One malformed TX ring per call: -EIO, ring_errors, nothing consumed. */
static void
expect_eio(const char *what)
{
	struct ifcsw_hwq *tq = &hw.q[1];

	if (ifcsw_dp_tx(tq, 32) != -EIO || tq->stats.ring_errors != 1 ||
	    tq->regs.last_avail_idx != 0 || drv_used_idx(&txd) != 0) {
		fprintf(stderr, "malformed ring not refused: %s\n", what);
		test_failures++;
	}
}

static void
case_malformed(void)
{
	uint32_t f = IFCSW_HWQ_F_INDIRECT;
	struct vq_drv_seg s[3];
	uint16_t head;

	reset(f);
	tx_post(&txd, 64, 1, TX_HDR_OWN, false);
	txd.avail->ring[0] = RING + 3;
	expect_eio("head >= size");

	reset(f);
	head = tx_post(&txd, 64, 1, TX_HDR_OWN, false);
	txd.desc[head + 1].flags |= VRING_DESC_F_NEXT;
	txd.desc[head + 1].next = head;
	expect_eio("looping chain");

	reset(f);
	head = tx_post(&txd, 64, 1, TX_HDR_OWN, false);
	txd.desc[head].next = RING;
	expect_eio("next >= size");

	reset(f);
	tx_post(&txd, 64, 1, TX_HDR_OWN, false);
	txd.avail->idx = RING + 1;
	expect_eio("avail idx moved by more than size");

	reset(0);
	tx_post(&txd, 64, 1, TX_HDR_OWN, true);
	expect_eio("indirect not negotiated");

	reset(f);
	head = tx_post(&txd, 64, 1, TX_HDR_OWN, true);
	txd.desc[head].len = 24;
	expect_eio("indirect len not a multiple of 16");

	reset(f);
	head = tx_post(&txd, 64, 1, TX_SPLIT3, true);
	((struct vring_desc *)gva(txd.desc[head].addr))[2].flags =
		VRING_DESC_F_INDIRECT;
	expect_eio("nested indirect");

	reset(f);
	head = tx_post(&txd, 64, 1, TX_HDR_OWN, true);
	txd.desc[head].flags |= VRING_DESC_F_NEXT;
	expect_eio("INDIRECT with NEXT");

	reset(f);
	s[0] = (struct vq_drv_seg){ galloc(10), 10, VRING_DESC_F_WRITE };
	s[1] = (struct vq_drv_seg){ galloc(64), 64, 0 };
	drv_post(&txd, s, 2, false);
	expect_eio("readable after writable");

	reset(f);
	s[0] = (struct vq_drv_seg){ galloc(8), 8, 0 };
	drv_post(&txd, s, 1, false);
	expect_eio("chain shorter than the virtio-net header");

	/* A loop in an indirect table. */
	reset(f);
	head = tx_post(&txd, 64, 1, TX_SPLIT3, true);
	((struct vring_desc *)gva(txd.desc[head].addr))[2].flags =
		VRING_DESC_F_NEXT;
	expect_eio("looping indirect table");
}

/* Wire full and budget: stop early, consume nothing more, resume. */
static void
case_backpressure(void)
{
	struct rte_ring *small = rte_ring_create("small", 4, SOCKET_ID_ANY,
					RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct ifcsw_hwq *tq = &hw.q[1];
	unsigned int i;

	CHECK(small != NULL);
	if (small == NULL)
		return;
	reset(0);
	tq->wire = small;
	for (i = 0; i < 5; i++)
		tx_post(&txd, 100 + i, i, TX_HDR_SHARED, false);
	CHECK_EQ(ifcsw_dp_tx(tq, 2), 2);
	CHECK_EQ(ifcsw_dp_tx(tq, 32), 1);	/* capacity 3 */
	CHECK_EQ(ifcsw_dp_tx(tq, 32), 0);
	CHECK_EQ(tq->regs.last_avail_idx, 3);
	CHECK_EQ(drv_used_idx(&txd), 3);
	CHECK(ifcsw_dp_has_avail(tq));
	wire_drain(small);
	CHECK_EQ(ifcsw_dp_tx(tq, 32), 2);
	CHECK_EQ(tq->regs.last_avail_idx, 5);
	CHECK_EQ(tq->regs.last_used_idx, 5);
	CHECK_EQ(tq->stats.descs, 5);
	wire_drain(small);
	rte_ring_free(small);
}

void
test_dp(void)
{
	gmem = aligned_alloc(4096, G_SIZE + G_GUARD);
	arena.base = gmem;
	CHECK(gmem != NULL);
	memset(gmem + G_SIZE, 0x5a, G_GUARD);
	gflat = (struct vq_drv_flat){ G_IOVA, G_SIZE, gmem };
	memset(ro_mem, 0x33, sizeof(ro_mem));
	ifcsw_dma_init(&hw.dma);
	CHECK_EQ(ifcsw_dma_map(&hw.dma, G_IOVA, G_SIZE / 2, gmem, RW_PERM), 0);
	CHECK_EQ(ifcsw_dma_map(&hw.dma, G_IOVA + G_SIZE / 2, G_SIZE / 2,
			       gmem + G_SIZE / 2, RW_PERM), 0);
	CHECK_EQ(ifcsw_dma_map(&hw.dma, RO_IOVA, sizeof(ro_mem), ro_mem,
			       IFCSW_DMA_READ), 0);
	mp = rte_pktmbuf_pool_create("dp_mp", 1023, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	wire = rte_ring_create("wire", 256, SOCKET_ID_ANY,
			       RING_F_SP_ENQ | RING_F_SC_DEQ);
	CHECK(mp != NULL && wire != NULL);
	if (mp == NULL || wire == NULL)
		return;
	hw.conf.mp = mp;
	/* The device thread's own mbuf cache, as ifcsw_hw_init() makes. */
	CHECK_EQ(ifcsw_dp_mcache_create(&hw), 0);
	CHECK(hw.mcache != NULL);
	hw.conf.loopback = true;

	case_loopback(0, false);
	case_loopback(IFCSW_HWQ_F_HDR_MRG, false);
	case_loopback(IFCSW_HWQ_F_INDIRECT, true);
	case_loopback(IFCSW_HWQ_F_HDR_MRG | IFCSW_HWQ_F_MRG_RXBUF, false);
	case_loopback(IFCSW_HWQ_F_HDR_MRG | IFCSW_HWQ_F_MRG_RXBUF |
		      IFCSW_HWQ_F_INDIRECT, true);
	case_mrg_pending();
	case_irq_flags();
	case_irq_event_idx();
	case_faults();
	case_malformed();
	case_backpressure();

	reset(0);
	close(hw.q[0].regs.irq_fd);
	close(hw.q[1].regs.irq_fd);
	/* Every mbuf came back: none leaked on any path. */
	ifcsw_dp_mcache_free(&hw);
	CHECK_EQ(rte_mempool_avail_count(mp), 1023);
	rte_ring_free(wire);
	rte_mempool_free(mp);
	free(gmem);
}
