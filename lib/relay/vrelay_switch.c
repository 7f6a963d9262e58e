/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Switchover between direct I/O and the relay. Each step that changes
 * the device is undone in reverse order on failure, so the queue always
 * ends up running somewhere at indices nobody lost track of.
 */

#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static bool
ops_valid(const struct vrelay_qctl_ops *ops)
{
	return ops != NULL && ops->suspend != NULL &&
		ops->program_relay != NULL && ops->program_direct != NULL &&
		ops->resume != NULL;
}

int
vrelay_switch_to_relay(struct vrelay_engine *e, struct vrelay_device *dev,
		       const struct vrelay_queue_conf *conf,
		       const struct vrelay_qctl_ops *ops, void *ctx,
		       struct vrelay_queue **qp, uint64_t *unavailable_ns)
{
	struct vrelay_queue_conf qc;
	struct vrelay_queue *q;
	uint16_t la, lu;
	uint64_t t0, t_susp, t_prog, t_att;
	int ret;

	if (e == NULL || dev == NULL || conf == NULL || !ops_valid(ops) ||
	    qp == NULL)
		return -EINVAL;
	t0 = now_ns();
	ret = ops->suspend(ctx, conf->qid, &la, &lu);
	if (ret != 0)
		goto fail_suspend;
	t_susp = now_ns();
	qc = *conf;
	qc.last_avail_idx = la;
	qc.last_used_idx = lu;
	qc.device_doorbell_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (qc.device_doorbell_fd < 0) {
		ret = -errno;
		goto fail_doorbell;
	}
	qc.device_irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (qc.device_irq_fd < 0) {
		ret = -errno;
		goto fail_irq;
	}
	q = vrelay_queue_create_owned(dev, &qc, true);
	if (q == NULL) {
		ret = -errno;
		goto fail_create;
	}
	ret = ops->program_relay(ctx, conf->qid, vrelay_queue_mring(q),
				 qc.device_doorbell_fd, qc.device_irq_fd);
	if (ret != 0)
		goto fail_program;
	t_prog = now_ns();
	ret = vrelay_engine_attach(e, q);
	if (ret != 0)
		goto fail_attach;
	t_att = now_ns();
	ret = ops->resume(ctx, conf->qid, la, lu);
	if (ret != 0)
		goto fail_resume;
	if (unavailable_ns != NULL)
		*unavailable_ns = now_ns() - t0;
	*qp = q;
	VRELAY_LOG(DEBUG, "%s: to relay: suspend %" PRIu64 " us, create+"
		   "program %" PRIu64 " us, attach %" PRIu64 " us, resume %"
		   PRIu64 " us", q->name, (t_susp - t0) / 1000,
		   (t_prog - t_susp) / 1000, (t_att - t_prog) / 1000,
		   (now_ns() - t_att) / 1000);
	VRELAY_LOG(INFO, "%s: switched to relay at avail %u used %u",
		   q->name, la, lu);
	return 0;

fail_resume:
	vrelay_engine_detach(e, q);
fail_attach:
fail_program:
	/* Partial programming included: put the guest's rings back. */
	ops->program_direct(ctx, conf->qid);
	vrelay_queue_destroy(q);	/* closes the owned fds */
	goto fail_resume_direct;
fail_create:
	close(qc.device_irq_fd);
fail_irq:
	close(qc.device_doorbell_fd);
fail_doorbell:
fail_resume_direct:
	if (ops->resume(ctx, conf->qid, la, lu) != 0)
		VRELAY_LOG(ERR, "%s: queue %u left stopped", dev->name,
			   conf->qid);
fail_suspend:
	VRELAY_LOG(ERR, "%s: switch of queue %u to relay failed: %s",
		   dev->name, conf->qid, strerror(-ret));
	return ret;
}

int
vrelay_switch_to_direct(struct vrelay_engine *e, struct vrelay_queue *q,
			const struct vrelay_qctl_ops *ops, void *ctx,
			bool resume, uint16_t *last_avail,
			uint16_t *last_used, uint64_t *unavailable_ns)
{
	uint16_t la = 0, lu = 0;
	uint64_t t0;
	int ret, fl;

	if (q == NULL)
		return -EINVAL;
	if (!ops_valid(ops)) {
		ret = -EINVAL;
		goto fail_args;
	}
	t0 = now_ns();
	if (q->engine != NULL) {
		ret = vrelay_engine_detach(q->engine == e ? e : q->engine, q);
		if (ret != 0)
			goto fail_detach;
	}
	ret = ops->suspend(ctx, q->qid, &la, &lu);
	if (ret != 0)
		goto fail_suspend;
	/* Broken or not, the device must go back to the guest's rings. */
	fl = vrelay_queue_flush(q);
	if (fl >= 0 && q->last_used != lu)
		VRELAY_LOG(WARNING, "%s: device used %u, relayed %u", q->name,
			   lu, q->last_used);
	ret = ops->program_direct(ctx, q->qid);
	if (ret != 0)
		goto fail_program;
	if (resume) {
		ret = ops->resume(ctx, q->qid, la, lu);
		if (ret != 0)
			goto fail_resume;
	}
	if (unavailable_ns != NULL)
		*unavailable_ns = now_ns() - t0;
	if (last_avail != NULL)
		*last_avail = la;
	if (last_used != NULL)
		*last_used = lu;
	VRELAY_LOG(INFO, "%s: switched to direct at avail %u used %u",
		   q->name, la, lu);
	vrelay_queue_destroy(q);
	return fl < 0 ? fl : 0;

fail_resume:
	/* Off the mediated rings already: they can go. */
	VRELAY_LOG(ERR, "%s: resume in direct I/O failed: %s", q->name,
		   strerror(-ret));
	vrelay_queue_destroy(q);
	return ret;
fail_program:
fail_suspend:
	/* The device may still use the mediated rings: keep them mapped. */
	VRELAY_LOG(ERR, "%s: switch to direct failed: %s; mediated rings "
		   "leaked", q->name, strerror(-ret));
	return ret;
fail_detach:
fail_args:
	VRELAY_LOG(ERR, "%s: switch to direct failed: %s", q->name,
		   strerror(-ret));
	vrelay_queue_destroy(q);
	return ret;
}
