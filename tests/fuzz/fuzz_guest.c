/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Guest model shared by the relay fuzz targets (see fuzz_guest.h).
 *
 * The decoder does not hand raw bytes to the relay as descriptor
 * addresses: a random 64-bit address would almost never hit guest
 * memory and the fuzzer would spend its time on the first check. Each
 * descriptor instead picks a target (a region, the hole, or the top of
 * the address space) and an offset, so every check of the chain walker
 * is reachable in a few mutations.
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include <rte_log.h>

#include "fuzz_guest.h"

#define PG 4096ULL

/* Host layout, mapped once: [g][A][B][g][B'][g][C][g][log][g]. */
static uint8_t *fg_base;
static uint8_t *fg_a, *fg_b_cont, *fg_b_sep, *fg_c, *fg_logpg;
/* Snapshot of guest memory: A+B (as mapped back to back), B apart, C. */
static uint8_t fg_snap_ab[FG_A_SIZE + FG_B_SIZE];
static uint8_t fg_snap_b[FG_B_SIZE];
static uint8_t fg_snap_c[FG_C_SIZE];

/* The device doorbell: signalled by the relay, drained by nobody. */
static int fg_doorbell = -1;

uint8_t
fg_u8(struct fg_in *in)
{
	uint8_t v;

	if (in->left == 0)
		return 0;
	v = *in->p++;
	in->left--;
	return v;
}

uint16_t
fg_u16(struct fg_in *in)
{
	uint16_t lo = fg_u8(in);

	return lo | (uint16_t)(fg_u8(in) << 8);
}

uint32_t
fg_u32(struct fg_in *in)
{
	uint32_t lo = fg_u16(in);

	return lo | ((uint32_t)fg_u16(in) << 16);
}

static void
fg_quiet_logs(void)
{
	/* Each broken queue logs a line: keep them for replays only. */
	if (getenv("FUZZ_VERBOSE") == NULL)
		rte_log_set_global_level(RTE_LOG_CRIT);
}

void
fg_global_init(void)
{
	size_t total;
	uint8_t *p;

	if (fg_base != NULL)
		return;
	total = PG + FG_A_SIZE + FG_B_SIZE + PG + FG_B_SIZE + PG +
		FG_C_SIZE + PG + PG + PG;
	fg_base = mmap(NULL, total, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	FG_ASSERT(fg_base != MAP_FAILED);
	p = fg_base + PG;
	fg_a = p;
	fg_b_cont = p + FG_A_SIZE;
	FG_ASSERT(mprotect(fg_a, FG_A_SIZE + FG_B_SIZE,
			   PROT_READ | PROT_WRITE) == 0);
	p += FG_A_SIZE + FG_B_SIZE + PG;
	fg_b_sep = p;
	FG_ASSERT(mprotect(fg_b_sep, FG_B_SIZE, PROT_READ | PROT_WRITE) == 0);
	p += FG_B_SIZE + PG;
	fg_c = p;
	FG_ASSERT(mprotect(fg_c, FG_C_SIZE, PROT_READ | PROT_WRITE) == 0);
	p += FG_C_SIZE + PG;
	fg_logpg = p;
	FG_ASSERT(mprotect(fg_logpg, PG, PROT_READ | PROT_WRITE) == 0);
	/* Non-blocking: a saturated counter must not stall the target. */
	fg_doorbell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	FG_ASSERT(fg_doorbell >= 0);
	fg_quiet_logs();
}

/* Turn an encoded record into a descriptor the guest could have written. */
void
fg_decode_desc(struct fg_in *in, struct vring_desc *d)
{
	uint8_t sel = fg_u8(in);
	uint8_t flags = fg_u8(in);
	uint16_t next = fg_u16(in);
	uint32_t off = fg_u32(in);
	uint16_t len = fg_u16(in);

	switch (sel & 3) {
	case 0:	/* region A, may run past its end into B */
		d->addr = FG_A_GPA + off % (FG_A_SIZE + PG);
		break;
	case 1:	/* region B, may run into the hole */
		d->addr = FG_B_GPA + off % (FG_B_SIZE + PG);
		break;
	case 2:	/* region C, may run past the end of memory */
		d->addr = FG_C_GPA + off % (FG_C_SIZE + PG);
		break;
	default: /* the hole, or the top of the address space */
		if (off & 1)
			d->addr = UINT64_MAX - (off >> 1);
		else
			d->addr = FG_HOLE_GPA - PG + (off >> 1) % FG_HOLE_SIZE;
		break;
	}
	switch ((sel >> 2) & 3) {
	case 0:
		d->len = len;
		break;
	case 1:	/* indirect table sized: whole descriptors, mostly */
		d->len = (sel & 0x10) ? len % 64 * 16 : len % 1040;
		break;
	case 2:
		d->len = (uint32_t)len << 16 | len;
		break;
	default:
		d->len = 0;
		break;
	}
	/* Only the three virtio bits, unless the input insists. */
	d->flags = (sel & 0x80) ? (uint16_t)(flags | flags << 8) : flags & 7;
	d->next = next;
}

/* A head id: in range most of the time, anything when bit 15 is set. */
uint16_t
fg_decode_head(struct fg_guest *g, struct fg_in *in)
{
	uint16_t v = fg_u16(in);

	return (v & 0x8000) ? v : v % g->size;
}

/* A new guest avail index: usually a few entries on, sometimes anything. */
uint16_t
fg_decode_avail_idx(struct fg_guest *g, struct fg_in *in, uint16_t from)
{
	uint16_t v = fg_u16(in);

	if (v & 0x8000)
		return from + (v & 0x7fff);
	return from + v % (g->size + 2);
}

/* The guest rewrites a few descriptors (legal or not) between passes. */
void
fg_mutate_descs(struct fg_guest *g, struct fg_in *in)
{
	uint8_t n = fg_u8(in) % 8, i;

	for (i = 0; i < n; i++) {
		uint16_t at = fg_u16(in);

		if (at & 0x8000)
			fg_decode_desc(in,
				(struct vring_desc *)fg_c + at % FG_ITABLE_MAX);
		else
			fg_decode_desc(in, &g->desc[at % g->size]);
	}
}

void *
fg_hva(const struct fg_guest *g, uint64_t gpa, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < g->mem.nregions; i++) {
		const struct vrelay_mem_region *r = &g->mem.regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size &&
		    len <= r->size - (gpa - r->gpa))
			return (void *)(uintptr_t)(r->hva + gpa - r->gpa);
	}
	/* A and B back to back in the host too: one mapping. */
	if (g->b == fg_b_cont && gpa < FG_B_GPA + FG_B_SIZE &&
	    len <= FG_B_GPA + FG_B_SIZE - gpa)
		return g->a + gpa;
	return NULL;
}

static void
fg_fill_tables(struct fg_guest *g, struct fg_in *in)
{
	struct vring_desc *t = (struct vring_desc *)g->c;
	uint32_t i;

	for (i = 0; i < g->size; i++)
		fg_decode_desc(in, &g->desc[i]);
	for (i = 0; i < g->size; i++)
		g->avail->ring[i] = fg_decode_head(g, in);
	/* Whatever is left: descriptors of indirect tables in C. */
	for (i = 0; i < FG_ITABLE_MAX && in->left > 0; i++)
		fg_decode_desc(in, &t[i]);
}

/*
 * cfg (size, features, layout) from the control block, then the guest.
 * Everything is rewritten, so inputs do not influence each other.
 */
void
fg_split(const uint8_t *data, size_t size, struct fg_in *ctl,
	 struct fg_in *guest)
{
	size_t n = size < FG_CTL_LEN ? size : FG_CTL_LEN;

	ctl->p = data;
	ctl->left = n;
	guest->p = data + n;
	guest->left = size - n;
}

void
fg_guest_reset(struct fg_guest *g, struct fg_in *ctl, struct fg_in *in)
{
	uint8_t cfg = fg_u8(ctl);

	memset(g, 0, sizeof(*g));
	memset(fg_a, 0, FG_A_SIZE + FG_B_SIZE);
	memset(fg_b_sep, 0, FG_B_SIZE);
	memset(fg_c, 0, FG_C_SIZE);
	memset(fg_logpg, 0, PG);
	g->size = 1U << (cfg & 0xf) % 9;
	g->indirect = cfg & 0x10;
	g->event_idx = cfg & 0x20;
	g->a = fg_a;
	g->b = (cfg & 0x40) ? fg_b_cont : fg_b_sep;
	g->c = fg_c;
	g->mem.nregions = 3;
	/* Listed out of GPA order on purpose: the lookup must not care. */
	g->mem.regions[0] = (struct vrelay_mem_region){ FG_C_GPA, FG_C_SIZE,
		(uint64_t)(uintptr_t)g->c };
	g->mem.regions[1] = (struct vrelay_mem_region){ FG_A_GPA, FG_A_SIZE,
		(uint64_t)(uintptr_t)g->a };
	g->mem.regions[2] = (struct vrelay_mem_region){ FG_B_GPA, FG_B_SIZE,
		(uint64_t)(uintptr_t)g->b };
	g->desc = (struct vring_desc *)(g->a + FG_DESC_GPA);
	g->avail = (struct vring_avail *)(g->a + FG_AVAIL_GPA);
	g->used = (struct vring_used *)(g->a + FG_USED_GPA);
	fg_fill_tables(g, in);
}

/*
 * Device, log and queue. Input: log size, device indices. The log is
 * placed so that its last byte is followed by a guard page.
 */
int
fg_queue_create(struct fg_guest *g, struct fg_in *in, bool with_log)
{
	struct vrelay_queue_conf c = { 0 };
	uint8_t lsz = fg_u8(in);
	uint16_t last_avail = fg_u16(in);
	uint8_t inflight = fg_u8(in);
	uint8_t window = fg_u8(in);

	g->dev = vrelay_device_create("fz", &g->mem);
	FG_ASSERT(g->dev != NULL);
	if (with_log && lsz != 0) {
		g->log_size = 1 + lsz % FG_LOG_MAX;
		g->log = fg_logpg + PG - g->log_size;
		FG_ASSERT(vrelay_device_set_log(g->dev, g->log,
						g->log_size) == 0);
	}
	c.name = "q0";
	c.size = g->size;
	c.format = VRELAY_RING_SPLIT;
	c.desc = g->desc;
	c.driver_area = g->avail;
	c.device_area = g->used;
	c.device_area_gpa = FG_USED_GPA;
	c.event_idx = g->event_idx;
	c.indirect = g->indirect;
	c.guest_kick_fd = -1;
	c.guest_call_fd = -1;
	c.device_doorbell_fd = fg_doorbell;
	c.device_irq_fd = -1;
	c.state.avail_idx = last_avail;
	c.state.used_idx = last_avail - inflight % (g->size + 2);
	c.log_from_used_idx = c.state.used_idx - window % (g->size + 2);
	g->avail->idx = last_avail;
	g->used->idx = c.state.used_idx;
	g->q = vrelay_queue_create(g->dev, &c);
	return g->q != NULL ? 0 : -errno;
}

void
fg_guest_teardown(struct fg_guest *g)
{
	vrelay_queue_destroy(g->q);
	if (g->dev != NULL)
		vrelay_device_set_log(g->dev, NULL, 0);
	vrelay_device_destroy(g->dev);
}

bool
fg_in_memory(uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len;

	if (len == 0)
		return true;
	if (end < gpa)
		return false;
	return end <= FG_HOLE_GPA ||
		(gpa >= FG_C_GPA && end <= FG_GPA_END);
}

void
fg_pages(uint64_t gpa, uint64_t len, fg_page_fn fn, void *arg)
{
	uint64_t p;

	if (len == 0)
		return;
	for (p = gpa >> VRELAY_LOG_PAGE_SHIFT;
	     p <= (gpa + len - 1) >> VRELAY_LOG_PAGE_SHIFT; p++)
		fn(arg, p);
}

void
fg_pageset_add(void *arg, uint64_t page)
{
	struct fg_pageset *s = arg;

	if (page >= FG_PAGES)
		s->outside = true;
	else
		s->in[page] = 1;
}

void
fg_snapshot(void)
{
	memcpy(fg_snap_ab, fg_a, sizeof(fg_snap_ab));
	memcpy(fg_snap_b, fg_b_sep, sizeof(fg_snap_b));
	memcpy(fg_snap_c, fg_c, sizeof(fg_snap_c));
}

/* Where a live guest pointer's bytes are in the snapshot. */
const void *
fg_view(const void *p, bool snap)
{
	const uint8_t *u = p;

	if (!snap || u == NULL)
		return p;
	if (u >= fg_a && u < fg_a + sizeof(fg_snap_ab))
		return fg_snap_ab + (u - fg_a);
	if (u >= fg_b_sep && u < fg_b_sep + sizeof(fg_snap_b))
		return fg_snap_b + (u - fg_b_sep);
	if (u >= fg_c && u < fg_c + sizeof(fg_snap_c))
		return fg_snap_c + (u - fg_c);
	return p;
}

/*
 * Independent chain walker: no validity rules beyond what it needs to
 * stay safe itself. Returns 0 when the chain ends (no NEXT) within a
 * generous step budget, -1 otherwise (loop, bad index, bad table).
 * Reports through fn the pages of the first len writable bytes and
 * clears *all_in_memory if any buffer lies outside guest memory.
 */
static int
fg_walk(const struct fg_guest *g, bool snap, uint16_t head, uint64_t len,
	fg_page_fn fn, void *arg, bool *all_in_memory)
{
	const struct vring_desc *t = fg_view(g->desc, snap);
	uint32_t n = g->size, i = head, steps;
	struct vring_desc d;
	uint64_t take;

	*all_in_memory = true;
	if (head >= g->size)
		return -1;
	for (steps = 0; steps < 4 * VRELAY_MAX_CHAIN_LEN; steps++) {
		d = t[i];
		if (d.flags & VRING_DESC_F_INDIRECT) {
			t = fg_view(fg_hva(g, d.addr, d.len), snap);
			if (t == NULL || d.len % 16 != 0 || d.len == 0)
				return -1;
			n = d.len / 16;
			i = 0;
			continue;
		}
		if (!fg_in_memory(d.addr, d.len))
			*all_in_memory = false;
		if ((d.flags & VRING_DESC_F_WRITE) && len > 0 && fn != NULL) {
			take = d.len < len ? d.len : len;
			fg_pages(d.addr, take, fn, arg);
			len -= take;
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (i >= n)
			return -1;
	}
	return -1;
}

int
fg_oracle_walk(const struct fg_guest *g, uint16_t head, uint64_t len,
	       fg_page_fn fn, void *arg, bool *all_in_memory)
{
	return fg_walk(g, false, head, len, fn, arg, all_in_memory);
}

int
fg_oracle_walk_snap(const struct fg_guest *g, uint16_t head, uint64_t len,
		    fg_page_fn fn, void *arg, bool *all_in_memory)
{
	return fg_walk(g, true, head, len, fn, arg, all_in_memory);
}

uint8_t *
fg_log_area(void)
{
	return fg_logpg;
}

bool
fg_log_test(const struct fg_guest *g, uint64_t page)
{
	if (g->log == NULL || page >= g->log_size * 8)
		return false;
	return g->log[page >> 3] & (1U << (page & 7));
}

int
fg_setup(const uint8_t *data, size_t size, struct fg_in *in,
	 struct fg_in *gin, struct fg_guest *g)
{
	fg_global_init();
	fg_split(data, size, in, gin);
	fg_guest_reset(g, in, gin);
	if (fg_queue_create(g, in, true) != 0) {
		fg_guest_teardown(g);
		return -1;
	}
	return 0;
}
