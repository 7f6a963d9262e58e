/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef TEST_DEVICE_COMMON_H
#define TEST_DEVICE_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern int test_failures;

#define CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", \
			__FILE__, __LINE__, #c); \
		test_failures++; \
	} \
} while (0)

#define CHECK_EQ(a, b) do { \
	long long _a = (long long)(a), _b = (long long)(b); \
	if (_a != _b) { \
		fprintf(stderr, "%s:%d: CHECK failed: %s == %s " \
			"(%lld != %lld)\n", __FILE__, __LINE__, #a, #b, \
			_a, _b); \
		test_failures++; \
	} \
} while (0)

/*
 * Test guest memory: a window of size bytes seen by the device at IOVA
 * iova, handed out 64-byte aligned. recycle: start over when full (the
 * test keeps nothing long), else abort (the test sized it wrong).
 */
struct t_arena {
	uint8_t *base;
	uint64_t iova;
	size_t size;
	size_t brk;
	bool recycle;
};

static inline void *
t_arena_ptr(const struct t_arena *a, uint64_t iova)
{
	return a->base + (iova - a->iova);
}

static inline uint64_t
t_arena_alloc(struct t_arena *a, size_t len)
{
	uint64_t iova;

	a->brk = (a->brk + 63) & ~(size_t)63;
	if (a->brk + len > a->size) {
		if (!a->recycle)
			abort();
		a->brk = 0;
	}
	iova = a->iova + a->brk;
	a->brk += len;
	return iova;
}

void test_dma(void);
void test_dp(void);
void test_hwq(void);
void test_wholedev(void);
void test_packed(void);

#endif /* TEST_DEVICE_COMMON_H */
