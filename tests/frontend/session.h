/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One front-end session as the robustness tools use it: guest RAM of
 * two regions (GPA 0 and 4 GiB), a vhost-user connection, the
 * virtio-net driver over the negotiated features, and a dirty log.
 */
#ifndef VU_FE_SESSION_H
#define VU_FE_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "dirty_log.h"
#include "guest_mem.h"
#include "vhost_dev.h"
#include "vnet.h"

/** A session. */
struct fe_sess {
	struct guest_mem gm;
	struct vdev vd;
	struct vnet vn;
	struct dl_log log;
	struct virtq *vqs[2 * VNET_MAX_QP];
	unsigned int nvq;
	bool vn_ready;         /**< vnet_init() done (vnet_free() needed) */
};

/**
 * The virtio features the test front-end drives: VERSION_1, MQ,
 * PROTOCOL_FEATURES, LOG_ALL (offered only), MRG_RXBUF, EVENT_IDX,
 * INDIRECT_DESC, and RING_PACKED if asked.
 *
 * @param packed ask for packed rings
 * @return the feature bits
 */
uint64_t fe_sess_features(bool packed);

/**
 * Create guest RAM (2 regions of @p region_mb MiB: GPA 0 and 4 GiB) and
 * its dirty log, and connect.
 *
 * @param s          session (zeroed here)
 * @param socket     vhost-user socket
 * @param region_mb  size of each region in MiB
 * @param want       virtio features to ask for (fe_sess_features())
 * @param timeout_ms connect retry time
 * @return 0 or negative errno; fe_sess_close() in both cases
 */
int fe_sess_connect(struct fe_sess *s, const char *socket,
		    unsigned int region_mb, uint64_t want, int timeout_ms);

/**
 * Set up the virtio-net driver as @p vc says (queue pairs, ring size,
 * frame and buffer sizes, window), its feature and ring-format fields
 * filled in from the negotiation (not yet started at the device).
 *
 * @param s  session
 * @param vc configuration; mrg, version1, event_idx and packed are set
 * @return 0, -ERANGE (more queue pairs than the device offers) or
 *         negative errno
 */
int fe_sess_vnet_cfg(struct fe_sess *s, struct vnet_cfg *vc);

/**
 * Set up the virtio-net driver over the negotiated features and ring
 * format (not yet started at the device): 256-byte frames, 2 KiB
 * buffers, no window.
 *
 * @param s        session
 * @param nqp      queue pairs (at most what the device offers)
 * @param qsize    ring size
 * @param max_pkts frames per queue pair the driver may send
 * @return 0, -ERANGE (too many queue pairs) or negative errno
 */
int fe_sess_vnet(struct fe_sess *s, unsigned int nqp, uint16_t qsize,
		 uint64_t max_pkts);

/**
 * Close the session abruptly (the socket just closes, as when QEMU
 * dies) and free everything.
 *
 * @param s session
 */
void fe_sess_close(struct fe_sess *s);

/**
 * Send @p n verified frames per queue pair and take every frame in.
 *
 * @param s          session (driver started)
 * @param n          frames per queue pair
 * @param timeout_ms stall limit
 * @param[out] t     totals, or NULL
 * @return 0, -EPROTO if a frame was lost, duplicated or corrupted, or
 * negative errno
 */
int fe_sess_traffic(struct fe_sess *s, uint64_t n, int timeout_ms,
		    struct vnet_qstats *t);

#endif /* VU_FE_SESSION_H */
