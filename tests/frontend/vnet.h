/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Minimal virtio-net driver for a loopback device: TX frames of queue
 * pair i come back on RX of queue pair i with MACs swapped. Counts lost,
 * duplicated and corrupted frames per queue pair and, when asked,
 * records which guest pages the device wrote (for log precision).
 */
#ifndef VU_FE_VNET_H
#define VU_FE_VNET_H

#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"

/** Maximum number of queue pairs (ifcvf_sw's, and vhost-user's 32 rings). */
#define VNET_MAX_QP 16

/** Driver configuration (features already negotiated). */
struct vnet_cfg {
	unsigned int nqp;    /**< queue pairs */
	bool mrg;            /**< VIRTIO_NET_F_MRG_RXBUF */
	bool version1;       /**< VIRTIO_F_VERSION_1 */
	bool event_idx;      /**< VIRTIO_RING_F_EVENT_IDX */
	bool indirect;       /**< use indirect descriptors */
	bool packed;         /**< packed rings (VIRTIO_F_RING_PACKED) */
	uint16_t qsize;      /**< ring size */
	uint32_t pkt_size;   /**< frame length */
	uint32_t buf_size;   /**< RX buffer (or segment) size */
	uint64_t max_pkts;   /**< packets per queue pair over the run */
	/** Frames in flight per queue pair at most (moderate load for a
	 * benchmark); 0: as many as the posted RX buffers take. */
	uint32_t window;
};

/** An RX buffer: one or more segments. */
struct vnet_rxbuf {
	struct vq_seg seg[VQ_MAX_SEGS];
	unsigned int nseg;
};

/** Per queue pair counters. */
struct vnet_qstats {
	uint64_t sent;     /**< frames sent */
	uint64_t rx;       /**< distinct intact frames received */
	uint64_t dup;      /**< frames received more than once */
	uint64_t corrupt;  /**< payload mismatch */
	uint64_t bad;      /**< bad header / length / queue */
	uint64_t lost;     /**< sent - received (valid after a drain) */
};

/** One queue pair. */
struct vnet_qp {
	struct virtq rx, tx;
	uint32_t qid;
	struct vnet_rxbuf *rxb;
	unsigned int nrxb;
	uint64_t *tx_gpa;     /**< TX slot GPAs (hdr + frame) */
	uint16_t *tx_free;
	unsigned int ntx, ntx_free;
	uint8_t *seen;        /**< bitmap of received sequence numbers */
	uint8_t *scratch;     /**< reassembly of one received frame */
	uint32_t asm_len;     /**< bytes reassembled so far */
	uint16_t asm_left;    /**< mergeable buffers still expected */
	uint16_t rx_skip, tx_skip; /**< used elements not to track */
	struct vnet_qstats st;
};

/** The driver. */
struct vnet {
	struct vnet_cfg cfg;
	struct guest_mem *gm;
	uint32_t hdr_len;          /**< virtio-net header length */
	uint32_t bufs_per_pkt;     /**< RX buffers needed by one frame */
	struct vnet_qp qp[VNET_MAX_QP];
	struct dl_bitmap *trk_data; /**< pages written into RX buffers */
	struct dl_bitmap *trk_ring; /**< used ring / used descriptor pages */
};

/**
 * Allocate queues, RX buffers and TX slots in guest memory and post all
 * RX buffers (not yet published to the device).
 *
 * @param vn  driver
 * @param gm  guest memory
 * @param cfg configuration
 * @return 0 or negative errno
 */
int vnet_init(struct vnet *vn, struct guest_mem *gm,
	      const struct vnet_cfg *cfg);

/**
 * Free private state.
 *
 * @param vn driver
 */
void vnet_free(struct vnet *vn);

/**
 * Switch to another copy of guest memory (migration destination).
 *
 * @param vn driver
 * @param gm guest memory with identical layout
 * @return 0 or negative errno
 */
int vnet_rebind(struct vnet *vn, struct guest_mem *gm);

/**
 * List the virtqueues in device vring index order (rx0, tx0, rx1, ...).
 *
 * @param vn  driver
 * @param out array of 2 * VNET_MAX_QP entries
 * @return number of virtqueues
 */
unsigned int vnet_vqs(struct vnet *vn, struct virtq **out);

/**
 * Publish pending avail entries of every queue (kicks as needed).
 *
 * @param vn driver
 */
void vnet_publish(struct vnet *vn);

/**
 * Reap used TX and RX elements, verify frames, repost RX buffers.
 *
 * @param vn driver
 * @return elements processed, or negative errno on a protocol error
 */
int vnet_poll(struct vnet *vn);

/**
 * Send @p n more frames on every queue pair, polling as needed.
 *
 * @param vn         driver
 * @param n          frames per queue pair
 * @param timeout_ms give up after this long without progress
 * @return 0 or negative errno (-ETIMEDOUT)
 */
int vnet_run(struct vnet *vn, uint64_t n, int timeout_ms);

/**
 * Poll until every frame sent has come back, or timeout.
 *
 * @param vn         driver
 * @param timeout_ms time limit
 * @return 0 if nothing is in flight, -ETIMEDOUT otherwise
 */
int vnet_drain(struct vnet *vn, int timeout_ms);

/**
 * "Stop the vCPU": without consuming anything, wait until the device
 * has put every sent frame in the RX used rings and consumed all TX.
 *
 * @param vn         driver
 * @param timeout_ms time limit
 * @return 0 when quiet, -ETIMEDOUT otherwise
 */
int vnet_quiesce(struct vnet *vn, int timeout_ms);

/**
 * Start recording device writes. Used elements already pending are
 * excluded (they were written before logging started).
 *
 * @param vn   driver
 * @param data bitmap for RX buffer pages
 * @param ring bitmap for the ring pages the device writes (split: used
 *             ring; packed: descriptor ring slots of used descriptors)
 */
void vnet_track_start(struct vnet *vn, struct dl_bitmap *data,
		      struct dl_bitmap *ring);

/**
 * Account the used elements pending now (device wrote them but the
 * driver has not consumed them yet), then stop recording.
 *
 * @param vn driver
 */
void vnet_track_stop(struct vnet *vn);

/**
 * Sum counters over queue pairs (lost computed as sent - rx).
 *
 * @param vn  driver
 * @param tot totals
 */
void vnet_totals(struct vnet *vn, struct vnet_qstats *tot);

#endif /* VU_FE_VNET_H */
