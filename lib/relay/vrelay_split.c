/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The split ring format (virtio 1.x, 2.7) behind the ring format seam:
 * geometry checks, mediated rings, notification suppression, and the
 * vrelay_split_ops table the queue dispatches through. The data paths
 * are in vrelay_split_avail.c, vrelay_split_used.c and
 * vrelay_split_chain.c.
 */

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

/*
 * Check the rings' geometry with the size and features the queue will
 * use. Nothing indexes a ring without this: vhost checked each ring's
 * extent only for the size it had when it translated the addresses,
 * and SET_VRING_NUM (or EVENT_IDX, which adds a word after the avail
 * and used rings) may have grown it since. A ring that does not fit
 * would have the relay read and write past guest memory.
 * @return 0, -EINVAL (bad size or alignment) or -EFAULT, logged once.
 */
static int
split_check_geometry(const struct vrelay_device *dev,
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

/* Mediated avail and used rings, page aligned and page sized each. */
static int
split_alloc_mrings(struct vrelay_queue *q)
{
	/* Always room for the event words: notify_apply may write them. */
	uint64_t alen = page_round(vrelay_split_avail_len(q->size, true));
	uint64_t ulen = page_round(vrelay_split_used_len(q->size, true));
	void *a, *u;

	a = mmap(NULL, alen, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (a == MAP_FAILED)
		return -ENOMEM;
	u = mmap(NULL, ulen, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (u == MAP_FAILED) {
		munmap(a, alen);
		return -ENOMEM;
	}
	q->split.mavail = a;
	q->split.mused = u;
	q->mring.format = VRELAY_RING_SPLIT;
	q->mring.desc = NULL;	/* the device keeps the guest's table */
	q->mring.desc_len = 0;
	q->mring.driver_area = a;
	q->mring.driver_len = alen;
	q->mring.device_area = u;
	q->mring.device_len = ulen;
	return 0;
}

static void
split_free_mrings(struct vrelay_queue *q)
{
	munmap(q->mring.driver_area, q->mring.driver_len);
	munmap(q->mring.device_area, q->mring.device_len);
}

static void
split_init(struct vrelay_queue *q, const struct vrelay_queue_conf *c)
{
	q->split.mask = c->size - 1;
	q->split.gdesc = c->desc;
	q->split.gavail = c->driver_area;
	q->split.gused = c->device_area;
	q->split.last_avail = c->state.avail_idx;
	q->split.last_used = c->state.used_idx;
	/* Index invariant: the mediated rings continue the device's. */
	q->split.mavail->idx = c->state.avail_idx;
	q->split.mused->idx = c->state.used_idx;
}

/* Write a 16-bit field of the guest used ring and log it if it changed. */
static void
guest_used_write16(struct vrelay_queue *q, uint16_t *field, uint16_t val)
{
	struct vrelay_range r;

	if (vrelay_load16(field) == val)
		return;
	*(volatile uint16_t *)field = val;
	r.gpa = q->device_area_gpa +
		(uint64_t)((uint8_t *)field - (uint8_t *)q->split.gused);
	r.len = sizeof(*field);
	q->stats.pages_logged += vrelay_log_ranges(q->dev, &r, 1);
}

/*
 * Tell the guest whether to kick us and the device whether to interrupt
 * us, as q->want_notify says. With EVENT_IDX an event index one behind
 * the shadow index means "not until the index wraps". While armed, the
 * relay paths call this after each batch, to move the event indices
 * along with what they consumed; while quiet they leave the suppression
 * where set_notify put it (it needs no moving until 64 Ki entries).
 */
void
vrelay_split_notify_apply(struct vrelay_queue *q)
{
	uint16_t la = q->split.last_avail, lu = q->split.last_used;
	bool want = q->want_notify;

	if (q->event_idx) {
		guest_used_write16(q,
			vrelay_avail_event(q->split.gused, q->size),
			want ? la : (uint16_t)(la - 1));
		*(volatile uint16_t *)vrelay_used_event(q->split.mavail,
							q->size) =
			want ? lu : (uint16_t)(lu - 1);
	} else {
		guest_used_write16(q, &q->split.gused->flags,
				   want ? 0 : VRING_USED_F_NO_NOTIFY);
		*(volatile uint16_t *)&q->split.mavail->flags =
			want ? 0 : VRING_AVAIL_F_NO_INTERRUPT;
	}
}

/*
 * Notify a peer of the entries published since index old, if it asked
 * for it (its event word with EVENT_IDX, else its NO_* flag) or force:
 * to_guest, interrupt the guest of the used entries relayed; else ring
 * the device's doorbell for the avail entries forwarded.
 */
void
vrelay_split_notify_peer(struct vrelay_queue *q, bool to_guest,
			 uint16_t old, bool force)
{
	const uint16_t *event, *flags;
	uint16_t no_flag, new_idx;
	bool notify;

	if (to_guest) {
		event = vrelay_used_event(q->split.gavail, q->size);
		flags = &q->split.gavail->flags;
		no_flag = VRING_AVAIL_F_NO_INTERRUPT;
		new_idx = q->split.last_used;
	} else {
		event = vrelay_avail_event(q->split.mused, q->size);
		flags = &q->split.mused->flags;
		no_flag = VRING_USED_F_NO_NOTIFY;
		new_idx = q->split.last_avail;
	}
	/*
	 * The index just published visible before we read the peer's
	 * suppression (virtio: publish the index, then read flags or the
	 * event word), so a peer re-enabling notifications either sees the
	 * entries or is notified. The event word only with EVENT_IDX: the
	 * guest's ring was checked to hold it only then.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx)
		notify = vring_need_event(vrelay_load16(event), new_idx, old);
	else
		notify = !(vrelay_load16(flags) & no_flag);
	if (notify || force)
		vrelay_queue_notify(q, to_guest);
}

static void
split_set_notify(struct vrelay_queue *q, bool want)
{
	q->want_notify = want;
	vrelay_split_notify_apply(q);
}

static bool
split_arm(struct vrelay_queue *q)
{
	split_set_notify(q, true);
	/*
	 * Event index/flags stores visible before re-reading avail->idx and
	 * used->idx: otherwise the other side may publish an entry, read our
	 * stale suppression, skip the notification, and we sleep on it.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vrelay_load16(&q->split.gavail->idx) != q->split.last_avail ||
		vrelay_load16(&q->split.mused->idx) != q->split.last_used;
}

static void
split_get_state(const struct vrelay_queue *q, struct vrelay_qstate *s)
{
	*s = (struct vrelay_qstate){
		.avail_idx = q->split.last_avail,
		.used_idx = q->split.last_used,
	};
}

const struct vrelay_ring_ops vrelay_split_ops = {
	.name = "split",
	.check_geometry = split_check_geometry,
	.alloc_mrings = split_alloc_mrings,
	.free_mrings = split_free_mrings,
	.init = split_init,
	.seed_inflight = vrelay_split_seed_inflight,
	.log_window = vrelay_split_log_window,
	.relay_avail = vrelay_split_relay_avail,
	.relay_used = vrelay_split_relay_used,
	.set_notify = split_set_notify,
	.arm = split_arm,
	.get_state = split_get_state,
};
