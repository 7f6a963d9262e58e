/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * vrelay_log_ranges() against a page-by-page reference: bursts of byte
 * ranges in ring order, overlapping, adjacent, repeated, out of order,
 * empty, and reaching past the log, logged into bitmaps at every byte
 * alignment and with sizes that are not a multiple of a word. Every
 * page a range touches must have its bit set (the migration's "no page
 * lost"), and no other bit (its precision); the count returned is the
 * pages set. The one-pass merge and the word-at-a-time bit runs both
 * have edges this walks over: words, edge bytes, an interval that
 * starts before the one it follows.
 */

#include "test_common.h"
#include "vrelay_private.h"

#define NBURST		4000
#define MAXR		64
#define LOG_BYTES	37	/* 296 pages: not a multiple of 8 bytes */
#define PAGES		(LOG_BYTES * 8)

static uint32_t rng = 88172645;

static uint64_t
rnd(uint64_t n)
{
	return t_rnd(&rng, (uint32_t)n);
}

/* A burst shaped as the relay makes them, or not at all. */
static uint32_t
make_burst(struct vrelay_range *r)
{
	uint32_t n = 1 + rnd(MAXR), i;
	uint64_t at = rnd(PAGES + 16) * 4096 + rnd(4096);

	for (i = 0; i < n; i++) {
		switch (rnd(6)) {
		case 0:		/* anywhere, past the log too */
			r[i].gpa = rnd(PAGES + 32) * 4096 + rnd(4096);
			break;
		case 1:		/* right after the last */
		case 2:
			r[i].gpa = at;
			break;
		case 3:		/* inside or before the last */
			r[i].gpa = at > 5000 ? at - rnd(5000) : at;
			break;
		default:	/* a little further on */
			r[i].gpa = at + rnd(3 * 4096);
			break;
		}
		r[i].len = rnd(8) == 0 ? 0 : 1 + rnd(rnd(2) ? 64 : 3 * 4096);
		at = r[i].gpa + r[i].len;
	}
	return n;
}

static void
check_burst(struct vrelay_device *dev, uint8_t *log,
	    const struct vrelay_range *in, uint32_t n)
{
	static struct vrelay_range r[MAXR];
	bool want[PAGES] = { false };
	uint64_t p, set = 0, got;
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (in[i].len == 0)
			continue;
		for (p = in[i].gpa / 4096;
		     p <= (in[i].gpa + in[i].len - 1) / 4096 && p < PAGES; p++)
			want[p] = true;
	}
	for (p = 0; p < PAGES; p++)
		set += want[p];
	memcpy(r, in, n * sizeof(*r));
	memset(log, 0, LOG_BYTES);
	got = vrelay_log_ranges(dev, r, n);
	for (p = 0; p < PAGES; p++)
		CHECK(t_log_bit(log, p) == want[p]);
	CHECK(got == set);
}

static void
test_random(void)
{
	static uint8_t buf[LOG_BYTES + 16];
	struct vrelay_range r[MAXR];
	struct tctx t;
	unsigned int k, off;
	uint32_t n;

	t_init(&t, 16);
	for (off = 0; off < 8; off++) {
		CHECK(vrelay_device_set_log(t.dev, buf + off, LOG_BYTES) == 0);
		for (k = 0; k < NBURST; k++) {
			n = make_burst(r);
			check_burst(t.dev, buf + off, r, n);
		}
	}
	t_fini(&t);
}

/* The shapes the merge must get right, spelled out. */
static void
test_cases(void)
{
	static uint8_t buf[LOG_BYTES + 16];
	static const struct vrelay_range cases[][4] = {
		/* one run over a whole word and into the next */
		{ { 0, 70 * 4096 } },
		/* adjacent pages: one interval */
		{ { 4096, 4096 }, { 8192, 1 }, { 8193, 100 } },
		/* the second starts before the first: the sort */
		{ { 10 * 4096, 10 }, { 2 * 4096, 10 }, { 10 * 4096 + 5, 1 } },
		/* merged, then one before the merged interval's start */
		{ { 5 * 4096, 4096 }, { 6 * 4096, 4096 }, { 4 * 4096, 1 } },
		/* contained, then past the log */
		{ { 0, 3 * 4096 }, { 4096, 1 }, { (PAGES - 1) * 4096, 9000 } },
		/* empty ranges between */
		{ { 4096, 0 }, { 64 * 4096, 1 }, { 0, 0 }, { 63 * 4096, 1 } },
	};
	struct tctx t;
	unsigned int i, off;

	t_init(&t, 16);
	for (off = 0; off < 8; off++) {
		CHECK(vrelay_device_set_log(t.dev, buf + off, LOG_BYTES) == 0);
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			check_burst(t.dev, buf + off, cases[i], 4);
	}
	t_fini(&t);
}

int
main(void)
{
	test_cases();
	test_random();
	printf("test_relay_logranges: OK\n");
	return 0;
}
