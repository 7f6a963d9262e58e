/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The vDPA ops table: how the vhost library drives an ifcvf_sw device.
 *
 * dev_conf maps guest memory into the emulated VF's DMA map (GPA as
 * IOVA); everything else, in every op, is the relay controller's
 * (lib/relay, vdpa_relay_vhost.h): it reads and checks the guest's
 * rings, programs and starts the queues through ifcvf_sw_qctl.c, moves
 * them to the relay while the frontend logs dirty pages, and at
 * dev_close (GET_VRING_BASE) hands vhost the device's own ring indices,
 * so the frontend resumes exactly where the device was.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_config.h>

#include <rte_vhost.h>
#include <vdpa_driver.h>

#include "ifcvf_sw.h"
#include "ifcvf_sw_log.h"

RTE_LOG_REGISTER(ifcsw_logtype, pmd.vdpa.ifcvf_sw, NOTICE);

#ifndef VHOST_USER_F_PROTOCOL_FEATURES
#define VHOST_USER_F_PROTOCOL_FEATURES 30
#endif
#ifndef VHOST_F_LOG_ALL
#define VHOST_F_LOG_ALL 26
#endif

/* vhost-user protocol feature bits (vhost-user specification). */
#define IFCSW_PROTOCOL_F_MQ		0
#define IFCSW_PROTOCOL_F_LOG_SHMFD	1
#define IFCSW_PROTOCOL_F_REPLY_ACK	3
#define IFCSW_PROTOCOL_F_PAGEFAULT	8

#define IFCSW_FEATURES \
	((1ULL << VIRTIO_F_VERSION_1) | \
	 (1ULL << VIRTIO_NET_F_MRG_RXBUF) | \
	 (1ULL << VIRTIO_NET_F_MQ) | \
	 (1ULL << VIRTIO_NET_F_CTRL_VQ) | \
	 (1ULL << VIRTIO_NET_F_STATUS) | \
	 (1ULL << VIRTIO_NET_F_GUEST_ANNOUNCE) | \
	 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
	 (1ULL << VIRTIO_RING_F_EVENT_IDX) | \
	 (1ULL << VHOST_USER_F_PROTOCOL_FEATURES) | \
	 (1ULL << VHOST_F_LOG_ALL))

#define IFCSW_PROTOCOL_FEATURES \
	((1ULL << IFCSW_PROTOCOL_F_MQ) | \
	 (1ULL << IFCSW_PROTOCOL_F_LOG_SHMFD) | \
	 (1ULL << IFCSW_PROTOCOL_F_REPLY_ACK) | \
	 /* Post-copy: vhost masks it unless the socket asked for it. */ \
	 (1ULL << IFCSW_PROTOCOL_F_PAGEFAULT))

struct ifcsw_dev *
ifcsw_dev_from_vdpa(struct rte_vdpa_device *vdpa)
{
	struct ifcsw_dev *dev, *found = NULL;

	pthread_mutex_lock(&ifcsw_devs_lock);
	TAILQ_FOREACH(dev, &ifcsw_devs, next) {
		if (dev->vdpa == vdpa) {
			found = dev;
			break;
		}
	}
	pthread_mutex_unlock(&ifcsw_devs_lock);
	return found;
}

struct ifcsw_dev *
ifcsw_dev_from_vid(int vid)
{
	struct rte_vdpa_device *vdpa = rte_vhost_get_vdpa_device(vid);

	return vdpa == NULL ? NULL : ifcsw_dev_from_vdpa(vdpa);
}

static int
ifcsw_get_queue_num(struct rte_vdpa_device *vdpa, uint32_t *queue_num)
{
	struct ifcsw_dev *dev = ifcsw_dev_from_vdpa(vdpa);

	if (dev == NULL)
		return -ENODEV;
	*queue_num = dev->nb_queue_pairs;
	return 0;
}

static int
ifcsw_get_features(struct rte_vdpa_device *vdpa, uint64_t *features)
{
	struct ifcsw_dev *dev = ifcsw_dev_from_vdpa(vdpa);

	if (dev == NULL)
		return -ENODEV;
	*features = IFCSW_FEATURES;
	/*
	 * Packed rings only on request: the relay cannot mediate them
	 * yet, so such a device migrates only by failing closed.
	 */
	if (dev->packed)
		*features |= 1ULL << VIRTIO_F_RING_PACKED;
	if (!dev->mrg_rxbuf)
		*features &= ~(1ULL << VIRTIO_NET_F_MRG_RXBUF);
	return 0;
}

static int
ifcsw_get_protocol_features(struct rte_vdpa_device *vdpa,
			    uint64_t *features)
{
	*features = IFCSW_PROTOCOL_FEATURES;
	return 0;
}

static int
ifcsw_get_dev_type(struct rte_vdpa_device *vdpa, uint32_t *type)
{
	*type = RTE_VHOST_VDPA_DEVICE_TYPE_NET;
	return 0;
}

/* ---- guest memory ------------------------------------------------ */

/* Map guest memory into the VF's IOVA space, GPA as IOVA. */
static int
dev_map_guest_memory(struct ifcsw_dev *dev)
{
	struct rte_vhost_memory *vmem = NULL;
	uint32_t i;
	int ret;

	if (rte_vhost_get_mem_table(dev->vid, &vmem) < 0 || vmem == NULL)
		return -EINVAL;
	dev->mem_top = 0;
	for (i = 0; i < vmem->nregions; i++) {
		struct rte_vhost_mem_region *r = &vmem->regions[i];

		ret = ifcsw_dma_map(&dev->hw.dma, r->guest_phys_addr, r->size,
				    (void *)(uintptr_t)r->host_user_addr,
				    IFCSW_DMA_READ | IFCSW_DMA_WRITE |
				    IFCSW_DMA_GUEST);
		if (ret < 0) {
			IFCSW_LOG(ERR, "%s: cannot map GPA 0x%" PRIx64
				  " len 0x%" PRIx64 ": %s", dev->name,
				  r->guest_phys_addr, r->size, strerror(-ret));
			ifcsw_dma_unmap_all(&dev->hw.dma);
			free(vmem);
			return ret;
		}
		dev->mem_top = RTE_MAX(dev->mem_top,
				       r->guest_phys_addr + r->size);
	}
	free(vmem);
	return 0;
}

/* ---- ops: the VF's own part, then the relay controller -------------- */

static int
ifcsw_dev_conf(int vid)
{
	struct ifcsw_dev *dev = ifcsw_dev_from_vid(vid);
	int ret;

	if (dev == NULL)
		return -ENODEV;
	pthread_mutex_lock(&dev->lock);
	dev->vid = vid;
	ret = dev_map_guest_memory(dev);
	if (ret < 0)
		goto fail_mem;
	/* Whatever the wire sent while no guest was here is not for this one. */
	ifcsw_hw_rx_flush(&dev->hw);
	ret = vrelay_vhost_dev_conf(dev->ctl, vid);
	if (ret < 0)
		goto fail_ctl;
	pthread_mutex_unlock(&dev->lock);
	return 0;

fail_ctl:
	ifcsw_dma_unmap_all(&dev->hw.dma);
fail_mem:
	IFCSW_LOG(ERR, "%s: dev_conf failed: %s", dev->name, strerror(-ret));
	pthread_mutex_unlock(&dev->lock);
	return -1;
}

static int
ifcsw_dev_close(int vid)
{
	struct ifcsw_dev *dev = ifcsw_dev_from_vid(vid);
	uint16_t qid;

	if (dev == NULL)
		return -ENODEV;
	pthread_mutex_lock(&dev->lock);
	vrelay_vhost_dev_close(dev->ctl);
	ifcsw_hw_rx_flush(&dev->hw);
	ifcsw_dma_unmap_all(&dev->hw.dma);
	for (qid = 0; qid < IFCSW_MAX_QUEUES; qid++) {
		dev->hw.q[qid].regs.size = 0;
		dev->vq[qid].mring_desc_iova = 0;
		dev->vq[qid].mring_avail_iova = 0;
		dev->vq[qid].mring_used_iova = 0;
	}
	IFCSW_LOG(INFO, "%s: closed vid %d", dev->name, vid);
	if (dev->hw.conf.ooo) {
		uint64_t reordered = 0;

		/* The queues are stopped: the counters are still. */
		for (qid = 0; qid < IFCSW_MAX_QUEUES; qid++)
			reordered += dev->hw.q[qid].stats.reordered;
		IFCSW_LOG(INFO, "%s: completion=ooo: %" PRIu64 " used "
			  "descriptors written out of order so far", dev->name,
			  reordered);
	}
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

static int
ifcsw_dev_cleanup(int vid)
{
	struct ifcsw_dev *dev = ifcsw_dev_from_vid(vid);

	if (dev == NULL)
		return -ENODEV;
	pthread_mutex_lock(&dev->lock);
	vrelay_vhost_dev_cleanup(dev->ctl);
	dev->vid = -1;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

static int
ifcsw_set_vring_state(int vid, int vring, int state)
{
	struct ifcsw_dev *dev = ifcsw_dev_from_vid(vid);
	int ret;

	if (dev == NULL || vring < 0 || vring >= 2 * dev->nb_queue_pairs)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	ret = vrelay_vhost_set_vring_state(dev->ctl, vring, state != 0);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

static int
ifcsw_set_features(int vid)
{
	struct ifcsw_dev *dev = ifcsw_dev_from_vid(vid);
	int ret;

	if (dev == NULL)
		return -ENODEV;
	pthread_mutex_lock(&dev->lock);
	/*
	 * vhost ignores what this op returns: a failed switch is reported
	 * to the frontend by the controller's message hook.
	 */
	ret = vrelay_vhost_set_features(dev->ctl);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

static int
ifcsw_migration_done(int vid)
{
	struct ifcsw_dev *dev = ifcsw_dev_from_vid(vid);

	if (dev == NULL)
		return -ENODEV;
	IFCSW_LOG(INFO, "%s: migration done on vid %d", dev->name, vid);
	return 0;
}

static int
ifcsw_get_vfio_fd(int vid)
{
	return -1;	/* no VFIO: the VF is emulated */
}

static int
ifcsw_get_notify_area(int vid, int qid, uint64_t *offset, uint64_t *size)
{
	return -ENOTSUP;	/* doorbells are eventfds, nothing to mmap */
}

struct rte_vdpa_dev_ops ifcsw_vdpa_ops = {
	.get_queue_num = ifcsw_get_queue_num,
	.get_features = ifcsw_get_features,
	.get_protocol_features = ifcsw_get_protocol_features,
	.dev_conf = ifcsw_dev_conf,
	.dev_close = ifcsw_dev_close,
	.dev_cleanup = ifcsw_dev_cleanup,
	.set_vring_state = ifcsw_set_vring_state,
	.set_features = ifcsw_set_features,
	.migration_done = ifcsw_migration_done,
	.get_vfio_group_fd = ifcsw_get_vfio_fd,
	.get_vfio_device_fd = ifcsw_get_vfio_fd,
	.get_notify_area = ifcsw_get_notify_area,
	.get_stats_names = ifcsw_get_stats_names,
	.get_stats = ifcsw_get_stats,
	.reset_stats = ifcsw_reset_stats,
	.get_dev_type = ifcsw_get_dev_type,
};
