/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * packed_drv: both sides of one packed virtqueue (virtio 1.1, 2.8), for
 * tests and benchmarks. The driver side (struct packed_drv) makes chains
 * available with its wrap counter and reads used descriptors from the
 * guest's ring; the device side (struct packed_dev) fetches available
 * chains from a ring (the relay's mediated one) with its own wrap
 * counter and completes them in any order, id and len first, flags last.
 *
 * Like split_drv it is not a checker: every ring field is in memory
 * (d->desc, d->driver, d->device) for a test to corrupt, and each call
 * carries on from the positions it keeps. The fuzz walker (tests/fuzz)
 * stays independent of it: it is the oracle.
 */

#ifndef PACKED_DRV_H
#define PACKED_DRV_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#include "vq_drv.h"

/** The AVAIL and USED flag bits of a packed descriptor. */
#define PACKED_F_AVAIL	(1u << VRING_PACKED_DESC_F_AVAIL)
#define PACKED_F_USED	(1u << VRING_PACKED_DESC_F_USED)

/** Bytes of a packed ring's areas for size descriptors. */
#define PACKED_DRV_DESC_BYTES(size)	(16u * (size))
#define PACKED_DRV_EVENT_BYTES		4u

/** A position in a packed ring and the wrap counter of its lap. */
struct packed_pos {
	uint16_t idx;
	bool wrap;
};

/** p moved n descriptors on (n <= size), flipping wrap at the end. */
void packed_pos_add(struct packed_pos *p, uint16_t size, uint16_t n);

/** AVAIL/USED bits of a descriptor made available in a lap of wrap. */
uint16_t packed_avail_bits(bool wrap);

/** @return true if flags make a descriptor available in a lap of wrap. */
bool packed_is_avail(uint16_t flags, bool wrap);

/** @return true if flags make a descriptor used in a lap of wrap. */
bool packed_is_used(uint16_t flags, bool wrap);

/** Write an event suppression area: flags, and DESC's position. */
void packed_event_set(struct vring_packed_desc_event *ev, uint16_t flags,
		      struct packed_pos at);

/* ---- driver side ---------------------------------------------------- */

/** One packed ring as the driver sees it. */
struct packed_drv {
	vq_drv_xlate_t xlate;
	void *opaque;
	uint16_t size;			/**< descriptors, any of 1..32768 */
	uint64_t desc_gpa, driver_gpa, device_gpa;
	struct vring_packed_desc *desc;	/**< translated ring areas */
	struct vring_packed_desc_event *driver;	/**< the driver writes it */
	struct vring_packed_desc_event *device;	/**< the device writes it */
	struct packed_pos avail;	/**< next slot to make available */
	struct packed_pos used;		/**< next slot to look for used */
	uint16_t *ndesc;	/**< ring slots per buffer id in flight, 0 none */
	uint16_t inflight;	/**< buffers made available, not yet used */
};

/**
 * Bind d to a ring of size descriptors at the given GPAs (allocates the
 * per-id table: packed_drv_fini()). Writes nothing to guest memory.
 * @return 0, or -1 if an area does not translate or out of memory.
 */
int packed_drv_init(struct packed_drv *d, uint16_t size, uint64_t desc_gpa,
		    uint64_t driver_gpa, uint64_t device_gpa,
		    vq_drv_xlate_t xlate, void *opaque);

void packed_drv_fini(struct packed_drv *d);

/**
 * Lay the ring out as an idle queue at position at would have it: every
 * slot used in its last lap (slots before at in at's lap, the others in
 * the lap before), both event areas ENABLE, nothing in flight. So a ring
 * that starts at wrap 0, or mid-ring, is as real as one at 0 with wrap 1
 * (virtio 2.8.1).
 */
void packed_drv_reset(struct packed_drv *d, struct packed_pos at);

/** Host pointer of a guest range (d's translation), NULL if unmapped. */
void *packed_drv_ptr(const struct packed_drv *d, uint64_t gpa, uint64_t len);

/**
 * Make n segments available as one chain of buffer id at the avail
 * position, wrapping at the ring's end: NEXT on all but the last, every
 * descriptor's id set to id, the head's flags written last with a
 * release store (2.8.21). Segment flags pass through, so a test can
 * write INDIRECT or a misplaced WRITE.
 * @return the head's slot.
 */
uint16_t packed_drv_add(struct packed_drv *d, const struct vq_drv_seg *s,
			unsigned int n, uint16_t id);

/**
 * Like packed_drv_add(), through an indirect table of n packed
 * descriptors written at table_gpa (2.8.19): one INDIRECT ring slot.
 * @return its slot, or UINT16_MAX if table_gpa does not translate.
 */
uint16_t packed_drv_add_indirect(struct packed_drv *d,
				 const struct vq_drv_seg *s, unsigned int n,
				 uint16_t id, uint64_t table_gpa);

/**
 * Take the next used descriptor, if the device wrote one: its id and
 * len, and the used position moves on by the ring slots that buffer
 * took when made available.
 * @return 1, 0 if none is used yet, -1 if its id is not in flight.
 */
int packed_drv_get_used(struct packed_drv *d, uint16_t *id, uint32_t *len);

/** Ask the device for interrupts: ENABLE, DISABLE or DESC at a slot. */
void packed_drv_set_driver_event(struct packed_drv *d, uint16_t flags,
				 struct packed_pos at);

/** @return true if the device event area says the device wants kicks. */
bool packed_drv_device_wants_kick(const struct packed_drv *d);

/* ---- device side ---------------------------------------------------- */

/** Most buffers of one fetched chain a packed_dev keeps. */
#define PACKED_DEV_MAX_SEGS	64

/** A chain the device fetched. */
struct packed_dev_chain {
	uint16_t id;		/**< the buffer id: the last slot's */
	uint16_t ndesc;		/**< ring slots it took */
	uint16_t nseg;		/**< buffers (indirect: the table's) */
	struct vq_drv_seg seg[PACKED_DEV_MAX_SEGS];
};

/** The device's view of a packed ring (for tests: the mediated one). */
struct packed_dev {
	uint16_t size;
	struct vring_packed_desc *desc;
	struct vring_packed_desc_event *driver;	/**< read: the driver's */
	struct vring_packed_desc_event *device;	/**< written: ours */
	vq_drv_xlate_t xlate;		/**< reaches indirect tables, buffers */
	void *opaque;
	struct packed_pos avail;	/**< next slot to fetch */
	struct packed_pos used;		/**< next slot to write used */
};

/** Bind v to a ring and its areas, at the queue state at avail/used. */
void packed_dev_init(struct packed_dev *v, uint16_t size,
		     struct vring_packed_desc *desc,
		     struct vring_packed_desc_event *driver,
		     struct vring_packed_desc_event *device,
		     vq_drv_xlate_t xlate, void *opaque,
		     struct packed_pos avail, struct packed_pos used);

/**
 * Fetch the next available chain into c (buffers beyond
 * PACKED_DEV_MAX_SEGS are counted, not kept).
 * @return 1, 0 if none is available, -1 if an indirect table does not
 * translate.
 */
int packed_dev_fetch(struct packed_dev *v, struct packed_dev_chain *c);

/**
 * Write len bytes of pattern into the chain's writable buffers, in
 * order (what a device receiving a packet does).
 * @return bytes written: min(len, the chain's writable bytes).
 */
uint32_t packed_dev_fill(const struct packed_dev *v,
			 const struct packed_dev_chain *c, uint32_t len,
			 uint8_t pattern);

/**
 * Complete buffer id of ndesc ring slots at the used position: id and
 * len, then the flags (release), then move on by ndesc. Any order of
 * the fetched chains is allowed (out-of-order completion).
 */
void packed_dev_complete(struct packed_dev *v, uint16_t id, uint32_t len,
			 uint16_t ndesc);

/** @return true if the driver event area asks for an interrupt now. */
bool packed_dev_driver_wants_irq(const struct packed_dev *v);

#endif /* PACKED_DRV_H */
