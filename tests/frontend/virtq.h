/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue, driver side. Rings live in guest memory; every write
 * the driver makes to guest memory is recorded in the driver-dirty
 * bitmap of struct guest_mem.
 */
#ifndef VU_FE_VIRTQ_H
#define VU_FE_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#include "guest_mem.h"

/** Maximum number of segments in one buffer (chain or indirect table). */
#define VQ_MAX_SEGS 16

/** One segment of a buffer. */
struct vq_seg {
	uint64_t gpa;   /**< guest physical address */
	uint32_t len;   /**< bytes */
	bool write;     /**< device-writable */
};

/** One used element returned by the device. */
struct vq_used {
	void *token;    /**< token given to virtq_add() */
	uint32_t len;   /**< bytes written by the device */
	uint16_t slot;  /**< free-running used index of this element */
};

/** A split virtqueue. */
struct virtq {
	struct guest_mem *gm;
	uint16_t size;          /**< number of descriptors (power of 2) */
	uint16_t index;         /**< vring index at the device */
	bool event_idx;         /**< VIRTIO_RING_F_EVENT_IDX negotiated */
	uint64_t desc_gpa, avail_gpa, used_gpa, indir_gpa;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	int kickfd, callfd;     /**< eventfds given to the device */
	uint16_t avail_idx;     /**< next avail index (private shadow) */
	uint16_t kicked_idx;    /**< avail index at the last notify check */
	uint16_t last_used;     /**< next used index to consume */
	uint16_t num_free;      /**< free descriptors (top of free_stack) */
	uint16_t *free_stack;
	uint16_t *next;         /**< private copy of chain links */
	uint16_t *chain_len;    /**< descriptors held by each head */
	void **token;
	uint64_t kicks;         /**< notifications sent */
	uint64_t kicks_saved;   /**< notifications suppressed */
};

/**
 * Allocate the rings in guest memory and create kick/call eventfds.
 *
 * @param vq        virtqueue
 * @param gm        guest memory
 * @param index     vring index at the device
 * @param size      queue size (power of two, <= 32768)
 * @param event_idx whether VIRTIO_RING_F_EVENT_IDX is negotiated
 * @return 0 or negative errno
 */
int virtq_init(struct virtq *vq, struct guest_mem *gm, uint16_t index,
	       uint16_t size, bool event_idx);

/**
 * Release private state and eventfds (guest memory is not freed).
 *
 * @param vq virtqueue
 */
void virtq_free(struct virtq *vq);

/**
 * Point the queue at another copy of guest memory with the same layout
 * (after migration). Ring GPAs are unchanged; host pointers are redone.
 *
 * @param vq virtqueue
 * @param gm new guest memory
 * @return 0 or -EFAULT
 */
int virtq_rebind(struct virtq *vq, struct guest_mem *gm);

/**
 * Add a buffer made of @p n segments to the avail ring (not yet
 * visible to the device: see virtq_publish()).
 *
 * @param vq       virtqueue
 * @param segs     segments, device-readable ones first
 * @param n        number of segments (1..VQ_MAX_SEGS)
 * @param indirect use one indirect descriptor table
 * @param token    non-NULL cookie returned with the used element
 * @return 0, -ENOSPC if not enough descriptors, -EINVAL
 */
int virtq_add(struct virtq *vq, const struct vq_seg *segs, unsigned int n,
	      bool indirect, void *token);

/**
 * Make added buffers visible (avail->idx) and notify the device unless
 * it suppressed notifications (VRING_USED_F_NO_NOTIFY or avail_event).
 *
 * @param vq virtqueue
 */
void virtq_publish(struct virtq *vq);

/**
 * Notify the device unconditionally (e.g. once after it was started).
 *
 * @param vq virtqueue
 */
void virtq_notify(struct virtq *vq);

/**
 * Number of used elements not yet consumed.
 *
 * @param vq virtqueue
 * @return pending used elements
 */
uint16_t virtq_pending(const struct virtq *vq);

/**
 * Look at the @p n-th pending used element without consuming it.
 *
 * @param vq virtqueue
 * @param n  0-based position after last_used
 * @param u  element
 * @return 1 if present, 0 if not, -EPROTO on a bad element
 */
int virtq_peek_used(const struct virtq *vq, uint16_t n, struct vq_used *u);

/**
 * Consume the next used element and free its descriptors.
 *
 * @param vq virtqueue
 * @param u  element
 * @return 1 if one was consumed, 0 if none, -EPROTO on a bad element
 */
int virtq_get_used(struct virtq *vq, struct vq_used *u);

/**
 * Current used->idx as written by the device.
 *
 * @param vq virtqueue
 * @return used index
 */
uint16_t virtq_used_idx(const struct virtq *vq);

/**
 * Mark in @p bm the used-ring bytes the device wrote for element @p slot
 * (the element and used->idx).
 *
 * @param vq   virtqueue
 * @param slot free-running used index of the element
 * @param bm   bitmap to update
 */
void virtq_mark_used_write(const struct virtq *vq, uint16_t slot,
			   struct dl_bitmap *bm);

#endif /* VU_FE_VIRTQ_H */
