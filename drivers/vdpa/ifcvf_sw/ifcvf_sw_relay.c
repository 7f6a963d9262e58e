/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * ifcvf_sw and lib/relay: the queue-control ops the switchover protocol
 * drives, where the mediated rings sit in the VF's IOVA space, and how
 * the dirty log survives the frontend replacing it.
 *
 * Mediated rings are mapped above guest memory (the first 1 GiB boundary
 * past the highest GPA), one 2 MiB slot per queue: avail read-only, used
 * read-write. Guest descriptors are never translated: the VF keeps
 * reading the guest's descriptor table at its GPA.
 *
 * The dirty log: vhost maps it and unmaps the old one inside its
 * SET_LOG_BASE handler, behind our back. We keep a mapping of our own
 * (mremap of the shared mapping), and around SET_LOG_BASE we divert the
 * relay to a private bitmap that is merged into the new log afterwards,
 * so no bit is written to a log the frontend has already read and freed.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_vhost.h>

#include "ifcvf_sw.h"
#include "ifcvf_sw_log.h"

#define IFCSW_MRING_SLOT (2ULL << 20)
#define IFCSW_MRING_BASE_ALIGN (1ULL << 30)

/* vhost-user request codes (vhost-user specification). */
#define IFCSW_VHOST_USER_SET_LOG_BASE 6

static struct vrelay_engine *ifcsw_engines[VRELAY_MODE_ADAPTIVE + 1];
static pthread_mutex_t ifcsw_engines_lock = PTHREAD_MUTEX_INITIALIZER;

struct vrelay_engine *
ifcsw_relay_engine(enum vrelay_mode mode, int cpu)
{
	struct vrelay_engine *e;
	char name[16];

	if ((unsigned int)mode >= RTE_DIM(ifcsw_engines))
		return NULL;
	pthread_mutex_lock(&ifcsw_engines_lock);
	e = ifcsw_engines[mode];
	if (e == NULL) {
		snprintf(name, sizeof(name), "relay-%s",
			 vrelay_mode_to_str(mode));
		e = vrelay_engine_create(name, mode, cpu);
		if (e == NULL)
			IFCSW_LOG(ERR, "cannot start the %s relay engine",
				  vrelay_mode_to_str(mode));
		ifcsw_engines[mode] = e;
	}
	pthread_mutex_unlock(&ifcsw_engines_lock);
	return e;
}

void
ifcsw_relay_engines_release(void)
{
	unsigned int i;

	pthread_mutex_lock(&ifcsw_engines_lock);
	for (i = 0; i < RTE_DIM(ifcsw_engines); i++) {
		if (ifcsw_engines[i] != NULL)
			vrelay_engine_destroy(ifcsw_engines[i]);
		ifcsw_engines[i] = NULL;
	}
	pthread_mutex_unlock(&ifcsw_engines_lock);
}

/* ---- queue control for the switchover protocol -------------------- */

static uint64_t
mring_slot(const struct ifcsw_dev *dev, uint16_t qid)
{
	return RTE_ALIGN_CEIL(dev->mem_top, IFCSW_MRING_BASE_ALIGN) +
		qid * IFCSW_MRING_SLOT;
}

static int
qctl_suspend(void *ctx, uint16_t qid, uint16_t *last_avail,
	     uint16_t *last_used)
{
	struct ifcsw_dev *dev = ctx;

	ifcsw_hw_queue_stop(&dev->hw, qid, last_avail, last_used);
	return dev->hw.q[qid].state == IFCSW_HWQ_FAULT ? -EIO : 0;
}

static int
qctl_program_relay(void *ctx, uint16_t qid,
		   const struct vrelay_mring_info *mring, int doorbell_fd,
		   int irq_fd)
{
	struct ifcsw_dev *dev = ctx;
	struct ifcsw_hwq_regs *regs = &dev->hw.q[qid].regs;
	struct ifcsw_vq *vq = &dev->vq[qid];
	uint64_t avail_iova = mring_slot(dev, qid);
	uint64_t used_iova = avail_iova + IFCSW_MRING_SLOT / 2;
	int ret;

	if (mring->avail_len > IFCSW_MRING_SLOT / 2 ||
	    mring->used_len > IFCSW_MRING_SLOT / 2)
		return -E2BIG;
	ret = ifcsw_dma_map(&dev->hw.dma, avail_iova, mring->avail_len,
			    mring->avail, IFCSW_DMA_READ);
	if (ret < 0)
		goto fail_avail;
	ret = ifcsw_dma_map(&dev->hw.dma, used_iova, mring->used_len,
			    mring->used, IFCSW_DMA_READ | IFCSW_DMA_WRITE);
	if (ret < 0)
		goto fail_used;
	vq->mring_avail_iova = avail_iova;
	vq->mring_used_iova = used_iova;
	regs->avail_iova = avail_iova;
	regs->used_iova = used_iova;
	regs->doorbell_fd = doorbell_fd;
	regs->irq_fd = irq_fd;
	return 0;

fail_used:
	ifcsw_dma_unmap(&dev->hw.dma, avail_iova);
fail_avail:
	IFCSW_LOG(ERR, "%s: cannot map mediated rings of queue %u: %s",
		  dev->name, qid, strerror(-ret));
	return ret;
}

static void
mring_unmap(struct ifcsw_dev *dev, uint16_t qid)
{
	struct ifcsw_vq *vq = &dev->vq[qid];

	if (vq->mring_avail_iova != 0)
		ifcsw_dma_unmap(&dev->hw.dma, vq->mring_avail_iova);
	if (vq->mring_used_iova != 0)
		ifcsw_dma_unmap(&dev->hw.dma, vq->mring_used_iova);
	vq->mring_avail_iova = 0;
	vq->mring_used_iova = 0;
}

static int
qctl_program_direct(void *ctx, uint16_t qid)
{
	struct ifcsw_dev *dev = ctx;

	mring_unmap(dev, qid);
	return ifcsw_queue_program_direct(dev, qid);
}

static int
qctl_resume(void *ctx, uint16_t qid, uint16_t last_avail, uint16_t last_used)
{
	struct ifcsw_dev *dev = ctx;
	struct ifcsw_hwq_regs *regs = &dev->hw.q[qid].regs;

	regs->last_avail_idx = last_avail;
	regs->last_used_idx = last_used;
	return ifcsw_hw_queue_start(&dev->hw, qid);
}

static const struct vrelay_qctl_ops ifcsw_qctl_ops = {
	.suspend = qctl_suspend,
	.program_relay = qctl_program_relay,
	.program_direct = qctl_program_direct,
	.resume = qctl_resume,
};

static void
switch_account(struct ifcsw_vq *vq, uint64_t ns, bool to_relay)
{
	if (to_relay)
		vq->sw.to_relay++;
	else
		vq->sw.to_direct++;
	vq->sw.last_ns = ns;
	vq->sw.total_ns += ns;
	vq->sw.max_ns = RTE_MAX(vq->sw.max_ns, ns);
}

/* ---- per queue ------------------------------------------------------ */

/* Keep the counters of a relay period the queue is about to end. */
static void
relay_stats_accumulate(struct ifcsw_vq *vq)
{
	struct vrelay_queue_stats s;
	struct vrelay_queue_stats *t = &vq->relay_total;

	vrelay_queue_get_stats(vq->relay, &s);
	t->avail_relayed += s.avail_relayed;
	t->used_relayed += s.used_relayed;
	t->pages_logged += s.pages_logged;
	t->log_bursts += s.log_bursts;
	t->guest_kicks += s.guest_kicks;
	t->device_irqs += s.device_irqs;
	t->guest_calls += s.guest_calls;
	t->device_kicks += s.device_kicks;
	t->broken += s.broken;
	t->inflight_logged += s.inflight_logged;
	t->window_log_all += s.window_log_all;
}

int
ifcsw_relay_queue_start(struct ifcsw_dev *dev, uint16_t qid)
{
	struct ifcsw_vq *vq = &dev->vq[qid];
	struct vrelay_queue_conf conf;
	struct rte_vhost_vring vring;
	char name[VRELAY_NAME_LEN];
	uint64_t ns = 0;
	int ret;

	if (vq->mode != IFCSW_QUEUE_DIRECT || dev->engine == NULL)
		return -EINVAL;
	/*
	 * The frontend gives the used ring's log address with the LOG flag
	 * of SET_VRING_ADDR, typically only when migration starts: read it
	 * now. Without a vIOMMU it is the used ring's GPA.
	 */
	if (rte_vhost_get_vhost_vring(dev->vid, qid, &vring) == 0 &&
	    vring.log_guest_addr != 0)
		vq->log_guest_addr = vring.log_guest_addr;
	else
		vq->log_guest_addr = vq->used_gpa;
	snprintf(name, sizeof(name), "%.48s/q%u", dev->name, qid);
	memset(&conf, 0, sizeof(conf));
	conf.name = name;
	conf.qid = qid;
	conf.size = vq->vring.size;
	conf.guest_desc = vq->vring.desc;
	conf.guest_avail = vq->vring.avail;
	conf.guest_used = vq->vring.used;
	conf.guest_used_gpa = vq->log_guest_addr;
	conf.event_idx = (dev->features &
			  (1ULL << VIRTIO_RING_F_EVENT_IDX)) != 0;
	conf.indirect = (dev->features &
			 (1ULL << VIRTIO_RING_F_INDIRECT_DESC)) != 0;
	conf.guest_kick_fd = vq->vring.kickfd;
	conf.guest_call_fd = vq->vring.callfd >= 0 ? vq->vring.callfd : -1;
	conf.device_doorbell_fd = -1;
	conf.device_irq_fd = -1;
	/*
	 * The in-flight window: used entries the device writes in direct
	 * I/O from now until it is suspended are logged by the relay.
	 */
	conf.log_from_used_idx = __atomic_load_n(&vq->vring.used->idx,
						 __ATOMIC_ACQUIRE);

	vq->mode = IFCSW_QUEUE_SWITCHING;
	ret = vrelay_switch_to_relay(dev->engine, dev->rdev, &conf,
				     &ifcsw_qctl_ops, dev, &vq->relay, &ns);
	if (ret < 0) {
		vq->relay = NULL;
		vq->mode = dev->hw.q[qid].state == IFCSW_HWQ_RUNNING ?
			IFCSW_QUEUE_DIRECT : IFCSW_QUEUE_BROKEN;
		IFCSW_LOG(ERR, "%s: queue %u cannot switch to relay: %s",
			  dev->name, qid, strerror(-ret));
		return ret;
	}
	vq->mode = IFCSW_QUEUE_RELAY;
	switch_account(vq, ns, true);
	return 0;
}

int
ifcsw_relay_queue_stop(struct ifcsw_dev *dev, uint16_t qid, bool resume,
		       uint16_t *last_avail, uint16_t *last_used)
{
	struct ifcsw_vq *vq = &dev->vq[qid];
	uint16_t la = 0, lu = 0;
	uint64_t ns = 0;
	int ret;

	if (vq->relay == NULL)
		return -EINVAL;
	vq->mode = IFCSW_QUEUE_SWITCHING;
	relay_stats_accumulate(vq);
	ret = vrelay_switch_to_direct(dev->engine, vq->relay, &ifcsw_qctl_ops,
				      dev, resume, &la, &lu, &ns);
	vq->relay = NULL;
	mring_unmap(dev, qid);
	if (last_avail != NULL)
		*last_avail = la;
	if (last_used != NULL)
		*last_used = lu;
	if (ret < 0) {
		vq->mode = IFCSW_QUEUE_BROKEN;
		IFCSW_LOG(ERR, "%s: queue %u cannot switch back to direct "
			  "I/O: %s", dev->name, qid, strerror(-ret));
		return ret;
	}
	vq->mode = resume ? IFCSW_QUEUE_DIRECT : IFCSW_QUEUE_STOPPED;
	switch_account(vq, ns, false);
	return 0;
}

/* ---- per device ----------------------------------------------------- */

static uint64_t
dev_last_switch_ns(const struct ifcsw_dev *dev)
{
	uint64_t worst = 0;
	uint16_t qid;

	for (qid = 0; qid < dev->nb_vqs; qid++)
		worst = RTE_MAX(worst, dev->vq[qid].sw.last_ns);
	return worst;
}

int
ifcsw_relay_start(struct ifcsw_dev *dev)
{
	uint16_t qid;
	int ret = 0;

	if (dev->state != IFCSW_DEV_DIRECT)
		return -EBUSY;
	dev->engine = ifcsw_relay_engine(dev->relay_mode, dev->relay_cpu);
	if (dev->engine == NULL)
		return -ENOMEM;
	dev->state = IFCSW_DEV_SWITCHING;
	ifcsw_relay_setup_log(dev);
	for (qid = 0; qid < dev->nb_vqs; qid++) {
		if (dev->vq[qid].mode != IFCSW_QUEUE_DIRECT)
			continue;
		if (ifcsw_relay_queue_start(dev, qid) < 0)
			ret = -EIO;
	}
	dev->state = IFCSW_DEV_RELAY;
	dev->switches++;
	dev->last_switch_ns = dev_last_switch_ns(dev);
	IFCSW_LOG(INFO, "%s: relay on (%s), worst queue unavailable %"
		  PRIu64 " us", dev->name, vrelay_mode_to_str(dev->relay_mode),
		  dev->last_switch_ns / 1000);
	return ret;
}

int
ifcsw_relay_stop(struct ifcsw_dev *dev, bool resume)
{
	uint16_t qid;
	int ret = 0;

	if (dev->state != IFCSW_DEV_RELAY)
		return -EINVAL;
	dev->state = IFCSW_DEV_SWITCHING;
	for (qid = 0; qid < dev->nb_vqs; qid++) {
		if (dev->vq[qid].relay == NULL)
			continue;
		if (ifcsw_relay_queue_stop(dev, qid, resume, NULL, NULL) < 0)
			ret = -EIO;
	}
	ifcsw_relay_release_log(dev);
	dev->state = IFCSW_DEV_DIRECT;
	dev->switches++;
	dev->last_switch_ns = dev_last_switch_ns(dev);
	IFCSW_LOG(INFO, "%s: relay off, worst queue unavailable %" PRIu64
		  " us", dev->name, dev->last_switch_ns / 1000);
	return ret;
}

int
ifcsw_relay_set_mode(struct ifcsw_dev *dev, enum vrelay_mode mode)
{
	struct vrelay_engine *e;
	uint16_t qid;
	int ret = 0;

	dev->relay_mode = mode;
	if (dev->state != IFCSW_DEV_RELAY)
		return 0;
	e = ifcsw_relay_engine(mode, dev->relay_cpu);
	if (e == NULL)
		return -ENOMEM;
	for (qid = 0; qid < dev->nb_vqs; qid++) {
		struct vrelay_queue *q = dev->vq[qid].relay;

		if (q == NULL)
			continue;
		vrelay_engine_detach(dev->engine, q);
		if (vrelay_engine_attach(e, q) < 0)
			ret = -EIO;
	}
	dev->engine = e;
	return ret;
}

/* ---- guest memory and dirty log -------------------------------------- */

int
ifcsw_relay_dev_setup(struct ifcsw_dev *dev, const struct vrelay_mem *mem)
{
	dev->mem = *mem;
	dev->rdev = vrelay_device_create(dev->name, mem);
	return dev->rdev == NULL ? -errno : 0;
}

struct vrelay_mem *
ifcsw_relay_dev_mem(struct ifcsw_dev *dev)
{
	return &dev->mem;
}

void
ifcsw_relay_dev_teardown(struct ifcsw_dev *dev)
{
	uint16_t qid;

	for (qid = 0; qid < IFCSW_MAX_QUEUES; qid++)
		if (dev->vq[qid].relay != NULL)
			ifcsw_relay_queue_stop(dev, qid, false, NULL, NULL);
	ifcsw_relay_release_log(dev);
	if (dev->rdev != NULL)
		vrelay_device_destroy(dev->rdev);
	dev->rdev = NULL;
}

/* Give ourselves a mapping of the log that vhost cannot unmap. */
static void *
log_dup_map(uint64_t base, uint64_t size, void **map, uint64_t *map_len)
{
	uint64_t start = RTE_ALIGN_FLOOR(base, (uint64_t)getpagesize());
	uint64_t len = size + (base - start);
	void *dup;

	dup = mremap((void *)(uintptr_t)start, 0, len, MREMAP_MAYMOVE);
	if (dup == MAP_FAILED)
		return NULL;
	*map = dup;
	*map_len = len;
	return (uint8_t *)dup + (base - start);
}

int
ifcsw_relay_setup_log(struct ifcsw_dev *dev)
{
	uint64_t base = 0, size = 0, map_len = 0;
	void *old_map = dev->log_map, *map = NULL;
	uint64_t old_len = dev->log_map_size;
	void *log = NULL;

	if (dev->rdev == NULL)
		return -EINVAL;
	if (rte_vhost_get_log_base(dev->vid, &base, &size) == 0 &&
	    base != 0 && size != 0) {
		log = log_dup_map(base, size, &map, &map_len);
		if (log == NULL) {
			IFCSW_LOG(ERR, "%s: cannot map the dirty log: %s",
				  dev->name, strerror(errno));
			size = 0;
		}
	} else {
		size = 0;
	}
	vrelay_device_set_log(dev->rdev, log, size);
	dev->log_map = map;
	dev->log_map_size = map_len;
	dev->log_size = size;
	if (old_map != NULL)
		munmap(old_map, old_len);
	return log == NULL ? -ENOENT : 0;
}

void
ifcsw_relay_release_log(struct ifcsw_dev *dev)
{
	if (dev->rdev != NULL)
		vrelay_device_set_log(dev->rdev, NULL, 0);
	if (dev->log_map != NULL)
		munmap(dev->log_map, dev->log_map_size);
	dev->log_map = NULL;
	dev->log_map_size = 0;
	dev->log_size = 0;
	free(dev->log_tmp);
	dev->log_tmp = NULL;
}

/* OR the bits gathered while vhost swapped the log into the new log. */
static void
log_merge_tmp(struct ifcsw_dev *dev)
{
	uint8_t *dst = (uint8_t *)dev->log_map;
	uint64_t i, n;

	if (dst != NULL) {
		dst += dev->log_map_size - dev->log_size;
		n = RTE_MIN(dev->log_size, dev->log_tmp_size);
		for (i = 0; i < n; i++)
			if (dev->log_tmp[i] != 0)
				__atomic_fetch_or(&dst[i], dev->log_tmp[i],
						  __ATOMIC_RELAXED);
	}
	free(dev->log_tmp);
	dev->log_tmp = NULL;
}

/* @return the device if msg is a SET_LOG_BASE for one of ours. */
static struct ifcsw_dev *
msg_set_log_base_dev(int vid, const void *msg)
{
	uint32_t request;

	/* The request code is the first field of every message. */
	memcpy(&request, msg, sizeof(request));
	if (request != IFCSW_VHOST_USER_SET_LOG_BASE)
		return NULL;
	return ifcsw_dev_from_vid(vid);
}

static enum rte_vhost_msg_result
relay_pre_msg(int vid, void *msg)
{
	struct ifcsw_dev *dev = msg_set_log_base_dev(vid, msg);

	if (dev == NULL)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	pthread_mutex_lock(&dev->lock);
	if (dev->state == IFCSW_DEV_RELAY && dev->log_size != 0) {
		dev->log_tmp = calloc(1, dev->log_size);
		dev->log_tmp_size = dev->log_size;
		if (dev->log_tmp != NULL) {
			vrelay_device_set_log(dev->rdev, dev->log_tmp,
					      dev->log_tmp_size);
		} else {
			IFCSW_LOG(ERR, "%s: no memory to hold the log while it"
				  " is replaced", dev->name);
		}
	}
	pthread_mutex_unlock(&dev->lock);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static enum rte_vhost_msg_result
relay_post_msg(int vid, void *msg)
{
	struct ifcsw_dev *dev = msg_set_log_base_dev(vid, msg);

	if (dev == NULL)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	pthread_mutex_lock(&dev->lock);
	if (dev->state == IFCSW_DEV_RELAY) {
		ifcsw_relay_setup_log(dev);
		if (dev->log_tmp != NULL)
			log_merge_tmp(dev);
		IFCSW_LOG(INFO, "%s: dirty log replaced while relaying",
			  dev->name);
	}
	pthread_mutex_unlock(&dev->lock);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static const struct rte_vhost_user_extern_ops relay_msg_hooks = {
	.pre_msg_handle = relay_pre_msg,
	.post_msg_handle = relay_post_msg,
};

int
ifcsw_relay_register_msg_hooks(struct ifcsw_dev *dev)
{
	if (rte_vhost_extern_callback_register(dev->vid, &relay_msg_hooks,
					       dev) < 0) {
		IFCSW_LOG(WARNING, "%s: cannot watch SET_LOG_BASE; replacing "
			  "the log while relaying is unsafe", dev->name);
		return -EINVAL;
	}
	return 0;
}
