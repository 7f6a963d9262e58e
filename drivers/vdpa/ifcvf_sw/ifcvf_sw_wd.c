/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Queue control of a whole-device VF (queue_control=device), such as
 * DPDK's IFCVF, which stops and starts all its queues together: the
 * controller's per-queue ops mapped onto one run bit.
 *
 * The driver keeps the set of "runnable" queues: those the controller
 * resumed and has not suspended since. Every op leaves the device
 * running exactly the runnable queues that may run, because the driver
 * cannot tell a suspend that a resume will follow (a switch) from one
 * that none will (a queue disabled, held, or a switch that failed):
 *
 *   suspend        stop the device (every queue parks, exact indices),
 *                  drop the queue from the set, read its indices, restart
 *   program_*      stop the device if it runs, write, restart
 *   resume         stop, write the indices, add the queue, restart
 *
 * A batch (the controller's suspend_many / resume_many, issue #18) holds
 * the device stopped across all its queues' ops: one stop and one start
 * for the whole batch instead of one of each per queue.
 *
 * "May run" is the fail-closed rule: a queue on the guest's own rings
 * does not start while the frontend logs dirty pages; it stays stopped
 * until its own switch resumes it on the mediated rings. A switch thus
 * costs the other queues up to three short stops (each waits for at
 * most one burst), which is what such hardware costs.
 *
 * Called from the queue-control ops, with the controller's lock held.
 */

#include <errno.h>
#include <string.h>

#include "ifcvf_sw.h"
#include "ifcvf_sw_log.h"

bool
ifcsw_may_run(const struct ifcsw_dev *dev, uint16_t qid)
{
	return dev->vq[qid].mring_used_iova != 0 ||
		vrelay_vhost_direct_allowed(dev->ctl);
}

static void
wd_forget(struct ifcsw_dev *dev, uint16_t qid)
{
	dev->wd.runnable &= ~(1u << qid);
}

/*
 * The controller programs and resumes only a stopped queue, which for a
 * whole-device VF means one it did not resume since its last suspend:
 * writing a runnable queue's registers from a copy would roll back the
 * indices the device moved meanwhile.
 */
static int
wd_check_stopped(const struct ifcsw_dev *dev, uint16_t qid)
{
	if ((dev->wd.runnable & (1u << qid)) == 0)
		return 0;
	IFCSW_LOG(ERR, "%s: queue %u: programmed while running (driver bug)",
		  dev->name, qid);
	return -EBUSY;
}

/*
 * The runnable queues that may run now. A faulted one stays stopped
 * until the controller learns of it (its suspend returns -EIO) and
 * resets it.
 */
static uint32_t
wd_startable(const struct ifcsw_dev *dev)
{
	uint32_t mask = 0;
	uint16_t qid;

	for (qid = 0; qid < 2 * dev->nb_queue_pairs; qid++)
		if ((dev->wd.runnable & (1u << qid)) != 0 &&
		    dev->hw.q[qid].state != IFCSW_HWQ_FAULT &&
		    ifcsw_may_run(dev, qid))
			mask |= 1u << qid;
	return mask;
}

/*
 * Audit, independent of the choice above: count (and log) a queue about
 * to run on the guest's rings while the frontend logs. Must stay 0; the
 * migration test reads it.
 */
static void
wd_audit(struct ifcsw_dev *dev, uint32_t mask)
{
	uint16_t qid;

	if (vrelay_vhost_direct_allowed(dev->ctl))
		return;
	for (qid = 0; qid < 2 * dev->nb_queue_pairs; qid++) {
		if ((mask & (1u << qid)) == 0 ||
		    dev->vq[qid].mring_used_iova != 0)
			continue;
		dev->wd.unlogged_starts++;
		IFCSW_LOG(ERR, "%s: queue %u started on the guest's rings while"
			  " the frontend logs", dev->name, qid);
	}
}

void
ifcsw_wd_restart(struct ifcsw_dev *dev)
{
	uint32_t mask;
	int ret;

	if (!ifcsw_whole_device(dev) || dev->hw.dev_running || dev->wd.held)
		return;
	mask = wd_startable(dev);
	wd_audit(dev, mask);
	/* A queue that fails to start faults: its suspend reports it. */
	ret = ifcsw_hw_dev_start(&dev->hw, mask);
	if (ret < 0)
		IFCSW_LOG(WARNING, "%s: device start: a queue did not start: "
			  "%s", dev->name, strerror(-ret));
}

void
ifcsw_wd_park(struct ifcsw_dev *dev, uint16_t qid)
{
	if (!ifcsw_whole_device(dev))
		return;
	wd_forget(dev, qid);
	ifcsw_hw_dev_stop(&dev->hw);
}

int
ifcsw_regs_set(struct ifcsw_dev *dev, uint16_t qid,
	       const struct ifcsw_hwq_regs *regs)
{
	int ret;

	if (!ifcsw_whole_device(dev))
		return ifcsw_hw_queue_regs_write(&dev->hw, qid, regs);
	ret = wd_check_stopped(dev, qid);
	if (ret < 0)
		return ret;
	/* Registers change only while the whole device is stopped. */
	ifcsw_hw_dev_stop(&dev->hw);
	ret = ifcsw_hw_queue_regs_write(&dev->hw, qid, regs);
	ifcsw_wd_restart(dev);
	return ret;
}

int
ifcsw_wd_resume(struct ifcsw_dev *dev, uint16_t qid,
		const struct ifcsw_hwq_regs *regs)
{
	int ret;

	ret = wd_check_stopped(dev, qid);
	if (ret < 0)
		return ret;
	ifcsw_hw_dev_stop(&dev->hw);
	ret = ifcsw_hw_queue_regs_write(&dev->hw, qid, regs);
	if (ret == 0)
		dev->wd.runnable |= 1u << qid;
	ifcsw_wd_restart(dev);
	if (ret == 0 && dev->hw.q[qid].state != IFCSW_HWQ_RUNNING) {
		/* Bad rings: the queue faulted, the others run. */
		wd_forget(dev, qid);
		ret = dev->hw.q[qid].state == IFCSW_HWQ_FAULT ? -EFAULT :
			-EIO;
	}
	return ret;
}

void
ifcsw_wd_hold(struct ifcsw_dev *dev)
{
	if (!ifcsw_whole_device(dev))
		return;
	ifcsw_hw_dev_stop(&dev->hw);
	dev->wd.held = true;
}

void
ifcsw_wd_release(struct ifcsw_dev *dev)
{
	if (!ifcsw_whole_device(dev))
		return;
	dev->wd.held = false;
	ifcsw_wd_restart(dev);
}

void
ifcsw_wd_resume_many(struct ifcsw_dev *dev, unsigned int n,
		     const uint16_t *qids, const struct ifcsw_hwq_regs *regs,
		     int *rets)
{
	unsigned int i;

	ifcsw_wd_hold(dev);
	for (i = 0; i < n; i++) {
		if (rets[i] != 0)
			continue;	/* refused by the caller */
		rets[i] = wd_check_stopped(dev, qids[i]);
		if (rets[i] == 0)
			rets[i] = ifcsw_hw_queue_regs_write(&dev->hw, qids[i],
							    &regs[i]);
		if (rets[i] == 0)
			dev->wd.runnable |= 1u << qids[i];
	}
	ifcsw_wd_release(dev);
	for (i = 0; i < n; i++) {
		if (rets[i] != 0 ||
		    dev->hw.q[qids[i]].state == IFCSW_HWQ_RUNNING)
			continue;
		/* Bad rings: the queue faulted, the others run. */
		wd_forget(dev, qids[i]);
		rets[i] = dev->hw.q[qids[i]].state == IFCSW_HWQ_FAULT ?
			-EFAULT : -EIO;
	}
}
