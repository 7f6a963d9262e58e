/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Switchover with a fake queue-control device: direct -> relay ->
 * direct keeps the indices exact, logs the in-flight window, flushes
 * every used entry; a failing step leaves the queue stopped on the
 * guest's rings (fail closed: never resumed in direct I/O while the
 * frontend logs); a device queue that faulted under the relay is handed
 * back with exact indices and nothing leaked.
 */

#include <poll.h>

#include "fake_qctl.h"
#include "test_common.h"

#define SZ 64

/*
 * A device that fetches and completes in separate steps: the shared
 * fake's queue 0 (its state first, so that &d is the ops' ctx), which
 * completes what it fetched when it is suspended.
 */
struct fdev {
	struct fake_qctl fq;
	struct tctx *t;
	uint16_t fetched[SZ];
};

#define DQ(d) (&(d)->fq.q[0])

static struct vring_avail *
fd_avail(struct fdev *d)
{
	return DQ(d)->relay ? DQ(d)->m->driver_area : d->t->avail;
}

static struct vring_used *
fd_used(struct fdev *d)
{
	return DQ(d)->relay ? DQ(d)->m->device_area : d->t->used;
}

static void
fd_fetch(struct fdev *d, unsigned int n)
{
	while (n-- && !DQ(d)->stopped && fd_avail(d)->idx != DQ(d)->last_avail) {
		d->fetched[DQ(d)->last_avail % SZ] =
			fd_avail(d)->ring[DQ(d)->last_avail % SZ];
		DQ(d)->last_avail++;
	}
}

static void
fd_complete(struct fdev *d, unsigned int n)
{
	struct vring_used *u = fd_used(d);

	while (n-- && DQ(d)->last_used != DQ(d)->last_avail) {
		uint16_t head = d->fetched[DQ(d)->last_used % SZ];
		struct vring_desc *ds = &d->t->desc[head];

		memset(t_hva(d->t, ds->addr), 0x5a, 1000);
		u->ring[DQ(d)->last_used % SZ].id = head;
		u->ring[DQ(d)->last_used % SZ].len = 1000;
		DQ(d)->last_used++;
		__atomic_store_n(&u->idx, DQ(d)->last_used, __ATOMIC_RELEASE);
	}
	if (DQ(d)->relay)
		eventfd_write(DQ(d)->irq_fd, 1);
}

static void
on_suspend(struct fake_qctl *f, uint16_t qid)
{
	(void)qid;
	fd_complete((struct fdev *)f, SZ);
}

static void
add(struct tctx *t, unsigned int n)
{
	while (n--) {
		uint16_t slot = t->avail->idx % SZ;

		t_add_rx(t, slot, T_BUF_GPA + slot * 0x2000, 0x2000);
	}
}

static bool
page_of(struct tctx *t, uint16_t slot)
{
	return t_log_bit(t->log, (T_BUF_GPA + slot * 0x2000) / 4096);
}

/*
 * Relay -> direct when the device faulted the queue under the relay:
 * the queue is destroyed (no fd, ring or slot leaked), the indices are
 * exact, and the queue is not resumed.
 */
static void
faulted_queue_stops_exactly(struct vrelay_engine *e, struct fdev *d,
			    struct vrelay_queue_conf *c)
{
	struct vrelay_switch_report rep;
	struct vrelay_queue *q;
	int fds = t_count_fds(), i;

	CHECK(vrelay_switch_to_relay(e, d->t->dev, c, &fake_qctl_ops, d, &q, &rep) == 0);
	CHECK(rep.devq == VRELAY_DEVQ_RUNNING);
	add(d->t, 4);
	eventfd_write(d->t->kick_fd, 1);
	for (i = 0; i < 1000 && ((struct vring_avail *)DQ(d)->m->driver_area)->idx !=
		    d->t->avail->idx; i++)
		usleep(1000);
	fd_fetch(d, 4);
	DQ(d)->fault = 1;
	CHECK(vrelay_switch_to_direct(e, q, &fake_qctl_ops, d, true, &rep) == -EIO);
	CHECK(rep.devq == VRELAY_DEVQ_BROKEN);
	CHECK(rep.state.avail_idx == DQ(d)->last_avail &&
	      rep.state.used_idx == DQ(d)->last_used);
	CHECK(d->t->used->idx == DQ(d)->last_used);
	CHECK(DQ(d)->stopped && !DQ(d)->relay);
	CHECK(t_count_fds() == fds);
	DQ(d)->fault = 0;
	DQ(d)->stopped = false;
}

int
main(void)
{
	struct vrelay_queue_conf c;
	struct vrelay_queue *q = NULL;
	struct vrelay_engine *e;
	struct fdev d = { 0 };
	struct tctx t;
	struct vrelay_switch_report rep;
	int i, resumes;

	t_init(&t, SZ);
	d.t = &t;
	d.fq.on_suspend = on_suspend;
	c = t_conf(&t, 0);
	e = vrelay_engine_create("tswitch", VRELAY_MODE_EPOLL, 0);
	CHECK(e != NULL);

	/* Direct I/O: 10 fetched, 6 done; logging starts at used 3. */
	add(&t, 10);
	fd_fetch(&d, 10);
	fd_complete(&d, 3);
	CHECK(vrelay_device_set_log(t.dev, t.log, T_LOG_SIZE) == 0);
	c.log_from_used_idx = 3;
	fd_complete(&d, 3);

	/*
	 * A failing step leaves the queue stopped on the guest's rings at
	 * exact indices: never resumed in direct I/O while logging.
	 */
	DQ(&d)->fail_program_relay = 1;
	CHECK(vrelay_switch_to_relay(e, t.dev, &c, &fake_qctl_ops, &d, &q, &rep) ==
	      -EIO);
	CHECK(!DQ(&d)->relay && DQ(&d)->stopped && DQ(&d)->resumes == 0 && q == NULL);
	CHECK(rep.devq == VRELAY_DEVQ_STOPPED);
	CHECK(rep.state.avail_idx == 10 && rep.state.used_idx == 10);
	CHECK(DQ(&d)->last_avail == 10 && DQ(&d)->last_used == 10);
	/* Stopped: a new avail entry is not fetched. */
	add(&t, 1);
	fd_fetch(&d, 1);
	CHECK(DQ(&d)->last_avail == 10);
	memset(t.log, 0, T_LOG_SIZE);
	DQ(&d)->fail_program_relay = 0;

	/* Invalid arguments change nothing and report nothing valid. */
	CHECK(vrelay_switch_to_relay(e, t.dev, &c, NULL, &d, &q, &rep) ==
	      -EINVAL);
	CHECK(rep.devq == VRELAY_DEVQ_UNKNOWN && DQ(&d)->stopped);

	CHECK(vrelay_switch_to_relay(e, t.dev, &c, &fake_qctl_ops, &d, &q, &rep) == 0);
	CHECK(q != NULL && DQ(&d)->relay && !DQ(&d)->stopped);
	CHECK(rep.devq == VRELAY_DEVQ_RUNNING);
	fd_fetch(&d, 1);	/* the entry added while stopped */
	fd_complete(&d, 1);
	/* Window [3, 10) logged; earlier completions not. */
	for (i = 0; i < 10; i++)
		CHECK(page_of(&t, i) == (i >= 3));

	/* Relayed traffic: 20 in, 15 done before the switch back. */
	add(&t, 20);
	eventfd_write(t.kick_fd, 1);
	for (i = 0; i < 1000 && ((struct vring_avail *)DQ(&d)->m->driver_area)->idx != 31;
	     i++)
		usleep(1000);
	fd_fetch(&d, 20);
	CHECK(DQ(&d)->last_avail == 31);
	fd_complete(&d, 15);
	for (i = 0; i < 1000 && t.used->idx != 26; i++)
		usleep(1000);
	CHECK(t.used->idx == 26);

	/* Invalid arguments: the queue is neither freed nor detached. */
	CHECK(vrelay_switch_to_direct(e, q, NULL, &d, true, &rep) == -EINVAL);
	CHECK(vrelay_queue_state(q) == VRELAY_QUEUE_RELAY);

	/* Back to direct: suspend completes 5 more; flush must relay them. */
	resumes = DQ(&d)->resumes;
	CHECK(vrelay_switch_to_direct(e, q, &fake_qctl_ops, &d, true, &rep) == 0);
	CHECK(rep.devq == VRELAY_DEVQ_RUNNING && DQ(&d)->resumes == resumes + 1);
	CHECK(rep.state.avail_idx == 31 && rep.state.used_idx == 31);
	CHECK(t.used->idx == 31);
	CHECK(!DQ(&d)->relay && !DQ(&d)->stopped);
	for (i = 10; i < 31; i++)
		CHECK(page_of(&t, i % SZ));
	for (i = 26; i < 31; i++)
		CHECK(t.used->ring[i % SZ].len == 1000);

	/* Direct again: the device carries on from the guest's rings. */
	add(&t, 5);
	fd_fetch(&d, 5);
	fd_complete(&d, 5);
	CHECK(t.used->idx == 36 && t.avail->idx == 36);

	faulted_queue_stops_exactly(e, &d, &c);
	CHECK(d.fq.violations == 0);
	vrelay_engine_destroy(e);
	t_fini(&t);
	printf("test_relay_switch: OK\n");
	return 0;
}
