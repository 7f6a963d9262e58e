/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Avail relay: index preservation across wrap, doorbell suppression,
 * hostile chains (each must break the queue, cleanly), and bogus used
 * entries from the device.
 */

#include "test_common.h"

#define SZ 256

static struct vrelay_queue *
mkq(struct tctx *t, uint16_t start, bool indirect, bool event_idx)
{
	struct vrelay_queue_conf c;
	struct vrelay_queue *q;

	t_init(t, SZ);
	c = t_conf(t, start);
	c.indirect = indirect;
	c.event_idx = event_idx;
	q = vrelay_queue_create(t->dev, &c);
	CHECK(q != NULL);
	CHECK(vrelay_queue_state(q) == VRELAY_QUEUE_IDLE);
	return q;
}

static void
done(struct tctx *t, struct vrelay_queue *q)
{
	vrelay_queue_destroy(q);
	t_fini(t);
}

static void
expect_broken(struct tctx *t, struct vrelay_queue *q, const char *what)
{
	struct vrelay_queue_stats st;

	fprintf(stderr, "hostile: %s\n", what);
	CHECK(vrelay_queue_relay_avail(q, 64) == -EIO);
	CHECK(vrelay_queue_state(q) == VRELAY_QUEUE_BROKEN);
	vrelay_queue_get_stats(q, &st);
	CHECK(st.broken == 1);
	CHECK(vrelay_queue_relay_avail(q, 64) == -EIO);
	CHECK(vrelay_queue_relay_used(q, 64) == -EIO);
	done(t, q);
}

static void
test_forward_indices(void)
{
	const struct vrelay_mring_info *m;
	struct vring_avail *ma;
	struct vrelay_queue *q;
	struct tctx t;
	uint16_t start = 65530, i;

	q = mkq(&t, start, true, false);
	m = vrelay_queue_mring(q);
	ma = m->driver_area;
	CHECK(ma->idx == start);
	for (i = 0; i < 20; i++)
		t_add_rx(&t, (i * 7) % SZ, T_BUF_GPA + i * 4096, 4096);
	CHECK(vrelay_queue_relay_avail(q, 7) == 7);
	CHECK(ma->idx == (uint16_t)(start + 7));
	CHECK(t_rd_eventfd(t.doorbell_fd) == 1);	/* device wants kicks */
	/* The device asks for no notifications: no doorbell. */
	((struct vring_used *)m->device_area)->flags = VRING_USED_F_NO_NOTIFY;
	CHECK(vrelay_queue_relay_avail(q, 100) == 13);
	CHECK(t_rd_eventfd(t.doorbell_fd) == 0);
	CHECK(ma->idx == t.avail->idx);
	for (i = 0; i < 20; i++) {
		uint16_t idx = start + i;

		CHECK(ma->ring[idx % SZ] == t.avail->ring[idx % SZ]);
	}
	CHECK(vrelay_queue_relay_avail(q, 100) == 0);
	done(&t, q);
}

static void
test_event_idx_doorbell(void)
{
	const struct vrelay_mring_info *m;
	struct vring_used *mu;
	struct vrelay_queue *q;
	struct tctx t;

	q = mkq(&t, 0, false, true);
	m = vrelay_queue_mring(q);
	mu = m->device_area;
	/* Device wants a kick only when avail passes index 5. */
	*(volatile uint16_t *)((char *)mu + 4 + 8 * SZ) = 5;
	t_add_rx(&t, 0, T_BUF_GPA, 4096);
	t_add_rx(&t, 1, T_BUF_GPA + 4096, 4096);
	CHECK(vrelay_queue_relay_avail(q, 64) == 2);
	CHECK(t_rd_eventfd(t.doorbell_fd) == 0);
	for (int i = 2; i < 8; i++)
		t_add_rx(&t, i, T_BUF_GPA + i * 4096, 4096);
	CHECK(vrelay_queue_relay_avail(q, 64) == 6);
	CHECK(t_rd_eventfd(t.doorbell_fd) == 1);
	/* Relay asks the guest to kick past what it consumed. */
	CHECK(*(volatile uint16_t *)((char *)t.used + 4 + 8 * SZ) == 8);
	done(&t, q);
}

static void
test_good_chains(void)
{
	struct vrelay_queue *q;
	struct vring_desc *ind;
	struct tctx t;

	q = mkq(&t, 0, true, false);
	/* Spans the two adjacent regions: fine. */
	t_add_rx(&t, 0, 0x100000 - 0x800, 0x1000);
	/* Readable then writable, through an indirect table. */
	ind = t_hva(&t, 0x20000);
	ind[0] = (struct vring_desc){ T_BUF_GPA, 100, VRING_DESC_F_NEXT, 1 };
	ind[1] = (struct vring_desc){ T_BUF_GPA + 4096, 200,
		VRING_DESC_F_WRITE, 0 };
	t.desc[1] = (struct vring_desc){ 0x20000, 32, VRING_DESC_F_INDIRECT, 0 };
	t_publish(&t, 1);
	CHECK(vrelay_queue_relay_avail(q, 64) == 2);
	CHECK(vrelay_queue_state(q) == VRELAY_QUEUE_IDLE);
	done(&t, q);
}

static void
test_hostile(void)
{
	struct vrelay_queue *q;
	struct vring_desc *ind;
	struct tctx t;

	q = mkq(&t, 0, true, false);
	t_publish(&t, SZ + 5);
	expect_broken(&t, q, "head id out of range");

	q = mkq(&t, 0, true, false);
	t.desc[0] = (struct vring_desc){ T_BUF_GPA, 64, VRING_DESC_F_NEXT, 1 };
	t.desc[1] = (struct vring_desc){ T_BUF_GPA, 64, VRING_DESC_F_NEXT, 0 };
	t_publish(&t, 0);
	expect_broken(&t, q, "descriptor loop");

	q = mkq(&t, 0, true, false);
	ind = t_hva(&t, 0x20000);
	ind[0] = (struct vring_desc){ 0x21000, 16, VRING_DESC_F_INDIRECT, 0 };
	t.desc[0] = (struct vring_desc){ 0x20000, 16, VRING_DESC_F_INDIRECT, 0 };
	t_publish(&t, 0);
	expect_broken(&t, q, "indirect in indirect");

	q = mkq(&t, 0, true, false);
	t.desc[0] = (struct vring_desc){ 0x20000, 24, VRING_DESC_F_INDIRECT, 0 };
	t_publish(&t, 0);
	expect_broken(&t, q, "indirect len not multiple of 16");

	q = mkq(&t, 0, true, false);
	t.desc[0] = (struct vring_desc){ 0x20000, 0, VRING_DESC_F_INDIRECT, 0 };
	t_publish(&t, 0);
	expect_broken(&t, q, "indirect len 0");

	q = mkq(&t, 0, true, false);
	ind = t_hva(&t, 0x20000);
	ind[0] = (struct vring_desc){ T_BUF_GPA, 64, VRING_DESC_F_NEXT, 0 };
	t.desc[0] = (struct vring_desc){ 0x20000, 64, VRING_DESC_F_INDIRECT, 0 };
	t_publish(&t, 0);
	expect_broken(&t, q, "loop inside indirect table");

	q = mkq(&t, 0, true, false);
	ind = t_hva(&t, 0x20000);
	ind[0] = (struct vring_desc){ T_BUF_GPA, 64, VRING_DESC_F_NEXT, 9 };
	t.desc[0] = (struct vring_desc){ 0x20000, 32, VRING_DESC_F_INDIRECT, 0 };
	t_publish(&t, 0);
	expect_broken(&t, q, "indirect next out of table");

	q = mkq(&t, 0, true, false);
	t.desc[0] = (struct vring_desc){ T_GAP_START - 16, 32,
		VRING_DESC_F_INDIRECT, 0 };
	t_publish(&t, 0);
	expect_broken(&t, q, "indirect table across the hole");

	q = mkq(&t, 0, false, false);
	t.desc[0] = (struct vring_desc){ 0x20000, 16, VRING_DESC_F_INDIRECT, 0 };
	t_publish(&t, 0);
	expect_broken(&t, q, "indirect not negotiated");

	q = mkq(&t, 0, true, false);
	t.desc[0] = (struct vring_desc){ 0x20000, 16,
		VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1 };
	t_publish(&t, 0);
	expect_broken(&t, q, "NEXT and INDIRECT");

	q = mkq(&t, 0, true, false);
	t_add_rx(&t, 0, 0x300000, 64);
	expect_broken(&t, q, "buffer in the hole");

	q = mkq(&t, 0, true, false);
	t_add_rx(&t, 0, T_GAP_START - 0x800, 0x1000);
	expect_broken(&t, q, "buffer spanning into the hole");

	q = mkq(&t, 0, true, false);
	t_add_rx(&t, 0, T_MEM_SIZE - 0x800, 0x1000);
	expect_broken(&t, q, "buffer past the end of memory");

	q = mkq(&t, 0, true, false);
	t_add_rx(&t, 0, UINT64_MAX - 0x7ff, 0x1000);
	expect_broken(&t, q, "buffer wrapping the address space");

	q = mkq(&t, 0, true, false);
	t.desc[0] = (struct vring_desc){ T_BUF_GPA, 64,
		VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1 };
	t.desc[1] = (struct vring_desc){ T_BUF_GPA, 64, 0, 0 };
	t_publish(&t, 0);
	expect_broken(&t, q, "readable after writable");

	q = mkq(&t, 0, true, false);
	t.desc[0] = (struct vring_desc){ T_BUF_GPA, 64, VRING_DESC_F_NEXT,
		SZ + 1 };
	t_publish(&t, 0);
	expect_broken(&t, q, "next id out of range");

	q = mkq(&t, 0, true, false);
	t_add_rx(&t, 0, T_BUF_GPA, 64);
	__atomic_store_n(&t.avail->idx, SZ + 2, __ATOMIC_RELEASE);
	expect_broken(&t, q, "avail idx jump beyond ring size");

	q = mkq(&t, 0, true, false);
	t_add_rx(&t, 0, T_BUF_GPA, 64);
	t_add_rx(&t, 0, T_BUF_GPA, 64);
	expect_broken(&t, q, "head made available twice");
}

/* Bogus used entries from the device. */
static void
test_bogus_used(void)
{
	const struct vrelay_mring_info *m;
	struct vring_used *mu;
	struct vrelay_queue *q;
	struct tctx t;
	int kind;

	for (kind = 0; kind < 4; kind++) {
		q = mkq(&t, 10, true, false);
		m = vrelay_queue_mring(q);
		mu = m->device_area;
		t_add_rx(&t, 3, T_BUF_GPA, 1500);
		t_add_rx(&t, 4, T_BUF_GPA + 4096, 1500);
		CHECK(vrelay_queue_relay_avail(q, 64) == 2);
		mu->ring[10 % SZ].id = 3;
		mu->ring[10 % SZ].len = 1500;
		mu->ring[11 % SZ].id = kind == 0 ? 7 : kind == 1 ? 3 : 4;
		mu->ring[11 % SZ].len = kind == 2 ? 1501 : 100;
		__atomic_store_n(&mu->idx, kind == 3 ? 13 : 12,
				 __ATOMIC_RELEASE);
		CHECK(vrelay_queue_relay_used(q, 64) == -EIO);
		CHECK(vrelay_queue_state(q) == VRELAY_QUEUE_BROKEN);
		/* Nothing from a bad burst reaches the guest. */
		CHECK(t.used->idx == 10);
		done(&t, q);
	}
}

int
main(void)
{
	test_forward_indices();
	test_event_idx_doorbell();
	test_good_chains();
	test_hostile();
	test_bogus_used();
	printf("test_relay_avail: OK\n");
	return 0;
}
