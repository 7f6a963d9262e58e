/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/* The IOVA map: bookkeeping, translation and copies, without EAL. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ifcvf_sw_dma.h"
#include "test_common.h"

#define RW (IFCSW_DMA_READ | IFCSW_DMA_WRITE)

static struct ifcsw_dma_map map;
static uint8_t mem[3][4096];	/* host side of three mappings */
static uint8_t guard[4096];	/* never mapped */

static void
test_map_bookkeeping(void)
{
	uint64_t top = UINT64_MAX - 0xfff;
	unsigned int i;

	ifcsw_dma_init(&map);
	CHECK_EQ(ifcsw_dma_map(&map, 0x1000, 0x1000, mem[0], RW), 0);
	/* Overlaps on either side, inside, around. */
	CHECK_EQ(ifcsw_dma_map(&map, 0x1800, 0x1000, mem[1], RW), -EEXIST);
	CHECK_EQ(ifcsw_dma_map(&map, 0x0, 0x1001, mem[1], RW), -EEXIST);
	CHECK_EQ(ifcsw_dma_map(&map, 0x1100, 0x10, mem[1], RW), -EEXIST);
	CHECK_EQ(ifcsw_dma_map(&map, 0x0, 0x10000, mem[1], RW), -EEXIST);
	/* Invalid: empty, wrapping, no or unknown rights, no host address. */
	CHECK_EQ(ifcsw_dma_map(&map, 0x8000, 0, mem[1], RW), -EINVAL);
	CHECK_EQ(ifcsw_dma_map(&map, UINT64_MAX - 10, 100, mem[1], RW),
		 -EINVAL);
	CHECK_EQ(ifcsw_dma_map(&map, 0x8000, 0x10, mem[1], 0), -EINVAL);
	CHECK_EQ(ifcsw_dma_map(&map, 0x8000, 0x10, mem[1], 0x4), -EINVAL);
	CHECK_EQ(ifcsw_dma_map(&map, 0x8000, 0x10, NULL, RW), -EINVAL);
	CHECK_EQ(map.nb_entries, 1);
	/* Adjacent on both sides is fine; kept sorted whatever the order. */
	CHECK_EQ(ifcsw_dma_map(&map, 0x2000, 0x1000, mem[1], RW), 0);
	CHECK_EQ(ifcsw_dma_map(&map, 0x0, 0x1000, mem[2], IFCSW_DMA_READ), 0);
	/* A mapping may end exactly at 2^64. */
	CHECK_EQ(ifcsw_dma_map(&map, top, 0x1000, guard, IFCSW_DMA_READ), 0);
	CHECK_EQ(map.nb_entries, 4);
	for (i = 1; i < map.nb_entries; i++)
		CHECK(map.entries[i - 1].iova < map.entries[i].iova);
	CHECK(ifcsw_dma_translate(&map, UINT64_MAX, 1, IFCSW_DMA_READ) ==
	      guard + 0xfff);
	CHECK(ifcsw_dma_translate(&map, top, 0x1000, IFCSW_DMA_READ) ==
	      guard);
	/* Unmap by start only. */
	CHECK_EQ(ifcsw_dma_unmap(&map, 0x1800), -ENOENT);
	CHECK_EQ(ifcsw_dma_unmap(&map, top), 0);
	CHECK_EQ(ifcsw_dma_unmap(&map, top), -ENOENT);
	CHECK_EQ(ifcsw_dma_unmap(&map, 0x1000), 0);
	CHECK(ifcsw_dma_translate(&map, 0x1000, 1, IFCSW_DMA_READ) == NULL);
	CHECK(ifcsw_dma_translate(&map, 0x2000, 1, IFCSW_DMA_READ) ==
	      mem[1]);
	ifcsw_dma_unmap_all(&map);
	CHECK_EQ(map.nb_entries, 0);
	CHECK(ifcsw_dma_translate(&map, 0x2000, 1, IFCSW_DMA_READ) == NULL);

	/* Full map. */
	for (i = 0; i < IFCSW_DMA_MAX_MAPS; i++)
		CHECK_EQ(ifcsw_dma_map(&map, (uint64_t)i * 0x10000, 0x100,
				       mem[0], RW), 0);
	CHECK_EQ(ifcsw_dma_map(&map, 0x10000000, 0x100, mem[0], RW),
		 -ENOSPC);
	CHECK(ifcsw_dma_translate(&map, 255 * 0x10000 + 0xff, 1, RW) ==
	      mem[0] + 0xff);
	CHECK(ifcsw_dma_translate(&map, 255 * 0x10000 + 0x100, 1, RW) ==
	      NULL);
}

/* [0, 0x1000) RO, [0x1000, 0x2000) RW, [0x2000, 0x3000) RW, gap, ... */
static void
test_translate_and_copy(void)
{
	uint8_t buf[0x3000], big[0x2000];
	uint64_t faults;
	unsigned int i;

	ifcsw_dma_init(&map);
	memset(mem, 0, sizeof(mem));
	memset(guard, 0x5a, sizeof(guard));
	CHECK_EQ(ifcsw_dma_map(&map, 0x0, 0x1000, mem[0], IFCSW_DMA_READ), 0);
	CHECK_EQ(ifcsw_dma_map(&map, 0x1000, 0x1000, mem[1], RW), 0);
	CHECK_EQ(ifcsw_dma_map(&map, 0x2000, 0x1000, mem[2], RW), 0);
	CHECK_EQ(ifcsw_dma_map(&map, 0x4000, 0x1000, guard, RW), 0);
	faults = map.faults;

	/* translate: one mapping, right rights, no wrap. */
	CHECK(ifcsw_dma_translate(&map, 0x1010, 0x10, RW) == mem[1] + 0x10);
	CHECK(ifcsw_dma_translate(&map, 0x1000, 0x1000, RW) == mem[1]);
	CHECK(ifcsw_dma_translate(&map, 0x10, 0x10, IFCSW_DMA_READ) ==
	      mem[0] + 0x10);
	CHECK(ifcsw_dma_translate(&map, 0x10, 0x10, IFCSW_DMA_WRITE) == NULL);
	CHECK(ifcsw_dma_translate(&map, 0x1ff0, 0x20, RW) == NULL);
	CHECK(ifcsw_dma_translate(&map, 0x2ff0, 0x20, RW) == NULL);
	CHECK(ifcsw_dma_translate(&map, 0x3000, 1, RW) == NULL);
	CHECK(ifcsw_dma_translate(&map, 0x1000, 0, RW) == NULL);
	CHECK(ifcsw_dma_translate(&map, 0x1000, UINT64_MAX, RW) == NULL);
	CHECK(ifcsw_dma_translate(&map, 0x5000, 1, RW) == NULL);
	CHECK_EQ(map.faults - faults, 7);

	/* read/write across adjacent mappings, piecewise. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + 1);
	faults = map.faults;
	CHECK_EQ(ifcsw_dma_write(&map, 0x1800, big, 0x1000), 0);
	CHECK(memcmp(mem[1] + 0x800, big, 0x800) == 0);
	CHECK(memcmp(mem[2], big + 0x800, 0x800) == 0);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(ifcsw_dma_read(&map, 0x1800, buf, 0x1000), 0);
	CHECK(memcmp(buf, big, 0x1000) == 0);
	/* Reads may start in the RO mapping and run on into RW ones. */
	CHECK_EQ(ifcsw_dma_read(&map, 0x0, buf, 0x3000), 0);
	CHECK_EQ(map.faults, faults);

	/* Refused, with nothing written: gap, RO, wrap, beyond the end. */
	memset(mem, 0x11, sizeof(mem));
	CHECK_EQ(ifcsw_dma_write(&map, 0x2800, big, 0x1000), -EFAULT);
	CHECK_EQ(ifcsw_dma_write(&map, 0x3ff0, big, 0x20), -EFAULT);
	CHECK_EQ(ifcsw_dma_write(&map, 0x800, big, 0x100), -EFAULT);
	CHECK_EQ(ifcsw_dma_write(&map, 0xf00, big, 0x200), -EFAULT);
	CHECK_EQ(ifcsw_dma_write(&map, 0x4ff0, big, 0x20), -EFAULT);
	CHECK_EQ(ifcsw_dma_write(&map, UINT64_MAX - 4, big, 0x20), -EFAULT);
	CHECK_EQ(ifcsw_dma_read(&map, 0x2f00, buf, 0x200), -EFAULT);
	CHECK_EQ(ifcsw_dma_read(&map, 0x1000, buf, UINT64_MAX), -EFAULT);
	CHECK_EQ(map.faults - faults, 8);
	for (i = 0; i < sizeof(mem); i++)
		if (((uint8_t *)mem)[i] != 0x11)
			break;
	CHECK_EQ(i, sizeof(mem));
	for (i = 0; i < sizeof(guard); i++)
		if (guard[i] != 0x5a)
			break;
	CHECK_EQ(i, sizeof(guard));
	/* Empty copies touch nothing and succeed. */
	CHECK_EQ(ifcsw_dma_write(&map, 0x9999, big, 0), 0);
}

/*
 * Post-copy (issue 17): while the window is open an access to a guest
 * page that is not resident faults (an IOMMU that could only map the
 * pages that arrived); a resident one goes; outside the window guest
 * memory counts as pinned; non-guest mappings are never checked.
 */
static void
test_postcopy_presence(void)
{
	uint8_t *g = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t buf[64] = { 0 };
	uint64_t faults;

	CHECK(g != MAP_FAILED);
	ifcsw_dma_init(&map);
	CHECK_EQ(ifcsw_dma_map(&map, 0x100000, 4 * 4096, g,
			       RW | IFCSW_DMA_GUEST), 0);
	CHECK_EQ(ifcsw_dma_map(&map, 0x900000, 4096, mem[0], RW), 0);
	memset(g, 1, 4096);			/* page 0 arrived */
	CHECK_EQ(madvise(g + 4096, 3 * 4096, MADV_DONTNEED), 0);
	CHECK_EQ(ifcsw_dma_set_postcopy(&map, true), 0);
	faults = map.faults;
	CHECK_EQ(ifcsw_dma_read(&map, 0x100000, buf, 64), 0);
	CHECK_EQ(ifcsw_dma_write(&map, 0x101000, buf, 64), -EFAULT);
	/* Straddling into an absent page faults too, and writes nothing. */
	CHECK_EQ(ifcsw_dma_write(&map, 0x100ff0, buf, 32), -EFAULT);
	CHECK(ifcsw_dma_translate(&map, 0x102000, 16, IFCSW_DMA_READ) ==
	      NULL);
	CHECK_EQ(map.faults, faults + 3);
	CHECK_EQ(map.absent_faults, 3);
	CHECK_EQ(ifcsw_dma_read(&map, 0x900000, buf, 64), 0);
	g[4096] = 2;				/* page 1 arrives */
	CHECK_EQ(ifcsw_dma_write(&map, 0x101000, buf, 64), 0);
	/* Window closed: pinned, nothing checked. */
	CHECK_EQ(ifcsw_dma_set_postcopy(&map, false), 0);
	CHECK_EQ(ifcsw_dma_read(&map, 0x103000, buf, 64), 0);
	ifcsw_dma_unmap_all(&map);
	munmap(g, 4 * 4096);
}

void
test_dma(void)
{
	test_map_bookkeeping();
	test_translate_and_copy();
	test_postcopy_presence();
}
