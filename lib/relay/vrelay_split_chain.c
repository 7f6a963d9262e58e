/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Split ring descriptor chain walking and checking (the descriptor table
 * and the indirect tables it points to). The guest owns the descriptor
 * table and may rewrite it at any time, so each descriptor is read once
 * into a local copy and every decision is taken on that copy; every loop
 * is bounded so a hostile table cannot make the relay spin.
 */

#include <string.h>

#include "vrelay_private.h"

struct chain_walk {
	const struct vring_desc *table;	/* current table */
	uint32_t n;			/* entries in it */
	uint32_t left;			/* descriptors we may still visit */
	uint32_t total;			/* descriptors visited overall */
	bool in_indirect;
	struct vrelay_chain_acc acc;	/* writable buffers so far */
};

static void
desc_read(const struct vring_desc *table, uint32_t i, struct vring_desc *d)
{
	/*
	 * One snapshot, copied as bytes: the guest can race with us on
	 * every field, and a hostile guest's indirect table need not be
	 * aligned (found by fuzz_avail under UBSan).
	 */
	memcpy(d, (const void *)&table[i], sizeof(*d));
}

static const char *
chain_enter_indirect(struct vrelay_queue *q, struct chain_walk *w,
		     const struct vring_desc *d)
{
	const struct vring_desc *t;
	uint32_t n;

	if (!q->indirect)
		return "indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC";
	if (w->in_indirect)
		return "indirect descriptor inside an indirect table";
	if (d->flags & VRING_DESC_F_NEXT)
		return "descriptor has both NEXT and INDIRECT";
	if (d->len == 0 || d->len % sizeof(struct vring_desc) != 0)
		return "indirect table length not a non-zero multiple of 16";
	n = d->len / sizeof(struct vring_desc);
	if (n > VRELAY_MAX_CHAIN_LEN)
		return "indirect table too long";
	t = vrelay_mem_translate(&q->dev->mem, d->addr, d->len);
	if (t == NULL)
		return "indirect table outside guest memory";
	w->table = t;
	w->n = n;
	w->left = n;
	w->in_indirect = true;
	return NULL;
}

/*
 * Walk the chain starting at head. Calls fn for each writable buffer in
 * chain order and stores the chain's writable length in *wlen.
 * budget, if not NULL, is how many descriptors the walk may still visit
 * (an indirect descriptor counts, as do the entries of its table); it is
 * decremented by those visited, and a walk that would exceed it fails.
 * Returns 0, or -EIO with *reason set when the chain breaks a virtio rule
 * or the budget runs out.
 */
int
vrelay_split_chain_walk_budget(struct vrelay_queue *q, uint16_t head,
			       uint32_t *budget, uint64_t *wlen,
			       vrelay_wdesc_fn fn, void *arg,
			       const char **reason)
{
	struct chain_walk w = {
		.table = q->split.gdesc,
		.n = q->size,
		.left = q->size,	/* no direct chain is longer than the ring */
	};
	struct vring_desc d;
	uint32_t i = head;
	const char *err = NULL;

	if (head >= q->size) {
		*reason = "head id out of range";
		return -EIO;
	}
	for (;;) {
		if (w.left == 0 || w.total == VRELAY_MAX_CHAIN_LEN) {
			err = "chain too long or looping";
			break;
		}
		if (budget != NULL && *budget == 0) {
			err = "descriptor budget spent";
			break;
		}
		if (budget != NULL)
			(*budget)--;
		w.left--;
		w.total++;
		desc_read(w.table, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			err = chain_enter_indirect(q, &w, &d);
			if (err != NULL)
				break;
			i = 0;
			continue;
		}
		err = vrelay_chain_buffer(q, &w.acc, d.addr, d.len,
					  d.flags & VRING_DESC_F_WRITE, fn,
					  arg);
		if (err != NULL)
			break;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		i = d.next;
		if (i >= w.n) {
			err = "next id out of range";
			break;
		}
	}
	if (err != NULL) {
		*reason = err;
		return -EIO;
	}
	*wlen = w.acc.wlen;
	return 0;
}

int
vrelay_split_chain_walk(struct vrelay_queue *q, uint16_t head, uint64_t *wlen,
			vrelay_wdesc_fn fn, void *arg, const char **reason)
{
	return vrelay_split_chain_walk_budget(q, head, NULL, wlen, fn, arg,
					      reason);
}
