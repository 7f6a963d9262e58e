/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * A hostile burst must not stall the shared engine (issue #11, defect 4):
 * RX chains of ~1000 one-byte writable segments at descending addresses
 * (too many to record per slot, so the used side walks them again) give
 * the burst's page sort its worst order. The sort's bound is proved by
 * counting comparisons, and the burst still logs exactly the pages the
 * device wrote.
 */

#include "test_common.h"
#include "vrelay_private.h"

#define SZ		256
#define NSEG		1000	/* segments a chain: > VRELAY_SLOT_SEGS */
#define TABLE_GPA	0x20000ULL	/* the shared indirect table */
#define NPAGES		(T_MEM_SIZE / 4096)

/* Segment k of every chain: one byte, pages descending. */
static uint64_t
seg_gpa(uint32_t k)
{
	return T_BUF_GPA + (uint64_t)(NSEG - 1 - k) * 4096 + 1;
}

/* ceil(log2(n)), n >= 1 */
static uint32_t
log2_ceil(uint64_t n)
{
	uint32_t l = 0;

	while ((1ULL << l) < n)
		l++;
	return l;
}

/* A queue of SZ entries on a device logging into t->log. */
static struct vrelay_queue *
sort_queue(struct tctx *t)
{
	struct vrelay_queue *q = t_queue(t, SZ);

	CHECK(vrelay_device_set_log(t->dev, t->log, T_LOG_SIZE) == 0);
	return q;
}

static void
test_descending_segments(void)
{
	const struct vrelay_mring_info *m;
	struct vrelay_queue *q;
	static struct vq_drv_seg seg[NSEG];
	uint64_t before, cmps, nranges, bound;
	static bool exp[NPAGES];
	struct tctx t;
	uint32_t k;

	q = sort_queue(&t);
	m = vrelay_queue_mring(q);

	/* Every chain is an indirect descriptor to the same table. */
	for (k = 0; k < NSEG; k++)
		seg[k] = (struct vq_drv_seg){ seg_gpa(k), 1,
						 VRING_DESC_F_WRITE };
	split_drv_write_chain(t_hva(&t, TABLE_GPA), NSEG, 0, seg, NSEG);
	for (k = 0; k < SZ; k++) {
		t.desc[k] = (struct vring_desc){ TABLE_GPA,
			NSEG * sizeof(struct vring_desc),
			VRING_DESC_F_INDIRECT, 0 };
		t_publish(&t, k);
	}
	CHECK(vrelay_queue_relay_avail(q, SZ) == SZ);
	CHECK(t_device_run(&t, m, NSEG, SZ) == SZ);

	before = vrelay_log_sort_compares;
	CHECK(vrelay_queue_relay_used(q, SZ) == SZ);
	cmps = vrelay_log_sort_compares - before;
	CHECK(t.used->idx == SZ);
	CHECK(t.used->ring[SZ - 1].len == NSEG);

	/*
	 * Ranges sorted: every segment of every chain, plus at most three
	 * used ring ranges a burst (at most one burst an entry). Each sort
	 * of n <= VRELAY_RANGES_CAP ranges may compare
	 * (n - 1) + 2n + 2n * log2(n) <= 4n * ceil(log2(CAP)) times.
	 */
	nranges = (uint64_t)SZ * NSEG + 3 * SZ;
	bound = 4 * nranges * log2_ceil(2 * VRELAY_MAX_CHAIN_LEN + 8);
	fprintf(stderr, "sort: %" PRIu64 " comparisons for %" PRIu64
		" ranges, bound %" PRIu64 "\n", cmps, nranges, bound);
	CHECK(cmps <= bound);

	/* Exactly the pages written: one a segment, and the used ring's. */
	memset(exp, 0, sizeof(exp));
	for (k = 0; k < NSEG; k++)
		exp[seg_gpa(k) / 4096] = true;
	exp[T_USED_GPA / 4096] = true;
	for (uint64_t p = 0; p < NPAGES; p++)
		CHECK(t_log_bit(t.log, p) == exp[p]);

	vrelay_queue_destroy(q);
	t_fini(&t);
}

/* Ordinary input stays on the linear path: one pass, n - 1 compares. */
static void
test_sorted_is_linear(void)
{
	const struct vrelay_mring_info *m;
	struct vrelay_queue *q;
	uint64_t before, cmps;
	struct tctx t;
	uint16_t i;

	q = sort_queue(&t);
	m = vrelay_queue_mring(q);
	for (i = 0; i < 32; i++)
		t_add_rx(&t, i, T_BUF_GPA + i * 0x1000, 0x1000);
	CHECK(vrelay_queue_relay_avail(q, SZ) == 32);
	CHECK(t_device_run(&t, m, 0x1000, SZ) == 32);
	before = vrelay_log_sort_compares;
	CHECK(vrelay_queue_relay_used(q, SZ) == 32);
	cmps = vrelay_log_sort_compares - before;
	/* 32 buffer ranges, then 2 used ring ranges (entries and idx). */
	CHECK(cmps == 31 + 1);
	for (i = 0; i < 32; i++)
		CHECK(t_log_bit(t.log, T_BUF_GPA / 4096 + i));
	CHECK(!t_log_bit(t.log, T_BUF_GPA / 4096 + 32));
	vrelay_queue_destroy(q);
	t_fini(&t);
}

int
main(void)
{
	test_descending_segments();
	test_sorted_is_linear();
	printf("test_relay_logsort: OK\n");
	return 0;
}
