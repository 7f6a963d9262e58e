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

/* ---- batches (issue #18) ------------------------------------------- */

/* Suspend n queues: the device's batch op, or one at a time. */
static void
batch_suspend(const struct vrelay_qctl_ops *ops, void *ctx, unsigned int n,
	      const uint16_t *qids, struct vrelay_qstate *states, int *rets)
{
	unsigned int i;

	if (ops->suspend_many != NULL) {
		ops->suspend_many(ctx, n, qids, states, rets);
		return;
	}
	for (i = 0; i < n; i++)
		rets[i] = ops->suspend(ctx, qids[i], &states[i]);
}

/*
 * Resume n queues, the time each ran again in done[i]: the device's
 * batch op (all at its end), or one at a time.
 */
static void
batch_resume(const struct vrelay_qctl_ops *ops, void *ctx, unsigned int n,
	     const uint16_t *qids, const struct vrelay_qstate *states,
	     int *rets, uint64_t *done)
{
	unsigned int i;
	uint64_t t;

	if (n == 0)
		return;
	if (ops->resume_many != NULL) {
		ops->resume_many(ctx, n, qids, states, rets);
		t = now_ns();
		for (i = 0; i < n; i++)
			done[i] = t;
		return;
	}
	for (i = 0; i < n; i++) {
		rets[i] = ops->resume(ctx, qids[i], &states[i]);
		done[i] = now_ns();
	}
}

/* Scratch of a batch: one allocation, freed at the end. */
struct batch {
	struct vrelay_queue_conf *qc;	/* per queue, state set at suspend */
	uint16_t *qids;
	struct vrelay_qstate *states;
	int *rets;
	int *prep;			/* 0, or why the queue cannot be relayed */
	uint64_t *done;
	/* The queues going through a step together, compacted. */
	unsigned int *idx;
	uint16_t *sqids;
	struct vrelay_qstate *sstates;
	int *srets;
	struct vrelay_queue **sqs;
};

static void
batch_free(struct batch *b)
{
	free(b->qc);
	free(b->qids);
	free(b->states);
	free(b->rets);
	free(b->prep);
	free(b->done);
	free(b->idx);
	free(b->sqids);
	free(b->sstates);
	free(b->srets);
	free(b->sqs);
}

static int
batch_alloc(struct batch *b, unsigned int n)
{
	memset(b, 0, sizeof(*b));
	b->qc = calloc(n, sizeof(*b->qc));
	b->qids = calloc(n, sizeof(*b->qids));
	b->states = calloc(n, sizeof(*b->states));
	b->rets = calloc(n, sizeof(*b->rets));
	b->prep = calloc(n, sizeof(*b->prep));
	b->done = calloc(n, sizeof(*b->done));
	b->idx = calloc(n, sizeof(*b->idx));
	b->sqids = calloc(n, sizeof(*b->sqids));
	b->sstates = calloc(n, sizeof(*b->sstates));
	b->srets = calloc(n, sizeof(*b->srets));
	b->sqs = calloc(n, sizeof(*b->sqs));
	if (b->qc == NULL || b->qids == NULL || b->states == NULL ||
	    b->rets == NULL || b->prep == NULL || b->done == NULL ||
	    b->idx == NULL || b->sqids == NULL || b->sstates == NULL ||
	    b->srets == NULL || b->sqs == NULL) {
		batch_free(b);
		return -ENOMEM;
	}
	return 0;
}

/* A queue of the batch failed at step `what`: log where it is. */
static void
batch_log_fail(const struct vrelay_device *dev, uint16_t qid, int ret,
	       const struct vrelay_switch_report *r)
{
	VRELAY_LOG(ERR, "%s: switch of queue %u to relay failed: %s; queue "
		   "%s at avail %u used %u (not resumed: the frontend logs)",
		   dev->name, qid, strerror(-ret),
		   r->devq == VRELAY_DEVQ_BROKEN ? "broken" :
		   r->devq == VRELAY_DEVQ_STOPPED ? "stopped" :
		   "in an unknown state",
		   r->state.avail_idx, r->state.used_idx);
}

/*
 * A queue of the batch failed after its suspend: put its device queue
 * back on the guest's rings, stopped (fail closed: the frontend logs),
 * free its relayed queue, and report where it is.
 */
static void
batch_queue_unwind(const struct vrelay_qctl_ops *ops, void *ctx,
		   const struct vrelay_device *dev, uint16_t qid,
		   struct vrelay_queue **qp, struct vrelay_switch_report *r,
		   int ret, uint64_t t0, int *first)
{
	r->devq = switch_unwind(ops, ctx, qid, *qp);
	*qp = NULL;
	r->unavailable_ns = now_ns() - t0;
	batch_log_fail(dev, qid, ret, r);
	if (*first == 0)
		*first = ret;
}

int
vrelay_switch_batch_to_relay(struct vrelay_engine *e,
			     struct vrelay_device *dev, unsigned int n,
			     const struct vrelay_queue_conf *confs,
			     const struct vrelay_qctl_ops *ops, void *ctx,
			     struct vrelay_queue **qs,
			     struct vrelay_switch_report *reps)
{
	struct vrelay_queue **q = qs;
	struct vrelay_urgent urg;
	struct batch b;
	unsigned int i, k, ns;
	uint64_t tp, t0, t1, t2, t3, t4, worst = 0;
	int first = 0, ret;

	if (e == NULL || dev == NULL || confs == NULL || !ops_valid(ops) ||
	    qs == NULL || reps == NULL || n == 0) {
		/* Nothing done: every queue runs where it ran. */
		for (i = 0; reps != NULL && i < n; i++)
			reps[i] = (struct vrelay_switch_report){
				.devq = VRELAY_DEVQ_UNKNOWN };
		return -EINVAL;
	}
	ret = batch_alloc(&b, n);
	if (ret != 0) {
		/* One queue at a time still works, and fails closed. */
		for (i = 0; i < n; i++) {
			ret = vrelay_switch_to_relay(e, dev, &confs[i], ops,
						     ctx, &qs[i], &reps[i]);
			if (ret < 0 && first == 0)
				first = ret;
		}
		return first;
	}

	/*
	 * 1. Prepare, the device still running: eventfds, the relayed
	 * queue's memory and mediated rings (populated). A queue that
	 * cannot be prepared is suspended all the same, and held.
	 */
	tp = now_ns();
	for (i = 0; i < n; i++) {
		reps[i] = (struct vrelay_switch_report){
			.devq = VRELAY_DEVQ_UNKNOWN };
		q[i] = NULL;
		b.qc[i] = confs[i];
		b.qids[i] = confs[i].qid;
		b.prep[i] = switch_eventfds(&b.qc[i]);
		if (b.prep[i] != 0)
			continue;
		q[i] = vrelay_queue_prepare(dev, &b.qc[i], true);
		if (q[i] == NULL) {
			b.prep[i] = -errno;
			close(b.qc[i].device_irq_fd);
			close(b.qc[i].device_doorbell_fd);
		}
	}

	/* 2. Suspend all. */
	vrelay_urgent_enter(&urg);
	t0 = now_ns();
	batch_suspend(ops, ctx, n, b.qids, b.states, b.rets);
	for (i = 0; i < n; i++) {
		struct vrelay_switch_report *r = &reps[i];

		ret = b.rets[i];
		if (ret == 0 || ret == -EIO) {
			r->state = b.states[i];
			r->devq = ret == 0 ? VRELAY_DEVQ_STOPPED :
				VRELAY_DEVQ_BROKEN;
		}
		if (ret == 0)
			ret = b.prep[i];
		if (ret == 0)
			continue;
		/* Not relayable: nothing of it reached the device. */
		vrelay_queue_destroy(q[i]);
		q[i] = NULL;
		r->unavailable_ns = now_ns() - t0;
		batch_log_fail(dev, b.qids[i], ret, r);
		b.rets[i] = ret;
		if (first == 0)
			first = ret;
	}

	/* 3. Create each at its state; 4. program all. */
	t1 = now_ns();
	for (i = 0; i < n; i++) {
		if (q[i] == NULL)
			continue;
		b.qc[i].state = b.states[i];
		vrelay_queue_start_at(q[i], &b.qc[i]);
		ret = ops->program_relay(ctx, b.qids[i],
					 vrelay_queue_mring(q[i]),
					 b.qc[i].device_doorbell_fd,
					 b.qc[i].device_irq_fd);
		if (ret == 0)
			continue;
		/* Partial programming included: put the guest's rings back. */
		batch_queue_unwind(ops, ctx, dev, b.qids[i], &q[i], &reps[i],
				   ret, t0, &first);
	}

	/* 5. Attach all under one list update. */
	t2 = now_ns();
	ret = vrelay_engine_attach_many(e, q, n, b.srets);
	for (i = 0; i < n; i++) {
		if (q[i] == NULL)
			continue;
		ret = b.srets[i];
		if (ret == 0)
			continue;
		batch_queue_unwind(ops, ctx, dev, b.qids[i], &q[i], &reps[i],
				   ret, t0, &first);
	}

	/* 6. Resume all that are on the relay. */
	t3 = now_ns();
	for (i = 0, ns = 0; i < n; i++) {
		if (q[i] == NULL)
			continue;
		b.idx[ns] = i;
		b.sqids[ns] = b.qids[i];
		b.sstates[ns] = b.states[i];
		ns++;
	}
	batch_resume(ops, ctx, ns, b.sqids, b.sstates, b.srets, b.done);
	t4 = now_ns();
	/* After the last timestamp: giving the slice back may reschedule. */
	vrelay_urgent_leave(&urg);
	for (k = 0; k < ns; k++) {
		i = b.idx[k];
		ret = b.srets[k];
		if (ret != 0) {
			vrelay_engine_detach(e, q[i]);
			batch_queue_unwind(ops, ctx, dev, b.qids[i], &q[i],
					   &reps[i], ret, t0, &first);
			continue;
		}
		reps[i].devq = VRELAY_DEVQ_RUNNING;
		reps[i].unavailable_ns = b.done[k] - t0;
		if (reps[i].unavailable_ns > worst)
			worst = reps[i].unavailable_ns;
		VRELAY_LOG(DEBUG, "%s: switched to relay at avail %u used %u",
			   q[i]->name, reps[i].state.avail_idx,
			   reps[i].state.used_idx);
	}
	/* Where the time went (doc/design.md, "Batch switchover"). */
	VRELAY_LOG(INFO, "%s: %u queues switched to relay as a batch, %u "
		   "relayed, slowest in %" PRIu64 " us (prepare %" PRIu64
		   " us before the stop; suspend %" PRIu64 " create+program %"
		   PRIu64 " attach %" PRIu64 " resume %" PRIu64 " us)",
		   dev->name, n, ns, worst / 1000, (t0 - tp) / 1000,
		   (t1 - t0) / 1000, (t2 - t1) / 1000, (t3 - t2) / 1000,
		   (t4 - t3) / 1000);
	batch_free(&b);
	return first;
}

int
vrelay_switch_batch_to_direct(struct vrelay_engine *e, unsigned int n,
			      struct vrelay_queue **qs,
			      const struct vrelay_qctl_ops *ops, void *ctx,
			      bool resume, struct vrelay_switch_report *reps)
{
	struct vrelay_qstate relayed;
	struct vrelay_urgent urg;
	struct batch b;
	unsigned int i, k, ns;
	bool *broken;
	uint64_t t0, t1, t2, t3, t4;
	int first = 0, ret;

	if (qs == NULL || reps == NULL || !ops_valid(ops) || n == 0) {
		for (i = 0; reps != NULL && i < n; i++)
			reps[i] = (struct vrelay_switch_report){
				.devq = VRELAY_DEVQ_UNKNOWN };
		VRELAY_LOG(ERR, "switch to direct: invalid arguments");
		return -EINVAL;
	}
	broken = calloc(n, sizeof(*broken));
	if (broken == NULL || batch_alloc(&b, n) != 0) {
		free(broken);
		for (i = 0; i < n; i++) {
			ret = vrelay_switch_to_direct(e, qs[i], ops, ctx,
						      resume, &reps[i]);
			if (ret < 0 && first == 0)
				first = ret;
		}
		return first;
	}
	for (i = 0; i < n; i++) {
		reps[i] = (struct vrelay_switch_report){
			.devq = VRELAY_DEVQ_UNKNOWN };
		b.rets[i] = qs[i] == NULL ? -EINVAL : 0;
		b.qids[i] = qs[i] != NULL ? qs[i]->qid : 0;
	}
	vrelay_urgent_enter(&urg);
	t0 = now_ns();
	/* 1. Detach all: one list update for those on e. */
	for (i = 0; i < n; i++)
		b.sqs[i] = qs[i] != NULL && qs[i]->engine == e ? qs[i] : NULL;
	if (e != NULL)
		vrelay_engine_detach_many(e, b.sqs, n, b.srets);
	for (i = 0; i < n; i++)
		if (qs[i] != NULL && qs[i]->engine != NULL)
			vrelay_engine_detach(qs[i]->engine, qs[i]);

	/* 2. Suspend all (those with a queue). */
	t1 = now_ns();
	for (i = 0, ns = 0; i < n; i++) {
		if (qs[i] == NULL)
			continue;
		b.idx[ns] = i;
		b.sqids[ns] = b.qids[i];
		ns++;
	}
	batch_suspend(ops, ctx, ns, b.sqids, b.sstates, b.srets);
	t2 = now_ns();
	for (k = 0; k < ns; k++) {
		struct vrelay_queue *q;

		i = b.idx[k];
		q = qs[i];
		ret = b.srets[k];
		reps[i].state = b.sstates[k];
		if (ret != 0 && ret != -EIO) {
			/* It may still run on the mediated rings: leak them. */
			VRELAY_LOG(ERR, "%s: switch to direct failed: %s; "
				   "mediated rings leaked", q->name,
				   strerror(-ret));
			reps[i].state = (struct vrelay_qstate){ 0 };
			b.prep[i] = 1;	/* leaked */
			b.rets[i] = ret;
			continue;
		}
		/* 3. Flush what the device completed before it stopped. */
		broken[i] = ret == -EIO;
		if (vrelay_queue_flush(q) < 0)
			broken[i] = true;
		vrelay_queue_get_qstate(q, &relayed);
		if (!broken[i] && (relayed.used_idx != reps[i].state.used_idx ||
				   relayed.used_wrap != reps[i].state.used_wrap))
			VRELAY_LOG(WARNING, "%s: device used %u, relayed %u",
				   q->name, reps[i].state.used_idx,
				   relayed.used_idx);
		/* 4. Back onto the guest's rings. */
		ret = ops->program_direct(ctx, q->qid);
		if (ret != 0) {
			reps[i].devq = VRELAY_DEVQ_BROKEN;
			VRELAY_LOG(ERR, "%s: switch to direct failed: %s; "
				   "mediated rings leaked", q->name,
				   strerror(-ret));
			b.prep[i] = 1;	/* leaked */
			b.rets[i] = ret;
			continue;
		}
		reps[i].devq = broken[i] ? VRELAY_DEVQ_BROKEN :
			VRELAY_DEVQ_STOPPED;
		if (broken[i])
			b.rets[i] = -EIO;
	}

	/* 5. Resume all that may run. */
	t3 = now_ns();
	for (i = 0, ns = 0; i < n; i++) {
		if (!resume || reps[i].devq != VRELAY_DEVQ_STOPPED)
			continue;
		b.idx[ns] = i;
		b.sqids[ns] = b.qids[i];
		b.sstates[ns] = reps[i].state;
		ns++;
	}
	batch_resume(ops, ctx, ns, b.sqids, b.sstates, b.srets, b.done);
	t4 = now_ns();
	/* After the last timestamp: giving the slice back may reschedule. */
	vrelay_urgent_leave(&urg);
	for (k = 0; k < ns; k++) {
		i = b.idx[k];
		if (b.srets[k] != 0) {
			VRELAY_LOG(ERR, "%s: resume in direct I/O failed: %s; "
				   "queue left stopped", qs[i]->name,
				   strerror(-b.srets[k]));
			b.rets[i] = b.srets[k];
			continue;
		}
		reps[i].devq = VRELAY_DEVQ_RUNNING;
		reps[i].unavailable_ns = b.done[k] - t0;
	}

	/* 6. Destroy every queue the device no longer uses. */
	for (i = 0; i < n; i++) {
		if (b.rets[i] != 0 && first == 0)
			first = b.rets[i];
		if (qs[i] == NULL)
			continue;
		if (reps[i].unavailable_ns == 0)
			reps[i].unavailable_ns = now_ns() - t0;
		/* Leaked on purpose: the device may still reference them. */
		if (b.prep[i] == 0)
			vrelay_queue_destroy(qs[i]);
	}
	VRELAY_LOG(INFO, "%u queues switched to direct as a batch%s (detach %"
		   PRIu64 " suspend %" PRIu64 " flush+program %" PRIu64
		   " resume %" PRIu64 " us; destroy %" PRIu64 " us after)", n,
		   first != 0 ? ", some failed: see above" : "",
		   (t1 - t0) / 1000, (t2 - t1) / 1000, (t3 - t2) / 1000,
		   (t4 - t3) / 1000, (now_ns() - t4) / 1000);
	free(broken);
	batch_free(&b);
	return first;
}
