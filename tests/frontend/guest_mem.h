/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest memory: memfd-backed regions laid out in GPA space like QEMU
 * (low RAM, a hole, high RAM), GPA<->HVA translation, a bump allocator
 * and the "driver-dirty" bitmap that records the front-end's own writes
 * (the analogue of KVM dirty tracking of vCPU writes).
 */
#ifndef VU_FE_GUEST_MEM_H
#define VU_FE_GUEST_MEM_H

#include <stdbool.h>
#include <stdint.h>

#include "dirty_log.h"

/** Maximum number of regions. */
#define GM_MAX_REGIONS 4

/** One region of guest RAM. */
struct gm_region {
	uint64_t gpa;       /**< guest physical base */
	uint64_t size;      /**< bytes */
	uint8_t *hva;       /**< shared mapping in this process */
	int fd;             /**< memfd passed to the back-end */
	uint64_t alloc_off; /**< bump allocator cursor */
};

/** Guest RAM. */
struct guest_mem {
	struct gm_region r[GM_MAX_REGIONS];
	unsigned int nr;
	uint64_t gpa_end;            /**< highest GPA + 1 */
	unsigned int rr;             /**< round-robin allocation cursor */
	struct dl_bitmap drv_dirty;  /**< pages written by the front-end */
};

/** A private copy of guest RAM (the migration destination image). */
struct gm_image {
	unsigned int nr;
	uint64_t gpa[GM_MAX_REGIONS];
	uint64_t size[GM_MAX_REGIONS];
	uint8_t *data[GM_MAX_REGIONS];
};

/**
 * Create guest RAM regions (memfd, zeroed, mapped shared).
 *
 * @param gm   guest memory
 * @param gpa  base GPA of each region (page aligned, ascending)
 * @param size size of each region (page aligned)
 * @param n    number of regions
 * @return 0 or negative errno
 */
int gm_create(struct guest_mem *gm, const uint64_t *gpa,
	      const uint64_t *size, unsigned int n);

/**
 * Create guest RAM with the layout and contents of @p img (the
 * destination side of a migration). Allocator cursors are copied from
 * @p like so later allocations do not overlap.
 *
 * @param gm   new guest memory
 * @param img  destination image
 * @param like source guest memory (allocator state), may be NULL
 * @return 0 or negative errno
 */
int gm_create_from_image(struct guest_mem *gm, const struct gm_image *img,
			 const struct guest_mem *like);

/**
 * Unmap and close all regions.
 *
 * @param gm guest memory
 */
void gm_destroy(struct guest_mem *gm);

/**
 * Translate a GPA range to a host pointer.
 *
 * @param gm  guest memory
 * @param gpa guest physical address
 * @param len length that must lie inside one region
 * @return pointer, or NULL if not mapped
 */
void *gm_hva(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/**
 * Translate a host pointer back to a GPA.
 *
 * @param gm  guest memory
 * @param hva pointer into a region
 * @return GPA, or UINT64_MAX if not inside guest RAM
 */
uint64_t gm_gpa(const struct guest_mem *gm, const void *hva);

/**
 * Like gm_hva(), and record the range as written by the front-end.
 *
 * @param gm  guest memory
 * @param gpa guest physical address
 * @param len bytes about to be written
 * @return pointer, or NULL if not mapped
 */
void *gm_wptr(struct guest_mem *gm, uint64_t gpa, uint64_t len);

/**
 * Record [gpa, gpa+len) as written by the front-end.
 *
 * @param gm  guest memory
 * @param gpa guest physical address
 * @param len bytes
 */
void gm_mark(struct guest_mem *gm, uint64_t gpa, uint64_t len);

/**
 * Allocate from the bump allocator, rotating over regions so that
 * buffers land in every region.
 *
 * @param gm    guest memory
 * @param size  bytes
 * @param align power-of-two alignment
 * @return GPA, or 0 when out of memory (GPA 0 is never handed out)
 */
uint64_t gm_alloc(struct guest_mem *gm, uint64_t size, uint64_t align);

/**
 * Allocate a snapshot image with the layout of @p gm (contents zero).
 *
 * @param img image
 * @param gm  guest memory
 * @return 0 or -ENOMEM
 */
int gm_image_create(struct gm_image *img, const struct guest_mem *gm);

/**
 * Free an image.
 *
 * @param img image
 */
void gm_image_free(struct gm_image *img);

/**
 * Copy all of guest RAM into the image.
 *
 * @param img image
 * @param gm  guest memory
 * @return pages copied
 */
uint64_t gm_image_copy_all(struct gm_image *img, const struct guest_mem *gm);

/**
 * Copy the pages set in @p pages into the image.
 *
 * @param img   image
 * @param gm    guest memory
 * @param pages page bitmap
 * @return pages copied
 */
uint64_t gm_image_copy_pages(struct gm_image *img, const struct guest_mem *gm,
			     const struct dl_bitmap *pages);

/**
 * Compare image and guest RAM page by page.
 *
 * @param img  image
 * @param gm   guest memory
 * @param bad  if not NULL, mismatching pages are set here
 * @return number of mismatching pages
 */
uint64_t gm_image_compare(const struct gm_image *img,
			  const struct guest_mem *gm, struct dl_bitmap *bad);

#endif /* VU_FE_GUEST_MEM_H */
