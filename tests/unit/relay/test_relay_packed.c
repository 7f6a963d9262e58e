/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Packed relay datapath (virtio 1.1, 2.8): chains forwarded slot for
 * slot onto the mediated ring and completed back in order and out of
 * order over many wraps (sizes 256 and 100: packed allows any size),
 * chains straddling the ring end, indirect tables, single-buffer RX
 * completions, buffer ids, and exact logging: the pages the relay logs
 * are the buffers' pages by used len, the guest ring slots it wrote and
 * the device event area when it changed it, nothing else. After a flush
 * the relay's positions and wrap counters are the device's.
 */

#include "test_packed.h"
#include "vrelay_private.h"

#define MAX_CHAIN	4		/* ring slots of a generated chain */
#define BUF_STRIDE	0x4000ULL	/* per buffer id: up to 4 buffers */

static bool exp_pg[P_NPAGES];
static uint32_t rng = 0x9e3779b9;

static uint32_t
rnd(uint32_t n)
{
	return t_rnd(&rng, n);
}

static void
exp_range(uint64_t gpa, uint64_t len)
{
	for (uint64_t b = gpa; b < gpa + len; b += 4096 - b % 4096)
		exp_pg[b / 4096] = true;
}

/* The pages of a chain's first len writable bytes (what the device wrote). */
static void
exp_chain(const struct packed_dev_chain *c, uint32_t len)
{
	for (uint16_t i = 0; i < c->nseg && len > 0; i++) {
		uint32_t k = c->seg[i].len < len ? c->seg[i].len : len;

		if (!(c->seg[i].flags & VRING_DESC_F_WRITE))
			continue;
		exp_range(c->seg[i].gpa, k);
		len -= k;
	}
}

static void
exp_slot(uint16_t pos)
{
	exp_range(P_DESC_GPA + 16ULL * pos, 16);
}

/* The log is exactly exp_pg; then both are cleared for the next step. */
static void
check_log_exact(struct ptctx *p, const char *what)
{
	bool ok = true;

	for (uint64_t pg = 0; pg < P_NPAGES; pg++) {
		if (t_log_bit(p->t.log, pg) == exp_pg[pg])
			continue;
		fprintf(stderr, "%s: page %#lx logged %d, expected %d\n", what,
			(unsigned long)pg, t_log_bit(p->t.log, pg),
			exp_pg[pg]);
		ok = false;
	}
	CHECK(ok);
	memset(p->t.log, 0, T_LOG_SIZE);
	memset(exp_pg, 0, sizeof(exp_pg));
}

/* The relay's state is the device's (index invariant). */
static void
check_qstate(struct ptctx *p)
{
	struct vrelay_qstate s;

	vrelay_queue_get_qstate(p->q, &s);
	if (s.used_idx != p->dev.used.idx || s.used_wrap != p->dev.used.wrap ||
	    s.avail_idx != p->dev.avail.idx ||
	    s.avail_wrap != p->dev.avail.wrap)
		fprintf(stderr, "qstate %u/%d %u/%d, device %u/%d %u/%d\n",
			s.avail_idx, s.avail_wrap, s.used_idx, s.used_wrap,
			p->dev.avail.idx, p->dev.avail.wrap, p->dev.used.idx,
			p->dev.used.wrap);
	CHECK(s.avail_idx == p->dev.avail.idx);
	CHECK(s.avail_wrap == p->dev.avail.wrap);
	CHECK(s.used_idx == p->dev.used.idx);
	CHECK(s.used_wrap == p->dev.used.wrap);
}

/* Mediated slots [from, to) are the guest's, byte for byte. */
static void
check_mirrored(struct ptctx *p, struct packed_pos from, struct packed_pos to)
{
	const struct vring_packed_desc *md = p->m->desc;

	while (from.idx != to.idx || from.wrap != to.wrap) {
		CHECK(memcmp(&md[from.idx], &p->drv.desc[from.idx], 16) == 0);
		packed_pos_add(&from, p->drv.size, 1);
	}
}

/* ---- traffic over many wraps --------------------------------------- */

struct traffic {
	struct ptctx p;
	uint16_t free_ids[VRELAY_MAX_RING_SIZE], nfree;
	uint16_t free_slots;		/* ring slots not in flight */
	struct packed_dev_chain pend[256];	/* fetched, not completed */
	unsigned int npend;
	uint16_t done_id[256];		/* completion order, for the guest */
	uint32_t done_len[256];
	unsigned int ndone;
	unsigned int straddles, indirects, flips;
};

/* A chain for buffer id: a readable header, writable buffers. */
static unsigned int
gen_chain(struct vq_drv_seg *s, uint16_t id, unsigned int n)
{
	uint64_t base = T_BUF_GPA + id * BUF_STRIDE;

	s[0] = (struct vq_drv_seg){ base + 0x80, 12, 0 };
	for (unsigned int i = 1; i < n; i++)
		s[i] = (struct vq_drv_seg){ base + i * 0xc00 + 0x80 * i,
			1 + rnd(0x1000), VRING_DESC_F_WRITE };
	return n;
}

static unsigned int
guest_post(struct traffic *x, bool indirect_ok)
{
	struct packed_drv *d = &x->p.drv;
	struct vq_drv_seg s[MAX_CHAIN];
	unsigned int n = 1 + rnd(MAX_CHAIN);
	bool ind = indirect_ok && rnd(5) == 0;
	uint16_t id, slots = ind ? 1 : n;

	if (x->nfree == 0 || slots > x->free_slots)
		return 0;
	id = x->free_ids[--x->nfree];
	gen_chain(s, id, n);
	if (!ind && n == 1)
		s[0].flags = VRING_DESC_F_WRITE;	/* an RX buffer */
	if (d->avail.idx + slots > d->size)
		x->straddles++;
	if (ind) {
		CHECK(packed_drv_add_indirect(d, s, n, id, P_TABLE_GPA +
					      id * 16ULL * MAX_CHAIN) !=
		      UINT16_MAX);
		x->indirects++;
	} else {
		packed_drv_add(d, s, n, id);
	}
	x->free_slots -= slots;
	return 1;
}

static void
device_complete(struct traffic *x, bool ooo)
{
	unsigned int k = ooo ? rnd(x->npend) : 0;
	struct packed_dev_chain c = x->pend[k];
	uint32_t len = packed_dev_fill(&x->p.dev, &c, rnd(0x4000), 0xab);

	memmove(&x->pend[k], &x->pend[k + 1],
		(x->npend - k - 1) * sizeof(x->pend[0]));
	x->npend--;
	x->free_slots += c.ndesc;
	exp_slot(x->p.dev.used.idx);
	exp_chain(&c, len);
	if (x->p.dev.used.idx + c.ndesc >= x->p.drv.size)
		x->flips++;
	packed_dev_complete(&x->p.dev, c.id, len, c.ndesc);
	x->done_id[x->ndone] = c.id;
	x->done_len[x->ndone++] = len;
}

/* The guest takes every used descriptor, as the device completed them. */
static void
guest_reap(struct traffic *x)
{
	unsigned int i;
	uint32_t len;
	uint16_t id;

	for (i = 0; i < x->ndone; i++) {
		CHECK(packed_drv_get_used(&x->p.drv, &id, &len) == 1);
		CHECK(id == x->done_id[i]);
		CHECK(len == x->done_len[i]);
		x->free_ids[x->nfree++] = id;
	}
	CHECK(packed_drv_get_used(&x->p.drv, &id, &len) == 0);
	x->ndone = 0;
}

static void
traffic_round(struct traffic *x, bool ooo)
{
	struct ptctx *p = &x->p;
	struct packed_pos from = p->drv.avail;
	unsigned int posted = 0, n, i;

	for (i = rnd(8); i > 0; i--)
		posted += guest_post(x, true);
	CHECK(vrelay_queue_relay_avail(p->q, 1024) == (int)posted);
	check_mirrored(p, from, p->drv.avail);
	/* Forwarding writes no guest memory (the notify state is steady). */
	CHECK(pt_log_count(p) == 0);
	while (packed_dev_fetch(&p->dev, &x->pend[x->npend]) == 1)
		x->npend++;
	CHECK(p->dev.avail.idx == p->drv.avail.idx &&
	      p->dev.avail.wrap == p->drv.avail.wrap);
	n = x->npend ? rnd(x->npend + 1) : 0;
	for (i = 0; i < n; i++)
		device_complete(x, ooo);
	CHECK(vrelay_queue_relay_used(p->q, 1024) == (int)n);
	check_log_exact(p, ooo ? "ooo round" : "in-order round");
	guest_reap(x);
}

static void
test_traffic(uint16_t size, struct packed_pos start, bool ooo)
{
	static struct traffic x;
	unsigned int rounds = 0;

	memset(&x, 0, sizeof(x));
	pt_setup(&x.p, size, start, true);
	for (uint16_t i = 0; i < size; i++)
		x.free_ids[x.nfree++] = size - 1 - i;
	x.free_slots = size;
	while (x.flips < 6 && rounds++ < 20000)
		traffic_round(&x, ooo);
	/* Drain: every chain completed, the rings idle at one position. */
	while (x.npend > 0)
		device_complete(&x, false);
	CHECK(vrelay_queue_flush(x.p.q) >= 0);
	check_log_exact(&x.p, "drain");
	guest_reap(&x);
	check_qstate(&x.p);
	CHECK(x.p.drv.used.idx == x.p.dev.used.idx &&
	      x.p.drv.used.wrap == x.p.dev.used.wrap);
	CHECK(x.flips >= 6 && x.straddles > 0 && x.indirects > 0);
	CHECK(vrelay_queue_state(x.p.q) == VRELAY_QUEUE_IDLE);
	fprintf(stderr, "traffic size %u start %u/%d %s: %u rounds, %u "
		"straddling chains, %u indirect\n", size, start.idx,
		start.wrap, ooo ? "out of order" : "in order", rounds,
		x.straddles, x.indirects);
	pt_fini(&x.p);
}


/* ---- focused cases ------------------------------------------------- */

/* Forward everything, fetch it all on the device side. */
static unsigned int
fwd_fetch(struct ptctx *p, struct packed_dev_chain *c, unsigned int want)
{
	unsigned int n = 0;

	CHECK(vrelay_queue_relay_avail(p->q, 1024) == (int)want);
	while (n < want && packed_dev_fetch(&p->dev, &c[n]) == 1)
		n++;
	CHECK(n == want);
	return n;
}

/*
 * An idle queue whose used wrap counter is 0, or that has gone once
 * round a ring it joined mid-way, has no completion: the slot at the
 * used position must not read as used (a zeroed slot does at wrap 0).
 */
static void
test_idle_lap(void)
{
	struct packed_dev_chain c[3];
	struct vq_drv_seg s = { T_BUF_GPA, 4096, VRING_DESC_F_WRITE };
	struct ptctx p;
	uint16_t i;

	pt_setup(&p, 8, (struct packed_pos){ 3, false }, false);
	CHECK(vrelay_queue_relay_used(p.q, 64) == 0);
	CHECK(vrelay_queue_state(p.q) == VRELAY_QUEUE_IDLE);
	pt_fini(&p);

	pt_setup(&p, 8, (struct packed_pos){ 5, true }, false);
	for (i = 0; i < 3; i++)
		packed_drv_add(&p.drv, &s, 1, i);
	fwd_fetch(&p, c, 3);
	for (i = 0; i < 3; i++)
		packed_dev_complete(&p.dev, c[i].id, 0, 1);
	CHECK(vrelay_queue_relay_used(p.q, 64) == 3);
	/* Used position 0 in lap 0 now: slot 0 was never written. */
	CHECK(vrelay_queue_relay_used(p.q, 64) == 0);
	CHECK(vrelay_queue_state(p.q) == VRELAY_QUEUE_IDLE);
	pt_fini(&p);
}

/*
 * Buffer ids are the last ring descriptor's, whatever the others hold,
 * and are copied untouched; out-of-order completions land at the used
 * positions, each advancing by its chain's slots, and no other guest
 * slot is written.
 */
static void
test_ids(void)
{
	struct vq_drv_seg s[3] = {
		{ T_BUF_GPA, 64, 0 },
		{ T_BUF_GPA + 0x1000, 4096, VRING_DESC_F_WRITE },
		{ T_BUF_GPA + 0x2000, 4096, VRING_DESC_F_WRITE },
	};
	struct vring_packed_desc before[8];
	struct packed_dev_chain c[3];
	struct ptctx p;
	uint32_t len;
	uint16_t id;

	pt_setup(&p, 8, (struct packed_pos){ 0, true }, false);
	packed_drv_add(&p.drv, s, 3, 5);		/* slots 0-2 */
	p.drv.desc[0].id = 0xbeef;			/* not the buffer id */
	p.drv.desc[1].id = 6;
	packed_drv_add(&p.drv, &s[1], 1, 2);		/* slot 3 */
	packed_drv_add(&p.drv, &s[1], 2, 7);		/* slots 4-5 */
	fwd_fetch(&p, c, 3);
	CHECK(memcmp(p.m->desc, p.drv.desc, 6 * 16) == 0);
	CHECK(c[0].id == 5 && c[1].id == 2 && c[2].id == 7);
	memcpy(before, p.drv.desc, sizeof(before));
	packed_dev_complete(&p.dev, 7, 100, 2);		/* at slot 0 */
	packed_dev_complete(&p.dev, 5, 4097, 3);	/* at slot 2 */
	packed_dev_complete(&p.dev, 2, 0, 1);		/* at slot 5 */
	CHECK(vrelay_queue_relay_used(p.q, 64) == 3);
	CHECK(memcmp(&before[1], &p.drv.desc[1], 16) == 0);
	CHECK(memcmp(&before[3], &p.drv.desc[3], 32) == 0);
	CHECK(memcmp(&before[6], &p.drv.desc[6], 32) == 0);
	CHECK(packed_drv_get_used(&p.drv, &id, &len) == 1 && id == 7 &&
	      len == 100);
	CHECK(packed_drv_get_used(&p.drv, &id, &len) == 1 && id == 5 &&
	      len == 4097);
	CHECK(packed_drv_get_used(&p.drv, &id, &len) == 1 && id == 2 &&
	      len == 0);
	CHECK(p.drv.used.idx == 6 && p.drv.used.wrap);
	pt_fini(&p);
}

/*
 * A chain across the ring's end: its slots after the end carry the
 * next lap's AVAIL/USED bits in the mediated ring too, and the device
 * takes it as one chain.
 */
static void
test_straddle(void)
{
	struct vq_drv_seg s[4];
	struct packed_dev_chain c[1];
	struct ptctx p;
	uint32_t len;
	uint16_t id, i;

	pt_setup(&p, 8, (struct packed_pos){ 6, true }, true);
	for (i = 0; i < 4; i++)
		s[i] = (struct vq_drv_seg){ T_BUF_GPA + i * 0x1000ULL, 4096,
					    VRING_DESC_F_WRITE };
	packed_drv_add(&p.drv, s, 4, 3);
	fwd_fetch(&p, c, 1);
	CHECK(c[0].ndesc == 4 && c[0].nseg == 4 && c[0].id == 3);
	for (i = 0; i < 4; i++) {
		uint16_t f = ((struct vring_packed_desc *)p.m->desc)
			[(6 + i) % 8].flags;

		CHECK(packed_is_avail(f, i < 2));
	}
	packed_dev_complete(&p.dev, 3, 3 * 4096 + 1, 4);
	CHECK(vrelay_queue_relay_used(p.q, 64) == 1);
	exp_slot(6);
	exp_range(T_BUF_GPA, 3 * 4096 + 1);
	check_log_exact(&p, "straddle");
	CHECK(packed_drv_get_used(&p.drv, &id, &len) == 1 && id == 3);
	CHECK(p.drv.used.idx == 2 && !p.drv.used.wrap);
	check_qstate(&p);
	pt_fini(&p);
}

/*
 * Indirect: the ring slot is copied as is (table address, INDIRECT),
 * and only the table's writable buffers are logged, by len: not the
 * table, not the readable header.
 */
static void
test_indirect(void)
{
	struct vq_drv_seg s[3] = {
		{ T_BUF_GPA + 0x10000, 12, 0 },
		{ T_BUF_GPA + 0x800, 4096, VRING_DESC_F_WRITE },
		{ T_BUF_GPA + 0x20000, 4096, VRING_DESC_F_WRITE },
	};
	struct packed_dev_chain c[1];
	struct ptctx p;

	pt_setup(&p, 100, (struct packed_pos){ 99, false }, true);
	packed_drv_add_indirect(&p.drv, s, 3, 42, P_TABLE_GPA + 0x800);
	fwd_fetch(&p, c, 1);
	CHECK(memcmp(&((struct vring_packed_desc *)p.m->desc)[99],
		     &p.drv.desc[99], 16) == 0);
	CHECK(c[0].ndesc == 1 && c[0].nseg == 3 && c[0].id == 42);
	packed_dev_complete(&p.dev, 42, 5000, 1);
	CHECK(vrelay_queue_relay_used(p.q, 64) == 1);
	exp_slot(99);
	exp_range(T_BUF_GPA + 0x800, 4096);
	exp_range(T_BUF_GPA + 0x20000, 5000 - 4096);
	check_log_exact(&p, "indirect");
	pt_fini(&p);
}

/*
 * A read-only (TX) queue: DPDK's virtio PMD leaves WRITE set on the
 * entries of its packed TX indirect tables, header first. The relay
 * ignores WRITE there, as the device does: the chain is forwarded, it
 * has nothing writable (a used len must be 0), and its completion logs
 * only the ring slot. The same table on a queue the device writes is
 * a readable-after-writable chain; test_relay_packed_hostile breaks it.
 */
static void
test_tx_indirect_write(void)
{
	struct vq_drv_seg s[2] = {
		{ T_BUF_GPA + 0x10000, 12, VRING_DESC_F_WRITE },
		{ T_BUF_GPA + 0x20000, 1500, 0 },
	};
	struct vrelay_queue_conf c;
	struct packed_dev_chain ch[1];
	struct ptctx p;
	uint32_t len;
	uint16_t id;

	pt_init(&p, 256, (struct packed_pos){ 0, true });
	c = pt_conf(&p);
	c.device_read_only = true;
	CHECK(vrelay_device_set_log(p.t.dev, p.t.log, T_LOG_SIZE) == 0);
	pt_create(&p, &c);
	packed_drv_add_indirect(&p.drv, s, 2, 7, P_TABLE_GPA);
	CHECK(fwd_fetch(&p, ch, 1) == 1);
	packed_dev_complete(&p.dev, 7, 0, 1);
	CHECK(vrelay_queue_relay_used(p.q, 64) == 1);
	exp_slot(0);
	check_log_exact(&p, "tx indirect");
	CHECK(packed_drv_get_used(&p.drv, &id, &len) == 1 && id == 7);
	/* Nothing writable: a used len past 0 breaks the queue. */
	packed_drv_add_indirect(&p.drv, s, 2, 8, P_TABLE_GPA + 0x100);
	CHECK(fwd_fetch(&p, ch, 1) == 1);
	packed_dev_complete(&p.dev, 8, 12, 1);
	CHECK(vrelay_queue_relay_used(p.q, 64) == -EIO);
	pt_fini(&p);
}

/*
 * Mergeable-like RX: single-buffer chains, one 9000-byte packet over
 * three of them (each its own used descriptor and len) and a short one,
 * across the end of a ring of 100: each buffer logged by its own len.
 */
static void
test_rx_mergeable(void)
{
	static const uint32_t lens[4] = { 4096, 4096, 808, 60 };
	struct packed_dev_chain c[4];
	struct ptctx p;
	uint32_t len;
	uint16_t id, i;

	pt_setup(&p, 100, (struct packed_pos){ 98, true }, true);
	for (i = 0; i < 4; i++) {
		struct vq_drv_seg s = { T_BUF_GPA + 0x800 + i * 0x2000ULL,
					4096, VRING_DESC_F_WRITE };

		packed_drv_add(&p.drv, &s, 1, 10 + i);
	}
	fwd_fetch(&p, c, 4);
	for (i = 0; i < 4; i++) {
		exp_slot(p.dev.used.idx);
		exp_range(c[i].seg[0].gpa,
			  packed_dev_fill(&p.dev, &c[i], lens[i], 0xcd));
		packed_dev_complete(&p.dev, c[i].id, lens[i], 1);
	}
	CHECK(vrelay_queue_relay_used(p.q, 64) == 4);
	check_log_exact(&p, "rx");
	for (i = 0; i < 4; i++)
		CHECK(packed_drv_get_used(&p.drv, &id, &len) == 1 &&
		      id == 10 + i && len == lens[i]);
	check_qstate(&p);
	pt_fini(&p);
}

/*
 * A multi-buffer packet (mergeable RX: three buffers, the device making
 * the first used last) is published whole even when the pass is asked
 * for fewer entries: a guest shown the first buffer without the others
 * drops the packet (DPDK's "No enough segments", Linux's length error).
 */
static void
test_multibuf_whole(void)
{
	struct packed_dev_chain c[3];
	struct ptctx p;
	uint32_t len;
	uint16_t id, i;

	pt_setup(&p, 256, (struct packed_pos){ 254, true }, true);
	for (i = 0; i < 3; i++) {
		struct vq_drv_seg s = { T_BUF_GPA + i * 0x2000ULL, 4096,
					VRING_DESC_F_WRITE };

		packed_drv_add(&p.drv, &s, 1, 20 + i);
	}
	CHECK(fwd_fetch(&p, c, 3) == 3);
	for (i = 0; i < 3; i++)
		packed_dev_complete(&p.dev, c[i].id, 4096, 1);
	CHECK(vrelay_queue_relay_used(p.q, 1) == 3);
	for (i = 0; i < 3; i++)
		CHECK(packed_drv_get_used(&p.drv, &id, &len) == 1 &&
		      id == 20 + i && len == 4096);
	check_qstate(&p);
	pt_fini(&p);
}

/*
 * Chains the device fetched in direct I/O before the switch (between
 * its used and avail positions) complete through the relay, logged
 * exactly; the flush leaves the relay at the device's positions.
 */
static void
test_seeded_inflight(void)
{
	struct vq_drv_seg s = { T_BUF_GPA, 8192, VRING_DESC_F_WRITE };
	struct vrelay_queue_conf conf;
	struct packed_dev direct;
	struct packed_dev_chain c[3];
	struct ptctx p;
	uint16_t i;

	pt_init(&p, 16, (struct packed_pos){ 14, false });
	for (i = 0; i < 3; i++) {
		s.gpa = T_BUF_GPA + i * 0x10000ULL;
		packed_drv_add(&p.drv, &s, 1, i);
	}
	/* The device runs on the guest's ring and fetches all three. */
	packed_dev_init(&direct, 16, p.drv.desc, p.drv.driver,
			p.drv.device, vq_drv_xlate_flat, &p.t.flat,
			p.drv.used, p.drv.used);
	for (i = 0; i < 3; i++)
		CHECK(packed_dev_fetch(&direct, &c[i]) == 1);
	conf = pt_conf(&p);
	conf.state = (struct vrelay_qstate){ direct.avail.idx,
		direct.used.idx, direct.avail.wrap, direct.used.wrap };
	CHECK(vrelay_device_set_log(p.t.dev, p.t.log, T_LOG_SIZE) == 0);
	pt_create(&p, &conf);
	CHECK(pt_log_count(&p) == 0);
	CHECK(vrelay_queue_relay_avail(p.q, 64) == 0);
	/* Out of order, on the mediated ring now. */
	for (i = 0; i < 3; i++) {
		exp_slot(p.dev.used.idx);
		exp_range(c[2 - i].seg[0].gpa, 5000);
		packed_dev_complete(&p.dev, c[2 - i].id, 5000, 1);
	}
	CHECK(vrelay_queue_flush(p.q) == 3);
	check_log_exact(&p, "seeded");
	check_qstate(&p);
	pt_fini(&p);
}

/*
 * The relay's positions and wrap counters after a flush are the
 * device's, with chains still in flight and across a wrap.
 */
static void
test_qstate(void)
{
	struct vq_drv_seg s = { T_BUF_GPA, 4096, VRING_DESC_F_WRITE };
	struct packed_dev_chain c[5];
	struct ptctx p;
	uint16_t i;

	pt_setup(&p, 16, (struct packed_pos){ 13, true }, false);
	for (i = 0; i < 5; i++)
		packed_drv_add(&p.drv, &s, 1, i);
	fwd_fetch(&p, c, 5);
	packed_dev_complete(&p.dev, c[1].id, 10, 1);
	packed_dev_complete(&p.dev, c[0].id, 10, 1);
	CHECK(vrelay_queue_flush(p.q) == 2);
	check_qstate(&p);
	for (i = 2; i < 5; i++)
		packed_dev_complete(&p.dev, c[i].id, 10, 1);
	CHECK(vrelay_queue_flush(p.q) == 3);
	check_qstate(&p);
	CHECK(p.dev.used.idx == 2 && !p.dev.used.wrap);
	pt_fini(&p);
}

/*
 * log_window_all: every page of guest memory is logged at create, and
 * nothing that is not guest memory (the hole); without it, nothing.
 */
static void
test_window_all(void)
{
	struct vrelay_queue_conf conf;
	struct vrelay_queue_stats st;
	struct ptctx p;

	for (int all = 0; all < 2; all++) {
		pt_init(&p, 64, (struct packed_pos){ 7, true });
		conf = pt_conf(&p);
		conf.log_window_all = all;
		CHECK(vrelay_device_set_log(p.t.dev, p.t.log,
					    T_LOG_SIZE) == 0);
		pt_create(&p, &conf);
		if (all) {
			exp_range(0, T_GAP_START);
			exp_range(T_GAP_END, T_MEM_SIZE - T_GAP_END);
		}
		vrelay_queue_get_stats(p.q, &st);
		CHECK(st.window_log_all == (uint64_t)all);
		check_log_exact(&p, "window");
		pt_fini(&p);
	}
}

/*
 * Chains of more than VRELAY_SLOT_SEGS writable buffers keep them in the
 * queue's overflow pool: completed out of order, each logs the pages of
 * its first len bytes, and ids are reused far past the pool's size (its
 * segments come back at completion, or the budget would run out and
 * chains would log all of memory: not exact).
 */
static void
test_overflow_recycle(void)
{
	static struct vq_drv_seg s[4][16];
	struct packed_dev_chain c[4];
	uint32_t len[4], total, k;
	unsigned int r, i, j, order[4];
	uint16_t id, n[4];
	struct ptctx p;

	pt_setup(&p, 16, (struct packed_pos){ 0, true }, true);
	for (r = 0; r < 300; r++) {
		for (i = 0; i < 4; i++) {
			n[i] = 5 + rnd(12);
			for (total = 0, k = 0; k < n[i]; k++) {
				s[i][k] = (struct vq_drv_seg){
					T_BUF_GPA + i * 0x40000 + k * 0x3000 +
					rnd(0x1000), 1 + rnd(0x1800),
					VRING_DESC_F_WRITE };
				total += s[i][k].len;
			}
			len[i] = rnd(total + 1);
			packed_drv_add_indirect(&p.drv, s[i], n[i], i,
						P_TABLE_GPA + i * 0x400);
			order[i] = i;
		}
		fwd_fetch(&p, c, 4);
		for (i = 3; i > 0; i--) {
			j = rnd(i + 1);
			k = order[i];
			order[i] = order[j];
			order[j] = k;
		}
		for (i = 0; i < 4; i++) {
			j = order[i];
			exp_slot(p.dev.used.idx);
			/* c[] keeps 64 segments: all of these. */
			exp_chain(&c[j], len[j]);
			packed_dev_complete(&p.dev, c[j].id, len[j], 1);
		}
		CHECK(vrelay_queue_relay_used(p.q, 64) == 4);
		check_log_exact(&p, "overflow chains");
		for (i = 0; i < 4; i++)
			CHECK(packed_drv_get_used(&p.drv, &id, &len[0]) == 1);
	}
	pt_fini(&p);
}

/*
 * The device completes id with the first n 16-byte buffers of
 * test_overflow_budget()'s chains (a page each) at ring slot: exactly
 * those pages and the slot are logged.
 */
static void
overflow_complete(struct ptctx *p, uint16_t id, uint32_t n, uint16_t slot)
{
	packed_dev_complete(&p->dev, id, n * 16, 1);
	CHECK(vrelay_queue_relay_used(p->q, 64) == 1);
	exp_slot(slot);
	exp_range(T_BUF_GPA, n * 4096ULL);
	check_log_exact(p, "overflow budget");
}

/*
 * Past the pool's budget (32 * size + VRELAY_MAX_CHAIN_LEN segments in
 * flight), a chain's buffers are not kept and its completion logs all
 * of guest memory; the chains within it stay exact, and the budget is
 * whole again once they complete.
 */
static void
test_overflow_budget(void)
{
	static struct vq_drv_seg s[1000];
	const uint64_t mem_pages = (T_MEM_SIZE - (T_GAP_END - T_GAP_START)) /
		4096;
	struct packed_dev_chain c[2];
	struct ptctx p;
	uint16_t k;

	for (k = 0; k < 1000; k++)
		s[k] = (struct vq_drv_seg){ T_BUF_GPA + k * 4096ULL, 16,
					    VRING_DESC_F_WRITE };
	pt_setup(&p, 16, (struct packed_pos){ 0, true }, true);
	/* 1000 + 1000 > 32 * 16 + 1024: the second is past the budget. */
	packed_drv_add_indirect(&p.drv, s, 1000, 0, P_TABLE_GPA);
	packed_drv_add_indirect(&p.drv, s, 1000, 1, P_TABLE_GPA + 0x4000);
	fwd_fetch(&p, c, 2);
	/* Chain 0 at slot 0: its first 10 buffers, a page each. */
	overflow_complete(&p, 0, 10, 0);
	packed_dev_complete(&p.dev, 1, 1, 1);
	CHECK(vrelay_queue_relay_used(p.q, 64) == 1);
	CHECK(pt_log_count(&p) == mem_pages);
	memset(p.t.log, 0, T_LOG_SIZE);
	/* Both done: a chain of 1000 fits again, logged exactly. */
	packed_drv_add_indirect(&p.drv, s, 1000, 2, P_TABLE_GPA);
	fwd_fetch(&p, c, 1);
	overflow_complete(&p, 2, 2, 2);
	pt_fini(&p);
}

int
main(void)
{
	static const uint16_t sizes[] = { 256, 100 };

	for (int s = 0; s < 2; s++) {
		uint16_t sz = sizes[s];

		test_traffic(sz, (struct packed_pos){ 0, true }, false);
		test_traffic(sz, (struct packed_pos){ 0, true }, true);
		test_traffic(sz, (struct packed_pos){ sz - 3, false }, true);
		test_traffic(sz, (struct packed_pos){ sz / 2, true }, false);
	}
	test_idle_lap();
	test_ids();
	test_straddle();
	test_indirect();
	test_tx_indirect_write();
	test_rx_mergeable();
	test_multibuf_whole();
	test_seeded_inflight();
	test_qstate();
	test_window_all();
	test_overflow_recycle();
	test_overflow_budget();
	printf("test_relay_packed: OK\n");
	return 0;
}
