/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef TEST_DEVICE_COMMON_H
#define TEST_DEVICE_COMMON_H

#include <stdio.h>

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

void test_dma(void);
void test_dp(void);
void test_hwq(void);
void test_wholedev(void);
void test_packed(void);

#endif /* TEST_DEVICE_COMMON_H */
