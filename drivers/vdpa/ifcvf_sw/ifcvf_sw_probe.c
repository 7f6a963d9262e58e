/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Probe and remove of ifcvf_sw vdevs: devargs, the emulated VF, its wire
 * port, vDPA registration, and (with socket=) the vhost-user socket, so
 * that `dpdk-testpmd -d librte_vdpa_ifcvf_sw.so --vdev ifcvf_sw0,socket=P`
 * serves a guest with no other program involved.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_kvargs.h>
#include <rte_mbuf.h>
#include <rte_vhost.h>
#include <bus_vdev_driver.h>
#include <vdpa_driver.h>

#include "ifcvf_sw.h"
#include "ifcvf_sw_api.h"
#include "ifcvf_sw_log.h"

#define IFCSW_ARG_QUEUES	"queues"
#define IFCSW_ARG_SOCKET	"socket"
#define IFCSW_ARG_CLIENT	"client"
#define IFCSW_ARG_LOOPBACK	"loopback"
#define IFCSW_ARG_RELAY		"relay"
#define IFCSW_ARG_RELAY_MODE	"relay_mode"
#define IFCSW_ARG_RELAY_CPU	"relay_cpu"
#define IFCSW_ARG_HW_CPU	"hw_cpu"
#define IFCSW_ARG_POLLING	"polling"
#define IFCSW_ARG_POLL_US	"poll_us"
#define IFCSW_ARG_MBUFS		"mbufs"
#define IFCSW_ARG_QCTL		"queue_control"
#define IFCSW_ARG_PACKED	"packed"
#define IFCSW_ARG_COMPLETION	"completion"
#define IFCSW_ARG_MRG_RXBUF	"mrg_rxbuf"

static const char *const ifcsw_valid_args[] = {
	IFCSW_ARG_QUEUES,
	IFCSW_ARG_SOCKET,
	IFCSW_ARG_CLIENT,
	IFCSW_ARG_LOOPBACK,
	IFCSW_ARG_RELAY,
	IFCSW_ARG_RELAY_MODE,
	IFCSW_ARG_RELAY_CPU,
	IFCSW_ARG_HW_CPU,
	IFCSW_ARG_POLLING,
	IFCSW_ARG_POLL_US,
	IFCSW_ARG_MBUFS,
	IFCSW_ARG_QCTL,
	IFCSW_ARG_PACKED,
	IFCSW_ARG_COMPLETION,
	IFCSW_ARG_MRG_RXBUF,
	NULL,
};

struct ifcsw_dev_list ifcsw_devs = TAILQ_HEAD_INITIALIZER(ifcsw_devs);
pthread_mutex_t ifcsw_devs_lock = PTHREAD_MUTEX_INITIALIZER;

struct ifcsw_args {
	uint16_t queues;
	const char *socket;
	bool client;
	bool loopback;
	enum vrelay_policy policy;
	enum vrelay_mode mode;
	int relay_cpu;
	int hw_cpu;
	bool polling;
	uint32_t poll_us;
	uint32_t mbufs;
	enum ifcsw_qctl_kind qctl;
	bool packed;
	bool ooo;
	bool mrg_rxbuf;
};

/* ---- devargs ------------------------------------------------------- */

static int
parse_uint(const char *key, const char *value, void *out, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(value, &end, 0);
	if (errno != 0 || *value == '\0' || *end != '\0' || v > max) {
		IFCSW_LOG(ERR, "devarg %s=%s: expected an integer up to %lu",
			  key, value, max);
		return -EINVAL;
	}
	*(unsigned long *)out = v;
	return 0;
}

static int
arg_u16(const char *key, const char *value, void *opaque)
{
	unsigned long v;
	int ret = parse_uint(key, value, &v, UINT16_MAX);

	if (ret == 0)
		*(uint16_t *)opaque = v;
	return ret;
}

static int
arg_u32(const char *key, const char *value, void *opaque)
{
	unsigned long v;
	int ret = parse_uint(key, value, &v, UINT32_MAX);

	if (ret == 0)
		*(uint32_t *)opaque = v;
	return ret;
}

static int
arg_cpu(const char *key, const char *value, void *opaque)
{
	unsigned long v;
	int ret = parse_uint(key, value, &v, CPU_SETSIZE - 1);

	if (ret == 0)
		*(int *)opaque = v;
	return ret;
}

static int
arg_bool(const char *key, const char *value, void *opaque)
{
	if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0) {
		IFCSW_LOG(ERR, "devarg %s=%s: expected 0 or 1", key, value);
		return -EINVAL;
	}
	*(bool *)opaque = value[0] == '1';
	return 0;
}

static int
arg_string(const char *key, const char *value, void *opaque)
{
	if (*value == '\0') {
		IFCSW_LOG(ERR, "devarg %s: empty value", key);
		return -EINVAL;
	}
	*(const char **)opaque = value;
	return 0;
}

static int
arg_policy(const char *key, const char *value, void *opaque)
{
	enum vrelay_policy p;

	if (vrelay_policy_from_str(value, &p) < 0) {
		IFCSW_LOG(ERR, "devarg %s=%s: expected auto, on or off",
			  key, value);
		return -EINVAL;
	}
	*(enum vrelay_policy *)opaque = p;
	return 0;
}

static int
arg_mode(const char *key, const char *value, void *opaque)
{
	if (vrelay_mode_from_str(value, opaque) < 0) {
		IFCSW_LOG(ERR, "devarg %s=%s: expected epoll, poll or auto",
			  key, value);
		return -EINVAL;
	}
	return 0;
}

/* queue: queues stop one by one; device: all together, as IFCVF does. */
static int
arg_qctl(const char *key, const char *value, void *opaque)
{
	if (strcmp(value, "queue") == 0) {
		*(enum ifcsw_qctl_kind *)opaque = IFCSW_QCTL_QUEUE;
	} else if (strcmp(value, "device") == 0) {
		*(enum ifcsw_qctl_kind *)opaque = IFCSW_QCTL_DEVICE;
	} else {
		IFCSW_LOG(ERR, "devarg %s=%s: expected queue or device", key,
			  value);
		return -EINVAL;
	}
	return 0;
}

/* inorder: buffers complete as made available; ooo: packed, reordered. */
static int
arg_completion(const char *key, const char *value, void *opaque)
{
	if (strcmp(value, "inorder") == 0) {
		*(bool *)opaque = false;
	} else if (strcmp(value, "ooo") == 0) {
		*(bool *)opaque = true;
	} else {
		IFCSW_LOG(ERR, "devarg %s=%s: expected inorder or ooo", key,
			  value);
		return -EINVAL;
	}
	return 0;
}

static int
parse_devargs(struct rte_vdev_device *vdev, struct rte_kvargs **kvlist,
	      struct ifcsw_args *a)
{
	const char *params = rte_vdev_device_args(vdev);
	struct {
		const char *key;
		arg_handler_t fn;
		void *out;
	} table[] = {
		{ IFCSW_ARG_QUEUES, arg_u16, &a->queues },
		{ IFCSW_ARG_SOCKET, arg_string, &a->socket },
		{ IFCSW_ARG_CLIENT, arg_bool, &a->client },
		{ IFCSW_ARG_LOOPBACK, arg_bool, &a->loopback },
		{ IFCSW_ARG_RELAY, arg_policy, &a->policy },
		{ IFCSW_ARG_RELAY_MODE, arg_mode, &a->mode },
		{ IFCSW_ARG_RELAY_CPU, arg_cpu, &a->relay_cpu },
		{ IFCSW_ARG_HW_CPU, arg_cpu, &a->hw_cpu },
		{ IFCSW_ARG_POLLING, arg_bool, &a->polling },
		{ IFCSW_ARG_POLL_US, arg_u32, &a->poll_us },
		{ IFCSW_ARG_MBUFS, arg_u32, &a->mbufs },
		{ IFCSW_ARG_QCTL, arg_qctl, &a->qctl },
		{ IFCSW_ARG_PACKED, arg_bool, &a->packed },
		{ IFCSW_ARG_COMPLETION, arg_completion, &a->ooo },
		{ IFCSW_ARG_MRG_RXBUF, arg_bool, &a->mrg_rxbuf },
	};
	unsigned int i;

	*a = (struct ifcsw_args){
		.queues = 1, .policy = VRELAY_POLICY_AUTO,
		.mode = VRELAY_MODE_ADAPTIVE, .relay_cpu = -1, .hw_cpu = -1,
		.poll_us = IFCSW_POLL_US_DEFAULT, .mbufs = 8192,
		.qctl = IFCSW_QCTL_QUEUE, .mrg_rxbuf = true,
	};
	*kvlist = NULL;
	if (params == NULL || *params == '\0')
		return 0;
	*kvlist = rte_kvargs_parse(params, ifcsw_valid_args);
	if (*kvlist == NULL) {
		IFCSW_LOG(ERR, "%s: invalid devargs '%s'; valid keys: queues, "
			  "socket, client, loopback, relay, relay_mode, "
			  "relay_cpu, hw_cpu, polling, poll_us, mbufs, "
			  "queue_control, packed, completion, mrg_rxbuf",
			  rte_vdev_device_name(vdev), params);
		return -EINVAL;
	}
	for (i = 0; i < RTE_DIM(table); i++) {
		if (rte_kvargs_count(*kvlist, table[i].key) > 1) {
			IFCSW_LOG(ERR, "devarg %s given twice", table[i].key);
			return -EINVAL;
		}
		if (rte_kvargs_process(*kvlist, table[i].key, table[i].fn,
				       table[i].out) < 0)
			return -EINVAL;
	}
	if (a->queues < 1 || a->queues > IFCSW_MAX_QUEUE_PAIRS) {
		IFCSW_LOG(ERR, "devarg queues=%u: expected 1..%u", a->queues,
			  IFCSW_MAX_QUEUE_PAIRS);
		return -EINVAL;
	}
	/* Split queues complete in order: without packed it would be moot. */
	if (a->ooo && !a->packed) {
		IFCSW_LOG(ERR, "devarg completion=ooo: packed rings only "
			  "(give packed=1); split queues complete in order");
		return -EINVAL;
	}
	if (a->poll_us > IFCSW_POLL_US_MAX) {
		IFCSW_LOG(ERR, "devarg poll_us=%u: expected 0..%u", a->poll_us,
			  IFCSW_POLL_US_MAX);
		return -EINVAL;
	}
	if (a->mbufs < 512) {
		IFCSW_LOG(ERR, "devarg mbufs=%u: expected at least 512",
			  a->mbufs);
		return -EINVAL;
	}
	return 0;
}

/* ---- vhost-user socket (socket= devarg) ----------------------------- */

static int
vhost_new_device(int vid)
{
	return 0;	/* the vDPA ops do the work */
}

static void
vhost_destroy_device(int vid)
{
}

static const struct rte_vhost_device_ops ifcsw_socket_ops = {
	.new_device = vhost_new_device,
	.destroy_device = vhost_destroy_device,
};

static int
socket_start(struct ifcsw_dev *dev)
{
	uint64_t flags = dev->socket_client ? RTE_VHOST_USER_CLIENT : 0;
	const char *path = dev->socket_path;

	if (rte_vhost_driver_register(path, flags) < 0)
		goto fail_register;
	if (rte_vhost_driver_attach_vdpa_device(path, dev->vdpa) < 0 ||
	    rte_vhost_driver_callback_register(path, &ifcsw_socket_ops) < 0 ||
	    rte_vhost_driver_start(path) < 0)
		goto fail_start;
	dev->socket_registered = true;
	return 0;

fail_start:
	rte_vhost_driver_unregister(path);
fail_register:
	IFCSW_LOG(ERR, "%s: cannot serve vhost-user socket %s", dev->name,
		  path);
	return -EIO;
}

/* ---- wire port ------------------------------------------------------- */

static int
wire_port_create(struct ifcsw_dev *dev)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	int port;

	snprintf(name, sizeof(name), "%.48s_wire", dev->name);
	port = rte_eth_from_rings(name, dev->hw.to_wire, dev->nb_queue_pairs,
				  dev->hw.from_wire, dev->nb_queue_pairs,
				  rte_socket_id());
	if (port < 0) {
		IFCSW_LOG(ERR, "%s: cannot create wire port: %s", dev->name,
			  rte_strerror(rte_errno));
		return -EIO;
	}
	dev->wire_port = port;
	dev->has_wire_port = true;
	return 0;
}

/*
 * Close the wire port but leave its net_ring vdev to the vdev bus: we may
 * be called from the EAL's cleanup loop over the vdev list, where
 * removing the next entry (our ring vdev) under its feet is a
 * use-after-free. The closed port's vdev goes away with that loop.
 */
static void
wire_port_destroy(struct ifcsw_dev *dev)
{
	if (!dev->has_wire_port)
		return;
	rte_eth_dev_stop(dev->wire_port);
	rte_eth_dev_close(dev->wire_port);
	dev->has_wire_port = false;
}

/* ---- probe / remove -------------------------------------------------- */

static int
dev_init_hw(struct ifcsw_dev *dev, const struct ifcsw_args *a)
{
	struct ifcsw_hw_conf conf = {
		.name = dev->name,
		.nb_queue_pairs = a->queues,
		.polling = a->polling,
		.poll_us = a->poll_us,
		.loopback = a->loopback,
		.cpu = a->hw_cpu,
		.mp = dev->mp,
		.qctl = a->qctl,
		.ooo = a->ooo,
	};

	return ifcsw_hw_init(&dev->hw, &conf);
}

/* The relay controller that makes this VF migratable. */
static int
dev_init_ctl(struct ifcsw_dev *dev, const struct ifcsw_args *a)
{
	struct vrelay_vhost_conf conf = {
		.name = dev->name,
		.max_queues = 2 * a->queues,
		.ops = &ifcsw_vhost_ops,
		.ctx = dev,
		.policy = a->policy,
		.mode = a->mode,
		.relay_cpu = a->relay_cpu,
	};

	dev->ctl = vrelay_vhost_create(&conf);
	return dev->ctl == NULL ? -errno : 0;
}

static int
ifcsw_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct rte_kvargs *kvlist;
	struct ifcsw_args a;
	struct ifcsw_dev *dev;
	char mp_name[RTE_MEMPOOL_NAMESIZE];
	int ret;

	ret = parse_devargs(vdev, &kvlist, &a);
	if (ret < 0)
		goto fail_args;

	dev = calloc(1, sizeof(*dev));
	if (dev == NULL) {
		ret = -ENOMEM;
		goto fail_args;
	}
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->vdev = vdev;
	dev->vid = -1;
	dev->nb_queue_pairs = a.queues;
	dev->socket_client = a.client;
	dev->packed = a.packed;
	dev->mrg_rxbuf = a.mrg_rxbuf;
	if (a.socket != NULL)
		snprintf(dev->socket_path, sizeof(dev->socket_path), "%s",
			 a.socket);
	pthread_mutex_init(&dev->lock, NULL);

	snprintf(mp_name, sizeof(mp_name), "mp_%.20s", name);
	dev->mp = rte_pktmbuf_pool_create(mp_name, a.mbufs, 256, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE,
					  rte_socket_id());
	if (dev->mp == NULL) {
		ret = -ENOMEM;
		IFCSW_LOG(ERR, "%s: cannot create a pool of %u mbufs", name,
			  a.mbufs);
		goto fail_mp;
	}
	ret = dev_init_hw(dev, &a);
	if (ret < 0)
		goto fail_hw;
	ret = dev_init_ctl(dev, &a);
	if (ret < 0)
		goto fail_ctl;
	if (!a.loopback) {
		ret = wire_port_create(dev);
		if (ret < 0)
			goto fail_wire;
	}
	dev->vdpa = rte_vdpa_register_device(&vdev->device, &ifcsw_vdpa_ops);
	if (dev->vdpa == NULL) {
		ret = -EIO;
		IFCSW_LOG(ERR, "%s: vDPA registration failed", name);
		goto fail_vdpa;
	}
	pthread_mutex_lock(&ifcsw_devs_lock);
	TAILQ_INSERT_TAIL(&ifcsw_devs, dev, next);
	pthread_mutex_unlock(&ifcsw_devs_lock);

	if (dev->socket_path[0] != '\0') {
		ret = socket_start(dev);
		if (ret < 0)
			goto fail_socket;
	}
	rte_kvargs_free(kvlist);
	IFCSW_LOG(INFO, "%s: %u queue pairs, %s, relay %s/%s, %s control%s%s%s",
		  name, a.queues, a.loopback ? "loopback" : "wire port",
		  vrelay_policy_to_str(a.policy), vrelay_mode_to_str(a.mode),
		  a.qctl == IFCSW_QCTL_DEVICE ? "whole-device" : "per-queue",
		  a.packed ? ", packed rings offered (direct I/O only)" : "",
		  a.ooo ? ", packed queues complete out of order "
		  "(split ones in order)" : "",
		  a.mrg_rxbuf ? "" : ", no mergeable rx buffers offered");
	return 0;

fail_socket:
	pthread_mutex_lock(&ifcsw_devs_lock);
	TAILQ_REMOVE(&ifcsw_devs, dev, next);
	pthread_mutex_unlock(&ifcsw_devs_lock);
	rte_vdpa_unregister_device(dev->vdpa);
fail_vdpa:
	wire_port_destroy(dev);
fail_wire:
	vrelay_vhost_destroy(dev->ctl);
fail_ctl:
	ifcsw_hw_fini(&dev->hw);
fail_hw:
	rte_mempool_free(dev->mp);
fail_mp:
	pthread_mutex_destroy(&dev->lock);
	free(dev);
fail_args:
	rte_kvargs_free(kvlist);
	IFCSW_LOG(ERR, "%s: probe failed: %s", name, strerror(-ret));
	return ret;
}

static int
ifcsw_remove(struct rte_vdev_device *vdev)
{
	struct ifcsw_dev *dev = ifcsw_dev_by_name(rte_vdev_device_name(vdev));

	if (dev == NULL)
		return -ENODEV;
	if (dev->socket_registered)
		rte_vhost_driver_unregister(dev->socket_path);
	pthread_mutex_lock(&ifcsw_devs_lock);
	TAILQ_REMOVE(&ifcsw_devs, dev, next);
	pthread_mutex_unlock(&ifcsw_devs_lock);

	rte_vdpa_unregister_device(dev->vdpa);
	wire_port_destroy(dev);
	/* Stops relayed queues where they are, and drops the engines. */
	vrelay_vhost_destroy(dev->ctl);
	ifcsw_hw_fini(&dev->hw);
	rte_mempool_free(dev->mp);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
	return 0;
}

static struct rte_vdev_driver ifcsw_vdev_driver = {
	.probe = ifcsw_probe,
	.remove = ifcsw_remove,
};

RTE_PMD_REGISTER_VDEV(ifcvf_sw, ifcsw_vdev_driver);
RTE_PMD_REGISTER_PARAM_STRING(ifcvf_sw,
	IFCSW_ARG_QUEUES "=<1-16> "
	IFCSW_ARG_SOCKET "=<path> "
	IFCSW_ARG_CLIENT "=<0|1> "
	IFCSW_ARG_LOOPBACK "=<0|1> "
	IFCSW_ARG_RELAY "=<auto|on|off> "
	IFCSW_ARG_RELAY_MODE "=<epoll|poll|auto> "
	IFCSW_ARG_RELAY_CPU "=<cpu> "
	IFCSW_ARG_HW_CPU "=<cpu> "
	IFCSW_ARG_POLLING "=<0|1> "
	IFCSW_ARG_POLL_US "=<0-" RTE_STR(IFCSW_POLL_US_MAX) "> "
	IFCSW_ARG_MBUFS "=<n> "
	IFCSW_ARG_QCTL "=<queue|device> "
	IFCSW_ARG_PACKED "=<0|1> "
	IFCSW_ARG_COMPLETION "=<inorder|ooo> "
	IFCSW_ARG_MRG_RXBUF "=<0|1>");
