/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Post-copy prefault bookkeeping (vrelay_prefault.c): in the window a
 * chain whose pages are not resident stays in the guest's avail ring
 * (retry, not broken) until the prefault thread has read them in and
 * kicked the queue; chains before it are forwarded; an indirect table is
 * fetched before it is read; pages seen present are not asked about
 * again; packed chains alike; a fetch never served does not hang the
 * teardown; with VRELAY_POSTCOPY_PREFAULT=0 nothing waits.
 *
 * "Not arrived" is a page of the test's anonymous guest memory dropped
 * with MADV_DONTNEED: mincore() reports it absent until the thread's
 * read brings it back (a real destination's read blocks in userfaultfd
 * until QEMU places the page; the bookkeeping is the same).
 */

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>

#include "test_packed.h"
#include "vrelay_private.h"

#define SZ 64
#define PG 4096

static struct vrelay_queue *
mkq(struct tctx *t)
{
	return t_queue(t, SZ);
}

/* Make a guest page resident, or drop it ("not arrived"). */
static void
page_in(struct tctx *t, uint64_t gpa)
{
	*(volatile uint8_t *)t_hva(t, gpa) = 0;
}

static void
page_out(struct tctx *t, uint64_t gpa)
{
	CHECK(madvise(t_hva(t, gpa & ~(uint64_t)(PG - 1)), PG,
		      MADV_DONTNEED) == 0);
}

static bool
resident(struct tctx *t, uint64_t gpa)
{
	unsigned char v = 0;

	CHECK(mincore(t_hva(t, gpa & ~(uint64_t)(PG - 1)), PG, &v) == 0);
	return v & 1;
}

/* Wait for the prefault thread's kick on the queue's kick eventfd. */
static void
wait_kick(struct tctx *t)
{
	struct pollfd p = { .fd = t->kick_fd, .events = POLLIN };

	CHECK(poll(&p, 1, 5000) == 1);
	CHECK(t_rd_eventfd(t->kick_fd) >= 1);
}

static void
test_missing_buffer_waits(void)
{
	const struct vrelay_mring_info *m;
	struct vrelay_prefault_stats st;
	struct vrelay_queue *q;
	struct tctx t;

	q = mkq(&t);
	m = vrelay_queue_mring(q);
	CHECK(vrelay_prefault_enable(t.dev) == 0);
	page_in(&t, T_BUF_GPA);
	page_out(&t, T_BUF_GPA + PG);
	/* A chain on a present page, then one straddling into a missing one. */
	t_add_rx(&t, 0, T_BUF_GPA, 1024);
	t_add_rx(&t, 1, T_BUF_GPA + PG - 512, 1024);
	t_add_rx(&t, 2, T_BUF_GPA, 512);
	CHECK(vrelay_queue_relay_avail(q, 64) == 1);
	CHECK(((struct vring_avail *)m->driver_area)->idx == 1);
	CHECK(vrelay_queue_state(q) != VRELAY_QUEUE_BROKEN);
	wait_kick(&t);
	CHECK(resident(&t, T_BUF_GPA + PG));
	CHECK(!__atomic_load_n(&q->pf_wait, __ATOMIC_ACQUIRE));
	/* Fetched: the rest goes, in order. */
	CHECK(vrelay_queue_relay_avail(q, 64) == 2);
	CHECK(((struct vring_avail *)m->driver_area)->ring[1] == 1);
	vrelay_prefault_get_stats(t.dev, &st);
	CHECK(st.chain_waits == 1);
	CHECK(st.pages_fetched == 1);
	/* Present pages are cached: no further mincore() for them. */
	t_add_rx(&t, 3, T_BUF_GPA, 4096);
	CHECK(vrelay_queue_relay_avail(q, 64) == 1);
	vrelay_prefault_get_stats(t.dev, &st);
	CHECK(st.mincore_calls == 2);	/* page 0, then page 1 */
	/* Outside the window chains are not checked. */
	page_out(&t, T_BUF_GPA + 8 * PG);
	vrelay_prefault_disable(t.dev);
	t_add_rx(&t, 4, T_BUF_GPA + 8 * PG, 64);
	CHECK(vrelay_queue_relay_avail(q, 64) == 1);
	CHECK(!resident(&t, T_BUF_GPA + 8 * PG));
	vrelay_queue_destroy(q);
	t_fini(&t);
}

static void
test_indirect_table_first(void)
{
	struct vrelay_prefault_stats st;
	struct vring_desc *tab;
	struct vrelay_queue *q;
	uint64_t tab_gpa = T_BUF_GPA + 16 * PG, buf = T_BUF_GPA + 20 * PG;
	struct tctx t;
	int rounds = 0;

	q = mkq(&t);
	CHECK(vrelay_prefault_enable(t.dev) == 0);
	tab = t_hva(&t, tab_gpa);
	t.desc[0] = (struct vring_desc){ tab_gpa, sizeof(*tab),
					 VRING_DESC_F_INDIRECT, 0 };
	page_out(&t, tab_gpa);	/* the table, then its buffer, missing */
	page_out(&t, buf);
	t_publish(&t, 0);
	while (vrelay_queue_relay_avail(q, 64) == 0) {
		CHECK(vrelay_queue_state(q) != VRELAY_QUEUE_BROKEN);
		CHECK(++rounds <= 3);
		wait_kick(&t);
		/* The table's page arrives with its data (QEMU's copy). */
		if (rounds == 1)
			tab[0] = (struct vring_desc){ buf, 256,
						      VRING_DESC_F_WRITE, 0 };
	}
	/* Two rounds: the table's page, then (read) its buffer's page. */
	CHECK(rounds == 2);
	CHECK(resident(&t, tab_gpa) && resident(&t, buf));
	vrelay_prefault_get_stats(t.dev, &st);
	CHECK(st.chain_waits == 2);
	CHECK(st.pages_fetched == 2);
	vrelay_queue_destroy(q);
	t_fini(&t);
}

/* A queue destroyed while its chain waits: the thread kicks nobody. */
static void
test_cancel(void)
{
	struct vrelay_queue *q;
	struct tctx t;

	q = mkq(&t);
	CHECK(vrelay_prefault_enable(t.dev) == 0);
	page_out(&t, T_BUF_GPA + 30 * PG);
	t_add_rx(&t, 0, T_BUF_GPA + 30 * PG, 64);
	CHECK(vrelay_queue_relay_avail(q, 64) == 0);
	vrelay_queue_destroy(q);
	t_fini(&t);	/* joins the thread */
}

/*
 * A fetch nobody serves (the destination QEMU died): the page is
 * registered with a userfaultfd this test never reads, so the prefault
 * thread's read waits for good. Tearing the device down must still
 * return (the thread's read is interrupted), not hang.
 */
static void
test_abandoned_fetch(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	uint64_t gpa = T_BUF_GPA + 50 * PG;
	struct uffdio_register reg;
	struct vrelay_queue *q;
	struct timespec t0, t1;
	struct tctx t;
	int uffd;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0) {
		printf("abandoned fetch: no userfaultfd here, skipped\n");
		return;
	}
	CHECK(ioctl(uffd, UFFDIO_API, &api) == 0);
	q = mkq(&t);
	CHECK(vrelay_prefault_enable(t.dev) == 0);
	page_out(&t, gpa);
	reg.range.start = (uintptr_t)t_hva(&t, gpa);
	reg.range.len = PG;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	CHECK(ioctl(uffd, UFFDIO_REGISTER, &reg) == 0);
	t_add_rx(&t, 0, gpa, 64);
	CHECK(vrelay_queue_relay_avail(q, 64) == 0);
	usleep(50 * 1000);	/* the thread is in the read by now */
	CHECK(__atomic_load_n(&q->pf_wait, __ATOMIC_ACQUIRE));
	vrelay_queue_destroy(q);
	alarm(10);		/* a hang fails the test */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	vrelay_device_destroy(t.dev);	/* joins the prefault thread */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	alarm(0);
	CHECK(t1.tv_sec - t0.tv_sec < 2);
	t.dev = vrelay_device_create("tdev", &t.mt);	/* for t_fini */
	CHECK(t.dev != NULL);
	t_fini(&t);
	close(uffd);
}

/*
 * Packed: a two-descriptor chain whose second buffer has not arrived
 * waits; then an indirect chain whose table's buffer has not arrived.
 */
static void
test_packed(void)
{
	struct packed_pos at = { 0, true };
	uint64_t b0 = T_BUF_GPA + 60 * PG, b1 = T_BUF_GPA + 61 * PG;
	uint64_t b2 = T_BUF_GPA + 62 * PG;
	struct vq_drv_seg s[2] = {
		{ b0, 256, VRING_DESC_F_WRITE }, { b1, 256, VRING_DESC_F_WRITE },
	};
	struct vq_drv_seg si = { b2, 256, VRING_DESC_F_WRITE };
	struct vrelay_prefault_stats st;
	struct ptctx p;

	pt_setup(&p, SZ, at, false);
	CHECK(vrelay_prefault_enable(p.t.dev) == 0);
	page_in(&p.t, b0);
	page_out(&p.t, b1);
	page_out(&p.t, b2);
	packed_drv_add(&p.drv, s, 2, 0);
	CHECK(vrelay_queue_relay_avail(p.q, 64) == 0);
	CHECK(vrelay_queue_state(p.q) != VRELAY_QUEUE_BROKEN);
	wait_kick(&p.t);
	CHECK(resident(&p.t, b1));
	CHECK(vrelay_queue_relay_avail(p.q, 64) == 1);
	CHECK(packed_drv_add_indirect(&p.drv, &si, 1, 1, P_TABLE_GPA) !=
	      UINT16_MAX);
	CHECK(vrelay_queue_relay_avail(p.q, 64) == 0);
	wait_kick(&p.t);
	CHECK(resident(&p.t, b2));
	CHECK(vrelay_queue_relay_avail(p.q, 64) == 1);
	vrelay_prefault_get_stats(p.t.dev, &st);
	CHECK(st.chain_waits == 2 && st.pages_fetched == 2);
	pt_fini(&p);
}

static void
test_negative_control(void)
{
	struct vrelay_prefault_stats st;
	struct vrelay_queue *q;
	struct tctx t;

	setenv("VRELAY_POSTCOPY_PREFAULT", "0", 1);
	q = mkq(&t);
	CHECK(vrelay_prefault_enable(t.dev) == 0);
	page_out(&t, T_BUF_GPA + 40 * PG);
	t_add_rx(&t, 0, T_BUF_GPA + 40 * PG, 64);
	CHECK(vrelay_queue_relay_avail(q, 64) == 1);
	CHECK(!resident(&t, T_BUF_GPA + 40 * PG));
	vrelay_prefault_get_stats(t.dev, &st);
	CHECK(st.chain_waits == 0);
	vrelay_queue_destroy(q);
	t_fini(&t);
	unsetenv("VRELAY_POSTCOPY_PREFAULT");
}

int
main(void)
{
	CHECK(getpagesize() == PG);
	test_missing_buffer_waits();
	test_indirect_table_first();
	test_cancel();
	test_abandoned_fetch();
	test_packed();
	test_negative_control();
	printf("test_relay_prefault: ok\n");
	return 0;
}
