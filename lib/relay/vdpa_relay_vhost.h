/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef VDPA_RELAY_VHOST_H
#define VDPA_RELAY_VHOST_H

/**
 * @file
 * The relay controller: what a DPDK vDPA driver plugs into to make its
 * device live-migratable.
 *
 * A driver creates one controller per vDPA device with its queue-control
 * ops, and calls it from its vDPA ops (after its own work, such as
 * mapping guest memory for DMA in dev_conf):
 *
 *   dev_conf        -> vrelay_vhost_dev_conf()
 *   set_features    -> vrelay_vhost_set_features()
 *   set_vring_state -> vrelay_vhost_set_vring_state()
 *   dev_close       -> vrelay_vhost_dev_close()
 *   dev_cleanup     -> vrelay_vhost_dev_cleanup()
 *
 * The controller does everything that does not depend on the hardware:
 * it reads the guest's rings from vhost and checks their geometry, hands
 * them to the driver for direct I/O, switches the queues to the relay
 * while the frontend logs dirty pages (VHOST_F_LOG_ALL) and back when it
 * stops, logs the in-flight window, keeps its own mapping of the dirty
 * log across SET_LOG_BASE (vhost's message hooks), chooses and shares the
 * relay engines, and counts.
 *
 * Fail closed: while the frontend logs, the controller never lets a
 * queue run on the guest's own rings. A queue it cannot relay is held
 * stopped (VRELAY_QMODE_HELD) until logging stops, and the vhost-user
 * message whose handling failed the switch is failed, so the frontend
 * knows.
 *
 * Locking: each controller has a lock; every entry point takes it, and
 * the driver's ops are called with it held, from vhost's message thread
 * or a control thread, never concurrently for one device. An op must not
 * call back into the controller.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_vdpa.h>

#include "vdpa_relay.h"

#ifdef __cplusplus
extern "C" {
#endif

/** When a device's queues are relayed. */
enum vrelay_policy {
	VRELAY_POLICY_AUTO,	/**< while the frontend logs dirty pages */
	VRELAY_POLICY_ON,	/**< always (tests, benchmarks) */
	VRELAY_POLICY_OFF,	/**< never: migration is NOT safe */
	VRELAY_POLICY_COUNT,
};

/** Where a queue's data path runs. */
enum vrelay_qmode {
	VRELAY_QMODE_STOPPED,	/**< not started, or stopped by the frontend */
	VRELAY_QMODE_DIRECT,	/**< the device uses the guest's rings */
	VRELAY_QMODE_SWITCHING,	/**< a switch is in progress */
	VRELAY_QMODE_RELAY,	/**< mediated rings, relayed and logged */
	VRELAY_QMODE_BROKEN,	/**< the guest or the device broke it */
	/** Could not be relayed while the frontend logs: held stopped
	 *  (fail closed) until logging stops, then direct again. */
	VRELAY_QMODE_HELD,
	VRELAY_QMODE_COUNT,
};

/** A device's state. */
enum vrelay_dstate {
	VRELAY_DSTATE_IDLE,	/**< no frontend, or not configured */
	VRELAY_DSTATE_DIRECT,	/**< queues in direct I/O */
	VRELAY_DSTATE_SWITCHING,/**< a switch is running */
	VRELAY_DSTATE_RELAY,	/**< queues relayed (or held) */
	VRELAY_DSTATE_COUNT,
};

/**
 * A guest ring as the controller hands it to the driver. The areas have
 * their virtio 1.1 names: for a split ring the driver area is the avail
 * ring and the device area the used ring; for a packed ring they are the
 * driver and device event suppression structures.
 */
struct vrelay_vhost_ring {
	enum vrelay_ring_format format;	/**< from VIRTIO_F_RING_PACKED */
	uint64_t desc_gpa;	/**< descriptor table/ring, guest physical */
	uint64_t driver_area_gpa;	/**< split: avail ring */
	uint64_t device_area_gpa;	/**< split: used ring */
	uint16_t size;		/**< entries, checked: 2^k, <= 32768 */
	/** Where to start: next avail entry to fetch, used entry to write. */
	struct vrelay_qstate state;
	int kick_fd;		/**< the guest kicks it */
	int call_fd;		/**< interrupts the guest, or -1 */
	uint64_t features;	/**< negotiated virtio features */
};

/**
 * Queue control of a vDPA device. Every op works on one queue, returns 0
 * or a negative errno, and is called with the controller's lock held.
 */
struct vrelay_vhost_ops {
	/**
	 * Program the stopped queue for direct I/O on the guest's rings
	 * (rings already checked: they lie in guest memory, aligned), at
	 * ring->state. Do not start it: the controller starts it with
	 * qctl.resume when it may run. A driver refuses a ring format it
	 * does not support with -ENOTSUP.
	 */
	int (*program_guest)(void *ctx, uint16_t qid,
			     const struct vrelay_vhost_ring *ring);
	/**
	 * The switchover ops (vdpa_relay.h). program_direct points the queue
	 * back at the rings of the last program_guest. resume must refuse
	 * (-EPERM) to run the queue on the guest's rings while
	 * vrelay_vhost_direct_allowed() is false.
	 */
	struct vrelay_qctl_ops qctl;
	/**
	 * The device's own used index of the queue: where an in-flight
	 * window starts. Never read from the guest's used ring, which the
	 * guest can forge. Split rings only
	 * (vrelay_queue_conf.log_from_used_idx): a packed window cannot be
	 * attributed and is logged as all of guest memory
	 * (vrelay_queue_conf.log_window_all), so for a packed queue the
	 * value is not used.
	 */
	uint16_t (*used_idx)(void *ctx, uint16_t qid);
	/** Forget a fault of a stopped queue (device reset). Optional. */
	void (*reset)(void *ctx, uint16_t qid);
	/**
	 * Whether the device stopped the queue on a fault of its own (DMA
	 * outside its map, a ring it could not parse). Optional: the
	 * controller then reports the queue broken, one answer for the
	 * device's faults and the relay's.
	 */
	bool (*faulted)(void *ctx, uint16_t qid);
	/**
	 * The post-copy window opens (on) or closes: while it is open,
	 * guest pages the device accesses may not have arrived, so a
	 * device that cannot wait for a page (an IOMMU without page
	 * faults) treats an absent page as a DMA fault. Optional.
	 */
	void (*set_postcopy)(void *ctx, bool on);
};

/** What a driver tells the controller about a device. */
struct vrelay_vhost_conf {
	const char *name;	/**< device name (logs, control API); copied */
	uint16_t max_queues;	/**< virtqueues the device has */
	const struct vrelay_vhost_ops *ops;
	void *ctx;		/**< passed back to every op */
	enum vrelay_policy policy;
	enum vrelay_mode mode;	/**< engine kind */
	int relay_cpu;		/**< engine CPU, -1 for any */
};

struct vrelay_vhost;

/**
 * Create a controller for a vDPA device.
 * @return the controller, or NULL with errno set (EINVAL, ENOMEM, EEXIST
 * if the name is taken).
 * Ownership: the driver; destroy it with vrelay_vhost_destroy().
 * Thread context: any control thread (the driver's probe).
 */
struct vrelay_vhost *vrelay_vhost_create(const struct vrelay_vhost_conf *conf);

/**
 * Destroy a controller; the device must be closed (no frontend).
 * Releases the relay engines when no controller uses them any more.
 */
void vrelay_vhost_destroy(struct vrelay_vhost *v);

/**
 * vhost configured the device (the driver's dev_conf, after the driver
 * mapped guest memory for its DMA): read the memory table and the rings,
 * program and start the enabled queues, in direct I/O or, if the relay
 * is wanted, on the relay.
 * @return 0, or a negative errno if the device cannot be used at all.
 * A queue that cannot start is logged and left stopped (or held).
 */
int vrelay_vhost_dev_conf(struct vrelay_vhost *v, int vid);

/**
 * A frontend connected (the application's vhost new_connection callback,
 * vid from it): watch its vhost-user messages from now on, before the
 * device is configured. Needed for post-copy, whose POSTCOPY_LISTEN comes
 * before the device starts; without it the controller sees only what
 * follows dev_conf, and a post-copy destination's queues would run
 * unprefaulted... so vrelay_vhost_dev_conf() refuses (-EPROTO) a device
 * that negotiated VHOST_USER_PROTOCOL_F_PAGEFAULT on a connection this
 * was not called for.
 * @return 0, or -EINVAL (vhost refused the hooks).
 */
int vrelay_vhost_connect(struct vrelay_vhost *v, int vid);

/**
 * vhost stops the device (the driver's dev_close, on GET_VRING_BASE):
 * stop every queue wherever it runs, relay the last used entries, and
 * hand vhost the device's exact indices.
 */
int vrelay_vhost_dev_close(struct vrelay_vhost *v);

/**
 * vhost forgot the frontend (the driver's dev_cleanup, connection
 * closed): no vhost id, no features, no queue enabled.
 */
void vrelay_vhost_dev_cleanup(struct vrelay_vhost *v);

/**
 * The frontend set the features (the driver's set_features): switch to
 * the relay when logging starts, back to direct I/O when it stops.
 * @return 0 or the first error; a failure is also reported to the
 * frontend on the reply to the message.
 */
int vrelay_vhost_set_features(struct vrelay_vhost *v);

/** A queue was enabled or disabled (the driver's set_vring_state). */
int vrelay_vhost_set_vring_state(struct vrelay_vhost *v, uint16_t qid,
				 bool enable);

/**
 * Whether a queue may run on the guest's own rings now: false while the
 * frontend logs dirty pages, unless the policy is VRELAY_POLICY_OFF.
 * For the driver's resume op. Lock held (called from an op).
 */
bool vrelay_vhost_direct_allowed(const struct vrelay_vhost *v);

/* ------------------------------------------------------------------ */
/* Control and counters                                                */
/* ------------------------------------------------------------------ */

/** Switchover timings of one queue, in nanoseconds. */
struct vrelay_switch_stats {
	uint64_t to_relay;	/**< switches direct -> relay */
	uint64_t to_direct;	/**< switches relay -> direct */
	uint64_t last_ns;	/**< unavailable during the last switch */
	uint64_t max_ns;	/**< longest unavailability */
	uint64_t total_ns;	/**< sum, for the mean */
};

/** One queue as the controller sees it. */
struct vrelay_vhost_qinfo {
	enum vrelay_qmode mode;
	bool enabled;
	struct vrelay_queue_stats relay;	/**< summed over relay periods */
	struct vrelay_switch_stats sw;
};

/** A device as the controller sees it. */
struct vrelay_vhost_info {
	enum vrelay_dstate state;
	enum vrelay_policy policy;
	enum vrelay_mode mode;		/**< engine kind */
	bool logging;			/**< the frontend has LOG_ALL on */
	int vid;			/**< vhost id, -1 if none */
	uint16_t nb_queues;		/**< virtqueues in use */
	uint64_t switches;		/**< device-level switchovers */
	uint64_t last_switch_ns;	/**< worst queue of the last one */
	uint64_t relay_cpu_ns;		/**< CPU time of the serving engine */
	/** Device total of the last switchover: from just before its first
	 *  queue stops to its last queue running again (or held). */
	uint64_t last_switch_total_ns;
	/** In the post-copy window (POSTCOPY_LISTEN .. POSTCOPY_END). */
	bool postcopy;
	/** Post-copy: chains held back for pages, pages fetched (totals
	 *  since the controller was created). */
	uint64_t prefault_waits;
	uint64_t prefault_pages;
};

/**
 * Migration version of every device a relay controller serves
 * (doc/design.md, "Migration compatibility"). Two vhost-user backends
 * of one device model can take a guest from each other if they have the
 * same migration version: it names what of the backend's state crosses
 * hosts and how. Version 1: only the rings' positions, which vhost-user
 * hands over itself (GET_VRING_BASE at the source, SET_VRING_BASE at the
 * destination: last avail index, and wrap counters for packed rings),
 * with every buffer the device took completed and logged before them;
 * no device state of its own (no VHOST_USER_PROTOCOL_F_DEVICE_STATE, no
 * inflight tracking). DPDK's vhost library (net_vhost) is the same.
 * Bump it when the backend starts handing over anything else a
 * destination must load, or changes what those indices mean.
 */
#define VRELAY_MIGRATION_VERSION 1

/** What decides whether a device can be a migration source. */
struct vrelay_vhost_mig_info {
	/** The relay logs the device's writes while the frontend logs
	 *  dirty pages: false if the policy is VRELAY_POLICY_OFF. */
	bool can_log;
	/** Why not, when !can_log (a static string), else NULL. */
	const char *cannot_log_why;
	/** A frontend negotiated features (the fields below are valid). */
	bool connected;
	uint64_t features;	/**< virtio features the frontend set */
	uint16_t nb_queues;	/**< virtqueues the frontend set up */
};

/**
 * Fill @p mi: whether the device can log dirty pages, and what the
 * frontend connected now negotiated. Any control thread.
 * @return 0.
 */
int vrelay_vhost_get_mig_info(struct vrelay_vhost *v,
			      struct vrelay_vhost_mig_info *mi);

/** Find a controller by device name. @return it, or NULL. */
struct vrelay_vhost *vrelay_vhost_find(const char *name);

/**
 * Set the relay policy; takes effect at once (queues switch).
 * @return 0, -EINVAL, or the switch's error.
 */
int vrelay_vhost_set_policy(struct vrelay_vhost *v, enum vrelay_policy p);

/**
 * Choose the engine kind; relayed queues move to the new engine at once.
 * @return 0, -EINVAL, -ENOMEM, or -EIO (some queue could not move).
 */
int vrelay_vhost_set_mode(struct vrelay_vhost *v, enum vrelay_mode mode);

/** Fill @p info. Any control thread. @return 0. */
int vrelay_vhost_get_info(struct vrelay_vhost *v,
			  struct vrelay_vhost_info *info);

/** Fill @p info for queue @p qid. @return 0 or -EINVAL. */
int vrelay_vhost_get_qinfo(struct vrelay_vhost *v, uint16_t qid,
			   struct vrelay_vhost_qinfo *info);

/** Zero a queue's relay and switch counters. @return 0 or -EINVAL. */
int vrelay_vhost_reset_qinfo(struct vrelay_vhost *v, uint16_t qid);

/*
 * A queue's counters by name, from one table: telemetry
 * (/vdpa_relay/stats), a driver's rte_vdpa_get_stats() and applications
 * read the same names and values.
 */

/** @return how many relay counters a queue has. */
unsigned int vrelay_vhost_counter_count(void);

/** @return the name of relay counter @p i, or NULL past the last. */
const char *vrelay_vhost_counter_name(unsigned int i);

/** @return the value of relay counter @p i in @p qi (0 past the last). */
uint64_t vrelay_vhost_counter_value(const struct vrelay_vhost_qinfo *qi,
				    unsigned int i);

/**
 * For a driver's get_stats_names vDPA op: write the relay counters'
 * names into @p names (at most @p size of them).
 * @return the number of relay counters.
 */
int vrelay_vhost_stats_names(struct rte_vdpa_stat_name *names,
			     unsigned int size);

/**
 * For a driver's get_stats vDPA op: write queue @p qid's relay counters
 * into @p stats (at most @p n), with ids first_id, first_id + 1, ...
 * (where the driver's own counters end).
 * @return the number written, or -EINVAL.
 */
int vrelay_vhost_stats(struct vrelay_vhost *v, uint16_t qid,
		       struct rte_vdpa_stat *stats, unsigned int n,
		       uint64_t first_id);

/** Parse "auto", "on" or "off". @return 0 or -EINVAL. */
int vrelay_policy_from_str(const char *s, enum vrelay_policy *p);
/** @return the name of a policy, queue mode or device state ("?"). */
const char *vrelay_policy_to_str(enum vrelay_policy p);
const char *vrelay_qmode_to_str(enum vrelay_qmode m);
const char *vrelay_dstate_to_str(enum vrelay_dstate s);

#ifdef __cplusplus
}
#endif

#endif /* VDPA_RELAY_VHOST_H */
