/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The emulated VF's device thread: bursts over every running queue
 * while there is work, then polls for its budget (conf.poll_us), then
 * asks for doorbells and sleeps.
 *
 * It owns a RUNNING queue for one burst at a time, under the queue's
 * lock, and never waits for it: the driver stops a queue by taking that
 * lock (ifcvf_sw_hw.c), so a burst always completes the chains it
 * fetched and a stopped queue's index registers are exact.
 */

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "ifcvf_sw_hw.h"
#include "ifcvf_sw_log.h"

/* Chains (TX) or packets (RX) per queue per burst. */
#define IFCSW_BURST 64
/* An idle device with a DPDK wire port re-checks the wire this often. */
#define IFCSW_WIRE_POLL_MS 1

static void
eventfd_drain(int fd)
{
	uint64_t v;

	if (fd >= 0 && read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		IFCSW_LOG(DEBUG, "eventfd %d read: %s", fd, strerror(errno));
}

void
ifcsw_hw_wake(struct ifcsw_hw *hw)
{
	uint64_t one = 1;

	if (write(hw->ctl_fd, &one, sizeof(one)) < 0)
		IFCSW_LOG(ERR, "%s: cannot wake device thread: %s",
			  hw->name, strerror(errno));
}

static bool
hwq_running(const struct ifcsw_hwq *q)
{
	return __atomic_load_n(&q->state, __ATOMIC_ACQUIRE) ==
		IFCSW_HWQ_RUNNING;
}

/*
 * Own a running queue for one burst. Never waits: if the driver holds
 * the queue (starting or stopping it), the device leaves it alone.
 */
static bool
hwq_own(struct ifcsw_hwq *q)
{
	/* The driver is about to stop it: leave the lock to the driver. */
	if (__atomic_load_n(&q->stop_req, __ATOMIC_ACQUIRE))
		return false;
	if (pthread_mutex_trylock(&q->lock) != 0)
		return false;
	if (q->state == IFCSW_HWQ_RUNNING)
		return true;
	pthread_mutex_unlock(&q->lock);
	return false;
}

static void
hwq_release(struct ifcsw_hwq *q)
{
	pthread_mutex_unlock(&q->lock);
}

/* Called with q->lock held. */
static void
hwq_fault(struct ifcsw_hwq *q, int err)
{
	q->state = IFCSW_HWQ_FAULT;
	/* Packed positions mean nothing without their wrap counters. */
	IFCSW_LOG(ERR, "%s: queue %u stopped by %s (avail %u used %u, "
		  "wraps %u/%u)", q->hw->name, q->index,
		  err == -EFAULT ? "a DMA fault" : "a malformed ring",
		  q->regs.last_avail_idx, q->regs.last_used_idx,
		  q->regs.avail_wrap, q->regs.used_wrap);
}

/* One burst over every running queue. @return work done. */
static unsigned int
hw_run_bursts(struct ifcsw_hw *hw)
{
	unsigned int i, work = 0;

	for (i = 0; i < 2u * hw->conf.nb_queue_pairs; i++) {
		struct ifcsw_hwq *q = &hw->q[i];
		int n;

		if (!hwq_running(q) || !hwq_own(q))
			continue;
		ifcsw_dma_read_lock(&hw->dma);
		n = ifcsw_hwq_is_rx(q) ? ifcsw_dp_rx(q, IFCSW_BURST) :
				   ifcsw_dp_tx(q, IFCSW_BURST);
		ifcsw_dma_read_unlock(&hw->dma);
		if (n < 0)
			hwq_fault(q, n);
		else
			work += n;
		hwq_release(q);
		/*
		 * A driver thread waits for this lock: let it run now rather
		 * than at the end of our slice if it shares our CPU.
		 */
		if (__atomic_load_n(&q->stop_req, __ATOMIC_ACQUIRE))
			sched_yield();
	}
	return work;
}

/*
 * Ask for doorbells on every running queue and re-check, so that an avail
 * entry added between our last look and the guest reading our flags is
 * not missed. @return true if there is work after all (or a queue is in
 * the driver's hands: look again rather than sleep on it).
 */
static bool
hw_prepare_sleep(struct ifcsw_hw *hw, bool *wire_waiting)
{
	unsigned int i;
	bool busy = false;

	*wire_waiting = false;
	for (i = 0; i < 2u * hw->conf.nb_queue_pairs; i++) {
		struct ifcsw_hwq *q = &hw->q[i];
		bool avail;

		if (!hwq_running(q))
			continue;
		if (!hwq_own(q)) {
			busy = true;
			continue;
		}
		ifcsw_dma_read_lock(&hw->dma);
		avail = ifcsw_dp_enable_notify(q);
		ifcsw_dma_read_unlock(&hw->dma);
		if (!ifcsw_hwq_is_rx(q))
			busy |= avail;
		else if (q->rx_pending != NULL || !rte_ring_empty(q->wire))
			busy |= avail;
		else if (!hw->conf.loopback)
			*wire_waiting = true;
		hwq_release(q);
	}
	return busy;
}

static void
hw_quiet_notifications(struct ifcsw_hw *hw)
{
	unsigned int i;

	for (i = 0; i < 2u * hw->conf.nb_queue_pairs; i++) {
		struct ifcsw_hwq *q = &hw->q[i];

		if (!hwq_running(q) || !hwq_own(q))
			continue;
		ifcsw_dma_read_lock(&hw->dma);
		ifcsw_dp_disable_notify(q);
		ifcsw_dma_read_unlock(&hw->dma);
		hwq_release(q);
	}
}

static void
hw_sleep(struct ifcsw_hw *hw, int timeout_ms)
{
	struct epoll_event ev[IFCSW_MAX_QUEUES + 1];
	int n, i;

	n = epoll_wait(hw->epfd, ev, RTE_DIM(ev), timeout_ms);
	for (i = 0; i < n; i++) {
		int fd = (int)(uint32_t)ev[i].data.u64;

		eventfd_drain(fd);
		if (fd != hw->ctl_fd) {
			unsigned int qid = ev[i].data.u64 >> 32;

			if (qid < IFCSW_MAX_QUEUES)
				hw->q[qid].stats.doorbells++;
		}
	}
	hw_quiet_notifications(hw);
}

/*
 * Poll on after the last burst with work? Like the relay's adaptive
 * engine, and QEMU's iothread polling, the device thread polls its
 * queues for conf.poll_us before it arms doorbells and sleeps, yielding
 * the CPU between idle passes so a relay or a guest sharing it runs
 * first. A relay that forwards a burst then finds the device awake, its
 * doorbells still suppressed: no doorbell, no eventfd, no wake-up per
 * round (issue 14: a wake-up per round made the relayed device dearer
 * than in direct I/O). Cost: at most poll_us of CPU per wake-up of a
 * device that then finds no more work, none when idle.
 * *idle_since: when the first idle pass began (0: the last pass had work).
 */
static bool
hw_poll_on(const struct ifcsw_hw *hw, uint64_t *idle_since)
{
	uint64_t now;

	if (hw->poll_cycles == 0)
		return false;
	now = rte_get_timer_cycles();
	if (*idle_since == 0)
		*idle_since = now;
	if (now - *idle_since < hw->poll_cycles)
		return true;
	*idle_since = 0;
	return false;
}

void *
ifcsw_hw_thread_main(void *arg)
{
	struct ifcsw_hw *hw = arg;
	uint64_t idle_since = 0;
	bool wire_waiting;

	while (!__atomic_load_n(&hw->quit, __ATOMIC_ACQUIRE)) {
		/*
		 * Stops announced: step aside until the driver has them (the
		 * engine does the same for its control threads), instead of
		 * spinning on queues it holds or racing it for the CPU.
		 */
		if (__atomic_load_n(&hw->stop_pending, __ATOMIC_ACQUIRE)) {
			hw_run_bursts(hw);
			sched_yield();
			continue;
		}
		if (hw_run_bursts(hw) > 0) {
			idle_since = 0;
			continue;
		}
		if (hw->conf.polling) {
			rte_pause();
			continue;
		}
		if (hw_poll_on(hw, &idle_since)) {
			sched_yield();
			continue;
		}
		if (hw_prepare_sleep(hw, &wire_waiting))
			continue;
		hw_sleep(hw, wire_waiting ? IFCSW_WIRE_POLL_MS : -1);
	}
	return NULL;
}
