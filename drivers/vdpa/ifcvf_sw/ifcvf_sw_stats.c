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

void
ifcsw_queue_info_fill(struct ifcsw_dev *dev, uint16_t qid,
		      struct ifcsw_queue_info *info)
{
	const struct ifcsw_hwq *hq = &dev->hw.q[qid];
	const struct ifcsw_vq *vq = &dev->vq[qid];
	struct vrelay_queue_stats rs;

	memset(info, 0, sizeof(*info));
	/*
	 * vq->relay is freed by a switch back to direct I/O, which runs
	 * under dev->lock: hold it so the queue cannot go away under us.
	 */
	pthread_mutex_lock(&dev->lock);
	info->mode = vq->mode;
	if (hq->state == IFCSW_HWQ_FAULT)
		info->mode = IFCSW_QUEUE_BROKEN;
	info->enabled = vq->enabled;
	info->packets = hq->stats.packets;
	info->bytes = hq->stats.bytes;
	info->doorbells = hq->stats.doorbells;
	info->irqs = hq->stats.irqs;
	info->dma_faults = hq->stats.dma_faults;
	info->ring_errors = hq->stats.ring_errors;
	info->drops = hq->stats.drops;
	info->relay_avail = vq->relay_total.avail_relayed;
	info->relay_used = vq->relay_total.used_relayed;
	info->pages_logged = vq->relay_total.pages_logged;
	info->log_bursts = vq->relay_total.log_bursts;
	info->relay_broken = vq->relay_total.broken;
	if (vq->relay != NULL) {
		vrelay_queue_get_stats(vq->relay, &rs);
		info->relay_avail += rs.avail_relayed;
		info->relay_used += rs.used_relayed;
		info->pages_logged += rs.pages_logged;
		info->log_bursts += rs.log_bursts;
		info->relay_broken += rs.broken;
		if (vrelay_queue_state(vq->relay) == VRELAY_QUEUE_BROKEN)
			info->mode = IFCSW_QUEUE_BROKEN;
	}
	info->inflight_logged = vq->relay_total.inflight_logged;
	if (vq->relay != NULL) {
		vrelay_queue_get_stats(vq->relay, &rs);
		info->inflight_logged += rs.inflight_logged;
	}
	info->sw = vq->sw;
	pthread_mutex_unlock(&dev->lock);
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
	memset(&dev->vq[qid].sw, 0, sizeof(dev->vq[qid].sw));
	memset(&dev->vq[qid].relay_total, 0, sizeof(dev->vq[qid].relay_total));
	return 0;
}

/* ---- control API ----------------------------------------------------- */

const char *
ifcsw_queue_mode_str(enum ifcsw_queue_mode m)
{
	static const char *const s[] = {
		[IFCSW_QUEUE_STOPPED] = "stopped",
		[IFCSW_QUEUE_DIRECT] = "direct",
		[IFCSW_QUEUE_SWITCHING] = "switching",
		[IFCSW_QUEUE_RELAY] = "relay",
		[IFCSW_QUEUE_BROKEN] = "broken",
		[IFCSW_QUEUE_HELD] = "held",
	};

	return (unsigned int)m < RTE_DIM(s) ? s[m] : "?";
}

const char *
ifcsw_dev_state_str(enum ifcsw_dev_state st)
{
	static const char *const s[] = {
		[IFCSW_DEV_IDLE] = "idle",
		[IFCSW_DEV_DIRECT] = "direct",
		[IFCSW_DEV_SWITCHING] = "switching",
		[IFCSW_DEV_RELAY] = "relay",
	};

	return (unsigned int)st < RTE_DIM(s) ? s[st] : "?";
}

const char *
ifcsw_relay_policy_str(enum ifcsw_relay_policy p)
{
	static const char *const s[] = {
		[IFCSW_RELAY_AUTO] = "auto",
		[IFCSW_RELAY_ON] = "on",
		[IFCSW_RELAY_OFF] = "off",
	};

	return (unsigned int)p < RTE_DIM(s) ? s[p] : "?";
}

int
ifcsw_relay_policy_set(const char *dev_name, enum ifcsw_relay_policy p)
{
	struct ifcsw_dev *dev = ifcsw_dev_by_name(dev_name);
	int ret = 0;

	if (dev == NULL)
		return -ENODEV;
	if (p > IFCSW_RELAY_OFF)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	dev->policy = p;
	if (ifcsw_dev_wants_relay(dev) && dev->state == IFCSW_DEV_DIRECT)
		ret = ifcsw_relay_start(dev);
	else if (!ifcsw_dev_wants_relay(dev) && dev->state == IFCSW_DEV_RELAY)
		ret = ifcsw_relay_stop(dev, true);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int
ifcsw_relay_mode_set(const char *dev_name, const char *mode)
{
	struct ifcsw_dev *dev = ifcsw_dev_by_name(dev_name);
	enum vrelay_mode m;
	int ret;

	if (dev == NULL)
		return -ENODEV;
	if (vrelay_mode_from_str(mode, &m) < 0)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	ret = ifcsw_relay_set_mode(dev, m);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int
ifcsw_migration_info_get(const char *dev_name,
			 struct ifcsw_migration_info *info)
{
	struct ifcsw_dev *dev = ifcsw_dev_by_name(dev_name);

	if (dev == NULL)
		return -ENODEV;
	memset(info, 0, sizeof(*info));
	pthread_mutex_lock(&dev->lock);
	info->state = dev->state;
	info->policy = dev->policy;
	info->relay_mode = vrelay_mode_to_str(dev->relay_mode);
	info->logging = (dev->features & (1ULL << VHOST_F_LOG_ALL)) != 0;
	info->vid = dev->vid;
	info->nb_queues = dev->nb_vqs;
	info->last_switch_ns = dev->last_switch_ns;
	info->switches = dev->switches;
	info->relay_cpu_ns = dev->engine != NULL ?
		vrelay_engine_cpu_ns(dev->engine) : 0;
	pthread_mutex_unlock(&dev->lock);
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
