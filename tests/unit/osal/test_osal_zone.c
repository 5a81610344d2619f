/*
 * test_osal_zone.c - zones: O(1) alloc/free from slabs, the hard maximum,
 * memory-limit refusals, injected failures, statistics, reuse.
 */
#include <ustack/ustack_osal.h>

#include "ust_test.h"

TEST(zone_alloc_free_stats)
{
	struct ust_mem mem;
	struct ust_zone *z;
	struct ust_zone_stats zs;
	void *a, *b;

	ust_mem_init(&mem, 0);
	z = ust_zone_create(&mem, "t", 40, 0, 8);
	REQUIRE(z != NULL);
	a = ust_zone_alloc(z);
	b = ust_zone_alloc(z);
	REQUIRE(a != NULL && b != NULL);
	CHECK(a != b);
	/* Items are 16-byte aligned and do not overlap. */
	CHECK(((uintptr_t)a & 15) == 0);
	CHECK((uintptr_t)a + 48 <= (uintptr_t)b || (uintptr_t)b + 48 <= (uintptr_t)a);
	memset(a, 0xaa, 40);
	memset(b, 0x55, 40);
	ust_zone_get_stats(z, &zs);
	CHECK_EQ(zs.size, 48);
	CHECK_EQ(zs.in_use, 2);
	CHECK_EQ(zs.peak, 2);
	CHECK_EQ(zs.cached, 6);
	CHECK_EQ(zs.allocs, 2);
	ust_zone_free(z, a);
	ust_zone_free(z, b);
	ust_zone_get_stats(z, &zs);
	CHECK_EQ(zs.in_use, 0);
	CHECK_EQ(zs.frees, 2);
	CHECK_EQ(zs.cached, 8);
	ust_zone_destroy(z);
	CHECK_EQ(mem.in_use, 0);
}

TEST(zone_hard_max)
{
	struct ust_mem mem;
	struct ust_zone *z;
	struct ust_zone_stats zs;
	void *items[10];
	int i;

	ust_mem_init(&mem, 0);
	z = ust_zone_create(&mem, "max", 64, 10, 4);
	REQUIRE(z != NULL);
	for (i = 0; i < 10; i++) {
		items[i] = ust_zone_alloc(z);
		REQUIRE(items[i] != NULL);
	}
	CHECK(ust_zone_alloc(z) == NULL);
	ust_zone_get_stats(z, &zs);
	CHECK_EQ(zs.failures, 1);
	/* The last slab is cut to the maximum: no item beyond it was carved. */
	CHECK_EQ(zs.cached, 0);
	ust_zone_free(z, items[3]);
	CHECK(ust_zone_alloc(z) == items[3]);
	for (i = 0; i < 10; i++)
		ust_zone_free(z, items[i]);
	ust_zone_destroy(z);
	CHECK_EQ(mem.in_use, 0);
}

TEST(zone_memory_limit)
{
	struct ust_mem mem;
	struct ust_zone *z;
	void *p;
	int n = 0;

	/* Room for the zone header and a few slabs of 4 x 256 bytes only. */
	ust_mem_init(&mem, 4096);
	z = ust_zone_create(&mem, "lim", 256, 0, 4);
	REQUIRE(z != NULL);
	while ((p = ust_zone_alloc(z)) != NULL)
		n++;
	CHECK(n >= 4);
	CHECK(n < 16);
	CHECK(mem.in_use <= 4096);
	CHECK(mem.failures >= 1);
	/* Items are never returned to memory before destroy, and nothing leaks. */
	ust_zone_destroy(z);
	CHECK_EQ(mem.in_use, 0);
}

TEST(zone_fail_after_injects_exactly_one_failure)
{
	struct ust_mem mem;
	struct ust_zone *z;
	void *a, *b, *c;

	ust_mem_init(&mem, 0);
	z = ust_zone_create(&mem, "inj", 32, 0, 0);
	REQUIRE(z != NULL);
	ust_zone_fail_after(z, 2);
	a = ust_zone_alloc(z);
	b = ust_zone_alloc(z);
	c = ust_zone_alloc(z);
	CHECK(a != NULL);
	CHECK(b == NULL);
	CHECK(c != NULL);
	ust_zone_free(z, a);
	ust_zone_free(z, c);
	ust_zone_destroy(z);
	CHECK_EQ(mem.in_use, 0);
}

TEST(zone_lifo_reuse_is_constant_time)
{
	struct ust_mem mem;
	struct ust_zone *z;
	struct ust_zone_stats zs;
	void **items;
	int i, round;

	ust_mem_init(&mem, 0);
	z = ust_zone_create(&mem, "big", 128, 100000, 256);
	REQUIRE(z != NULL);
	items = calloc(100000, sizeof(*items));
	REQUIRE(items != NULL);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 100000; i++) {
			items[i] = ust_zone_alloc(z);
			REQUIRE(items[i] != NULL);
		}
		for (i = 0; i < 100000; i++)
			ust_zone_free(z, items[i]);
	}
	ust_zone_get_stats(z, &zs);
	/* Three rounds reuse the first round's slabs: memory is the peak. */
	CHECK_EQ(zs.peak, 100000);
	CHECK_EQ(zs.cached, 100000);
	CHECK_EQ(zs.allocs, 300000);
	free(items);
	ust_zone_destroy(z);
	CHECK_EQ(mem.in_use, 0);
}

/* An item size whose rounding to 16 bytes wraps must be refused, not become
 * a zone of zero-byte items that all sit at one address. */
TEST(zone_size_rounding_overflow_refused)
{
	struct ust_mem mem;
	struct ust_zone *z;
	void *a, *b;

	ust_mem_init(&mem, 1u << 20);
	z = ust_zone_create(&mem, "huge", SIZE_MAX - 3, 0, 4);
	if (z != NULL) {
		a = ust_zone_alloc(z);
		b = ust_zone_alloc(z);
		CHECK(a == NULL && b == NULL);
		ust_zone_free(z, a);
		ust_zone_free(z, b);
		ust_zone_destroy(z);
	}
	CHECK_EQ(mem.in_use, 0);
}

/* A slab of per_slab huge items whose byte count wraps must not be
 * allocated short and then carved past its end. */
TEST(zone_slab_size_overflow_refused)
{
	struct ust_mem mem;
	struct ust_zone *z;
	struct ust_zone_stats zs;
	void *a;

	/* A limit, so that the honest slab size is refused by the account
	 * rather than by the machine. */
	ust_mem_init(&mem, 1u << 20);
	/* 2^62 + 16 bytes per item: 8 of them wrap a 64-bit size_t to 128. */
	z = ust_zone_create(&mem, "wrap", SIZE_MAX / 4 + 1, 0, 8);
	REQUIRE(z != NULL);
	a = ust_zone_alloc(z);
	CHECK(a == NULL);
	ust_zone_get_stats(z, &zs);
	CHECK_EQ(zs.in_use, a == NULL ? 0 : 1);
	CHECK_EQ(zs.cached, 0);
	ust_zone_free(z, a);
	ust_zone_destroy(z);
	CHECK_EQ(mem.in_use, 0);
}
