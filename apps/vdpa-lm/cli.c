/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Interactive commands of vdpa-lm (-i), on DPDK's cmdline library.
 *
 * Every result is printed as one line of key=value pairs and every
 * failure as one "error: ..." line, so that scripts driving the CLI
 * through a pipe can grep for them. Input may be a terminal or a pipe:
 * the terminal is put in raw mode only when it is one, and the loop
 * polls stdin itself so that SIGINT/SIGTERM (which only set lm->quit)
 * and end of input both end the session.
 */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmdline.h>
#include <cmdline_parse.h>
#include <cmdline_parse_num.h>
#include <cmdline_parse_string.h>
#include <cmdline_socket.h>
#include <rte_common.h>
#include <rte_vdpa.h>

#include "vdpa_lm.h"

#define CLI_PROMPT "vdpa-lm> "
#define CLI_POLL_MS 100

/* The application the commands act on; cmdline callbacks take no context. */
static struct vdpa_lm *cli_lm;

/* One line per failed command; @p err is a negative errno. */
static void
cli_error(struct cmdline *cl, const char *what, int err)
{
	cmdline_printf(cl, "error: %s: %s\n", what, strerror(-err));
}

/* Resolve a device name, or print why not. */
static bool
cli_dev_info(struct cmdline *cl, const char *dev,
	     struct vrelay_vhost_info *mi)
{
	if (lm_dev_info(dev, mi) == 0)
		return true;
	cmdline_printf(cl, "error: no device %s\n", dev);
	return false;
}

/* ---- help ------------------------------------------------------------ */

struct cmd_word_result {
	cmdline_fixed_string_t word;
};

static void
cmd_help_parsed(void *parsed, struct cmdline *cl, void *data)
{
	cmdline_printf(cl,
		"commands:\n"
		"  help                          this text\n"
		"  list                          sockets, devices and states\n"
		"  status                        one summary line per device\n"
		"  create <socket> <device>      serve a new vhost-user socket "
		"with a new ifcvf_sw device\n"
		"  stats <device> [queue]        per-queue counters\n"
		"  relay <device> on|off|auto    relay policy (auto: while "
		"the hypervisor logs)\n"
		"  mode <device> epoll|poll|auto relay engine kind\n"
		"  migration <device>            migration state of a device\n"
		"  migration-info <socket|device> model, version and "
		"features, for\n"
		"                                a compatibility check\n"
		"  quit                          leave (also Ctrl-D)\n");
}

static cmdline_parse_token_string_t cmd_help_tok =
	TOKEN_STRING_INITIALIZER(struct cmd_word_result, word, "help");

static cmdline_parse_inst_t cmd_help = {
	.f = cmd_help_parsed,
	.help_str = "help: list the commands",
	.tokens = { (void *)&cmd_help_tok, NULL },
};

/* ---- list / status --------------------------------------------------- */

static void
cmd_list_parsed(void *parsed, struct cmdline *cl, void *data)
{
	unsigned int i, shown = 0;

	for (i = 0; i < cli_lm->nb_ports; i++) {
		const struct vdpa_lm_port *p = &cli_lm->ports[i];
		struct vrelay_vhost_info mi;

		if (!p->registered)
			continue;	/* a failed `create` leaves a slot */
		if (lm_dev_info(p->device, &mi) < 0) {
			cmdline_printf(cl, "socket=%s device=%s state=gone\n",
				       p->socket, p->device);
		} else {
			cmdline_printf(cl, "socket=%s device=%s state=%s "
				       "vid=%d policy=%s mode=%s\n",
				       p->socket, p->device,
				       vrelay_dstate_to_str(mi.state), mi.vid,
				       vrelay_policy_to_str(mi.policy),
				       vrelay_mode_to_str(mi.mode));
		}
		shown++;
	}
	if (shown == 0)
		cmdline_printf(cl, "no devices\n");
}

static cmdline_parse_token_string_t cmd_list_tok =
	TOKEN_STRING_INITIALIZER(struct cmd_word_result, word, "list");

static cmdline_parse_inst_t cmd_list = {
	.f = cmd_list_parsed,
	.help_str = "list: each socket with its device and state",
	.tokens = { (void *)&cmd_list_tok, NULL },
};

static void
cmd_status_parsed(void *parsed, struct cmdline *cl, void *data)
{
	vdpa_lm_print_status(cli_lm);
}

static cmdline_parse_token_string_t cmd_status_tok =
	TOKEN_STRING_INITIALIZER(struct cmd_word_result, word, "status");

static cmdline_parse_inst_t cmd_status = {
	.f = cmd_status_parsed,
	.help_str = "status: one summary line per device",
	.tokens = { (void *)&cmd_status_tok, NULL },
};

/* ---- create ---------------------------------------------------------- */

struct cmd_create_result {
	cmdline_fixed_string_t word;
	cmdline_fixed_string_t socket;
	cmdline_fixed_string_t device;
};

static void
cmd_create_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_create_result *r = parsed;
	int ret;

	/*
	 * The uplink forwarder sets up its ports once at start and walks
	 * the port table without locks: a device added now would have an
	 * unconfigured wire port in that walk.
	 */
	if (strcmp(cli_lm->uplink, "loopback") != 0) {
		cmdline_printf(cl, "error: create needs --uplink loopback "
			       "(uplink ports are set up at start only)\n");
		return;
	}
	if (strncmp(r->device, "ifcvf_sw", strlen("ifcvf_sw")) != 0) {
		cmdline_printf(cl, "error: device name must start with "
			       "ifcvf_sw, got '%s'\n", r->device);
		return;
	}
	ret = vdpa_lm_create(cli_lm, r->socket, r->device);
	switch (ret) {
	case 0:
		cmdline_printf(cl, "created socket=%s device=%s\n",
			       r->socket, r->device);
		break;
	case -EEXIST:
		cmdline_printf(cl, "error: socket %s is already served\n",
			       r->socket);
		break;
	case -ENOSPC:
		cmdline_printf(cl, "error: no room for more than %d "
			       "devices\n", VDPA_LM_MAX_DEVICES);
		break;
	default:
		cli_error(cl, "create failed (see the log above)", ret);
		break;
	}
}

static cmdline_parse_token_string_t cmd_create_tok =
	TOKEN_STRING_INITIALIZER(struct cmd_create_result, word, "create");
static cmdline_parse_token_string_t cmd_create_socket =
	TOKEN_STRING_INITIALIZER(struct cmd_create_result, socket, NULL);
static cmdline_parse_token_string_t cmd_create_device =
	TOKEN_STRING_INITIALIZER(struct cmd_create_result, device, NULL);

static cmdline_parse_inst_t cmd_create = {
	.f = cmd_create_parsed,
	.help_str = "create <socket> <device>: serve a new socket",
	.tokens = { (void *)&cmd_create_tok, (void *)&cmd_create_socket,
		    (void *)&cmd_create_device, NULL },
};

/* ---- stats ----------------------------------------------------------- */

struct cmd_stats_result {
	cmdline_fixed_string_t word;
	cmdline_fixed_string_t device;
	uint16_t queue;
};

static void
cli_print_queue(struct cmdline *cl, const char *dev, uint16_t q,
		const struct lm_queue *lq)
{
	const struct vrelay_vhost_qinfo *qi = &lq->qi;

	cmdline_printf(cl, "device=%s queue=%u mode=%s enabled=%d "
		"packets=%" PRIu64 " bytes=%" PRIu64 " drops=%" PRIu64
		" dma_faults=%" PRIu64 " ring_errors=%" PRIu64
		" doorbells=%" PRIu64 " relay_avail=%" PRIu64
		" relay_used=%" PRIu64
		" pages_logged=%" PRIu64 " relay_broken=%" PRIu64
		" switch_to_relay=%" PRIu64 " switch_to_direct=%" PRIu64
		" switch_last_us=%" PRIu64 " switch_max_us=%" PRIu64 "\n",
		dev, q, vrelay_qmode_to_str(qi->mode), qi->enabled,
		lq->packets, lq->bytes, lq->drops, lq->dma_faults,
		lq->ring_errors, lq->doorbells, qi->relay.avail_relayed,
		qi->relay.used_relayed, qi->relay.pages_logged,
		qi->relay.broken, qi->sw.to_relay, qi->sw.to_direct,
		qi->sw.last_ns / 1000, qi->sw.max_ns / 1000);
}

/* All queues the device has, whether or not the frontend uses them. */
static void
cmd_stats_all_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_stats_result *r = parsed;
	struct vrelay_vhost_info mi;
	struct lm_queue lq;
	uint16_t q;

	if (!cli_dev_info(cl, r->device, &mi))
		return;
	for (q = 0; lm_queue_get(r->device, q, &lq) == 0; q++)
		cli_print_queue(cl, r->device, q, &lq);
}

/*
 * The same counters through DPDK's generic vDPA API, as any vDPA
 * application would read them.
 */
static void
cli_print_vdpa_stats(struct cmdline *cl, const char *dev, uint16_t q)
{
	struct rte_vdpa_device *vdpa = rte_vdpa_find_device_by_name(dev);
	struct rte_vdpa_stat_name names[64];
	struct rte_vdpa_stat vals[64];
	int n, i;

	if (vdpa == NULL)
		return;
	n = rte_vdpa_get_stats_names(vdpa, names, RTE_DIM(names));
	if (n <= 0 || n > (int)RTE_DIM(names))
		return;
	n = rte_vdpa_get_stats(vdpa, q, vals, n);
	if (n <= 0)
		return;
	cmdline_printf(cl, "rte_vdpa_get_stats: device=%s queue=%u", dev, q);
	for (i = 0; i < n; i++)
		cmdline_printf(cl, " %s=%" PRIu64, names[vals[i].id].name,
			       vals[i].value);
	cmdline_printf(cl, "\n");
}

static void
cmd_stats_queue_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_stats_result *r = parsed;
	struct vrelay_vhost_info mi;
	struct lm_queue lq;

	if (!cli_dev_info(cl, r->device, &mi))
		return;
	if (lm_queue_get(r->device, r->queue, &lq) < 0) {
		cmdline_printf(cl, "error: %s has no queue %u\n", r->device,
			       r->queue);
		return;
	}
	cli_print_queue(cl, r->device, r->queue, &lq);
	cli_print_vdpa_stats(cl, r->device, r->queue);
}

static cmdline_parse_token_string_t cmd_stats_tok =
	TOKEN_STRING_INITIALIZER(struct cmd_stats_result, word, "stats");
static cmdline_parse_token_string_t cmd_stats_device =
	TOKEN_STRING_INITIALIZER(struct cmd_stats_result, device, NULL);
static cmdline_parse_token_num_t cmd_stats_queue =
	TOKEN_NUM_INITIALIZER(struct cmd_stats_result, queue, RTE_UINT16);

static cmdline_parse_inst_t cmd_stats_all = {
	.f = cmd_stats_all_parsed,
	.help_str = "stats <device>: counters of every queue",
	.tokens = { (void *)&cmd_stats_tok, (void *)&cmd_stats_device, NULL },
};

static cmdline_parse_inst_t cmd_stats_queue_inst = {
	.f = cmd_stats_queue_parsed,
	.help_str = "stats <device> <queue>: counters of one queue",
	.tokens = { (void *)&cmd_stats_tok, (void *)&cmd_stats_device,
		    (void *)&cmd_stats_queue, NULL },
};

/* ---- relay / mode ---------------------------------------------------- */

/*
 * The value is a free string checked here rather than a fixed choice
 * token: a typo then gets a line naming the valid values instead of the
 * library's bare "Bad arguments".
 */
struct cmd_set_result {
	cmdline_fixed_string_t word;
	cmdline_fixed_string_t device;
	cmdline_fixed_string_t value;
};

static void
cmd_relay_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_set_result *r = parsed;
	struct vrelay_vhost_info mi;
	enum vrelay_policy p;
	int ret;

	if (vrelay_policy_from_str(r->value, &p) < 0) {
		cmdline_printf(cl, "error: relay expects on, off or auto, "
			       "got '%s'\n", r->value);
		return;
	}
	if (!cli_dev_info(cl, r->device, &mi))
		return;
	ret = lm_set_policy(r->device, p);
	if (ret < 0) {
		cli_error(cl, "relay policy change failed", ret);
		return;
	}
	/* Switching is synchronous: the state shown is the outcome. */
	if (cli_dev_info(cl, r->device, &mi))
		cmdline_printf(cl, "device=%s policy=%s state=%s\n", r->device,
			       vrelay_policy_to_str(mi.policy),
			       vrelay_dstate_to_str(mi.state));
}

static cmdline_parse_token_string_t cmd_relay_tok =
	TOKEN_STRING_INITIALIZER(struct cmd_set_result, word, "relay");
static cmdline_parse_token_string_t cmd_set_device =
	TOKEN_STRING_INITIALIZER(struct cmd_set_result, device, NULL);
static cmdline_parse_token_string_t cmd_set_value =
	TOKEN_STRING_INITIALIZER(struct cmd_set_result, value, NULL);

static cmdline_parse_inst_t cmd_relay = {
	.f = cmd_relay_parsed,
	.help_str = "relay <device> on|off|auto: relay policy",
	.tokens = { (void *)&cmd_relay_tok, (void *)&cmd_set_device,
		    (void *)&cmd_set_value, NULL },
};

static void
cmd_mode_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_set_result *r = parsed;
	struct vrelay_vhost_info mi;
	enum vrelay_mode m;
	int ret;

	if (vrelay_mode_from_str(r->value, &m) < 0) {
		cmdline_printf(cl, "error: mode expects epoll, poll or auto, "
			       "got '%s'\n", r->value);
		return;
	}
	if (!cli_dev_info(cl, r->device, &mi))
		return;
	ret = lm_set_mode(r->device, r->value);
	if (ret < 0) {
		cli_error(cl, "relay mode change failed", ret);
		return;
	}
	if (cli_dev_info(cl, r->device, &mi))
		cmdline_printf(cl, "device=%s mode=%s state=%s\n", r->device,
			       vrelay_mode_to_str(mi.mode),
			       vrelay_dstate_to_str(mi.state));
}

static cmdline_parse_token_string_t cmd_mode_tok =
	TOKEN_STRING_INITIALIZER(struct cmd_set_result, word, "mode");

static cmdline_parse_inst_t cmd_mode = {
	.f = cmd_mode_parsed,
	.help_str = "mode <device> epoll|poll|auto: relay engine kind",
	.tokens = { (void *)&cmd_mode_tok, (void *)&cmd_set_device,
		    (void *)&cmd_set_value, NULL },
};

/* ---- migration ------------------------------------------------------- */

struct cmd_dev_result {
	cmdline_fixed_string_t word;
	cmdline_fixed_string_t device;
};

static void
cmd_migration_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_dev_result *r = parsed;
	struct vrelay_vhost_info mi;

	if (!cli_dev_info(cl, r->device, &mi))
		return;
	cmdline_printf(cl, "device=%s state=%s logging=%d policy=%s mode=%s "
		       "vid=%d queues=%u switches=%" PRIu64
		       " last_switch_us=%" PRIu64 " relay_cpu_us=%" PRIu64 "\n",
		       r->device, vrelay_dstate_to_str(mi.state), mi.logging,
		       vrelay_policy_to_str(mi.policy),
		       vrelay_mode_to_str(mi.mode),
		       mi.vid, mi.nb_queues, mi.switches,
		       mi.last_switch_ns / 1000, mi.relay_cpu_ns / 1000);
}

static cmdline_parse_token_string_t cmd_migration_tok =
	TOKEN_STRING_INITIALIZER(struct cmd_dev_result, word, "migration");
static cmdline_parse_token_string_t cmd_dev_device =
	TOKEN_STRING_INITIALIZER(struct cmd_dev_result, device, NULL);

static cmdline_parse_inst_t cmd_migration = {
	.f = cmd_migration_parsed,
	.help_str = "migration <device>: migration state",
	.tokens = { (void *)&cmd_migration_tok, (void *)&cmd_dev_device,
		    NULL },
};

/* ---- migration-info -------------------------------------------------- */

/* The fields of /vdpa_lm/migration_info, on one line. */
static void
cmd_miginfo_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_dev_result *r = parsed;
	const struct vdpa_lm_port *p = lm_port_find(cli_lm, r->device);
	struct lm_mig_info m;

	if (p == NULL || lm_mig_info(p, &m) < 0) {
		cmdline_printf(cl, "error: no socket or device %s\n",
			       r->device);
		return;
	}
	cmdline_printf(cl, "socket=%s device=%s model=%s "
		       "migration_version=%u features=0x%" PRIx64
		       " ring_formats=split%s queue_pairs=%u max_mtu=%u "
		       "can_log=%d", p->socket, p->device, m.model, m.version,
		       m.features, m.packed ? ",packed" : "", m.queue_pairs,
		       m.max_mtu, m.relay.can_log);
	if (m.relay.connected)
		cmdline_printf(cl, " guest_features=0x%" PRIx64
			       " guest_queue_pairs=%u guest_mtu=%u",
			       m.relay.features, m.guest_queue_pairs,
			       m.guest_mtu);
	cmdline_printf(cl, "\n");
}

static cmdline_parse_token_string_t cmd_miginfo_tok =
	TOKEN_STRING_INITIALIZER(struct cmd_dev_result, word,
				 "migration-info");

static cmdline_parse_inst_t cmd_miginfo = {
	.f = cmd_miginfo_parsed,
	.help_str = "migration-info <socket|device>: what a compatibility "
		    "check needs",
	.tokens = { (void *)&cmd_miginfo_tok, (void *)&cmd_dev_device,
		    NULL },
};

/* ---- quit ------------------------------------------------------------ */

static void
cmd_quit_parsed(void *parsed, struct cmdline *cl, void *data)
{
	cli_lm->quit = true;
	cmdline_quit(cl);
}

static cmdline_parse_token_string_t cmd_quit_tok =
	TOKEN_STRING_INITIALIZER(struct cmd_word_result, word, "quit");

static cmdline_parse_inst_t cmd_quit = {
	.f = cmd_quit_parsed,
	.help_str = "quit: leave vdpa-lm",
	.tokens = { (void *)&cmd_quit_tok, NULL },
};

static cmdline_parse_ctx_t cli_ctx[] = {
	&cmd_help,
	&cmd_list,
	&cmd_status,
	&cmd_create,
	&cmd_stats_all,
	&cmd_stats_queue_inst,
	&cmd_relay,
	&cmd_mode,
	&cmd_migration,
	&cmd_miginfo,
	&cmd_quit,
	NULL,
};

/* ---- input loop ------------------------------------------------------ */

/*
 * Feed stdin to the parser until `quit`, end of input or a signal.
 * cmdline_interact() would block in read(), which signals restart, so
 * SIGTERM would not end an interactive session; poll with a timeout.
 */
static void
cli_loop(struct cmdline *cl)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	char buf[256];
	ssize_t n;
	int ret;

	while (!cli_lm->quit) {
		ret = poll(&pfd, 1, CLI_POLL_MS);
		if (ret < 0 && errno != EINTR)
			break;
		if (ret <= 0)
			continue;
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* end of input: as `quit` */
		/* < 0: Ctrl-D on an empty line, or `quit` was run. */
		if (cmdline_in(cl, buf, n) < 0)
			break;
	}
	cli_lm->quit = true;
}

void
vdpa_lm_cli_run(struct vdpa_lm *lm)
{
	bool tty = isatty(STDIN_FILENO);
	struct cmdline *cl;

	cli_lm = lm;
	/* Raw mode (line editing, completion) only makes sense on a tty. */
	cl = tty ? cmdline_stdin_new(cli_ctx, CLI_PROMPT) :
		cmdline_new(cli_ctx, CLI_PROMPT, STDIN_FILENO, STDOUT_FILENO);
	if (cl == NULL) {
		LM_LOG(ERR, "cannot create the command line");
		lm->quit = true;
		return;
	}
	cli_loop(cl);
	cmdline_printf(cl, "\n");
	if (tty)
		cmdline_stdin_exit(cl);	/* restores the terminal */
	else
		cmdline_free(cl);
}
