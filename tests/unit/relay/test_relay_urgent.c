/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The controller's short slice during a switch (vrelay_urgent.c, issue
 * #18): entered, the thread's fair-class slice is 100 us; left, it is
 * the slice it had, also when that was not the default; turned off by
 * VRELAY_SWITCH_URGENT=0, set to N us by =N. Skipped (77) on a kernel without custom
 * slices (before Linux 6.12), where entering changes nothing.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vrelay_private.h"

static int failures;

#define CHECK_EQ(a, b) do { \
	unsigned long long _a = (a), _b = (b); \
	if (_a != _b) { \
		fprintf(stderr, "%s:%d: %s == %s (%llu != %llu)\n", \
			__FILE__, __LINE__, #a, #b, _a, _b); \
		failures++; \
	} \
} while (0)

/* The calling thread's slice, as the library reads it (0 if it cannot). */
static uint64_t
slice(void)
{
	uint64_t ns = 0;

	return vrelay_sched_slice_get(&ns) == 0 ? ns : 0;
}

int
main(void)
{
	struct vrelay_urgent u;
	uint64_t own;

	/* A slice of our own, so that "restored" is not "the default". */
	if (vrelay_sched_slice_set(2000000) != 0 || slice() != 2000000) {
		printf("SKIP: no custom scheduler slices on this kernel\n");
		return 77;
	}
	own = slice();
	vrelay_urgent_enter(&u);
	CHECK_EQ(u.active, 1);
	CHECK_EQ(slice(), 100000);
	vrelay_urgent_leave(&u);
	CHECK_EQ(slice(), own);
	CHECK_EQ(u.active, 0);
	/* Leaving twice changes nothing. */
	vrelay_urgent_leave(&u);
	CHECK_EQ(slice(), own);

	setenv("VRELAY_SWITCH_URGENT", "0", 1);
	vrelay_urgent_enter(&u);
	CHECK_EQ(u.active, 0);
	CHECK_EQ(slice(), own);
	vrelay_urgent_leave(&u);
	CHECK_EQ(slice(), own);

	/* A slice of N us; never under the kernel's 100 us. */
	setenv("VRELAY_SWITCH_URGENT", "400", 1);
	vrelay_urgent_enter(&u);
	CHECK_EQ(slice(), 400000);
	vrelay_urgent_leave(&u);
	CHECK_EQ(slice(), own);
	setenv("VRELAY_SWITCH_URGENT", "5", 1);
	vrelay_urgent_enter(&u);
	CHECK_EQ(slice(), 100000);
	vrelay_urgent_leave(&u);
	CHECK_EQ(slice(), own);
	unsetenv("VRELAY_SWITCH_URGENT");

	printf("%s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
