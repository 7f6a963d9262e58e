/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * ifcvf_sw and lib/relay: the queue-control ops the switchover protocol
 * drives, where the mediated rings sit in the VF's IOVA space, and the
 * per-queue and per-device switches (the dirty log is in
 * ifcvf_sw_dirtylog.c).
 *
 * Mediated rings are mapped above guest memory (the first 1 GiB boundary
 * past the highest GPA), one 2 MiB slot per queue: avail read-only, used
 * read-write. Guest descriptors are never translated: the VF keeps
 * reading the guest's descriptor table at its GPA.
 *
 * Fail closed (see ifcvf_sw_vq.c): a queue whose switch to the relay
 * fails is held stopped, never resumed in direct I/O while the frontend
 * logs, and dev->relay_error makes the vhost message that caused the
 * switch fail.
 */

#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_vhost.h>

#include "ifcvf_sw.h"
#include "ifcvf_sw_log.h"

#define IFCSW_MRING_SLOT (2ULL << 20)
#define IFCSW_MRING_BASE_ALIGN (1ULL << 30)

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

	int ret;

	/* The VF reports where it stopped even when it faulted. */
	ret = ifcsw_hw_queue_stop(&dev->hw, qid, last_avail, last_used);
	if (ret < 0)
		return ret;
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
	return ifcsw_vq_run(dev, qid);
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

/* Build the relay's view of a queue from vhost's. */
static void
relay_queue_conf(struct ifcsw_dev *dev, uint16_t qid, char *name,
		 struct vrelay_queue_conf *conf)
{
	struct ifcsw_vq *vq = &dev->vq[qid];
	struct rte_vhost_vring vring;

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
	snprintf(name, VRELAY_NAME_LEN, "%.48s/q%u", dev->name, qid);
	memset(conf, 0, sizeof(*conf));
	conf->name = name;
	conf->qid = qid;
	conf->size = vq->vring.size;
	conf->guest_desc = vq->vring.desc;
	conf->guest_avail = vq->vring.avail;
	conf->guest_used = vq->vring.used;
	conf->guest_used_gpa = vq->log_guest_addr;
	conf->event_idx = (dev->features &
			   (1ULL << VIRTIO_RING_F_EVENT_IDX)) != 0;
	conf->indirect = (dev->features &
			  (1ULL << VIRTIO_RING_F_INDIRECT_DESC)) != 0;
	conf->guest_kick_fd = vq->vring.kickfd;
	conf->guest_call_fd = vq->vring.callfd >= 0 ? vq->vring.callfd : -1;
	conf->device_doorbell_fd = -1;
	conf->device_irq_fd = -1;
	/*
	 * The in-flight window: used entries the device wrote in direct
	 * I/O from the relay request until the suspend are logged by the
	 * relay. It starts at the device's own used index, which the guest
	 * cannot forge (used->idx it can), so the window holds only real
	 * completions: at most the ring size, bounded work per switch.
	 */
	conf->log_from_used_idx = vq->used_idx_at_log_on;
}

/* The device's used index now: where an in-flight window starts. */
static uint16_t
hwq_used_idx(const struct ifcsw_dev *dev, uint16_t qid)
{
	return __atomic_load_n(&dev->hw.q[qid].regs.last_used_idx,
			       __ATOMIC_ACQUIRE);
}

/* Where a failed switch left the queue; @return the mode it takes. */
static enum ifcsw_queue_mode
mode_after_failure(const struct vrelay_switch_report *rep)
{
	return rep->devq == VRELAY_DEVQ_STOPPED ? IFCSW_QUEUE_HELD :
		IFCSW_QUEUE_BROKEN;
}

int
ifcsw_relay_queue_start(struct ifcsw_dev *dev, uint16_t qid)
{
	struct ifcsw_vq *vq = &dev->vq[qid];
	struct vrelay_switch_report rep;
	struct vrelay_queue_conf conf;
	char name[VRELAY_NAME_LEN];
	int ret;

	if (vq->mode != IFCSW_QUEUE_DIRECT)
		return -EINVAL;
	if (dev->engine == NULL) {
		ret = -ENOMEM;
		goto fail_hold;
	}
	if (ifcsw_dev_logging(dev) && dev->log_size == 0) {
		/* Nothing to log into: relaying would lose every page. */
		IFCSW_LOG(ERR, "%s: queue %u: the frontend logs but gave no "
			  "usable dirty log", dev->name, qid);
		ret = -ENOENT;
		goto fail_hold;
	}
	relay_queue_conf(dev, qid, name, &conf);
	ifcsw_vq_set_mode(dev, qid, IFCSW_QUEUE_SWITCHING);
	ret = vrelay_switch_to_relay(dev->engine, dev->rdev, &conf,
				     &ifcsw_qctl_ops, dev, &vq->relay, &rep);
	if (ret < 0) {
		vq->relay = NULL;
		ifcsw_vq_set_mode(dev, qid, mode_after_failure(&rep));
		dev->relay_error = ret;
		return ret;
	}
	ifcsw_vq_set_mode(dev, qid, IFCSW_QUEUE_RELAY);
	switch_account(vq, rep.unavailable_ns, true);
	return 0;

fail_hold:
	ifcsw_vq_hold(dev, qid);
	dev->relay_error = ret;
	return ret;
}

int
ifcsw_relay_queue_stop(struct ifcsw_dev *dev, uint16_t qid, bool resume,
		       uint16_t *last_avail, uint16_t *last_used)
{
	struct ifcsw_vq *vq = &dev->vq[qid];
	struct vrelay_switch_report rep;
	enum ifcsw_queue_mode to;
	int ret;

	if (vq->relay == NULL)
		return -EINVAL;
	ifcsw_vq_set_mode(dev, qid, IFCSW_QUEUE_SWITCHING);
	relay_stats_accumulate(vq);
	ret = vrelay_switch_to_direct(dev->engine, vq->relay, &ifcsw_qctl_ops,
				      dev, resume, &rep);
	vq->relay = NULL;
	if (rep.devq == VRELAY_DEVQ_UNKNOWN) {
		/* The VF always says where it stopped; ask it directly. */
		ifcsw_hw_queue_stop(&dev->hw, qid, &rep.last_avail,
				    &rep.last_used);
	}
	mring_unmap(dev, qid);
	if (last_avail != NULL)
		*last_avail = rep.last_avail;
	if (last_used != NULL)
		*last_used = rep.last_used;
	switch (rep.devq) {
	case VRELAY_DEVQ_RUNNING:
		to = IFCSW_QUEUE_DIRECT;
		break;
	case VRELAY_DEVQ_STOPPED:
		/* Not resumed on purpose, or resume refused: fail closed. */
		to = resume ? IFCSW_QUEUE_HELD : IFCSW_QUEUE_STOPPED;
		break;
	default:
		to = IFCSW_QUEUE_BROKEN;
		break;
	}
	ifcsw_vq_set_mode(dev, qid, to);
	if (ret == 0)
		switch_account(vq, rep.unavailable_ns, false);
	return ret;
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
	int ret = 0, err;

	if (dev->state != IFCSW_DEV_DIRECT)
		return -EBUSY;
	dev->state = IFCSW_DEV_SWITCHING;
	/* Every window starts now, before the first queue stops. */
	for (qid = 0; qid < dev->nb_vqs; qid++)
		dev->vq[qid].used_idx_at_log_on = hwq_used_idx(dev, qid);
	/* Failures of either are handled per queue: they hold it. */
	dev->engine = ifcsw_relay_engine(dev->relay_mode, dev->relay_cpu);
	ifcsw_relay_setup_log(dev);
	for (qid = 0; qid < dev->nb_vqs; qid++) {
		if (dev->vq[qid].mode != IFCSW_QUEUE_DIRECT)
			continue;
		err = ifcsw_relay_queue_start(dev, qid);
		if (err < 0 && ret == 0)
			ret = err;
	}
	dev->state = IFCSW_DEV_RELAY;
	dev->switches++;
	dev->last_switch_ns = dev_last_switch_ns(dev);
	IFCSW_LOG(INFO, "%s: relay on (%s), worst queue unavailable %"
		  PRIu64 " us%s", dev->name,
		  vrelay_mode_to_str(dev->relay_mode),
		  dev->last_switch_ns / 1000,
		  ret < 0 ? "; some queues held stopped" : "");
	return ret;
}

int
ifcsw_relay_stop(struct ifcsw_dev *dev, bool resume)
{
	uint16_t qid;
	int ret = 0, err;

	if (dev->state != IFCSW_DEV_RELAY)
		return -EINVAL;
	dev->state = IFCSW_DEV_SWITCHING;
	for (qid = 0; qid < dev->nb_vqs; qid++) {
		struct ifcsw_vq *vq = &dev->vq[qid];

		if (vq->relay != NULL)
			err = ifcsw_relay_queue_stop(dev, qid, resume, NULL,
						     NULL);
		else if (vq->mode == IFCSW_QUEUE_HELD && resume)
			/* Logging is off: direct I/O is safe again. */
			err = ifcsw_vq_run(dev, qid) == 0 ?
				ifcsw_vq_set_mode(dev, qid, IFCSW_QUEUE_DIRECT) :
				-EIO;
		else
			continue;
		if (err < 0 && ret == 0)
			ret = err;
	}
	ifcsw_relay_release_log(dev);
	dev->state = IFCSW_DEV_DIRECT;
	dev->switches++;
	dev->last_switch_ns = dev_last_switch_ns(dev);
	IFCSW_LOG(INFO, "%s: relay off, worst queue unavailable %" PRIu64
		  " us", dev->name, dev->last_switch_ns / 1000);
	return ret;
}

void
ifcsw_relay_hold_all(struct ifcsw_dev *dev)
{
	uint16_t qid;

	for (qid = 0; qid < dev->nb_vqs; qid++) {
		struct ifcsw_vq *vq = &dev->vq[qid];

		if (vq->relay != NULL &&
		    ifcsw_relay_queue_stop(dev, qid, false, NULL, NULL) == 0)
			ifcsw_vq_set_mode(dev, qid, IFCSW_QUEUE_HELD);
		else if (vq->mode == IFCSW_QUEUE_DIRECT)
			ifcsw_vq_hold(dev, qid);
	}
}

/*
 * Move every relayed queue to engine e. A queue the new engine refuses
 * goes back to the old one; if neither takes it, it stays on the
 * mediated rings unrelayed: stalled, but never writing unlogged.
 */
int
ifcsw_relay_set_mode(struct ifcsw_dev *dev, enum vrelay_mode mode)
{
	struct vrelay_engine *e, *old = dev->engine;
	uint16_t qid;
	int ret = 0, err;

	if (dev->state != IFCSW_DEV_RELAY) {
		dev->relay_mode = mode;
		return 0;
	}
	e = ifcsw_relay_engine(mode, dev->relay_cpu);
	if (e == NULL)
		return -ENOMEM;
	for (qid = 0; qid < dev->nb_vqs; qid++) {
		struct vrelay_queue *q = dev->vq[qid].relay;

		if (q == NULL || old == e)
			continue;
		vrelay_engine_detach(old, q);
		err = vrelay_engine_attach(e, q);
		if (err == 0)
			continue;
		IFCSW_LOG(ERR, "%s: queue %u cannot move to the %s engine: %s",
			  dev->name, qid, vrelay_mode_to_str(mode),
			  strerror(-err));
		ret = err;
		if (vrelay_engine_attach(old, q) < 0)
			IFCSW_LOG(ERR, "%s: queue %u is relayed by no engine",
				  dev->name, qid);
	}
	if (ret == 0) {
		dev->relay_mode = mode;
		dev->engine = e;
	}
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

