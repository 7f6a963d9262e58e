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

/* The shortest slice the kernel accepts (100 us). */
#define URGENT_SLICE_NS 100000ULL
#define URGENT_SCHED_OTHER 0

void
vrelay_urgent_enter(struct vrelay_urgent *u)
{
	struct urgent_attr a;

	const char *off = getenv("VRELAY_SWITCH_URGENT");

	u->active = false;
	/* VRELAY_SWITCH_URGENT=0: the thread's own slice, to compare. */
	if (off != NULL && strcmp(off, "0") == 0)
		return;
	memset(&a, 0, sizeof(a));
	if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) != 0 ||
	    a.sched_policy != URGENT_SCHED_OTHER ||
	    a.sched_runtime <= URGENT_SLICE_NS)
		return;
	u->saved_slice_ns = a.sched_runtime;
	a.size = sizeof(a);
	a.sched_flags = 0;
	a.sched_runtime = URGENT_SLICE_NS;
	if (syscall(SYS_sched_setattr, 0, &a, 0) == 0)
		u->active = true;
}

void
vrelay_urgent_leave(struct vrelay_urgent *u)
{
	struct urgent_attr a;

	if (!u->active)
		return;
	u->active = false;
	memset(&a, 0, sizeof(a));
	if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) != 0 ||
	    a.sched_policy != URGENT_SCHED_OTHER)
		return;
	a.size = sizeof(a);
	a.sched_flags = 0;
	a.sched_runtime = u->saved_slice_ns;
	if (syscall(SYS_sched_setattr, 0, &a, 0) != 0)
		VRELAY_LOG(WARNING, "cannot restore the thread's slice: %s",
			   strerror(errno));
}
