/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Switchover between direct I/O and the relay.
 *
 * Fail closed: a switch to the relay happens because the frontend logs
 * dirty pages, so no failure path resumes the device queue in direct I/O
 * (it would DMA into guest memory unlogged). A failed switch undoes its
 * steps in reverse order down to "stopped on the guest's rings", and the
 * report tells the caller where the queue is and at which indices, so
 * that the caller can hand exact indices to the frontend and resume the
 * queue once logging has stopped.
 *
 * Memory safety: the mediated rings are freed only once the device queue
 * is known to be stopped and pointed away from them.
 */

#include <stdlib.h>
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

/*
 * VRELAY_FAULT_SWITCH=N: every N-th switch to the relay fails after the
 * suspend, as if eventfd() had hit the process's fd limit. Read once.
 * Lets the robustness suite prove the fail-closed path end to end.
 */
static bool
fault_switch_fires(void)
{
	static int every = -1;	/* -1: not read yet, 0: off */
	static uint64_t calls;
	const char *v;
	int n;

	if (__atomic_load_n(&every, __ATOMIC_ACQUIRE) < 0) {
		v = getenv("VRELAY_FAULT_SWITCH");
		n = v != NULL ? atoi(v) : 0;
		if (n > 0)
			VRELAY_LOG(WARNING, "fault injection: every %d-th "
				   "switch to the relay fails", n);
		__atomic_store_n(&every, n > 0 ? n : 0, __ATOMIC_RELEASE);
	}
	n = __atomic_load_n(&every, __ATOMIC_ACQUIRE);
	return n > 0 &&
		__atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED) % n == 0;
}

/* Create the two eventfds the device uses in place of the guest's. */
static int
switch_eventfds(struct vrelay_queue_conf *qc)
{
	if (fault_switch_fires())
		return -EMFILE;
	qc->device_doorbell_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (qc->device_doorbell_fd < 0)
		return -errno;
	qc->device_irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (qc->device_irq_fd < 0) {
		close(qc->device_doorbell_fd);
		return -errno;
	}
	return 0;
}

/*
 * Undo a partial switch to the relay: point the stopped device queue back
 * at the guest's rings and free the relayed queue, or, if the device
 * refuses, keep the mediated rings it may still reference.
 */
static enum vrelay_devq_state
switch_unwind(const struct vrelay_qctl_ops *ops, void *ctx, uint16_t qid,
	      struct vrelay_queue *q)
{
	bool broken = q != NULL && vrelay_queue_is_broken(q);

	if (ops->program_direct(ctx, qid) != 0) {
		VRELAY_LOG(ERR, "%s: queue %u cannot be reprogrammed; mediated"
			   " rings leaked", q != NULL ? q->name : "?", qid);
		return VRELAY_DEVQ_BROKEN;
	}
	vrelay_queue_destroy(q);	/* closes the owned fds */
	return broken ? VRELAY_DEVQ_BROKEN : VRELAY_DEVQ_STOPPED;
}

int
vrelay_switch_to_relay(struct vrelay_engine *e, struct vrelay_device *dev,
		       const struct vrelay_queue_conf *conf,
		       const struct vrelay_qctl_ops *ops, void *ctx,
		       struct vrelay_queue **qp, struct vrelay_switch_report *rep)
{
	struct vrelay_switch_report r = { .devq = VRELAY_DEVQ_UNKNOWN };
	struct vrelay_queue_conf qc;
	struct vrelay_queue *q = NULL;
	uint64_t t0;
	int ret;

	if (e == NULL || dev == NULL || conf == NULL || !ops_valid(ops) ||
	    qp == NULL) {
		ret = -EINVAL;
		goto fail_args;
	}
	*qp = NULL;
	t0 = now_ns();
	ret = ops->suspend(ctx, conf->qid, &r.state);
	if (ret == -EIO) {
		/* Faulted: stopped, and it stays so until a reset. */
		r.devq = VRELAY_DEVQ_BROKEN;
		goto fail_suspend;
	}
	if (ret != 0)
		goto fail_suspend;
	r.devq = VRELAY_DEVQ_STOPPED;
	qc = *conf;
	qc.state = r.state;
	ret = switch_eventfds(&qc);
	if (ret != 0)
		goto fail_eventfds;
	q = vrelay_queue_create_owned(dev, &qc, true);
	if (q == NULL) {
		ret = -errno;
		close(qc.device_irq_fd);
		close(qc.device_doorbell_fd);
		goto fail_create;
	}
	ret = ops->program_relay(ctx, conf->qid, vrelay_queue_mring(q),
				 qc.device_doorbell_fd, qc.device_irq_fd);
	if (ret != 0)
		goto fail_program;
	ret = vrelay_engine_attach(e, q);
	if (ret != 0)
		goto fail_attach;
	ret = ops->resume(ctx, conf->qid, &r.state);
	if (ret != 0)
		goto fail_resume;
	r.devq = VRELAY_DEVQ_RUNNING;
	r.unavailable_ns = now_ns() - t0;
	*qp = q;
	if (rep != NULL)
		*rep = r;
	VRELAY_LOG(INFO, "%s: switched to relay at avail %u used %u in %"
		   PRIu64 " us", q->name, r.state.avail_idx, r.state.used_idx,
		   r.unavailable_ns / 1000);
	return 0;

fail_resume:
	vrelay_engine_detach(e, q);
fail_attach:
fail_program:
	/* Partial programming included: put the guest's rings back. */
	r.devq = switch_unwind(ops, ctx, conf->qid, q);
fail_create:
fail_eventfds:
	r.unavailable_ns = now_ns() - t0;
fail_suspend:
	VRELAY_LOG(ERR, "%s: switch of queue %u to relay failed: %s; queue "
		   "%s at avail %u used %u (not resumed: the frontend logs)",
		   dev->name, conf->qid, strerror(-ret),
		   r.devq == VRELAY_DEVQ_BROKEN ? "broken" :
		   r.devq == VRELAY_DEVQ_STOPPED ? "stopped" : "in an unknown state",
		   r.state.avail_idx, r.state.used_idx);
fail_args:
	if (rep != NULL)
		*rep = r;
	return ret;
}

int
vrelay_switch_to_direct(struct vrelay_engine *e, struct vrelay_queue *q,
			const struct vrelay_qctl_ops *ops, void *ctx,
			bool resume, struct vrelay_switch_report *rep)
{
	struct vrelay_switch_report r = { .devq = VRELAY_DEVQ_UNKNOWN };
	struct vrelay_qstate relayed;
	bool broken;
	uint64_t t0;
	int ret;

	(void)e;	/* the queue knows its engine */
	if (q == NULL || !ops_valid(ops)) {
		/* Nothing done: the device may still run on the rings. */
		ret = -EINVAL;
		goto fail_args;
	}
	t0 = now_ns();
	/* Not attached (never or detached already) is not an error here. */
	if (q->engine != NULL)
		vrelay_engine_detach(q->engine, q);
	ret = ops->suspend(ctx, q->qid, &r.state);
	if (ret != 0 && ret != -EIO)
		goto fail_suspend;
	/*
	 * Stopped (faulted or not): relay what the device completed before
	 * it stopped, so the guest's used index matches the device's.
	 */
	broken = ret == -EIO;
	if (vrelay_queue_flush(q) < 0)
		broken = true;
	vrelay_queue_get_qstate(q, &relayed);
	if (!broken && (relayed.used_idx != r.state.used_idx ||
			relayed.used_wrap != r.state.used_wrap))
		VRELAY_LOG(WARNING, "%s: device used %u, relayed %u", q->name,
			   r.state.used_idx, relayed.used_idx);
	ret = ops->program_direct(ctx, q->qid);
	if (ret != 0)
		goto fail_program;
	r.devq = broken ? VRELAY_DEVQ_BROKEN : VRELAY_DEVQ_STOPPED;
	if (resume && !broken) {
		ret = ops->resume(ctx, q->qid, &r.state);
		if (ret != 0)
			goto fail_resume;
		r.devq = VRELAY_DEVQ_RUNNING;
	}
	r.unavailable_ns = now_ns() - t0;
	VRELAY_LOG(INFO, "%s: switched to direct at avail %u used %u%s",
		   q->name, r.state.avail_idx, r.state.used_idx,
		   broken ? " (broken: left stopped)" : "");
	vrelay_queue_destroy(q);
	if (rep != NULL)
		*rep = r;
	return broken ? -EIO : 0;

fail_resume:
	/* Off the mediated rings already: they can go. */
	VRELAY_LOG(ERR, "%s: resume in direct I/O failed: %s; queue left "
		   "stopped", q->name, strerror(-ret));
	vrelay_queue_destroy(q);
	goto out;
fail_program:
	r.devq = VRELAY_DEVQ_BROKEN;
	/* Fall through: it may still point at the mediated rings. */
fail_suspend:
	VRELAY_LOG(ERR, "%s: switch to direct failed: %s; mediated rings "
		   "leaked", q->name, strerror(-ret));
	goto out;
fail_args:
	VRELAY_LOG(ERR, "switch to direct: invalid arguments");
out:
	if (rep != NULL)
		*rep = r;
	return ret;
}
