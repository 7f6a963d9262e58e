/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/* Unit test of the emulated VF's DMA map and datapath. */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>

#include "test_common.h"

/* The driver registers this in ifcvf_sw_ops.c, not linked here. */
int ifcsw_logtype;

int test_failures;

int
main(int argc, char **argv)
{
	char prefix[64], rundir[PATH_MAX];
	char *eal_args[] = {
		argv[0], "--no-huge", "-m", "256", "--no-pci",
		"--no-shconf", "--no-telemetry", "-l", "0",
		"--file-prefix", prefix,
		"--log-level=*:warning",
	};

	(void)argc;
	snprintf(prefix, sizeof(prefix), "ifcsw-unit-%d", (int)getpid());
	/* The map needs no EAL; run it first so it is tested regardless. */
	test_dma();
	if (rte_eal_init(RTE_DIM(eal_args), eal_args) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		return 1;
	}
	test_dp();
	test_hwq();
	test_wholedev();
	test_packed();
	/* EAL leaves its (empty, with --no-shconf) runtime directory. */
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(rundir);
	if (test_failures != 0) {
		fprintf(stderr, "%d check(s) failed\n", test_failures);
		return 1;
	}
	printf("device-dma: all checks passed\n");
	return 0;
}
