/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * vu-traffic: a benchmark guest on the project's own vhost-user
 * front-end (tests/frontend), for what DPDK's virtio-user cannot drive:
 * up to 16 queue pairs (32 rings) on one device (issue #18). It plays the
 * hypervisor and the virtio-net driver in one thread, sends numbered
 * frames on every queue pair of a loopback back-end at a bounded window
 * per queue pair, and checks every frame that comes back: lost,
 * duplicated, misrouted (bad queue, header or length) and corrupt
 * (payload) frames are counted apart.
 *
 * Output: one line, as vu_guest's (tests/integration/vu_guest.c), so
 * that bench_lm.sh reads either guest:
 *   {"result":"PASS|FAIL","sent":..,"received":..,"lost":..,"dup":..,
 *    "corrupt":..,"misrouted":..,"elapsed_s":..,"pps":..,
 *    "mono_start":..,"mono_end":..}
 * Exit status 0 on PASS.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "session.h"
#include "vnet.h"

#define CONNECT_MS 10000

struct opts {
	const char *socket;
	unsigned int queues, window, size, region_mb;
	uint64_t packets;	/* over all queue pairs */
	int timeout_ms;		/* traffic stall limit */
	bool packed;
};

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s --socket S [options]\n"
		"  --queues N     queue pairs (1..%u, default 1)\n"
		"  --packets N    frames over all queue pairs (default 1000000)\n"
		"  --window N     frames in flight per queue pair (default 32)\n"
		"  --size B       frame length (default 64)\n"
		"  --packed       packed rings\n"
		"  --timeout S    traffic stall limit in seconds (default 10)\n",
		prog, VNET_MAX_QP);
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "socket", 1, NULL, 's' }, { "queues", 1, NULL, 'q' },
		{ "packets", 1, NULL, 'n' }, { "window", 1, NULL, 'w' },
		{ "size", 1, NULL, 'b' }, { "packed", 0, NULL, 'P' },
		{ "timeout", 1, NULL, 't' }, { "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .queues = 1, .window = 32, .size = 64,
			    .packets = 1000000, .timeout_ms = 10000 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'q': o->queues = atoi(optarg); break;
		case 'n': o->packets = strtoull(optarg, NULL, 0); break;
		case 'w': o->window = atoi(optarg); break;
		case 'b': o->size = atoi(optarg); break;
		case 'P': o->packed = true; break;
		case 't': o->timeout_ms = atoi(optarg) * 1000; break;
		default: return -1;
		}
	}
	if (o->socket == NULL || o->queues == 0 || o->queues > VNET_MAX_QP ||
	    o->packets < o->queues)
		return -1;
	/* RX buffers (2 KiB) and TX slots of every ring, with room. */
	o->region_mb = 8 + 2 * o->queues;
	return 0;
}

static void
report(const char *result, const struct vnet_qstats *t, double t0,
       double t1)
{
	double el = t1 > t0 ? t1 - t0 : 0;

	printf("{\"result\":\"%s\",\"sent\":%" PRIu64 ",\"received\":%"
	       PRIu64 ",\"lost\":%" PRIu64 ",\"dup\":%" PRIu64
	       ",\"corrupt\":%" PRIu64 ",\"misrouted\":%" PRIu64
	       ",\"elapsed_s\":%.3f,\"pps\":%.0f,\"mono_start\":%.6f,"
	       "\"mono_end\":%.6f}\n", result, t->sent, t->rx, t->lost,
	       t->dup, t->corrupt, t->bad, el, el > 0 ? t->rx / el : 0.0,
	       t0, t1);
}

int
main(int argc, char **argv)
{
	struct vnet_qstats t = { 0 };
	struct fe_sess s;
	struct opts o;
	struct vnet_cfg vc;
	uint64_t per_qp;
	double t0 = 0, t1 = 0;
	int ret;

	if (parse(argc, argv, &o) < 0) {
		usage(argv[0]);
		return 2;
	}
	per_qp = o.packets / o.queues;
	vc = (struct vnet_cfg){ .nqp = o.queues, .qsize = 256,
				.pkt_size = o.size, .buf_size = 2048,
				.max_pkts = per_qp, .window = o.window };
	ret = fe_sess_connect(&s, o.socket, o.region_mb,
			      fe_sess_features(o.packed), CONNECT_MS);
	if (ret == 0 && o.packed && vdev_ring_fmt(&s.vd) != VQ_PACKED)
		ret = -ENOTSUP;
	if (ret == 0)
		ret = fe_sess_vnet_cfg(&s, &vc);
	if (ret == 0)
		ret = vdev_start(&s.vd, &s.gm, s.vqs, s.nvq, NULL);
	if (ret == 0) {
		vnet_publish(&s.vn);
		t0 = mono();
		ret = fe_sess_traffic(&s, per_qp, o.timeout_ms, &t);
		t1 = mono();
	}
	if (ret < 0 && ret != -EPROTO) {
		fprintf(stderr, "vu-traffic: %s\n", strerror(-ret));
		if (s.vn_ready)
			vnet_totals(&s.vn, &t);	/* as far as it got */
	}
	report(ret == 0 ? "PASS" : "FAIL", &t, t0, t1);
	fe_sess_close(&s);
	return ret == 0 ? 0 : 1;
}
