/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Page bitmaps and the shared vhost dirty log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dirty_log.h"

static size_t
words_for(uint64_t gpa_end)
{
	uint64_t pages = (gpa_end + DL_PAGE_SIZE - 1) >> DL_PAGE_SHIFT;

	return (pages + 63) / 64;
}

int
dl_bitmap_init(struct dl_bitmap *bm, uint64_t gpa_end)
{
	bm->nwords = words_for(gpa_end);
	bm->npages = bm->nwords * 64;
	bm->words = calloc(bm->nwords, sizeof(uint64_t));
	return bm->words ? 0 : -ENOMEM;
}

void
dl_bitmap_free(struct dl_bitmap *bm)
{
	free(bm->words);
	bm->words = NULL;
	bm->nwords = 0;
}

void
dl_bitmap_clear(struct dl_bitmap *bm)
{
	memset(bm->words, 0, bm->nwords * sizeof(uint64_t));
}

void
dl_bitmap_set_range(struct dl_bitmap *bm, uint64_t gpa, uint64_t len)
{
	uint64_t p, last;

	if (len == 0)
		return;
	last = (gpa + len - 1) >> DL_PAGE_SHIFT;
	for (p = gpa >> DL_PAGE_SHIFT; p <= last && p < bm->npages; p++)
		bm->words[p / 64] |= 1ull << (p % 64);
}

uint64_t
dl_bitmap_count(const struct dl_bitmap *bm)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < bm->nwords; i++)
		n += __builtin_popcountll(bm->words[i]);
	return n;
}

void
dl_bitmap_or(struct dl_bitmap *dst, const struct dl_bitmap *src)
{
	size_t i;

	for (i = 0; i < dst->nwords && i < src->nwords; i++)
		dst->words[i] |= src->words[i];
}

uint64_t
dl_bitmap_count_andnot(const struct dl_bitmap *a, const struct dl_bitmap *b)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < a->nwords && i < b->nwords; i++)
		n += __builtin_popcountll(a->words[i] & ~b->words[i]);
	return n;
}

int
dl_bitmap_test(const struct dl_bitmap *bm, uint64_t page)
{
	if (page >= bm->npages)
		return 0;
	return (bm->words[page / 64] >> (page % 64)) & 1;
}

int
dl_log_create(struct dl_log *log, uint64_t gpa_end)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *p;
	int err;

	log->nwords = words_for(gpa_end);
	log->mmap_size = (log->nwords * 8 + pg - 1) / pg * pg;
	log->fd = memfd_create("vu-fe-dirty-log", MFD_CLOEXEC);
	if (log->fd < 0)
		return -errno;
	if (ftruncate(log->fd, log->mmap_size) < 0)
		goto fail;
	p = mmap(NULL, log->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 log->fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	log->words = p;
	return 0;
fail:
	err = -errno;
	close(log->fd);
	log->fd = -1;
	return err;
}

void
dl_log_destroy(struct dl_log *log)
{
	if (log->words)
		munmap(log->words, log->mmap_size);
	if (log->fd >= 0)
		close(log->fd);
	log->words = NULL;
	log->fd = -1;
}

uint64_t
dl_log_read_clear(struct dl_log *log, struct dl_bitmap *out)
{
	uint64_t n = 0, w;
	size_t i;

	for (i = 0; i < log->nwords; i++) {
		/* Cheap relaxed peek first: most words are clean. */
		if (__atomic_load_n(&log->words[i], __ATOMIC_RELAXED) == 0)
			continue;
		w = __atomic_exchange_n(&log->words[i], 0, __ATOMIC_ACQ_REL);
		n += __builtin_popcountll(w);
		if (i < out->nwords)
			out->words[i] |= w;
	}
	return n;
}
