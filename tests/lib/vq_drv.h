/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * What the split and packed test drivers (split_drv.h, packed_drv.h)
 * share: guest memory as a GPA -> pointer translation, so flat test
 * memory and an IOVA-mapped one fit alike, and the buffers a chain is
 * made of.
 */

#ifndef VQ_DRV_H
#define VQ_DRV_H

#include <stdint.h>

/**
 * Translate [gpa, gpa + len) of guest memory to a host pointer.
 * @return the pointer, or NULL if the range is not all mapped.
 */
typedef void *(*vq_drv_xlate_t)(void *opaque, uint64_t gpa, uint64_t len);

/** Guest memory that is one flat host mapping: [gpa, gpa + size) at hva. */
struct vq_drv_flat {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

/**
 * vq_drv_xlate_t for a struct vq_drv_flat (the opaque): ranges wholly
 * inside it translate, anything else is NULL.
 */
void *vq_drv_xlate_flat(void *flat, uint64_t gpa, uint64_t len);

/** One buffer of a chain. */
struct vq_drv_seg {
	uint64_t gpa;
	uint32_t len;
	uint16_t flags;		/**< VRING_DESC_F_WRITE or 0 */
};

#endif /* VQ_DRV_H */
