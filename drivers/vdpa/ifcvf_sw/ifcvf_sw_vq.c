/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Where each queue's data path runs, changed in one place.
 *
 * Every change of a queue's mode goes through ifcsw_vq_set_mode(), which
 * checks it against the table below and refuses (and logs) the others,
 * and the VF's queue is started only through ifcsw_vq_run(), which
 * enforces the rule this project exists for:
 *
 *   Fail closed: while the frontend logs dirty pages, a queue never runs
 *   on the guest's own rings. A queue that cannot be relayed is held
 *   stopped (IFCSW_QUEUE_HELD) until logging stops, and the failure is
 *   reported to the frontend (see ifcsw_relay_msg_result()).
 *
 * dev->lock is held by every caller.
 */

#include <errno.h>

#include <rte_common.h>

#include "ifcvf_sw.h"
#include "ifcvf_sw_log.h"

#define M(x) (1u << IFCSW_QUEUE_ ## x)

/* Modes a queue may go to from each mode. */
static const uint32_t vq_next[] = {
	[IFCSW_QUEUE_STOPPED] = M(STOPPED) | M(DIRECT) | M(HELD) |
		M(BROKEN),
	[IFCSW_QUEUE_DIRECT] = M(STOPPED) | M(SWITCHING) | M(HELD) |
		M(BROKEN),
	[IFCSW_QUEUE_SWITCHING] = M(DIRECT) | M(RELAY) | M(STOPPED) |
		M(HELD) | M(BROKEN),
	[IFCSW_QUEUE_RELAY] = M(STOPPED) | M(SWITCHING) | M(BROKEN),
	[IFCSW_QUEUE_BROKEN] = M(STOPPED) | M(BROKEN),
	[IFCSW_QUEUE_HELD] = M(STOPPED) | M(DIRECT) | M(BROKEN),
};

int
ifcsw_vq_set_mode(struct ifcsw_dev *dev, uint16_t qid,
		  enum ifcsw_queue_mode to)
{
	struct ifcsw_vq *vq = &dev->vq[qid];

	if ((unsigned int)vq->mode >= RTE_DIM(vq_next) ||
	    !(vq_next[vq->mode] & (1u << to))) {
		IFCSW_LOG(ERR, "%s: queue %u: %s -> %s refused", dev->name,
			  qid, ifcsw_queue_mode_str(vq->mode),
			  ifcsw_queue_mode_str(to));
		return -EINVAL;
	}
	if (to == IFCSW_QUEUE_HELD && vq->mode != IFCSW_QUEUE_HELD)
		IFCSW_LOG(WARNING, "%s: queue %u held stopped: it cannot be "
			  "relayed while the frontend logs", dev->name, qid);
	vq->mode = to;
	return 0;
}

bool
ifcsw_dev_logging(const struct ifcsw_dev *dev)
{
	return (dev->features & (1ULL << VHOST_F_LOG_ALL)) != 0;
}

int
ifcsw_vq_run(struct ifcsw_dev *dev, uint16_t qid)
{
	struct ifcsw_vq *vq = &dev->vq[qid];
	bool on_guest_rings = vq->mring_used_iova == 0;

	/*
	 * The VF never logs: on the guest's rings it would write guest
	 * memory that the frontend then copies stale.
	 */
	if (on_guest_rings && ifcsw_dev_logging(dev) &&
	    dev->policy != IFCSW_RELAY_OFF) {
		IFCSW_LOG(ERR, "%s: queue %u: refusing direct I/O while the "
			  "frontend logs dirty pages", dev->name, qid);
		return -EPERM;
	}
	return ifcsw_hw_queue_start(&dev->hw, qid);
}

int
ifcsw_vq_hold(struct ifcsw_dev *dev, uint16_t qid)
{
	int ret;

	ret = ifcsw_hw_queue_stop(&dev->hw, qid, NULL, NULL);
	if (ret < 0)
		return ret;
	return ifcsw_vq_set_mode(dev, qid,
				 dev->hw.q[qid].state == IFCSW_HWQ_FAULT ?
				 IFCSW_QUEUE_BROKEN : IFCSW_QUEUE_HELD);
}
