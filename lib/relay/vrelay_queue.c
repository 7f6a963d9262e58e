/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Relayed queue lifetime, mediated ring allocation, notification
 * suppression policy and the small eventfd helpers the relay uses.
 */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

static uint64_t
page_round(uint64_t len)
{
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);

	return (len + pg - 1) & ~(pg - 1);
}

static int
mrings_alloc(struct vrelay_queue *q)
{
	/* Always room for the event words: notify_apply() may write them. */
	uint64_t alen = page_round(vrelay_split_avail_len(q->size, true));
	uint64_t ulen = page_round(vrelay_split_used_len(q->size, true));
	void *a, *u;

	a = mmap(NULL, alen, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return -ENOMEM;
	u = mmap(NULL, ulen, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u == MAP_FAILED) {
		munmap(a, alen);
		return -ENOMEM;
	}
	q->mavail = a;
	q->mused = u;
	q->mring.avail = a;
	q->mring.avail_len = alen;
	q->mring.used = u;
	q->mring.used_len = ulen;
	return 0;
}

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
 * A ring format the relay does not handle yet (packed): said once per
 * process, not once per queue and switch, as every switch of a packed
 * device would repeat it. @return ENOTSUP.
 */
static int
format_unsupported(enum vrelay_ring_format format)
{
	static bool said;

	if (!__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
		VRELAY_LOG(ERR, "ring format %s is not relayed yet",
			   format == VRELAY_RING_PACKED ? "packed" : "?");
	return ENOTSUP;
}

/*
 * Check the rings' geometry with the size and features the queue will
 * use. Nothing below indexes a ring without this: vhost checked each
 * ring's extent only for the size it had when it translated the
 * addresses, and SET_VRING_NUM (or EVENT_IDX, which adds a word after
 * the avail and used rings) may have grown it since. A ring that does
 * not fit would have the relay read and write past guest memory.
 * @return 0, -EINVAL (bad size or alignment) or -EFAULT, logged once.
 */
static int
conf_check_rings(const struct vrelay_device *dev,
		 const struct vrelay_queue_conf *c)
{
	const struct vrelay_mem *mem = &dev->mem;
	const char *bad = NULL;

	if (!vrelay_split_size_valid(c->size)) {
		VRELAY_LOG(ERR, "%s/%s: ring size %u is not a power of two "
			   "in 1..%u", dev->name, c->name, c->size,
			   VRELAY_MAX_RING_SIZE);
		return -EINVAL;
	}
	if (!vrelay_split_rings_aligned((uintptr_t)c->desc,
					(uintptr_t)c->driver_area,
					(uintptr_t)c->device_area)) {
		VRELAY_LOG(ERR, "%s/%s: rings not aligned as virtio requires",
			   dev->name, c->name);
		return -EINVAL;
	}
	if (!vrelay_mem_contains_hva(mem, (uintptr_t)c->desc,
				     vrelay_split_desc_len(c->size)))
		bad = "descriptor table";
	else if (!vrelay_mem_contains_hva(mem, (uintptr_t)c->driver_area,
			vrelay_split_avail_len(c->size, c->event_idx)))
		bad = "avail ring";
	else if (!vrelay_mem_contains_hva(mem, (uintptr_t)c->device_area,
			vrelay_split_used_len(c->size, c->event_idx)))
		bad = "used ring";
	/* The log address is what the used ring's dirty bits cover. */
	else if (!vrelay_mem_contains(mem, c->device_area_gpa,
			vrelay_split_used_len(c->size, c->event_idx)))
		bad = "used ring log address";
	if (bad == NULL)
		return 0;
	VRELAY_LOG(ERR, "%s/%s: %s not inside guest memory (size %u%s)",
		   dev->name, c->name, bad, c->size,
		   c->event_idx ? ", with event index" : "");
	return -EFAULT;
}

/* Remember the chains the device fetched before the switch. */
static int
queue_seed_inflight(struct vrelay_queue *q)
{
	uint16_t n = q->last_avail - q->last_used;
	uint16_t i, idx, head;
	const char *why = NULL;
	uint64_t wlen;

	if (n > q->size)
		return vrelay_queue_break(q, "device indices more than a ring apart");
	/*
	 * The device completes in order often enough that the heads of
	 * [last_used, last_avail) are the ones in flight; an out-of-order
	 * device is still bounded by each chain's writable length.
	 */
	for (i = 0; i < n; i++) {
		struct vrelay_slot rec = { .nseg = 0 };

		idx = q->last_used + i;
		head = vrelay_load16(&q->gavail->ring[idx & q->mask]);
		/*
		 * Record the writable segments as the avail side does: the
		 * used side logs from them (nseg 0 would log nothing for the
		 * buffers the device fills right after the switch).
		 */
		if (vrelay_chain_walk(q, head, &wlen, vrelay_slot_record_seg,
				      &rec, &why) != 0)
			return vrelay_queue_break(q, why);
		if (q->slots[head].inflight)
			return vrelay_queue_break(q, "head in flight twice");
		q->slots[head] = rec;
		q->slots[head].inflight = 1;
		q->slots[head].wlen = wlen > UINT32_MAX ? UINT32_MAX : wlen;
		q->inflight++;
	}
	return 0;
}

struct vrelay_queue *
vrelay_queue_create_owned(struct vrelay_device *dev,
			  const struct vrelay_queue_conf *c, bool own_fds)
{
	struct vrelay_queue *q;
	int ret;

	if (dev == NULL || c == NULL || !conf_valid(c)) {
		errno = EINVAL;
		return NULL;
	}
	if (c->format != VRELAY_RING_SPLIT) {
		errno = format_unsupported(c->format);
		return NULL;
	}
	ret = conf_check_rings(dev, c);
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
	q->size = c->size;
	if (mrings_alloc(q) != 0)
		goto fail_rings;
	snprintf(q->name, sizeof(q->name), "%.31s/%.31s", dev->name,
		 c->name);
	q->dev = dev;
	q->qid = c->qid;
	q->mask = c->size - 1;
	q->event_idx = c->event_idx;
	q->indirect = c->indirect;
	q->gdesc = c->desc;
	q->gavail = c->driver_area;
	q->gused = c->device_area;
	q->gused_gpa = c->device_area_gpa;
	q->guest_kick_fd = c->guest_kick_fd;
	q->guest_call_fd = c->guest_call_fd;
	q->doorbell_fd = c->device_doorbell_fd;
	q->irq_fd = c->device_irq_fd;
	q->own_fds = own_fds;
	q->last_avail = c->state.avail_idx;
	q->last_used = c->state.used_idx;
	/* Index invariant: the mediated rings continue the device's. */
	q->mavail->idx = c->state.avail_idx;
	q->mused->idx = c->state.used_idx;
	q->state = VRELAY_QUEUE_IDLE;
	__atomic_fetch_add(&dev->nqueues, 1, __ATOMIC_RELAXED);

	if (queue_seed_inflight(q) == 0)
		vrelay_used_log_window(q, c->log_from_used_idx,
				       c->state.used_idx);
	vrelay_queue_set_notify(q, true);
	VRELAY_LOG(INFO, "%s: created, size %u, avail %u used %u",
		   q->name, q->size, q->last_avail, q->last_used);
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
	munmap(q->mring.avail, q->mring.avail_len);
	munmap(q->mring.used, q->mring.used_len);
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

/* Write a 16-bit field of the guest used ring and log it if it changed. */
static void
guest_used_write16(struct vrelay_queue *q, uint16_t *field, uint16_t val)
{
	struct vrelay_range r;

	if (vrelay_load16(field) == val)
		return;
	*(volatile uint16_t *)field = val;
	r.gpa = q->gused_gpa + (uint64_t)((uint8_t *)field -
					  (uint8_t *)q->gused);
	r.len = sizeof(*field);
	q->stats.pages_logged += vrelay_log_ranges(q->dev, &r, 1);
}

/*
 * Tell the guest whether to kick us and the device whether to interrupt
 * us. With EVENT_IDX an event index one behind the shadow index means
 * "not until the index wraps", which the next pass moves again.
 */
static void
notify_apply(struct vrelay_queue *q)
{
	bool want = q->want_notify;

	if (q->event_idx) {
		guest_used_write16(q, vrelay_avail_event(q->gused, q->size),
				   want ? q->last_avail : q->last_avail - 1);
		*(volatile uint16_t *)vrelay_used_event(q->mavail, q->size) =
			want ? q->last_used : q->last_used - 1;
	} else {
		guest_used_write16(q, &q->gused->flags,
				   want ? 0 : VRING_USED_F_NO_NOTIFY);
		*(volatile uint16_t *)&q->mavail->flags =
			want ? 0 : VRING_AVAIL_F_NO_INTERRUPT;
	}
}

void
vrelay_queue_set_notify(struct vrelay_queue *q, bool want)
{
	q->want_notify = want;
	notify_apply(q);
}

/*
 * Enable notifications and tell whether work arrived meanwhile. The
 * engine sleeps only when this returns false.
 */
bool
vrelay_queue_arm(struct vrelay_queue *q)
{
	q->want_notify = true;
	notify_apply(q);
	/*
	 * Event index/flags stores visible before re-reading avail->idx and
	 * used->idx: otherwise the other side may publish an entry, read our
	 * stale suppression, skip the notification, and we sleep on it.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vrelay_load16(&q->gavail->idx) != q->last_avail ||
		vrelay_load16(&q->mused->idx) != q->last_used;
}

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
