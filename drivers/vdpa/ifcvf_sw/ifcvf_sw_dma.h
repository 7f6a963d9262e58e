/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef IFCVF_SW_DMA_H
#define IFCVF_SW_DMA_H

/**
 * @file
 * The emulated VF's DMA engine and its IOVA map.
 *
 * The device reaches memory only through this map, as a real VF reaches
 * it only through the IOMMU: the driver maps guest memory (GPA as IOVA)
 * and, in relay mode, the mediated rings. An access that is not fully
 * covered by mappings with the right permission is a DMA fault: nothing
 * is read or written and the caller stops the queue.
 *
 * Thread context: the driver (control thread) maps and unmaps; the
 * device thread translates. A reader/writer lock keeps them apart; the
 * device takes it once per queue burst, not per access.
 */

#include <stdbool.h>
#include <stdint.h>

#include <pthread.h>

#define IFCSW_DMA_MAX_MAPS 256

/** Access rights of a mapping. */
#define IFCSW_DMA_READ  0x1
#define IFCSW_DMA_WRITE 0x2
/**
 * Map flag: the mapping is guest memory, whose pages may be absent
 * during post-copy (ifcsw_dma_set_postcopy()).
 */
#define IFCSW_DMA_GUEST 0x4

struct ifcsw_dma_entry {
	uint64_t iova;	/**< first device address */
	uint64_t len;	/**< bytes */
	uint8_t *hva;	/**< where the bytes are in this process */
	uint32_t perm;	/**< IFCSW_DMA_READ | IFCSW_DMA_WRITE (| GUEST) */
	/** Post-copy: a bit per page seen present, or NULL (all pinned). */
	uint64_t *present;
};

struct ifcsw_dma_map {
	pthread_rwlock_t lock;	/**< writers: map/unmap; readers: device bursts */
	uint32_t nb_entries;	/**< used slots in entries[], sorted by iova */
	struct ifcsw_dma_entry entries[IFCSW_DMA_MAX_MAPS];
	uint64_t faults;	/**< accesses refused, for stats */
	/**
	 * Post-copy window: an access to a guest page that is not
	 * resident is a fault (an IOMMU without page-fault support, whose
	 * host could only pin the pages that had arrived).
	 */
	bool postcopy;
	uint64_t absent_faults;	/**< of faults: pages not arrived */
};

/** Initialise an empty map. */
void ifcsw_dma_init(struct ifcsw_dma_map *map);

/**
 * Map [iova, iova + len) to hva with the given rights.
 * @return 0, -EINVAL (empty, wraps), -EEXIST (overlaps a mapping),
 * -ENOSPC (map full).
 */
int ifcsw_dma_map(struct ifcsw_dma_map *map, uint64_t iova, uint64_t len,
		  void *hva, uint32_t perm);

/** Remove the mapping that starts at iova. @return 0 or -ENOENT. */
int ifcsw_dma_unmap(struct ifcsw_dma_map *map, uint64_t iova);

/** Remove every mapping. */
void ifcsw_dma_unmap_all(struct ifcsw_dma_map *map);

/**
 * Open (on) or close the post-copy window. While open, only guest pages
 * found resident (mincore() on our mapping, cached per page) may be
 * accessed; outside it guest memory counts as pinned.
 * @return 0, or -ENOMEM (the window stays closed).
 */
int ifcsw_dma_set_postcopy(struct ifcsw_dma_map *map, bool on);

/**
 * Translate a device access that must lie inside one mapping (rings,
 * descriptor tables).
 * @return the host address, or NULL (a DMA fault, counted).
 * Caller holds the read lock.
 */
void *ifcsw_dma_translate(struct ifcsw_dma_map *map, uint64_t iova,
			  uint64_t len, uint32_t perm);

/**
 * Copy from device address space (buffers may span adjacent mappings).
 * @return 0 or -EFAULT (nothing copied past the fault, counted).
 * Caller holds the read lock.
 */
int ifcsw_dma_read(struct ifcsw_dma_map *map, uint64_t iova, void *dst,
		   uint64_t len);

/**
 * Copy into device address space, the way the VF writes a packet.
 * @return 0 or -EFAULT. Caller holds the read lock.
 */
int ifcsw_dma_write(struct ifcsw_dma_map *map, uint64_t iova,
		    const void *src, uint64_t len);

static inline void
ifcsw_dma_read_lock(struct ifcsw_dma_map *map)
{
	pthread_rwlock_rdlock(&map->lock);
}

static inline void
ifcsw_dma_read_unlock(struct ifcsw_dma_map *map)
{
	pthread_rwlock_unlock(&map->lock);
}

#endif /* IFCVF_SW_DMA_H */
