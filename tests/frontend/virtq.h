/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Virtqueue, driver side. The ring format is a seam: struct virtq is the
 * queue object for both the split (virtio 1.x section 2.7,
 * virtq_split.c) and the packed layout (section 2.8, virtq_packed.c),
 * chosen once at virtq_init_fmt() time; the functions below dispatch
 * through vq->ops, so the virtio-net layer never looks at the format.
 * Rings live in guest memory; every write the driver makes to guest
 * memory is recorded in the driver-dirty bitmap of struct guest_mem.
 */
#ifndef VU_FE_VIRTQ_H
#define VU_FE_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#include "guest_mem.h"

/** Maximum number of segments in one buffer (chain or indirect table). */
#define VQ_MAX_SEGS 16

/** Ring layout of a virtqueue. */
enum virtq_fmt {
	VQ_SPLIT,	/**< descriptor table + avail ring + used ring */
	VQ_PACKED,	/**< one descriptor ring (VIRTIO_F_RING_PACKED) */
};

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
	/**
	 * Where the device wrote the element: split, the free-running used
	 * index; packed, the descriptor ring slot of the used descriptor.
	 */
	uint16_t slot;
};

/** Ring addresses as SET_VRING_ADDR carries them. */
struct vq_ring_addr {
	void *desc;        /**< descriptor table / packed descriptor ring */
	void *driver;      /**< avail ring / driver event suppression */
	void *device;      /**< used ring / device event suppression */
	uint64_t log_gpa;  /**< GPA the device's ring writes are logged from */
};

struct virtq;

/** Format-specific operations (see the matching virtq_* functions). */
struct virtq_ops {
	int (*map)(struct virtq *vq, struct guest_mem *gm);
	int (*alloc)(struct virtq *vq, struct guest_mem *gm);
	int (*add)(struct virtq *vq, const struct vq_seg *segs,
		   unsigned int n, bool indirect, void *token);
	/** Publish; 1: notify, 0: device suppressed it, -1: nothing new. */
	int (*publish)(struct virtq *vq);
	uint16_t (*pending)(const struct virtq *vq);
	int (*peek_used)(const struct virtq *vq, uint16_t n,
			 struct vq_used *u);
	int (*get_used)(struct virtq *vq, struct vq_used *u);
	uint16_t (*used_idx)(const struct virtq *vq);
	void (*mark_used_write)(const struct virtq *vq, uint16_t slot,
				struct dl_bitmap *bm);
	uint32_t initial_base;	/**< SET_VRING_BASE of a fresh ring */
};

/** A pending packed head: its flags are stored at virtq_publish(). */
struct vq_pend {
	uint16_t slot;
	uint16_t flags;
};

/** A virtqueue (split or packed). */
struct virtq {
	const struct virtq_ops *ops; /**< ring format */
	bool packed;            /**< ops is the packed format */
	struct guest_mem *gm;
	uint16_t size;          /**< number of descriptors (power of 2) */
	uint16_t index;         /**< vring index at the device */
	bool event_idx;         /**< VIRTIO_RING_F_EVENT_IDX negotiated */
	/*
	 * GPAs of the three areas as in virtio 1.1 terms: descriptor
	 * area, driver area (split: avail ring; packed: driver event
	 * suppression), device area (split: used ring; packed: device
	 * event suppression); indir_gpa holds VQ_MAX_SEGS descriptors per
	 * head (split) or per buffer ID (packed).
	 */
	uint64_t desc_gpa, avail_gpa, used_gpa, indir_gpa;
	/* Split mappings (NULL when packed). */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	/* Packed mappings (NULL when split). */
	struct vring_packed_desc *pdesc;
	struct vring_packed_desc_event *drv_evt; /**< driver writes */
	struct vring_packed_desc_event *dev_evt; /**< device writes */
	int kickfd, callfd;     /**< eventfds given to the device */
	/** Split: next avail index (private shadow); packed: next slot. */
	uint16_t avail_idx;
	uint16_t kicked_idx;    /**< split: avail index at the last notify check */
	/** Split: next used index to consume; packed: next used slot. */
	uint16_t last_used;
	bool avail_wrap;        /**< packed: driver ring wrap counter */
	bool used_wrap;         /**< packed: wrap counter of last_used */
	uint16_t num_free;      /**< free descriptors (ring slots) */
	/** Split: free descriptors; packed: free buffer IDs (num_ids). */
	uint16_t *free_stack;
	uint16_t num_ids;       /**< packed: free buffer IDs */
	uint16_t *next;         /**< split: private copy of chain links */
	uint16_t *chain_len;    /**< ring descriptors held by each head / ID */
	void **token;           /**< per head (split) / buffer ID (packed) */
	struct vq_pend *pend;   /**< packed: heads added, not yet published */
	uint16_t npend;         /**< packed: entries in pend */
	uint16_t added;         /**< packed: descriptors since the last kick check */
	uint64_t kicks;         /**< notifications sent */
	uint64_t kicks_saved;   /**< notifications suppressed */
};

/** Split ring operations (virtq_split.c). */
extern const struct virtq_ops virtq_split_ops;
/** Packed ring operations (virtq_packed.c). */
extern const struct virtq_ops virtq_packed_ops;

/**
 * Allocate the rings of the given format in guest memory, the private
 * state and the kick/call eventfds.
 *
 * @param vq        virtqueue
 * @param gm        guest memory
 * @param index     vring index at the device
 * @param size      queue size (power of two, <= 32768)
 * @param event_idx whether VIRTIO_RING_F_EVENT_IDX is negotiated
 * @param fmt       ring layout (VQ_PACKED needs VIRTIO_F_RING_PACKED)
 * @return 0 or negative errno
 */
int virtq_init_fmt(struct virtq *vq, struct guest_mem *gm, uint16_t index,
		   uint16_t size, bool event_idx, enum virtq_fmt fmt);

/**
 * virtq_init_fmt() with the split layout.
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
 * Ring addresses for SET_VRING_ADDR: host addresses of the three areas
 * and the GPA the device's used writes are logged relative to (split:
 * the used ring; packed: the descriptor ring, where used descriptors
 * are written back in place).
 *
 * @param vq virtqueue
 * @param a  addresses
 */
void virtq_ring_addr(const struct virtq *vq, struct vq_ring_addr *a);

/**
 * SET_VRING_BASE value of a ring nobody used yet: split 0; packed
 * slot 0 with the wrap counter (1) in bit 15, as DPDK's vhost and QEMU
 * encode packed indices.
 *
 * @param vq virtqueue
 * @return base
 */
uint32_t virtq_initial_base(const struct virtq *vq);

/**
 * Add a buffer made of @p n segments (not yet visible to the device:
 * see virtq_publish()).
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
 * Make added buffers visible (split: avail->idx; packed: head flags)
 * and notify the device unless it suppressed notifications (split:
 * VRING_USED_F_NO_NOTIFY or avail_event; packed: the device event
 * suppression area).
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
 * Where the device's used side stands, in the encoding of
 * GET_VRING_BASE: split, used->idx; packed, the slot after the last
 * used descriptor written with its wrap counter in bit 15.
 *
 * @param vq virtqueue
 * @return used position
 */
uint16_t virtq_used_idx(const struct virtq *vq);

/**
 * Mark in @p bm the ring bytes the device wrote for element @p slot
 * (split: the used element and used->idx; packed: the used descriptor).
 *
 * @param vq   virtqueue
 * @param slot vq_used.slot of the element
 * @param bm   bitmap to update
 */
void virtq_mark_used_write(const struct virtq *vq, uint16_t slot,
			   struct dl_bitmap *bm);

#endif /* VU_FE_VIRTQ_H */
