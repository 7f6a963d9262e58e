/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Used relay logging: exactly the pages the device wrote (first `len`
 * bytes of the writable buffers) plus the used ring page; unaligned and
 * odd-sized logs; pages beyond the log; guest interrupt suppression.
 */

#include "test_common.h"

#define SZ 256
#define NPAGES (T_MEM_SIZE / 4096)

/* Reference: mark the pages of the first len bytes of the buffers. */
static void
expect_pages(bool *exp, const uint64_t *addr, const uint32_t *blen,
	     int n, uint32_t len)
{
	for (int i = 0; i < n && len; i++) {
		uint32_t k = blen[i] < len ? blen[i] : len;

		for (uint64_t b = addr[i]; b < addr[i] + k; b++)
			exp[b / 4096] = true;
		len -= k;
	}
}

static void
check_log(const uint8_t *log, const bool *exp, uint64_t npages)
{
	for (uint64_t p = 0; p < npages; p++) {
		if (t_log_bit(log, p) != exp[p])
			fprintf(stderr, "page %#lx: log %d expected %d\n",
				(unsigned long)p, t_log_bit(log, p), exp[p]);
		CHECK(t_log_bit(log, p) == exp[p]);
	}
}

/*
 * One packet of pkt bytes into a 3-buffer chain of bufsz-byte buffers
 * (readable header first, buffers scattered, misaligned by 0x800).
 */
static void
one_case(uint32_t pkt, uint32_t bufsz, int log_misalign, bool indirect)
{
	static bool exp[NPAGES];
	const struct vrelay_mring_info *m;
	struct vrelay_queue_conf c;
	struct vrelay_queue_stats st;
	struct vrelay_queue *q;
	struct vq_drv_seg seg[4] = { { 0x50000, 12, 0 } };
	uint64_t addr[3];
	uint32_t blen[3];
	uint8_t *raw, *log;
	struct tctx t;
	uint64_t npages = 0;
	int i;

	t_init(&t, SZ);
	c = t_conf(&t, 100);
	q = vrelay_queue_create(t.dev, &c);
	CHECK(q != NULL);
	m = vrelay_queue_mring(q);
	/* Log at an odd address, size not a multiple of 8, guard after. */
	raw = calloc(1, T_LOG_SIZE + 16);
	log = raw + log_misalign;
	CHECK(vrelay_device_set_log(t.dev, log, T_LOG_SIZE - (log_misalign ?
					3 : 0)) == 0);

	for (i = 0; i < 3; i++) {
		addr[i] = T_BUF_GPA + 0x800 + (uint64_t)i * 0x40000;
		blen[i] = bufsz;
		seg[i + 1] = (struct vq_drv_seg){ addr[i], bufsz,
						     VRING_DESC_F_WRITE };
	}
	if (indirect) {
		split_drv_write_chain(t_hva(&t, 0x30000), 4, 0, seg, 4);
		t.desc[5] = (struct vring_desc){ 0x30000, 4 * 16,
			VRING_DESC_F_INDIRECT, 0 };
		t_publish(&t, 5);
	} else {
		split_drv_write_chain(t.desc, t.size, 0, seg, 4);
		t_publish(&t, 0);
	}
	CHECK(vrelay_queue_relay_avail(q, 64) == 1);
	CHECK(t_device_run(&t, m, pkt, 64) == 1);
	CHECK(vrelay_queue_relay_used(q, 64) == 1);
	CHECK(t.used->idx == 101);
	CHECK(t.used->ring[100 % SZ].len == pkt);

	memset(exp, 0, sizeof(exp));
	expect_pages(exp, addr, blen, 3, pkt);
	exp[T_USED_GPA / 4096] = true;
	for (i = 0; i < (int)NPAGES; i++)
		npages += exp[i];
	check_log(log, exp, (T_LOG_SIZE - (log_misalign ? 3 : 0)) * 8);
	vrelay_queue_get_stats(q, &st);
	CHECK(st.pages_logged == npages);
	CHECK(st.log_bursts == 1);
	/* Nothing written around the log. */
	for (i = 0; i < log_misalign; i++)
		CHECK(raw[i] == 0);
	for (i = T_LOG_SIZE - (log_misalign ? 3 : 0);
	     i < (int)T_LOG_SIZE + 16 - log_misalign; i++)
		CHECK(log[i] == 0);
	/* The guest asked not to be interrupted? It was, it did not ask. */
	CHECK(t_rd_eventfd(t.call_fd) == 1);
	vrelay_queue_destroy(q);
	t_fini(&t);
	free(raw);
}

/* Pages past a short log are skipped, nothing written out of bounds. */
static void
test_beyond_log(void)
{
	const struct vrelay_mring_info *m;
	struct vrelay_queue_conf c;
	struct vrelay_queue *q;
	struct tctx t;
	uint8_t *log = calloc(1, 256);

	t_init(&t, SZ);
	c = t_conf(&t, 0);
	q = vrelay_queue_create(t.dev, &c);
	m = vrelay_queue_mring(q);
	/* 4 MiB covered: buffers at 6 MiB are past it. */
	CHECK(vrelay_device_set_log(t.dev, log, 128) == 0);
	t_add_rx(&t, 0, 0x600000, 9000);
	t.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	CHECK(vrelay_queue_relay_avail(q, 64) == 1);
	CHECK(t_device_run(&t, m, 9000, 64) == 1);
	CHECK(vrelay_queue_relay_used(q, 64) == 1);
	CHECK(t_log_bit(log, T_USED_GPA / 4096));
	for (int i = 128; i < 256; i++)
		CHECK(log[i] == 0);
	CHECK(t_rd_eventfd(t.call_fd) == 0);	/* suppressed */
	vrelay_queue_destroy(q);
	t_fini(&t);
	free(log);
}

/* Entries the device completed in direct I/O after logging began. */
static void
test_inflight_window(void)
{
	struct vrelay_queue_conf c;
	struct vrelay_queue_stats st;
	struct vrelay_queue *q;
	struct tctx t;
	int i;

	t_init(&t, SZ);
	c = t_conf(&t, 0);
	for (i = 0; i < 6; i++) {
		t_add_rx(&t, i, T_BUF_GPA + i * 0x10000, 0x10000);
		t.used->ring[i].id = i;
		t.used->ring[i].len = 64;
	}
	t.used->idx = 6;
	c.state.avail_idx = 6;
	c.state.used_idx = 6;
	c.log_from_used_idx = 3;
	CHECK(vrelay_device_set_log(t.dev, t.log, T_LOG_SIZE) == 0);
	q = vrelay_queue_create(t.dev, &c);
	CHECK(q != NULL);
	for (i = 0; i < 6; i++)
		CHECK(t_log_bit(t.log, (T_BUF_GPA + i * 0x10000) / 4096) ==
		      (i >= 3));
	CHECK(!t_log_bit(t.log, (T_BUF_GPA + 5 * 0x10000) / 4096 + 1));
	CHECK(t_log_bit(t.log, T_USED_GPA / 4096));
	vrelay_queue_get_stats(q, &st);
	CHECK(st.inflight_logged == 3);
	vrelay_queue_destroy(q);
	t_fini(&t);
}

int
main(void)
{
	static const uint32_t pkts[] = { 64, 1500, 9000 };
	static const uint32_t bufs[] = { 4096, 65536 };

	for (int p = 0; p < 3; p++)
		for (int b = 0; b < 2; b++)
			for (int mis = 0; mis < 2; mis++) {
				one_case(pkts[p], bufs[b], mis ? 3 : 0, false);
				one_case(pkts[p], bufs[b], mis ? 5 : 0, true);
			}
	test_beyond_log();
	test_inflight_window();
	printf("test_relay_used: OK\n");
	return 0;
}
