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
#include "vdpa_relay_vhost.h"

struct rte_vdpa_device;
struct rte_vdev_device;

/** Per-queue driver state; changed from the controller's ops. */
struct ifcsw_vq {
	/** The guest's rings, as the controller gave them for direct I/O. */
	struct vrelay_vhost_ring ring;
	/**
	 * Relay-mode mediated rings as mapped in the device IOVA space:
	 * a packed queue's descriptor ring (0 for split), the driver area
	 * (avail) and the device area (used). mring_used_iova != 0 means
	 * the queue is on the mediated rings.
	 */
	uint64_t mring_desc_iova;
	uint64_t mring_avail_iova;
	uint64_t mring_used_iova;
};

/** Whole-device queue control (queue_control=device), ifcvf_sw_wd.c. */
struct ifcsw_wd {
	/** Queues the controller resumed and has not suspended since. */
	uint32_t runnable;
	/** A batch of suspends or resumes is under way: the device stays
	 *  stopped until its end (ifcsw_wd_hold()/ifcsw_wd_release()). */
	bool held;
	/** Audit: queues started on the guest's rings while the frontend
	 *  logged (fail closed violated). Must stay 0. */
	uint64_t unlogged_starts;
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
	int vid;			/**< vhost device id, -1 none */
	uint64_t mem_top;		/**< highest GPA + 1 */
	struct ifcsw_vq vq[IFCSW_MAX_QUEUES];
	struct ifcsw_wd wd;
	/** The relay controller: switches, dirty log, policy, counters. */
	struct vrelay_vhost *ctl;

	/* Devargs. */
	char socket_path[256];		/**< vhost-user socket we serve, or "" */
	bool socket_client;
	bool socket_registered;
	uint16_t nb_queue_pairs;
	/** packed=1: offer VIRTIO_F_RING_PACKED. */
	bool packed;
	/**
	 * mrg_rxbuf=0: do not offer VIRTIO_NET_F_MRG_RXBUF, as a VF
	 * without mergeable rx buffers would (a migration destination
	 * that lacks a feature the guest negotiated on the source).
	 */
	bool mrg_rxbuf;
};

/* ifcvf_sw_ops.c: the vDPA ops table. */
extern struct rte_vdpa_dev_ops ifcsw_vdpa_ops;
struct ifcsw_dev *ifcsw_dev_from_vid(int vid);
struct ifcsw_dev *ifcsw_dev_from_vdpa(struct rte_vdpa_device *vdpa);

/* ifcvf_sw_qctl.c: the queue control the relay controller drives. */
extern const struct vrelay_vhost_ops ifcsw_vhost_ops;

/* ifcvf_sw_wd.c: queue control of a whole-device VF. */
static inline bool
ifcsw_whole_device(const struct ifcsw_dev *dev)
{
	return dev->hw.conf.qctl == IFCSW_QCTL_DEVICE;
}
/** Fail closed: the queue may run (mediated rings, or not logging). */
bool ifcsw_may_run(const struct ifcsw_dev *dev, uint16_t qid);
/** Write a queue's registers; a whole-device VF is stopped for it. */
int ifcsw_regs_set(struct ifcsw_dev *dev, uint16_t qid,
		   const struct ifcsw_hwq_regs *regs);
/** Whole device: stop it, the queue no longer runnable. No-op per queue. */
void ifcsw_wd_park(struct ifcsw_dev *dev, uint16_t qid);
/** Whole device: start the runnable queues that may run, if stopped. */
void ifcsw_wd_restart(struct ifcsw_dev *dev);
/** Whole device: resume a queue with @p regs (its indices). */
int ifcsw_wd_resume(struct ifcsw_dev *dev, uint16_t qid,
		    const struct ifcsw_hwq_regs *regs);
/** Whole device: keep it stopped across a batch of ops. No-op per queue. */
void ifcsw_wd_hold(struct ifcsw_dev *dev);
/** Whole device: end of the batch, start what may run. */
void ifcsw_wd_release(struct ifcsw_dev *dev);
/** Whole device: resume n queues with one stop and one start. */
void ifcsw_wd_resume_many(struct ifcsw_dev *dev, unsigned int n,
			  const uint16_t *qids,
			  const struct ifcsw_hwq_regs *regs, int *rets);

/* ifcvf_sw_stats.c: vDPA stats, wire port lookup. */
int ifcsw_get_stats_names(struct rte_vdpa_device *vdpa,
			  struct rte_vdpa_stat_name *names, unsigned int size);
int ifcsw_get_stats(struct rte_vdpa_device *vdpa, int qid,
		    struct rte_vdpa_stat *stats, unsigned int n);
int ifcsw_reset_stats(struct rte_vdpa_device *vdpa, int qid);
/** Look a device up by name; NULL if none. */
struct ifcsw_dev *ifcsw_dev_by_name(const char *name);

/* ifcvf_sw_probe.c */
extern TAILQ_HEAD(ifcsw_dev_list, ifcsw_dev) ifcsw_devs;
extern pthread_mutex_t ifcsw_devs_lock;

#endif /* IFCVF_SW_H */
