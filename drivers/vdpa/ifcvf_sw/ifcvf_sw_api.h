/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef IFCVF_SW_API_H
#define IFCVF_SW_API_H

/**
 * @file
 * Control API of the ifcvf_sw vDPA driver, for applications such as
 * vdpa-lm. Devices are named by their vdev name ("ifcvf_sw0"). Every
 * function may be called from any non-datapath thread; they serialise
 * with the vhost message thread internally.
 */

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Where a queue's data path runs. */
enum ifcsw_queue_mode {
	IFCSW_QUEUE_STOPPED,	/**< not started, or stopped by the frontend */
	IFCSW_QUEUE_DIRECT,	/**< device DMAs straight to the guest rings */
	IFCSW_QUEUE_SWITCHING,	/**< switchover in progress */
	IFCSW_QUEUE_RELAY,	/**< device uses mediated rings, relay logs */
	IFCSW_QUEUE_BROKEN,	/**< guest or device misbehaved; queue halted */
	/**
	 * Could not be relayed while the frontend logs dirty pages: held
	 * stopped (fail closed) until logging stops, then direct again.
	 */
	IFCSW_QUEUE_HELD,
};

/** Device-wide view, for `migration <device>`. */
enum ifcsw_dev_state {
	IFCSW_DEV_IDLE,		/**< no frontend connected / not configured */
	IFCSW_DEV_DIRECT,	/**< all queues in direct I/O */
	IFCSW_DEV_SWITCHING,	/**< a switchover is running */
	IFCSW_DEV_RELAY,	/**< queues relayed (dirty logging) */
};

/** When the device uses the relay. */
enum ifcsw_relay_policy {
	IFCSW_RELAY_AUTO,	/**< while the frontend logs dirty pages */
	IFCSW_RELAY_ON,		/**< always (testing, benchmarks) */
	IFCSW_RELAY_OFF,	/**< never: migration is NOT safe (negative control) */
};

/** Switchover timings of one queue, in nanoseconds. */
struct ifcsw_switch_stats {
	uint64_t to_relay;	/**< switches direct -> relay */
	uint64_t to_direct;	/**< switches relay -> direct */
	uint64_t last_ns;	/**< queue unavailable during the last switch */
	uint64_t max_ns;	/**< longest unavailability */
	uint64_t total_ns;	/**< sum, for the mean */
};

/** Device summary. */
struct ifcsw_migration_info {
	enum ifcsw_dev_state state;
	enum ifcsw_relay_policy policy;
	const char *relay_mode;		/**< "epoll", "poll", "adaptive" */
	bool logging;			/**< frontend has VHOST_F_LOG_ALL on */
	int vid;			/**< vhost id, -1 if none */
	uint16_t nb_queues;		/**< vrings in use */
	uint64_t last_switch_ns;	/**< longest queue time of the last switch */
	uint64_t switches;		/**< device-level switchovers done */
	uint64_t relay_cpu_ns;		/**< CPU time of the serving engine */
};

/** Queue counters (device and relay). */
struct ifcsw_queue_info {
	enum ifcsw_queue_mode mode;
	bool enabled;
	uint64_t packets, bytes, doorbells, irqs, dma_faults, ring_errors;
	uint64_t drops;
	uint64_t relay_avail, relay_used, pages_logged, log_bursts;
	uint64_t relay_broken;
	uint64_t inflight_logged;	/**< used entries logged at switches */
	struct ifcsw_switch_stats sw;
};

/**
 * Set the relay policy of a device. Takes effect at once: switching to
 * ON (or AUTO while logging) moves running queues to the relay, OFF (or
 * AUTO without logging) moves them back.
 * @return 0, -ENODEV (no such device), -EIO (switch failed).
 */
int ifcsw_relay_policy_set(const char *dev_name, enum ifcsw_relay_policy p);

/**
 * Choose the relay engine kind ("epoll", "poll", "auto") for a device;
 * relayed queues move to the new engine at once.
 * @return 0, -ENODEV, -EINVAL.
 */
int ifcsw_relay_mode_set(const char *dev_name, const char *mode);

/** Fill @p info. @return 0 or -ENODEV. */
int ifcsw_migration_info_get(const char *dev_name,
			     struct ifcsw_migration_info *info);

/** Fill @p info for queue @p qid. @return 0, -ENODEV, -EINVAL. */
int ifcsw_queue_info_get(const char *dev_name, uint16_t qid,
			 struct ifcsw_queue_info *info);

/**
 * Get the ethdev port id of the device's wire side.
 * @return 0, -ENODEV, -ENOENT (loopback device: no port).
 */
int ifcsw_wire_port_get(const char *dev_name, uint16_t *port_id);

/** @return the name of a queue mode / device state / policy. */
const char *ifcsw_queue_mode_str(enum ifcsw_queue_mode m);
const char *ifcsw_dev_state_str(enum ifcsw_dev_state s);
const char *ifcsw_relay_policy_str(enum ifcsw_relay_policy p);

#ifdef __cplusplus
}
#endif

#endif /* IFCVF_SW_API_H */
