/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The packed datapath (virtio 1.1, 2.8) against a tiny packed driver in
 * malloc'd "guest memory": TX queue 1 feeds RX queue 0 through one
 * loopback wire ring, MACs swapped. The ring size (40) is not a power of
 * two, so positions and wrap counters are exercised as the spec has them.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <linux/virtio_ring.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "vdpa_relay.h"
#include "ifcvf_sw_hw.h"
#include "test_common.h"

#define P_IOVA	0x40000000ull
#define P_SIZE	(4u << 20)
#define PRING	40
#define F_AVAIL	(1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED	(1u << VRING_PACKED_DESC_F_USED)
#define RW	(IFCSW_DMA_READ | IFCSW_DMA_WRITE)
#define HL	12	/* virtio_net_hdr_mrg_rxbuf: HDR_MRG in every case */
#define PF	(IFCSW_HWQ_F_PACKED | IFCSW_HWQ_F_HDR_MRG)

static struct ifcsw_hw hw;
static uint8_t *gmem;
static struct rte_mempool *mp;
static struct rte_ring *wire;

/* The driver's side of one packed ring. */
struct pdrv {
	struct ifcsw_hwq *q;
	struct vring_packed_desc *ring;
	struct vring_packed_desc_event *drv_ev, *dev_ev;
	uint16_t avail;		/* next slot to make available */
	bool avail_wrap;
	uint16_t used;		/* next slot to look for a used one */
	bool used_wrap;
	uint16_t next_id;
	uint16_t ndesc[PRING];	/* ring slots of the buffer, by id */
	uint64_t buf[PRING];	/* RX: the buffer's bytes, by id */
	unsigned int flips;	/* times avail_wrap flipped */
	unsigned int inflight;	/* buffers posted, not yet used */
};

struct pseg {
	uint64_t iova;
	uint32_t len;
	uint16_t flags;		/* VRING_DESC_F_WRITE or 0 */
};

static struct t_arena arena = { .iova = P_IOVA, .size = P_SIZE,
				 .recycle = true };

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

/* What queue start does: translate the rings once, keep the registers. */
static void
dev_attach(struct ifcsw_hwq *q)
{
	q->pdesc = ifcsw_dma_translate(&hw.dma, q->regs.desc_iova,
				       16 * q->regs.size, RW);
	q->drv_event = ifcsw_dma_translate(&hw.dma, q->regs.avail_iova, 4,
					   IFCSW_DMA_READ);
	q->dev_event = ifcsw_dma_translate(&hw.dma, q->regs.used_iova, 4, RW);
	q->signalled_used_valid = false;
	q->state = IFCSW_HWQ_RUNNING;
	CHECK(q->pdesc != NULL && q->drv_event != NULL &&
	      q->dev_event != NULL);
}

static void
pdrv_setup(struct pdrv *d, uint16_t index, uint32_t features, uint16_t start)
{
	struct ifcsw_hwq *q = &hw.q[index];
	int irq = q->regs.irq_fd;

	memset(d, 0, sizeof(*d));
	memset(q, 0, sizeof(*q));
	q->hw = &hw;
	q->index = index;
	q->wire = wire;
	q->regs.desc_iova = galloc(16 * PRING);
	q->regs.avail_iova = galloc(4);
	q->regs.used_iova = galloc(4);
	q->regs.size = PRING;
	q->regs.features = features;
	q->regs.doorbell_fd = -1;
	q->regs.irq_fd = irq > 0 ? irq : eventfd(0, EFD_NONBLOCK);
	/* virtio 2.8.1: both wrap counters start at 1. */
	q->regs.last_avail_idx = q->regs.last_used_idx = start;
	q->regs.avail_wrap = q->regs.used_wrap = true;
	memset(gva(q->regs.desc_iova), 0, 16 * PRING);
	memset(gva(q->regs.avail_iova), 0, 4);
	memset(gva(q->regs.used_iova), 0, 4);
	dev_attach(q);
	d->q = q;
	d->ring = q->pdesc;
	d->drv_ev = q->drv_event;
	d->dev_ev = q->dev_event;
	d->avail = d->used = start;
	d->avail_wrap = d->used_wrap = true;
}

static void
slot_next(uint16_t *pos, bool *wrap, unsigned int *flips)
{
	if (++*pos == PRING) {
		*pos = 0;
		*wrap = !*wrap;
		if (flips != NULL)
			++*flips;
	}
}

/* Make a chain available: its head's flags last (virtio 2.8.6). */
static uint16_t
pdrv_post(struct pdrv *d, const struct pseg *s, unsigned int n,
	  bool indirect)
{
	uint16_t id = d->next_id, head = d->avail, head_flags = 0;
	unsigned int i, nring = indirect ? 1 : n;

	d->next_id = (d->next_id + 1) % PRING;
	for (i = 0; i < nring; i++) {
		struct vring_packed_desc *e = &d->ring[d->avail];
		uint16_t f = d->avail_wrap ? F_AVAIL : F_USED;

		if (indirect) {
			uint64_t t = galloc(16 * n);
			struct vring_packed_desc *tbl = gva(t);
			unsigned int j;

			for (j = 0; j < n; j++)
				tbl[j] = (struct vring_packed_desc){
					s[j].iova, s[j].len, 0, s[j].flags };
			e->addr = t;
			e->len = 16 * n;
			f |= VRING_DESC_F_INDIRECT;
		} else {
			e->addr = s[i].iova;
			e->len = s[i].len;
			f |= s[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		}
		e->id = id;	/* the device takes the last one's */
		if (i == 0)
			head_flags = f;
		else
			e->flags = f;
		slot_next(&d->avail, &d->avail_wrap, &d->flips);
	}
	d->ndesc[id] = nring;
	d->inflight++;
	__atomic_store_n(&d->ring[head].flags, head_flags, __ATOMIC_RELEASE);
	return id;
}

/* Next used descriptor: 1 with id and len, or 0. */
static int
pdrv_used(struct pdrv *d, uint16_t *id, uint32_t *len)
{
	struct vring_packed_desc *e = &d->ring[d->used];
	uint16_t f = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
	unsigned int i;

	/* Slots never used yet look used in lap 0: only look for ours. */
	if (d->inflight == 0)
		return 0;
	if (!!(f & F_AVAIL) != d->used_wrap || !!(f & F_USED) != d->used_wrap)
		return 0;
	*id = e->id;
	*len = e->len;
	if (*id >= PRING)
		return 0;
	for (i = 0; i < d->ndesc[*id]; i++)
		slot_next(&d->used, &d->used_wrap, NULL);
	d->inflight--;
	return 1;
}

static void
fill_frame(uint8_t *p, uint32_t len, uint8_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 13);
	memset(p, 0xd0 + seed % 16, 6);
	memset(p + 6, 0x50 + seed % 16, 6);
}

/* Post a TX frame as 1, 2 or 3 descriptors (layout), maybe indirect. */
static void
tx_post(struct pdrv *d, uint32_t len, uint8_t seed, unsigned int layout,
	bool indirect)
{
	uint64_t b = galloc(HL + len);
	struct pseg s[3] = {
		{ b, HL, 0 },
		{ b + HL, len / 2, 0 },
		{ b + HL + len / 2, len - len / 2, 0 },
	};

	memset(gva(b), 0x77, HL);
	fill_frame((uint8_t *)gva(b) + HL, len, seed);
	if (layout == 0) {
		s[0].len = HL + len;
		pdrv_post(d, s, 1, indirect);
	} else if (layout == 1) {
		s[1].len = len;
		pdrv_post(d, s, 2, indirect);
	} else {
		pdrv_post(d, s, 3, indirect);
	}
}

/* Post one RX buffer of buflen bytes, as one or two descriptors. */
static void
rx_post(struct pdrv *d, uint32_t buflen, bool two, bool indirect)
{
	uint64_t b = galloc(buflen);
	struct pseg s[2] = {
		{ b, two ? buflen / 2 : buflen, VRING_DESC_F_WRITE },
		{ b + buflen / 2, buflen - buflen / 2, VRING_DESC_F_WRITE },
	};
	uint16_t id;

	memset(gva(b), 0xee, buflen);
	id = pdrv_post(d, s, two ? 2 : 1, indirect);
	d->buf[id] = b;
}

/* Take the next received frame and compare it with what was sent. */
static void
rx_check(struct pdrv *d, uint32_t len, uint8_t seed, uint16_t nb_expected)
{
	uint8_t *got = malloc(HL + len), *exp = malloc(len);
	uint32_t off = 0, l;
	uint16_t i, id;

	for (i = 0; i < nb_expected; i++) {
		if (!pdrv_used(d, &id, &l) || off + l > HL + len) {
			CHECK(false);
			goto out;
		}
		memcpy(got + off, gva(d->buf[id]), l);
		off += l;
	}
	CHECK_EQ(off, HL + len);
	fill_frame(exp, len, seed);
	/* Loopback swapped the MACs. */
	memset(exp, 0x50 + seed % 16, 6);
	memset(exp + 6, 0xd0 + seed % 16, 6);
	CHECK(memcmp(got + HL, exp, len) == 0);
	CHECK_EQ(got[10] | got[11] << 8, nb_expected);
out:
	free(got);
	free(exp);
}

static void
wire_drain(void)
{
	void *m;

	while (rte_ring_dequeue(wire, &m) == 0)
		rte_pktmbuf_free(m);
}

/*
 * Frames of every layout through TX and back through RX, round after
 * round, until both rings have wrapped at least twice. Out of order
 * (hw.conf.ooo), each burst's buffers come back whole packets in
 * reverse, at exactly the positions in-order completion uses.
 */
static void
case_roundtrip(uint32_t features, uint32_t buflen, uint32_t pkt_len)
{
	bool ooo = hw.conf.ooo;
	uint64_t reordered = 0;
	bool mrg = features & IFCSW_HWQ_F_MRG_RXBUF;
	bool ind = features & IFCSW_HWQ_F_INDIRECT;
	uint16_t nbuf = mrg ? (HL + pkt_len + buflen - 1) / buflen : 1;
	struct pdrv tx, rx;
	unsigned int round, i, seed = 0;

	pdrv_setup(&rx, 0, features, 0);
	pdrv_setup(&tx, 1, features, 0);
	for (round = 0; round < 48; round++) {
		unsigned int n = 1 + round % 3;
		uint16_t first_id = tx.next_id;

		for (i = 0; i < n * nbuf; i++)
			rx_post(&rx, buflen, i % 2, ind && i % 3 == 1);
		for (i = 0; i < n; i++)
			tx_post(&tx, pkt_len + i, seed + i, (round + i) % 3,
				ind && (round + i) % 4 == 3);
		CHECK_EQ(ifcsw_dp_tx(tx.q, 64), n);
		CHECK_EQ(ifcsw_dp_rx(rx.q, 64), n);
		for (i = 0; i < n; i++) {
			unsigned int k = ooo ? n - 1 - i : i;
			uint16_t id;
			uint32_t len;

			CHECK(pdrv_used(&tx, &id, &len));
			CHECK_EQ(id, (first_id + k) % PRING);
			CHECK_EQ(len, 0);
			/* The wire has them in order; RX reverses again. */
			rx_check(&rx, pkt_len + k, seed + k, nbuf);
		}
		seed += n;
		/* Two packets or more in a burst: some moved. */
		if (ooo && n > 1)
			CHECK(tx.q->stats.reordered > reordered);
		reordered = tx.q->stats.reordered;
		/* Nothing in flight: device and driver agree. */
		CHECK_EQ(tx.q->regs.last_avail_idx, tx.avail);
		CHECK_EQ(tx.q->regs.avail_wrap, tx.avail_wrap);
		CHECK_EQ(tx.q->regs.last_used_idx, tx.used);
		CHECK_EQ(tx.q->regs.used_wrap, tx.used_wrap);
		CHECK_EQ(rx.q->regs.last_used_idx, rx.used);
		CHECK_EQ(rx.q->regs.used_wrap, rx.used_wrap);
	}
	CHECK(tx.flips >= 2 && rx.flips >= 2);
	CHECK_EQ(tx.q->stats.ring_errors + rx.q->stats.ring_errors, 0);
	CHECK_EQ(tx.q->stats.dma_faults + rx.q->stats.dma_faults, 0);
	CHECK_EQ(rx.q->stats.drops, 0);
	CHECK_EQ(rx.q->stats.packets, seed);
	if (ooo)
		CHECK(rx.q->stats.reordered > 0);
	else
		CHECK_EQ(tx.q->stats.reordered + rx.q->stats.reordered, 0);
}


/*
 * Stop in the middle of a burst (budget), with a chain straddling the
 * end of the ring; start again from the registers alone.
 */
static void
case_stop_start(void)
{
	struct pdrv tx;
	struct ifcsw_hwq_regs regs;
	unsigned int i;
	uint16_t id;
	uint32_t len;

	pdrv_setup(&tx, 1, PF, PRING - 4);
	for (i = 0; i < 5; i++)
		tx_post(&tx, 100, i, 2, false);	/* 3 slots each */
	CHECK_EQ(ifcsw_dp_tx(tx.q, 2), 2);
	/* 6 slots from PRING - 4: position 2 of the next lap. */
	CHECK_EQ(tx.q->regs.last_avail_idx, 2);
	CHECK_EQ(tx.q->regs.last_used_idx, 2);
	CHECK_EQ(tx.q->regs.avail_wrap, false);
	CHECK_EQ(tx.q->regs.used_wrap, false);
	/* Stopped: only the registers survive, the rings are re-mapped. */
	regs = tx.q->regs;
	memset(&tx.q->pdesc, 0, sizeof(tx.q->pdesc));
	tx.q->regs = regs;
	dev_attach(tx.q);
	CHECK_EQ(ifcsw_dp_tx(tx.q, 64), 3);
	CHECK_EQ(tx.q->regs.last_avail_idx, 11);
	CHECK_EQ(tx.q->regs.avail_wrap, false);
	for (i = 0; i < 5; i++) {
		/* Out of order: each burst (2, then 3) reversed. */
		static const uint16_t ooo_id[5] = { 1, 0, 4, 3, 2 };

		CHECK(pdrv_used(&tx, &id, &len));
		CHECK_EQ(id, hw.conf.ooo ? ooo_id[i] : i);
	}
	CHECK(!pdrv_used(&tx, &id, &len));
	CHECK_EQ(rte_ring_count(wire), 5);
	wire_drain();
}

/* A malformed chain faults the queue and hands nothing back. */
static void
expect_fault(struct pdrv *d, int err)
{
	uint16_t id;
	uint32_t len;
	uint64_t re = d->q->stats.ring_errors, df = d->q->stats.dma_faults;

	CHECK_EQ((d->q->index & 1) ? ifcsw_dp_tx(d->q, 64) :
		 ifcsw_dp_rx(d->q, 64), err);
	CHECK_EQ(d->q->stats.ring_errors, re + (err == -EIO));
	CHECK_EQ(d->q->stats.dma_faults, df + (err == -EFAULT));
	CHECK(!pdrv_used(d, &id, &len));
	CHECK_EQ(d->q->regs.last_avail_idx, 0);
}

static void
case_malformed(void)
{
	struct pseg s[PRING];
	struct pdrv d;
	unsigned int i;
	void *m;

	for (i = 0; i < PRING; i++)
		s[i] = (struct pseg){ galloc(64), 64, 0 };
	/* Buffer id beyond the ring. */
	pdrv_setup(&d, 1, PF, 0);
	pdrv_post(&d, s, 2, false);
	d.ring[1].id = PRING + 3;
	expect_fault(&d, -EIO);
	/* A chain that runs past the ring size: NEXT on every slot. */
	pdrv_setup(&d, 1, PF, 0);
	pdrv_post(&d, s, PRING, false);
	d.ring[PRING - 1].flags |= VRING_DESC_F_NEXT;
	expect_fault(&d, -EIO);
	/* An indirect table outside guest memory. */
	pdrv_setup(&d, 1, PF | IFCSW_HWQ_F_INDIRECT, 0);
	pdrv_post(&d, s, 2, true);
	d.ring[0].addr = P_IOVA + P_SIZE - 16;
	expect_fault(&d, -EFAULT);
	/* Indirect not negotiated. */
	pdrv_setup(&d, 1, PF, 0);
	pdrv_post(&d, s, 2, true);
	expect_fault(&d, -EIO);
	/* RX: a buffer outside guest memory; the packet is not lost. */
	pdrv_setup(&d, 0, PF, 0);
	s[0] = (struct pseg){ P_IOVA + P_SIZE, 2048, VRING_DESC_F_WRITE };
	pdrv_post(&d, s, 1, false);
	m = rte_pktmbuf_alloc(mp);
	CHECK(m != NULL);
	rte_pktmbuf_append(m, 60);
	rte_ring_enqueue(wire, m);
	expect_fault(&d, -EFAULT);
	CHECK(d.q->rx_pending != NULL);
	rte_pktmbuf_free(d.q->rx_pending);
	d.q->rx_pending = NULL;
}

static uint64_t
irqs_taken(struct pdrv *d)
{
	uint64_t v = 0;

	if (read(d->q->regs.irq_fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* Driver event suppression, and what the device asks of the driver. */
static void
case_notify(void)
{
	struct pdrv d;
	unsigned int i;

	pdrv_setup(&d, 1, PF | IFCSW_HWQ_F_EVENT_IDX, 0);
	irqs_taken(&d);
	d.drv_ev->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
	tx_post(&d, 60, 0, 0, false);
	CHECK_EQ(ifcsw_dp_tx(d.q, 64), 1);
	CHECK_EQ(irqs_taken(&d), 0);
	d.drv_ev->flags = VRING_PACKED_EVENT_FLAG_ENABLE;
	tx_post(&d, 60, 0, 0, false);
	CHECK_EQ(ifcsw_dp_tx(d.q, 64), 1);
	CHECK_EQ(irqs_taken(&d), 1);
	/* DESC: interrupt once the used position passes slot 5, lap 1. */
	d.drv_ev->flags = VRING_PACKED_EVENT_FLAG_DESC;
	d.drv_ev->off_wrap = 5 | 1u << VRING_PACKED_EVENT_F_WRAP_CTR;
	/* No interrupt recorded in DESC mode yet: one, as vhost does. */
	tx_post(&d, 60, 0, 0, false);
	CHECK_EQ(ifcsw_dp_tx(d.q, 64), 1);
	CHECK_EQ(irqs_taken(&d), 1);
	for (i = 3; i < 5; i++) {
		tx_post(&d, 60, 0, 0, false);
		CHECK_EQ(ifcsw_dp_tx(d.q, 64), 1);
		CHECK_EQ(irqs_taken(&d), 0);
	}
	tx_post(&d, 60, 0, 1, false);	/* slots 5 and 6 */
	CHECK_EQ(ifcsw_dp_tx(d.q, 64), 1);
	CHECK_EQ(irqs_taken(&d), 1);
	/* Event in the next lap: not yet. */
	d.drv_ev->off_wrap = 2;
	tx_post(&d, 60, 0, 0, false);
	CHECK_EQ(ifcsw_dp_tx(d.q, 64), 1);
	CHECK_EQ(irqs_taken(&d), 0);
	wire_drain();
	/* Doorbells: DESC at our avail position with EVENT_IDX, DISABLE. */
	CHECK(!ifcsw_dp_enable_notify(d.q));
	CHECK_EQ(d.dev_ev->flags, VRING_PACKED_EVENT_FLAG_DESC);
	CHECK_EQ(d.dev_ev->off_wrap,
		 8 | 1u << VRING_PACKED_EVENT_F_WRAP_CTR);
	ifcsw_dp_disable_notify(d.q);
	CHECK_EQ(d.dev_ev->flags, VRING_PACKED_EVENT_FLAG_DISABLE);
	tx_post(&d, 60, 0, 0, false);
	CHECK(ifcsw_dp_enable_notify(d.q));
	wire_drain();
	d.q->regs.features &= ~IFCSW_HWQ_F_EVENT_IDX;
	ifcsw_dp_enable_notify(d.q);
	CHECK_EQ(d.dev_ev->flags, VRING_PACKED_EVENT_FLAG_ENABLE);
}

/* Queue start maps the packed rings with their rights and geometry. */
static void
case_start(void)
{
	struct ifcsw_hw_conf conf = {
		.name = "pkq", .nb_queue_pairs = 1, .loopback = true,
		.cpu = -1,
	};
	static struct ifcsw_hw h;
	static uint8_t ro[4096] __rte_aligned(16);
	struct ifcsw_hwq_regs r = {
		.desc_iova = P_IOVA, .avail_iova = P_IOVA + 0x1000,
		.used_iova = P_IOVA + 0x1004, .size = 40,
		.features = PF, .doorbell_fd = eventfd(0, EFD_NONBLOCK),
		.irq_fd = -1,
	};
	struct {
		uint64_t desc, used;
		uint16_t size, last_avail;
		int ret;
	} c[] = {
		{ P_IOVA, P_IOVA + 0x1004, 40, 0, 0 },	/* not 2^k: fine */
		{ P_IOVA, P_IOVA + 0x1004, 40, 39, 0 },
		{ P_IOVA, P_IOVA + 0x1004, 40, 40, -EINVAL },
		{ P_IOVA, P_IOVA + 0x1004, 32768, 0, 0 },
		{ P_IOVA + P_SIZE - 16 * 40, P_IOVA + 0x1004, 41, 0, -EFAULT },
		{ P_IOVA + 8, P_IOVA + 0x1004, 40, 0, -EFAULT },
		{ P_IOVA, P_IOVA + 0x1006, 40, 0, -EFAULT },
		{ 0x90000000ull, P_IOVA + 0x1004, 40, 0, -EFAULT },
		{ P_IOVA, 0x90000000ull, 40, 0, -EFAULT },
	};
	unsigned int i;
	uint16_t la, lu;

	CHECK_EQ(ifcsw_hw_init(&h, &conf), 0);
	CHECK_EQ(ifcsw_dma_map(&h.dma, P_IOVA, P_SIZE, gmem, RW), 0);
	/* A read-only mapping: fine for no ring the device writes. */
	CHECK_EQ(ifcsw_dma_map(&h.dma, 0x90000000ull, sizeof(ro), ro,
			       IFCSW_DMA_READ), 0);
	memset(gmem, 0, 16 * 32768);
	for (i = 0; i < RTE_DIM(c); i++) {
		r.desc_iova = c[i].desc;
		r.used_iova = c[i].used;
		r.size = c[i].size;
		r.last_avail_idx = r.last_used_idx = c[i].last_avail;
		r.avail_wrap = r.used_wrap = i % 2;
		CHECK_EQ(ifcsw_hw_queue_regs_write(&h, 1, &r), 0);
		CHECK_EQ(ifcsw_hw_queue_start(&h, 1), c[i].ret);
		CHECK_EQ(ifcsw_hw_queue_stop(&h, 1, &la, &lu), 0);
		ifcsw_hw_queue_reset(&h, 1);
		if (c[i].ret == 0) {
			CHECK_EQ(la, c[i].last_avail);
			CHECK_EQ(h.q[1].regs.avail_wrap, i % 2);
		}
	}
	/* The driver area alone may be read-only. */
	r = (struct ifcsw_hwq_regs){ .desc_iova = P_IOVA,
		.avail_iova = 0x90000000ull, .used_iova = P_IOVA + 0x1004,
		.size = 40, .features = PF, .doorbell_fd = r.doorbell_fd,
		.irq_fd = -1 };
	CHECK_EQ(ifcsw_hw_queue_regs_write(&h, 1, &r), 0);
	CHECK_EQ(ifcsw_hw_queue_start(&h, 1), 0);
	ifcsw_hw_queue_stop(&h, 1, NULL, NULL);
	close(r.doorbell_fd);
	ifcsw_hw_fini(&h);
}

/*
 * completion=ooo, exactly. After one chain at PRING - 6 (id 0), five TX
 * chains of 3, 1, 2, 3, 1 descriptors from slot PRING - 5 (so the burst
 * wraps) come back as ids 5, 4, 3, 2, 1 at slots PRING - 5, PRING - 4,
 * PRING - 1, 1, 2: each at the used position, which then moves by its
 * chain's length; the chains' other slots are not written. In order,
 * id 3 would land on the same slot (4 of 10), so 4 of 5 count as
 * reordered. A driver DESC event inside the burst interrupts once, one
 * past it none, as in order.
 */
static void
case_ooo_exact(void)
{
	static const unsigned int layout[5] = { 2, 0, 1, 2, 0 };
	static const struct {
		uint16_t pos, id;
		bool wrap;
	} want[5] = {
		{ PRING - 5, 5, true }, { PRING - 4, 4, true },
		{ PRING - 1, 3, true }, { 1, 2, false }, { 2, 1, false },
	};
	struct vring_packed_desc before[PRING];
	struct pdrv d;
	unsigned int i, s;
	uint16_t id;
	uint32_t len;

	pdrv_setup(&d, 1, PF | IFCSW_HWQ_F_EVENT_IDX, PRING - 6);
	irqs_taken(&d);
	d.drv_ev->flags = VRING_PACKED_EVENT_FLAG_DESC;
	/* Slot 0 of the next lap (wrap 0). */
	d.drv_ev->off_wrap = 0;
	/* One alone: the first interrupt in DESC mode, as vhost does. */
	tx_post(&d, 100, 0, 0, false);
	CHECK_EQ(ifcsw_dp_tx(d.q, 64), 1);
	CHECK_EQ(irqs_taken(&d), 1);
	CHECK(pdrv_used(&d, &id, &len));
	CHECK_EQ(id, 0);
	CHECK_EQ(d.q->stats.reordered, 0);
	for (i = 0; i < 5; i++)
		tx_post(&d, 100, 1 + i, layout[i], false);
	memcpy(before, d.ring, sizeof(before));
	CHECK_EQ(ifcsw_dp_tx(d.q, 64), 5);
	/* The burst went from PRING - 5 to 5 of the next lap: past 0. */
	CHECK_EQ(irqs_taken(&d), 1);
	CHECK_EQ(d.q->regs.last_avail_idx, 5);
	CHECK_EQ(d.q->regs.last_used_idx, 5);
	CHECK(!d.q->regs.avail_wrap && !d.q->regs.used_wrap);
	CHECK_EQ(d.q->stats.reordered, 4);
	for (s = 0; s < PRING; s++) {
		const struct vring_packed_desc *e = &d.ring[s];

		for (i = 0; i < 5 && want[i].pos != s; i++)
			;
		if (i == 5) {	/* not a used position: untouched */
			CHECK(memcmp(e, &before[s], sizeof(*e)) == 0);
			continue;
		}
		CHECK_EQ(e->id, want[i].id);
		CHECK_EQ(e->len, 0);
		CHECK_EQ(e->flags & (F_AVAIL | F_USED),
			 want[i].wrap ? F_AVAIL | F_USED : 0);
	}
	for (i = 0; i < 5; i++) {
		CHECK(pdrv_used(&d, &id, &len));
		CHECK_EQ(id, want[i].id);
	}
	CHECK(!pdrv_used(&d, &id, &len));
	CHECK_EQ(d.used, 5);
	CHECK_EQ(d.used_wrap, false);
	/* The next burst goes from 5 to 6, past no event: no interrupt. */
	tx_post(&d, 100, 6, 0, false);
	CHECK_EQ(ifcsw_dp_tx(d.q, 64), 1);
	CHECK_EQ(irqs_taken(&d), 0);
	CHECK(pdrv_used(&d, &id, &len));
	CHECK_EQ(id, 6);
	CHECK_EQ(d.q->stats.reordered, 4);
	/* The wire has the frames in the order they were made available. */
	for (i = 0; i < 7; i++) {
		struct rte_mbuf *m = NULL;

		CHECK_EQ(rte_ring_dequeue(wire, (void **)&m), 0);
		if (m == NULL)
			break;
		CHECK_EQ(rte_pktmbuf_mtod(m, uint8_t *)[12],
			 (uint8_t)(i + 12 * 13));
		rte_pktmbuf_free(m);
	}
	wire_drain();
}

static void
case_ooo_full_ring(void)
{
	struct pdrv tx, rx;
	unsigned int i;
	uint16_t id;
	uint32_t len;

	pdrv_setup(&rx, 0, PF, 7);
	pdrv_setup(&tx, 1, PF, 7);
	for (i = 0; i < PRING; i++) {
		rx_post(&rx, 2048, false, false);
		tx_post(&tx, 64, i, 0, false);
	}
	CHECK_EQ(ifcsw_dp_tx(tx.q, 64), PRING);
	CHECK_EQ(ifcsw_dp_rx(rx.q, 64), PRING);
	for (i = 0; i < PRING; i++) {
		unsigned int k = i < 32 ? 31 - i : PRING - 1 - (i - 32);

		CHECK(pdrv_used(&tx, &id, &len));
		CHECK_EQ(id, k);
		rx_check(&rx, 64, k, 1);
	}
	CHECK(!pdrv_used(&tx, &id, &len) && !pdrv_used(&rx, &id, &len));
	/* A full lap from 7: back at 7, wrap flipped, on both sides. */
	CHECK_EQ(tx.q->regs.last_used_idx, 7);
	CHECK_EQ(tx.q->regs.used_wrap, false);
	CHECK_EQ(tx.used, 7);
	CHECK_EQ(tx.used_wrap, false);
	CHECK_EQ(rx.q->regs.last_used_idx, 7);
	CHECK_EQ(rx.q->regs.used_wrap, false);
	CHECK_EQ(rx.used, 7);
	CHECK_EQ(rx.used_wrap, false);
	/* Every one moved but none: 32 and 8 are even. */
	CHECK_EQ(tx.q->stats.reordered, PRING);
	CHECK_EQ(rx.q->stats.reordered, PRING);
}

/* What the device must do whatever its completion order (hw.conf.ooo). */
static void
cases_any_order(void)
{
	case_roundtrip(PF, 2048, 200);
	case_roundtrip(PF | IFCSW_HWQ_F_INDIRECT, 2048, 1000);
	/* Mergeable: 600-byte frames over 256-byte buffers (3 each). */
	case_roundtrip(PF | IFCSW_HWQ_F_MRG_RXBUF, 256, 600);
	case_roundtrip(PF | IFCSW_HWQ_F_MRG_RXBUF | IFCSW_HWQ_F_INDIRECT |
		       IFCSW_HWQ_F_EVENT_IDX, 256, 600);
	case_stop_start();
	case_notify();
}

void
test_packed(void)
{
	gmem = aligned_alloc(4096, P_SIZE);
	arena.base = gmem;
	CHECK(gmem != NULL);
	if (gmem == NULL)
		return;
	ifcsw_dma_init(&hw.dma);
	CHECK_EQ(ifcsw_dma_map(&hw.dma, P_IOVA, P_SIZE, gmem, RW), 0);
	mp = rte_pktmbuf_pool_create("pk_mp", 1023, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	wire = rte_ring_create("pk_wire", 256, SOCKET_ID_ANY,
			       RING_F_SP_ENQ | RING_F_SC_DEQ);
	CHECK(mp != NULL && wire != NULL);
	if (mp == NULL || wire == NULL)
		return;
	hw.conf.mp = mp;
	/* The device thread's own mbuf cache, as ifcsw_hw_init() makes. */
	CHECK_EQ(ifcsw_dp_mcache_create(&hw), 0);
	CHECK(hw.mcache != NULL);
	hw.conf.loopback = true;
	hw.q[0].regs.irq_fd = hw.q[1].regs.irq_fd = -1;

	cases_any_order();
	case_malformed();
	case_start();

	/* completion=ooo: the same cases, then exact placements. */
	hw.conf.ooo = true;
	cases_any_order();
	case_ooo_exact();
	case_ooo_full_ring();
	hw.conf.ooo = false;

	close(hw.q[0].regs.irq_fd);
	close(hw.q[1].regs.irq_fd);
	wire_drain();
	ifcsw_dp_mcache_free(&hw);
	CHECK_EQ(rte_mempool_avail_count(mp), 1023);
	rte_ring_free(wire);
	rte_mempool_free(mp);
	ifcsw_dma_unmap_all(&hw.dma);
	free(gmem);
}
