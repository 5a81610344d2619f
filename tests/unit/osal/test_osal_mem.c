/*
 * test_osal_mem.c - the per-stack memory account: limit, peak, injected
 * failures.
 */
#include <ustack/ustack_osal.h>

#include "ust_test.h"

TEST(mem_limit_is_hard)
{
	struct ust_mem mem;
	void *a, *b, *c;

	ust_mem_init(&mem, 1000);
	a = ust_mem_alloc(&mem, 600);
	b = ust_mem_alloc(&mem, 600);
	c = ust_mem_alloc(&mem, 400);
	CHECK(a != NULL);
	CHECK(b == NULL);
	CHECK(c != NULL);
	CHECK_EQ(mem.in_use, 1000);
	CHECK_EQ(mem.failures, 1);
	CHECK(ust_mem_alloc(&mem, SIZE_MAX) == NULL);
	ust_mem_free(&mem, a, 600);
	ust_mem_free(&mem, c, 400);
	CHECK_EQ(mem.in_use, 0);
	CHECK_EQ(mem.peak, 1000);
	CHECK_EQ(mem.allocs, 2);
	CHECK_EQ(mem.frees, 2);
}

TEST(mem_zalloc_zeroes_and_fail_after)
{
	struct ust_mem mem;
	unsigned char *p;
	int i, zero = 1;

	ust_mem_init(&mem, 0);
	p = ust_mem_zalloc(&mem, 333);
	REQUIRE(p != NULL);
	for (i = 0; i < 333; i++)
		zero &= (p[i] == 0);
	CHECK(zero);
	ust_mem_free(&mem, p, 333);
	mem.fail_after = 1;
	CHECK(ust_mem_alloc(&mem, 8) == NULL);
	p = ust_mem_alloc(&mem, 8);
	CHECK(p != NULL);
	ust_mem_free(&mem, p, 8);
	CHECK_EQ(mem.in_use, 0);
}
