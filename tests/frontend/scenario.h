/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A complete migration scenario, as vu-migrate and vdpa-lm's demo run it:
 * source session with traffic, pre-copy migration by the dirty log
 * (optionally after a cancelled one), then traffic on a destination
 * session started from the migrated image.
 */
#ifndef VU_FE_SCENARIO_H
#define VU_FE_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "migrate.h"
#include "vnet.h"

/** What to run. */
struct vufe_scenario {
	const char *src, *dst;		/**< vhost-user sockets */
	unsigned int queues, rounds;	/**< queue pairs, copy rounds */
	bool mrg, indirect, cancel_first, expect_mismatch, reconnect;
	bool no_log, no_event_idx;
	bool packed;			/**< packed rings (VIRTIO_F_RING_PACKED) */
	uint32_t pkt_size, buf_size;	/**< frame and RX buffer bytes */
	uint64_t packets;		/**< frames per queue pair */
	uint64_t ram_mb;		/**< size of each of the 2 RAM regions */
	int timeout_ms;			/**< traffic stall limit */
	unsigned int replace_log_round;	/**< see struct mig_cfg; 0 = never */
	unsigned int bad_log_round;	/**< see struct mig_cfg; 0 = never */
};

/** What happened. */
struct vufe_scenario_result {
	struct mig_result mig;		/**< the final migration */
	struct vnet_qstats traffic;	/**< frames over both sessions */
	bool dest_ran;			/**< destination traffic completed */
	bool ok;			/**< everything as expected */
};

/** Fill @p o with the defaults (1 queue pair, mergeable, 20000 frames). */
void vufe_scenario_defaults(struct vufe_scenario *o);

/**
 * Run the scenario; progress lines go to stdout.
 * @return 0 if it ran to the end (see res->ok for the verdict), or a
 * negative errno if a step failed.
 */
int vufe_scenario_run(const struct vufe_scenario *o,
		      struct vufe_scenario_result *res);

/** Print per-queue traffic counters of the last run. */
void vufe_scenario_print_queues(void);

#endif /* VU_FE_SCENARIO_H */
