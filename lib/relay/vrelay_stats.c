/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * A controlled queue's counters, described once: a table of names and
 * offsets into struct vrelay_vhost_qinfo, read by the telemetry
 * commands, by a driver's rte_vdpa_get_stats() and by applications.
 */

#include <stddef.h>
#include <string.h>

#include <rte_string_fns.h>

#include "vrelay_vhost_private.h"

#define QI(field) offsetof(struct vrelay_vhost_qinfo, field)

static const struct {
	const char *name;
	size_t off;		/* of a uint64_t in struct vrelay_vhost_qinfo */
} counters[] = {
	{ "relay_avail", QI(relay.avail_relayed) },
	{ "relay_used", QI(relay.used_relayed) },
	{ "pages_logged", QI(relay.pages_logged) },
	{ "log_bursts", QI(relay.log_bursts) },
	{ "relay_broken", QI(relay.broken) },
	{ "inflight_logged", QI(relay.inflight_logged) },
	{ "window_log_all", QI(relay.window_log_all) },
	{ "switch_to_relay", QI(sw.to_relay) },
	{ "switch_to_direct", QI(sw.to_direct) },
	{ "switch_last_ns", QI(sw.last_ns) },
	{ "switch_max_ns", QI(sw.max_ns) },
};

#define NB_COUNTERS (sizeof(counters) / sizeof(counters[0]))

unsigned int
vrelay_vhost_counter_count(void)
{
	return NB_COUNTERS;
}

const char *
vrelay_vhost_counter_name(unsigned int i)
{
	return i < NB_COUNTERS ? counters[i].name : NULL;
}

uint64_t
vrelay_vhost_counter_value(const struct vrelay_vhost_qinfo *qi,
			   unsigned int i)
{
	uint64_t v;

	if (i >= NB_COUNTERS)
		return 0;
	memcpy(&v, (const char *)qi + counters[i].off, sizeof(v));
	return v;
}

int
vrelay_vhost_stats_names(struct rte_vdpa_stat_name *names, unsigned int size)
{
	unsigned int i;

	for (i = 0; names != NULL && i < NB_COUNTERS && i < size; i++)
		strlcpy(names[i].name, counters[i].name,
			sizeof(names[i].name));
	return NB_COUNTERS;
}

int
vrelay_vhost_stats(struct vrelay_vhost *v, uint16_t qid,
		   struct rte_vdpa_stat *stats, unsigned int n,
		   uint64_t first_id)
{
	struct vrelay_vhost_qinfo qi;
	unsigned int i;

	if (v == NULL || vrelay_vhost_get_qinfo(v, qid, &qi) < 0)
		return -EINVAL;
	for (i = 0; i < NB_COUNTERS && i < n; i++) {
		stats[i].id = first_id + i;
		stats[i].value = vrelay_vhost_counter_value(&qi, i);
	}
	return i;
}
