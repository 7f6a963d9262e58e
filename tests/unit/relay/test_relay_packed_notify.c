/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Packed relay notification suppression (virtio 1.1, 2.8.10), both
 * sides: the device's doorbell as the mediated device event area says,
 * the guest's interrupt as its driver event area says (ENABLE, DISABLE,
 * DESC with EVENT_IDX, across a wrap), each counted in the stats and on
 * the eventfd; and the guest's device event area the relay writes
 * (whether the guest should kick), logged only when it changes.
 */

#include "test_packed.h"
#include "vrelay_private.h"

#define SZ	8
#define F_EN	VRING_PACKED_EVENT_FLAG_ENABLE
#define F_DIS	VRING_PACKED_EVENT_FLAG_DISABLE
#define F_DESC	VRING_PACKED_EVENT_FLAG_DESC

static struct vq_drv_seg seg = { T_BUF_GPA, 4096, VRING_DESC_F_WRITE };

static void
setup(struct ptctx *p, bool event_idx)
{
	struct vrelay_queue_conf c;

	pt_init(p, SZ, (struct packed_pos){ 0, true });
	c = pt_conf(p);
	c.event_idx = event_idx;
	pt_create(p, &c);
}

/* Post n one-slot chains (ids free), forward them: doorbells seen. */
static uint64_t
forward(struct ptctx *p, unsigned int n)
{
	struct vrelay_queue_stats st0, st1;
	struct packed_dev_chain c;
	uint64_t rung;

	vrelay_queue_get_stats(p->q, &st0);
	for (unsigned int i = 0; i < n; i++)
		packed_drv_add(&p->drv, &seg, 1, p->drv.avail.idx);
	CHECK(vrelay_queue_relay_avail(p->q, 64) == (int)n);
	vrelay_queue_get_stats(p->q, &st1);
	rung = t_rd_eventfd(p->t.doorbell_fd);
	CHECK(st1.device_kicks - st0.device_kicks == rung);
	while (packed_dev_fetch(&p->dev, &c) == 1)
		packed_dev_complete(&p->dev, c.id, 0, c.ndesc);
	return rung;
}

/* Relay every completion back, the guest takes them: calls seen. */
static uint64_t
complete(struct ptctx *p)
{
	struct vrelay_queue_stats st0, st1;
	uint64_t calls;
	uint32_t len;
	uint16_t id;

	vrelay_queue_get_stats(p->q, &st0);
	CHECK(vrelay_queue_relay_used(p->q, 64) >= 0);
	vrelay_queue_get_stats(p->q, &st1);
	calls = t_rd_eventfd(p->t.call_fd);
	CHECK(st1.guest_calls - st0.guest_calls == calls);
	while (packed_drv_get_used(&p->drv, &id, &len) == 1)
		;
	return calls;
}

static void
test_doorbell(void)
{
	struct ptctx p;

	setup(&p, true);
	CHECK(forward(&p, 2) == 1);		/* ENABLE: zeroed area */
	complete(&p);
	packed_event_set(p.dev.device, F_DIS, (struct packed_pos){ 0, 0 });
	CHECK(forward(&p, 2) == 0);
	complete(&p);
	/* DESC: kick once slot 6 of this lap is made available. */
	packed_event_set(p.dev.device, F_DESC, (struct packed_pos){ 6, 1 });
	CHECK(forward(&p, 2) == 0);		/* slots 4, 5 */
	complete(&p);
	CHECK(forward(&p, 2) == 1);		/* slots 6, 7 */
	complete(&p);
	/* Slot 1 of the next lap: not before it, across the wrap. */
	packed_event_set(p.dev.device, F_DESC, (struct packed_pos){ 1, 0 });
	CHECK(forward(&p, 1) == 0);		/* slot 0, lap 0 */
	complete(&p);
	CHECK(forward(&p, 3) == 1);		/* slots 1-3 */
	complete(&p);
	/* A position of the lap gone by: not crossed again. */
	packed_event_set(p.dev.device, F_DESC, (struct packed_pos){ 5, 1 });
	CHECK(forward(&p, 4) == 0);		/* slots 4-7 of lap 0 */
	complete(&p);
	CHECK(vrelay_queue_state(p.q) == VRELAY_QUEUE_IDLE);
	pt_fini(&p);
}

static void
test_guest_call(void)
{
	struct ptctx p;

	setup(&p, true);
	forward(&p, 2);
	CHECK(complete(&p) == 1);		/* ENABLE */
	CHECK(complete(&p) == 0);		/* nothing relayed: no call */
	packed_drv_set_driver_event(&p.drv, F_DIS,
				    (struct packed_pos){ 0, 0 });
	forward(&p, 2);
	CHECK(complete(&p) == 0);
	/* DESC: interrupt once the used descriptor at slot 5 is written. */
	packed_drv_set_driver_event(&p.drv, F_DESC,
				    (struct packed_pos){ 5, 1 });
	forward(&p, 1);				/* used at 4 */
	CHECK(complete(&p) == 0);
	forward(&p, 2);				/* used at 5, 6 */
	CHECK(complete(&p) == 1);
	/* Slot 0 of the next lap, reached by a batch across the wrap. */
	packed_drv_set_driver_event(&p.drv, F_DESC,
				    (struct packed_pos){ 0, 0 });
	forward(&p, 3);				/* used at 7, 0, 1 */
	CHECK(complete(&p) == 1);
	pt_fini(&p);
}

/*
 * The guest's device event area: DISABLE while the relay polls, ENABLE
 * while it sleeps on kicks (and the mediated driver area, the device's
 * interrupts, alike); logged when changed, and only then.
 */
static void
test_guest_kick_flag(void)
{
	const struct vring_packed_desc_event *mdrv;
	struct ptctx p;

	pt_setup(&p, SZ, (struct packed_pos){ 0, true }, true);
	mdrv = p.m->driver_area;
	CHECK(pt_log_count(&p) == 0);		/* ENABLE already */
	CHECK(p.drv.device->flags == F_EN && mdrv->flags == F_EN);
	vrelay_queue_set_notify(p.q, false);
	CHECK(p.drv.device->flags == F_DIS && mdrv->flags == F_DIS);
	CHECK(!packed_drv_device_wants_kick(&p.drv));
	CHECK(pt_log_count(&p) == 1);
	CHECK(t_log_bit(p.t.log, P_DEVICE_GPA / 4096));
	memset(p.t.log, 0, T_LOG_SIZE);
	vrelay_queue_set_notify(p.q, false);
	CHECK(pt_log_count(&p) == 0);
	vrelay_queue_set_notify(p.q, true);
	CHECK(p.drv.device->flags == F_EN && mdrv->flags == F_EN);
	CHECK(t_log_bit(p.t.log, P_DEVICE_GPA / 4096));
	CHECK(pt_log_count(&p) == 1);
	pt_fini(&p);
}

int
main(void)
{
	test_doorbell();
	test_guest_call();
	test_guest_kick_flag();
	printf("test_relay_packed_notify: OK\n");
	return 0;
}
