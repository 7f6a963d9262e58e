/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * ifcvf_sw's queue control, which the relay controller (lib/relay,
 * vdpa_relay_vhost.h) drives: where a queue's registers point (the
 * guest's rings, or the mediated rings while relayed), and stopping and
 * starting it.
 *
 * Mediated rings are mapped above guest memory (the first 1 GiB boundary
 * past the highest GPA), one 2 MiB slot per queue: a packed queue's
 * mediated descriptor ring (read-write: the VF writes used descriptors
 * in place) in the first 1 MiB, the driver area (split: avail ring) read-
 * only at 1 MiB, the device area (split: used ring) read-write at
 * 1.5 MiB. The largest rings fit: a 32768-entry packed ring is 512 KiB,
 * a split used ring 260 KiB. Buffers are never translated: the VF keeps
 * reaching them, and a split queue's descriptor table, by GPA.
 *
 * Called with the controller's lock held, from vhost's thread or a
 * control thread.
 */

#include <errno.h>
#include <string.h>
#include <linux/virtio_net.h>

#include <rte_common.h>

#include "ifcvf_sw.h"
#include "ifcvf_sw_log.h"

#define IFCSW_MRING_SLOT (2ULL << 20)
#define IFCSW_MRING_BASE_ALIGN (1ULL << 30)
/* Where each mediated area sits in a queue's slot, and its room. */
#define IFCSW_MRING_DESC_OFF 0
#define IFCSW_MRING_DESC_MAX (1ULL << 20)
#define IFCSW_MRING_DRIVER_OFF (1ULL << 20)
#define IFCSW_MRING_DRIVER_MAX (512ULL << 10)
#define IFCSW_MRING_DEVICE_OFF (3ULL << 19)
#define IFCSW_MRING_DEVICE_MAX (512ULL << 10)

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
	if (features & (1ULL << VIRTIO_F_RING_PACKED))
		f |= IFCSW_HWQ_F_PACKED;
	return f;
}

/* Point a queue's registers at the guest's rings and fds. */
static void
regs_guest(struct ifcsw_dev *dev, uint16_t qid, struct ifcsw_hwq_regs *regs)
{
	const struct vrelay_vhost_ring *r = &dev->vq[qid].ring;

	regs->desc_iova = r->desc_gpa;
	regs->avail_iova = r->driver_area_gpa;
	regs->used_iova = r->device_area_gpa;
	regs->size = r->size;
	regs->features = hwq_features(r->features);
	regs->doorbell_fd = r->kick_fd;
	regs->irq_fd = r->call_fd;
}

/* Where the queue resumes: indices, and for packed the wrap counters. */
static void
regs_state(struct ifcsw_hwq_regs *regs, const struct vrelay_qstate *state)
{
	bool packed = (regs->features & IFCSW_HWQ_F_PACKED) != 0;

	regs->last_avail_idx = state->avail_idx;
	regs->last_used_idx = state->used_idx;
	/* Split rings have free-running indices, no wrap counters. */
	regs->avail_wrap = packed && state->avail_wrap;
	regs->used_wrap = packed && state->used_wrap;
}

static int
qctl_program_guest(void *ctx, uint16_t qid,
		   const struct vrelay_vhost_ring *ring)
{
	struct ifcsw_dev *dev = ctx;
	struct ifcsw_hwq_regs regs;

	if (qid >= 2 * dev->nb_queue_pairs)
		return -EINVAL;
	/* The format follows the features (hwq_features()): they agree. */
	if (ring->format >= VRELAY_RING_FORMAT_COUNT ||
	    (ring->format == VRELAY_RING_PACKED) !=
	    !!(ring->features & (1ULL << VIRTIO_F_RING_PACKED)))
		return -EINVAL;
	dev->vq[qid].ring = *ring;
	regs = dev->hw.q[qid].regs;
	regs_guest(dev, qid, &regs);
	regs_state(&regs, &ring->state);
	return ifcsw_regs_set(dev, qid, &regs);
}

static int
qctl_suspend(void *ctx, uint16_t qid, struct vrelay_qstate *state)
{
	struct ifcsw_dev *dev = ctx;
	bool faulted;
	int ret;

	/* A whole-device VF parks every queue to stop this one. */
	ifcsw_wd_park(dev, qid);
	/* The VF reports where it stopped even when it faulted. */
	ret = ifcsw_hw_queue_stop(&dev->hw, qid, &state->avail_idx,
				  &state->used_idx);
	/* Stopped: the registers are stable. Split: both false. */
	state->avail_wrap = dev->hw.q[qid].regs.avail_wrap;
	state->used_wrap = dev->hw.q[qid].regs.used_wrap;
	faulted = dev->hw.q[qid].state == IFCSW_HWQ_FAULT;
	/* ... and restarts the others: no resume may follow (a disable). */
	ifcsw_wd_restart(dev);
	if (ret < 0)
		return ret;
	return faulted ? -EIO : 0;
}

static uint64_t
mring_slot(const struct ifcsw_dev *dev, uint16_t qid)
{
	return RTE_ALIGN_CEIL(dev->mem_top, IFCSW_MRING_BASE_ALIGN) +
		qid * IFCSW_MRING_SLOT;
}

static void
mring_unmap(struct ifcsw_dev *dev, uint16_t qid)
{
	struct ifcsw_vq *vq = &dev->vq[qid];

	if (vq->mring_desc_iova != 0)
		ifcsw_dma_unmap(&dev->hw.dma, vq->mring_desc_iova);
	if (vq->mring_avail_iova != 0)
		ifcsw_dma_unmap(&dev->hw.dma, vq->mring_avail_iova);
	if (vq->mring_used_iova != 0)
		ifcsw_dma_unmap(&dev->hw.dma, vq->mring_used_iova);
	vq->mring_desc_iova = 0;
	vq->mring_avail_iova = 0;
	vq->mring_used_iova = 0;
}

/*
 * The mediated rings must be of the queue's format (a packed queue runs
 * on a mediated descriptor ring, a split one on the guest's table) and
 * fit their places in the slot.
 */
static int
mring_check(const struct ifcsw_dev *dev, uint16_t qid,
	    const struct vrelay_mring_info *mring)
{
	bool packed = (dev->hw.q[qid].regs.features & IFCSW_HWQ_F_PACKED) != 0;
	const char *why = NULL;
	int ret = -EINVAL;

	if (mring->format != (packed ? VRELAY_RING_PACKED : VRELAY_RING_SPLIT))
		why = "ring format differs from the queue's";
	else if (packed != (mring->desc != NULL && mring->desc_len != 0))
		why = packed ? "no mediated descriptor ring" :
			"a descriptor ring for a split queue";
	else if (mring->desc_len > IFCSW_MRING_DESC_MAX ||
		 mring->driver_len > IFCSW_MRING_DRIVER_MAX ||
		 mring->device_len > IFCSW_MRING_DEVICE_MAX) {
		why = "larger than the queue's IOVA slot";
		ret = -E2BIG;
	}
	if (why == NULL)
		return 0;
	IFCSW_LOG(ERR, "%s: queue %u: mediated rings refused: %s", dev->name,
		  qid, why);
	return ret;
}

static int
qctl_program_relay(void *ctx, uint16_t qid,
		   const struct vrelay_mring_info *mring, int doorbell_fd,
		   int irq_fd)
{
	struct ifcsw_dev *dev = ctx;
	struct ifcsw_hwq_regs regs = dev->hw.q[qid].regs;
	struct ifcsw_vq *vq = &dev->vq[qid];
	uint64_t slot = mring_slot(dev, qid);
	uint64_t desc_iova = 0;
	uint64_t avail_iova = slot + IFCSW_MRING_DRIVER_OFF;
	uint64_t used_iova = slot + IFCSW_MRING_DEVICE_OFF;
	int ret;

	ret = mring_check(dev, qid, mring);
	if (ret < 0)
		return ret;
	if (mring->desc != NULL) {
		/* Packed: the VF writes used descriptors into it. */
		desc_iova = slot + IFCSW_MRING_DESC_OFF;
		ret = ifcsw_dma_map(&dev->hw.dma, desc_iova, mring->desc_len,
				    mring->desc,
				    IFCSW_DMA_READ | IFCSW_DMA_WRITE);
		if (ret < 0)
			goto fail_desc;
	}
	ret = ifcsw_dma_map(&dev->hw.dma, avail_iova, mring->driver_len,
			    mring->driver_area, IFCSW_DMA_READ);
	if (ret < 0)
		goto fail_avail;
	ret = ifcsw_dma_map(&dev->hw.dma, used_iova, mring->device_len,
			    mring->device_area,
			    IFCSW_DMA_READ | IFCSW_DMA_WRITE);
	if (ret < 0)
		goto fail_used;
	/* Packed: desc ring, driver and device event areas (hw model). */
	if (desc_iova != 0)
		regs.desc_iova = desc_iova;
	regs.avail_iova = avail_iova;
	regs.used_iova = used_iova;
	regs.doorbell_fd = doorbell_fd;
	regs.irq_fd = irq_fd;
	ret = ifcsw_regs_set(dev, qid, &regs);
	if (ret < 0)
		goto fail_regs;
	vq->mring_desc_iova = desc_iova;
	vq->mring_avail_iova = avail_iova;
	vq->mring_used_iova = used_iova;
	return 0;

fail_regs:
	ifcsw_dma_unmap(&dev->hw.dma, used_iova);
fail_used:
	ifcsw_dma_unmap(&dev->hw.dma, avail_iova);
fail_avail:
	if (desc_iova != 0)
		ifcsw_dma_unmap(&dev->hw.dma, desc_iova);
fail_desc:
	IFCSW_LOG(ERR, "%s: cannot map mediated rings of queue %u: %s",
		  dev->name, qid, strerror(-ret));
	return ret;
}

static int
qctl_program_direct(void *ctx, uint16_t qid)
{
	struct ifcsw_dev *dev = ctx;
	struct ifcsw_hwq_regs regs = dev->hw.q[qid].regs;
	int ret;

	/* Away from the mediated rings before they are unmapped. */
	regs_guest(dev, qid, &regs);
	ret = ifcsw_regs_set(dev, qid, &regs);
	if (ret < 0)
		return ret;
	mring_unmap(dev, qid);
	return 0;
}

static int
qctl_resume(void *ctx, uint16_t qid, const struct vrelay_qstate *state)
{
	struct ifcsw_dev *dev = ctx;
	struct ifcsw_hwq_regs regs = dev->hw.q[qid].regs;
	int ret;

	/* The VF cannot log: never on the guest's rings while logging. */
	if (!ifcsw_may_run(dev, qid))
		return -EPERM;
	regs_state(&regs, state);
	if (ifcsw_whole_device(dev))
		return ifcsw_wd_resume(dev, qid, &regs);
	ret = ifcsw_hw_queue_regs_write(&dev->hw, qid, &regs);
	return ret < 0 ? ret : ifcsw_hw_queue_start(&dev->hw, qid);
}

/*
 * Batches: a whole-device VF stays stopped across the batch (one stop,
 * one start); per-queue control stops and starts each queue on its own,
 * as the single ops do.
 */
static void
qctl_suspend_many(void *ctx, unsigned int n, const uint16_t *qids,
		  struct vrelay_qstate *states, int *rets)
{
	struct ifcsw_dev *dev = ctx;
	uint32_t mask = 0;
	unsigned int i;

	/* Every queue of the batch at once: one burst to wait for, not n. */
	for (i = 0; i < n; i++)
		if (qids[i] < 2 * dev->nb_queue_pairs)
			mask |= 1u << qids[i];
	ifcsw_hw_stop_request(&dev->hw, mask);
	ifcsw_wd_hold(dev);
	for (i = 0; i < n; i++)
		rets[i] = qctl_suspend(ctx, qids[i], &states[i]);
	ifcsw_wd_release(dev);
	/* Each stop withdrew its own request; none may outlive the batch. */
	ifcsw_hw_stop_cancel(&dev->hw, mask);
}

static void
qctl_resume_many(void *ctx, unsigned int n, const uint16_t *qids,
		 const struct vrelay_qstate *states, int *rets)
{
	struct ifcsw_dev *dev = ctx;
	struct ifcsw_hwq_regs regs[IFCSW_MAX_QUEUES];
	unsigned int i;

	if (n > IFCSW_MAX_QUEUES) {
		for (i = 0; i < n; i++)
			rets[i] = qctl_resume(ctx, qids[i], &states[i]);
		return;
	}
	for (i = 0; i < n; i++) {
		if (qids[i] >= 2 * dev->nb_queue_pairs) {
			rets[i] = -EINVAL;
			continue;
		}
		/* The VF cannot log: never on the guest's rings while logging. */
		rets[i] = ifcsw_may_run(dev, qids[i]) ? 0 : -EPERM;
		regs[i] = dev->hw.q[qids[i]].regs;
		regs_state(&regs[i], &states[i]);
	}
	if (ifcsw_whole_device(dev)) {
		ifcsw_wd_resume_many(dev, n, qids, regs, rets);
		return;
	}
	/* Per-queue VF: write every queue's indices, then one start pass. */
	for (i = 0; i < n; i++)
		if (rets[i] == 0)
			rets[i] = ifcsw_hw_queue_regs_write(&dev->hw, qids[i],
							    &regs[i]);
	ifcsw_hw_queue_start_many(&dev->hw, n, qids, rets);
}

static uint16_t
qctl_used_idx(void *ctx, uint16_t qid)
{
	struct ifcsw_dev *dev = ctx;

	return __atomic_load_n(&dev->hw.q[qid].regs.last_used_idx,
			       __ATOMIC_ACQUIRE);
}

static void
qctl_reset(void *ctx, uint16_t qid)
{
	struct ifcsw_dev *dev = ctx;

	if (dev->hw.q[qid].state == IFCSW_HWQ_FAULT)
		ifcsw_hw_queue_reset(&dev->hw, qid);
}

static bool
qctl_faulted(void *ctx, uint16_t qid)
{
	struct ifcsw_dev *dev = ctx;

	return __atomic_load_n(&dev->hw.q[qid].state, __ATOMIC_RELAXED) ==
		IFCSW_HWQ_FAULT;
}

/* The controller's post-copy window: the DMA model's presence check. */
static void
qctl_set_postcopy(void *ctx, bool on)
{
	struct ifcsw_dev *dev = ctx;

	if (ifcsw_dma_set_postcopy(&dev->hw.dma, on) < 0)
		IFCSW_LOG(ERR, "%s: cannot track present pages; guest DMA "
			  "is not checked for post-copy", dev->name);
	else
		IFCSW_LOG(INFO, "%s: post-copy window %s", dev->name,
			  on ? "open: absent guest pages fault" : "closed");
}

const struct vrelay_vhost_ops ifcsw_vhost_ops = {
	.program_guest = qctl_program_guest,
	.qctl = {
		.suspend = qctl_suspend,
		.program_relay = qctl_program_relay,
		.program_direct = qctl_program_direct,
		.resume = qctl_resume,
		.suspend_many = qctl_suspend_many,
		.resume_many = qctl_resume_many,
	},
	.used_idx = qctl_used_idx,
	.reset = qctl_reset,
	.faulted = qctl_faulted,
	.set_postcopy = qctl_set_postcopy,
};
