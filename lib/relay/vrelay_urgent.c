/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * A short scheduler slice for the controller's thread while it switches
 * a device (issue #18).
 *
 * Why: a switch stops the device's queues, so every microsecond the
 * controller spends waiting for a CPU is a microsecond of the guest's
 * traffic lost. On a host where the controller shares its CPU with the
 * device and relay threads (both busy under load), the fair scheduler
 * (EEVDF, Linux 6.6+) lets a running thread finish its slice (about
 * 1.4 ms on 2 CPUs) before the controller runs again after it blocked on
 * a queue lock or woke one of those threads: that wait was 90 % of the
 * slowest switches to the relay (doc/performance.md, section 5b). A
 * fair task may ask for a shorter slice (sched_attr.sched_runtime, Linux
 * 6.12+): its deadlines come sooner, so it is picked first when it
 * wakes and is not preempted by the threads it wakes. Its share of the
 * CPU does not grow; no privilege and no real-time class are needed.
 * Older kernels ignore the field, and then nothing changes.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

/* The kernel's struct sched_attr (uapi/linux/sched/types.h). */
struct urgent_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};

/* The default, and the shortest slice the kernel accepts (100 us). */
#define URGENT_SLICE_NS 100000ULL
#define URGENT_SLICE_MIN_NS 100000ULL
#define URGENT_SCHED_OTHER 0

/*
 * VRELAY_SWITCH_URGENT: unset, the default slice; 0, off (the thread's
 * own slice, to compare); N, a slice of N us (at least 100).
 */
static uint64_t
urgent_slice_ns(void)
{
	const char *v = getenv("VRELAY_SWITCH_URGENT");
	unsigned long us;

	if (v == NULL || *v == '\0')
		return URGENT_SLICE_NS;
	us = strtoul(v, NULL, 10);
	if (us == 0)
		return 0;
	return us * 1000ULL < URGENT_SLICE_MIN_NS ? URGENT_SLICE_MIN_NS :
		us * 1000ULL;
}

int
vrelay_sched_slice_get(uint64_t *ns)
{
	struct urgent_attr a;

	memset(&a, 0, sizeof(a));
	if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) != 0)
		return -errno;
	if (a.sched_policy != URGENT_SCHED_OTHER)
		return -ENOTSUP;
	*ns = a.sched_runtime;
	return 0;
}

int
vrelay_sched_slice_set(uint64_t ns)
{
	struct urgent_attr a;

	memset(&a, 0, sizeof(a));
	if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) != 0)
		return -errno;
	if (a.sched_policy != URGENT_SCHED_OTHER)
		return -ENOTSUP;
	a.size = sizeof(a);
	a.sched_flags = 0;
	a.sched_runtime = ns;
	return syscall(SYS_sched_setattr, 0, &a, 0) == 0 ? 0 : -errno;
}

void
vrelay_urgent_enter(struct vrelay_urgent *u)
{
	uint64_t slice = urgent_slice_ns(), own;

	u->active = false;
	if (slice == 0 || vrelay_sched_slice_get(&own) != 0 || own <= slice)
		return;
	u->saved_slice_ns = own;
	u->active = vrelay_sched_slice_set(slice) == 0;
}

void
vrelay_urgent_leave(struct vrelay_urgent *u)
{
	int ret;

	if (!u->active)
		return;
	u->active = false;
	ret = vrelay_sched_slice_set(u->saved_slice_ns);
	if (ret < 0 && ret != -ENOTSUP)
		VRELAY_LOG(WARNING, "cannot restore the thread's slice: %s",
			   strerror(-ret));
}
