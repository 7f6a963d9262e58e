/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One vhost-user device session seen from the front-end: feature
 * negotiation, memory table, vring setup, dirty logging and stop.
 */
#ifndef VU_FE_VHOST_DEV_H
#define VU_FE_VHOST_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "dirty_log.h"
#include "guest_mem.h"
#include "vhost_user_msg.h"
#include "virtq.h"

/** A device session. */
struct vdev {
	struct vu_conn c;
	uint64_t offered;     /**< GET_FEATURES result */
	uint64_t features;    /**< negotiated virtio features (no LOG_ALL) */
	uint64_t queue_num;   /**< GET_QUEUE_NUM (queue pairs), or 1 */
	bool logging;         /**< LOG_ALL currently set */
};

/**
 * Connect and negotiate protocol features (MQ, LOG_SHMFD, REPLY_ACK),
 * send SET_OWNER, read the device features and queue count. The ring
 * layout is a session option carried by @p want: with
 * 1 << VU_F_RING_PACKED in it (and offered), every ring of the session
 * must be packed (see vdev_ring_fmt()).
 *
 * @param vd         session
 * @param path       socket path
 * @param want       virtio features the driver would like
 * @param timeout_ms connect retry time
 * @return 0 or negative errno
 */
int vdev_connect(struct vdev *vd, const char *path, uint64_t want,
		 int timeout_ms);

/**
 * Close the session.
 *
 * @param vd session
 */
void vdev_close(struct vdev *vd);

/**
 * Tell whether a virtio feature was negotiated.
 *
 * @param vd  session
 * @param bit feature bit
 * @return true if negotiated
 */
bool vdev_has(const struct vdev *vd, unsigned int bit);

/**
 * Ring layout the session negotiated (VIRTIO_F_RING_PACKED or not).
 *
 * @param vd session
 * @return VQ_PACKED or VQ_SPLIT
 */
enum virtq_fmt vdev_ring_fmt(const struct vdev *vd);

/**
 * Start the device: SET_FEATURES, SET_MEM_TABLE, then for each ring
 * SET_VRING_NUM/BASE/ADDR/KICK/CALL and finally SET_VRING_ENABLE.
 *
 * @param vd    session
 * @param gm    guest memory
 * @param vqs   rings in vring index order
 * @param n     number of rings
 * @param bases initial avail index per ring, vhost encoding (NULL:
 *              virtq_initial_base() of each ring)
 * @return 0 or negative errno
 */
int vdev_start(struct vdev *vd, const struct guest_mem *gm,
	       struct virtq **vqs, unsigned int n, const uint32_t *bases);

/**
 * Send SET_MEM_TABLE describing every region of @p gm (part of
 * vdev_start(), for sessions that order messages themselves).
 *
 * @param vd session
 * @param gm guest memory
 * @return 0 or negative errno
 */
int vdev_set_mem(struct vdev *vd, const struct guest_mem *gm);

/**
 * Set up one ring as vdev_start() does: SET_VRING_NUM, SET_VRING_BASE,
 * SET_VRING_ADDR (log flag as vd->logging), SET_VRING_KICK and
 * SET_VRING_CALL; no SET_VRING_ENABLE.
 *
 * @param vd   session
 * @param vq   ring
 * @param base initial avail index (packed: slot | wrap << 15)
 * @return 0 or negative errno (-EPROTO: ring layout is not the
 *         negotiated one)
 */
int vdev_setup_ring(struct vdev *vd, const struct virtq *vq, uint32_t base);

/**
 * Turn dirty logging on: SET_LOG_BASE, SET_FEATURES | LOG_ALL (acked),
 * SET_VRING_ADDR with VHOST_VRING_F_LOG on every ring.
 *
 * @param vd  session
 * @param log shared log
 * @param vqs rings
 * @param n   number of rings
 * @return 0 or negative errno
 */
int vdev_log_start(struct vdev *vd, const struct dl_log *log,
		   struct virtq **vqs, unsigned int n);

/**
 * Turn dirty logging off (cancelled migration): SET_FEATURES without
 * LOG_ALL, SET_VRING_ADDR without the log flag.
 *
 * @param vd  session
 * @param vqs rings
 * @param n   number of rings
 * @return 0 or negative errno
 */
int vdev_log_stop(struct vdev *vd, struct virtq **vqs, unsigned int n);

/**
 * Stop the device: GET_VRING_BASE on every ring.
 *
 * @param vd    session
 * @param vqs   rings
 * @param n     number of rings
 * @param bases returned last_avail_idx per ring (packed: with the
 *              avail wrap counter in bit 15)
 * @return 0 or negative errno
 */
int vdev_stop(struct vdev *vd, struct virtq **vqs, unsigned int n,
	      uint32_t *bases);

#endif /* VU_FE_VHOST_DEV_H */
