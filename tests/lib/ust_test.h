/*
 * ust_test.h - the C unit-test harness: TEST(name) { ... } cases registered
 * at load time, CHECK/REQUIRE assertions that print file:line and the
 * values, and a main() that runs one named case (as ctest does, one ctest
 * test per case) or all of them, printing "N passed, N failed".
 *
 * Every case that uses the helpers in test_env.h gets a leak check: after
 * the case, every zone must be back at zero items in use and the memory
 * account at zero bytes.
 */
#ifndef UST_TEST_H
#define UST_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Knobs by name in every configuration (tl_net.h, UST_SYSCTL_NAMES). */
#include "tl_net.h"

struct ust_test_case {
	const char *name;
	void (*fn)(void);
	struct ust_test_case *next;
};

void ust_test_register(struct ust_test_case *tc);
/* Failures in the running case so far. */
extern int ust_test_failures;
/* Seed of the running case: UST_TEST_SEED from the environment, or 1.
 * Printed with every failure so that a randomised case replays. */
extern uint64_t ust_test_seed;

#define TEST(name)                                                            \
	static void test_##name(void);                                        \
	static struct ust_test_case tc_##name = { #name, test_##name, NULL }; \
	__attribute__((constructor)) static void reg_##name(void)             \
	{                                                                     \
		ust_test_register(&tc_##name);                                \
	}                                                                     \
	static void test_##name(void)

#define UST_FAIL_AT(file, line, ...)                                                            \
	do {                                                                                    \
		fprintf(stderr, "%s:%d: FAIL (seed %" PRIu64 "): ", file, line, ust_test_seed); \
		fprintf(stderr, __VA_ARGS__);                                                   \
		fputc('\n', stderr);                                                            \
		ust_test_failures++;                                                            \
	} while (0)

/* CHECK records a failure and goes on; REQUIRE also leaves the case. */
#define CHECK(cond)                                                   \
	do {                                                          \
		if (!(cond))                                          \
			UST_FAIL_AT(__FILE__, __LINE__, "%s", #cond); \
	} while (0)
#define REQUIRE(cond)                                                 \
	do {                                                          \
		if (!(cond)) {                                        \
			UST_FAIL_AT(__FILE__, __LINE__, "%s", #cond); \
			return;                                       \
		}                                                     \
	} while (0)
#define CHECK_EQ(a, b)                                                                         \
	do {                                                                                   \
		long long _a = (long long)(a), _b = (long long)(b);                            \
		if (_a != _b)                                                                  \
			UST_FAIL_AT(__FILE__, __LINE__, "%s == %s (%lld != %lld)", #a, #b, _a, \
			    _b);                                                               \
	} while (0)
#define REQUIRE_EQ(a, b)                                                                       \
	do {                                                                                   \
		long long _a = (long long)(a), _b = (long long)(b);                            \
		if (_a != _b) {                                                                \
			UST_FAIL_AT(__FILE__, __LINE__, "%s == %s (%lld != %lld)", #a, #b, _a, \
			    _b);                                                               \
			return;                                                                \
		}                                                                              \
	} while (0)
#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

#endif /* UST_TEST_H */
