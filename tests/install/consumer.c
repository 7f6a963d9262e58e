/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * A stand-in for another vDPA driver: built only from the installed
 * headers and pkg-config file, it creates a relay device and an engine,
 * then drives the relay controller the way a driver's probe and an
 * operator's tool do (create with queue-control ops, find by name,
 * policy and engine changes, counters), and checks the name helpers
 * round-trip. No vhost connection: the controller stays idle, so no op
 * may be called.
 */

#include <errno.h>
#include <stdio.h>

#include <vdpa_relay.h>
#include <vdpa_relay_vhost.h>

static int op_calls;

static int
op_program_guest(void *ctx, uint16_t qid, const struct vrelay_vhost_ring *r)
{
	(void)ctx; (void)qid; (void)r;
	return ++op_calls;
}

static int
op_suspend(void *ctx, uint16_t qid, struct vrelay_qstate *st)
{
	(void)ctx; (void)qid; (void)st;
	return ++op_calls;
}

static int
op_program_relay(void *ctx, uint16_t qid, const struct vrelay_mring_info *m,
		 int doorbell_fd, int irq_fd)
{
	(void)ctx; (void)qid; (void)m; (void)doorbell_fd; (void)irq_fd;
	return ++op_calls;
}

static int
op_program_direct(void *ctx, uint16_t qid)
{
	(void)ctx; (void)qid;
	return ++op_calls;
}

static int
op_resume(void *ctx, uint16_t qid, const struct vrelay_qstate *st)
{
	(void)ctx; (void)qid; (void)st;
	return ++op_calls;
}

static uint16_t
op_used_idx(void *ctx, uint16_t qid)
{
	(void)ctx; (void)qid;
	return (uint16_t)++op_calls;
}

static const struct vrelay_vhost_ops ops = {
	.program_guest = op_program_guest,
	.qctl = {
		.suspend = op_suspend,
		.program_relay = op_program_relay,
		.program_direct = op_program_direct,
		.resume = op_resume,
	},
	.used_idx = op_used_idx,
};

static int
controller(void)
{
	struct vrelay_vhost_conf conf = {
		.name = "consumer0", .max_queues = 4, .ops = &ops,
		.policy = VRELAY_POLICY_AUTO, .mode = VRELAY_MODE_EPOLL,
		.relay_cpu = -1,
	};
	struct vrelay_vhost_qinfo qi;
	struct vrelay_vhost_info info;
	struct vrelay_vhost *v;
	enum vrelay_policy p;

	v = vrelay_vhost_create(&conf);
	if (v == NULL || vrelay_vhost_find("consumer0") != v ||
	    vrelay_vhost_create(&conf) != NULL || errno != EEXIST)
		return -1;
	if (vrelay_vhost_set_policy(v, VRELAY_POLICY_ON) != 0 ||
	    vrelay_vhost_set_mode(v, VRELAY_MODE_POLL) != 0 ||
	    vrelay_vhost_get_info(v, &info) != 0 ||
	    info.state != VRELAY_DSTATE_IDLE ||
	    info.policy != VRELAY_POLICY_ON || info.mode != VRELAY_MODE_POLL ||
	    vrelay_vhost_get_qinfo(v, 3, &qi) != 0 ||
	    qi.mode != VRELAY_QMODE_STOPPED ||
	    vrelay_vhost_get_qinfo(v, 4, &qi) != -EINVAL)
		return -1;
	if (vrelay_policy_from_str("off", &p) != 0 || p != VRELAY_POLICY_OFF ||
	    vrelay_policy_from_str("sometimes", &p) != -EINVAL ||
	    *vrelay_qmode_to_str(VRELAY_QMODE_HELD) != 'h' ||
	    *vrelay_dstate_to_str(VRELAY_DSTATE_RELAY) != 'r')
		return -1;
	vrelay_vhost_destroy(v);
	return vrelay_vhost_find("consumer0") == NULL && op_calls == 0 ?
		0 : -1;
}

int
main(void)
{
	struct vrelay_mem mem = { .nregions = 0 };
	struct vrelay_device *dev;
	struct vrelay_engine *e;
	enum vrelay_mode m;

	dev = vrelay_device_create("consumer", &mem);
	e = vrelay_engine_create("consumer", VRELAY_MODE_EPOLL, -1);
	if (dev == NULL || e == NULL ||
	    vrelay_mode_from_str("poll", &m) != 0 || m != VRELAY_MODE_POLL) {
		fprintf(stderr, "consumer: relay library unusable\n");
		return 1;
	}
	vrelay_engine_destroy(e);
	vrelay_device_destroy(dev);
	if (controller() != 0) {
		fprintf(stderr, "consumer: relay controller unusable\n");
		return 1;
	}
	printf("consumer: ok\n");
	return 0;
}
