/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#include <stdio.h>

#include "vdpa_lm.h"

void
vdpa_lm_cli_run(struct vdpa_lm *lm)
{
	fprintf(stderr, "vdpa-lm: interactive mode is not built yet\n");
}
