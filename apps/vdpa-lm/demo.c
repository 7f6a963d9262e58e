/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#include <stdio.h>

#include "vdpa_lm.h"

int
vdpa_lm_demo_run(struct vdpa_lm *lm)
{
	fprintf(stderr, "vdpa-lm: the demo is not built yet\n");
	return 1;
}
