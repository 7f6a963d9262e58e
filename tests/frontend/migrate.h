/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pre-copy live migration simulator.
 *
 * Device writes to guest RAM are found through the vhost dirty log; the
 * front-end's own writes (rings, TX frames) through the driver-dirty
 * bitmap of struct guest_mem, like QEMU relies on KVM for vCPU writes.
 * Traffic is interleaved with the copy rounds (single thread): while
 * pages are copied the device keeps filling the RX buffers already
 * posted and draining TX.
 */
#ifndef VU_FE_MIGRATE_H
#define VU_FE_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>

#include "dirty_log.h"
#include "guest_mem.h"
#include "vhost_dev.h"
#include "vnet.h"

/** Simulator settings. */
struct mig_cfg {
	unsigned int rounds;      /**< dirty-page rounds before stopping */
	uint64_t pkts_per_round;  /**< frames per queue pair per round */
	bool no_log;              /**< negative control: never enable LOG_ALL */
	int timeout_ms;           /**< traffic stall / quiesce limit */
	/**
	 * Replace the dirty log (a new SET_LOG_BASE under the running
	 * relay) after the traffic of this dirty round; 0 = never.
	 */
	unsigned int replace_log_round;
	/**
	 * After the traffic of this dirty round (before any replacement
	 * in the same round), send one SET_LOG_BASE of each kind the
	 * back-end must reject (vfh_bad_log_base()); 0 = never.
	 */
	unsigned int bad_log_round;
};

/** Outcome of one migration attempt. */
struct mig_result {
	uint64_t copied;        /**< pages copied in total */
	uint64_t mismatches;    /**< pages differing after the final copy */
	uint64_t logged;        /**< distinct pages the back-end logged */
	uint64_t wr_data;       /**< RX buffer pages the device wrote */
	uint64_t wr_ring;       /**< ring pages the device wrote (split:
				     used ring; packed: used descriptors) */
	uint64_t written;       /**< |data U ring| */
	uint64_t unlogged;      /**< written but never logged */
	double precision;       /**< logged / written */
	unsigned int idx_bad;   /**< rings whose used idx != returned base */
	bool quiesce_timeout;   /**< device did not drain before stop */
};

/** Simulator state. */
struct mig_ctx {
	struct mig_cfg cfg;
	struct vdev *vd;
	struct vnet *vn;
	struct guest_mem *gm;
	struct dl_log log;
	struct gm_image img;       /**< destination image */
	struct dl_bitmap round;    /**< pages to copy this round */
	struct dl_bitmap logged;   /**< union of everything logged */
	struct dl_bitmap trk_data, trk_ring;
	uint32_t bases[2 * VNET_MAX_QP];
	unsigned int nvq;
	struct virtq *vqs[2 * VNET_MAX_QP];
};

/**
 * Prepare the simulator for a running source device.
 *
 * @param m   context
 * @param cfg settings
 * @param vd  source device session
 * @param vn  driver
 * @param gm  source guest memory
 * @return 0 or negative errno
 */
int mig_init(struct mig_ctx *m, const struct mig_cfg *cfg, struct vdev *vd,
	     struct vnet *vn, struct guest_mem *gm);

/**
 * Free the simulator state.
 *
 * @param m context
 */
void mig_free(struct mig_ctx *m);

/**
 * Run one pre-copy migration: enable logging, full copy, dirty rounds
 * with traffic. If @p cancel, turn logging off and return with the
 * source still running. Otherwise stop the device (GET_VRING_BASE),
 * copy the last dirty pages and compare image and source RAM.
 *
 * @param m      context
 * @param cancel cancel instead of completing
 * @param res    outcome
 * @return 0 or negative errno (protocol/traffic failure)
 */
int mig_precopy(struct mig_ctx *m, bool cancel, struct mig_result *res);

/**
 * Bring up the destination: RAM from the image, driver rebound to it,
 * rings started with the migrated indices (SET_VRING_BASE).
 *
 * @param m      context (after a completed mig_precopy())
 * @param dst    connected destination session
 * @param dst_gm destination guest memory to create
 * @return 0 or negative errno
 */
int mig_dest_start(struct mig_ctx *m, struct vdev *dst,
		   struct guest_mem *dst_gm);

/**
 * Print the outcome of a migration on one line.
 *
 * @param tag label
 * @param r   outcome
 */
void mig_print(const char *tag, const struct mig_result *r);

#endif /* VU_FE_MIGRATE_H */
