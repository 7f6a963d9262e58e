/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vu-migrate: play the hypervisor over vhost-user against a loopback
 * virtio-net back-end, run traffic and a simulated pre-copy live
 * migration to a second back-end instance, and check that no page,
 * descriptor or frame was lost. Exit status 0 on success.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_mem.h"
#include "migrate.h"
#include "vhost_dev.h"
#include "vnet.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define CONNECT_TIMEOUT_MS 5000

struct opts {
	const char *src, *dst;
	unsigned int queues, rounds;
	bool mrg, indirect, cancel_first, expect_mismatch, reconnect;
	bool no_log, no_event_idx;
	uint32_t pkt_size, buf_size;
	uint64_t packets;
	uint64_t ram_mb;
	int timeout_ms;
};

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s --socket SRC --dest-socket DST [options]\n"
		"  --queues N          queue pairs (1..%u, default 1)\n"
		"  --mrg on|off        mergeable RX buffers (default on)\n"
		"  --indirect          use indirect descriptors\n"
		"  --pkt-size B        frame length (default 1024)\n"
		"  --buf-size B        RX buffer size (default 2048)\n"
		"  --packets N         frames per queue pair (default 20000)\n"
		"  --rounds N          dirty-page rounds (default 3)\n"
		"  --cancel-first      cancel one migration before the real one\n"
		"  --expect-mismatch   succeed only if pages mismatch\n"
		"  --reconnect         destination is SRC again (new session)\n"
		"  --no-log            never enable LOG_ALL (negative control)\n"
		"  --no-event-idx      do not negotiate EVENT_IDX\n"
		"  --ram-mb N          size of each of the 2 RAM regions (64)\n"
		"  --timeout-ms N      traffic stall limit (default 3000)\n",
		prog, VNET_MAX_QP);
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "socket", 1, NULL, 's' }, { "dest-socket", 1, NULL, 'd' },
		{ "queues", 1, NULL, 'q' }, { "mrg", 1, NULL, 'm' },
		{ "indirect", 0, NULL, 'i' }, { "pkt-size", 1, NULL, 'p' },
		{ "buf-size", 1, NULL, 'b' }, { "packets", 1, NULL, 'n' },
		{ "rounds", 1, NULL, 'r' }, { "cancel-first", 0, NULL, 'c' },
		{ "expect-mismatch", 0, NULL, 'x' },
		{ "reconnect", 0, NULL, 'R' }, { "no-log", 0, NULL, 'L' },
		{ "no-event-idx", 0, NULL, 'E' }, { "ram-mb", 1, NULL, 'M' },
		{ "timeout-ms", 1, NULL, 't' }, { "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .queues = 1, .rounds = 3, .mrg = true,
			    .pkt_size = 1024, .buf_size = 2048,
			    .packets = 20000, .ram_mb = 64,
			    .timeout_ms = 3000 };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->src = optarg; break;
		case 'd': o->dst = optarg; break;
		case 'q': o->queues = atoi(optarg); break;
		case 'm': o->mrg = strcmp(optarg, "off") != 0; break;
		case 'i': o->indirect = true; break;
		case 'p': o->pkt_size = atoi(optarg); break;
		case 'b': o->buf_size = atoi(optarg); break;
		case 'n': o->packets = strtoull(optarg, NULL, 0); break;
		case 'r': o->rounds = atoi(optarg); break;
		case 'c': o->cancel_first = true; break;
		case 'x': o->expect_mismatch = true; break;
		case 'R': o->reconnect = true; break;
		case 'L': o->no_log = true; break;
		case 'E': o->no_event_idx = true; break;
		case 'M': o->ram_mb = strtoull(optarg, NULL, 0); break;
		case 't': o->timeout_ms = atoi(optarg); break;
		default: return -EINVAL;
		}
	}
	if (o->reconnect && o->dst == NULL)
		o->dst = o->src;
	if (o->src == NULL || o->dst == NULL || o->queues == 0 ||
	    o->queues > VNET_MAX_QP || o->packets < 16 || o->rounds == 0)
		return -EINVAL;
	return 0;
}

static uint64_t
want_features(const struct opts *o)
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
	return f;
}

static int
check_features(const struct opts *o, const struct vdev *vd)
{
	if (o->queues > vd->queue_num) {
		fprintf(stderr, "device has %" PRIu64 " queue pairs\n",
			vd->queue_num);
		return -ERANGE;
	}
	if ((o->mrg && !vdev_has(vd, VU_F_MRG_RXBUF)) ||
	    (o->indirect && !vdev_has(vd, VU_F_INDIRECT_DESC))) {
		fprintf(stderr, "device lacks a requested feature\n");
		return -ENOTSUP;
	}
	return 0;
}

static void
vnet_cfg_from(const struct opts *o, const struct vdev *vd,
	      struct vnet_cfg *c)
{
	*c = (struct vnet_cfg){
		.nqp = o->queues,
		.mrg = o->mrg,
		.version1 = vdev_has(vd, VU_F_VERSION_1),
		.event_idx = vdev_has(vd, VU_F_EVENT_IDX),
		.indirect = o->indirect,
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
start_source(const struct opts *o, struct guest_mem *gm, struct vdev *vd,
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
cancelled_run(const struct opts *o, struct mig_ctx *m)
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
finish_on_dest(const struct opts *o, struct mig_ctx *m, struct vdev *dst,
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
setup_mig_cfg(const struct opts *o, struct mig_cfg *mc)
{
	*mc = (struct mig_cfg){
		.rounds = o->rounds,
		.pkts_per_round = o->packets / 4 / o->rounds,
		.no_log = o->no_log,
		.timeout_ms = o->timeout_ms,
	};
	if (o->cancel_first)
		mc->pkts_per_round /= 2;
	if (mc->pkts_per_round == 0)
		mc->pkts_per_round = 1;
}

static int
summary(const struct opts *o, struct vnet *vn, const struct mig_result *r,
	bool dest_ran)
{
	struct vnet_qstats t;
	bool ok;

	vnet_totals(vn, &t);
	print_queues(vn);
	if (o->expect_mismatch)
		ok = r->mismatches > 0;
	else
		ok = dest_ran && mig_ok(r) && traffic_ok(&t);
	printf("vu-migrate: %s queues=%u mrg=%s indirect=%s pkt=%u buf=%u "
	       "sent=%" PRIu64 " rx=%" PRIu64 " lost=%" PRIu64 " dup=%" PRIu64
	       " corrupt=%" PRIu64 " bad=%" PRIu64 " mismatches=%" PRIu64
	       " unlogged=%" PRIu64 " precision=%.3f%s\n",
	       ok ? "PASS" : "FAIL", o->queues, o->mrg ? "on" : "off",
	       o->indirect ? "on" : "off", o->pkt_size, o->buf_size, t.sent,
	       t.rx, t.lost, t.dup, t.corrupt, t.bad, r->mismatches,
	       r->unlogged, r->precision,
	       o->expect_mismatch ? " (expect-mismatch)" : "");
	return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct guest_mem gm, dgm = { 0 };
	struct vdev src, dst;
	struct mig_result r;
	struct mig_cfg mc;
	struct mig_ctx m;
	struct vnet vn;
	struct opts o;
	bool dest_ran = false;
	int ret;

	if (parse(argc, argv, &o) < 0) {
		usage(argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (start_source(&o, &gm, &src, &vn) < 0)
		return 1;
	setup_mig_cfg(&o, &mc);
	if (mig_init(&m, &mc, &src, &vn, &gm) < 0)
		return fail("migration init", -ENOMEM), 1;
	if (o.cancel_first && cancelled_run(&o, &m) < 0)
		return 1;
	printf("migration %d:\n", o.cancel_first ? 2 : 1);
	ret = mig_precopy(&m, false, &r);
	if (ret < 0)
		return fail("migration", ret), 1;
	mig_print("migration", &r);
	vdev_close(&src);
	if (!(o.expect_mismatch && r.mismatches > 0)) {
		dest_ran = finish_on_dest(&o, &m, &dst, &dgm) == 0;
		vdev_close(&dst);
	}
	ret = summary(&o, &vn, &r, dest_ran);
	mig_free(&m);
	vnet_free(&vn);
	gm_destroy(&gm);
	if (dgm.nr)
		gm_destroy(&dgm);
	return ret;
}
