/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Shared harness of the relay fuzz targets: a guest memory map made of
 * three regions surrounded by PROT_NONE guard pages, guest rings inside
 * it, a decoder turning fuzz bytes into descriptor tables and ring
 * contents, and an independent chain walker used as an oracle.
 *
 * Guest physical layout (GPA):
 *   A  [0x00000, 0x10000)  rings + buffers
 *   B  [0x10000, 0x18000)  adjacent to A in GPA; in host memory either
 *                          right after A (one mapping) or on its own
 *                          between guard pages (layout bit)
 *   -- [0x18000, 0x40000)  hole: no guest memory
 *   C  [0x40000, 0x50000)  indirect tables + buffers
 *
 * Any access by the relay outside these regions hits a guard page (or a
 * never-mapped hole) and crashes the target, so "never reads or writes
 * outside the provided guest memory" is checked by construction.
 */

#ifndef FUZZ_GUEST_H
#define FUZZ_GUEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "vdpa_relay.h"

#define FG_A_GPA	0x00000ULL
#define FG_A_SIZE	0x10000ULL
#define FG_B_GPA	0x10000ULL
#define FG_B_SIZE	0x08000ULL
#define FG_HOLE_GPA	0x18000ULL
#define FG_HOLE_SIZE	0x28000ULL
#define FG_C_GPA	0x40000ULL
#define FG_C_SIZE	0x10000ULL
#define FG_GPA_END	(FG_C_GPA + FG_C_SIZE)
#define FG_PAGES	(FG_GPA_END >> VRELAY_LOG_PAGE_SHIFT)

#define FG_DESC_GPA	0x0000ULL	/* up to 256 * 16 bytes */
#define FG_AVAIL_GPA	0x1000ULL
#define FG_USED_GPA	0x2000ULL
#define FG_MAX_RING	256
#define FG_LOG_MAX	(FG_PAGES / 8 + 4)	/* bytes; some past memory */
#define FG_ITABLE_MAX	1024		/* descriptors written at C */

/* Abort with a message: the fuzzer records the input as a crash. */
#define FG_ASSERT(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", \
			__FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

/*
 * An input is a control block (ring size, features, indices, budgets,
 * per-round actions) of FG_CTL_LEN bytes, then the guest's memory
 * contents: splitting them keeps a mutation of one from shifting the
 * other.
 */
#define FG_CTL_LEN	192

/* Byte cursor over the fuzz input; reads past the end give zeros. */
struct fg_in {
	const uint8_t *p;
	size_t left;
};

struct fg_guest {
	struct vrelay_mem mem;
	uint8_t *a, *b, *c;		/* host addresses of the regions */
	uint16_t size;			/* ring size */
	bool indirect;
	bool event_idx;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct vrelay_device *dev;
	struct vrelay_queue *q;
	uint8_t *log;			/* ends right before a guard page */
	uint64_t log_size;
};

uint8_t fg_u8(struct fg_in *in);
uint16_t fg_u16(struct fg_in *in);
uint32_t fg_u32(struct fg_in *in);

/* One-time setup (mappings), then per-input reset from the header. */
void fg_global_init(void);
void fg_split(const uint8_t *data, size_t size, struct fg_in *ctl,
	      struct fg_in *guest);
void fg_guest_reset(struct fg_guest *g, struct fg_in *ctl, struct fg_in *in);
void fg_decode_desc(struct fg_in *in, struct vring_desc *d);
void fg_mutate_descs(struct fg_guest *g, struct fg_in *in);
uint16_t fg_decode_head(struct fg_guest *g, struct fg_in *in);
uint16_t fg_decode_avail_idx(struct fg_guest *g, struct fg_in *in,
			     uint16_t from);
void *fg_hva(const struct fg_guest *g, uint64_t gpa, uint64_t len);
int fg_queue_create(struct fg_guest *g, struct fg_in *in, bool with_log);

/*
 * Everything a target does before its rounds: split the input, lay out
 * the guest, create the queue with a log. Returns 0, or -1 when the
 * input makes no queue (the guest is then torn down already).
 */
int fg_setup(const uint8_t *data, size_t size, struct fg_in *in,
	     struct fg_in *gin, struct fg_guest *g);
void fg_guest_teardown(struct fg_guest *g);

/* Oracle: the pages the first len bytes of a chain's writable buffers cover. */
typedef void (*fg_page_fn)(void *arg, uint64_t page);
int fg_oracle_walk(const struct fg_guest *g, uint16_t head, uint64_t len,
		   fg_page_fn fn, void *arg, bool *all_in_memory);
/*
 * The same walk over a snapshot of guest memory taken by fg_snapshot():
 * the chains as they were when the relay checked them, before the guest
 * rewrote them.
 */
void fg_snapshot(void);
int fg_oracle_walk_snap(const struct fg_guest *g, uint16_t head,
			uint64_t len, fg_page_fn fn, void *arg,
			bool *all_in_memory);
bool fg_log_test(const struct fg_guest *g, uint64_t page);

/* For other ring formats (fuzz_packed.c): the log's page, a guard after. */
uint8_t *fg_log_area(void);
bool fg_in_memory(uint64_t gpa, uint64_t len);
void fg_pages(uint64_t gpa, uint64_t len, fg_page_fn fn, void *arg);

/* A set of guest pages, and the fg_page_fn that fills it (arg: the set). */
struct fg_pageset {
	uint8_t in[FG_PAGES];
	bool outside;		/* a page beyond guest memory was named */
};
void fg_pageset_add(void *arg, uint64_t page);
/* p itself, or with snap where its bytes are in the fg_snapshot(). */
const void *fg_view(const void *p, bool snap);

#endif /* FUZZ_GUEST_H */
