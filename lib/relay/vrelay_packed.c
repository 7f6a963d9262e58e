/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The packed ring format (virtio 1.1, "Packed Virtqueues") behind the ring format seam:
 * geometry checks, the mediated ring, event suppression, and the
 * vrelay_packed_ops table the queue dispatches through. The data paths
 * are in vrelay_packed_avail.c and vrelay_packed_used.c.
 *
 * In a packed ring the device writes used descriptors into the ring the
 * driver fills, so the device cannot keep the guest's ring while it is
 * relayed: it runs on a mediated descriptor ring that mirrors the
 * guest's slot for slot. Each checked guest descriptor is copied to the
 * same position with the same buffer id, and each used descriptor the
 * device writes is copied back to the same position of the guest's
 * ring. The device's positions and wrap counters are therefore valid on
 * either ring, and a switch needs nothing but the device's queue state.
 */

#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

#define EVENT_WRAP (1u << VRING_PACKED_EVENT_F_WRAP_CTR)

static uint64_t
page_round(uint64_t len)
{
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);

	return (len + pg - 1) & ~(pg - 1);
}

/*
 * The guest's ring and event areas whole inside guest memory with the
 * size the queue will use, aligned as virtio requires ("Structure Size and
 * Alignment"), and the
 * addresses the relay logs its writes at (the descriptor ring and the
 * device area) inside guest memory too. Nothing indexes the ring before.
 * @return 0, -EINVAL or -EFAULT, logged once.
 */
static int
packed_check_geometry(const struct vrelay_device *dev,
		      const struct vrelay_queue_conf *c)
{
	const struct vrelay_mem *mem = &dev->mem;
	const uint64_t dlen = vrelay_packed_desc_len(c->size);
	const char *bad = NULL;

	if (!vrelay_packed_size_valid(c->size)) {
		VRELAY_LOG(ERR, "%s/%s: packed ring size %u not in 1..%u",
			   dev->name, c->name, c->size, VRELAY_MAX_RING_SIZE);
		return -EINVAL;
	}
	if (!vrelay_packed_rings_aligned((uintptr_t)c->desc,
					 (uintptr_t)c->driver_area,
					 (uintptr_t)c->device_area)) {
		VRELAY_LOG(ERR, "%s/%s: rings not aligned as virtio requires",
			   dev->name, c->name);
		return -EINVAL;
	}
	if (!vrelay_mem_contains_hva(mem, (uintptr_t)c->desc, dlen))
		bad = "descriptor ring";
	else if (!vrelay_mem_contains_hva(mem, (uintptr_t)c->driver_area,
					  VRELAY_PACKED_EVENT_LEN))
		bad = "driver event area";
	else if (!vrelay_mem_contains_hva(mem, (uintptr_t)c->device_area,
					  VRELAY_PACKED_EVENT_LEN))
		bad = "device event area";
	else if (!vrelay_mem_contains(mem, c->desc_gpa, dlen))
		bad = "descriptor ring log address";
	else if (!vrelay_mem_contains(mem, c->device_area_gpa,
				      VRELAY_PACKED_EVENT_LEN))
		bad = "device event area log address";
	if (bad == NULL)
		return 0;
	VRELAY_LOG(ERR, "%s/%s: %s not inside guest memory (packed, size %u)",
		   dev->name, c->name, bad, c->size);
	return -EFAULT;
}

/*
 * The mediated descriptor ring and event areas, page aligned and page
 * sized each, the overflow pool, and the scratch of one chain check and
 * of one used pass.
 */
static int
packed_alloc_mrings(struct vrelay_queue *q)
{
	uint64_t dlen = page_round(vrelay_packed_desc_len(q->size));
	uint64_t elen = page_round(VRELAY_PACKED_EVENT_LEN);
	void *d, *drv, *dev;

	if (vrelay_packed_ovf_alloc(q) != 0)
		goto fail_ovf;
	q->packed.chain = calloc(VRELAY_MAX_CHAIN_LEN,
				 sizeof(*q->packed.chain));
	if (q->packed.chain == NULL)
		goto fail_chain;
	/* A used pass relays at most one descriptor per chain in flight. */
	q->packed.pend = calloc(q->size, sizeof(*q->packed.pend));
	if (q->packed.pend == NULL)
		goto fail_pend;
	d = mmap(NULL, dlen, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (d == MAP_FAILED)
		goto fail_desc;
	drv = mmap(NULL, elen, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (drv == MAP_FAILED)
		goto fail_driver;
	dev = mmap(NULL, elen, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (dev == MAP_FAILED)
		goto fail_device;
	q->packed.mdesc = d;
	q->packed.mdriver = drv;
	q->packed.mdevice = dev;
	q->mring = (struct vrelay_mring_info){
		.format = VRELAY_RING_PACKED,
		.desc = d, .desc_len = dlen,
		.driver_area = drv, .driver_len = elen,
		.device_area = dev, .device_len = elen,
	};
	return 0;

fail_device:
	munmap(drv, elen);
fail_driver:
	munmap(d, dlen);
fail_desc:
	free(q->packed.pend);
fail_pend:
	free(q->packed.chain);
fail_chain:
	vrelay_packed_ovf_free(q);
fail_ovf:
	return -ENOMEM;
}

static void
packed_free_mrings(struct vrelay_queue *q)
{
	vrelay_packed_ovf_free(q);
	munmap(q->mring.desc, q->mring.desc_len);
	munmap(q->mring.driver_area, q->mring.driver_len);
	munmap(q->mring.device_area, q->mring.device_len);
	free(q->packed.pend);
	free(q->packed.chain);
}

/*
 * Lay the mediated ring out idle at the device's used position: every
 * slot used in its last lap (AVAIL == USED == that lap's wrap), so none
 * reads as a completion to the relay nor as available to the device. A
 * zeroed ring would not do: flags 0 read as used in a lap of wrap 0.
 */
static void
mring_idle(struct vrelay_queue *q)
{
	const uint16_t both = (1u << VRING_PACKED_DESC_F_AVAIL) |
		(1u << VRING_PACKED_DESC_F_USED);
	bool lap_wrap;
	uint16_t i;

	for (i = 0; i < q->size; i++) {
		/* Before the used position: this lap; after: the last one. */
		lap_wrap = i < q->packed.last_used ? q->packed.used_wrap :
			!q->packed.used_wrap;
		q->packed.mdesc[i].flags = lap_wrap ? both : 0;
	}
}

static void
packed_init(struct vrelay_queue *q, const struct vrelay_queue_conf *c)
{
	q->packed.gdesc = c->desc;
	q->packed.gdriver = c->driver_area;
	q->packed.gdevice = c->device_area;
	q->packed.desc_gpa = c->desc_gpa;
	/* The device's state is where both rings are (index invariant). */
	q->packed.last_avail = c->state.avail_idx;
	q->packed.avail_wrap = c->state.avail_wrap;
	q->packed.last_used = c->state.used_idx;
	q->packed.used_wrap = c->state.used_wrap;
	mring_idle(q);
}

/* Write the flags of the guest's device event area; log if changed. */
static void
guest_device_event_write(struct vrelay_queue *q, uint16_t flags)
{
	struct vrelay_range r;

	if (vrelay_load16(&q->packed.gdevice->flags) == flags)
		return;
	*(volatile uint16_t *)&q->packed.gdevice->flags = flags;
	r.gpa = q->device_area_gpa +
		offsetof(struct vring_packed_desc_event, flags);
	r.len = sizeof(uint16_t);
	q->stats.pages_logged += vrelay_log_ranges(q->dev, &r, 1);
}

/*
 * Tell the guest whether to kick us (its device event area) and the
 * device whether to interrupt us (the mediated driver event area), as
 * q->want_notify says. ENABLE and DISABLE only: unlike split's event
 * index, they need no moving after each batch, and virtio lets either
 * side use them whether or not EVENT_IDX was negotiated.
 */
void
vrelay_packed_notify_apply(struct vrelay_queue *q)
{
	uint16_t f = q->want_notify ? VRING_PACKED_EVENT_FLAG_ENABLE :
				      VRING_PACKED_EVENT_FLAG_DISABLE;

	guest_device_event_write(q, f);
	*(volatile uint16_t *)&q->packed.mdriver->flags = f;
}

/*
 * Did a peer's event suppression area ask to be notified of the
 * descriptors published from (old, old_wrap) up to (now, now_wrap)?
 * DESC mode (EVENT_IDX only) names one descriptor position and the wrap
 * counter of its lap; notify if that position was crossed. Positions
 * are made linear over two laps, the arithmetic of vring_need_event().
 */
static bool
packed_need_event(const struct vrelay_queue *q,
		  const struct vring_packed_desc_event *ev, uint16_t old,
		  bool old_wrap, uint16_t now, bool now_wrap)
{
	uint16_t flags = vrelay_load16(&ev->flags);
	uint16_t off_wrap, event;
	int32_t o = old, n = now, e;

	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return false;
	/* DESC without EVENT_IDX is not valid: a spurious call is safe. */
	if (flags != VRING_PACKED_EVENT_FLAG_DESC || !q->event_idx)
		return true;
	off_wrap = vrelay_load16(&ev->off_wrap);
	event = off_wrap & (EVENT_WRAP - 1);
	/* Old in the lap before now's when the batch wrapped. */
	if (old_wrap != now_wrap)
		o -= q->size;
	e = event;
	if (((off_wrap & EVENT_WRAP) != 0) != now_wrap)
		e -= q->size;
	return vring_need_event((uint16_t)e, (uint16_t)n, (uint16_t)o);
}

/*
 * Notify a peer of the descriptors published since (old, old_wrap), if
 * its event suppression asks for it, or force: to_guest, interrupt the
 * guest of the used descriptors relayed; else ring the device's doorbell
 * for the chains forwarded.
 */
void
vrelay_packed_notify_peer(struct vrelay_queue *q, bool to_guest,
			  uint16_t old, bool old_wrap, bool force)
{
	bool notify;

	/*
	 * The descriptors just published visible before we read the
	 * peer's event suppression (virtio "Supplying Buffers to The
	 * Device": update the descriptors, barrier, then check suppression), so a peer re-enabling notifications either sees them or
	 * is notified.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (to_guest)
		notify = packed_need_event(q, q->packed.gdriver, old,
					   old_wrap, q->packed.last_used,
					   q->packed.used_wrap);
	else
		notify = packed_need_event(q, q->packed.mdevice, old,
					   old_wrap, q->packed.last_avail,
					   q->packed.avail_wrap);
	if (notify || force)
		vrelay_queue_notify(q, to_guest);
}

static void
packed_set_notify(struct vrelay_queue *q, bool want)
{
	q->want_notify = want;
	vrelay_packed_notify_apply(q);
}

static bool
packed_arm(struct vrelay_queue *q)
{
	packed_set_notify(q, true);
	/*
	 * Event suppression stores visible before re-reading the flags of
	 * the next slots: otherwise the other side may publish, read our
	 * stale DISABLE, skip the notification, and we sleep on it.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vrelay_packed_desc_avail(vrelay_load16(
			&q->packed.gdesc[q->packed.last_avail].flags),
			q->packed.avail_wrap) ||
		vrelay_packed_desc_used(vrelay_load16(
			&q->packed.mdesc[q->packed.last_used].flags),
			q->packed.used_wrap);
}

static void
packed_get_state(const struct vrelay_queue *q, struct vrelay_qstate *s)
{
	*s = (struct vrelay_qstate){
		.avail_idx = q->packed.last_avail,
		.used_idx = q->packed.last_used,
		.avail_wrap = q->packed.avail_wrap,
		.used_wrap = q->packed.used_wrap,
	};
}

const struct vrelay_ring_ops vrelay_packed_ops = {
	.name = "packed",
	.check_geometry = packed_check_geometry,
	.alloc_mrings = packed_alloc_mrings,
	.free_mrings = packed_free_mrings,
	.init = packed_init,
	.seed_inflight = vrelay_packed_seed_inflight,
	.log_window = vrelay_packed_log_window,
	.relay_avail = vrelay_packed_relay_avail,
	.relay_used = vrelay_packed_relay_used,
	.set_notify = packed_set_notify,
	.arm = packed_arm,
	.get_state = packed_get_state,
};
