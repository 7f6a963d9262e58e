/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Test scaffolding: synthetic guest memory (three regions, the first two
 * adjacent, then a hole), guest rings inside it driven by the shared
 * test driver (tests/lib/split_drv.h), and a tiny device that writes
 * through the guest descriptor table.
 */

#ifndef TEST_COMMON_H
#define TEST_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "split_drv.h"
#include "vdpa_relay.h"

#define CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
			__LINE__, #c); \
		exit(1); \
	} \
} while (0)

/* Guest physical layout; hva = t->mem + gpa. */
#define T_MEM_SIZE	0x800000ULL
#define T_GAP_START	0x200000ULL
#define T_GAP_END	0x400000ULL
#define T_DESC_GPA	0x10000ULL
#define T_AVAIL_GPA	0x11000ULL
#define T_USED_GPA	0x12000ULL
#define T_BUF_GPA	0x400000ULL
#define T_LOG_SIZE	(T_MEM_SIZE / 4096 / 8)

struct tctx {
	uint8_t *mem;
	struct vrelay_mem mt;
	struct vrelay_device *dev;
	uint16_t size;
	struct vq_drv_flat flat;	/* drv's view: all of mem, holes too */
	struct split_drv drv;		/* the guest driver of the ring */
	/* drv's ring areas, by the names the tests have always used */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint8_t *log;
	int kick_fd, call_fd, doorbell_fd, irq_fd;
	/* fake device shadow indices over the mediated rings */
	uint16_t dev_avail, dev_used;
};

static inline void *
t_hva(struct tctx *t, uint64_t gpa)
{
	return t->mem + gpa;
}

static inline void
t_init(struct tctx *t, uint16_t size)
{
	memset(t, 0, sizeof(*t));
	t->mem = mmap(NULL, T_MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(t->mem != MAP_FAILED);
	t->mt.nregions = 3;
	t->mt.regions[0] = (struct vrelay_mem_region){ 0, 0x100000,
		(uint64_t)(uintptr_t)t->mem };
	t->mt.regions[1] = (struct vrelay_mem_region){ 0x100000, 0x100000,
		(uint64_t)(uintptr_t)t->mem + 0x100000 };
	t->mt.regions[2] = (struct vrelay_mem_region){ T_GAP_END,
		T_MEM_SIZE - T_GAP_END,
		(uint64_t)(uintptr_t)t->mem + T_GAP_END };
	t->dev = vrelay_device_create("tdev", &t->mt);
	CHECK(t->dev != NULL);
	t->size = size;
	t->flat = (struct vq_drv_flat){ 0, T_MEM_SIZE, t->mem };
	CHECK(split_drv_init(&t->drv, size, T_DESC_GPA, T_AVAIL_GPA,
			     T_USED_GPA, vq_drv_xlate_flat, &t->flat) == 0);
	t->desc = t->drv.desc;
	t->avail = t->drv.avail;
	t->used = t->drv.used;
	t->log = calloc(1, T_LOG_SIZE);
	CHECK(t->log != NULL);
	t->kick_fd = eventfd(0, EFD_NONBLOCK);
	t->call_fd = eventfd(0, EFD_NONBLOCK);
	t->doorbell_fd = eventfd(0, EFD_NONBLOCK);
	t->irq_fd = eventfd(0, EFD_NONBLOCK);
}

static inline void
t_fini(struct tctx *t)
{
	vrelay_device_set_log(t->dev, NULL, 0);
	vrelay_device_destroy(t->dev);
	munmap(t->mem, T_MEM_SIZE);
	free(t->log);
	close(t->kick_fd);
	close(t->call_fd);
	close(t->doorbell_fd);
	close(t->irq_fd);
}

static inline struct vrelay_queue_conf
t_conf(struct tctx *t, uint16_t start)
{
	struct vrelay_queue_conf c = {
		.name = "q0", .qid = 0, .size = t->size,
		.format = VRELAY_RING_SPLIT, .desc = t->desc,
		.driver_area = t->avail, .device_area = t->used,
		.device_area_gpa = T_USED_GPA,
		.indirect = true,
		.guest_kick_fd = t->kick_fd, .guest_call_fd = t->call_fd,
		.device_doorbell_fd = t->doorbell_fd,
		.device_irq_fd = t->irq_fd,
		.state = { .avail_idx = start, .used_idx = start },
		.log_from_used_idx = start,
	};

	split_drv_reset(&t->drv, start);
	t->dev_avail = start;
	t->dev_used = start;
	return c;
}

/* t_init() and a queue of size entries at index 0 on its device. */
static inline struct vrelay_queue *
t_queue(struct tctx *t, uint16_t size)
{
	struct vrelay_queue_conf c;
	struct vrelay_queue *q;

	t_init(t, size);
	c = t_conf(t, 0);
	q = vrelay_queue_create(t->dev, &c);
	CHECK(q != NULL);
	return q;
}

/* Driver: publish head at the next avail slot. */
static inline void
t_publish(struct tctx *t, uint16_t head)
{
	split_drv_publish(&t->drv, head);
}

/* Driver: one writable buffer per head (head == slot). */
static inline void
t_add_rx(struct tctx *t, uint16_t head, uint64_t gpa, uint32_t len)
{
	struct vq_drv_seg s = { gpa, len, VRING_DESC_F_WRITE };

	split_drv_write_chain(t->desc, t->size, head, &s, 1);
	split_drv_publish(&t->drv, head);
}

static inline uint64_t
t_rd_eventfd(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/*
 * Device: consume what the relay forwarded, write `len` bytes into each
 * chain's writable buffers (following the guest descriptor table, with
 * indirect support) and post used entries. Returns entries completed.
 */
static inline unsigned int
t_device_run(struct tctx *t, const struct vrelay_mring_info *m, uint32_t len,
	     unsigned int max)
{
	struct vring_avail *ma = m->driver_area;
	struct vring_used *mu = m->device_area;
	uint16_t aidx = __atomic_load_n(&ma->idx, __ATOMIC_ACQUIRE);
	unsigned int n = 0;

	while (t->dev_avail != aidx && n < max) {
		uint16_t head = ma->ring[t->dev_avail & (t->size - 1)];
		struct vring_desc *tab = t->desc;
		uint16_t i = head;
		uint32_t left = len, w = 0;

		for (;;) {
			struct vring_desc *d = &tab[i];

			if (d->flags & VRING_DESC_F_INDIRECT) {
				tab = t_hva(t, d->addr);
				i = 0;
				continue;
			}
			if ((d->flags & VRING_DESC_F_WRITE) && left) {
				uint32_t k = d->len < left ? d->len : left;

				memset(t_hva(t, d->addr), 0xab, k);
				left -= k;
				w += k;
			}
			if (!(d->flags & VRING_DESC_F_NEXT))
				break;
			i = d->next;
		}
		mu->ring[t->dev_used & (t->size - 1)].id = head;
		mu->ring[t->dev_used & (t->size - 1)].len = w;
		t->dev_avail++;
		t->dev_used++;
		__atomic_store_n(&mu->idx, t->dev_used, __ATOMIC_RELEASE);
		n++;
	}
	return n;
}

/* xorshift32: a repeatable pseudo-random number below n (n > 0). */
static inline uint32_t
t_rnd(uint32_t *state, uint32_t n)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state % n;
}

static inline bool
t_log_bit(const uint8_t *log, uint64_t page)
{
	return log[page / 8] & (1u << (page % 8));
}

/* Open file descriptors of this process (leak checks). */
static inline int
t_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	CHECK(d != NULL);
	while (d != NULL && readdir(d) != NULL)
		n++;
	if (d != NULL)
		closedir(d);
	return n;
}

#endif /* TEST_COMMON_H */
