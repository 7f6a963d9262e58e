/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/* Relay devices: a memory table and a dirty log shared by queues. */

#include <stdlib.h>
#include <string.h>

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

RTE_LOG_REGISTER(vrelay_logtype, lib.relay, NOTICE);

static bool
mem_valid(const struct vrelay_mem *mem)
{
	uint32_t i, j;

	if (mem->nregions > VRELAY_MAX_MEM_REGIONS)
		return false;
	for (i = 0; i < mem->nregions; i++) {
		const struct vrelay_mem_region *a = &mem->regions[i];

		if (a->size == 0 || a->gpa + a->size < a->gpa)
			return false;
		for (j = i + 1; j < mem->nregions; j++) {
			const struct vrelay_mem_region *b = &mem->regions[j];

			if (a->gpa < b->gpa + b->size &&
			    b->gpa < a->gpa + a->size)
				return false;
		}
	}
	return true;
}

struct vrelay_device *
vrelay_device_create(const char *name, const struct vrelay_mem *mem)
{
	struct vrelay_device *dev;

	if (name == NULL || mem == NULL || !mem_valid(mem)) {
		errno = EINVAL;
		return NULL;
	}
	dev = calloc(1, sizeof(*dev));
	if (dev == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->mem = *mem;
	pthread_mutex_init(&dev->log_lock, NULL);
	return dev;
}

void
vrelay_device_destroy(struct vrelay_device *dev)
{
	if (dev == NULL)
		return;
	if (dev->nqueues != 0)
		VRELAY_LOG(ERR, "%s: destroyed with %u queues left",
			   dev->name, dev->nqueues);
	vrelay_log_report_errors(dev);
	vrelay_prefault_destroy(dev);
	free(dev->log);
	pthread_mutex_destroy(&dev->log_lock);
	free(dev);
}

int
vrelay_mode_from_str(const char *s, enum vrelay_mode *mode)
{
	if (s == NULL || mode == NULL)
		return -EINVAL;
	if (strcmp(s, "epoll") == 0)
		*mode = VRELAY_MODE_EPOLL;
	else if (strcmp(s, "poll") == 0)
		*mode = VRELAY_MODE_POLL;
	else if (strcmp(s, "auto") == 0 || strcmp(s, "adaptive") == 0)
		*mode = VRELAY_MODE_ADAPTIVE;
	else
		return -EINVAL;
	return 0;
}

const char *
vrelay_mode_to_str(enum vrelay_mode mode)
{
	switch (mode) {
	case VRELAY_MODE_EPOLL:
		return "epoll";
	case VRELAY_MODE_POLL:
		return "poll";
	case VRELAY_MODE_ADAPTIVE:
		return "adaptive";
	}
	return "unknown";
}
