/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * What an operator can see and change: per-queue counters through
 * rte_vdpa_get_stats() and the /vdpa_relay/ telemetry commands, and the
 * control API of ifcvf_sw_api.h (relay policy, engine mode).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_telemetry.h>
#include <vdpa_driver.h>

#include "ifcvf_sw.h"
#include "ifcvf_sw_log.h"

enum ifcsw_stat_id {
	IFCSW_STAT_PACKETS,
	IFCSW_STAT_BYTES,
	IFCSW_STAT_DOORBELLS,
	IFCSW_STAT_IRQS,
	IFCSW_STAT_DMA_FAULTS,
	IFCSW_STAT_RING_ERRORS,
	IFCSW_STAT_DROPS,
	IFCSW_STAT_RELAY_AVAIL,
	IFCSW_STAT_RELAY_USED,
	IFCSW_STAT_PAGES_LOGGED,
	IFCSW_STAT_LOG_BURSTS,
	IFCSW_STAT_RELAY_BROKEN,
	IFCSW_STAT_TO_RELAY,
	IFCSW_STAT_TO_DIRECT,
	IFCSW_STAT_SWITCH_LAST_NS,
	IFCSW_STAT_SWITCH_MAX_NS,
	IFCSW_STAT_NB,
};

static const char *const ifcsw_stat_names[IFCSW_STAT_NB] = {
	[IFCSW_STAT_PACKETS] = "packets",
	[IFCSW_STAT_BYTES] = "bytes",
	[IFCSW_STAT_DOORBELLS] = "doorbells",
	[IFCSW_STAT_IRQS] = "irqs",
	[IFCSW_STAT_DMA_FAULTS] = "dma_faults",
	[IFCSW_STAT_RING_ERRORS] = "ring_errors",
	[IFCSW_STAT_DROPS] = "drops",
	[IFCSW_STAT_RELAY_AVAIL] = "relay_avail",
	[IFCSW_STAT_RELAY_USED] = "relay_used",
	[IFCSW_STAT_PAGES_LOGGED] = "pages_logged",
	[IFCSW_STAT_LOG_BURSTS] = "log_bursts",
	[IFCSW_STAT_RELAY_BROKEN] = "relay_broken",
	[IFCSW_STAT_TO_RELAY] = "switch_to_relay",
	[IFCSW_STAT_TO_DIRECT] = "switch_to_direct",
	[IFCSW_STAT_SWITCH_LAST_NS] = "switch_last_ns",
	[IFCSW_STAT_SWITCH_MAX_NS] = "switch_max_ns",
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

/* The API's enums mirror the controller's, value for value. */
_Static_assert((int)IFCSW_QUEUE_HELD == (int)VRELAY_QMODE_HELD &&
	       (int)IFCSW_QUEUE_BROKEN == (int)VRELAY_QMODE_BROKEN &&
	       (int)IFCSW_DEV_RELAY == (int)VRELAY_DSTATE_RELAY &&
	       (int)IFCSW_RELAY_OFF == (int)VRELAY_POLICY_OFF,
	       "ifcvf_sw_api.h enums follow vdpa_relay_vhost.h");

void
ifcsw_queue_info_fill(struct ifcsw_dev *dev, uint16_t qid,
		      struct ifcsw_queue_info *info)
{
	const struct ifcsw_hwq *hq = &dev->hw.q[qid];
	struct vrelay_vhost_qinfo qi;

	memset(info, 0, sizeof(*info));
	vrelay_vhost_get_qinfo(dev->ctl, qid, &qi);
	info->mode = (enum ifcsw_queue_mode)qi.mode;
	if (hq->state == IFCSW_HWQ_FAULT)
		info->mode = IFCSW_QUEUE_BROKEN;
	info->enabled = qi.enabled;
	info->packets = hq->stats.packets;
	info->bytes = hq->stats.bytes;
	info->doorbells = hq->stats.doorbells;
	info->irqs = hq->stats.irqs;
	info->dma_faults = hq->stats.dma_faults;
	info->ring_errors = hq->stats.ring_errors;
	info->drops = hq->stats.drops;
	info->relay_avail = qi.relay.avail_relayed;
	info->relay_used = qi.relay.used_relayed;
	info->pages_logged = qi.relay.pages_logged;
	info->log_bursts = qi.relay.log_bursts;
	info->relay_broken = qi.relay.broken;
	info->inflight_logged = qi.relay.inflight_logged;
	info->sw.to_relay = qi.sw.to_relay;
	info->sw.to_direct = qi.sw.to_direct;
	info->sw.last_ns = qi.sw.last_ns;
	info->sw.max_ns = qi.sw.max_ns;
	info->sw.total_ns = qi.sw.total_ns;
}

int
ifcsw_get_stats_names(struct rte_vdpa_device *vdpa,
		      struct rte_vdpa_stat_name *names, unsigned int size)
{
	unsigned int i;

	if (names == NULL)
		return IFCSW_STAT_NB;
	for (i = 0; i < RTE_MIN(size, (unsigned int)IFCSW_STAT_NB); i++)
		strlcpy(names[i].name, ifcsw_stat_names[i],
			sizeof(names[i].name));
	return IFCSW_STAT_NB;
}

int
ifcsw_get_stats(struct rte_vdpa_device *vdpa, int qid,
		struct rte_vdpa_stat *stats, unsigned int n)
{
	struct ifcsw_dev *dev = ifcsw_dev_from_vdpa(vdpa);
	struct ifcsw_queue_info info;
	uint64_t v[IFCSW_STAT_NB];
	unsigned int i;

	if (dev == NULL || qid < 0 || qid >= 2 * dev->nb_queue_pairs)
		return -EINVAL;
	ifcsw_queue_info_fill(dev, qid, &info);
	v[IFCSW_STAT_PACKETS] = info.packets;
	v[IFCSW_STAT_BYTES] = info.bytes;
	v[IFCSW_STAT_DOORBELLS] = info.doorbells;
	v[IFCSW_STAT_IRQS] = info.irqs;
	v[IFCSW_STAT_DMA_FAULTS] = info.dma_faults;
	v[IFCSW_STAT_RING_ERRORS] = info.ring_errors;
	v[IFCSW_STAT_DROPS] = info.drops;
	v[IFCSW_STAT_RELAY_AVAIL] = info.relay_avail;
	v[IFCSW_STAT_RELAY_USED] = info.relay_used;
	v[IFCSW_STAT_PAGES_LOGGED] = info.pages_logged;
	v[IFCSW_STAT_LOG_BURSTS] = info.log_bursts;
	v[IFCSW_STAT_RELAY_BROKEN] = info.relay_broken;
	v[IFCSW_STAT_TO_RELAY] = info.sw.to_relay;
	v[IFCSW_STAT_TO_DIRECT] = info.sw.to_direct;
	v[IFCSW_STAT_SWITCH_LAST_NS] = info.sw.last_ns;
	v[IFCSW_STAT_SWITCH_MAX_NS] = info.sw.max_ns;
	for (i = 0; i < RTE_MIN(n, (unsigned int)IFCSW_STAT_NB); i++) {
		stats[i].id = i;
		stats[i].value = v[i];
	}
	return RTE_MIN(n, (unsigned int)IFCSW_STAT_NB);
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

/* ---- control API ----------------------------------------------------- */

const char *
ifcsw_queue_mode_str(enum ifcsw_queue_mode m)
{
	return vrelay_qmode_to_str((enum vrelay_qmode)m);
}

const char *
ifcsw_dev_state_str(enum ifcsw_dev_state st)
{
	return vrelay_dstate_to_str((enum vrelay_dstate)st);
}

const char *
ifcsw_relay_policy_str(enum ifcsw_relay_policy p)
{
	return vrelay_policy_to_str((enum vrelay_policy)p);
}

int
ifcsw_relay_policy_set(const char *dev_name, enum ifcsw_relay_policy p)
{
	struct ifcsw_dev *dev = ifcsw_dev_by_name(dev_name);

	if (dev == NULL)
		return -ENODEV;
	return vrelay_vhost_set_policy(dev->ctl, (enum vrelay_policy)p);
}

int
ifcsw_relay_mode_set(const char *dev_name, const char *mode)
{
	struct ifcsw_dev *dev = ifcsw_dev_by_name(dev_name);
	enum vrelay_mode m;

	if (dev == NULL)
		return -ENODEV;
	if (vrelay_mode_from_str(mode, &m) < 0)
		return -EINVAL;
	return vrelay_vhost_set_mode(dev->ctl, m);
}

int
ifcsw_migration_info_get(const char *dev_name,
			 struct ifcsw_migration_info *info)
{
	struct ifcsw_dev *dev = ifcsw_dev_by_name(dev_name);
	struct vrelay_vhost_info vi;

	if (dev == NULL)
		return -ENODEV;
	vrelay_vhost_get_info(dev->ctl, &vi);
	memset(info, 0, sizeof(*info));
	info->state = (enum ifcsw_dev_state)vi.state;
	info->policy = (enum ifcsw_relay_policy)vi.policy;
	info->relay_mode = vrelay_mode_to_str(vi.mode);
	info->logging = vi.logging;
	info->vid = vi.vid;
	info->nb_queues = vi.nb_queues;
	info->last_switch_ns = vi.last_switch_ns;
	info->switches = vi.switches;
	info->relay_cpu_ns = vi.relay_cpu_ns;
	return 0;
}

int
ifcsw_queue_info_get(const char *dev_name, uint16_t qid,
		     struct ifcsw_queue_info *info)
{
	struct ifcsw_dev *dev = ifcsw_dev_by_name(dev_name);

	if (dev == NULL)
		return -ENODEV;
	if (qid >= 2 * dev->nb_queue_pairs)
		return -EINVAL;
	ifcsw_queue_info_fill(dev, qid, info);
	return 0;
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

/* ---- telemetry ------------------------------------------------------- */

static int
tel_list(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct ifcsw_dev *dev;

	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	pthread_mutex_lock(&ifcsw_devs_lock);
	TAILQ_FOREACH(dev, &ifcsw_devs, next)
		rte_tel_data_add_array_string(d, dev->name);
	pthread_mutex_unlock(&ifcsw_devs_lock);
	return 0;
}

static void
tel_add_queue(struct rte_tel_data *d, struct ifcsw_dev *dev, uint16_t qid)
{
	struct rte_tel_data *q = rte_tel_data_alloc();
	struct ifcsw_queue_info info;
	char name[16];

	if (q == NULL)
		return;
	ifcsw_queue_info_fill(dev, qid, &info);
	rte_tel_data_start_dict(q);
	rte_tel_data_add_dict_string(q, "mode", ifcsw_queue_mode_str(info.mode));
	rte_tel_data_add_dict_u64(q, "packets", info.packets);
	rte_tel_data_add_dict_u64(q, "bytes", info.bytes);
	rte_tel_data_add_dict_u64(q, "dma_faults", info.dma_faults);
	rte_tel_data_add_dict_u64(q, "ring_errors", info.ring_errors);
	rte_tel_data_add_dict_u64(q, "drops", info.drops);
	rte_tel_data_add_dict_u64(q, "relay_avail", info.relay_avail);
	rte_tel_data_add_dict_u64(q, "relay_used", info.relay_used);
	rte_tel_data_add_dict_u64(q, "pages_logged", info.pages_logged);
	rte_tel_data_add_dict_u64(q, "relay_broken", info.relay_broken);
	rte_tel_data_add_dict_u64(q, "inflight_logged", info.inflight_logged);
	rte_tel_data_add_dict_u64(q, "switch_to_relay", info.sw.to_relay);
	rte_tel_data_add_dict_u64(q, "switch_to_direct", info.sw.to_direct);
	rte_tel_data_add_dict_u64(q, "switch_last_ns", info.sw.last_ns);
	rte_tel_data_add_dict_u64(q, "switch_max_ns", info.sw.max_ns);
	snprintf(name, sizeof(name), "q%u", qid);
	rte_tel_data_add_dict_container(d, name, q, 0);
}

/* Queue control: its kind, and the whole-device stops the tests count. */
static void
tel_add_qctl(struct rte_tel_data *d, struct ifcsw_dev *dev)
{
	struct ifcsw_hw_ctl_stats cs;
	uint64_t unlogged;

	pthread_mutex_lock(&dev->lock);
	cs = dev->hw.ctl_stats;
	unlogged = dev->wd.unlogged_starts;
	pthread_mutex_unlock(&dev->lock);
	rte_tel_data_add_dict_string(d, "hw_control",
				     ifcsw_whole_device(dev) ? "device" :
				     "queue");
	rte_tel_data_add_dict_u64(d, "dev_stops", cs.dev_stops);
	rte_tel_data_add_dict_u64(d, "dev_starts", cs.dev_starts);
	rte_tel_data_add_dict_u64(d, "dev_parked", cs.dev_parked);
	rte_tel_data_add_dict_u64(d, "regs_refused", cs.regs_refused);
	rte_tel_data_add_dict_u64(d, "unlogged_starts", unlogged);
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct ifcsw_migration_info mi;
	struct ifcsw_dev *dev;
	uint16_t qid;

	dev = ifcsw_dev_by_name(params);
	if (dev == NULL || ifcsw_migration_info_get(dev->name, &mi) < 0)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "device", dev->name);
	rte_tel_data_add_dict_string(d, "state", ifcsw_dev_state_str(mi.state));
	rte_tel_data_add_dict_string(d, "relay_policy",
				     ifcsw_relay_policy_str(mi.policy));
	rte_tel_data_add_dict_string(d, "relay_mode", mi.relay_mode);
	rte_tel_data_add_dict_int(d, "logging", mi.logging);
	rte_tel_data_add_dict_int(d, "vid", mi.vid);
	rte_tel_data_add_dict_u64(d, "switches", mi.switches);
	rte_tel_data_add_dict_u64(d, "last_switch_ns", mi.last_switch_ns);
	rte_tel_data_add_dict_u64(d, "relay_cpu_ns", mi.relay_cpu_ns);
	tel_add_qctl(d, dev);
	for (qid = 0; qid < mi.nb_queues; qid++)
		tel_add_queue(d, dev, qid);
	return 0;
}

RTE_INIT(ifcsw_telemetry_init)
{
	rte_telemetry_register_cmd("/vdpa_relay/list", tel_list,
		"List ifcvf_sw devices. Takes no parameters");
	rte_telemetry_register_cmd("/vdpa_relay/stats", tel_stats,
		"Migration state and per-queue counters. Parameters: device name");
}
