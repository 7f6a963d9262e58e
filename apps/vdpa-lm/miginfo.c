/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * What a management layer asks before it migrates a guest to or from a
 * vhost-user socket of vdpa-lm (doc/user-guide.md, "Checking migration
 * compatibility"): the device model and migration version, what the
 * socket offers (virtio features, ring formats, queue pairs, MTU), what
 * the guest connected now negotiated, and whether the relay can log.
 *
 * The socket-level facts come from DPDK's vhost library (what it offers
 * on the socket is the vDPA device's features as vhost masks them); the
 * relay's and the guest's from lib/relay. Served as
 * /vdpa_lm/migration_info,<socket or device> and by the CLI's
 * `migration-info`; tools/vdpa-lm-compat compares two answers.
 */

#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_telemetry.h>
#include <rte_vhost.h>

#include "vdpa_lm.h"
#include "vrelay_dpdk_compat.h"

#ifndef VIRTIO_F_RING_PACKED
#define VIRTIO_F_RING_PACKED 34
#endif
#ifndef VIRTIO_NET_F_MTU
#define VIRTIO_NET_F_MTU 3
#endif
/* The largest MTU virtio-net can carry (virtio 1.1, 5.1.4.1). */
#define LM_VIRTIO_MAX_MTU 65535

/* The application whose ports telemetry describes (set at init). */
static struct vdpa_lm *mig_lm;

/* The guest-visible device of a vDPA device type. */
static const char *
model_of(uint32_t type)
{
	switch (type) {
	case RTE_VHOST_VDPA_DEVICE_TYPE_NET:
		return "virtio-net";
	case RTE_VHOST_VDPA_DEVICE_TYPE_BLK:
		return "virtio-blk";
	default:
		return "unknown";
	}
}

const struct vdpa_lm_port *
lm_port_find(struct vdpa_lm *lm, const char *name)
{
	unsigned int i;

	/* Without a name, the only socket there is. */
	if ((name == NULL || *name == '\0') && lm->nb_ports == 1)
		return lm->ports[0].registered ? &lm->ports[0] : NULL;
	for (i = 0; name != NULL && i < lm->nb_ports; i++) {
		const struct vdpa_lm_port *p = &lm->ports[i];

		if (p->registered && (strcmp(p->socket, name) == 0 ||
				      strcmp(p->device, name) == 0))
			return p;
	}
	return NULL;
}

int
lm_mig_info(const struct vdpa_lm_port *p, struct lm_mig_info *m)
{
	struct vrelay_vhost *v = vrelay_vhost_find(p->device);
	uint32_t type, qnum;
	uint16_t mtu;

	memset(m, 0, sizeof(*m));
	if (v == NULL ||
	    rte_vhost_driver_get_vdpa_dev_type(p->socket, &type) != 0 ||
	    rte_vhost_driver_get_features(p->socket, &m->features) != 0 ||
	    rte_vhost_driver_get_queue_num(p->socket, &qnum) != 0)
		return -ENODEV;
	m->model = model_of(type);
	m->version = VRELAY_MIGRATION_VERSION;
	m->queue_pairs = qnum;
	m->packed = (m->features & (1ULL << VIRTIO_F_RING_PACKED)) != 0;
	/* vhost takes any MTU a frontend sets when the device offers it. */
	m->max_mtu = (m->features & (1ULL << VIRTIO_NET_F_MTU)) != 0 ?
		LM_VIRTIO_MAX_MTU : 0;
	vrelay_vhost_get_mig_info(v, &m->relay);
	if (m->relay.connected) {
		struct vrelay_vhost_info info;

		m->guest_queue_pairs = (m->relay.nb_queues + 1) / 2;
		vrelay_vhost_get_info(v, &info);
		if (info.vid >= 0 && rte_vhost_get_mtu(info.vid, &mtu) == 0)
			m->guest_mtu = mtu;
	}
	return 0;
}

/* ---- telemetry ------------------------------------------------------- */

static void
tel_add_guest(struct rte_tel_data *d, const struct lm_mig_info *m)
{
	struct rte_tel_data *g = rte_tel_data_alloc();

	if (g == NULL)
		return;
	rte_tel_data_start_dict(g);
	rte_tel_data_add_dict_uint(g, "features", m->relay.features);
	rte_tel_data_add_dict_int(g, "queue_pairs", m->guest_queue_pairs);
	rte_tel_data_add_dict_int(g, "mtu", m->guest_mtu);
	rte_tel_data_add_dict_container(d, "guest", g, 0);
}

static void
tel_add_formats(struct rte_tel_data *d, const struct lm_mig_info *m)
{
	struct rte_tel_data *f = rte_tel_data_alloc();

	if (f == NULL)
		return;
	rte_tel_data_start_array(f, RTE_TEL_STRING_VAL);
	rte_tel_data_add_array_string(f, "split");
	if (m->packed)
		rte_tel_data_add_array_string(f, "packed");
	rte_tel_data_add_dict_container(d, "ring_formats", f, 0);
}

/*
 * The description schema (doc/user-guide.md): the same keys a saved
 * description file has.
 */
static int
tel_migration_info(const char *cmd, const char *params,
		   struct rte_tel_data *d)
{
	const struct vdpa_lm_port *p = lm_port_find(mig_lm, params);
	struct lm_mig_info m;

	RTE_SET_USED(cmd);
	if (p == NULL || lm_mig_info(p, &m) < 0)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "socket", p->socket);
	rte_tel_data_add_dict_string(d, "device", p->device);
	rte_tel_data_add_dict_string(d, "model", m.model);
	rte_tel_data_add_dict_int(d, "migration_version", m.version);
	rte_tel_data_add_dict_uint(d, "features", m.features);
	tel_add_formats(d, &m);
	rte_tel_data_add_dict_int(d, "queue_pairs", m.queue_pairs);
	rte_tel_data_add_dict_int(d, "max_mtu", m.max_mtu);
	rte_tel_data_add_dict_int(d, "can_log", m.relay.can_log);
	if (!m.relay.can_log)
		rte_tel_data_add_dict_string(d, "cannot_log_why",
					     m.relay.cannot_log_why);
	if (m.relay.connected)
		tel_add_guest(d, &m);
	return 0;
}

void
vdpa_lm_miginfo_init(struct vdpa_lm *lm)
{
	/*
	 * The telemetry thread walks lm->ports without a lock: slots are
	 * never freed or moved, and a slot counts once `registered` is set.
	 */
	mig_lm = lm;
	/* DPDK refuses help texts of RTE_TEL_MAX_STRING_LEN or more. */
	if (rte_telemetry_register_cmd("/vdpa_lm/migration_info",
			tel_migration_info, "Migration compatibility facts. "
			"Parameters: socket path or device name") < 0)
		LM_LOG(WARNING, "cannot register /vdpa_lm/migration_info");
}
