/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/* Guest memory translation shared by the test drivers (see vq_drv.h). */

#include <stddef.h>

#include "vq_drv.h"

void *
vq_drv_xlate_flat(void *flat, uint64_t gpa, uint64_t len)
{
	const struct vq_drv_flat *f = flat;

	/* Differences, not sums: a hostile gpa + len must not wrap. */
	if (gpa < f->gpa || gpa - f->gpa > f->size ||
	    len > f->size - (gpa - f->gpa))
		return NULL;
	return f->hva + (gpa - f->gpa);
}
