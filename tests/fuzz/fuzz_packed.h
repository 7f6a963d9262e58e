/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The packed ring (virtio 1.1, 2.8) on fuzz_guest.h's guest memory: the
 * same regions, guard pages, decoder and log, a packed descriptor ring
 * at FG_DESC_GPA (any size 1..256), the driver event area at
 * FG_AVAIL_GPA and the device event area at FG_USED_GPA, and an
 * independent packed chain walker as the oracle.
 */

#ifndef FUZZ_PACKED_H
#define FUZZ_PACKED_H

#include "fuzz_guest.h"

#define FP_F_AVAIL	(1u << VRING_PACKED_DESC_F_AVAIL)
#define FP_F_USED	(1u << VRING_PACKED_DESC_F_USED)

struct fp_guest {
	struct fg_guest g;		/* memory, log, device, queue */
	struct vring_packed_desc *ring;
	struct vring_packed_desc *mring;	/* the queue's mediated ring */
	uint16_t pos;			/* the relay's avail position */
	bool wrap;
	uint16_t upos;			/* the device's used one at create */
	bool uwrap;
};

/* One chain as the oracle walked it. */
struct fp_chain {
	uint16_t ndesc;		/* ring slots */
	uint16_t id;		/* the last slot's */
	bool in_mem;		/* every buffer inside guest memory */
};

/* Split the input, lay out a packed guest, create the queue (logged). */
int fp_setup(const uint8_t *data, size_t size, struct fg_in *in,
	     struct fp_guest *p);

/* The guest rewrites a few ring slots or table entries, legal or not. */
void fp_mutate(struct fp_guest *p, struct fg_in *in);

/* (pos, wrap) moved on by n slots. */
void fp_advance(uint16_t size, uint16_t *pos, bool *wrap, uint16_t n);

bool fp_is_avail(uint16_t flags, bool wrap);
bool fp_is_used(uint16_t flags, bool wrap);

/*
 * Oracle: walk the chain at ring slot pos (the live ring, or with snap
 * the fg_snapshot() of it), reporting through fn the pages of its first
 * len writable bytes. @return 0 when it ends within the ring and its
 * indirect table (if any) is whole in memory, -1 otherwise.
 */
int fp_walk(const struct fp_guest *p, bool snap, uint16_t pos, uint64_t len,
	    fg_page_fn fn, void *arg, struct fp_chain *c);

#endif /* FUZZ_PACKED_H */
