/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Relayed queue lifetime, the slot table, and the public queue functions,
 * which dispatch to the queue's ring format (struct vrelay_ring_ops:
 * vrelay_split.c); and the small eventfd helpers the relay uses. Nothing
 * here looks inside a ring.
 */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

static bool
conf_valid(const struct vrelay_queue_conf *c)
{
	if (c->name == NULL || c->format >= VRELAY_RING_FORMAT_COUNT)
		return false;
	if (c->desc == NULL || c->driver_area == NULL ||
	    c->device_area == NULL)
		return false;
	return c->device_doorbell_fd >= 0;
}

/*
 * The code of a ring format, or NULL with a line said once per process
 * (not once per queue and switch: every switch of a packed device would
 * repeat it) for a format not relayed yet.
 */
static const struct vrelay_ring_ops *
ring_ops(enum vrelay_ring_format format)
{
	static bool said;

	if (format == VRELAY_RING_SPLIT)
		return &vrelay_split_ops;
	if (format == VRELAY_RING_PACKED)
		return &vrelay_packed_ops;
	if (!__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
		VRELAY_LOG(ERR, "ring format %s is not relayed yet",
			   format == VRELAY_RING_PACKED ? "packed" : "?");
	return NULL;
}

/*
 * Remember a writable buffer of the chain being checked (arg: the
 * struct vrelay_slot being filled), whatever the ring format. Every
 * in-flight slot must carry its segments, or its used entry would log
 * nothing.
 */
int
vrelay_slot_record_seg(void *arg, uint64_t gpa, uint32_t len)
{
	struct vrelay_slot *s = arg;

	if (s->nseg < VRELAY_SLOT_SEGS) {
		s->seg_gpa[s->nseg] = gpa;
		s->seg_len[s->nseg] = len;
	}
	if (s->nseg <= VRELAY_SLOT_SEGS)
		s->nseg++;
	return 0;
}

/*
 * Check one buffer descriptor of a chain being walked, whatever the ring
 * format, and hand a writable one to fn (which may refuse it: too many).
 * @return NULL, or why the chain breaks a virtio rule.
 */
const char *
vrelay_chain_buffer(struct vrelay_queue *q, struct vrelay_chain_acc *acc,
		    uint64_t addr, uint32_t len, bool writable,
		    vrelay_wdesc_fn fn, void *arg)
{
	if (!vrelay_mem_contains_fast(&q->dev->mem, addr, len))
		return "buffer outside guest memory";
	if (!writable) {
		/* Virtio: device-readable descriptors come first. */
		if (acc->seen_write)
			return "device-readable descriptor after a writable one";
		return NULL;
	}
	acc->seen_write = true;
	acc->wlen += len;
	if (fn != NULL && len != 0 && fn(arg, addr, len) != 0)
		return "too many writable descriptors";
	return NULL;
}

/*
 * The part of creating a queue that does not depend on the device's
 * state: checks, memory, mediated rings. The switchover runs it before
 * the device queue stops (vrelay_switch_batch_to_relay()).
 */
struct vrelay_queue *
vrelay_queue_prepare(struct vrelay_device *dev,
		     const struct vrelay_queue_conf *c, bool own_fds)
{
	const struct vrelay_ring_ops *ops;
	struct vrelay_queue *q;
	int ret;

	if (dev == NULL || c == NULL || !conf_valid(c)) {
		errno = EINVAL;
		return NULL;
	}
	ops = ring_ops(c->format);
	if (ops == NULL) {
		errno = ENOTSUP;
		return NULL;
	}
	ret = ops->check_geometry(dev, c);
	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		goto fail_q;
	q->slots = calloc(c->size, sizeof(*q->slots));
	if (q->slots == NULL)
		goto fail_slots;
	q->ranges = calloc(VRELAY_RANGES_CAP, sizeof(*q->ranges));
	if (q->ranges == NULL)
		goto fail_ranges;
	q->ops = ops;
	q->size = c->size;
	if (ops->alloc_mrings(q) != 0)
		goto fail_rings;
	snprintf(q->name, sizeof(q->name), "%.31s/%.31s", dev->name,
		 c->name);
	q->dev = dev;
	q->qid = c->qid;
	q->event_idx = c->event_idx;
	q->indirect = c->indirect;
	q->device_read_only = c->device_read_only;
	q->device_area_gpa = c->device_area_gpa;
	q->guest_kick_fd = c->guest_kick_fd;
	q->guest_call_fd = c->guest_call_fd;
	q->doorbell_fd = c->device_doorbell_fd;
	q->irq_fd = c->device_irq_fd;
	q->own_fds = own_fds;
	q->state = VRELAY_QUEUE_IDLE;
	__atomic_fetch_add(&dev->nqueues, 1, __ATOMIC_RELAXED);
	return q;

fail_rings:
	free(q->ranges);
fail_ranges:
	free(q->slots);
fail_slots:
	free(q);
fail_q:
	errno = ENOMEM;
	return NULL;
}

/*
 * The part that depends on the state: the rings at c->state, the
 * in-flight window logged. c must be the conf q was prepared with, its
 * state set.
 */
void
vrelay_queue_start_at(struct vrelay_queue *q, const struct vrelay_queue_conf *c)
{
	struct vrelay_qstate st;

	q->ops->init(q, c);
	if (q->ops->seed_inflight(q) == 0)
		q->ops->log_window(q, c);
	vrelay_queue_set_notify(q, true);
	vrelay_queue_get_qstate(q, &st);
	VRELAY_LOG(DEBUG, "%s: created, %s, size %u, avail %u used %u",
		   q->name, q->ops->name, q->size, st.avail_idx, st.used_idx);
}

struct vrelay_queue *
vrelay_queue_create_owned(struct vrelay_device *dev,
			  const struct vrelay_queue_conf *c, bool own_fds)
{
	struct vrelay_queue *q;

	struct vrelay_qstate st;

	q = vrelay_queue_prepare(dev, c, own_fds);
	if (q == NULL)
		return NULL;
	vrelay_queue_start_at(q, c);
	vrelay_queue_get_qstate(q, &st);
	VRELAY_LOG(INFO, "%s: created, %s, size %u, avail %u used %u",
		   q->name, q->ops->name, q->size, st.avail_idx, st.used_idx);
	return q;
}

struct vrelay_queue *
vrelay_queue_create(struct vrelay_device *dev,
		    const struct vrelay_queue_conf *conf)
{
	return vrelay_queue_create_owned(dev, conf, false);
}

const struct vrelay_mring_info *
vrelay_queue_mring(const struct vrelay_queue *q)
{
	return &q->mring;
}

void
vrelay_queue_destroy(struct vrelay_queue *q)
{
	if (q == NULL)
		return;
	if (q->engine != NULL) {
		VRELAY_LOG(ERR, "%s: destroy while attached: leaked", q->name);
		return;
	}
	vrelay_prefault_cancel(q);
	q->ops->free_mrings(q);
	if (q->own_fds) {
		close(q->doorbell_fd);
		if (q->irq_fd >= 0)
			close(q->irq_fd);
	}
	__atomic_fetch_sub(&q->dev->nqueues, 1, __ATOMIC_RELAXED);
	free(q->ranges);
	free(q->slots);
	free(q);
}

enum vrelay_queue_state
vrelay_queue_state(const struct vrelay_queue *q)
{
	return __atomic_load_n(&q->state, __ATOMIC_ACQUIRE);
}

void
vrelay_queue_get_stats(const struct vrelay_queue *q,
		       struct vrelay_queue_stats *stats)
{
	*stats = q->stats;
}

/* Stop relaying for good; the guest broke a virtio rule. */
int
vrelay_queue_break(struct vrelay_queue *q, const char *reason)
{
	if (vrelay_queue_is_broken(q))
		return -EIO;
	__atomic_store_n(&q->state, VRELAY_QUEUE_BROKEN, __ATOMIC_RELEASE);
	q->stats.broken = 1;
	VRELAY_LOG(ERR, "queue %s broken: %s", q->name, reason);
	return -EIO;
}

/* ---- dispatch to the ring format ------------------------------------ */

int
vrelay_queue_relay_avail(struct vrelay_queue *q, unsigned int budget)
{
	if (vrelay_queue_is_broken(q))
		return -EIO;
	return q->ops->relay_avail(q, budget);
}

int
vrelay_queue_relay_used(struct vrelay_queue *q, unsigned int budget)
{
	if (vrelay_queue_is_broken(q))
		return -EIO;
	return q->ops->relay_used(q, budget, false);
}

int
vrelay_queue_flush(struct vrelay_queue *q)
{
	if (vrelay_queue_is_broken(q))
		return -EIO;
	/* The device is stopped: a spurious interrupt beats a lost one. */
	return q->ops->relay_used(q, UINT16_MAX + 1U, true);
}

/*
 * Notification policy set by the engine: want guest kicks and device
 * interrupts (it sleeps on fds), or suppress them (it polls).
 */
void
vrelay_queue_set_notify(struct vrelay_queue *q, bool want)
{
	q->ops->set_notify(q, want);
}

/*
 * Enable notifications and tell whether work arrived meanwhile. The
 * engine sleeps only when this returns false.
 */
bool
vrelay_queue_arm(struct vrelay_queue *q)
{
	return q->ops->arm(q);
}

/* The relay's shadow state: what the device's state is once flushed. */
void
vrelay_queue_get_qstate(const struct vrelay_queue *q,
			struct vrelay_qstate *s)
{
	q->ops->get_state(q, s);
}

/*
 * Notify a peer that asked for it (the format's notify_peer decided):
 * to_guest, interrupt the guest; else ring the device's doorbell. Inside
 * an engine pass only noted, and sent at its end: one doorbell and one
 * interrupt per queue and pass, after all of the pass's work, so a
 * device woken on the relay's CPU does not preempt the rest of the pass.
 * The decision was taken right after publishing, past the barrier that
 * makes it safe; sending it a pass later loses nothing.
 */
void
vrelay_queue_notify(struct vrelay_queue *q, bool to_guest)
{
	if (q->defer_notify) {
		q->notify_pending |= to_guest ? VRELAY_PENDING_CALL :
						VRELAY_PENDING_KICK;
		return;
	}
	if (to_guest) {
		vrelay_eventfd_signal(q->guest_call_fd);
		q->stats.guest_calls++;
	} else {
		vrelay_eventfd_signal(q->doorbell_fd);
		q->stats.device_kicks++;
	}
}

/* Send what the pass noted, and stop deferring. */
void
vrelay_queue_notify_flush(struct vrelay_queue *q)
{
	uint8_t p = q->notify_pending;

	q->defer_notify = false;
	q->notify_pending = 0;
	if (p & VRELAY_PENDING_CALL)
		vrelay_queue_notify(q, true);
	if (p & VRELAY_PENDING_KICK)
		vrelay_queue_notify(q, false);
}

/* ---- eventfds ------------------------------------------------------- */

void
vrelay_eventfd_signal(int fd)
{
	uint64_t one = 1;

	if (fd < 0)
		return;
	/* Only EAGAIN (counter saturated) can fail: a wakeup is pending. */
	if (write(fd, &one, sizeof(one)) < 0)
		return;
}

/* Clear an eventfd; true if it had been signalled. */
bool
vrelay_eventfd_drain(int fd)
{
	uint64_t v;

	if (fd < 0)
		return false;
	return read(fd, &v, sizeof(v)) == sizeof(v) && v != 0;
}
