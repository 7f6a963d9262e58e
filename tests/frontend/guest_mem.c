/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest memory regions, translation, allocator and snapshot images.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_mem.h"

/* Keep GPA 0 and the first MiB free, as on a PC (and 0 means "no log"). */
#define GM_LOW_RESERVED (1ull << 20)

static int
region_map(struct gm_region *r, uint64_t gpa, uint64_t size, unsigned int i)
{
	char name[32];
	void *p;
	int err;

	snprintf(name, sizeof(name), "vu-fe-ram%u", i);
	r->gpa = gpa;
	r->size = size;
	r->alloc_off = gpa == 0 ? GM_LOW_RESERVED : 0;
	r->fd = memfd_create(name, MFD_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	if (ftruncate(r->fd, size) < 0)
		goto fail;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	r->hva = p;
	return 0;
fail:
	err = -errno;
	close(r->fd);
	r->fd = -1;
	return err;
}

int
gm_create(struct guest_mem *gm, const uint64_t *gpa, const uint64_t *size,
	  unsigned int n)
{
	unsigned int i;
	int ret;

	if (n == 0 || n > GM_MAX_REGIONS)
		return -EINVAL;
	memset(gm, 0, sizeof(*gm));
	for (i = 0; i < n; i++) {
		ret = region_map(&gm->r[i], gpa[i], size[i], i);
		if (ret < 0) {
			gm_destroy(gm);
			return ret;
		}
		gm->nr = i + 1;
		if (gpa[i] + size[i] > gm->gpa_end)
			gm->gpa_end = gpa[i] + size[i];
	}
	ret = dl_bitmap_init(&gm->drv_dirty, gm->gpa_end);
	if (ret < 0)
		gm_destroy(gm);
	return ret;
}

int
gm_create_from_image(struct guest_mem *gm, const struct gm_image *img,
		     const struct guest_mem *like)
{
	unsigned int i;
	int ret;

	ret = gm_create(gm, img->gpa, img->size, img->nr);
	if (ret < 0)
		return ret;
	for (i = 0; i < img->nr; i++) {
		memcpy(gm->r[i].hva, img->data[i], img->size[i]);
		if (like != NULL && i < like->nr)
			gm->r[i].alloc_off = like->r[i].alloc_off;
	}
	if (like != NULL)
		gm->rr = like->rr;
	return 0;
}

void
gm_destroy(struct guest_mem *gm)
{
	unsigned int i;

	for (i = 0; i < gm->nr; i++) {
		if (gm->r[i].hva)
			munmap(gm->r[i].hva, gm->r[i].size);
		if (gm->r[i].fd >= 0)
			close(gm->r[i].fd);
	}
	dl_bitmap_free(&gm->drv_dirty);
	memset(gm, 0, sizeof(*gm));
}

void *
gm_hva(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	const struct gm_region *r;
	unsigned int i;

	for (i = 0; i < gm->nr; i++) {
		r = &gm->r[i];
		if (gpa >= r->gpa && len <= r->size && gpa - r->gpa <= r->size - len)
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

uint64_t
gm_gpa(const struct guest_mem *gm, const void *hva)
{
	const uint8_t *p = hva;
	unsigned int i;

	for (i = 0; i < gm->nr; i++)
		if (p >= gm->r[i].hva && p < gm->r[i].hva + gm->r[i].size)
			return gm->r[i].gpa + (uint64_t)(p - gm->r[i].hva);
	return UINT64_MAX;
}

void
gm_mark(struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	dl_bitmap_set_range(&gm->drv_dirty, gpa, len);
}

void *
gm_wptr(struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	void *p = gm_hva(gm, gpa, len);

	if (p != NULL)
		gm_mark(gm, gpa, len);
	return p;
}

static uint64_t
region_alloc(struct gm_region *r, uint64_t size, uint64_t align)
{
	uint64_t off = (r->alloc_off + align - 1) & ~(align - 1);

	if (off > r->size || r->size - off < size)
		return 0;
	r->alloc_off = off + size;
	return r->gpa + off;
}

uint64_t
gm_alloc(struct guest_mem *gm, uint64_t size, uint64_t align)
{
	unsigned int i, k;
	uint64_t gpa;

	if (align == 0 || (align & (align - 1)))
		return 0;
	for (k = 0; k < gm->nr; k++) {
		i = (gm->rr + k) % gm->nr;
		gpa = region_alloc(&gm->r[i], size, align);
		if (gpa != 0) {
			gm->rr = (i + 1) % gm->nr;
			return gpa;
		}
	}
	return 0;
}

int
gm_image_create(struct gm_image *img, const struct guest_mem *gm)
{
	unsigned int i;

	memset(img, 0, sizeof(*img));
	for (i = 0; i < gm->nr; i++) {
		img->gpa[i] = gm->r[i].gpa;
		img->size[i] = gm->r[i].size;
		img->data[i] = calloc(1, gm->r[i].size);
		img->nr = i + 1;
		if (img->data[i] == NULL) {
			gm_image_free(img);
			return -ENOMEM;
		}
	}
	return 0;
}

void
gm_image_free(struct gm_image *img)
{
	unsigned int i;

	for (i = 0; i < img->nr; i++)
		free(img->data[i]);
	memset(img, 0, sizeof(*img));
}

uint64_t
gm_image_copy_all(struct gm_image *img, const struct guest_mem *gm)
{
	uint64_t pages = 0;
	unsigned int i;

	for (i = 0; i < img->nr && i < gm->nr; i++) {
		memcpy(img->data[i], gm->r[i].hva, img->size[i]);
		pages += img->size[i] >> DL_PAGE_SHIFT;
	}
	return pages;
}

uint64_t
gm_image_copy_pages(struct gm_image *img, const struct guest_mem *gm,
		    const struct dl_bitmap *pages)
{
	uint64_t n = 0, p, off;
	unsigned int i;

	for (i = 0; i < img->nr && i < gm->nr; i++) {
		for (off = 0; off < img->size[i]; off += DL_PAGE_SIZE) {
			p = (img->gpa[i] + off) >> DL_PAGE_SHIFT;
			if (!dl_bitmap_test(pages, p))
				continue;
			memcpy(img->data[i] + off, gm->r[i].hva + off,
			       DL_PAGE_SIZE);
			n++;
		}
	}
	return n;
}

uint64_t
gm_image_compare(const struct gm_image *img, const struct guest_mem *gm,
		 struct dl_bitmap *bad)
{
	uint64_t n = 0, off;
	unsigned int i;

	for (i = 0; i < img->nr && i < gm->nr; i++) {
		for (off = 0; off < img->size[i]; off += DL_PAGE_SIZE) {
			if (memcmp(img->data[i] + off, gm->r[i].hva + off,
				   DL_PAGE_SIZE) == 0)
				continue;
			n++;
			if (bad != NULL)
				dl_bitmap_set_range(bad, img->gpa[i] + off, 1);
		}
	}
	return n;
}
