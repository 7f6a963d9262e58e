/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The vDPA ops table: how the vhost library drives an ifcvf_sw device.
 *
 * dev_conf programs the emulated VF from the vhost state (memory table
 * into the DMA map, GPA as IOVA; guest rings, kick and call fds into the
 * queue registers) and starts it in direct I/O. set_features watches
 * VHOST_F_LOG_ALL and moves the queues to the relay and back. dev_close
 * (GET_VRING_BASE) stops the device and hands vhost the device's own
 * ring indices, so the frontend resumes exactly where the device was.
 */

#include <errno.h>
#include <stdio.h>
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

/* vhost-user protocol feature bits (vhost-user specification). */
#define IFCSW_PROTOCOL_F_MQ		0
#define IFCSW_PROTOCOL_F_LOG_SHMFD	1
#define IFCSW_PROTOCOL_F_REPLY_ACK	3

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
	 (1ULL << IFCSW_PROTOCOL_F_REPLY_ACK))

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
	*features = IFCSW_FEATURES;
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

/*
 * GPA of [p, p + len), which must lie whole in one region: the device
 * reaches a ring through a single DMA mapping (one region each).
 */
static int
hva_range_to_gpa(const struct vrelay_mem *mem, const void *p, uint64_t len,
		 uint64_t *gpa)
{
	uint64_t hva = (uintptr_t)p;
	uint32_t i;

	for (i = 0; i < mem->nregions; i++) {
		const struct vrelay_mem_region *r = &mem->regions[i];

		if (hva >= r->hva && hva - r->hva < r->size &&
		    len <= r->size - (hva - r->hva)) {
			*gpa = r->gpa + (hva - r->hva);
			return 0;
		}
	}
	return -EFAULT;
}

/* Map guest memory into the VF's IOVA space, GPA as IOVA. */
static int
dev_map_guest_memory(struct ifcsw_dev *dev, struct vrelay_mem *mem)
{
	struct rte_vhost_memory *vmem = NULL;
	uint32_t i;
	int ret;

	if (rte_vhost_get_mem_table(dev->vid, &vmem) < 0 || vmem == NULL)
		return -EINVAL;
	if (vmem->nregions > VRELAY_MAX_MEM_REGIONS) {
		free(vmem);
		return -E2BIG;
	}
	memset(mem, 0, sizeof(*mem));
	dev->mem_top = 0;
	for (i = 0; i < vmem->nregions; i++) {
		struct rte_vhost_mem_region *r = &vmem->regions[i];

		ret = ifcsw_dma_map(&dev->hw.dma, r->guest_phys_addr, r->size,
				    (void *)(uintptr_t)r->host_user_addr,
				    IFCSW_DMA_READ | IFCSW_DMA_WRITE);
		if (ret < 0) {
			IFCSW_LOG(ERR, "%s: cannot map GPA 0x%" PRIx64
				  " len 0x%" PRIx64 ": %s", dev->name,
				  r->guest_phys_addr, r->size, strerror(-ret));
			ifcsw_dma_unmap_all(&dev->hw.dma);
			free(vmem);
			return ret;
		}
		mem->regions[i].gpa = r->guest_phys_addr;
		mem->regions[i].size = r->size;
		mem->regions[i].hva = r->host_user_addr;
		dev->mem_top = RTE_MAX(dev->mem_top,
				       r->guest_phys_addr + r->size);
	}
	mem->nregions = vmem->nregions;
	free(vmem);
	return 0;
}

/* ---- queues ------------------------------------------------------- */

static uint32_t
hwq_features(uint64_t features)
{
	uint32_t f = 0;

	if (features & (1ULL << VIRTIO_NET_F_MRG_RXBUF))
		f |= IFCSW_HWQ_F_MRG_RXBUF;
	if (features & (1ULL << VIRTIO_RING_F_EVENT_IDX))
		f |= IFCSW_HWQ_F_EVENT_IDX;
	if (features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC))
		f |= IFCSW_HWQ_F_INDIRECT;
	if (features & ((1ULL << VIRTIO_NET_F_MRG_RXBUF) |
			(1ULL << VIRTIO_F_VERSION_1)))
		f |= IFCSW_HWQ_F_HDR_MRG;
	return f;
}

/*
 * Read the guest's rings for a queue from vhost and check their whole
 * extent with the current size and features. vhost checked each ring
 * only for the size it had when it translated the addresses: a later
 * SET_VRING_NUM, or EVENT_IDX (a word after the avail and used rings),
 * may have grown it past guest memory, and neither direct I/O nor the
 * relay may start a queue whose rings do not fit.
 */
static int
vq_load_vring(struct ifcsw_dev *dev, uint16_t qid, struct vrelay_mem *mem)
{
	struct ifcsw_vq *vq = &dev->vq[qid];
	bool ev = (dev->features & (1ULL << VIRTIO_RING_F_EVENT_IDX)) != 0;
	const char *bad = NULL;
	uint16_t size;
	int ret;

	ret = rte_vhost_get_vhost_vring(dev->vid, qid, &vq->vring);
	if (ret < 0 || vq->vring.desc == NULL)
		return -EINVAL;
	size = vq->vring.size;
	if (!vrelay_split_size_valid(size)) {
		IFCSW_LOG(ERR, "%s: queue %u ring size %u is not a power of "
			  "two in 1..%u", dev->name, qid, size,
			  VRELAY_MAX_RING_SIZE);
		return -EINVAL;
	}
	if (hva_range_to_gpa(mem, vq->vring.desc, vrelay_split_desc_len(size),
			     &vq->desc_gpa) < 0)
		bad = "descriptor table";
	else if (hva_range_to_gpa(mem, vq->vring.avail,
				  vrelay_split_avail_len(size, ev),
				  &vq->avail_gpa) < 0)
		bad = "avail ring";
	else if (hva_range_to_gpa(mem, vq->vring.used,
				  vrelay_split_used_len(size, ev),
				  &vq->used_gpa) < 0)
		bad = "used ring";
	if (bad != NULL) {
		IFCSW_LOG(ERR, "%s: queue %u %s outside guest memory (size %u%s)",
			  dev->name, qid, bad, size,
			  ev ? ", with event index" : "");
		return -EFAULT;
	}
	if (!vrelay_split_rings_aligned((uintptr_t)vq->vring.desc,
					(uintptr_t)vq->vring.avail,
					(uintptr_t)vq->vring.used) ||
	    !vrelay_split_rings_aligned(vq->desc_gpa, vq->avail_gpa,
					vq->used_gpa)) {
		IFCSW_LOG(ERR, "%s: queue %u rings not aligned as virtio "
			  "requires", dev->name, qid);
		return -EINVAL;
	}
	vq->log_guest_addr = vq->vring.log_guest_addr;
	return 0;
}

int
ifcsw_queue_program_direct(struct ifcsw_dev *dev, uint16_t qid)
{
	struct ifcsw_vq *vq = &dev->vq[qid];
	struct ifcsw_hwq_regs *regs = &dev->hw.q[qid].regs;

	if (vq->vring.kickfd < 0) {
		IFCSW_LOG(ERR, "%s: queue %u has no kick fd", dev->name, qid);
		return -EINVAL;
	}
	regs->desc_iova = vq->desc_gpa;
	regs->avail_iova = vq->avail_gpa;
	regs->used_iova = vq->used_gpa;
	regs->size = vq->vring.size;
	regs->features = hwq_features(dev->features);
	regs->doorbell_fd = vq->vring.kickfd;
	regs->irq_fd = vq->vring.callfd >= 0 ? vq->vring.callfd : -1;
	return 0;
}

/* Start one enabled queue in direct I/O at the given indices. */
static int
vq_start_direct(struct ifcsw_dev *dev, uint16_t qid, uint16_t last_avail,
		uint16_t last_used, bool run)
{
	struct ifcsw_hwq_regs *regs = &dev->hw.q[qid].regs;
	int ret;

	ret = ifcsw_queue_program_direct(dev, qid);
	if (ret < 0)
		return ret;
	regs->last_avail_idx = last_avail;
	regs->last_used_idx = last_used;
	/* Not run yet: no in-flight window. */
	dev->vq[qid].used_idx_at_log_on = last_used;
	/*
	 * Programmed for direct I/O but left stopped: the relay switch that
	 * follows resumes it on the mediated rings, so the device makes no
	 * unlogged write while the frontend is logging.
	 */
	ret = ifcsw_vq_set_mode(dev, qid, IFCSW_QUEUE_DIRECT);
	if (ret < 0 || !run)
		return ret;
	ret = ifcsw_vq_run(dev, qid);
	if (ret < 0) {
		ifcsw_vq_set_mode(dev, qid, IFCSW_QUEUE_BROKEN);
		return ret;
	}
	return 0;
}

/* Start a queue at vhost's indices; run=false: see vq_start_direct(). */
static int
vq_start(struct ifcsw_dev *dev, uint16_t qid, bool run)
{
	uint16_t last_avail, last_used;
	int ret;

	ret = rte_vhost_get_vring_base(dev->vid, qid, &last_avail,
				       &last_used);
	if (ret < 0)
		return -EINVAL;
	return vq_start_direct(dev, qid, last_avail, last_used, run);
}

/*
 * Stop one queue wherever it runs (relayed, direct, held or broken) and
 * hand vhost the device's exact indices, which GET_VRING_BASE then
 * returns to the frontend.
 */
static void
vq_stop(struct ifcsw_dev *dev, uint16_t qid)
{
	struct ifcsw_vq *vq = &dev->vq[qid];
	uint16_t last_avail, last_used;

	if (vq->mode == IFCSW_QUEUE_STOPPED)
		return;
	if (vq->relay != NULL)
		ifcsw_relay_queue_stop(dev, qid, false, &last_avail,
				       &last_used);
	else
		ifcsw_hw_queue_stop(&dev->hw, qid, &last_avail, &last_used);
	if (dev->hw.q[qid].state == IFCSW_HWQ_FAULT)
		ifcsw_hw_queue_reset(&dev->hw, qid);
	rte_vhost_set_vring_base(dev->vid, qid, last_avail, last_used);
	ifcsw_vq_set_mode(dev, qid, IFCSW_QUEUE_STOPPED);
}

bool
ifcsw_dev_wants_relay(const struct ifcsw_dev *dev)
{
	switch (dev->policy) {
	case IFCSW_RELAY_ON:
		return true;
	case IFCSW_RELAY_OFF:
		return false;
	case IFCSW_RELAY_AUTO:
	default:
		return (dev->features & (1ULL << VHOST_F_LOG_ALL)) != 0;
	}
}

/* ---- ops ------------------------------------------------------- */

static int
ifcsw_dev_conf(int vid)
{
	struct ifcsw_dev *dev = ifcsw_dev_from_vid(vid);
	struct vrelay_mem mem;
	uint16_t qid;
	int ret;

	if (dev == NULL)
		return -ENODEV;
	pthread_mutex_lock(&dev->lock);
	dev->vid = vid;
	rte_vhost_get_negotiated_features(vid, &dev->features);
	dev->nb_vqs = RTE_MIN(rte_vhost_get_vring_num(vid),
			      2 * dev->nb_queue_pairs);

	ret = dev_map_guest_memory(dev, &mem);
	if (ret < 0)
		goto fail_mem;
	ret = ifcsw_relay_dev_setup(dev, &mem);
	if (ret < 0)
		goto fail_relay;
	/* Whatever the wire sent while no guest was here is not for this one. */
	ifcsw_hw_rx_flush(&dev->hw);

	for (qid = 0; qid < dev->nb_vqs; qid++) {
		ret = vq_load_vring(dev, qid, &mem);
		if (ret < 0) {
			/* Not set up by the frontend: leave it stopped. */
			dev->vq[qid].enabled = false;
			continue;
		}
		if (dev->vq[qid].enabled &&
		    vq_start(dev, qid, !ifcsw_dev_wants_relay(dev)) < 0)
			IFCSW_LOG(ERR, "%s: queue %u failed to start",
				  dev->name, qid);
	}
	dev->state = IFCSW_DEV_DIRECT;
	ifcsw_relay_register_msg_hooks(dev);
	/*
	 * A queue that cannot be relayed is held stopped; vhost runs this
	 * after the message's reply, so the next message reports it.
	 */
	if (ifcsw_dev_wants_relay(dev))
		ifcsw_relay_start(dev);
	IFCSW_LOG(INFO, "%s: configured vid %d, %u vrings, features 0x%"
		  PRIx64, dev->name, vid, dev->nb_vqs, dev->features);
	pthread_mutex_unlock(&dev->lock);
	return 0;

fail_relay:
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
	for (qid = 0; qid < dev->nb_vqs; qid++)
		vq_stop(dev, qid);
	ifcsw_hw_rx_flush(&dev->hw);
	ifcsw_relay_dev_teardown(dev);
	ifcsw_dma_unmap_all(&dev->hw.dma);
	for (qid = 0; qid < IFCSW_MAX_QUEUES; qid++)
		dev->hw.q[qid].regs.size = 0;
	dev->state = IFCSW_DEV_IDLE;
	IFCSW_LOG(INFO, "%s: closed vid %d", dev->name, vid);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

static int
ifcsw_dev_cleanup(int vid)
{
	struct ifcsw_dev *dev = ifcsw_dev_from_vid(vid);
	uint16_t qid;

	if (dev == NULL)
		return -ENODEV;
	pthread_mutex_lock(&dev->lock);
	dev->vid = -1;
	dev->features = 0;
	for (qid = 0; qid < IFCSW_MAX_QUEUES; qid++)
		dev->vq[qid].enabled = false;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

static int
ifcsw_set_vring_state(int vid, int vring, int state)
{
	struct ifcsw_dev *dev = ifcsw_dev_from_vid(vid);
	struct ifcsw_vq *vq;
	struct vrelay_mem *mem;
	int ret = 0;

	if (dev == NULL || vring < 0 || vring >= 2 * dev->nb_queue_pairs)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	vq = &dev->vq[vring];
	vq->enabled = state != 0;
	if (dev->state == IFCSW_DEV_IDLE)
		goto out;	/* applied at dev_conf */

	if (!vq->enabled) {
		vq_stop(dev, vring);
		goto out;
	}
	if (vq->mode != IFCSW_QUEUE_STOPPED)
		goto out;
	mem = ifcsw_relay_dev_mem(dev);
	if ((uint16_t)vring >= dev->nb_vqs)
		dev->nb_vqs = vring + 1;
	ret = vq_load_vring(dev, vring, mem);
	if (ret == 0)
		ret = vq_start(dev, vring, dev->state != IFCSW_DEV_RELAY);
	if (ret == 0 && dev->state == IFCSW_DEV_RELAY)
		ret = ifcsw_relay_queue_start(dev, vring);
out:
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

static int
ifcsw_set_features(int vid)
{
	struct ifcsw_dev *dev = ifcsw_dev_from_vid(vid);
	uint64_t features;
	int ret = 0;

	if (dev == NULL)
		return -ENODEV;
	if (rte_vhost_get_negotiated_features(vid, &features) < 0)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	dev->features = features;
	if (dev->state == IFCSW_DEV_IDLE)
		goto out;	/* not running yet: dev_conf decides */
	/*
	 * Switch before answering the frontend: QEMU waits for the reply to
	 * SET_FEATURES(LOG_ALL) before it copies the first page, so every
	 * device write until then is covered by the first full copy.
	 */
	if (ifcsw_dev_wants_relay(dev) && dev->state == IFCSW_DEV_DIRECT)
		ret = ifcsw_relay_start(dev);
	else if (!ifcsw_dev_wants_relay(dev) &&
		 dev->state == IFCSW_DEV_RELAY)
		ret = ifcsw_relay_stop(dev, true);
	/*
	 * vhost ignores what this op returns: a failed switch is reported
	 * to the frontend through dev->relay_error (ifcvf_sw_dirtylog.c).
	 */
out:
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
