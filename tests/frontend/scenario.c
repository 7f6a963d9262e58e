/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The migration scenario shared by vu-migrate and vdpa-lm --demo.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_mem.h"
#include "migrate.h"
#include "scenario.h"
#include "vhost_dev.h"
#include "vnet.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
/*
 * A backend re-listens after a session ends (a cancelled migration's
 * destination): on a loaded 2-CPU machine that took more than 5 s once.
 */
#define CONNECT_TIMEOUT_MS 20000

/* The last run's driver, for vufe_scenario_print_queues(). */
static struct vnet *last_vn;

void
vufe_scenario_defaults(struct vufe_scenario *o)
{
	*o = (struct vufe_scenario){ .queues = 1, .rounds = 3, .mrg = true,
				     .pkt_size = 1024, .buf_size = 2048,
				     .packets = 20000, .ram_mb = 64,
				     .timeout_ms = 3000 };
}

static uint64_t
want_features(const struct vufe_scenario *o)
{
	uint64_t f = (1ull << VU_F_VERSION_1) | (1ull << VU_F_MQ) |
		     (1ull << VU_F_PROTOCOL_FEATURES) |
		     (1ull << VU_F_LOG_ALL);

	if (o->mrg)
		f |= 1ull << VU_F_MRG_RXBUF;
	if (o->indirect)
		f |= 1ull << VU_F_INDIRECT_DESC;
	if (!o->no_event_idx)
		f |= 1ull << VU_F_EVENT_IDX;
	if (o->packed)
		f |= 1ull << VU_F_RING_PACKED;
	return f;
}

static int
check_features(const struct vufe_scenario *o, const struct vdev *vd)
{
	if (o->queues > vd->queue_num) {
		fprintf(stderr, "device has %" PRIu64 " queue pairs\n",
			vd->queue_num);
		return -ERANGE;
	}
	if ((o->mrg && !vdev_has(vd, VU_F_MRG_RXBUF)) ||
	    (o->indirect && !vdev_has(vd, VU_F_INDIRECT_DESC)) ||
	    (o->packed && !vdev_has(vd, VU_F_RING_PACKED))) {
		fprintf(stderr, "device lacks a requested feature\n");
		return -ENOTSUP;
	}
	return 0;
}

static void
vnet_cfg_from(const struct vufe_scenario *o, const struct vdev *vd,
	      struct vnet_cfg *c)
{
	*c = (struct vnet_cfg){
		.nqp = o->queues,
		.mrg = o->mrg,
		.version1 = vdev_has(vd, VU_F_VERSION_1),
		.event_idx = vdev_has(vd, VU_F_EVENT_IDX),
		.indirect = o->indirect,
		.packed = vdev_ring_fmt(vd) == VQ_PACKED,
		.qsize = 256,
		.pkt_size = o->pkt_size,
		.buf_size = o->buf_size,
		.max_pkts = o->packets,
	};
}

static int
fail(const char *what, int err)
{
	fprintf(stderr, "vu-migrate: %s: %s\n", what, strerror(-err));
	return err;
}

/* Source side: RAM, session, driver, initial traffic. */
static int
start_source(const struct vufe_scenario *o, struct guest_mem *gm, struct vdev *vd,
	     struct vnet *vn)
{
	/* Low RAM at 0, high RAM above a hole at 4 GiB, as on a PC. */
	uint64_t gpa[2] = { 0, 4 * GIB };
	uint64_t size[2] = { o->ram_mb * MIB, o->ram_mb * MIB };
	struct vnet_cfg vc;
	struct virtq *vqs[2 * VNET_MAX_QP];
	int ret;

	ret = gm_create(gm, gpa, size, 2);
	if (ret < 0)
		return fail("guest memory", ret);
	ret = vdev_connect(vd, o->src, want_features(o), CONNECT_TIMEOUT_MS);
	if (ret < 0)
		return fail("connect source", ret);
	ret = check_features(o, vd);
	if (ret < 0)
		return ret;
	vnet_cfg_from(o, vd, &vc);
	ret = vnet_init(vn, gm, &vc);
	if (ret < 0)
		return fail("driver init", ret);
	ret = vdev_start(vd, gm, vqs, vnet_vqs(vn, vqs), NULL);
	if (ret < 0)
		return fail("start source", ret);
	vnet_publish(vn);
	ret = vnet_run(vn, o->packets / 4, o->timeout_ms);
	return ret < 0 ? fail("warm-up traffic", ret) : 0;
}

static bool
traffic_ok(const struct vnet_qstats *t)
{
	return t->lost == 0 && t->dup == 0 && t->corrupt == 0 && t->bad == 0;
}

static bool
mig_ok(const struct mig_result *r)
{
	return r->mismatches == 0 && r->unlogged == 0 && r->idx_bad == 0 &&
	       !r->quiesce_timeout;
}

static void
print_queues(struct vnet *vn)
{
	unsigned int i;

	for (i = 0; i < vn->cfg.nqp; i++) {
		const struct vnet_qstats *s = &vn->qp[i].st;

		printf("  qp%u: sent %" PRIu64 " rx %" PRIu64 " lost %" PRIu64
		       " dup %" PRIu64 " corrupt %" PRIu64 " bad %" PRIu64
		       " kicks tx %" PRIu64 "/rx %" PRIu64 "\n", i, s->sent,
		       s->rx, s->lost, s->dup, s->corrupt, s->bad,
		       vn->qp[i].tx.kicks, vn->qp[i].rx.kicks);
	}
}

/* Cancelled migration: logging on, rounds, logging off, traffic goes on. */
static int
cancelled_run(const struct vufe_scenario *o, struct mig_ctx *m)
{
	struct mig_result r;
	int ret;

	printf("migration 1 (cancelled):\n");
	ret = mig_precopy(m, true, &r);
	if (ret < 0)
		return fail("cancelled migration", ret);
	printf("cancelled: log precision %.3f (logged %" PRIu64
	       " / device-written %" PRIu64 "), unlogged %" PRIu64 "\n",
	       r.precision, r.logged, r.written, r.unlogged);
	ret = vnet_run(m->vn, o->packets / 8, o->timeout_ms);
	return ret < 0 ? fail("traffic after cancel", ret) : 0;
}

/* Destination: new RAM from the image, new session, rest of traffic. */
static int
finish_on_dest(const struct vufe_scenario *o, struct mig_ctx *m, struct vdev *dst,
	       struct guest_mem *dgm)
{
	struct vnet *vn = m->vn;
	int ret;

	ret = vdev_connect(dst, o->dst, want_features(o), CONNECT_TIMEOUT_MS);
	if (ret < 0)
		return fail("connect destination", ret);
	if (dst->features != m->vd->features)
		return fail("destination features differ", -EPROTO);
	ret = mig_dest_start(m, dst, dgm);
	if (ret < 0)
		return fail("start destination", ret);
	ret = vnet_run(vn, o->packets, o->timeout_ms);
	if (ret < 0)
		return fail("traffic on destination", ret);
	ret = vnet_drain(vn, o->timeout_ms);
	if (ret < 0)
		fprintf(stderr, "vu-migrate: drain: %s\n", strerror(-ret));
	return 0;
}

static void
setup_mig_cfg(const struct vufe_scenario *o, struct mig_cfg *mc)
{
	*mc = (struct mig_cfg){
		.rounds = o->rounds,
		.pkts_per_round = o->packets / 4 / o->rounds,
		.no_log = o->no_log,
		.timeout_ms = o->timeout_ms,
		.replace_log_round = o->replace_log_round,
		.bad_log_round = o->bad_log_round,
	};
	if (o->cancel_first)
		mc->pkts_per_round /= 2;
	if (mc->pkts_per_round == 0)
		mc->pkts_per_round = 1;
}

void
vufe_scenario_print_queues(void)
{
	if (last_vn != NULL)
		print_queues(last_vn);
}

int
vufe_scenario_run(const struct vufe_scenario *o,
		  struct vufe_scenario_result *res)
{
	static struct vnet vn;
	struct guest_mem gm, dgm = { 0 };
	struct vdev src, dst;
	struct mig_cfg mc;
	struct mig_ctx m;
	int ret;

	memset(res, 0, sizeof(*res));
	if (last_vn != NULL) {
		vnet_free(last_vn);
		last_vn = NULL;
	}
	ret = start_source(o, &gm, &src, &vn);
	if (ret < 0)
		return ret;
	last_vn = &vn;
	setup_mig_cfg(o, &mc);
	if (mig_init(&m, &mc, &src, &vn, &gm) < 0)
		return fail("migration init", -ENOMEM);
	if (o->cancel_first) {
		ret = cancelled_run(o, &m);
		if (ret < 0)
			goto out;
	}
	printf("migration %d:\n", o->cancel_first ? 2 : 1);
	ret = mig_precopy(&m, false, &res->mig);
	if (ret < 0) {
		fail("migration", ret);
		goto out;
	}
	mig_print("migration", &res->mig);
	vdev_close(&src);
	if (!(o->expect_mismatch && res->mig.mismatches > 0)) {
		res->dest_ran = finish_on_dest(o, &m, &dst, &dgm) == 0;
		vdev_close(&dst);
	}
	vnet_totals(&vn, &res->traffic);
	if (o->expect_mismatch)
		res->ok = res->mig.mismatches > 0;
	else
		res->ok = res->dest_ran && mig_ok(&res->mig) &&
			  traffic_ok(&res->traffic);
	ret = 0;
out:
	mig_free(&m);
	gm_destroy(&gm);
	if (dgm.nr)
		gm_destroy(&dgm);
	return ret;
}
