/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef IFCVF_SW_LOG_H
#define IFCVF_SW_LOG_H

#include <rte_log.h>

/* Log type "pmd.vdpa.ifcvf_sw", registered in ifcvf_sw_ops.c. */
extern int ifcsw_logtype;

#define IFCSW_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, ifcsw_logtype, \
		"ifcvf_sw: " fmt "\n", ##__VA_ARGS__)

#endif /* IFCVF_SW_LOG_H */
