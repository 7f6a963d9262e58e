/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The relay must set the dirty bit of the guest used ring *after* writing
 * the used entries and index: the hypervisor clears a bit and then copies
 * the page, so a bit set before the write can be consumed (and the page
 * copied) before the write lands, and the write is never sent.
 *
 * The log is laid out so that the byte holding the used ring page's bit
 * is the last byte of a write-protected page, while the buffer's bit is
 * on the next, writable page. The first write to the protected page
 * faults; the handler checks that the guest used index already shows the
 * relayed entry, records the verdict, and lifts the protection.
 */

#include <signal.h>

#include "test_common.h"

static uint8_t *prot_page;
static volatile struct vring_used *watched_used;
static uint16_t want_idx;
static volatile int faults, idx_seen_before_log;

static void
on_segv(int sig, siginfo_t *si, void *uc)
{
	uint8_t *a = si->si_addr;

	(void)sig;
	(void)uc;
	if (a < prot_page || a >= prot_page + 4096)
		_exit(2);	/* a real crash, not our probe */
	faults++;
	if (watched_used->idx == want_idx)
		idx_seen_before_log = 1;
	mprotect(prot_page, 4096, PROT_READ | PROT_WRITE);
}

int
main(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv,
				.sa_flags = SA_SIGINFO };
	const struct vrelay_mring_info *m;
	struct vrelay_queue_conf c;
	struct vrelay_queue *q;
	struct tctx t;
	uint8_t *pages, *log;
	uint64_t used_page = T_USED_GPA >> 12;
	uint64_t buf_page = T_BUF_GPA >> 12;

	t_init(&t, 16);
	/* Used ring bit in the protected page, buffer bit in the next one. */
	CHECK(used_page / 8 == 2 && buf_page / 8 > 8);
	pages = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(pages != MAP_FAILED);
	prot_page = pages;
	log = pages + 4096 - 3;
	CHECK(vrelay_device_set_log(t.dev, log, T_LOG_SIZE) == 0);

	c = t_conf(&t, 0);
	q = vrelay_queue_create(t.dev, &c);
	CHECK(q != NULL);
	m = vrelay_queue_mring(q);
	t_add_rx(&t, 0, T_BUF_GPA, 2048);
	CHECK(vrelay_queue_relay_avail(q, 64) == 1);
	CHECK(t_device_run(&t, m, 64, 64) == 1);

	/* Whatever was logged so far is not the point: watch from here. */
	memset(pages, 0, 2 * 4096);
	watched_used = t.used;
	want_idx = 1;
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
	CHECK(mprotect(prot_page, 4096, PROT_READ) == 0);
	CHECK(vrelay_queue_relay_used(q, 64) == 1);
	signal(SIGSEGV, SIG_DFL);

	CHECK(t.used->idx == 1);
	CHECK(faults >= 1);
	CHECK(idx_seen_before_log);
	CHECK(log[used_page / 8] & (1u << (used_page % 8)));
	CHECK(log[buf_page / 8] & (1u << (buf_page % 8)));

	vrelay_queue_destroy(q);
	t_fini(&t);
	munmap(pages, 2 * 4096);
	printf("test_relay_logorder: used ring logged after it was written\n");
	return 0;
}
