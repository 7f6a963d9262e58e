/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * What vdpa-lm shows of a device, from interfaces any vDPA driver that
 * uses lib/relay has: the relay controller (state, policy, engine,
 * queue modes, relay and switchover counters) and DPDK's generic vDPA
 * statistics (the device's own counters, by name).
 */

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_common.h>
#include <rte_vdpa.h>

#include "vdpa_lm.h"

/* Device counters vdpa-lm reads, by the names drivers report them. */
static const struct {
	const char *name;
	size_t off;
} dev_counters[] = {
	{ "packets", offsetof(struct lm_queue, packets) },
	{ "bytes", offsetof(struct lm_queue, bytes) },
	{ "drops", offsetof(struct lm_queue, drops) },
	{ "dma_faults", offsetof(struct lm_queue, dma_faults) },
	{ "ring_errors", offsetof(struct lm_queue, ring_errors) },
	{ "doorbells", offsetof(struct lm_queue, doorbells) },
};

/* More than any driver reports. */
#define LM_VDPA_STATS 64

int
lm_dev_info(const char *dev, struct vrelay_vhost_info *info)
{
	struct vrelay_vhost *v = vrelay_vhost_find(dev);

	if (v == NULL)
		return -ENODEV;
	return vrelay_vhost_get_info(v, info);
}

/* The device's own counters of a queue; absent ones stay 0. */
static void
lm_queue_dev_counters(const char *dev, uint16_t q, struct lm_queue *lq)
{
	struct rte_vdpa_device *vdpa = rte_vdpa_find_device_by_name(dev);
	struct rte_vdpa_stat_name names[LM_VDPA_STATS];
	struct rte_vdpa_stat vals[LM_VDPA_STATS];
	unsigned int j;
	int n, i;

	if (vdpa == NULL)
		return;
	n = rte_vdpa_get_stats_names(vdpa, names, RTE_DIM(names));
	if (n <= 0 || n > LM_VDPA_STATS)
		return;
	n = rte_vdpa_get_stats(vdpa, q, vals, n);
	for (i = 0; i < n; i++) {
		if (vals[i].id >= RTE_DIM(names))
			continue;
		for (j = 0; j < RTE_DIM(dev_counters); j++)
			if (strcmp(names[vals[i].id].name,
				   dev_counters[j].name) == 0)
				memcpy((char *)lq + dev_counters[j].off,
				       &vals[i].value, sizeof(uint64_t));
	}
}

int
lm_queue_get(const char *dev, uint16_t q, struct lm_queue *lq)
{
	struct vrelay_vhost *v = vrelay_vhost_find(dev);
	int ret;

	memset(lq, 0, sizeof(*lq));
	if (v == NULL)
		return -ENODEV;
	ret = vrelay_vhost_get_qinfo(v, q, &lq->qi);
	if (ret < 0)
		return ret;
	lm_queue_dev_counters(dev, q, lq);
	return 0;
}

int
lm_set_policy(const char *dev, enum vrelay_policy p)
{
	struct vrelay_vhost *v = vrelay_vhost_find(dev);

	return v == NULL ? -ENODEV : vrelay_vhost_set_policy(v, p);
}

int
lm_set_mode(const char *dev, const char *mode)
{
	struct vrelay_vhost *v = vrelay_vhost_find(dev);
	enum vrelay_mode m;

	if (v == NULL)
		return -ENODEV;
	if (vrelay_mode_from_str(mode, &m) < 0)
		return -EINVAL;
	return vrelay_vhost_set_mode(v, m);
}
