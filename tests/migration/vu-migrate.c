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

#include "scenario.h"



static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s --socket SRC --dest-socket DST [options]\n"
		"  --queues N          queue pairs (1..%u, default 1)\n"
		"  --mrg on|off        mergeable RX buffers (default on)\n"
		"  --indirect          use indirect descriptors\n"
		"  --packed            packed rings (VIRTIO_F_RING_PACKED)\n"
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
parse(int argc, char **argv, struct vufe_scenario *o)
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
		{ "timeout-ms", 1, NULL, 't' }, { "packed", 0, NULL, 'P' },
		{ "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	vufe_scenario_defaults(o);
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->src = optarg; break;
		case 'd': o->dst = optarg; break;
		case 'q': o->queues = atoi(optarg); break;
		case 'm': o->mrg = strcmp(optarg, "off") != 0; break;
		case 'i': o->indirect = true; break;
		case 'P': o->packed = true; break;
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

static int
summary(const struct vufe_scenario *o, const struct vufe_scenario_result *r)
{
	const struct vnet_qstats *t = &r->traffic;

	vufe_scenario_print_queues();
	printf("vu-migrate: %s queues=%u ring=%s mrg=%s indirect=%s pkt=%u "
	       "buf=%u sent=%" PRIu64 " rx=%" PRIu64 " lost=%" PRIu64 " dup=%" PRIu64
	       " corrupt=%" PRIu64 " bad=%" PRIu64 " mismatches=%" PRIu64
	       " unlogged=%" PRIu64 " precision=%.3f%s\n",
	       r->ok ? "PASS" : "FAIL", o->queues,
	       o->packed ? "packed" : "split", o->mrg ? "on" : "off",
	       o->indirect ? "on" : "off", o->pkt_size, o->buf_size, t->sent,
	       t->rx, t->lost, t->dup, t->corrupt, t->bad, r->mig.mismatches,
	       r->mig.unlogged, r->mig.precision,
	       o->expect_mismatch ? " (expect-mismatch)" : "");
	return r->ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct vufe_scenario_result r;
	struct vufe_scenario o;

	if (parse(argc, argv, &o) < 0) {
		usage(argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (vufe_scenario_run(&o, &r) < 0)
		return 1;
	return summary(&o, &r);
}
