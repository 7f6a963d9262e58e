/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef IFCVF_SW_H
#define IFCVF_SW_H

/**
 * @file
 * ifcvf_sw driver internals: one struct ifcsw_dev per probed vdev, joining
 * the emulated hardware (ifcvf_sw_hw.h), the vDPA/vhost side and the relay.
 */

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/queue.h>

#include <rte_vdpa.h>
#include <rte_vhost.h>

#include "ifcvf_sw_hw.h"
#include "ifcvf_sw_api.h"
#include "vdpa_relay.h"

#ifndef VHOST_F_LOG_ALL
#define VHOST_F_LOG_ALL 26
#endif

struct rte_vdpa_device;
struct rte_vdev_device;

/** Per-queue driver state, protected by dev->lock. */
struct ifcsw_vq {
	enum ifcsw_queue_mode mode;	/**< where the data path runs */
	bool enabled;			/**< vhost SET_VRING_ENABLE state */
	struct rte_vhost_vring vring;	/**< guest rings and fds */
	uint64_t desc_gpa;		/**< guest rings as device IOVAs */
	uint64_t avail_gpa;
	uint64_t used_gpa;
	uint64_t log_guest_addr;	/**< used ring GPA for the dirty log */
	/**
	 * The device's own used index when the relay was asked for: the
	 * in-flight window starts here. Never the guest-writable used->idx.
	 */
	uint16_t used_idx_at_log_on;
	struct vrelay_queue *relay;	/**< set while mode is RELAY */
	/** Relay-mode mediated rings as mapped in the device IOVA space. */
	uint64_t mring_avail_iova;
	uint64_t mring_used_iova;
	struct ifcsw_switch_stats sw;	/**< switchover timing */
	/** Relay counters of earlier relay periods of this queue. */
	struct vrelay_queue_stats relay_total;
};

/** One ifcvf_sw device. */
struct ifcsw_dev {
	TAILQ_ENTRY(ifcsw_dev) next;
	char name[64];
	struct rte_vdev_device *vdev;
	struct rte_vdpa_device *vdpa;
	struct ifcsw_hw hw;		/**< the emulated VF */
	struct rte_mempool *mp;		/**< wire-side mbufs */
	uint16_t wire_port;		/**< ethdev port of the wire side */
	bool has_wire_port;

	pthread_mutex_t lock;		/**< vhost thread vs. app control */
	enum ifcsw_dev_state state;
	int vid;			/**< vhost device id, -1 none */
	uint64_t features;		/**< negotiated virtio features */
	uint16_t nb_vqs;		/**< vrings vhost has */
	struct ifcsw_vq vq[IFCSW_MAX_QUEUES];

	/* Relay control. */
	enum ifcsw_relay_policy policy;	/**< when to relay */
	enum vrelay_mode relay_mode;	/**< which engine serves us */
	int relay_cpu;			/**< engine CPU, -1 any */
	struct vrelay_engine *engine;	/**< engine serving our queues */
	struct vrelay_device *rdev;	/**< guest memory + dirty log */
	struct vrelay_mem mem;		/**< guest memory table */
	uint64_t mem_top;		/**< highest GPA + 1 */
	void *log_map;			/**< our own mapping of the log */
	uint64_t log_map_size;		/**< its length */
	uint64_t log_size;		/**< bitmap bytes (0: no log) */
	uint8_t *log_tmp;		/**< mirror of the log while vhost swaps it */
	uint64_t log_tmp_size;
	/**
	 * A switch to the relay failed (negative errno), not yet reported to
	 * the frontend: the vhost message being handled fails with it.
	 */
	int relay_error;
	uint64_t switches;		/**< device-level switchovers */
	uint64_t last_switch_ns;	/**< worst queue in the last one */

	/* Devargs. */
	char socket_path[256];		/**< vhost-user socket we serve, or "" */
	bool socket_client;
	bool socket_registered;
	uint16_t nb_queue_pairs;
};

/* ifcvf_sw_ops.c: the vDPA ops table. */
extern struct rte_vdpa_dev_ops ifcsw_vdpa_ops;
struct ifcsw_dev *ifcsw_dev_from_vid(int vid);
struct ifcsw_dev *ifcsw_dev_from_vdpa(struct rte_vdpa_device *vdpa);
/** Point a stopped queue's registers at the guest's rings and fds. */
int ifcsw_queue_program_direct(struct ifcsw_dev *dev, uint16_t qid);
/** Whether policy and logging state call for the relay. */
bool ifcsw_dev_wants_relay(const struct ifcsw_dev *dev);

/* ifcvf_sw_vq.c: queue modes, changed in one place; dev->lock held. */
/** Change a queue's mode; refuses (-EINVAL, logged) a bad transition. */
int ifcsw_vq_set_mode(struct ifcsw_dev *dev, uint16_t qid,
		      enum ifcsw_queue_mode to);
/**
 * Start the VF queue as programmed. Refuses (-EPERM) to run it on the
 * guest's own rings while the frontend logs (unless the operator set
 * the relay policy off): the VF cannot log.
 */
int ifcsw_vq_run(struct ifcsw_dev *dev, uint16_t qid);
/** Stop a queue that cannot be relayed: HELD (or BROKEN if faulted). */
int ifcsw_vq_hold(struct ifcsw_dev *dev, uint16_t qid);
/** Whether the frontend has VHOST_F_LOG_ALL on. */
bool ifcsw_dev_logging(const struct ifcsw_dev *dev);

/* ifcvf_sw_relay.c: switchover; dev->lock held. */
int ifcsw_relay_start(struct ifcsw_dev *dev);
int ifcsw_relay_stop(struct ifcsw_dev *dev, bool resume);
int ifcsw_relay_queue_start(struct ifcsw_dev *dev, uint16_t qid);
int ifcsw_relay_queue_stop(struct ifcsw_dev *dev, uint16_t qid, bool resume,
			   uint16_t *last_avail, uint16_t *last_used);
int ifcsw_relay_set_mode(struct ifcsw_dev *dev, enum vrelay_mode mode);
int ifcsw_relay_dev_setup(struct ifcsw_dev *dev, const struct vrelay_mem *mem);
void ifcsw_relay_dev_teardown(struct ifcsw_dev *dev);
struct vrelay_mem *ifcsw_relay_dev_mem(struct ifcsw_dev *dev);
/** Hold every relayed or direct queue stopped (the log is lost). */
void ifcsw_relay_hold_all(struct ifcsw_dev *dev);
struct vrelay_engine *ifcsw_relay_engine(enum vrelay_mode mode, int cpu);
void ifcsw_relay_engines_release(void);

/* ifcvf_sw_dirtylog.c: the dirty log and SET_LOG_BASE; dev->lock held. */
int ifcsw_relay_setup_log(struct ifcsw_dev *dev);
void ifcsw_relay_release_log(struct ifcsw_dev *dev);
int ifcsw_relay_register_msg_hooks(struct ifcsw_dev *dev);

/* ifcvf_sw_stats.c: vDPA stats and telemetry. */
int ifcsw_get_stats_names(struct rte_vdpa_device *vdpa,
			  struct rte_vdpa_stat_name *names, unsigned int size);
int ifcsw_get_stats(struct rte_vdpa_device *vdpa, int qid,
		    struct rte_vdpa_stat *stats, unsigned int n);
int ifcsw_reset_stats(struct rte_vdpa_device *vdpa, int qid);
/** Look a device up by name; NULL if none. */
struct ifcsw_dev *ifcsw_dev_by_name(const char *name);
/** Fill a queue's counters; takes dev->lock (must not be held). */
void ifcsw_queue_info_fill(struct ifcsw_dev *dev, uint16_t qid,
			   struct ifcsw_queue_info *info);

/* ifcvf_sw_probe.c */
extern TAILQ_HEAD(ifcsw_dev_list, ifcsw_dev) ifcsw_devs;
extern pthread_mutex_t ifcsw_devs_lock;

#endif /* IFCVF_SW_H */
