/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The in-flight window (used entries the device wrote in direct I/O
 * after logging began) is read from guest-writable memory (issue #11,
 * defect 5). Its walk must be bounded by VRELAY_WINDOW_DESC_BUDGET
 * descriptors, and a window that cannot be attributed (forged entries,
 * looping chains, budget spent, longer than the ring) must log every
 * guest page, with one warning line, never lose one. A genuine window
 * still logs exactly the pages written.
 */

#include <rte_log.h>

#include "test_common.h"
#include "vrelay_private.h"

#define SZ		256
#define TABLE_GPA	0x20000ULL	/* a shared indirect table */
#define NPAGES		(T_MEM_SIZE / 4096)

static FILE *logf;

/* Capture the library's log lines, to count the window's warnings. */
static void
log_capture(void)
{
	logf = tmpfile();
	CHECK(logf != NULL);
	CHECK(rte_openlog_stream(logf) == 0);
}

static unsigned int
log_count(const char *what)
{
	char line[512];
	unsigned int n = 0;

	fflush(logf);
	rewind(logf);
	while (fgets(line, sizeof(line), logf) != NULL)
		if (strstr(line, what) != NULL)
			n++;
	rte_openlog_stream(NULL);
	fclose(logf);
	return n;
}

static bool
page_is_guest(const struct tctx *t, uint64_t page)
{
	return vrelay_mem_contains(&t->mt, page * 4096, 4096);
}

/*
 * A window [0, SZ) of entries already in t's used ring (the test wrote
 * them); the device's indices are at SZ, nothing in flight.
 */
static struct vrelay_queue *
window_create(struct tctx *t, uint16_t from)
{
	struct vrelay_queue_conf c = t_conf(t, SZ);
	struct vrelay_queue *q;

	c.log_from_used_idx = from;
	CHECK(vrelay_device_set_log(t->dev, t->log, T_LOG_SIZE) == 0);
	q = vrelay_queue_create(t->dev, &c);
	CHECK(q != NULL);
	return q;
}

/* The window was logged as all of guest memory, once, within budget. */
static void
expect_log_all(struct tctx *t, struct vrelay_queue *q)
{
	struct vrelay_queue_stats st;

	CHECK(log_count("in-flight") == 1);
	vrelay_queue_get_stats(q, &st);
	CHECK(st.window_log_all == 1);
	for (uint64_t p = 0; p < NPAGES; p++)
		CHECK(t_log_bit(t->log, p) == page_is_guest(t, p));
	fprintf(stderr, "window: %u descriptors visited, budget %u\n",
		q->window_descs, VRELAY_WINDOW_DESC_BUDGET(SZ));
	CHECK(q->window_descs <= VRELAY_WINDOW_DESC_BUDGET(SZ));
}

/*
 * Genuine entries whose chains are as long as allowed: an indirect
 * descriptor and a table of 1023 one-byte buffers, 1024 descriptors.
 * Walking them all is SZ * 1024 descriptor reads; the budget stops it.
 */
#define LONG_TABLE (VRELAY_MAX_CHAIN_LEN - 1)

static void
test_budget(void)
{
	static struct vq_drv_seg seg[LONG_TABLE];
	struct vrelay_queue *q;
	struct tctx t;
	uint32_t k;

	t_init(&t, SZ);
	for (k = 0; k < LONG_TABLE; k++)
		seg[k] = (struct vq_drv_seg){ T_BUF_GPA + k * 4096ULL, 1,
						 VRING_DESC_F_WRITE };
	split_drv_write_chain(t_hva(&t, TABLE_GPA), LONG_TABLE, 0, seg,
			      LONG_TABLE);
	for (k = 0; k < SZ; k++) {
		t.desc[k] = (struct vring_desc){ TABLE_GPA,
			LONG_TABLE * sizeof(struct vring_desc),
			VRING_DESC_F_INDIRECT, 0 };
		t.used->ring[k].id = k;
		t.used->ring[k].len = LONG_TABLE;
	}
	log_capture();
	q = window_create(&t, 0);
	expect_log_all(&t, q);
	/* Two whole chains fit the budget, the third finds it spent. */
	CHECK(q->window_descs == VRELAY_WINDOW_DESC_BUDGET(SZ));
	vrelay_queue_destroy(q);
	t_fini(&t);
}

/* How a full window of one-buffer chains is spoilt. */
enum forge {
	FORGE_LOOP,		/* each descriptor its own next */
	FORGE_IDS_LENS,		/* ids out of range, lens beyond the chains */
	FORGE_TOO_LONG,		/* more entries than the ring holds */
};

static void
test_forged(enum forge how)
{
	struct vrelay_queue *q;
	uint16_t from = 0;
	struct tctx t;
	uint32_t k;

	t_init(&t, SZ);
	for (k = 0; k < SZ; k++) {
		t.desc[k] = (struct vring_desc){ T_BUF_GPA + k * 4096ULL, 64,
			VRING_DESC_F_WRITE, 0 };
		t.used->ring[k].id = k;
		t.used->ring[k].len = 64;
		if (how == FORGE_LOOP) {
			t.desc[k].flags |= VRING_DESC_F_NEXT;
			t.desc[k].next = k;
		} else if (how == FORGE_IDS_LENS) {
			t.used->ring[k].id = (k & 1) ? 0xffff : k;
			t.used->ring[k].len = 1u << 20;
		}
	}
	/* The oldest entries of a window longer than the ring are gone. */
	if (how == FORGE_TOO_LONG)
		from = (uint16_t)(SZ - 3 * SZ);
	log_capture();
	q = window_create(&t, from);
	expect_log_all(&t, q);
	vrelay_queue_destroy(q);
	t_fini(&t);
}

/*
 * A genuine full window of four-descriptor chains (readable header,
 * three writable buffers): exactly the first len bytes are logged, no
 * warning, and the walk fits the budget.
 */
static void
test_genuine(void)
{
	static bool exp[NPAGES];
	struct vrelay_queue_stats st;
	struct vrelay_queue *q;
	struct vq_drv_seg seg[4];
	struct tctx t;
	uint32_t k, i;

	t_init(&t, SZ);
	memset(exp, 0, sizeof(exp));
	for (k = 0; k < SZ; k++) {
		/* Each chain an indirect table of 4 at TABLE_GPA + 64 * k. */
		uint64_t tgpa = TABLE_GPA + 64ULL * k;
		uint64_t buf = T_BUF_GPA + k * 0x3000ULL + 0x800;
		uint32_t len = 0x1000 + k;	/* into the second buffer */

		seg[0] = (struct vq_drv_seg){ 0x50000, 12, 0 };
		for (i = 0; i < 3; i++)
			seg[i + 1] = (struct vq_drv_seg){ buf + i * 0x1000,
				0x1000, VRING_DESC_F_WRITE };
		split_drv_write_chain(t_hva(&t, tgpa), 4, 0, seg, 4);
		t.desc[k] = (struct vring_desc){ tgpa, 64,
			VRING_DESC_F_INDIRECT, 0 };
		t.used->ring[k].id = k;
		t.used->ring[k].len = len;
		for (uint64_t b = buf; b < buf + len; b += 0x100)
			exp[b / 4096] = true;
		exp[(buf + len - 1) / 4096] = true;
	}
	exp[T_USED_GPA / 4096] = true;
	log_capture();
	q = window_create(&t, 0);
	CHECK(log_count("in-flight") == 0);
	vrelay_queue_get_stats(q, &st);
	CHECK(st.window_log_all == 0);
	CHECK(st.inflight_logged == SZ);
	for (uint64_t p = 0; p < NPAGES; p++)
		CHECK(t_log_bit(t.log, p) == exp[p]);
	/* An indirect descriptor and its four entries a chain. */
	CHECK(q->window_descs == 5 * SZ);
	CHECK(q->window_descs <= VRELAY_WINDOW_DESC_BUDGET(SZ));
	vrelay_queue_destroy(q);
	t_fini(&t);
}

int
main(void)
{
	test_budget();
	test_forged(FORGE_LOOP);
	test_forged(FORGE_IDS_LENS);
	test_forged(FORGE_TOO_LONG);
	test_genuine();
	printf("test_relay_window: OK\n");
	return 0;
}
