/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The emulated VF's queue registers, the queue start/stop handshake and
 * the device's life cycle (its thread is in ifcvf_sw_thread.c).
 *
 * The thread owns every RUNNING queue, one burst at a time under the
 * queue's lock. The driver changes a queue only after stopping it, which
 * it does by taking that lock: a burst always completes the chains it
 * fetched, so a stopped queue has nothing in flight and its index
 * registers are exact, and the driver never waits for the device thread
 * to be scheduled (it matters on a busy host: the queue is unavailable
 * for as long as a switchover takes).
 */

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <linux/virtio_ring.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ring.h>

#include "vdpa_relay.h"

#include "ifcvf_sw_hw.h"
#include "ifcvf_sw_log.h"

/* ifcsw_hw_dev_start()'s queue mask has a bit per queue. */
_Static_assert(IFCSW_MAX_QUEUES <= 32, "queue mask too narrow");

static bool
hwq_is_packed(const struct ifcsw_hwq *q)
{
	return (q->regs.features & IFCSW_HWQ_F_PACKED) != 0;
}

static int
hw_epoll_add(struct ifcsw_hw *hw, int fd, uint32_t qid)
{
	struct epoll_event ev = {
		.events = EPOLLIN,
		.data.u64 = ((uint64_t)qid << 32) | (uint32_t)fd,
	};

	return epoll_ctl(hw->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void
hw_epoll_del(struct ifcsw_hw *hw, uint16_t qid)
{
	/* The fd may already be closed (vhost replaced it): nothing to do. */
	if (hw->ep_fd[qid] >= 0)
		epoll_ctl(hw->epfd, EPOLL_CTL_DEL, hw->ep_fd[qid], NULL);
	hw->ep_fd[qid] = -1;
}

/*
 * Translate the ring registers once; buffers are translated per access.
 * The datapath then indexes the rings with regs.size, and touches the
 * event words only with IFCSW_HWQ_F_EVENT_IDX: so each ring's whole
 * extent, for that size and those features, must be in one mapping.
 * Registers do not change while the queue runs.
 */
static int
hwq_map_split(struct ifcsw_hwq *q)
{
	struct ifcsw_dma_map *dma = &q->hw->dma;
	uint16_t size = q->regs.size;
	bool ev = (q->regs.features & IFCSW_HWQ_F_EVENT_IDX) != 0;

	q->desc = ifcsw_dma_translate(dma, q->regs.desc_iova,
			vrelay_split_desc_len(size), IFCSW_DMA_READ);
	q->avail = ifcsw_dma_translate(dma, q->regs.avail_iova,
			vrelay_split_avail_len(size, ev), IFCSW_DMA_READ);
	q->used = ifcsw_dma_translate(dma, q->regs.used_iova,
			vrelay_split_used_len(size, ev),
			IFCSW_DMA_READ | IFCSW_DMA_WRITE);
	if (q->desc == NULL || q->avail == NULL || q->used == NULL)
		return -EFAULT;
	/* Like a real VF, take only rings aligned as virtio requires. */
	if (!vrelay_split_rings_aligned(q->regs.desc_iova, q->regs.avail_iova,
					q->regs.used_iova) ||
	    !vrelay_split_rings_aligned((uintptr_t)q->desc,
					(uintptr_t)q->avail,
					(uintptr_t)q->used))
		return -EFAULT;
	return 0;
}

/*
 * Packed: the device writes used descriptors into the descriptor ring
 * (read-write) and its own event suppression (device area, read-write);
 * it only reads the driver's (driver area).
 */
static int
hwq_map_packed(struct ifcsw_hwq *q)
{
	struct ifcsw_dma_map *dma = &q->hw->dma;
	const uint32_t rw = IFCSW_DMA_READ | IFCSW_DMA_WRITE;

	q->pdesc = ifcsw_dma_translate(dma, q->regs.desc_iova,
			vrelay_packed_desc_len(q->regs.size), rw);
	q->drv_event = ifcsw_dma_translate(dma, q->regs.avail_iova,
			VRELAY_PACKED_EVENT_LEN, IFCSW_DMA_READ);
	q->dev_event = ifcsw_dma_translate(dma, q->regs.used_iova,
			VRELAY_PACKED_EVENT_LEN, rw);
	if (q->pdesc == NULL || q->drv_event == NULL || q->dev_event == NULL)
		return -EFAULT;
	if (!vrelay_packed_rings_aligned(q->regs.desc_iova,
					 q->regs.avail_iova,
					 q->regs.used_iova) ||
	    !vrelay_packed_rings_aligned((uintptr_t)q->pdesc,
					 (uintptr_t)q->drv_event,
					 (uintptr_t)q->dev_event))
		return -EFAULT;
	return 0;
}

static int
hwq_map_rings(struct ifcsw_hwq *q)
{
	struct ifcsw_dma_map *dma = &q->hw->dma;
	int ret;

	ifcsw_dma_read_lock(dma);
	ret = hwq_is_packed(q) ? hwq_map_packed(q) : hwq_map_split(q);
	ifcsw_dma_read_unlock(dma);
	return ret;
}

/* Sizes and positions the queue's ring format allows. */
static bool
hwq_regs_valid(const struct ifcsw_hwq *q)
{
	const struct ifcsw_hwq_regs *r = &q->regs;

	if (!hwq_is_packed(q))
		return vrelay_split_size_valid(r->size);
	return vrelay_packed_size_valid(r->size) &&
		r->last_avail_idx < r->size && r->last_used_idx < r->size;
}

static bool
hw_whole_device(const struct ifcsw_hw *hw)
{
	return hw->conf.qctl == IFCSW_QCTL_DEVICE;
}

int
ifcsw_hw_queue_regs_write(struct ifcsw_hw *hw, uint16_t qid,
			  const struct ifcsw_hwq_regs *regs)
{
	struct ifcsw_hwq *q;
	int ret = 0;

	if (qid >= 2u * hw->conf.nb_queue_pairs)
		return -EINVAL;
	q = &hw->q[qid];
	pthread_mutex_lock(&q->lock);
	/* The device thread reads the registers of what runs, unlocked. */
	if (q->state == IFCSW_HWQ_RUNNING ||
	    (hw_whole_device(hw) && hw->dev_running)) {
		hw->ctl_stats.regs_refused++;
		IFCSW_LOG(ERR, "%s: queue %u: register write refused: the %s "
			  "is running (driver bug)", hw->name, qid,
			  q->state == IFCSW_HWQ_RUNNING ? "queue" : "device");
		ret = -EBUSY;
	} else {
		q->regs = *regs;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

/* Start one stopped queue, whatever the kind of control. */
static int
hwq_start(struct ifcsw_hw *hw, uint16_t qid)
{
	struct ifcsw_hwq *q = &hw->q[qid];
	int ret;

	if (!hwq_regs_valid(q) || q->regs.doorbell_fd < 0)
		return -EINVAL;

	pthread_mutex_lock(&q->lock);
	if (q->state != IFCSW_HWQ_STOPPED) {
		ret = q->state == IFCSW_HWQ_RUNNING ? -EBUSY : -EIO;
		goto out;
	}
	ret = hwq_map_rings(q);
	if (ret < 0) {
		q->state = IFCSW_HWQ_FAULT;
		IFCSW_LOG(ERR, "%s: queue %u rings outside the DMA map",
			  hw->name, qid);
		goto out;
	}
	q->signalled_used_valid = false;
	hw_epoll_del(hw, qid);
	ret = hw_epoll_add(hw, q->regs.doorbell_fd, qid);
	if (ret < 0) {
		IFCSW_LOG(ERR, "%s: queue %u doorbell fd %d: %s", hw->name,
			  qid, q->regs.doorbell_fd, strerror(-ret));
		goto out;
	}
	hw->ep_fd[qid] = q->regs.doorbell_fd;
	__atomic_store_n(&q->state, IFCSW_HWQ_RUNNING, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static void
hwq_stop_request(struct ifcsw_hw *hw, struct ifcsw_hwq *q)
{
	if (q->stop_req)
		return;
	__atomic_fetch_add(&hw->stop_pending, 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&q->stop_req, true, __ATOMIC_RELEASE);
}

static void
hwq_stop_cancel(struct ifcsw_hw *hw, struct ifcsw_hwq *q)
{
	if (!q->stop_req)
		return;
	__atomic_store_n(&q->stop_req, false, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&hw->stop_pending, 1, __ATOMIC_ACQ_REL);
}

static void
hw_stop_mask(struct ifcsw_hw *hw, uint32_t qmask, bool request)
{
	unsigned int i;

	for (i = 0; i < 2u * hw->conf.nb_queue_pairs; i++) {
		if ((qmask & (1u << i)) == 0)
			continue;
		if (request)
			hwq_stop_request(hw, &hw->q[i]);
		else
			hwq_stop_cancel(hw, &hw->q[i]);
	}
}

void
ifcsw_hw_stop_request(struct ifcsw_hw *hw, uint32_t qmask)
{
	hw_stop_mask(hw, qmask, true);
}

void
ifcsw_hw_stop_cancel(struct ifcsw_hw *hw, uint32_t qmask)
{
	hw_stop_mask(hw, qmask, false);
}

/* Stop one queue, whatever the kind of control. @return it was running. */
static bool
hwq_stop(struct ifcsw_hw *hw, uint16_t qid, uint16_t *last_avail,
	 uint16_t *last_used)
{
	struct ifcsw_hwq *q = &hw->q[qid];
	bool was_running;

	/* At most the burst in progress, then the device steps aside. */
	hwq_stop_request(hw, q);

	/* Holding the lock, no burst is in progress: nothing in flight. */
	pthread_mutex_lock(&q->lock);
	was_running = q->state == IFCSW_HWQ_RUNNING;
	if (was_running)
		__atomic_store_n(&q->state, IFCSW_HWQ_STOPPED,
				 __ATOMIC_RELEASE);
	hw_epoll_del(hw, qid);
	if (last_avail != NULL)
		*last_avail = q->regs.last_avail_idx;
	if (last_used != NULL)
		*last_used = q->regs.last_used_idx;
	pthread_mutex_unlock(&q->lock);
	hwq_stop_cancel(hw, q);
	return was_running;
}

int
ifcsw_hw_queue_start(struct ifcsw_hw *hw, uint16_t qid)
{
	int ret;

	if (qid >= 2u * hw->conf.nb_queue_pairs)
		return -EINVAL;
	if (hw_whole_device(hw)) {
		IFCSW_LOG(ERR, "%s: queue %u: a whole-device VF starts queues "
			  "only with the device", hw->name, qid);
		return -EPERM;
	}
	ret = hwq_start(hw, qid);
	if (ret == 0)
		ifcsw_hw_wake(hw);
	return ret;
}

void
ifcsw_hw_queue_start_many(struct ifcsw_hw *hw, unsigned int n,
			  const uint16_t *qids, int *rets)
{
	unsigned int i;
	bool started = false;

	for (i = 0; i < n; i++) {
		if (rets[i] != 0)
			continue;	/* refused by the caller */
		if (qids[i] >= 2u * hw->conf.nb_queue_pairs)
			rets[i] = -EINVAL;
		else if (hw_whole_device(hw))
			rets[i] = -EPERM;
		else
			rets[i] = hwq_start(hw, qids[i]);
		started |= rets[i] == 0;
	}
	/* One wake for all: each would let the device preempt the caller. */
	if (started)
		ifcsw_hw_wake(hw);
}

int
ifcsw_hw_queue_stop(struct ifcsw_hw *hw, uint16_t qid,
		    uint16_t *last_avail, uint16_t *last_used)
{
	if (qid >= 2u * hw->conf.nb_queue_pairs)
		return -EINVAL;
	if (hw_whole_device(hw) && hw->dev_running) {
		IFCSW_LOG(ERR, "%s: queue %u: a whole-device VF stops queues "
			  "only with the device", hw->name, qid);
		return -EPERM;
	}
	hwq_stop(hw, qid, last_avail, last_used);
	return 0;
}

int
ifcsw_hw_dev_stop(struct ifcsw_hw *hw)
{
	unsigned int i;

	if (!hw_whole_device(hw))
		return -EPERM;
	/* All at once: the device finishes one burst, then steps aside. */
	if (hw->dev_running)
		ifcsw_hw_stop_request(hw, UINT32_MAX);
	/* Counted from what really stopped: tests see a stop as a whole. */
	for (i = 0; i < 2u * hw->conf.nb_queue_pairs; i++)
		if (hwq_stop(hw, i, NULL, NULL))
			hw->ctl_stats.dev_parked++;
	if (hw->dev_running)
		hw->ctl_stats.dev_stops++;
	hw->dev_running = false;
	return 0;
}

int
ifcsw_hw_dev_start(struct ifcsw_hw *hw, uint32_t qmask)
{
	unsigned int i;
	int ret = 0, err;

	if (!hw_whole_device(hw))
		return -EPERM;
	if (hw->dev_running)
		return -EBUSY;
	qmask &= (uint32_t)((1ULL << (2u * hw->conf.nb_queue_pairs)) - 1);
	if (qmask == 0)
		return 0;
	for (i = 0; i < 2u * hw->conf.nb_queue_pairs; i++) {
		if ((qmask & (1u << i)) == 0)
			continue;
		err = hwq_start(hw, i);
		if (err < 0 && ret == 0)
			ret = err;
	}
	hw->dev_running = true;
	hw->ctl_stats.dev_starts++;
	ifcsw_hw_wake(hw);
	return ret;
}

void
ifcsw_hw_queue_reset(struct ifcsw_hw *hw, uint16_t qid)
{
	struct ifcsw_hwq *q = &hw->q[qid];

	pthread_mutex_lock(&q->lock);
	if (q->state == IFCSW_HWQ_FAULT)
		q->state = IFCSW_HWQ_STOPPED;
	hw_epoll_del(hw, qid);
	pthread_mutex_unlock(&q->lock);
}

/* Free every mbuf still queued in a ring. */
static void
hw_drain_ring(struct rte_ring *r)
{
	void *m;

	while (r != NULL && rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

void
ifcsw_hw_rx_flush(struct ifcsw_hw *hw)
{
	unsigned int i;

	for (i = 0; i < hw->conf.nb_queue_pairs; i++) {
		struct ifcsw_hwq *q = &hw->q[2 * i];

		pthread_mutex_lock(&q->lock);
		if (q->state != IFCSW_HWQ_RUNNING) {
			rte_pktmbuf_free(q->rx_pending);
			q->rx_pending = NULL;
			hw_drain_ring(hw->from_wire[i]);
		}
		pthread_mutex_unlock(&q->lock);
	}
}

static int
hw_create_wire(struct ifcsw_hw *hw, uint16_t qp)
{
	char name[RTE_RING_NAMESIZE];
	unsigned int flags = RING_F_SP_ENQ | RING_F_SC_DEQ;

	snprintf(name, sizeof(name), "%.16s_w%u_tx", hw->name, qp);
	hw->to_wire[qp] = rte_ring_create(name, 1024, SOCKET_ID_ANY, flags);
	if (hw->to_wire[qp] == NULL)
		return -rte_errno;
	if (hw->conf.loopback) {
		/* The TX queue of the pair feeds its RX queue directly. */
		hw->from_wire[qp] = hw->to_wire[qp];
		return 0;
	}
	snprintf(name, sizeof(name), "%.16s_w%u_rx", hw->name, qp);
	hw->from_wire[qp] = rte_ring_create(name, 1024, SOCKET_ID_ANY, flags);
	if (hw->from_wire[qp] == NULL)
		return -rte_errno;
	return 0;
}

static void
hw_free_ring(struct rte_ring *r)
{
	hw_drain_ring(r);
	rte_ring_free(r);
}

static void
hw_free_wires(struct ifcsw_hw *hw)
{
	unsigned int i;

	for (i = 0; i < IFCSW_MAX_QUEUE_PAIRS; i++) {
		if (hw->from_wire[i] != hw->to_wire[i])
			hw_free_ring(hw->from_wire[i]);
		hw_free_ring(hw->to_wire[i]);
		hw->from_wire[i] = hw->to_wire[i] = NULL;
	}
}

static void
hw_init_queues(struct ifcsw_hw *hw)
{
	unsigned int i;

	for (i = 0; i < IFCSW_MAX_QUEUES; i++) {
		struct ifcsw_hwq *q = &hw->q[i];

		memset(q, 0, sizeof(*q));
		pthread_mutex_init(&q->lock, NULL);
		q->hw = hw;
		q->index = i;
		q->state = IFCSW_HWQ_STOPPED;
		q->regs.doorbell_fd = -1;
		q->regs.irq_fd = -1;
		hw->ep_fd[i] = -1;
		if (i / 2 < hw->conf.nb_queue_pairs)
			q->wire = ifcsw_hwq_is_rx(q) ? hw->from_wire[i / 2] :
						 hw->to_wire[i / 2];
	}
}

int
ifcsw_hw_init(struct ifcsw_hw *hw, const struct ifcsw_hw_conf *conf)
{
	unsigned int i;
	int ret;

	memset(hw, 0, sizeof(*hw));
	snprintf(hw->name, sizeof(hw->name), "%s", conf->name);
	hw->conf = *conf;
	hw->conf.name = hw->name;
	hw->poll_cycles = rte_get_timer_hz() / 1000000 * conf->poll_us;
	hw->ctl_fd = -1;
	hw->epfd = -1;
	ifcsw_dma_init(&hw->dma);

	for (i = 0; i < conf->nb_queue_pairs; i++) {
		ret = hw_create_wire(hw, i);
		if (ret < 0)
			goto fail_wire;
	}
	hw_init_queues(hw);

	hw->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	hw->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (hw->ctl_fd < 0 || hw->epfd < 0) {
		ret = -errno;
		goto fail_fds;
	}
	ret = hw_epoll_add(hw, hw->ctl_fd, UINT16_MAX);
	if (ret < 0)
		goto fail_fds;

	ret = ifcsw_dp_mcache_create(hw);
	if (ret < 0)
		goto fail_fds;
	ret = -pthread_create(&hw->thread, NULL, ifcsw_hw_thread_main, hw);
	if (ret < 0)
		goto fail_thread;
	hw->thread_running = true;
	if (conf->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(conf->cpu, &set);
		pthread_setaffinity_np(hw->thread, sizeof(set), &set);
	}
	snprintf(hw->thread_name, sizeof(hw->thread_name), "ifcsw-%.9s",
		 hw->name);
	pthread_setname_np(hw->thread, hw->thread_name);
	return 0;

fail_thread:
	ifcsw_dp_mcache_free(hw);
fail_fds:
	if (hw->epfd >= 0)
		close(hw->epfd);
	if (hw->ctl_fd >= 0)
		close(hw->ctl_fd);
fail_wire:
	hw_free_wires(hw);
	IFCSW_LOG(ERR, "%s: device init failed: %s", conf->name,
		  strerror(-ret));
	return ret;
}

void
ifcsw_hw_fini(struct ifcsw_hw *hw)
{
	unsigned int i;

	if (hw->thread_running) {
		for (i = 0; i < 2u * hw->conf.nb_queue_pairs; i++)
			hwq_stop(hw, i, NULL, NULL);
		hw->dev_running = false;
		__atomic_store_n(&hw->quit, true, __ATOMIC_RELEASE);
		ifcsw_hw_wake(hw);
		pthread_join(hw->thread, NULL);
		hw->thread_running = false;
	}
	for (i = 0; i < IFCSW_MAX_QUEUES; i++) {
		rte_pktmbuf_free(hw->q[i].rx_pending);
		hw->q[i].rx_pending = NULL;
		pthread_mutex_destroy(&hw->q[i].lock);
	}
	ifcsw_dp_mcache_free(hw);
	close(hw->epfd);
	close(hw->ctl_fd);
	hw_free_wires(hw);
	ifcsw_dma_unmap_all(&hw->dma);
	pthread_rwlock_destroy(&hw->dma.lock);
}
