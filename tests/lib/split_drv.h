/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * split_drv: the guest (driver) side of one split virtqueue, for tests
 * and benchmarks. It writes descriptors, chains and indirect tables,
 * publishes avail entries and reads used entries, over "guest memory"
 * given by a GPA -> pointer translation, so flat test memory and an
 * IOVA-mapped one fit alike.
 *
 * It is deliberately not a checker: it keeps no shadow copy of what it
 * published and reads the avail index back from the ring, so a test may
 * corrupt any ring field directly (d->desc, d->avail, d->used) and the
 * next call carries on from what is in memory. The fuzz walker
 * (tests/fuzz) stays independent of it: it is the oracle.
 */

#ifndef SPLIT_DRV_H
#define SPLIT_DRV_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#include "vq_drv.h"

/** One split ring as the driver sees it. */
struct split_drv {
	vq_drv_xlate_t xlate;
	void *opaque;
	uint16_t size;			/**< descriptors, a power of two */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct vring_desc *desc;	/**< translated ring areas */
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t next_desc;	/**< where split_drv_add() writes next */
	uint16_t used_seen;	/**< used entries consumed so far */
};

/** Bytes of each ring area for size descriptors, event fields included. */
#define SPLIT_DRV_DESC_BYTES(size)	(16u * (size))
#define SPLIT_DRV_AVAIL_BYTES(size)	(4u + 2u * (size) + 2u)
#define SPLIT_DRV_USED_BYTES(size)	(4u + 8u * (size) + 2u)

/**
 * Bind d to a ring of size descriptors at the given GPAs. Writes nothing
 * to guest memory, so it can attach to a ring another party set up; see
 * split_drv_clear() and split_drv_reset() for a fresh one.
 * @return 0, or -1 if an area does not translate.
 */
int split_drv_init(struct split_drv *d, uint16_t size, uint64_t desc_gpa,
		   uint64_t avail_gpa, uint64_t used_gpa,
		   vq_drv_xlate_t xlate, void *opaque);

/** Zero the three ring areas (flags and event fields too) and the state. */
void split_drv_clear(struct split_drv *d);

/**
 * Set both ring indices to start, as a device would find them at queue
 * start; descriptors and flags are left as they are. Writing used->idx is
 * the device's job in a real ring: here it stands for the state a
 * (re)started device resumes from.
 */
void split_drv_reset(struct split_drv *d, uint16_t start);

/** Host pointer of a guest range (d's translation), NULL if unmapped. */
void *split_drv_ptr(const struct split_drv *d, uint64_t gpa, uint64_t len);

/**
 * Write n segments as one chain into tbl (the ring's table or an
 * indirect one of tbl_size entries) from entry first on, entries
 * consecutive modulo tbl_size. NEXT is set on all but the last, whose
 * next is 0. Nothing is published.
 * @return the entry after the chain's last.
 */
uint16_t split_drv_write_chain(struct vring_desc *tbl, uint16_t tbl_size,
			       uint16_t first, const struct vq_drv_seg *s,
			       unsigned int n);

/**
 * Add a chain at the next free descriptors of the ring (they wrap; the
 * driver keeps no free list, tests stay within size in flight) and
 * publish it.
 * @return its head.
 */
uint16_t split_drv_add(struct split_drv *d, const struct vq_drv_seg *s,
		       unsigned int n);

/**
 * Like split_drv_add(), through an indirect table of n entries written at
 * table_gpa: the ring holds one INDIRECT descriptor.
 * @return its head, or UINT16_MAX if table_gpa does not translate.
 */
uint16_t split_drv_add_indirect(struct split_drv *d,
				const struct vq_drv_seg *s, unsigned int n,
				uint64_t table_gpa);

/** Publish n heads at the next avail slots, with one index update. */
void split_drv_publish_n(struct split_drv *d, const uint16_t *heads,
			 unsigned int n);

/** Publish one head. */
void split_drv_publish(struct split_drv *d, uint16_t head);

/** The device's used index, read with acquire semantics. */
uint16_t split_drv_used_idx(const struct split_drv *d);

/** Used entries the device posted that split_drv_used_consume() did not. */
uint16_t split_drv_used_pending(const struct split_drv *d);

/** The i-th used entry after the consumed ones (not checked for range). */
struct vring_used_elem *split_drv_used_elem(const struct split_drv *d,
					    uint16_t i);

/** Mark n used entries as consumed. */
void split_drv_used_consume(struct split_drv *d, uint16_t n);

/** EVENT_IDX: ask for an interrupt once used entry idx has been used. */
void split_drv_set_used_event(struct split_drv *d, uint16_t idx);

/** EVENT_IDX: where the device wants the next kick (avail_event). */
uint16_t split_drv_avail_event(const struct split_drv *d);

#endif /* SPLIT_DRV_H */
