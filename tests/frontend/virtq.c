/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Virtqueue, format-independent part: private state, eventfds,
 * notification, and dispatch to the split or packed ring driver.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "virtq.h"

static int
alloc_private(struct virtq *vq)
{
	unsigned int i;

	vq->free_stack = calloc(vq->size, sizeof(uint16_t));
	vq->next = calloc(vq->size, sizeof(uint16_t));
	vq->chain_len = calloc(vq->size, sizeof(uint16_t));
	vq->token = calloc(vq->size, sizeof(void *));
	if (vq->packed)
		vq->pend = calloc(vq->size, sizeof(*vq->pend));
	if (!vq->free_stack || !vq->next || !vq->chain_len || !vq->token ||
	    (vq->packed && !vq->pend))
		return -ENOMEM;
	/* Descriptors (split) or buffer IDs (packed), 0 on top. */
	for (i = 0; i < vq->size; i++)
		vq->free_stack[i] = vq->size - 1 - i;
	vq->num_free = vq->size;
	vq->num_ids = vq->size;
	return 0;
}

int
virtq_init_fmt(struct virtq *vq, struct guest_mem *gm, uint16_t index,
	       uint16_t size, bool event_idx, enum virtq_fmt fmt)
{
	int ret;

	memset(vq, 0, sizeof(*vq));
	vq->kickfd = vq->callfd = -1;
	if (size == 0 || (size & (size - 1)) || size > 32768 ||
	    (fmt != VQ_SPLIT && fmt != VQ_PACKED))
		return -EINVAL;
	vq->packed = fmt == VQ_PACKED;
	vq->ops = vq->packed ? &virtq_packed_ops : &virtq_split_ops;
	vq->size = size;
	vq->index = index;
	vq->event_idx = event_idx;
	ret = alloc_private(vq);
	if (ret == 0)
		ret = vq->ops->alloc(vq, gm);
	if (ret < 0)
		return ret;
	vq->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	vq->callfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vq->kickfd < 0 || vq->callfd < 0)
		return -errno;
	return 0;
}

int
virtq_init(struct virtq *vq, struct guest_mem *gm, uint16_t index,
	   uint16_t size, bool event_idx)
{
	return virtq_init_fmt(vq, gm, index, size, event_idx, VQ_SPLIT);
}

void
virtq_free(struct virtq *vq)
{
	if (vq->kickfd >= 0)
		close(vq->kickfd);
	if (vq->callfd >= 0)
		close(vq->callfd);
	free(vq->free_stack);
	free(vq->next);
	free(vq->chain_len);
	free(vq->token);
	free(vq->pend);
	memset(vq, 0, sizeof(*vq));
	vq->kickfd = vq->callfd = -1;
}

int
virtq_rebind(struct virtq *vq, struct guest_mem *gm)
{
	return vq->ops->map(vq, gm);
}

void
virtq_ring_addr(const struct virtq *vq, struct vq_ring_addr *a)
{
	if (vq->packed) {
		a->desc = vq->pdesc;
		a->driver = vq->drv_evt;
		a->device = vq->dev_evt;
		/* DPDK logs used descriptors at log_guest_addr + slot * 16. */
		a->log_gpa = vq->desc_gpa;
	} else {
		a->desc = vq->desc;
		a->driver = vq->avail;
		a->device = vq->used;
		a->log_gpa = vq->used_gpa;
	}
}

uint32_t
virtq_initial_base(const struct virtq *vq)
{
	return vq->ops->initial_base;
}

int
virtq_add(struct virtq *vq, const struct vq_seg *segs, unsigned int n,
	  bool indirect, void *token)
{
	if (n == 0 || n > VQ_MAX_SEGS || token == NULL)
		return -EINVAL;
	if (vq->num_free < (indirect ? 1 : n))
		return -ENOSPC;
	return vq->ops->add(vq, segs, n, indirect, token);
}

void
virtq_publish(struct virtq *vq)
{
	int kick = vq->ops->publish(vq);

	if (kick == 0)
		vq->kicks_saved++;
	else if (kick > 0)
		virtq_notify(vq);
}

void
virtq_notify(struct virtq *vq)
{
	uint64_t one = 1;

	if (write(vq->kickfd, &one, sizeof(one)) == sizeof(one))
		vq->kicks++;
}

uint16_t
virtq_pending(const struct virtq *vq)
{
	return vq->ops->pending(vq);
}

int
virtq_peek_used(const struct virtq *vq, uint16_t n, struct vq_used *u)
{
	return vq->ops->peek_used(vq, n, u);
}

int
virtq_get_used(struct virtq *vq, struct vq_used *u)
{
	return vq->ops->get_used(vq, u);
}

uint16_t
virtq_used_idx(const struct virtq *vq)
{
	return vq->ops->used_idx(vq);
}

void
virtq_mark_used_write(const struct virtq *vq, uint16_t slot,
		      struct dl_bitmap *bm)
{
	vq->ops->mark_used_write(vq, slot, bm);
}
