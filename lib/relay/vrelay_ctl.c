/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The controller's queue modes, switches and engines.
 *
 * Every change of a queue's mode goes through vrelay_vq_set_mode(),
 * and of a device's state through vrelay_dev_set_state(), which check
 * it against a table and refuse (and log) the others; a queue is started on the guest's rings only through
 * vrelay_vq_run(). Together they enforce the rule this library exists
 * for:
 *
 *   Fail closed: while the frontend logs dirty pages, a queue never runs
 *   on the guest's own rings. A queue that cannot be relayed is held
 *   stopped (VRELAY_QMODE_HELD) until logging stops, and the failure is
 *   reported to the frontend (v->relay_error, see vrelay_vlog.c).
 *
 * Engines are shared by every controller of the process: one per engine
 * kind and CPU, created when a device first needs it and stopped when
 * the last device using it stops relaying.
 *
 * The controller's lock is held by every caller.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vrelay_vhost_private.h"
#include "vrelay_rtelog.h"

#define M(x) (1u << VRELAY_QMODE_ ## x)

/* Modes a queue may go to from each mode. */
static const uint32_t vq_next[VRELAY_QMODE_COUNT] = {
	[VRELAY_QMODE_STOPPED] = M(STOPPED) | M(DIRECT) | M(HELD) |
		M(BROKEN),
	[VRELAY_QMODE_DIRECT] = M(STOPPED) | M(SWITCHING) | M(HELD) |
		M(BROKEN),
	[VRELAY_QMODE_SWITCHING] = M(DIRECT) | M(RELAY) | M(STOPPED) |
		M(HELD) | M(BROKEN),
	[VRELAY_QMODE_RELAY] = M(STOPPED) | M(SWITCHING) | M(BROKEN),
	[VRELAY_QMODE_BROKEN] = M(STOPPED) | M(BROKEN),
	[VRELAY_QMODE_HELD] = M(STOPPED) | M(DIRECT) | M(BROKEN),
};

int
vrelay_vq_set_mode(struct vrelay_vhost *v, uint16_t qid,
		   enum vrelay_qmode to)
{
	struct vrelay_vq *vq = &v->vq[qid];

	if ((unsigned int)vq->mode >= VRELAY_QMODE_COUNT ||
	    (unsigned int)to >= VRELAY_QMODE_COUNT ||
	    !(vq_next[vq->mode] & (1u << to))) {
		VRELAY_LOG(ERR, "%s: queue %u: %s -> %s refused", v->name,
			   qid, vrelay_qmode_to_str(vq->mode),
			   vrelay_qmode_to_str(to));
		return -EINVAL;
	}
	if (to == VRELAY_QMODE_HELD && vq->mode != VRELAY_QMODE_HELD)
		VRELAY_LOG(WARNING, "%s: queue %u held stopped: it cannot be "
			   "relayed while the frontend logs", v->name, qid);
	/* Out of DIRECT the device queue is stopped or on mediated rings. */
	if (to != VRELAY_QMODE_DIRECT)
		vq->direct_run = false;
	vq->mode = to;
	return 0;
}

#define D(x) (1u << VRELAY_DSTATE_ ## x)

/* States a device may go to from each state; any may close (IDLE). */
static const uint32_t dev_next[VRELAY_DSTATE_COUNT] = {
	[VRELAY_DSTATE_IDLE] = D(IDLE) | D(DIRECT),
	[VRELAY_DSTATE_DIRECT] = D(IDLE) | D(DIRECT) | D(SWITCHING),
	[VRELAY_DSTATE_SWITCHING] = D(IDLE) | D(DIRECT) | D(RELAY),
	[VRELAY_DSTATE_RELAY] = D(IDLE) | D(SWITCHING),
};

int
vrelay_dev_set_state(struct vrelay_vhost *v, enum vrelay_dstate to)
{
	if ((unsigned int)v->state >= VRELAY_DSTATE_COUNT ||
	    (unsigned int)to >= VRELAY_DSTATE_COUNT ||
	    !(dev_next[v->state] & (1u << to))) {
		VRELAY_LOG(ERR, "%s: device %s -> %s refused", v->name,
			   vrelay_dstate_to_str(v->state),
			   vrelay_dstate_to_str(to));
		return -EINVAL;
	}
	v->state = to;
	return 0;
}

bool
vrelay_vhost_direct_allowed(const struct vrelay_vhost *v)
{
	/* The device cannot log: on the guest's rings it writes unlogged. */
	return !vrelay_vhost_logging(v) || v->policy == VRELAY_POLICY_OFF;
}

int
vrelay_vq_run(struct vrelay_vhost *v, uint16_t qid)
{
	struct vrelay_vq *vq = &v->vq[qid];
	int ret;

	if (!vrelay_vhost_direct_allowed(v)) {
		VRELAY_LOG(ERR, "%s: queue %u: refusing direct I/O while the "
			   "frontend logs dirty pages", v->name, qid);
		return -EPERM;
	}
	ret = v->ops->qctl.resume(v->ctx, qid, &vq->ring.state);
	if (ret == 0)
		vq->direct_run = true;
	return ret;
}

int
vrelay_vq_hold(struct vrelay_vhost *v, uint16_t qid)
{
	struct vrelay_vq *vq = &v->vq[qid];
	int ret;

	ret = v->ops->qctl.suspend(v->ctx, qid, &vq->ring.state);
	if (ret != 0 && ret != -EIO)
		return ret;
	return vrelay_vq_set_mode(v, qid, ret == -EIO ? VRELAY_QMODE_BROKEN :
				  VRELAY_QMODE_HELD);
}

/* ---- engines -------------------------------------------------------- */

struct engine_ref {
	struct vrelay_engine *e;
	enum vrelay_mode mode;
	int cpu;
	unsigned int refs;
};

/* One entry per engine kind and CPU in use; small, so an array. */
#define ENGINES_MAX 64
static struct engine_ref engines[ENGINES_MAX];
static pthread_mutex_t engines_lock = PTHREAD_MUTEX_INITIALIZER;

/* A reference to the engine of this kind and CPU, started if need be. */
static struct vrelay_engine *
engine_get(enum vrelay_mode mode, int cpu)
{
	struct engine_ref *free_slot = NULL, *r;
	struct vrelay_engine *e = NULL;
	char name[16];
	unsigned int i;

	pthread_mutex_lock(&engines_lock);
	for (i = 0; i < ENGINES_MAX; i++) {
		r = &engines[i];
		if (r->e != NULL && r->mode == mode && r->cpu == cpu) {
			r->refs++;
			e = r->e;
			goto out;
		}
		if (r->e == NULL && free_slot == NULL)
			free_slot = r;
	}
	if (free_slot == NULL) {
		VRELAY_LOG(ERR, "more than %d engine kinds and CPUs in use",
			   ENGINES_MAX);
		goto out;
	}
	snprintf(name, sizeof(name), "relay-%s", vrelay_mode_to_str(mode));
	e = vrelay_engine_create(name, mode, cpu);
	if (e == NULL) {
		VRELAY_LOG(ERR, "cannot start the %s relay engine",
			   vrelay_mode_to_str(mode));
		goto out;
	}
	*free_slot = (struct engine_ref){ e, mode, cpu, 1 };
out:
	pthread_mutex_unlock(&engines_lock);
	return e;
}

/* Drop a reference; the last one stops the engine (no queue is on it). */
static void
engine_put(struct vrelay_engine *e)
{
	unsigned int i;

	if (e == NULL)
		return;
	pthread_mutex_lock(&engines_lock);
	for (i = 0; i < ENGINES_MAX; i++) {
		struct engine_ref *r = &engines[i];

		if (r->e != e)
			continue;
		if (--r->refs == 0) {
			vrelay_engine_destroy(e);
			*r = (struct engine_ref){ 0 };
		}
		break;
	}
	pthread_mutex_unlock(&engines_lock);
}

/* ---- one queue --------------------------------------------------------- */

static void
switch_account(struct vrelay_vq *vq, uint64_t ns, bool to_relay)
{
	if (to_relay)
		vq->sw.to_relay++;
	else
		vq->sw.to_direct++;
	vq->sw.last_ns = ns;
	vq->sw.total_ns += ns;
	if (ns > vq->sw.max_ns)
		vq->sw.max_ns = ns;
}

/* Add one relay period's counters (or the current one's) to t. */
static void
qstats_add(struct vrelay_queue_stats *t, const struct vrelay_queue_stats *s)
{
	t->avail_relayed += s->avail_relayed;
	t->used_relayed += s->used_relayed;
	t->pages_logged += s->pages_logged;
	t->log_bursts += s->log_bursts;
	t->guest_kicks += s->guest_kicks;
	t->device_irqs += s->device_irqs;
	t->guest_calls += s->guest_calls;
	t->device_kicks += s->device_kicks;
	t->broken += s->broken;
	t->inflight_logged += s->inflight_logged;
	t->window_log_all += s->window_log_all;
}

void
vrelay_ctl_qstats(const struct vrelay_vq *vq, struct vrelay_queue_stats *s)
{
	struct vrelay_queue_stats cur;

	*s = vq->relay_total;
	if (vq->relay != NULL) {
		vrelay_queue_get_stats(vq->relay, &cur);
		qstats_add(s, &cur);
	}
}

/*
 * Whether a packed queue's in-flight window must be logged as all of
 * guest memory (vrelay_queue_conf.log_window_all): the one place that
 * decides it.
 *
 * A packed used descriptor overwrites, in the guest's ring, the chain it
 * completes, and the guest may reuse the slot at once: a completion the
 * device made on the guest's rings cannot be attributed to buffer pages
 * afterwards, as a split window can. So whenever the queue may have run
 * on the guest's rings while the frontend logs, all memory is logged at
 * the switch. That is exactly "running direct now, and logging": fail
 * closed lets a queue run direct while logging only until its switch
 * (the switch at log-on, vrelay_ctl_start(), from SET_FEATURES or a
 * policy change) or with relay=off (a later policy change switches it
 * here too); a queue stopped while logging is held, relayed, or
 * reprogrammed at vhost's indices (vq_start: not run, no window), as a
 * queue started straight on the relay at dev_conf or while relaying.
 */
static bool
window_unattributable(const struct vrelay_vhost *v, const struct vrelay_vq *vq)
{
	return vq->ring.format == VRELAY_RING_PACKED && vq->direct_run &&
		vrelay_vhost_logging(v);
}

/* Build the relay's view of a queue. */
static void
queue_conf(struct vrelay_vhost *v, uint16_t qid, char *name,
	   struct vrelay_queue_conf *conf)
{
	struct vrelay_vq *vq = &v->vq[qid];
	struct rte_vhost_vring vring;

	/*
	 * The frontend gives the used ring's log address with the LOG flag
	 * of SET_VRING_ADDR, typically only when migration starts: read it
	 * now. Without a vIOMMU it is the used ring's GPA. A packed ring
	 * has no single meaning for it (DPDK's vhost logs used
	 * descriptors at log_guest_addr + slot * 16, so its frontends
	 * give the descriptor ring; QEMU gives the device area): use the
	 * GPAs the memory table gave both areas (vq_load()).
	 */
	if (vq->ring.format != VRELAY_RING_PACKED &&
	    rte_vhost_get_vhost_vring(v->vid, qid, &vring) == 0 &&
	    vring.log_guest_addr != 0)
		vq->log_guest_addr = vring.log_guest_addr;
	else
		vq->log_guest_addr = vq->ring.device_area_gpa;
	snprintf(name, VRELAY_NAME_LEN, "q%u", qid);
	memset(conf, 0, sizeof(*conf));
	conf->name = name;
	conf->qid = qid;
	conf->size = vq->vring.size;
	conf->format = vq->ring.format;
	conf->desc = vq->vring.desc;
	conf->driver_area = vq->vring.avail;
	conf->device_area = vq->vring.used;
	conf->device_area_gpa = vq->log_guest_addr;
	/* Packed: the relay writes used descriptors into the guest's ring. */
	conf->desc_gpa = vq->ring.desc_gpa;
	conf->event_idx = (v->features &
			   (1ULL << VIRTIO_RING_F_EVENT_IDX)) != 0;
	conf->indirect = (v->features &
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
	 * Split only: a packed window is all of memory or nothing.
	 */
	conf->log_from_used_idx = vq->used_idx_at_log_on;
	conf->log_window_all = window_unattributable(v, vq);
	/* virtio-net: odd queues transmit, the device only reads them. */
	conf->device_read_only = (qid & 1) != 0;
}

/*
 * After a queue's switch to the relay (alone or in a batch): its mode
 * from where the switch left it; a failure holds it (fail closed) and is
 * kept for the frontend.
 */
static int
queue_start_done(struct vrelay_vhost *v, uint16_t qid, int ret,
		 const struct vrelay_switch_report *rep)
{
	struct vrelay_vq *vq = &v->vq[qid];

	if (rep->devq != VRELAY_DEVQ_UNKNOWN)
		vq->ring.state = rep->state;
	if (ret < 0 || vq->relay == NULL) {
		if (ret >= 0)
			ret = -EIO;
		vq->relay = NULL;
		vrelay_vq_set_mode(v, qid, rep->devq == VRELAY_DEVQ_STOPPED ?
				   VRELAY_QMODE_HELD : VRELAY_QMODE_BROKEN);
		v->relay_error = ret;
		return ret;
	}
	vrelay_vq_set_mode(v, qid, VRELAY_QMODE_RELAY);
	switch_account(vq, rep->unavailable_ns, true);
	return 0;
}

/* Whether a queue can go through a switch to the relay at all. */
static int
queue_relayable(struct vrelay_vhost *v, uint16_t qid)
{
	if (v->engine == NULL)
		return -ENOMEM;
	if (vrelay_vhost_logging(v) && v->log_size == 0) {
		/* Nothing to log into: relaying would lose every page. */
		VRELAY_LOG(ERR, "%s: queue %u: the frontend logs but gave no "
			   "usable dirty log", v->name, qid);
		return -ENOENT;
	}
	return 0;
}

int
vrelay_ctl_queue_start(struct vrelay_vhost *v, uint16_t qid)
{
	struct vrelay_vq *vq = &v->vq[qid];
	struct vrelay_switch_report rep;
	struct vrelay_queue_conf conf;
	char name[VRELAY_NAME_LEN];
	int ret;

	if (vq->mode != VRELAY_QMODE_DIRECT)
		return -EINVAL;
	ret = queue_relayable(v, qid);
	if (ret < 0)
		goto fail_hold;
	queue_conf(v, qid, name, &conf);
	vrelay_vq_set_mode(v, qid, VRELAY_QMODE_SWITCHING);
	ret = vrelay_switch_to_relay(v->engine, v->rdev, &conf, &v->ops->qctl,
				     v->ctx, &vq->relay, &rep);
	return queue_start_done(v, qid, ret, &rep);

fail_hold:
	vrelay_vq_hold(v, qid);
	v->relay_error = ret;
	return ret;
}

static void queue_stop_done(struct vrelay_vhost *v, uint16_t qid,
			    bool resume, int ret,
			    struct vrelay_switch_report *rep);

int
vrelay_ctl_queue_stop(struct vrelay_vhost *v, uint16_t qid, bool resume,
		      struct vrelay_qstate *state)
{
	struct vrelay_vq *vq = &v->vq[qid];
	struct vrelay_switch_report rep;
	struct vrelay_queue_stats s;
	int ret;

	if (vq->relay == NULL)
		return -EINVAL;
	vrelay_vq_set_mode(v, qid, VRELAY_QMODE_SWITCHING);
	vrelay_queue_get_stats(vq->relay, &s);
	qstats_add(&vq->relay_total, &s);
	ret = vrelay_switch_to_direct(v->engine, vq->relay, &v->ops->qctl,
				      v->ctx, resume, &rep);
	queue_stop_done(v, qid, resume, ret, &rep);
	if (state != NULL)
		*state = rep.state;
	return ret;
}

/* After a queue's switch to direct I/O (alone or in a batch). */
static void
queue_stop_done(struct vrelay_vhost *v, uint16_t qid, bool resume, int ret,
		struct vrelay_switch_report *rep)
{
	struct vrelay_vq *vq = &v->vq[qid];
	enum vrelay_qmode to;

	vq->relay = NULL;
	if (rep->devq == VRELAY_DEVQ_UNKNOWN) {
		/* Ask the device again: suspend is idempotent on a stop. */
		v->ops->qctl.suspend(v->ctx, qid, &rep->state);
	}
	vq->ring.state = rep->state;
	switch (rep->devq) {
	case VRELAY_DEVQ_RUNNING:
		to = VRELAY_QMODE_DIRECT;
		break;
	case VRELAY_DEVQ_STOPPED:
		/* Not resumed on purpose, or resume refused: fail closed. */
		to = resume ? VRELAY_QMODE_HELD : VRELAY_QMODE_STOPPED;
		break;
	default:
		to = VRELAY_QMODE_BROKEN;
		break;
	}
	vrelay_vq_set_mode(v, qid, to);
	/* Resumed on the guest's rings: a later switch has a window. */
	vq->direct_run = rep->devq == VRELAY_DEVQ_RUNNING;
	if (ret == 0)
		switch_account(vq, rep->unavailable_ns, false);
}

/* ---- the device -------------------------------------------------------- */

static uint64_t
last_switch_ns(const struct vrelay_vhost *v)
{
	uint64_t worst = 0;
	uint16_t qid;

	for (qid = 0; qid < v->nb_vqs; qid++)
		if (v->vq[qid].sw.last_ns > worst)
			worst = v->vq[qid].sw.last_ns;
	return worst;
}

/*
 * VRELAY_SWITCH_BATCH=0 in the environment (read once): switch a
 * device's queues one after another, as before issue #18, for
 * comparison. Default: as one batch.
 */
static bool
switch_batched(void)
{
	static int batched = -1;
	const char *s;

	if (__atomic_load_n(&batched, __ATOMIC_ACQUIRE) < 0) {
		s = getenv("VRELAY_SWITCH_BATCH");
		__atomic_store_n(&batched, s == NULL || atoi(s) != 0,
				 __ATOMIC_RELEASE);
	}
	return __atomic_load_n(&batched, __ATOMIC_ACQUIRE) != 0;
}

/* Scratch of a controller batch, sized for the device's queues. */
struct ctl_batch {
	uint16_t *qids;
	struct vrelay_queue_conf *confs;
	char (*names)[VRELAY_NAME_LEN];
	struct vrelay_queue **qs;
	struct vrelay_switch_report *reps;
};

static void
ctl_batch_free(struct ctl_batch *b)
{
	free(b->qids);
	free(b->confs);
	free(b->names);
	free(b->qs);
	free(b->reps);
}

static int
ctl_batch_alloc(struct ctl_batch *b, unsigned int n)
{
	b->qids = calloc(n, sizeof(*b->qids));
	b->confs = calloc(n, sizeof(*b->confs));
	b->names = calloc(n, sizeof(*b->names));
	b->qs = calloc(n, sizeof(*b->qs));
	b->reps = calloc(n, sizeof(*b->reps));
	if (b->qids == NULL || b->confs == NULL || b->names == NULL ||
	    b->qs == NULL || b->reps == NULL) {
		ctl_batch_free(b);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Switch every direct queue to the relay, as one batch
 * (vrelay_switch_batch_to_relay()). A queue that cannot be relayed at
 * all is held on its own first, exactly as vrelay_ctl_queue_start().
 */
static int
ctl_start_queues(struct vrelay_vhost *v, uint64_t *total_ns)
{
	struct ctl_batch b;
	unsigned int n = 0, k;
	uint16_t qid;
	int ret = 0, err;

	if (!switch_batched() || ctl_batch_alloc(&b, v->nb_vqs) != 0) {
		for (qid = 0; qid < v->nb_vqs; qid++) {
			if (v->vq[qid].mode != VRELAY_QMODE_DIRECT)
				continue;
			err = vrelay_ctl_queue_start(v, qid);
			if (err < 0 && ret == 0)
				ret = err;
		}
		return ret;
	}
	for (qid = 0; qid < v->nb_vqs; qid++) {
		if (v->vq[qid].mode != VRELAY_QMODE_DIRECT)
			continue;
		if (queue_relayable(v, qid) < 0) {
			/* Held alone: the error is recorded for the frontend. */
			err = vrelay_ctl_queue_start(v, qid);
			if (err < 0 && ret == 0)
				ret = err;
			continue;
		}
		queue_conf(v, qid, b.names[n], &b.confs[n]);
		b.qids[n++] = qid;
	}
	if (n == 0)
		goto out;
	for (k = 0; k < n; k++)
		vrelay_vq_set_mode(v, b.qids[k], VRELAY_QMODE_SWITCHING);
	err = vrelay_switch_batch_to_relay(v->engine, v->rdev, n, b.confs,
					   &v->ops->qctl, v->ctx, b.qs, b.reps);
	/* All measured from the batch's first suspend: the last is the total. */
	*total_ns = 0;
	for (k = 0; k < n; k++)
		if (b.reps[k].unavailable_ns > *total_ns)
			*total_ns = b.reps[k].unavailable_ns;
	for (k = 0; k < n; k++) {
		v->vq[b.qids[k]].relay = b.qs[k];
		if (queue_start_done(v, b.qids[k], b.qs[k] == NULL ?
				     (err < 0 ? err : -EIO) : 0,
				     &b.reps[k]) < 0 && ret == 0)
			ret = err < 0 ? err : -EIO;
	}
out:
	ctl_batch_free(&b);
	return ret;
}

/*
 * Switch every relayed queue back to direct I/O as one batch, and run
 * the held ones again (logging is off).
 */
static int
ctl_stop_queues(struct vrelay_vhost *v, uint64_t *total_ns)
{
	struct vrelay_queue_stats s;
	struct ctl_batch b;
	bool batched;
	unsigned int n = 0, k;
	uint16_t qid;
	int ret = 0, err;

	batched = switch_batched() && ctl_batch_alloc(&b, v->nb_vqs) == 0;
	for (qid = 0; qid < v->nb_vqs; qid++) {
		struct vrelay_vq *vq = &v->vq[qid];

		if (vq->relay != NULL && batched) {
			vrelay_vq_set_mode(v, qid, VRELAY_QMODE_SWITCHING);
			vrelay_queue_get_stats(vq->relay, &s);
			qstats_add(&vq->relay_total, &s);
			b.qs[n] = vq->relay;
			b.qids[n++] = qid;
			continue;
		}
		if (vq->relay != NULL)
			err = vrelay_ctl_queue_stop(v, qid, true, NULL);
		else if (vq->mode == VRELAY_QMODE_HELD && vq->enabled)
			/* Logging is off: direct I/O is safe again. */
			err = vrelay_vq_run(v, qid) == 0 ?
				vrelay_vq_set_mode(v, qid, VRELAY_QMODE_DIRECT) :
				-EIO;
		else
			continue;
		if (err < 0 && ret == 0)
			ret = err;
	}
	if (!batched)
		return ret;
	if (n > 0) {
		err = vrelay_switch_batch_to_direct(v->engine, n, b.qs,
						    &v->ops->qctl, v->ctx,
						    true, b.reps);
		/* From the batch's detach; held queues ran before it. */
		*total_ns = 0;
		for (k = 0; k < n; k++)
			if (b.reps[k].unavailable_ns > *total_ns)
				*total_ns = b.reps[k].unavailable_ns;
		for (k = 0; k < n; k++) {
			/* Per queue: it succeeded if it runs again. */
			int qret = b.reps[k].devq == VRELAY_DEVQ_RUNNING ? 0 :
				(err < 0 ? err : -EIO);

			queue_stop_done(v, b.qids[k], true, qret, &b.reps[k]);
			if (qret < 0 && ret == 0)
				ret = qret;
		}
	}
	ctl_batch_free(&b);
	return ret;
}

/* CLOCK_MONOTONIC, as the switch functions measure queues. */
static uint64_t
ctl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int
vrelay_ctl_start(struct vrelay_vhost *v)
{
	uint64_t t0, total;
	uint16_t qid;
	int ret;

	if (v->state != VRELAY_DSTATE_DIRECT)
		return -EBUSY;
	vrelay_dev_set_state(v, VRELAY_DSTATE_SWITCHING);
	/* Every window starts now, before the first queue stops. */
	for (qid = 0; qid < v->nb_vqs; qid++)
		v->vq[qid].used_idx_at_log_on = v->ops->used_idx(v->ctx, qid);
	/* Failures of either are handled per queue: they hold it. */
	v->engine = engine_get(v->mode, v->relay_cpu);
	vrelay_vlog_setup(v);
	/* Batched, the total excludes what was prepared before the stop. */
	total = UINT64_MAX;
	t0 = ctl_now_ns();
	ret = ctl_start_queues(v, &total);
	v->last_total_ns = total != UINT64_MAX ? total : ctl_now_ns() - t0;
	vrelay_dev_set_state(v, VRELAY_DSTATE_RELAY);
	v->switches++;
	v->last_switch_ns = last_switch_ns(v);
	VRELAY_LOG(INFO, "%s: relay on (%s), worst queue unavailable %"
		   PRIu64 " us, device total %" PRIu64 " us%s", v->name,
		   vrelay_mode_to_str(v->mode), v->last_switch_ns / 1000,
		   v->last_total_ns / 1000,
		   ret < 0 ? "; some queues held stopped" : "");
	return ret;
}

int
vrelay_ctl_stop(struct vrelay_vhost *v)
{
	uint64_t t0, total;
	int ret;

	if (v->state != VRELAY_DSTATE_RELAY)
		return -EINVAL;
	vrelay_dev_set_state(v, VRELAY_DSTATE_SWITCHING);
	total = UINT64_MAX;
	t0 = ctl_now_ns();
	ret = ctl_stop_queues(v, &total);
	v->last_total_ns = total != UINT64_MAX ? total : ctl_now_ns() - t0;
	vrelay_vlog_release(v);
	engine_put(v->engine);
	v->engine = NULL;
	vrelay_dev_set_state(v, VRELAY_DSTATE_DIRECT);
	v->switches++;
	v->last_switch_ns = last_switch_ns(v);
	VRELAY_LOG(INFO, "%s: relay off, worst queue unavailable %" PRIu64
		   " us, device total %" PRIu64 " us", v->name,
		   v->last_switch_ns / 1000, v->last_total_ns / 1000);
	return ret;
}

/*
 * The device is going away (dev_close): stop relayed queues where they
 * are, without resuming, and drop the engine and the log.
 */
void
vrelay_ctl_release(struct vrelay_vhost *v)
{
	uint16_t qid;

	for (qid = 0; qid < v->max_queues; qid++)
		if (v->vq[qid].relay != NULL)
			vrelay_ctl_queue_stop(v, qid, false, NULL);
	vrelay_vlog_release(v);
	engine_put(v->engine);
	v->engine = NULL;
}

void
vrelay_ctl_hold_all(struct vrelay_vhost *v)
{
	uint16_t qid;

	for (qid = 0; qid < v->nb_vqs; qid++) {
		struct vrelay_vq *vq = &v->vq[qid];

		if (vq->relay != NULL &&
		    vrelay_ctl_queue_stop(v, qid, false, NULL) == 0)
			vrelay_vq_set_mode(v, qid, VRELAY_QMODE_HELD);
		else if (vq->mode == VRELAY_QMODE_DIRECT)
			vrelay_vq_hold(v, qid);
	}
}

/* Move a relayed queue between engines; a broken one is left on none. */
static int
queue_move(struct vrelay_queue *q, struct vrelay_engine *from,
	   struct vrelay_engine *to)
{
	if (from != NULL)
		vrelay_engine_detach(from, q);
	if (vrelay_queue_state(q) == VRELAY_QUEUE_BROKEN)
		return 0;
	return vrelay_engine_attach(to, q);
}

/*
 * Move every relayed queue to the engine of another kind, or, if one
 * cannot move, every queue back to the old engine. A queue neither takes
 * stays on the mediated rings unrelayed: stalled, never writing
 * unlogged.
 */
int
vrelay_ctl_set_mode(struct vrelay_vhost *v, enum vrelay_mode mode)
{
	struct vrelay_engine *e, *old = v->engine;
	uint16_t qid, back;
	int err = 0;

	if (v->state != VRELAY_DSTATE_RELAY) {
		v->mode = mode;
		return 0;
	}
	e = engine_get(mode, v->relay_cpu);
	if (e == NULL)
		return -ENOMEM;
	for (qid = 0; qid < v->nb_vqs && e != old; qid++) {
		if (v->vq[qid].relay == NULL)
			continue;
		err = queue_move(v->vq[qid].relay, old, e);
		if (err != 0)
			break;
	}
	if (err != 0) {
		VRELAY_LOG(ERR, "%s: queue %u cannot move to the %s engine: %s;"
			   " staying on %s", v->name, qid,
			   vrelay_mode_to_str(mode), strerror(-err),
			   vrelay_mode_to_str(v->mode));
		for (back = 0; back <= qid; back++)
			if (v->vq[back].relay != NULL &&
			    queue_move(v->vq[back].relay,
				       back < qid ? e : NULL, old) != 0)
				VRELAY_LOG(ERR, "%s: queue %u is relayed by no "
					   "engine", v->name, back);
		engine_put(e);
		return err;
	}
	v->mode = mode;
	v->engine = e;
	engine_put(old);
	return 0;
}
