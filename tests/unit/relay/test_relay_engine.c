/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Engine: traffic between a guest (this thread) and a fake device thread
 * through an engine in epoll, poll and adaptive modes, with mode changes
 * and detach/attach cycles mid-traffic. Every wait is on an eventfd, so
 * a lost kick or interrupt stalls the test and fails it.
 */

#include <poll.h>
#include <pthread.h>

#include "test_common.h"

#define SZ 128
#define PKT 1500
#define WAIT_MS 5000

static struct tctx t;
static struct vrelay_queue *q;
static const struct vrelay_mring_info *m;
static int dev_stop;
static uint16_t sent;
static bool evidx;

/* The fake device's event fields on the mediated rings (guest: drv). */
#define EV(ring_base, off) \
	(*(volatile uint16_t *)((char *)(ring_base) + (off)))
#define USED_EVENT(avail) EV(avail, 4 + 2 * SZ)
#define AVAIL_EVENT(used) EV(used, 4 + 8 * SZ)

static bool
wait_fd(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, WAIT_MS) == 1;
}

/* Device: sleeps on its doorbell, answers with used entries and an irq. */
static void *
device(void *arg)
{
	struct vring_used *mu = m->device_area;
	struct vring_avail *ma = m->driver_area;

	(void)arg;
	mu->flags = 0;	/* kick me */
	while (!__atomic_load_n(&dev_stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { .fd = t.doorbell_fd, .events = POLLIN };

		uint16_t old = t.dev_used;

		/* Ask for a doorbell on the next entry, then re-check. */
		AVAIL_EVENT(mu) = t.dev_avail;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (ma->idx == t.dev_avail && poll(&p, 1, 20) == 1)
			t_rd_eventfd(t.doorbell_fd);
		if (t_device_run(&t, m, PKT, SZ) == 0)
			continue;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (evidx ? vring_need_event(USED_EVENT(ma), t.dev_used, old) :
		    !(ma->flags & VRING_AVAIL_F_NO_INTERRUPT))
			eventfd_write(t.irq_fd, 1);
	}
	return NULL;
}

static void
guest_kick(uint16_t old)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (evidx ? vring_need_event(split_drv_avail_event(&t.drv),
				     t.avail->idx, old) :
	    !(t.used->flags & VRING_USED_F_NO_NOTIFY))
		eventfd_write(t.kick_fd, 1);
}

/* Send n packets and wait until all have come back. */
static void
pump(unsigned int n, uint16_t start)
{
	uint16_t target = sent + n;

	while ((uint16_t)(__atomic_load_n(&t.used->idx, __ATOMIC_ACQUIRE) -
			  target) != 0) {
		uint16_t done = __atomic_load_n(&t.used->idx,
						__ATOMIC_ACQUIRE);
		uint16_t old = t.avail->idx;
		bool added = false;

		while (sent != target && (uint16_t)(sent - done) < SZ) {
			uint16_t slot = (uint16_t)(sent - start) % SZ;

			t_add_rx(&t, slot, T_BUF_GPA + slot * 0x4000, 0x4000);
			sent++;
			added = true;
		}
		if (added) {
			guest_kick(old);
			continue;
		}
		/* Ask for an interrupt on the next used entry, re-check. */
		split_drv_set_used_event(&t.drv, done);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&t.used->idx, __ATOMIC_ACQUIRE) != done)
			continue;
		CHECK(wait_fd(t.call_fd));
		t_rd_eventfd(t.call_fd);
	}
}

static void
run(enum vrelay_mode mode0, bool event_idx, uint16_t start)
{
	static const enum vrelay_mode modes[] = {
		VRELAY_MODE_POLL, VRELAY_MODE_ADAPTIVE, VRELAY_MODE_EPOLL,
	};
	struct vrelay_queue_stats st;
	struct vrelay_queue_conf c;
	struct vrelay_engine *e;
	pthread_t th;
	int cyc;

	t_init(&t, SZ);
	c = t_conf(&t, start);
	c.event_idx = event_idx;
	evidx = event_idx;
	sent = start;
	dev_stop = 0;
	q = vrelay_queue_create(t.dev, &c);
	CHECK(q != NULL);
	m = vrelay_queue_mring(q);
	CHECK(vrelay_device_set_log(t.dev, t.log, T_LOG_SIZE) == 0);
	e = vrelay_engine_create("trelay", mode0, -1);
	CHECK(e != NULL);
	CHECK(vrelay_engine_mode(e) == mode0);
	CHECK(pthread_create(&th, NULL, device, NULL) == 0);
	CHECK(vrelay_engine_attach(e, q) == 0);
	CHECK(vrelay_engine_attach(e, q) == -EBUSY);
	CHECK(vrelay_queue_state(q) == VRELAY_QUEUE_RELAY);
	for (cyc = 0; cyc < 12; cyc++) {
		pump(300, start);
		if (cyc % 4 == 3) {
			uint16_t fwd = ((struct vring_avail *)m->driver_area)->idx;

			CHECK(vrelay_engine_detach(e, q) == 0);
			CHECK(vrelay_engine_detach(e, q) == -ENOENT);
			CHECK(vrelay_queue_state(q) == VRELAY_QUEUE_IDLE);
			/* Kicked while detached, kick lost: attach's pass. */
			t_add_rx(&t, (uint16_t)(sent - start) % SZ,
				  T_BUF_GPA, 0x4000);
			sent++;
			guest_kick(sent - 1);
			t_rd_eventfd(t.kick_fd);
			usleep(1000);
			CHECK(((struct vring_avail *)m->driver_area)->idx == fwd);
			CHECK(vrelay_engine_attach(e, q) == 0);
		} else {
			CHECK(vrelay_engine_set_mode(e, modes[cyc % 4]) == 0);
			CHECK(vrelay_engine_mode(e) == modes[cyc % 4]);
		}
	}
	pump(0, start);
	CHECK(vrelay_engine_detach(e, q) == 0);
	__atomic_store_n(&dev_stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	/* Exact indices everywhere. */
	CHECK(t.avail->idx == sent);
	CHECK(t.used->idx == sent);
	CHECK(((struct vring_avail *)m->driver_area)->idx == sent);
	CHECK(((struct vring_used *)m->device_area)->idx == sent);
	CHECK(t.used->ring[(uint16_t)(sent - 1) % SZ].len == PKT);
	vrelay_queue_get_stats(q, &st);
	CHECK(st.avail_relayed == (uint16_t)(sent - start));
	CHECK(st.used_relayed == (uint16_t)(sent - start));
	CHECK(st.broken == 0);
	CHECK(st.guest_calls > 0);
	CHECK(t_log_bit(t.log, T_USED_GPA / 4096));
	CHECK(vrelay_engine_cpu_ns(e) > 0);
	fprintf(stderr, "mode %s event_idx %d: %u pkts, kicks %lu irqs %lu "
		"calls %lu doorbells %lu cpu %lu us\n",
		vrelay_mode_to_str(mode0), event_idx,
		(uint16_t)(sent - start), (unsigned long)st.guest_kicks,
		(unsigned long)st.device_irqs, (unsigned long)st.guest_calls,
		(unsigned long)st.device_kicks,
		(unsigned long)(vrelay_engine_cpu_ns(e) / 1000));
	vrelay_engine_destroy(e);
	vrelay_queue_destroy(q);
	t_fini(&t);
}

/*
 * An engine with no queue attached sleeps, in every mode: a polling
 * engine has nothing to spin for until a queue is attached. The bound
 * is two orders of magnitude above a sleeping thread's CPU time and two
 * below a spinning one's over the same 300 ms.
 */
static void
idle_engines_sleep(void)
{
	static const enum vrelay_mode modes[] = {
		VRELAY_MODE_POLL, VRELAY_MODE_ADAPTIVE, VRELAY_MODE_EPOLL,
	};
	unsigned int i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct vrelay_engine *e;

		e = vrelay_engine_create("tidle", modes[i], -1);
		CHECK(e != NULL);
		usleep(300 * 1000);
		CHECK(vrelay_engine_cpu_ns(e) < 20 * 1000 * 1000);
		vrelay_engine_destroy(e);
	}
}

/*
 * One engine serves more queues than any fixed table would hold (the old
 * limit was 256, which nine 16-queue-pair devices migrating at once
 * reached): attach never answers "no room".
 */
#define MANY_QUEUES 600

static void
many_queues_one_engine(void)
{
	static struct vrelay_queue *qs[MANY_QUEUES];
	struct vrelay_queue_conf c;
	struct vrelay_engine *e;
	struct tctx tm;
	unsigned int i;

	t_init(&tm, 64);
	c = t_conf(&tm, 0);
	c.guest_kick_fd = -1;	/* poll only: no fd shared by 600 queues */
	c.device_irq_fd = -1;
	e = vrelay_engine_create("tmany", VRELAY_MODE_EPOLL, -1);
	CHECK(e != NULL);
	for (i = 0; i < MANY_QUEUES; i++) {
		qs[i] = vrelay_queue_create(tm.dev, &c);
		CHECK(qs[i] != NULL);
		CHECK(vrelay_engine_attach(e, qs[i]) == 0);
	}
	for (i = 0; i < MANY_QUEUES; i++) {
		CHECK(vrelay_queue_state(qs[i]) == VRELAY_QUEUE_RELAY);
		CHECK(vrelay_engine_detach(e, qs[i]) == 0);
		vrelay_queue_destroy(qs[i]);
	}
	vrelay_engine_destroy(e);
	t_fini(&tm);
}

int
main(void)
{
	enum vrelay_mode md;

	CHECK(vrelay_mode_from_str("auto", &md) == 0 &&
	      md == VRELAY_MODE_ADAPTIVE);
	CHECK(vrelay_mode_from_str("bogus", &md) == -EINVAL);
	idle_engines_sleep();
	many_queues_one_engine();
	run(VRELAY_MODE_EPOLL, false, 0);
	run(VRELAY_MODE_POLL, true, 65000);
	run(VRELAY_MODE_ADAPTIVE, true, 100);
	run(VRELAY_MODE_EPOLL, true, 65500);
	printf("test_relay_engine: OK\n");
	return 0;
}
