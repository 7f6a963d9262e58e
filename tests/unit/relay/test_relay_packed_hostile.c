/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Hostile packed rings: every broken rule breaks the queue (-EIO, state
 * BROKEN, counted once), nothing of the offending chain reaches the
 * device or of the offending completion the guest, nothing is logged,
 * and memory outside guest memory (the hole, filled with a canary) is
 * never written. Guest side: ids, chain lengths, descriptors in flight,
 * buffers and indirect tables; device side: used ids and lens.
 */

#include "test_packed.h"

#define CANARY	0x5a

static struct vq_drv_seg wbuf = { T_BUF_GPA, 4096, VRING_DESC_F_WRITE };
static struct vq_drv_seg rbuf = { T_BUF_GPA, 64, 0 };

static void
mkq(struct ptctx *p, uint16_t size, bool indirect)
{
	struct vrelay_queue_conf c;

	pt_init(p, size, (struct packed_pos){ 0, true });
	memset(p->t.mem + T_GAP_START, CANARY, T_GAP_END - T_GAP_START);
	c = pt_conf(p);
	c.indirect = indirect;
	CHECK(vrelay_device_set_log(p->t.dev, p->t.log, T_LOG_SIZE) == 0);
	pt_create(p, &c);
}

static void
check_clean(struct ptctx *p)
{
	struct vrelay_queue_stats st;

	CHECK(vrelay_queue_state(p->q) == VRELAY_QUEUE_BROKEN);
	vrelay_queue_get_stats(p->q, &st);
	CHECK(st.broken == 1);
	CHECK(vrelay_queue_relay_avail(p->q, 64) == -EIO);
	CHECK(vrelay_queue_relay_used(p->q, 64) == -EIO);
	CHECK(pt_log_count(p) == 0);
	for (uint64_t a = T_GAP_START; a < T_GAP_END; a++)
		CHECK(p->t.mem[a] == CANARY);
	pt_fini(p);
}

/*
 * The guest's next chain breaks the queue: the device finds the good
 * chains forwarded before it, and nothing more.
 */
static void
expect_avail_broken(struct ptctx *p, const char *what, unsigned int good)
{
	struct packed_dev_chain c;

	fprintf(stderr, "hostile: %s\n", what);
	CHECK(vrelay_queue_relay_avail(p->q, 64) == -EIO);
	while (good-- > 0)
		CHECK(packed_dev_fetch(&p->dev, &c) == 1);
	CHECK(packed_dev_fetch(&p->dev, &c) == 0);
	check_clean(p);
}

/* One chain of n segments of the given flags at the next slot. */
static void
hostile_chain(const char *what, bool indirect, const struct vq_drv_seg *s,
	      unsigned int n, uint16_t id)
{
	struct ptctx p;

	mkq(&p, 16, indirect);
	packed_drv_add(&p.drv, s, n, id);
	expect_avail_broken(&p, what, 0);
}

static void
hostile_table(const char *what, bool indirect, const struct vq_drv_seg *s,
	      unsigned int n, uint32_t len)
{
	struct ptctx p;

	mkq(&p, 16, indirect);
	packed_drv_add_indirect(&p.drv, s, n, 0, P_TABLE_GPA);
	p.drv.desc[0].len = len;
	expect_avail_broken(&p, what, 0);
}

static void
test_ids(void)
{
	struct ptctx p;

	hostile_chain("id >= size", true, &wbuf, 1, 16);
	mkq(&p, 16, true);
	packed_drv_add(&p.drv, &wbuf, 1, 3);
	packed_drv_add(&p.drv, &wbuf, 1, 3);
	CHECK(vrelay_queue_relay_avail(p.q, 1) == 1);
	expect_avail_broken(&p, "id in flight twice", 1);
}

static void
test_lengths(void)
{
	static struct vq_drv_seg s[1025];
	struct ptctx p;
	uint16_t i;

	/* Every slot NEXT: the chain never ends within the ring. */
	mkq(&p, 16, true);
	for (i = 0; i < 16; i++)
		s[i] = wbuf;
	packed_drv_add(&p.drv, s, 16, 0);
	p.drv.desc[15].flags |= VRING_DESC_F_NEXT;
	expect_avail_broken(&p, "chain longer than the ring", 0);

	/* A whole ring in flight, then one more descriptor. */
	mkq(&p, 16, true);
	for (i = 0; i < 4; i++)
		packed_drv_add(&p.drv, s, 4, i);
	CHECK(vrelay_queue_relay_avail(p.q, 64) == 4);
	packed_drv_add(&p.drv, s, 1, 9);
	expect_avail_broken(&p, "more descriptors in flight than the ring",
			    4);

	/* 1025 descriptors in a ring of 2048: past VRELAY_MAX_CHAIN_LEN. */
	for (i = 0; i < 1025; i++)
		s[i] = (struct vq_drv_seg){ T_BUF_GPA + i * 16ULL, 16, 0 };
	mkq(&p, 2048, true);
	packed_drv_add(&p.drv, s, 1025, 0);
	expect_avail_broken(&p, "chain of 1025 descriptors", 0);
}

static void
test_buffers(void)
{
	static const uint64_t bad[][2] = {
		{ 0x300000, 64 },			/* in the hole */
		{ T_GAP_START - 0x800, 0x1000 },	/* into the hole */
		{ T_MEM_SIZE - 0x800, 0x1000 },		/* past the end */
		{ UINT64_MAX - 0x7ff, 0x1000 },		/* wrapping */
	};
	struct vq_drv_seg s[2] = { { T_BUF_GPA, 12, 0 } };

	for (unsigned int i = 0; i < 4; i++) {
		s[1] = (struct vq_drv_seg){ bad[i][0], bad[i][1],
					    VRING_DESC_F_WRITE };
		hostile_chain("buffer outside guest memory", true, s, 2, 1);
		/* One descriptor: the fast path's own check. */
		hostile_chain("one-buffer chain outside guest memory", true,
			      &s[1], 1, 1);
		s[1].flags = 0;
		hostile_chain("one readable buffer outside guest memory",
			      true, &s[1], 1, 1);
		hostile_table("indirect buffer outside guest memory", true,
			      s, 2, 32);
	}
	s[0] = wbuf;
	s[1] = (struct vq_drv_seg){ T_BUF_GPA, 12, 0 };
	hostile_chain("readable after writable", true, s, 2, 0);
	hostile_table("readable after writable, indirect", true, s, 2, 32);
}

static void
test_indirect(void)
{
	struct vq_drv_seg s[2] = { wbuf, wbuf };
	struct vq_drv_seg ind = { P_TABLE_GPA, 32, VRING_DESC_F_INDIRECT };
	struct ptctx p;

	hostile_table("indirect without the feature", false, s, 2, 32);
	s[1] = (struct vq_drv_seg){ P_TABLE_GPA + 0x1000, 16,
				    VRING_DESC_F_INDIRECT };
	hostile_table("nested indirect", true, s, 2, 32);
	s[1] = wbuf;
	hostile_table("indirect len 0", true, s, 2, 0);
	hostile_table("indirect len not a multiple of 16", true, s, 2, 24);
	hostile_table("indirect table of 1025 entries", true, s, 2,
		      1025 * 16);
	mkq(&p, 16, true);
	packed_drv_add_indirect(&p.drv, s, 2, 0, P_TABLE_GPA);
	p.drv.desc[0].addr = T_GAP_START - 16;
	expect_avail_broken(&p, "indirect table across the hole", 0);
	s[0] = ind;
	hostile_chain("INDIRECT|NEXT", true, s, 2, 0);
}

/*
 * A used descriptor for the chain s[0..n) (id 4) the relay must refuse:
 * nothing reaches the guest.
 */
static void
hostile_used_chain(const char *what, const struct vq_drv_seg *s,
		   unsigned int n, uint16_t id, uint32_t len)
{
	struct vring_packed_desc before;
	struct packed_dev_chain c;
	struct ptctx p;

	fprintf(stderr, "hostile device: %s\n", what);
	mkq(&p, 16, true);
	packed_drv_add(&p.drv, s, n, 4);
	CHECK(vrelay_queue_relay_avail(p.q, 64) == 1);
	CHECK(packed_dev_fetch(&p.dev, &c) == 1);
	memcpy(&before, &p.drv.desc[0], sizeof(before));
	packed_dev_complete(&p.dev, id, len, n);
	CHECK(vrelay_queue_relay_used(p.q, 64) == -EIO);
	CHECK(memcmp(&before, &p.drv.desc[0], sizeof(before)) == 0);
	check_clean(&p);
}

/* The same for a chain of a readable and a writable buffer. */
static void
hostile_used(const char *what, uint16_t id, uint32_t len)
{
	const struct vq_drv_seg s[2] = { { T_BUF_GPA, 12, 0 }, wbuf };

	hostile_used_chain(what, s, 2, id, len);
}

static void
test_device(void)
{
	struct packed_dev_chain c;
	struct ptctx p;

	hostile_used("used id not in flight", 5, 0);
	hostile_used("used id >= size", 16 + 4, 0);
	hostile_used("len > writable length", 4, 4097);
	/* Chains of one descriptor (the fast paths): the same rules. */
	hostile_used_chain("one buffer: len > its length", &wbuf, 1, 4, 4097);
	hostile_used_chain("one buffer: id not in flight", &wbuf, 1, 5, 1);
	hostile_used_chain("one readable buffer: len 1", &rbuf, 1, 4, 1);
	/* A second completion of an id already completed. */
	mkq(&p, 16, true);
	packed_drv_add(&p.drv, &wbuf, 1, 4);
	CHECK(vrelay_queue_relay_avail(p.q, 64) == 1);
	CHECK(packed_dev_fetch(&p.dev, &c) == 1);
	packed_dev_complete(&p.dev, 4, 1, 1);
	packed_dev_complete(&p.dev, 4, 1, 1);
	CHECK(vrelay_queue_relay_used(p.q, 64) == -EIO);
	CHECK(vrelay_queue_state(p.q) == VRELAY_QUEUE_BROKEN);
	pt_fini(&p);
}

int
main(void)
{
	test_ids();
	test_lengths();
	test_buffers();
	test_indirect();
	test_device();
	printf("test_relay_packed_hostile: OK\n");
	return 0;
}
