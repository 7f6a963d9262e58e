/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * rte_vdpa_get_stats() for ifcvf_sw: the VF's own per-queue counters,
 * described once in the table below, followed by the relay
 * controller's (lib/relay, same names everywhere: telemetry, the CLI,
 * any vDPA application). Also the wire-port lookup, the one thing an
 * application needs that is specific to this driver.
 */

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_common.h>
#include <rte_string_fns.h>
#include <rte_telemetry.h>
#include <vdpa_driver.h>

#include "ifcvf_sw.h"
#include "vrelay_dpdk_compat.h"
#include "ifcvf_sw_log.h"

#define HS(field) offsetof(struct ifcsw_hwq_stats, field)

static const struct {
	const char *name;
	size_t off;		/* of a uint64_t in struct ifcsw_hwq_stats */
} hw_counters[] = {
	{ "packets", HS(packets) },
	{ "bytes", HS(bytes) },
	{ "doorbells", HS(doorbells) },
	{ "irqs", HS(irqs) },
	{ "dma_faults", HS(dma_faults) },
	{ "ring_errors", HS(ring_errors) },
	{ "drops", HS(drops) },
	{ "reordered", HS(reordered) },
};

struct ifcsw_dev *
ifcsw_dev_by_name(const char *name)
{
	struct ifcsw_dev *dev, *found = NULL;

	if (name == NULL)
		return NULL;
	pthread_mutex_lock(&ifcsw_devs_lock);
	TAILQ_FOREACH(dev, &ifcsw_devs, next) {
		if (strcmp(dev->name, name) == 0) {
			found = dev;
			break;
		}
	}
	pthread_mutex_unlock(&ifcsw_devs_lock);
	return found;
}

int
ifcsw_get_stats_names(struct rte_vdpa_device *vdpa,
		      struct rte_vdpa_stat_name *names, unsigned int size)
{
	unsigned int i, nhw = RTE_DIM(hw_counters);
	int nrelay;

	RTE_SET_USED(vdpa);
	for (i = 0; names != NULL && i < nhw && i < size; i++)
		strlcpy(names[i].name, hw_counters[i].name,
			sizeof(names[i].name));
	nrelay = vrelay_vhost_stats_names(names != NULL && size > nhw ?
					  names + nhw : NULL,
					  size > nhw ? size - nhw : 0);
	return nhw + nrelay;
}

int
ifcsw_get_stats(struct rte_vdpa_device *vdpa, int qid,
		struct rte_vdpa_stat *stats, unsigned int n)
{
	struct ifcsw_dev *dev = ifcsw_dev_from_vdpa(vdpa);
	unsigned int i, nhw = RTE_DIM(hw_counters);
	const struct ifcsw_hwq_stats *hs;
	int nrelay = 0;

	if (dev == NULL || qid < 0 || qid >= 2 * dev->nb_queue_pairs)
		return -EINVAL;
	/* Racy reads of the device thread's counters: advisory. */
	hs = &dev->hw.q[qid].stats;
	for (i = 0; i < nhw && i < n; i++) {
		stats[i].id = i;
		memcpy(&stats[i].value, (const char *)hs + hw_counters[i].off,
		       sizeof(stats[i].value));
	}
	if (n > nhw)
		nrelay = vrelay_vhost_stats(dev->ctl, qid, stats + nhw,
					    n - nhw, nhw);
	return i + RTE_MAX(nrelay, 0);
}

int
ifcsw_reset_stats(struct rte_vdpa_device *vdpa, int qid)
{
	struct ifcsw_dev *dev = ifcsw_dev_from_vdpa(vdpa);

	if (dev == NULL || qid < 0 || qid >= 2 * dev->nb_queue_pairs)
		return -EINVAL;
	/* Racy with the device thread by design: counters are advisory. */
	memset(&dev->hw.q[qid].stats, 0, sizeof(dev->hw.q[qid].stats));
	return vrelay_vhost_reset_qinfo(dev->ctl, qid);
}

int
ifcsw_wire_port_get(const char *dev_name, uint16_t *port_id)
{
	struct ifcsw_dev *dev = ifcsw_dev_by_name(dev_name);

	if (dev == NULL)
		return -ENODEV;
	if (!dev->has_wire_port)
		return -ENOENT;
	*port_id = dev->wire_port;
	return 0;
}

/* ---- telemetry: the VF's own, device-wide ---------------------------- */

/*
 * /ifcvf_sw/hw,<device>: how the VF's queues are controlled and the
 * whole-device stops the tests count. The per-queue counters and the
 * migration state are lib/relay's /vdpa_relay/stats.
 */
static int
tel_hw(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct ifcsw_dev *dev = ifcsw_dev_by_name(params);
	struct ifcsw_hw_ctl_stats cs;
	uint64_t unlogged;

	RTE_SET_USED(cmd);
	if (dev == NULL)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	cs = dev->hw.ctl_stats;
	unlogged = dev->wd.unlogged_starts;
	pthread_mutex_unlock(&dev->lock);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "device", dev->name);
	rte_tel_data_add_dict_string(d, "hw_control",
				     ifcsw_whole_device(dev) ? "device" :
				     "queue");
	rte_tel_data_add_dict_uint(d, "dev_stops", cs.dev_stops);
	rte_tel_data_add_dict_uint(d, "dev_starts", cs.dev_starts);
	rte_tel_data_add_dict_uint(d, "dev_parked", cs.dev_parked);
	rte_tel_data_add_dict_uint(d, "regs_refused", cs.regs_refused);
	rte_tel_data_add_dict_uint(d, "unlogged_starts", unlogged);
	return 0;
}

RTE_INIT(ifcsw_telemetry_init)
{
	rte_telemetry_register_cmd("/ifcvf_sw/hw", tel_hw,
		"ifcvf_sw queue control and whole-device stops. Parameters: "
		"device name");
}
