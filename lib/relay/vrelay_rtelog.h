/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef VRELAY_RTELOG_H
#define VRELAY_RTELOG_H

#include <rte_log.h>

extern int vrelay_logtype;

/* One log line, prefixed; usable before (or without) rte_eal_init(). */
#define VRELAY_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vrelay_logtype, \
		"vrelay: " fmt "\n", ##__VA_ARGS__)

#endif /* VRELAY_RTELOG_H */
