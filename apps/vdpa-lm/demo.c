/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * vdpa-lm --demo: a live migration with nothing else installed.
 *
 * Two ifcvf_sw devices in loopback stand for the source and destination
 * hosts. A built-in guest frontend (the project's vhost-user test
 * frontend, which plays the hypervisor) runs traffic on the source,
 * turns dirty logging on (the source device switches to the relay),
 * copies guest memory by the dirty log, stops the source, compares the
 * copy with the source memory byte for byte, and carries on on the
 * destination device, in direct I/O.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_vhost.h>

#include "scenario.h"
#include "vdpa_lm.h"

#define DEMO_SRC "ifcvf_sw0"
#define DEMO_DST "ifcvf_sw1"
#define IFCSW_DEMO_QUEUE_PAIRS 2

struct demo {
	struct vufe_scenario sc;
	struct vufe_scenario_result res;
	int ret;
	volatile bool done;
};

static void *
demo_guest_main(void *arg)
{
	struct demo *d = arg;

	d->ret = vufe_scenario_run(&d->sc, &d->res);
	d->done = true;
	return NULL;
}

/* Print each device state change while the guest runs. */
static void
demo_watch(struct demo *d)
{
	enum vrelay_dstate last[2] = { VRELAY_DSTATE_IDLE, VRELAY_DSTATE_IDLE };
	const char *dev[2] = { DEMO_SRC, DEMO_DST };
	uint64_t t0 = vdpa_lm_now_us() / 1000;
	unsigned int i;

	while (!d->done) {
		for (i = 0; i < 2; i++) {
			struct vrelay_vhost_info mi;

			if (lm_dev_info(dev[i], &mi) < 0 ||
			    mi.state == last[i])
				continue;
			printf("[%5" PRIu64 " ms] %s (%s host): %s -> %s\n",
			       vdpa_lm_now_us() / 1000 - t0, dev[i],
			       i == 0 ? "source" : "destination",
			       vrelay_dstate_to_str(last[i]),
			       vrelay_dstate_to_str(mi.state));
			last[i] = mi.state;
		}
		usleep(200);
	}
}

struct demo_dev_totals {
	uint64_t packets, pages_logged, relay_used;
	uint64_t to_relay, to_direct, max_ns;
};

static void
demo_totals(const char *dev, struct demo_dev_totals *t)
{
	struct lm_queue lq;
	uint16_t q;

	memset(t, 0, sizeof(*t));
	for (q = 0; q < 2 * IFCSW_DEMO_QUEUE_PAIRS; q++) {
		if (lm_queue_get(dev, q, &lq) < 0)
			continue;
		t->packets += lq.packets;
		t->pages_logged += lq.qi.relay.pages_logged;
		t->relay_used += lq.qi.relay.used_relayed;
		t->to_relay += lq.qi.sw.to_relay;
		t->to_direct += lq.qi.sw.to_direct;
		if (lq.qi.sw.max_ns > t->max_ns)
			t->max_ns = lq.qi.sw.max_ns;
	}
}

static void
demo_report(const struct demo *d)
{
	const struct mig_result *m = &d->res.mig;
	const struct vnet_qstats *t = &d->res.traffic;
	struct demo_dev_totals src, dst;

	demo_totals(DEMO_SRC, &src);
	demo_totals(DEMO_DST, &dst);
	printf("\n=== vdpa-relay live migration demo ===\n"
	       "guest traffic    : %" PRIu64 " frames sent, %" PRIu64
	       " received, %" PRIu64 " lost, %" PRIu64 " duplicated, %"
	       PRIu64 " corrupted\n"
	       "source device    : %" PRIu64 " packets, %" PRIu64
	       " used entries relayed, %" PRIu64 " dirty pages logged\n"
	       "destination dev. : %" PRIu64 " packets, in direct I/O\n"
	       "switchovers      : %" PRIu64 " queue(s) to relay, %" PRIu64
	       " back; worst queue unavailable %.3f ms\n"
	       "memory copied    : %" PRIu64 " pages\n"
	       "log precision    : %.3f (pages logged / pages the device "
	       "wrote)\n"
	       "byte-for-byte    : %" PRIu64 " mismatching pages, %" PRIu64
	       " written but unlogged, %u ring index errors\n"
	       "result           : %s\n",
	       t->sent, t->rx, t->lost, t->dup, t->corrupt,
	       src.packets, src.relay_used, src.pages_logged, dst.packets,
	       src.to_relay, src.to_direct, src.max_ns / 1e6,
	       m->copied, m->precision, m->mismatches, m->unlogged,
	       m->idx_bad, d->res.ok ? "PASS: the migrated memory is "
	       "identical and no frame was lost" : "FAIL");
}

int
vdpa_lm_demo_run(struct vdpa_lm *lm)
{
	char dir[] = "/tmp/vdpa-lm-demo.XXXXXX";
	char src[sizeof(dir) + 16], dst[sizeof(dir) + 16];
	struct demo d;
	pthread_t guest;
	unsigned int i;
	int code = 1;

	if (mkdtemp(dir) == NULL) {
		LM_LOG(ERR, "demo: cannot create a temporary directory");
		return 1;
	}
	snprintf(src, sizeof(src), "%s/src.sock", dir);
	snprintf(dst, sizeof(dst), "%s/dst.sock", dir);
	lm->queues = IFCSW_DEMO_QUEUE_PAIRS;
	strcpy(lm->uplink, "loopback");
	if (vdpa_lm_create(lm, src, DEMO_SRC) < 0 ||
	    vdpa_lm_create(lm, dst, DEMO_DST) < 0)
		goto out;

	memset(&d, 0, sizeof(d));
	vufe_scenario_defaults(&d.sc);
	d.sc.src = src;
	d.sc.dst = dst;
	d.sc.queues = IFCSW_DEMO_QUEUE_PAIRS;
	d.sc.packets = 50000;
	d.sc.rounds = 4;
	printf("demo: source %s on %s, destination %s on %s, %u queue "
	       "pairs, loopback\n", DEMO_SRC, src, DEMO_DST, dst,
	       IFCSW_DEMO_QUEUE_PAIRS);
	fflush(stdout);
	if (pthread_create(&guest, NULL, demo_guest_main, &d) != 0)
		goto out;
	demo_watch(&d);
	pthread_join(guest, NULL);
	if (d.ret < 0) {
		printf("demo: the guest frontend failed: %s\n",
		       strerror(-d.ret));
		goto out;
	}
	demo_report(&d);
	code = d.res.ok ? 0 : 1;
out:
	for (i = 0; i < lm->nb_ports; i++) {
		if (lm->ports[i].registered)
			rte_vhost_driver_unregister(lm->ports[i].socket);
		lm->ports[i].registered = false;
	}
	unlink(src);
	unlink(dst);
	rmdir(dir);
	return code;
}
