/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Guest memory table lookups. A buffer is accepted if every byte of it
 * lies in some region; it may run from one region into the next when
 * they are adjacent in guest physical space (QEMU splits RAM around
 * holes, and a buffer may straddle such a boundary without a hole).
 */

#include "vrelay_private.h"

static const struct vrelay_mem_region *
mem_find(const struct vrelay_mem *mem, uint64_t gpa)
{
	uint32_t i;

	for (i = 0; i < mem->nregions; i++) {
		const struct vrelay_mem_region *r = &mem->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

/* Is [gpa, gpa + len) entirely guest memory? len == 0 is always fine. */
bool
vrelay_mem_contains(const struct vrelay_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct vrelay_mem_region *r;
	uint64_t left;

	if (len == 0)
		return true;
	if (gpa + len < gpa)
		return false;	/* wraps the address space */
	/* Each step consumes a whole region, so this ends in nregions. */
	for (;;) {
		r = mem_find(mem, gpa);
		if (r == NULL)
			return false;
		left = r->size - (gpa - r->gpa);
		if (len <= left)
			return true;
		gpa += left;
		len -= left;
	}
}

/*
 * Is [hva, hva + len) entirely inside one region, by host address? Rings
 * are checked this way: the relay indexes them through one host pointer,
 * and vhost too requires a ring to translate within a single region.
 */
bool
vrelay_mem_contains_hva(const struct vrelay_mem *mem, uint64_t hva,
			uint64_t len)
{
	uint32_t i;

	for (i = 0; i < mem->nregions; i++) {
		const struct vrelay_mem_region *r = &mem->regions[i];

		/* Subtractions only: a region may end at 2^64. */
		if (hva >= r->hva && hva - r->hva < r->size &&
		    len <= r->size - (hva - r->hva))
			return true;
	}
	return false;
}

/*
 * Map [gpa, gpa + len) to a pointer the relay may read through: it must
 * be guest memory and contiguous in this process too (adjacent regions
 * mapped back to back are fine).
 */
void *
vrelay_mem_translate(const struct vrelay_mem *mem, uint64_t gpa,
		     uint64_t len)
{
	const struct vrelay_mem_region *r;
	uint64_t hva, left, next_hva;

	if (len == 0 || gpa + len < gpa)
		return NULL;
	r = mem_find(mem, gpa);
	if (r == NULL)
		return NULL;
	hva = r->hva + (gpa - r->gpa);
	for (;;) {
		left = r->size - (gpa - r->gpa);
		if (len <= left)
			return (void *)(uintptr_t)hva;
		next_hva = r->hva + r->size;
		gpa += left;
		len -= left;
		r = mem_find(mem, gpa);
		if (r == NULL || r->hva != next_hva)
			return NULL;
	}
}
