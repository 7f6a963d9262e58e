/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vu-hostile: a vhost-user front-end that misbehaves, for the
 * robustness suite. Subcommands:
 *
 *   attack  --socket S --kind K   break the TX ring of queue pair 1 (or
 *                                 scribble on every used->flags), then
 *                                 prove queue pair 0 still carries
 *                                 traffic and the device still stops
 *   toggle  --socket S --count N  LOG_ALL on/off N times under traffic,
 *                                 re-sending SET_LOG_BASE each time
 *   churn   --socket S --count N  N sessions: start, traffic, maybe
 *                                 logging, then an abrupt close
 *   traffic --socket S [--seconds N]
 *                                 traffic until killed (SIGKILL tests),
 *                                 or for N seconds, then verified
 *   migrate --socket S --dest-socket D --replace-log-round R
 *           [--bad-log-round B]   the migration simulator with the
 *                                 dirty log replaced mid-migration
 *                                 (and SET_LOG_BASE messages the
 *                                 back-end rejects after round B)
 *
 * --packed runs every subcommand on packed rings (VIRTIO_F_RING_PACKED).
 *
 * Exit status 0 when the expected behaviour was seen; one summary line
 * "vu-hostile: PASS|FAIL ..." on stdout.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostile.h"
#include "scenario.h"
#include "session.h"
#include "vnet.h"

#define CONNECT_MS 5000
#define TRAFFIC_MS 3000

struct opts {
	const char *cmd;
	const char *socket, *dest;
	int kind;
	unsigned int count, queues, replace_round, bad_round, seconds;
	bool log;		/* turn LOG_ALL on (relay under policy auto) */
	bool packed;		/* packed rings (VIRTIO_F_RING_PACKED) */
	uint64_t packets;
};

static int
fail(const char *what, int err)
{
	printf("vu-hostile: FAIL %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

/*
 * Frames a previous session left on the wire (it vanished with traffic
 * in flight) arrive here first, as they would at a new VM: take them
 * in, then start counting from zero.
 */
static void
sess_settle(struct fe_sess *s)
{
	unsigned int i;

	for (i = 0; i < 20; i++) {
		vnet_poll(&s->vn);
		usleep(5000);
	}
	for (i = 0; i < s->vn.cfg.nqp; i++)
		memset(&s->vn.qp[i].st, 0, sizeof(s->vn.qp[i].st));
}

static int
sess_open(struct fe_sess *s, const struct opts *o, uint64_t max_pkts)
{
	int ret;

	ret = fe_sess_connect(s, o->socket, 16, fe_sess_features(o->packed),
			      CONNECT_MS);
	if (ret < 0)
		return ret;
	if (o->packed && vdev_ring_fmt(&s->vd) != VQ_PACKED)
		return -ENOTSUP;
	ret = fe_sess_vnet(s, o->queues, 256, max_pkts);
	if (ret < 0)
		return ret;
	ret = vdev_start(&s->vd, &s->gm, s->vqs, s->nvq, NULL);
	if (ret < 0)
		return ret;
	vnet_publish(&s->vn);
	sess_settle(s);
	return 0;
}

/* Verified traffic; a short report of what went wrong. */
static int
traffic_check(struct fe_sess *s, uint64_t n)
{
	struct vnet_qstats t;
	int ret;

	ret = fe_sess_traffic(s, n, TRAFFIC_MS, &t);
	if (ret == -EPROTO)
		printf("vu-hostile: traffic sent %" PRIu64 " rx %" PRIu64
		       " lost %" PRIu64 " dup %" PRIu64 " corrupt %" PRIu64
		       " bad %" PRIu64 "\n", t.sent, t.rx, t.lost, t.dup,
		       t.corrupt, t.bad);
	return ret;
}

/*
 * Open a session, check CHECK packets of clean traffic (0: none), and
 * start dirty logging if the options ask for it.
 */
static int
sess_start(struct fe_sess *s, const struct opts *o, uint64_t max_pkts,
	   uint64_t check)
{
	int ret;

	ret = sess_open(s, o, max_pkts);
	if (ret == 0 && check != 0)
		ret = traffic_check(s, check);
	if (ret == 0 && o->log)
		ret = vdev_log_start(&s->vd, &s->log, s->vqs, s->nvq);
	return ret;
}

static int
stop_device(struct fe_sess *s)
{
	uint32_t bases[2 * VNET_MAX_QP];

	return vdev_stop(&s->vd, s->vqs, s->nvq, bases);
}

/* Scribble on every used->flags between bursts: traffic must go on. */
static int
attack_used_flags(struct fe_sess *s)
{
	unsigned int i, r;
	int ret;

	for (r = 0; r < 20; r++) {
		for (i = 0; i < s->nvq; i++)
			vfh_corrupt(s->vqs[i], &s->gm, VFH_USED_FLAGS);
		ret = traffic_check(s, 100);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int
cmd_attack(const struct opts *o)
{
	struct fe_sess s;
	unsigned int nqp = o->queues;
	int ret;

	if (nqp < 2)
		return fail("attack needs --queues >= 2", EINVAL);
	ret = sess_start(&s, o, 100000, 500);
	if (ret == 0)
		ret = traffic_check(&s, 500);
	if (ret < 0)
		return fail("clean traffic before the attack", ret);
	if (o->kind == VFH_USED_FLAGS) {
		ret = attack_used_flags(&s);
		if (ret < 0)
			return fail("traffic with used flags scribbled", ret);
	} else {
		/* The last queue pair's TX ring is idle after the drain. */
		ret = vfh_corrupt(&s.vn.qp[nqp - 1].tx, &s.gm, o->kind);
		if (ret < 0)
			return fail("corrupt", ret);
		usleep(300 * 1000);
		/* From now on only the other queue pairs carry traffic. */
		s.vn.cfg.nqp = nqp - 1;
		ret = traffic_check(&s, 2000);
		s.vn.cfg.nqp = nqp;
		if (ret < 0)
			return fail("traffic on the other queues", ret);
	}
	/* The device must still answer a stop, broken queue or not. */
	ret = stop_device(&s);
	if (ret < 0)
		return fail("GET_VRING_BASE after the attack", ret);
	fe_sess_close(&s);
	printf("vu-hostile: PASS attack %s: other queues ok, device stopped\n",
	       vfh_kind_name(o->kind));
	return 0;
}

static int
cmd_toggle(const struct opts *o)
{
	uint64_t per = 16, pages, quiet = 0;
	struct dl_bitmap bm;
	unsigned int i;
	struct fe_sess s;
	int ret;

	ret = sess_open(&s, o, (uint64_t)o->count * 2 * per + 1000);
	if (ret == 0)
		ret = dl_bitmap_init(&bm, s.gm.gpa_end);
	if (ret == 0)
		ret = traffic_check(&s, 100);
	for (i = 0; i < o->count && ret == 0; i++) {
		/* Each start re-sends SET_LOG_BASE, as QEMU does. */
		ret = vdev_log_start(&s.vd, &s.log, s.vqs, s.nvq);
		if (ret == 0)
			ret = vnet_run(&s.vn, per, TRAFFIC_MS);
		if (ret == 0)
			ret = vdev_log_stop(&s.vd, s.vqs, s.nvq);
		pages = dl_log_read_clear(&s.log, &bm);
		/* Traffic while logging always writes some used ring. */
		quiet += pages == 0;
		if (ret == 0)
			ret = vnet_run(&s.vn, per, TRAFFIC_MS);
	}
	if (ret == 0)
		ret = traffic_check(&s, 100);
	if (ret < 0) {
		printf("vu-hostile: toggle %u failed\n", i);
		return fail("toggle", ret);
	}
	ret = stop_device(&s);
	fe_sess_close(&s);
	dl_bitmap_free(&bm);
	if (ret < 0)
		return fail("stop after toggling", ret);
	if (quiet != 0) {
		printf("vu-hostile: FAIL %" PRIu64 " of %u logging phases "
		       "logged nothing\n", quiet, o->count);
		return 1;
	}
	printf("vu-hostile: PASS toggle %u times, traffic intact\n", o->count);
	return 0;
}

static int
cmd_churn(const struct opts *o)
{
	unsigned int i;
	struct fe_sess s;
	int ret = 0;

	for (i = 0; i < o->count && ret == 0; i++) {
		ret = sess_start(&s, o, 1000, 100);
		if (ret == 0)
			ret = vnet_run(&s.vn, 100, TRAFFIC_MS);
		/* Every other session stops cleanly; the rest just vanish. */
		if (ret == 0 && (i & 1))
			ret = stop_device(&s);
		fe_sess_close(&s);
	}
	if (ret < 0) {
		printf("vu-hostile: churn session %u failed\n", i);
		return fail("churn", ret);
	}
	printf("vu-hostile: PASS churn %u sessions\n", o->count);
	return 0;
}

static uint64_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int
cmd_traffic(const struct opts *o)
{
	uint64_t end = now_s() + (o->seconds ? o->seconds : 1000000);
	struct vnet_qstats t;
	struct fe_sess s;
	int ret;

	ret = sess_start(&s, o, 1u << 22, 0);
	if (ret < 0)
		return fail("traffic setup", ret);
	printf("vu-hostile: traffic running\n");
	/* Until killed, the time is up, or the sequence space runs out. */
	while ((ret = vnet_run(&s.vn, 256, TRAFFIC_MS)) == 0 &&
	       now_s() < end && s.vn.qp[0].st.sent + 256 < s.vn.cfg.max_pkts)
		;
	if (ret == 0)
		ret = traffic_check(&s, 0);
	if (ret == 0)
		ret = stop_device(&s);
	vnet_totals(&s.vn, &t);
	fe_sess_close(&s);
	if (ret < 0)
		return fail("traffic", ret);
	printf("vu-hostile: PASS traffic sent %" PRIu64 " rx %" PRIu64 "\n",
	       t.sent, t.rx);
	return 0;
}

static int
cmd_migrate(const struct opts *o)
{
	struct vufe_scenario sc;
	struct vufe_scenario_result r;

	vufe_scenario_defaults(&sc);
	sc.src = o->socket;
	sc.dst = o->dest;
	sc.queues = o->queues;
	sc.packed = o->packed;
	sc.rounds = 4;
	sc.packets = o->packets;
	sc.replace_log_round = o->replace_round;
	sc.bad_log_round = o->bad_round;
	if (vufe_scenario_run(&sc, &r) < 0)
		return fail("migration", EIO);
	printf("vu-hostile: %s migrate replace-log-round=%u bad-log-round=%u"
	       " mismatches=%" PRIu64 " unlogged=%" PRIu64 " lost=%" PRIu64
	       "\n", r.ok ? "PASS" : "FAIL", o->replace_round, o->bad_round,
	       r.mig.mismatches,
	       r.mig.unlogged, r.traffic.lost);
	return r.ok ? 0 : 1;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: vu-hostile attack|toggle|churn|traffic|migrate "
		"--socket S [--dest-socket D]\n"
		"  [--kind head-oob|next-oob|loop|indirect-len|indirect-self|"
		"buf-oob|buf-gap|idx-jump|used-flags]\n"
		"  [--count N] [--queues N] [--log] [--packets N] "
		"[--replace-log-round R] [--bad-log-round B] [--seconds N] "
		"[--packed]\n");
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "socket", 1, NULL, 's' }, { "dest-socket", 1, NULL, 'd' },
		{ "kind", 1, NULL, 'k' }, { "count", 1, NULL, 'c' },
		{ "queues", 1, NULL, 'q' }, { "log", 0, NULL, 'l' },
		{ "packets", 1, NULL, 'n' },
		{ "replace-log-round", 1, NULL, 'r' },
		{ "seconds", 1, NULL, 'S' },
		{ "bad-log-round", 1, NULL, 'b' },
		{ "packed", 0, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .kind = -1, .count = 1, .queues = 2,
			    .packets = 20000, .replace_round = 2 };
	if (argc < 2)
		return -EINVAL;
	o->cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'd': o->dest = optarg; break;
		case 'k': o->kind = vfh_kind_parse(optarg); break;
		case 'c': o->count = atoi(optarg); break;
		case 'q': o->queues = atoi(optarg); break;
		case 'l': o->log = true; break;
		case 'n': o->packets = strtoull(optarg, NULL, 0); break;
		case 'r': o->replace_round = atoi(optarg); break;
		case 'S': o->seconds = atoi(optarg); break;
		case 'b': o->bad_round = atoi(optarg); break;
		case 'P': o->packed = true; break;
		default: return -EINVAL;
		}
	}
	if (o->socket == NULL || o->queues == 0 || o->queues > VNET_MAX_QP)
		return -EINVAL;
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse(argc, argv, &o) < 0) {
		usage();
		return 2;
	}
	if (strcmp(o.cmd, "attack") == 0 && o.kind >= 0)
		return cmd_attack(&o);
	if (strcmp(o.cmd, "toggle") == 0)
		return cmd_toggle(&o);
	if (strcmp(o.cmd, "churn") == 0)
		return cmd_churn(&o);
	if (strcmp(o.cmd, "traffic") == 0)
		return cmd_traffic(&o);
	if (strcmp(o.cmd, "migrate") == 0 && o.dest != NULL)
		return cmd_migrate(&o);
	usage();
	return 2;
}
