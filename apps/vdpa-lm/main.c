/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * vdpa-lm [EAL args] -- [options]
 *
 * Creates one ifcvf_sw device per --socket, serves (or, with --client,
 * connects to) the vhost-user socket with it, forwards the device's wire
 * side to the uplink, then either runs the interactive CLI or prints a
 * status line every --stats-period seconds until SIGINT/SIGTERM.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_vdpa.h>
#include <rte_vhost.h>

#include "ifcvf_sw_api.h"
#include "vdpa_relay_vhost.h"
#include "vdpa_lm.h"

RTE_LOG_REGISTER(vdpa_lm_logtype, app.vdpa_lm, INFO);

#define EXIT_USAGE 2

static struct vdpa_lm lm_app;

static void
usage(const char *prog)
{
	printf("Usage: %s [EAL args] -- [options]\n"
	       "  --socket PATH        vhost-user socket, repeatable: one "
	       "ifcvf_sw device each\n"
	       "  --device NAME        serve the preceding --socket with device "
	       "NAME (default ifcvf_swN,\n"
	       "                       N counting sockets; an EAL --vdev "
	       "ifcvf_sw... of that name is used as is)\n"
	       "  --client             connect to the sockets (reconnect) "
	       "instead of serving them\n"
	       "  --queues N           queue pairs per device (1-16, "
	       "default 1)\n"
	       "  --packed             offer packed virtqueues "
	       "(VIRTIO_F_RING_PACKED)\n"
	       "  --postcopy           offer post-copy migration (vhost-user "
	       "PAGEFAULT)\n"
	       "  --no-mrg-rxbuf       do not offer mergeable rx buffers "
	       "(VIRTIO_NET_F_MRG_RXBUF)\n"
	       "  --relay MODE         relay engine: epoll | poll | auto "
	       "(default auto: adaptive)\n"
	       "  --relay-policy P     when to relay: auto (while the "
	       "hypervisor logs) | on | off\n"
	       "  --uplink U           loopback (default) or the name of an "
	       "ethdev (e.g. net_tap0)\n"
	       "                       that each device's wire side is "
	       "forwarded to\n"
	       "  --relay-cpu N        pin the relay thread to CPU N\n"
	       "  --hw-cpu N           pin the emulated devices' threads to "
	       "CPU N\n"
	       "  --hw-poll-us N       emulated devices poll N us after their "
	       "last work\n"
	       "                       before sleeping (devarg poll_us, "
	       "default " RTE_STR(IFCSW_POLL_US_DEFAULT) ", 0 = off)\n"
	       "  --stats-period S     status line every S seconds "
	       "(default 1, 0 = off)\n"
	       "  --relay-cycle MS     testing: switch every device to the "
	       "relay and back every MS ms\n"
	       "  -i, --interactive    command line (type `help`)\n"
	       "  --demo               run the self-contained migration "
	       "demo and exit\n"
	       "  -h, --help           this text\n", prog);
}

static int
usage_error(const char *prog, const char *fmt, const char *arg)
{
	fprintf(stderr, "vdpa-lm: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	usage(prog);
	return -EINVAL;
}

static int
parse_uint_arg(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return (errno != 0 || *s == '\0' || *end != '\0' || *out > max) ?
		-EINVAL : 0;
}

static int
parse_args(struct vdpa_lm *lm, int argc, char **argv)
{
	enum { OPT_SOCKET = 256, OPT_CLIENT, OPT_QUEUES, OPT_RELAY,
	       OPT_POLICY, OPT_UPLINK, OPT_RELAY_CPU, OPT_HW_CPU,
	       OPT_STATS, OPT_DEMO, OPT_CYCLE, OPT_DEVICE, OPT_PACKED,
	       OPT_NO_MRG, OPT_POSTCOPY, OPT_HW_POLL };
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "client", no_argument, NULL, OPT_CLIENT },
		{ "queues", required_argument, NULL, OPT_QUEUES },
		{ "packed", no_argument, NULL, OPT_PACKED },
		{ "no-mrg-rxbuf", no_argument, NULL, OPT_NO_MRG },
		{ "postcopy", no_argument, NULL, OPT_POSTCOPY },
		{ "relay", required_argument, NULL, OPT_RELAY },
		{ "relay-policy", required_argument, NULL, OPT_POLICY },
		{ "uplink", required_argument, NULL, OPT_UPLINK },
		{ "relay-cpu", required_argument, NULL, OPT_RELAY_CPU },
		{ "hw-cpu", required_argument, NULL, OPT_HW_CPU },
		{ "hw-poll-us", required_argument, NULL, OPT_HW_POLL },
		{ "stats-period", required_argument, NULL, OPT_STATS },
		{ "interactive", no_argument, NULL, 'i' },
		{ "demo", no_argument, NULL, OPT_DEMO },
		{ "relay-cycle", required_argument, NULL, OPT_CYCLE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = argv[0];
	unsigned long v;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "ih", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET:
			if (lm->nb_ports == VDPA_LM_MAX_DEVICES)
				return usage_error(prog, "too many --socket "
						   "(max 16): %s", optarg);
			if (strlen(optarg) >= sizeof(lm->ports[0].socket))
				return usage_error(prog, "socket path too "
						   "long: %s", optarg);
			strcpy(lm->ports[lm->nb_ports++].socket, optarg);
			break;
		case OPT_DEVICE:
			if (lm->nb_ports == 0)
				return usage_error(prog, "--device %s must "
						   "follow a --socket", optarg);
			if (strlen(optarg) >= sizeof(lm->ports[0].device))
				return usage_error(prog, "device name too "
						   "long: %s", optarg);
			/* The vdev bus matches drivers by name prefix. */
			if (strncmp(optarg, "ifcvf_sw", 8) != 0)
				return usage_error(prog, "--device expects an "
					"ifcvf_sw... name, got '%s'", optarg);
			strcpy(lm->ports[lm->nb_ports - 1].device, optarg);
			break;
		case OPT_CLIENT:
			lm->client = true;
			break;
		case OPT_PACKED:
			lm->packed = true;
			break;
		case OPT_NO_MRG:
			lm->no_mrg_rxbuf = true;
			break;
		case OPT_POSTCOPY:
			lm->postcopy = true;
			break;
		case OPT_QUEUES:
			if (parse_uint_arg(optarg, 16, &v) < 0 || v == 0)
				return usage_error(prog, "--queues expects "
						   "1-16, got '%s'", optarg);
			lm->queues = v;
			break;
		case OPT_RELAY:
			if (strcmp(optarg, "epoll") && strcmp(optarg, "poll") &&
			    strcmp(optarg, "auto"))
				return usage_error(prog, "--relay expects "
					"epoll, poll or auto, got '%s'", optarg);
			snprintf(lm->relay_mode, sizeof(lm->relay_mode), "%s",
				 optarg);
			break;
		case OPT_POLICY:
			if (strcmp(optarg, "auto") && strcmp(optarg, "on") &&
			    strcmp(optarg, "off"))
				return usage_error(prog, "--relay-policy "
					"expects auto, on or off, got '%s'",
					optarg);
			snprintf(lm->relay_policy, sizeof(lm->relay_policy),
				 "%s", optarg);
			break;
		case OPT_UPLINK:
			if (strlen(optarg) >= sizeof(lm->uplink))
				return usage_error(prog, "--uplink name too "
						   "long: %s", optarg);
			strcpy(lm->uplink, optarg);
			break;
		case OPT_RELAY_CPU:
		case OPT_HW_CPU:
			if (parse_uint_arg(optarg, CPU_SETSIZE - 1, &v) < 0)
				return usage_error(prog, "CPU number expected, "
						   "got '%s'", optarg);
			*(c == OPT_RELAY_CPU ? &lm->relay_cpu : &lm->hw_cpu) =
				(int)v;
			break;
		case OPT_HW_POLL:
			if (parse_uint_arg(optarg, IFCSW_POLL_US_MAX, &v) < 0)
				return usage_error(prog, "--hw-poll-us expects "
					"0.." RTE_STR(IFCSW_POLL_US_MAX)
					", got '%s'", optarg);
			lm->hw_poll_us = (int)v;
			break;
		case OPT_STATS:
			if (parse_uint_arg(optarg, 3600, &v) < 0)
				return usage_error(prog, "--stats-period "
					"expects seconds, got '%s'", optarg);
			lm->stats_period = v;
			break;
		case OPT_CYCLE:
			if (parse_uint_arg(optarg, 60000, &v) < 0 || v == 0)
				return usage_error(prog, "--relay-cycle "
					"expects milliseconds, got '%s'", optarg);
			lm->relay_cycle_ms = v;
			break;
		case 'i':
			lm->interactive = true;
			break;
		case OPT_DEMO:
			lm->demo = true;
			break;
		case 'h':
			usage(prog);
			exit(0);
		default:
			return usage_error(prog, "unknown or incomplete "
					   "option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error(prog, "unexpected argument '%s'",
				   argv[optind]);
	if (lm->nb_ports == 0 && !lm->demo)
		return usage_error(prog, "%s", "at least one --socket is "
				   "required (or --demo)");
	return 0;
}

/* ---- devices and sockets -------------------------------------------- */

static int
lm_vhost_new_device(int vid)
{
	char ifname[256] = "";

	rte_vhost_get_ifname(vid, ifname, sizeof(ifname));
	LM_LOG(INFO, "frontend connected on %s (vid %d)", ifname, vid);
	return 0;
}

static void
lm_vhost_destroy_device(int vid)
{
	char ifname[256] = "";

	rte_vhost_get_ifname(vid, ifname, sizeof(ifname));
	LM_LOG(INFO, "frontend gone from %s (vid %d)", ifname, vid);
}

/*
 * Hand the connection to the device's relay controller at once, so it
 * sees the vhost-user messages that come before the device starts
 * (post-copy's POSTCOPY_LISTEN).
 */
static int
lm_vhost_new_connection(int vid)
{
	char ifname[256] = "";
	struct vrelay_vhost *v;
	unsigned int i;

	rte_vhost_get_ifname(vid, ifname, sizeof(ifname));
	for (i = 0; i < lm_app.nb_ports; i++) {
		if (strcmp(lm_app.ports[i].socket, ifname) != 0)
			continue;
		v = vrelay_vhost_find(lm_app.ports[i].device);
		if (v != NULL && vrelay_vhost_connect(v, vid) < 0)
			LM_LOG(WARNING, "%s: relay cannot watch the connection",
			       ifname);
	}
	return 0;
}

static const struct rte_vhost_device_ops lm_vhost_ops = {
	.new_connection = lm_vhost_new_connection,
	.new_device = lm_vhost_new_device,
	.destroy_device = lm_vhost_destroy_device,
};

static int
lm_probe_device(struct vdpa_lm *lm, const char *device)
{
	char args[256];
	bool loopback = strcmp(lm->uplink, "loopback") == 0;

	if (rte_vdpa_find_device_by_name(device) != NULL)
		return 0;	/* given with EAL --vdev */
	snprintf(args, sizeof(args),
		 "queues=%u,loopback=%d,relay=%s,relay_mode=%s,packed=%d,"
		 "mrg_rxbuf=%d", lm->queues, loopback, lm->relay_policy,
		 lm->relay_mode, lm->packed, !lm->no_mrg_rxbuf);
	if (lm->relay_cpu >= 0)
		snprintf(args + strlen(args), sizeof(args) - strlen(args),
			 ",relay_cpu=%d", lm->relay_cpu);
	if (lm->hw_cpu >= 0)
		snprintf(args + strlen(args), sizeof(args) - strlen(args),
			 ",hw_cpu=%d", lm->hw_cpu);
	if (lm->hw_poll_us >= 0)
		snprintf(args + strlen(args), sizeof(args) - strlen(args),
			 ",poll_us=%d", lm->hw_poll_us);
	if (rte_vdev_init(device, args) < 0) {
		LM_LOG(ERR, "cannot create device %s with '%s'", device, args);
		return -EIO;
	}
	return 0;
}

int
vdpa_lm_create(struct vdpa_lm *lm, const char *socket, const char *device)
{
	struct vdpa_lm_port *p = NULL;
	struct rte_vdpa_device *vdpa;
	uint64_t flags = 0;
	unsigned int i;

	for (i = 0; i < lm->nb_ports; i++)
		if (strcmp(lm->ports[i].socket, socket) == 0)
			p = &lm->ports[i];
	if (p == NULL) {
		if (lm->nb_ports == VDPA_LM_MAX_DEVICES)
			return -ENOSPC;
		p = &lm->ports[lm->nb_ports++];
		snprintf(p->socket, sizeof(p->socket), "%s", socket);
	}
	if (p->registered)
		return -EEXIST;
	snprintf(p->device, sizeof(p->device), "%s", device);
	if (lm_probe_device(lm, device) < 0)
		return -EIO;
	vdpa = rte_vdpa_find_device_by_name(device);
	if (vdpa == NULL)
		return -ENODEV;
	if (lm->client)
		flags |= RTE_VHOST_USER_CLIENT;	/* reconnects by default */
	/*
	 * Post-copy: vhost keeps VHOST_USER_PROTOCOL_F_PAGEFAULT (which
	 * ifcvf_sw offers) and registers its guest mapping with
	 * userfaultfd; the relay prefaults on the destination (design.md,
	 * "Post-copy"). Opt-in: a frontend that never post-copies gains
	 * nothing from it.
	 */
	if (lm->postcopy)
		flags |= RTE_VHOST_USER_POSTCOPY_SUPPORT;
	if (rte_vhost_driver_register(socket, flags) < 0) {
		LM_LOG(ERR, "cannot register vhost-user socket %s", socket);
		return -EIO;
	}
	if (rte_vhost_driver_attach_vdpa_device(socket, vdpa) < 0 ||
	    rte_vhost_driver_callback_register(socket, &lm_vhost_ops) < 0 ||
	    rte_vhost_driver_start(socket) < 0) {
		LM_LOG(ERR, "cannot start vhost-user socket %s", socket);
		rte_vhost_driver_unregister(socket);
		return -EIO;
	}
	p->registered = true;
	if (ifcsw_wire_port_get(device, &p->wire_port) == 0 &&
	    strcmp(lm->uplink, "loopback") != 0) {
		if (rte_eth_dev_get_port_by_name(lm->uplink,
						 &p->uplink_port) != 0) {
			LM_LOG(ERR, "uplink port %s not found (give it with "
			       "EAL --vdev)", lm->uplink);
			return -ENODEV;
		}
		p->has_uplink = true;
	}
	LM_LOG(INFO, "%s serves %s%s%s", device, socket,
	       p->has_uplink ? ", uplink " : "",
	       p->has_uplink ? lm->uplink : "");
	return 0;
}

static void
lm_destroy_all(struct vdpa_lm *lm)
{
	unsigned int i;

	for (i = 0; i < lm->nb_ports; i++) {
		if (lm->ports[i].registered)
			rte_vhost_driver_unregister(lm->ports[i].socket);
		lm->ports[i].registered = false;
		/*
		 * Stop the device (its threads, relay queues and wire port)
		 * while vhost and the ports it uses still exist, rather than
		 * at some point inside rte_eal_cleanup().
		 */
		if (lm->ports[i].device[0] != '\0' &&
		    rte_vdpa_find_device_by_name(lm->ports[i].device) != NULL)
			rte_vdev_uninit(lm->ports[i].device);
	}
}

void
vdpa_lm_print_status(struct vdpa_lm *lm)
{
	unsigned int i;

	for (i = 0; i < lm->nb_ports; i++) {
		struct vrelay_vhost_info mi;
		uint64_t pkts = 0, pages = 0, avail = 0, used = 0, faults = 0;
		uint64_t bells = 0;
		struct lm_queue lq;
		uint16_t q;

		if (lm_dev_info(lm->ports[i].device, &mi) < 0)
			continue;
		for (q = 0; q < mi.nb_queues; q++) {
			if (lm_queue_get(lm->ports[i].device, q, &lq) < 0)
				continue;
			pkts += lq.packets;
			pages += lq.qi.relay.pages_logged;
			avail += lq.qi.relay.avail_relayed;
			used += lq.qi.relay.used_relayed;
			faults += lq.dma_faults;
			bells += lq.doorbells;
		}
		printf("%s: %s vid=%d logging=%d relay=%s/%s queues=%u "
		       "packets=%" PRIu64 " pages_logged=%" PRIu64
		       " relay_avail=%" PRIu64 " relay_used=%" PRIu64
		       " switches=%" PRIu64 " last_switch_us=%" PRIu64
		       " postcopy=%d prefault_waits=%" PRIu64
		       " prefault_pages=%" PRIu64 " dma_faults=%" PRIu64
		       " doorbells=%" PRIu64 "\n",
		       lm->ports[i].device, vrelay_dstate_to_str(mi.state),
		       mi.vid, mi.logging, vrelay_policy_to_str(mi.policy),
		       vrelay_mode_to_str(mi.mode), mi.nb_queues, pkts, pages,
		       avail, used, mi.switches, mi.last_switch_ns / 1000,
		       mi.postcopy, mi.prefault_waits, mi.prefault_pages,
		       faults, bells);
	}
	fflush(stdout);
}

static void
on_signal(int sig)
{
	lm_app.quit = true;
}

/* Testing aid: force the relay on, then give control back, in turns. */
static void
relay_cycle(struct vdpa_lm *lm, bool on)
{
	enum vrelay_policy back = strcmp(lm->relay_policy, "on") == 0 ?
		VRELAY_POLICY_OFF : VRELAY_POLICY_AUTO;
	unsigned int i;

	for (i = 0; i < lm->nb_ports; i++)
		lm_set_policy(lm->ports[i].device,
			      on ? VRELAY_POLICY_ON : back);
}

/*
 * Deadlines on the monotonic clock, not counted sleeps: signals (DPDK's
 * threads use some) cut usleep() short.
 */
static void
run_status_loop(struct vdpa_lm *lm)
{
	uint64_t cycle_us = lm->relay_cycle_ms * 1000ULL;
	uint64_t status_us = lm->stats_period * 1000000ULL;
	uint64_t now = vdpa_lm_now_us();
	uint64_t next_cycle = now + cycle_us, next_status = now + status_us;
	bool relay_on = false;

	while (!lm->quit) {
		usleep(cycle_us != 0 && cycle_us < 100000 ? cycle_us : 100000);
		now = vdpa_lm_now_us();
		if (cycle_us != 0 && now >= next_cycle) {
			next_cycle = now + cycle_us;
			relay_on = !relay_on;
			relay_cycle(lm, relay_on);
		}
		if (status_us != 0 && now >= next_status) {
			next_status = now + status_us;
			vdpa_lm_print_status(lm);
		}
	}
	if (lm->relay_cycle_ms != 0 && relay_on)
		relay_cycle(lm, false);
	vdpa_lm_print_status(lm);
}

static void
lm_defaults(struct vdpa_lm *lm)
{
	memset(lm, 0, sizeof(*lm));
	lm->queues = 1;
	strcpy(lm->relay_mode, "auto");
	strcpy(lm->relay_policy, "auto");
	strcpy(lm->uplink, "loopback");
	lm->relay_cpu = -1;
	lm->hw_cpu = -1;
	lm->hw_poll_us = -1;
	lm->stats_period = 1;
}

int
main(int argc, char **argv)
{
	struct vdpa_lm *lm = &lm_app;
	unsigned int i;
	int ret, code = 0;

	lm_defaults(lm);
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "vdpa-lm: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		return EXIT_USAGE;
	}
	argv[ret] = argv[0];
	if (parse_args(lm, argc - ret, argv + ret) < 0) {
		rte_eal_cleanup();
		return EXIT_USAGE;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	if (lm->demo) {
		code = vdpa_lm_demo_run(lm);
		goto out;
	}
	vdpa_lm_miginfo_init(lm);
	for (i = 0; i < lm->nb_ports; i++) {
		char device[sizeof(lm->ports[i].device)];

		if (lm->ports[i].device[0] != '\0')
			snprintf(device, sizeof(device), "%s",
				 lm->ports[i].device);
		else
			snprintf(device, sizeof(device), "ifcvf_sw%u", i);
		if (vdpa_lm_create(lm, lm->ports[i].socket, device) < 0) {
			code = 1;
			goto out;
		}
	}
	if (vdpa_lm_forward_start(lm) < 0) {
		code = 1;
		goto out;
	}
	if (lm->interactive)
		vdpa_lm_cli_run(lm);
	else
		run_status_loop(lm);
	vdpa_lm_forward_stop(lm);
out:
	lm_destroy_all(lm);
	rte_eal_cleanup();
	return code;
}
