/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Packed-ring scaffolding on top of test_common.h's guest memory: a
 * guest packed ring driven by packed_drv, and a fake device on the
 * queue's mediated ring (packed_dev) that reaches buffers and indirect
 * tables by guest address, as a zero-copy device does.
 *
 * The descriptor ring straddles a page boundary (slots 0..63 on page
 * 0x10, the rest on 0x11) so a test can tell a logged slot from a
 * logged ring; the event areas have a page each.
 */

#ifndef TEST_PACKED_H
#define TEST_PACKED_H

#include "packed_drv.h"
#include "test_common.h"

#define P_DESC_GPA	0x10c00ULL	/* up to 2048 slots, to 0x18c00 */
#define P_DRIVER_GPA	0x30000ULL
#define P_DEVICE_GPA	0x31000ULL
#define P_TABLE_GPA	0x20000ULL	/* indirect tables */
#define P_NPAGES	(T_MEM_SIZE / 4096)

struct ptctx {
	struct tctx t;		/* memory, relay device, fds, log */
	struct packed_drv drv;	/* the guest's driver */
	struct packed_dev dev;	/* the device, on the mediated ring */
	struct vrelay_queue *q;
	const struct vrelay_mring_info *m;
};

/* Guest memory, a guest ring idle at position at, no queue yet. */
static inline void
pt_init(struct ptctx *p, uint16_t size, struct packed_pos at)
{
	memset(p, 0, sizeof(*p));
	t_init(&p->t, size);
	CHECK(packed_drv_init(&p->drv, size, P_DESC_GPA, P_DRIVER_GPA,
			      P_DEVICE_GPA, vq_drv_xlate_flat,
			      &p->t.flat) == 0);
	packed_drv_reset(&p->drv, at);
}

/* A queue conf for the guest ring, the device state where it is idle. */
static inline struct vrelay_queue_conf
pt_conf(struct ptctx *p)
{
	struct vrelay_queue_conf c = {
		.name = "pq", .qid = 0, .size = p->drv.size,
		.format = VRELAY_RING_PACKED, .desc = p->drv.desc,
		.driver_area = p->drv.driver, .device_area = p->drv.device,
		.device_area_gpa = P_DEVICE_GPA, .desc_gpa = P_DESC_GPA,
		.indirect = true,
		.guest_kick_fd = p->t.kick_fd, .guest_call_fd = p->t.call_fd,
		.device_doorbell_fd = p->t.doorbell_fd,
		.device_irq_fd = p->t.irq_fd,
		.state = { p->drv.avail.idx, p->drv.used.idx,
			   p->drv.avail.wrap, p->drv.used.wrap },
	};

	return c;
}

/* Create the queue; the fake device starts at the conf's state. */
static inline void
pt_create(struct ptctx *p, const struct vrelay_queue_conf *c)
{
	struct packed_pos a = { c->state.avail_idx, c->state.avail_wrap };
	struct packed_pos u = { c->state.used_idx, c->state.used_wrap };

	p->q = vrelay_queue_create(p->t.dev, c);
	if (p->q == NULL)
		fprintf(stderr, "packed queue create: %s\n", strerror(errno));
	CHECK(p->q != NULL);
	p->m = vrelay_queue_mring(p->q);
	CHECK(p->m->format == VRELAY_RING_PACKED);
	packed_dev_init(&p->dev, c->size, p->m->desc, p->m->driver_area,
			p->m->device_area, vq_drv_xlate_flat, &p->t.flat, a,
			u);
}

/* pt_init and pt_create with the default conf, with or without a log. */
static inline void
pt_setup(struct ptctx *p, uint16_t size, struct packed_pos at, bool log)
{
	struct vrelay_queue_conf c;

	pt_init(p, size, at);
	c = pt_conf(p);
	if (log)
		CHECK(vrelay_device_set_log(p->t.dev, p->t.log,
					    T_LOG_SIZE) == 0);
	pt_create(p, &c);
}

static inline void
pt_fini(struct ptctx *p)
{
	if (p->q != NULL)
		vrelay_queue_destroy(p->q);
	packed_drv_fini(&p->drv);
	t_fini(&p->t);
}

/* Count the set bits of the whole log. */
static inline uint64_t
pt_log_count(const struct ptctx *p)
{
	uint64_t n = 0;

	for (uint64_t pg = 0; pg < P_NPAGES; pg++)
		n += t_log_bit(p->t.log, pg);
	return n;
}

#endif /* TEST_PACKED_H */
