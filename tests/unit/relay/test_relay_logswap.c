/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * vrelay_device_set_log() while a relay thread logs: the old log is
 * unmapped right after each swap (a late write would fault), and pages
 * dirtied after the swap must be in the new log. A mirrored log gets
 * the same bits in the log and its mirror, at any alignment.
 */

#include <pthread.h>
#include <sched.h>

#include "test_common.h"

#define SZ 256
#define SWAPS 300

static struct tctx t;
static struct vrelay_queue *q;
static uint64_t iters;
static int stop;

/* Driver + relay + device in one thread: a full round trip per loop. */
static void *
worker(void *arg)
{
	const struct vrelay_mring_info *m = vrelay_queue_mring(q);
	uint16_t head = 0;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		t_add_rx(&t, head, T_BUF_GPA + 0x1000 * (head % 64), 1500);
		head = (head + 1) % SZ;
		CHECK(vrelay_queue_relay_avail(q, 64) == 1);
		CHECK(t_device_run(&t, m, 1500, 64) == 1);
		CHECK(vrelay_queue_relay_used(q, 64) == 1);
		__atomic_fetch_add(&iters, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static uint8_t *
new_log(void)
{
	uint8_t *l = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(l != MAP_FAILED);
	return l;
}

/*
 * vrelay_device_set_log_mirrored(): every bit in the log is in the
 * mirror too (the log at an odd offset, so edge bytes and whole words
 * are both exercised); a mirror of another alignment is refused.
 */
static void
mirrored(void)
{
	uint8_t *log = calloc(1, T_LOG_SIZE + 16);
	uint8_t *mir = calloc(1, T_LOG_SIZE + 16);
	uint8_t *l = log + 3, *mr = mir + 3;
	uint16_t i;

	CHECK(log != NULL && mir != NULL);
	CHECK(vrelay_device_set_log_mirrored(t.dev, l, T_LOG_SIZE, mir + 4) ==
	      -EINVAL);
	CHECK(vrelay_device_set_log_mirrored(t.dev, NULL, 0, mr) == -EINVAL);
	CHECK(vrelay_device_set_log_mirrored(t.dev, l, T_LOG_SIZE, mr) == 0);
	for (i = 0; i < 64; i++) {
		t_add_rx(&t, i, T_BUF_GPA + 0x1000 * i, 1500);
		CHECK(vrelay_queue_relay_avail(q, 64) == 1);
		CHECK(t_device_run(&t, vrelay_queue_mring(q), 1500, 64) == 1);
		CHECK(vrelay_queue_relay_used(q, 64) == 1);
	}
	CHECK(t_log_bit(l, T_BUF_GPA / 4096 + 63));
	CHECK(memcmp(l, mr, T_LOG_SIZE) == 0);
	/* Plain set_log drops the mirror. */
	CHECK(vrelay_device_set_log(t.dev, l, T_LOG_SIZE) == 0);
	memset(l, 0, T_LOG_SIZE);
	memset(mr, 0, T_LOG_SIZE);
	t_add_rx(&t, 0, T_BUF_GPA, 1500);
	CHECK(vrelay_queue_relay_avail(q, 64) == 1);
	CHECK(t_device_run(&t, vrelay_queue_mring(q), 1500, 64) == 1);
	CHECK(vrelay_queue_relay_used(q, 64) == 1);
	CHECK(t_log_bit(l, T_BUF_GPA / 4096));
	CHECK(!t_log_bit(mr, T_BUF_GPA / 4096));
	CHECK(vrelay_device_set_log(t.dev, NULL, 0) == 0);
	free(log);
	free(mir);
}

int
main(void)
{
	struct vrelay_queue_conf c;
	uint8_t *cur, *old = NULL;
	pthread_t th;
	uint64_t mark;
	int i, p;

	t_init(&t, SZ);
	c = t_conf(&t, 0);
	q = vrelay_queue_create(t.dev, &c);
	CHECK(q != NULL);
	cur = new_log();
	CHECK(vrelay_device_set_log(t.dev, cur, T_LOG_SIZE) == 0);
	CHECK(pthread_create(&th, NULL, worker, NULL) == 0);
	for (i = 0; i < SWAPS; i++) {
		old = cur;
		cur = new_log();
		CHECK(vrelay_device_set_log(t.dev, cur, T_LOG_SIZE) == 0);
		/* Nobody may write the old log now: make that fault. */
		CHECK(munmap(old, 4096) == 0);
		/* Two full round trips later, the new log has them. */
		mark = __atomic_load_n(&iters, __ATOMIC_ACQUIRE);
		while (__atomic_load_n(&iters, __ATOMIC_ACQUIRE) < mark + 2)
			sched_yield();
		CHECK(t_log_bit(cur, T_USED_GPA / 4096));
		for (p = 0; p < 64; p++)
			if (t_log_bit(cur, T_BUF_GPA / 4096 + p))
				break;
		CHECK(p < 64);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	/* Stop logging: relay still works and writes nothing. */
	CHECK(vrelay_device_set_log(t.dev, NULL, 0) == 0);
	munmap(cur, 4096);
	t_add_rx(&t, 0, T_BUF_GPA, 64);
	CHECK(vrelay_queue_relay_avail(q, 64) == 1);
	CHECK(t_device_run(&t, vrelay_queue_mring(q), 64, 64) == 1);
	CHECK(vrelay_queue_relay_used(q, 64) == 1);
	mirrored();
	vrelay_queue_destroy(q);
	t_fini(&t);
	printf("test_relay_logswap: OK (%lu round trips)\n",
	       (unsigned long)iters);
	return 0;
}
