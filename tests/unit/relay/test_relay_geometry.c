/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Ring geometry is checked with the size and features the queue is
 * created with (issue #11, defect 1): every ring, event word included
 * when EVENT_IDX is on, must lie whole inside one memory region, and the
 * used ring's (device area's) log address inside guest memory. vhost
 * checked the rings only for the size they had when their addresses were
 * translated. Packed rings have their own extent and alignment (#13).
 *
 * Rings are placed against the end of region 1 (GPA 0x200000), which the
 * test maps on into the GPA hole: a write past the region lands in the
 * hole's bytes, which must keep their pattern.
 */

#include "test_common.h"

#define REGION_END	T_GAP_START	/* end of region 1 */
#define HOLE_PATTERN	0x5a

static void
hole_fill(struct tctx *t)
{
	memset(t_hva(t, T_GAP_START), HOLE_PATTERN, T_GAP_END - T_GAP_START);
}

static void
hole_check(struct tctx *t)
{
	const uint8_t *h = t_hva(t, T_GAP_START);

	for (uint64_t i = 0; i < T_GAP_END - T_GAP_START; i++)
		CHECK(h[i] == HOLE_PATTERN);
}

/*
 * A conf of the given size: descriptor table at T_BUF_GPA (4 MiB region,
 * room for 32768 entries), avail and used rings where the test puts them.
 */
static struct vrelay_queue_conf
geo_conf(struct tctx *t, uint16_t size, uint64_t avail_gpa,
	 uint64_t used_gpa, bool event_idx)
{
	struct vrelay_queue_conf c = t_conf(t, 0);

	c.size = size;
	c.desc = t_hva(t, T_BUF_GPA);
	c.driver_area = t_hva(t, avail_gpa);
	c.device_area = t_hva(t, used_gpa);
	c.device_area_gpa = used_gpa;
	c.event_idx = event_idx;
	return c;
}

/* Create must fail with err and touch nothing outside guest memory. */
static void
expect_fail(struct tctx *t, const struct vrelay_queue_conf *c, int err)
{
	struct vrelay_queue *q;

	hole_fill(t);
	errno = 0;
	q = vrelay_queue_create(t->dev, c);
	if (q != NULL)
		vrelay_queue_destroy(q);
	CHECK(q == NULL);
	CHECK(errno == err);
	hole_check(t);
}

static void
expect_ok(struct tctx *t, const struct vrelay_queue_conf *c)
{
	struct vrelay_queue *q;

	hole_fill(t);
	q = vrelay_queue_create(t->dev, c);
	CHECK(q != NULL);
	hole_check(t);
	vrelay_queue_destroy(q);
}

/*
 * The reported sequence: the used ring in the last bytes of a region,
 * fine for size 16, then SET_VRING_NUM 32768. The relay would write
 * used entries (and, with EVENT_IDX, avail_event) 256 KiB past it.
 */
static void
test_used_ring_grown(void)
{
	uint64_t used = REGION_END - vrelay_split_used_len(16, false);
	struct vrelay_queue_conf c;
	struct tctx t;

	t_init(&t, 16);
	c = geo_conf(&t, 16, T_AVAIL_GPA, used, false);
	expect_ok(&t, &c);		/* fits exactly */
	c = geo_conf(&t, 32768, T_AVAIL_GPA, used, false);
	expect_fail(&t, &c, EFAULT);
	c = geo_conf(&t, 32768, T_AVAIL_GPA, used, true);
	expect_fail(&t, &c, EFAULT);
	t_fini(&t);
}

/*
 * EVENT_IDX negotiated after the rings were checked: they fit but for
 * the 2-byte event word after the ring entries.
 */
static void
test_event_word(void)
{
	uint64_t used = REGION_END - vrelay_split_used_len(16, false);
	uint64_t avail = REGION_END - vrelay_split_avail_len(16, false);
	uint64_t avail_ev = REGION_END - vrelay_split_avail_len(16, true);
	struct vrelay_queue_conf c;
	struct tctx t;

	t_init(&t, 16);
	/* Used ring: ring[16] fits, avail_event is the hole's first bytes. */
	c = geo_conf(&t, 16, T_AVAIL_GPA, used, true);
	expect_fail(&t, &c, EFAULT);
	/* Avail ring: likewise for used_event. */
	c = geo_conf(&t, 16, avail, T_USED_GPA, true);
	expect_fail(&t, &c, EFAULT);
	c = geo_conf(&t, 16, avail, T_USED_GPA, false);
	expect_ok(&t, &c);
	/* Event word included and the ring still ends at the region end. */
	c = geo_conf(&t, 16, avail_ev, T_USED_GPA, true);
	expect_ok(&t, &c);
	t_fini(&t);
}

/* The descriptor table, and the used ring's log address. */
static void
test_desc_and_log(void)
{
	struct vrelay_queue_conf c;
	struct tctx t;

	t_init(&t, 256);
	/* 32768 descriptors (512 KiB) from 256 KiB before the region end. */
	c = geo_conf(&t, 32768, T_AVAIL_GPA, T_USED_GPA, false);
	c.desc = t_hva(&t, REGION_END - 0x40000);
	expect_fail(&t, &c, EFAULT);
	c.desc = t_hva(&t, REGION_END - 0x80000);
	expect_ok(&t, &c);
	/* Across two regions adjacent in both GPA and host address: no. */
	c.desc = t_hva(&t, 0x100000 - 0x40000);
	expect_fail(&t, &c, EFAULT);
	/* The used ring's log address in the hole, then straddling out. */
	c = geo_conf(&t, 256, T_AVAIL_GPA, T_USED_GPA, false);
	c.device_area_gpa = T_GAP_START + 0x1000;
	expect_fail(&t, &c, EFAULT);
	c.device_area_gpa = REGION_END - 64;
	expect_fail(&t, &c, EFAULT);
	t_fini(&t);
}

static void
test_bad_size(void)
{
	struct vrelay_queue_conf c;
	struct tctx t;

	t_init(&t, 256);
	c = geo_conf(&t, 0, T_AVAIL_GPA, T_USED_GPA, false);
	expect_fail(&t, &c, EINVAL);
	c = geo_conf(&t, 24, T_AVAIL_GPA, T_USED_GPA, false);
	expect_fail(&t, &c, EINVAL);
	t_fini(&t);
}

/* Rings must be aligned as virtio requires (desc 16, avail 2, used 4). */
static void
test_alignment(void)
{
	struct vrelay_queue_conf c;
	struct tctx t;

	t_init(&t, 256);
	c = geo_conf(&t, 256, T_AVAIL_GPA + 1, T_USED_GPA, false);
	expect_fail(&t, &c, EINVAL);
	c = geo_conf(&t, 256, T_AVAIL_GPA, T_USED_GPA + 2, false);
	expect_fail(&t, &c, EINVAL);
	c = geo_conf(&t, 256, T_AVAIL_GPA, T_USED_GPA, false);
	c.desc = t_hva(&t, T_BUF_GPA + 8);
	expect_fail(&t, &c, EINVAL);
	c = geo_conf(&t, 256, T_AVAIL_GPA + 2, T_USED_GPA + 4, false);
	expect_ok(&t, &c);
	t_fini(&t);
}

/*
 * A packed ring: a descriptor ring of 16 * size bytes and two 4-byte
 * event areas, any size in 1..32768, and the descriptor ring's log
 * address (the relay writes used descriptors there) inside guest memory.
 */
static void
test_packed(void)
{
	const uint64_t dlen = vrelay_packed_desc_len(100);
	struct vrelay_queue_conf c;
	struct tctx t;

	t_init(&t, 256);
	c = geo_conf(&t, 100, T_AVAIL_GPA, T_USED_GPA, true);
	c.format = VRELAY_RING_PACKED;
	c.desc_gpa = T_BUF_GPA;
	expect_ok(&t, &c);	/* not a power of two: fine for packed */
	c.size = 0;
	expect_fail(&t, &c, EINVAL);
	c.size = 100;
	c.driver_area = t_hva(&t, T_AVAIL_GPA + 2);
	expect_fail(&t, &c, EINVAL);	/* event areas are 4-aligned */
	c.driver_area = t_hva(&t, T_AVAIL_GPA);
	/* The descriptor ring's last slot past the region's end. */
	c.desc = t_hva(&t, REGION_END - dlen + 16);
	c.desc_gpa = REGION_END - dlen + 16;
	expect_fail(&t, &c, EFAULT);
	c.desc = t_hva(&t, REGION_END - dlen);
	c.desc_gpa = REGION_END - dlen;
	expect_ok(&t, &c);
	/* Its log address must be guest memory too. */
	c.desc_gpa = T_GAP_START;
	expect_fail(&t, &c, EFAULT);
	c.desc_gpa = REGION_END - dlen;
	c.device_area = t_hva(&t, T_GAP_START);
	expect_fail(&t, &c, EFAULT);	/* an event area in the hole */
	c.format = VRELAY_RING_FORMAT_COUNT;
	expect_fail(&t, &c, EINVAL);
	t_fini(&t);
}

/* vhost's vring base: (wrap << 15) | idx for packed, the index for split. */
static void
test_qstate_base(void)
{
	struct vrelay_qstate s, back;
	uint16_t la, lu;

	vrelay_qstate_from_base(VRELAY_RING_SPLIT, 0x8003, 0xffff, &s);
	CHECK(s.avail_idx == 0x8003 && s.used_idx == 0xffff);
	CHECK(!s.avail_wrap && !s.used_wrap);
	vrelay_qstate_to_base(VRELAY_RING_SPLIT, &s, &la, &lu);
	CHECK(la == 0x8003 && lu == 0xffff);
	vrelay_qstate_from_base(VRELAY_RING_PACKED, 0x8003, 0x0005, &s);
	CHECK(s.avail_idx == 3 && s.avail_wrap);
	CHECK(s.used_idx == 5 && !s.used_wrap);
	vrelay_qstate_to_base(VRELAY_RING_PACKED, &s, &la, &lu);
	CHECK(la == 0x8003 && lu == 0x0005);
	vrelay_qstate_from_base(VRELAY_RING_PACKED, la, lu, &back);
	CHECK(vrelay_qstate_equal(&s, &back));
}

int
main(void)
{
	CHECK(vrelay_split_size_valid(1));
	CHECK(vrelay_split_size_valid(32768));
	CHECK(!vrelay_split_size_valid(0));
	CHECK(!vrelay_split_size_valid(65536));
	CHECK(!vrelay_split_size_valid(48));
	CHECK(vrelay_split_desc_len(256) == 4096);
	CHECK(vrelay_split_avail_len(256, false) == 516);
	CHECK(vrelay_split_avail_len(256, true) == 518);
	CHECK(vrelay_split_used_len(256, false) == 2052);
	CHECK(vrelay_split_used_len(256, true) == 2054);
	test_used_ring_grown();
	test_event_word();
	test_desc_and_log();
	test_bad_size();
	test_alignment();
	test_packed();
	test_qstate_base();
	printf("test_relay_geometry: OK\n");
	return 0;
}
