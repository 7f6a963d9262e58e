/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Page bitmaps (1 bit per 4 KiB guest page) and the vhost dirty log
 * shared with the back-end through a memfd.
 */
#ifndef VU_FE_DIRTY_LOG_H
#define VU_FE_DIRTY_LOG_H

#include <stddef.h>
#include <stdint.h>

/** Dirty-tracking granularity (vhost log page). */
#define DL_PAGE_SHIFT 12
#define DL_PAGE_SIZE (1ull << DL_PAGE_SHIFT)

/** A private page bitmap covering guest physical pages [0, npages). */
struct dl_bitmap {
	uint64_t *words;
	size_t nwords;
	uint64_t npages;
};

/** The dirty log shared with the back-end (SET_LOG_BASE). */
struct dl_log {
	int fd;             /**< memfd passed to the back-end */
	uint64_t *words;    /**< shared mapping */
	size_t nwords;      /**< 64-bit words covering the GPA space */
	uint64_t mmap_size; /**< bytes mapped (page aligned) */
};

/**
 * Allocate a zeroed bitmap covering @p gpa_end bytes of GPA space.
 *
 * @param bm      bitmap
 * @param gpa_end end of the guest physical address space
 * @return 0 or -ENOMEM
 */
int dl_bitmap_init(struct dl_bitmap *bm, uint64_t gpa_end);

/**
 * Free a bitmap.
 *
 * @param bm bitmap
 */
void dl_bitmap_free(struct dl_bitmap *bm);

/**
 * Clear all bits.
 *
 * @param bm bitmap
 */
void dl_bitmap_clear(struct dl_bitmap *bm);

/**
 * Set the bits of every page touched by [gpa, gpa + len).
 *
 * @param bm  bitmap
 * @param gpa start guest physical address
 * @param len length in bytes (0 sets nothing)
 */
void dl_bitmap_set_range(struct dl_bitmap *bm, uint64_t gpa, uint64_t len);

/**
 * Count set bits.
 *
 * @param bm bitmap
 * @return number of pages set
 */
uint64_t dl_bitmap_count(const struct dl_bitmap *bm);

/**
 * dst |= src (both must cover the same GPA space).
 *
 * @param dst destination
 * @param src source
 */
void dl_bitmap_or(struct dl_bitmap *dst, const struct dl_bitmap *src);

/**
 * Count pages set in @p a but not in @p b.
 *
 * @param a bitmap
 * @param b bitmap
 * @return popcount(a & ~b)
 */
uint64_t dl_bitmap_count_andnot(const struct dl_bitmap *a,
				const struct dl_bitmap *b);

/**
 * Test one page.
 *
 * @param bm   bitmap
 * @param page page frame number
 * @return non-zero if set
 */
int dl_bitmap_test(const struct dl_bitmap *bm, uint64_t page);

/**
 * Create the shared log (memfd, zeroed) covering @p gpa_end bytes.
 *
 * @param log     log
 * @param gpa_end end of the guest physical address space
 * @return 0 or negative errno
 */
int dl_log_create(struct dl_log *log, uint64_t gpa_end);

/**
 * Unmap and close the shared log.
 *
 * @param log log
 */
void dl_log_destroy(struct dl_log *log);

/**
 * Read and clear the shared log like QEMU does: each 64-bit word is
 * fetched and zeroed with one atomic exchange, so a bit set by the
 * back-end concurrently is either returned now or left for next time.
 * The pages found are OR-ed into @p out.
 *
 * @param log shared log
 * @param out destination bitmap (same GPA coverage)
 * @return number of dirty pages found in this pass
 */
uint64_t dl_log_read_clear(struct dl_log *log, struct dl_bitmap *out);

#endif /* VU_FE_DIRTY_LOG_H */
