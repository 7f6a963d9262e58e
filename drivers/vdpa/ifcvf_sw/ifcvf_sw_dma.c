/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The emulated VF's IOVA map. Entries are kept sorted by iova and never
 * overlap, so a lookup is a binary search and "adjacent" simply means the
 * next entry starts where the previous one ends.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_memcpy.h>

#include "ifcvf_sw_dma.h"
#include "ifcvf_sw_log.h"

#define IFCSW_DMA_PERM_MASK (IFCSW_DMA_READ | IFCSW_DMA_WRITE)
#define IFCSW_DMA_FLAG_MASK (IFCSW_DMA_PERM_MASK | IFCSW_DMA_GUEST)
#define IFCSW_DMA_VEC 64	/* mincore() pages per call */

void
ifcsw_dma_init(struct ifcsw_dma_map *map)
{
	pthread_rwlockattr_t attr;

	memset(map, 0, sizeof(*map));
	/*
	 * The device thread read-locks once per burst, back to back; a
	 * mapping change must not wait for a gap, nor spin while the
	 * device thread is descheduled: prefer writers, and sleep.
	 */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
		PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&map->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
}

/* Last byte of [start, start + len); false if the range is empty or wraps. */
static inline bool
dma_range_last(uint64_t start, uint64_t len, uint64_t *last)
{
	if (unlikely(len == 0 || start + (len - 1) < start))
		return false;
	*last = start + (len - 1);
	return true;
}

/* Index of the first entry whose iova is greater than iova. */
static inline uint32_t
dma_upper_bound(const struct ifcsw_dma_map *map, uint64_t iova)
{
	uint32_t lo = 0, hi = map->nb_entries;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (map->entries[mid].iova <= iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of the entry holding iova, or -1. */
static inline int
dma_find(const struct ifcsw_dma_map *map, uint64_t iova)
{
	uint32_t i = dma_upper_bound(map, iova);
	const struct ifcsw_dma_entry *e;

	if (i == 0)
		return -1;
	e = &map->entries[i - 1];
	/* Subtraction instead of iova + len: a mapping may end at 2^64. */
	if (iova - e->iova >= e->len)
		return -1;
	return (int)(i - 1);
}

/*
 * Post-copy presence (doc/design.md, "Post-copy"). A real host pins the
 * guest pages it maps for a device; pinning a page that has not arrived
 * would populate it (the EEXIST of doc/robustness.md, section 7), so
 * during post-copy an IOMMU map can only hold the pages that arrived.
 * The model: a guest page is mapped iff it is resident in the guest
 * memfd, which mincore() on our (vhost's) mapping reports; a page seen
 * resident stays so until the window closes, so it is cached here.
 */
static int
dma_present_alloc(struct ifcsw_dma_entry *e)
{
	long psz = getpagesize();
	uintptr_t start = RTE_ALIGN_FLOOR((uintptr_t)e->hva, (uintptr_t)psz);
	uint64_t npages = ((uintptr_t)e->hva + e->len - start + psz - 1) / psz;

	e->present = calloc((npages + 63) / 64, sizeof(uint64_t));
	return e->present == NULL ? -ENOMEM : 0;
}

/* Whether every page of [off, off + len) of entry e is resident. */
static bool
dma_present(const struct ifcsw_dma_entry *e, uint64_t off, uint64_t len)
{
	unsigned char vec[IFCSW_DMA_VEC];
	long psz = getpagesize();
	uintptr_t base = RTE_ALIGN_FLOOR((uintptr_t)e->hva, (uintptr_t)psz);
	uint64_t first = ((uintptr_t)e->hva + off - base) / psz;
	uint64_t last = ((uintptr_t)e->hva + off + len - 1 - base) / psz;
	uint64_t p, n, j;

	if (e->present == NULL)
		return false;	/* no bitmap in the window: fail closed */
	for (p = first; p <= last; p += n) {
		n = RTE_MIN(last - p + 1, (uint64_t)IFCSW_DMA_VEC);
		for (j = 0; j < n; j++)
			if (!((__atomic_load_n(&e->present[(p + j) / 64],
					       __ATOMIC_RELAXED) >>
			       ((p + j) % 64)) & 1))
				break;
		if (j == n)
			continue;
		if (mincore((void *)(base + p * psz), n * psz, vec) != 0)
			return false;
		for (j = 0; j < n; j++) {
			if (!(vec[j] & 1))
				return false;
			__atomic_fetch_or(&e->present[(p + j) / 64],
					  1ULL << ((p + j) % 64),
					  __ATOMIC_RELAXED);
		}
	}
	return true;
}

/* The window is open and the guest range is not all resident. */
static inline bool
dma_absent(struct ifcsw_dma_map *map, const struct ifcsw_dma_entry *e,
	   uint64_t off, uint64_t len)
{
	if (likely(!__atomic_load_n(&map->postcopy, __ATOMIC_RELAXED)) ||
	    !(e->perm & IFCSW_DMA_GUEST) || dma_present(e, off, len))
		return false;
	__atomic_fetch_add(&map->absent_faults, 1, __ATOMIC_RELAXED);
	return true;
}

static void
dma_fault(struct ifcsw_dma_map *map, uint64_t iova, uint64_t len,
	  uint32_t perm)
{
	static bool logged;

	/*
	 * The control thread may translate (queue start) while the device
	 * thread holds the read lock too, so the counter is atomic.
	 */
	__atomic_fetch_add(&map->faults, 1, __ATOMIC_RELAXED);
	/* A guest can fault at line rate: say it once, the counter has it. */
	if (!logged) {
		logged = true;
		IFCSW_LOG(DEBUG, "DMA fault: iova 0x%" PRIx64 " len %" PRIu64
			  " perm 0x%x (further faults only counted)",
			  iova, len, perm);
	}
}

int
ifcsw_dma_map(struct ifcsw_dma_map *map, uint64_t iova, uint64_t len,
	      void *hva, uint32_t perm)
{
	uint64_t last, hva_last;
	uint32_t i;
	int ret = 0;

	if (!dma_range_last(iova, len, &last) || hva == NULL ||
	    (perm & IFCSW_DMA_PERM_MASK) == 0 ||
	    (perm & ~IFCSW_DMA_FLAG_MASK) != 0)
		return -EINVAL;
	/* The host side must not wrap either, translate adds offsets to it. */
	if (!dma_range_last((uintptr_t)hva, len, &hva_last) ||
	    (uintptr_t)hva_last != hva_last)
		return -EINVAL;

	pthread_rwlock_wrlock(&map->lock);
	i = dma_upper_bound(map, iova);
	/* Sorted and disjoint: only the neighbours can overlap. */
	if (i > 0 && iova - map->entries[i - 1].iova <
	    map->entries[i - 1].len) {
		ret = -EEXIST;
		goto out;
	}
	if (i < map->nb_entries && map->entries[i].iova <= last) {
		ret = -EEXIST;
		goto out;
	}
	if (map->nb_entries == IFCSW_DMA_MAX_MAPS) {
		ret = -ENOSPC;
		goto out;
	}
	memmove(&map->entries[i + 1], &map->entries[i],
		(map->nb_entries - i) * sizeof(map->entries[0]));
	map->entries[i] = (struct ifcsw_dma_entry){
		.iova = iova, .len = len, .hva = hva, .perm = perm,
	};
	map->nb_entries++;
	if (map->postcopy && (perm & IFCSW_DMA_GUEST) &&
	    dma_present_alloc(&map->entries[i]) < 0) {
		/* Cannot tell present pages: fault them all (fail closed). */
		IFCSW_LOG(ERR, "no memory to track present pages: post-copy "
			  "accesses to iova 0x%" PRIx64 " fault", iova);
	}
out:
	pthread_rwlock_unlock(&map->lock);
	return ret;
}

int
ifcsw_dma_unmap(struct ifcsw_dma_map *map, uint64_t iova)
{
	uint32_t i;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&map->lock);
	i = dma_upper_bound(map, iova);
	if (i > 0 && map->entries[i - 1].iova == iova) {
		i--;
		free(map->entries[i].present);
		memmove(&map->entries[i], &map->entries[i + 1],
			(map->nb_entries - i - 1) * sizeof(map->entries[0]));
		map->nb_entries--;
		ret = 0;
	}
	pthread_rwlock_unlock(&map->lock);
	return ret;
}

void
ifcsw_dma_unmap_all(struct ifcsw_dma_map *map)
{
	uint32_t i;

	pthread_rwlock_wrlock(&map->lock);
	for (i = 0; i < map->nb_entries; i++)
		free(map->entries[i].present);
	map->nb_entries = 0;
	pthread_rwlock_unlock(&map->lock);
}

int
ifcsw_dma_set_postcopy(struct ifcsw_dma_map *map, bool on)
{
	uint32_t i;
	int ret = 0;

	pthread_rwlock_wrlock(&map->lock);
	for (i = 0; i < map->nb_entries; i++) {
		struct ifcsw_dma_entry *e = &map->entries[i];

		free(e->present);
		e->present = NULL;
		if (on && (e->perm & IFCSW_DMA_GUEST) &&
		    dma_present_alloc(e) < 0)
			ret = -ENOMEM;
	}
	if (ret < 0) {
		for (i = 0; i < map->nb_entries; i++) {
			free(map->entries[i].present);
			map->entries[i].present = NULL;
		}
	}
	map->postcopy = on && ret == 0;
	pthread_rwlock_unlock(&map->lock);
	return ret;
}

void *
ifcsw_dma_translate(struct ifcsw_dma_map *map, uint64_t iova, uint64_t len,
		    uint32_t perm)
{
	const struct ifcsw_dma_entry *e;
	uint64_t last, off;
	int i;

	if (unlikely(!dma_range_last(iova, len, &last)))
		goto fault;
	i = dma_find(map, iova);
	if (unlikely(i < 0))
		goto fault;
	e = &map->entries[i];
	off = iova - e->iova;
	/* Whole range in this one mapping: len <= e->len - off. */
	if (unlikely(len > e->len - off || (e->perm & perm) != perm))
		goto fault;
	if (unlikely(dma_absent(map, e, off, len)))
		goto fault;
	return e->hva + off;
fault:
	dma_fault(map, iova, len, perm);
	return NULL;
}

/*
 * Check that [iova, iova + len) is covered by adjacent mappings that all
 * allow perm. Returns the index of the first one, or -1.
 * Checked in full before any byte moves, so a fault has no side effect.
 */
static int
dma_check_span(const struct ifcsw_dma_map *map, uint64_t iova, uint64_t len,
	       uint32_t perm)
{
	uint64_t last, cur = iova;
	uint32_t i;
	int first;

	if (!dma_range_last(iova, len, &last))
		return -1;
	first = dma_find(map, iova);
	if (first < 0)
		return -1;
	for (i = first; i < map->nb_entries; i++) {
		const struct ifcsw_dma_entry *e = &map->entries[i];
		uint64_t e_last = e->iova + (e->len - 1);

		if (e->iova > cur || (e->perm & perm) != perm)
			return -1;
		if (e_last >= last)
			return first;
		cur = e_last + 1;
	}
	return -1;
}

/* Post-copy: whether a page of the span checked above is absent. */
static bool
dma_span_absent(struct ifcsw_dma_map *map, int i, uint64_t iova,
		uint64_t len)
{
	while (len > 0) {
		const struct ifcsw_dma_entry *e = &map->entries[i++];
		uint64_t off = iova - e->iova;
		uint64_t n = RTE_MIN(len, e->len - off);

		if (dma_absent(map, e, off, n))
			return true;
		iova += n;
		len -= n;
	}
	return false;
}

/*
 * Copy between device space and host memory. to_dev selects the
 * direction. The common case (one mapping) costs one lookup.
 */
static int
dma_copy(struct ifcsw_dma_map *map, uint64_t iova, void *host, uint64_t len,
	 bool to_dev)
{
	uint32_t perm = to_dev ? IFCSW_DMA_WRITE : IFCSW_DMA_READ;
	uint8_t *h = host;
	int i;

	if (len == 0)
		return 0;
	i = dma_check_span(map, iova, len, perm);
	if (unlikely(i < 0)) {
		dma_fault(map, iova, len, perm);
		return -EFAULT;
	}
	if (unlikely(__atomic_load_n(&map->postcopy, __ATOMIC_RELAXED)) &&
	    dma_span_absent(map, i, iova, len)) {
		dma_fault(map, iova, len, perm);
		return -EFAULT;
	}
	while (len > 0) {
		const struct ifcsw_dma_entry *e = &map->entries[i++];
		uint64_t off = iova - e->iova;
		uint64_t n = RTE_MIN(len, e->len - off);

		if (to_dev)
			rte_memcpy(e->hva + off, h, n);
		else
			rte_memcpy(h, e->hva + off, n);
		h += n;
		iova += n;
		len -= n;
	}
	return 0;
}

int
ifcsw_dma_read(struct ifcsw_dma_map *map, uint64_t iova, void *dst,
	       uint64_t len)
{
	return dma_copy(map, iova, dst, len, false);
}

int
ifcsw_dma_write(struct ifcsw_dma_map *map, uint64_t iova, const void *src,
		uint64_t len)
{
	/* The buffer is only read in this direction. */
	return dma_copy(map, iova, (void *)(uintptr_t)src, len, true);
}
