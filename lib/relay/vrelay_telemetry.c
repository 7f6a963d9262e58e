/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * DPDK telemetry for every relay controller of the process, whatever
 * its driver:
 *   /vdpa_relay/list             device names
 *   /vdpa_relay/stats,<device>   the device's state and, per queue, its
 *                                mode, the device's own counters (its
 *                                driver's rte_vdpa_get_stats()) and the
 *                                relay's (vrelay_stats.c)
 * Runs in DPDK's telemetry thread; reads through the controllers' locks.
 */

#include <string.h>

#include <rte_common.h>
#include <rte_telemetry.h>
#include <rte_vdpa.h>

#include "vrelay_dpdk_compat.h"
#include "vrelay_vhost_private.h"

/* Driver counters read per queue: more than any driver has. */
#define TEL_DEV_STATS 64

static void
tel_list_one(const char *name, void *arg)
{
	rte_tel_data_add_array_string(arg, name);
}

static int
tel_list(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	vrelay_vhost_each_name(tel_list_one, d);
	return 0;
}

static bool
is_relay_counter(const char *name)
{
	unsigned int i;

	for (i = 0; i < vrelay_vhost_counter_count(); i++)
		if (strcmp(name, vrelay_vhost_counter_name(i)) == 0)
			return true;
	return false;
}

/* The device's own counters of a queue, as its driver reports them. */
static void
tel_add_device_stats(struct rte_tel_data *q, const char *dev, uint16_t qid)
{
	struct rte_vdpa_device *vdpa = rte_vdpa_find_device_by_name(dev);
	struct rte_vdpa_stat_name names[TEL_DEV_STATS];
	struct rte_vdpa_stat vals[TEL_DEV_STATS];
	int n, i;

	if (vdpa == NULL)
		return;
	n = rte_vdpa_get_stats_names(vdpa, names, RTE_DIM(names));
	if (n <= 0 || n > TEL_DEV_STATS)
		return;
	n = rte_vdpa_get_stats(vdpa, qid, vals, n);
	for (i = 0; i < n; i++) {
		const char *name;

		if (vals[i].id >= RTE_DIM(names))
			continue;
		name = names[vals[i].id].name;
		/* The relay's are added from the table, once. */
		if (!is_relay_counter(name))
			rte_tel_data_add_dict_uint(q, name, vals[i].value);
	}
}

static void
tel_add_queue(struct rte_tel_data *d, struct vrelay_vhost *v, uint16_t qid)
{
	struct rte_tel_data *q = rte_tel_data_alloc();
	struct vrelay_vhost_qinfo qi;
	char name[16];
	unsigned int i;

	if (q == NULL)
		return;
	vrelay_vhost_get_qinfo(v, qid, &qi);
	rte_tel_data_start_dict(q);
	rte_tel_data_add_dict_string(q, "mode", vrelay_qmode_to_str(qi.mode));
	tel_add_device_stats(q, v->name, qid);
	for (i = 0; i < vrelay_vhost_counter_count(); i++)
		rte_tel_data_add_dict_uint(q, vrelay_vhost_counter_name(i),
					  vrelay_vhost_counter_value(&qi, i));
	snprintf(name, sizeof(name), "q%u", qid);
	rte_tel_data_add_dict_container(d, name, q, 0);
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct vrelay_vhost *v = vrelay_vhost_find(params);
	struct vrelay_vhost_info info;
	uint16_t qid;

	RTE_SET_USED(cmd);
	if (v == NULL)
		return -EINVAL;
	vrelay_vhost_get_info(v, &info);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "device", v->name);
	rte_tel_data_add_dict_string(d, "state",
				     vrelay_dstate_to_str(info.state));
	rte_tel_data_add_dict_string(d, "relay_policy",
				     vrelay_policy_to_str(info.policy));
	rte_tel_data_add_dict_string(d, "relay_mode",
				     vrelay_mode_to_str(info.mode));
	rte_tel_data_add_dict_int(d, "logging", info.logging);
	rte_tel_data_add_dict_int(d, "vid", info.vid);
	rte_tel_data_add_dict_uint(d, "switches", info.switches);
	rte_tel_data_add_dict_uint(d, "last_switch_ns", info.last_switch_ns);
	rte_tel_data_add_dict_uint(d, "last_switch_total_ns",
				   info.last_switch_total_ns);
	rte_tel_data_add_dict_uint(d, "relay_cpu_ns", info.relay_cpu_ns);
	rte_tel_data_add_dict_int(d, "postcopy", info.postcopy);
	rte_tel_data_add_dict_uint(d, "prefault_waits", info.prefault_waits);
	rte_tel_data_add_dict_uint(d, "prefault_pages", info.prefault_pages);
	for (qid = 0; qid < info.nb_queues; qid++)
		tel_add_queue(d, v, qid);
	return 0;
}

RTE_INIT(vrelay_telemetry_init)
{
	rte_telemetry_register_cmd("/vdpa_relay/list", tel_list,
		"List the vDPA devices lib/relay controls. Takes no parameters");
	rte_telemetry_register_cmd("/vdpa_relay/stats", tel_stats,
		"Migration state and per-queue counters. Parameters: device name");
}
